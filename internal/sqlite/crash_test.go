package sqlite

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"glaux/internal/athena"
	"glaux/internal/wire"
)

const (
	crashDBEnv  = "GLAUX_SQLITE_CRASH_DB"
	crashRunEnv = "GLAUX_SQLITE_CRASH_RUN"
)

// TestCrashChild is the child of TestCrashKeepsCommittedWrites: it commits Updates in a loop
// and prints each id once its Update has returned nil, until it is killed.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashDBEnv)
	if path == "" {
		t.Skip("run by TestCrashKeepsCommittedWrites")
	}
	run := os.Getenv(crashRunEnv)
	db, err := Open(context.Background(), path)
	if err != nil {
		fmt.Println("open failed:", err)
		os.Exit(3)
	}
	for i := 0; ; i++ {
		id := fmt.Sprintf("r%s-%06d", run, i)
		err := db.Update(context.Background(), func(tx athena.Tx) error {
			return errors.Join(
				tx.PutSession(&athena.Session{ID: id, WorkGroup: "wg", State: "IDLE", StartTime: time.Now()}),
				tx.PutCalculation(&athena.Calculation{ID: id, SessionID: id, State: "COMPLETED", Code: strings.Repeat("x", 2000)}),
				tx.PutTags("arn:"+id, []wire.Tag{{Key: ptr("id"), Value: ptr(id)}}),
			)
		})
		if err != nil {
			fmt.Println("update failed:", err)
			os.Exit(4)
		}
		// os.Stdout is not buffered: the line is out before the next Update starts.
		fmt.Printf("committed %s\n", id)
	}
}

func TestCrashKeepsCommittedWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	path := filepath.Join(t.TempDir(), "crash.db")
	var all []string
	for run := range 3 {
		committed := crashChild(t, path, run)
		if len(committed) == 0 {
			t.Fatalf("run %d: the child committed nothing", run)
		}
		all = append(all, committed...)

		db, err := Open(context.Background(), path)
		if err != nil {
			t.Fatalf("run %d: Open after kill -9: %v", run, err)
		}
		err = db.View(context.Background(), func(tx athena.Tx) error {
			for _, id := range all {
				if _, err := tx.GetSession(id); err != nil {
					return fmt.Errorf("session %s: %w", id, err)
				}
				if _, err := tx.GetCalculation(id); err != nil {
					return fmt.Errorf("calculation %s: %w", id, err)
				}
				tags, err := tx.GetTags("arn:" + id)
				if err != nil {
					return err
				}
				if len(tags) != 1 || *tags[0].Value != id {
					return fmt.Errorf("tags of %s: %v", id, tags)
				}
			}
			// Whatever else is there (an Update killed after its commit but before the print)
			// is whole: every session has its calculation.
			sessions, err := tx.ListSessions(athena.SessionQuery{})
			if err != nil {
				return err
			}
			for _, s := range sessions {
				if _, err := tx.GetCalculation(s.ID); err != nil {
					return fmt.Errorf("half-written update %s: %w", s.ID, err)
				}
			}
			if len(sessions) < len(all) || len(sessions) > len(all)+3 {
				return fmt.Errorf("%d sessions, %d acknowledged", len(sessions), len(all))
			}
			return nil
		})
		db.Close()
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		t.Logf("run %d: %d acknowledged writes survived", run, len(committed))
	}
}

// crashChild runs TestCrashChild on path, SIGKILLs it after a while of committing, and
// returns the ids it acknowledged.
func crashChild(t *testing.T, path string, run int) []string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashDBEnv+"="+path, fmt.Sprintf("%s=%d", crashRunEnv, run))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()

	var committed []string
	killAt := 20 + rand.IntN(40)
	timeout := time.After(2 * time.Minute)
	killed := false
	for !killed {
		select {
		case line, ok := <-lines:
			if !ok {
				cmd.Wait()
				t.Fatalf("run %d: the child ended by itself after %d commits", run, len(committed))
			}
			if id, ok := strings.CutPrefix(line, "committed "); ok {
				committed = append(committed, id)
			} else {
				t.Logf("child: %s", line)
			}
			if len(committed) >= killAt {
				// in the middle of whatever the child is doing now
				time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
				if err := cmd.Process.Kill(); err != nil { // SIGKILL
					t.Fatal(err)
				}
				killed = true
			}
		case <-timeout:
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("run %d: only %d commits in time", run, len(committed))
		}
	}
	// Lines the child wrote before it died are acknowledged writes too.
	for line := range lines {
		if id, ok := strings.CutPrefix(line, "committed "); ok {
			committed = append(committed, id)
		}
	}
	err = cmd.Wait()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != -1 {
		t.Fatalf("run %d: child ended with %v, want killed by a signal", run, err)
	}
	return committed
}
