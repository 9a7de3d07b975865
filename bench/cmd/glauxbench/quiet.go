package main

import (
	"context"
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
	// user nice system idle iowait irq softirq steal (guest is already counted in user).
	// Busy is user+nice+system: what processes are charged with. Interrupt time is left out,
	// since the kernel charges it to no process (loopback networking is mostly softirq).
	for i, v := range f[1:] {
		if i >= 8 {
			break
		}
		n, _ := strconv.ParseUint(v, 10, 64)
		total += n
		if i <= 2 {
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

// A meter measures, over one measurement window, how much of the machine's CPU went to
// work outside this run: machine busy time minus the CPU time of this process and all its
// descendants (utime+stime, plus cutime+cstime for the children they reaped, like the
// short-lived launchers of spark-submit).
type meter struct {
	busy0, total0 uint64
	ours0         uint64
}

// otherLimit is the share of the machine other work may take during a window before the
// row is marked.
const otherLimit = 0.10

// minMeterTicks is the shortest window (in clock ticks summed over all cores) the meter
// judges: 0.5 s of a 2-core machine.
const minMeterTicks = 100

func startMeter() *meter {
	m := &meter{}
	m.busy0, m.total0, _ = cpuTimes()
	m.ours0 = m.ours()
	return m
}

func (m *meter) ours() uint64 {
	pids := []int{os.Getpid()}
	for _, d := range descendants(os.Getpid()) {
		pids = append(pids, d.pid)
	}
	var sum uint64
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) < 15 {
			continue
		}
		for _, i := range []int{11, 12, 13, 14} { // utime stime cutime cstime (fields 14-17)
			n, _ := strconv.ParseUint(f[i], 10, 64)
			sum += n
		}
	}
	return sum
}

// other is the fraction of all cores busy with other work since startMeter.
func (m *meter) other() float64 {
	busy, total, err := cpuTimes()
	ours := m.ours()
	if err != nil || total < m.total0+minMeterTicks {
		return 0 // too short a window to tell (ticks are 10 ms)
	}
	// Per-process ticks and /proc/stat ticks are both USER_HZ.
	other := float64(busy-m.busy0) - float64(ours-m.ours0)
	return max(0, other/float64(total-m.total0))
}

// retriesLeft bounds the repeated measurements of the whole run.
var retriesLeft = 6

// quietly runs a measurement f, which returns the share of the machine other work took during
// it; while the run has retries left, a measurement disturbed by more than otherLimit is
// repeated (f must replace, not add to, its results) after waiting for the machine to calm.
func quietly(ctx context.Context, what string, f func() (float64, error)) error {
	for {
		other, err := f()
		if err != nil {
			return err
		}
		if other < otherLimit || retriesLeft <= 0 || ctx.Err() != nil {
			return nil
		}
		retriesLeft--
		logf("%s: other work took %.0f%% of the machine; measuring again (%d repeats left in this run)", what, 100*other, retriesLeft)
		waitQuiet(what, 20*time.Second)
	}
}
