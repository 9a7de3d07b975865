package sqlite

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"glaux/internal/athena"
	"glaux/internal/wire"
)

func TestConcurrentUpdatesAndViews(t *testing.T) {
	db, _ := openTest(t)
	const workers, rounds = 20, 15
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds*2)
	seqs := make(chan int64, workers*rounds)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				id := fmt.Sprintf("w%02d-r%02d", w, r)
				c := &athena.Calculation{ID: "c-" + id, SessionID: "s-" + id, State: "QUEUED"}
				err := db.Update(ctx, func(tx athena.Tx) error {
					// read-modify-write of a shared counter: lost updates would show
					n := 0
					if wgRec, err := tx.GetWorkGroup("counter"); err == nil {
						fmt.Sscan(wgRec.Description, &n)
					} else if !errors.Is(err, athena.ErrNotFound) {
						return err
					}
					return errors.Join(
						tx.PutWorkGroup(&athena.WorkGroup{Name: "counter", Description: fmt.Sprint(n + 1)}),
						tx.PutSession(&athena.Session{ID: "s-" + id, WorkGroup: "wg", State: "IDLE", StartTime: base}),
						tx.PutCalculation(c),
						tx.PutTags("arn:"+id, []wire.Tag{{Key: ptr("w"), Value: ptr(id)}}),
					)
				})
				if err != nil {
					errs <- fmt.Errorf("update %s: %w", id, err)
					continue
				}
				seqs <- c.Seq
				err = db.View(ctx, func(tx athena.Tx) error {
					// Within one snapshot, the counter and the number of sessions agree.
					list, err := tx.ListSessions(athena.SessionQuery{WorkGroup: "wg"})
					if err != nil {
						return err
					}
					counter, err := tx.GetWorkGroup("counter")
					if err != nil {
						return err
					}
					if fmt.Sprint(len(list)) != counter.Description {
						return fmt.Errorf("snapshot: %d sessions, counter %s", len(list), counter.Description)
					}
					if _, err := tx.GetCalculation(c.ID); err != nil {
						return err
					}
					return nil
				})
				if err != nil {
					errs <- fmt.Errorf("view %s: %w", id, err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	close(seqs)
	for err := range errs {
		t.Error(err)
	}
	seen := map[int64]bool{}
	for s := range seqs {
		if s == 0 || seen[s] {
			t.Errorf("Seq %d zero or given twice", s)
		}
		seen[s] = true
	}
	view(t, db, func(tx athena.Tx) error {
		counter, err := tx.GetWorkGroup("counter")
		if err != nil {
			return err
		}
		if counter.Description != fmt.Sprint(workers*rounds) {
			t.Errorf("counter %s, want %d", counter.Description, workers*rounds)
		}
		calcs, err := tx.ListCalculations(athena.CalculationQuery{})
		if len(calcs) != workers*rounds {
			t.Errorf("%d calculations, want %d", len(calcs), workers*rounds)
		}
		return err
	})
}

// A View does not wait behind a write transaction, and sees the snapshot it started with.
func TestViewDoesNotWaitForUpdate(t *testing.T) {
	db, _ := openTest(t)
	update(t, db, func(tx athena.Tx) error { return tx.PutWorkGroup(&athena.WorkGroup{Name: "wg", State: "ENABLED"}) })

	inUpdate := make(chan struct{})
	release := make(chan struct{})
	updated := make(chan error, 1)
	go func() {
		updated <- db.Update(context.Background(), func(tx athena.Tx) error {
			if err := tx.PutWorkGroup(&athena.WorkGroup{Name: "wg", State: "DISABLED"}); err != nil {
				return err
			}
			close(inUpdate)
			<-release
			return nil
		})
	}()
	<-inUpdate
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := db.View(ctx, func(tx athena.Tx) error {
		wg, err := tx.GetWorkGroup("wg")
		if err != nil {
			return err
		}
		if wg.State != "ENABLED" {
			t.Errorf("View saw an uncommitted write: %s", wg.State)
		}
		// Let the write commit while this snapshot is open: it must not wait for us.
		close(release)
		if err := <-updated; err != nil {
			return fmt.Errorf("update: %w", err)
		}
		wg, err = tx.GetWorkGroup("wg")
		if err != nil {
			return err
		}
		if wg.State != "ENABLED" {
			t.Errorf("View's snapshot changed under it: %s", wg.State)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	view(t, db, func(tx athena.Tx) error {
		wg, err := tx.GetWorkGroup("wg")
		if err == nil && wg.State != "DISABLED" {
			t.Errorf("after commit: %s", wg.State)
		}
		return err
	})
}

// Updates wait for one another, and a waiting Update gives up with its context.
func TestUpdateWaitsWithContext(t *testing.T) {
	db, _ := openTest(t)
	inUpdate := make(chan struct{})
	release := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- db.Update(context.Background(), func(tx athena.Tx) error {
			close(inUpdate)
			<-release
			return tx.PutWorkGroup(&athena.WorkGroup{Name: "first"})
		})
	}()
	<-inUpdate
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := db.Update(ctx, func(tx athena.Tx) error { return tx.PutWorkGroup(&athena.WorkGroup{Name: "second"}) })
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("waiting Update: %v, want DeadlineExceeded", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	update(t, db, func(tx athena.Tx) error { return tx.PutWorkGroup(&athena.WorkGroup{Name: "third"}) })
	view(t, db, func(tx athena.Tx) error {
		list, err := tx.ListWorkGroups("", 0)
		if len(list) != 2 {
			t.Errorf("workgroups %v", list)
		}
		return err
	})
}
