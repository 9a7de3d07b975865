package runtime

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"unicode/utf8"
)

// exitReasonLocked explains the runner's end for EventExited; callers hold r.mu.
// Order matters: the runner's own account of a failed start beats the bare exit status.
func (r *runner) exitReasonLocked(waitErr error) string {
	reason := r.rawExitReasonLocked(waitErr)
	if strings.Contains(reason, "JAVA_GATEWAY_EXITED") {
		// PySpark only says the JVM died; the JVM's own complaint is in the log.
		if why := jvmComplaint(r.logPath); why != "" {
			return clip(why + " (Java gateway exited)")
		}
	}
	return reason
}

func (r *runner) rawExitReasonLocked(waitErr error) string {
	if r.timedOut != "" {
		return withDetail(r.timedOut, logTail(r.logPath))
	}
	if r.failure != "" {
		return r.failure
	}
	var exitErr *exec.ExitError
	if waitErr != nil && !errors.As(waitErr, &exitErr) {
		return clip("runner wait failed: " + waitErr.Error())
	}
	status, _ := r.cmd.ProcessState.Sys().(syscall.WaitStatus)
	switch {
	case status.Signaled():
		// The log says nothing about who sent the signal; its last line would mislead.
		return "runner killed by signal " + status.Signal().String()
	case status.ExitStatus() == 0:
		return "runner exited with code 0"
	default:
		return withDetail(fmt.Sprintf("runner exited with code %d", status.ExitStatus()), logTail(r.logPath))
	}
}

// failureReason is the "ExceptionType: message" form clients expect in StateChangeReason.
func failureReason(ename, evalue string) string {
	ename, evalue = strings.TrimSpace(ename), strings.TrimSpace(evalue)
	switch {
	case ename == "":
		return clip("Spark failed to start: " + evalue)
	case evalue == "":
		return clip(ename)
	}
	return clip(ename + ": " + evalue)
}

func withDetail(reason, detail string) string {
	if detail == "" {
		return clip(reason)
	}
	return clip(reason + ": " + detail)
}

// logTail returns the last non-empty line of the runner's log: for a crash, usually the
// Python exception or the JVM's complaint.
func logTail(path string) string {
	const window = 8 << 10
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > window {
		if _, err := f.Seek(-window, io.SeekEnd); err != nil {
			return ""
		}
	}
	b, err := io.ReadAll(io.LimitReader(f, window))
	if err != nil {
		return ""
	}
	lines := bytes.Split(bytes.TrimRight(b, "\r\n\t "), []byte("\n"))
	return strings.TrimSpace(string(lines[len(lines)-1]))
}

// jvmComplaint finds the line in which the JVM (spark-submit, the launcher or Java itself)
// said why it would not start, e.g. "Invalid maximum heap size: -Xmxabc" or
// "Exception in thread "main" org.apache.spark.SparkException: Master must ...".
func jvmComplaint(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	if len(b) > 64<<10 {
		b = b[len(b)-64<<10:]
	}
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "Traceback"), strings.HasPrefix(line, "File "), strings.Contains(line, "JAVA_GATEWAY_EXITED"):
			continue
		case strings.HasPrefix(line, "Error"), strings.HasPrefix(line, "Exception in thread"),
			strings.HasPrefix(line, "Invalid "), strings.Contains(line, "Exception: "):
			return line
		}
	}
	return ""
}

// clip keeps a reason within StateChangeReason's 1024 characters, on a rune boundary.
func clip(s string) string {
	if len(s) <= maxReason {
		return s
	}
	cut := maxReason - len("...")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}
