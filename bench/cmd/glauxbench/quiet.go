package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// The numbers only mean something on an otherwise idle machine: before each part the run
// waits (up to --quiet-wait) until the whole machine is below quietBusy CPU use, and the
// README records what it saw.

const quietBusy = 0.15 // fraction of all cores busy with something else

// cpuTimes reads the aggregate "cpu" line of /proc/stat: busy and total jiffies.
func cpuTimes() (busy, total uint64, err error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0, 0, fmt.Errorf("/proc/stat: unexpected %q", line)
	}
	for i, v := range f[1:] {
		n, _ := strconv.ParseUint(v, 10, 64)
		if i >= 7 { // guest time is already counted in user
			break
		}
		total += n
		if i != 3 && i != 4 { // idle, iowait
			busy += n
		}
	}
	return busy, total, nil
}

// machineBusy is the fraction of all cores busy over d.
func machineBusy(d time.Duration) float64 {
	b0, t0, err := cpuTimes()
	if err != nil {
		return -1
	}
	time.Sleep(d)
	b1, t1, err := cpuTimes()
	if err != nil || t1 == t0 {
		return -1
	}
	return float64(b1-b0) / float64(t1-t0)
}

// waitQuiet waits until the machine is quiet or maxWait passed; it returns the last busy
// fraction seen (nothing of this run may be running when it is called).
func waitQuiet(what string, maxWait time.Duration) float64 {
	deadline := time.Now().Add(maxWait)
	for {
		busy := machineBusy(2 * time.Second)
		if busy < quietBusy || time.Now().After(deadline) {
			if busy >= quietBusy {
				logf("before %s: the machine is still %.0f%% busy with other work after %s; measuring anyway (the README says so)", what, 100*busy, maxWait)
			}
			return busy
		}
		logf("before %s: the machine is %.0f%% busy with other work; waiting for it to calm down (up to %s)", what, 100*busy, time.Until(deadline).Round(time.Second))
		time.Sleep(3 * time.Second)
	}
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
