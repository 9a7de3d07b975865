package sqlite

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"glaux/internal/athena"
	"glaux/internal/wire"
)

func ptr[T any](v T) *T { return &v }

func TestOpenSettingsAndMigrations(t *testing.T) {
	db, path := openTest(t)
	ctx := context.Background()
	for _, tc := range []struct {
		pragma string
		want   string
	}{
		{"journal_mode", "wal"},
		{"synchronous", "2"},
		{"foreign_keys", "1"},
		{"busy_timeout", fmt.Sprint(busyTimeout.Milliseconds())},
	} {
		var got string
		if err := db.write.QueryRowContext(ctx, "PRAGMA "+tc.pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("writer PRAGMA %s = %s, want %s", tc.pragma, got, tc.want)
		}
	}
	var qo int
	if err := db.read.QueryRowContext(ctx, "PRAGMA query_only").Scan(&qo); err != nil || qo != 1 {
		t.Errorf("reader query_only = %d, %v; want 1", qo, err)
	}

	migs, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	checkRecorded := func(db *DB) {
		t.Helper()
		rows, err := db.read.QueryContext(ctx, "SELECT version, applied_at FROM schema_migrations ORDER BY version")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var versions []int
		for rows.Next() {
			var v int
			var appliedAt string
			if err := rows.Scan(&v, &appliedAt); err != nil {
				t.Fatal(err)
			}
			if _, err := time.Parse(time.RFC3339Nano, appliedAt); err != nil {
				t.Errorf("applied_at %q: %v", appliedAt, err)
			}
			versions = append(versions, v)
		}
		if len(versions) != len(migs) {
			t.Fatalf("recorded migrations %v, want %d", versions, len(migs))
		}
		for i, v := range versions {
			if v != i+1 {
				t.Fatalf("recorded migrations %v", versions)
			}
		}
	}
	checkRecorded(db)

	// Reopening applies nothing twice.
	db.Close()
	db2, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	checkRecorded(db2)
}

func TestOpenNewerSchemaFails(t *testing.T) {
	db, path := openTest(t)
	if _, err := db.write.Exec("INSERT INTO schema_migrations (version, applied_at) VALUES (9999, 'later')"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err := Open(context.Background(), path)
	if !errors.Is(err, ErrNewerSchema) {
		t.Fatalf("Open of a newer schema: %v, want ErrNewerSchema", err)
	}
	if !strings.Contains(err.Error(), "9999") {
		t.Errorf("error does not name the version: %v", err)
	}
}

func TestOpenBadPath(t *testing.T) {
	for _, path := range []string{"", "a?b", "file:x.db", filepath.Join(t.TempDir(), "missing-dir", "x.db")} {
		if db, err := Open(context.Background(), path); err == nil {
			db.Close()
			t.Errorf("Open(%q) succeeded", path)
		}
	}
}

func TestRecordsRoundTripEveryField(t *testing.T) {
	db, _ := openTest(t)
	var wg athena.WorkGroup
	var nb athena.Notebook
	var s athena.Session
	var c athena.Calculation
	var idem athena.Idempotency
	fill(&wg, 1)
	fill(&nb, 2)
	fill(&s, 3)
	fill(&c, 4)
	fill(&idem, 5)
	update(t, db, func(tx athena.Tx) error {
		return errors.Join(tx.PutWorkGroup(&wg), tx.PutNotebook(&nb), tx.PutSession(&s),
			tx.PutCalculation(&c), tx.PutIdempotency(&idem))
	})
	view(t, db, func(tx athena.Tx) error {
		gotWG, err := tx.GetWorkGroup(wg.Name)
		if err != nil {
			return err
		}
		mustEqual(t, "workgroup", gotWG, &wg)
		gotNB, err := tx.GetNotebook(nb.ID)
		if err != nil {
			return err
		}
		mustEqual(t, "notebook", gotNB, &nb)
		gotS, err := tx.GetSession(s.ID)
		if err != nil {
			return err
		}
		mustEqual(t, "session", gotS, &s)
		gotC, err := tx.GetCalculation(c.ID)
		if err != nil {
			return err
		}
		mustEqual(t, "calculation", gotC, &c)
		gotI, err := tx.GetIdempotency(idem.Op, idem.Token)
		if err != nil {
			return err
		}
		mustEqual(t, "idempotency", gotI, &idem)
		return nil
	})
}

func TestTimesRoundTripExactly(t *testing.T) {
	db, _ := openTest(t)
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		paris = time.FixedZone("CET", 3600)
	}
	for i, tm := range []time.Time{
		{},
		time.Unix(0, 0),
		time.Unix(0, 1),
		time.Date(2030, 1, 2, 3, 4, 5, 999999999, paris),
		time.Now(), // with a monotonic reading
		time.Date(1969, 12, 31, 23, 59, 59, 1, time.UTC),
	} {
		id := fmt.Sprintf("s%d", i)
		update(t, db, func(tx athena.Tx) error {
			return tx.PutSession(&athena.Session{ID: id, WorkGroup: "wg", StartTime: tm, EndTime: tm})
		})
		view(t, db, func(tx athena.Tx) error {
			got, err := tx.GetSession(id)
			if err != nil {
				return err
			}
			if !got.StartTime.Equal(tm) || !got.EndTime.Equal(tm) || got.StartTime.IsZero() != tm.IsZero() {
				t.Errorf("time %v came back as %v", tm, got.StartTime)
			}
			if !tm.IsZero() && got.StartTime.Location() != time.UTC {
				t.Errorf("time %v came back in %v, want UTC", tm, got.StartTime.Location())
			}
			return nil
		})
	}
}

func TestNotFound(t *testing.T) {
	db, _ := openTest(t)
	for _, tc := range []struct {
		name string
		fn   func(athena.Tx) error
	}{
		{"GetWorkGroup", func(tx athena.Tx) error { _, err := tx.GetWorkGroup("nope"); return err }},
		{"GetNotebook", func(tx athena.Tx) error { _, err := tx.GetNotebook("nope"); return err }},
		{"GetNotebookByName", func(tx athena.Tx) error { _, err := tx.GetNotebookByName("wg", "nope"); return err }},
		{"GetSession", func(tx athena.Tx) error { _, err := tx.GetSession("nope"); return err }},
		{"GetCalculation", func(tx athena.Tx) error { _, err := tx.GetCalculation("nope"); return err }},
		{"GetIdempotency", func(tx athena.Tx) error { _, err := tx.GetIdempotency("op", "nope"); return err }},
		{"DeleteWorkGroup", func(tx athena.Tx) error { return tx.DeleteWorkGroup("nope") }},
		{"DeleteNotebook", func(tx athena.Tx) error { return tx.DeleteNotebook("nope") }},
		{"DeleteSession", func(tx athena.Tx) error { return tx.DeleteSession("nope") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := db.Update(context.Background(), tc.fn)
			if !errors.Is(err, athena.ErrNotFound) {
				t.Fatalf("got %v, want ErrNotFound", err)
			}
		})
	}
	if _, err := db.GetMeta("nope"); !errors.Is(err, athena.ErrNotFound) {
		t.Fatalf("GetMeta: %v, want ErrNotFound", err)
	}
}

func TestWorkGroups(t *testing.T) {
	db, _ := openTest(t)
	names := []string{"b", "a", "primary", "c1", "c0", "Z"}
	update(t, db, func(tx athena.Tx) error {
		for i, n := range names {
			wg := &athena.WorkGroup{Name: n, State: "ENABLED", CreationTime: at(time.Duration(i)),
				Configuration: wire.WorkGroupConfiguration{ExecutionRole: ptr("role-" + n)}}
			if err := tx.PutWorkGroup(wg); err != nil {
				return err
			}
		}
		return nil
	})
	// replace
	update(t, db, func(tx athena.Tx) error {
		wg, err := tx.GetWorkGroup("a")
		if err != nil {
			return err
		}
		wg.State = "DISABLED"
		wg.Description = "changed"
		return tx.PutWorkGroup(wg)
	})
	view(t, db, func(tx athena.Tx) error {
		wg, err := tx.GetWorkGroup("a")
		if err != nil {
			return err
		}
		if wg.State != "DISABLED" || wg.Description != "changed" || *wg.Configuration.ExecutionRole != "role-a" {
			t.Errorf("replaced workgroup: %+v", wg)
		}
		return nil
	})

	sorted := append([]string(nil), names...)
	sort.Strings(sorted)
	for _, limit := range []int{0, 1, 2, 4, 100} {
		var got []string
		after := ""
		for pages := 0; ; pages++ {
			if pages > 10 {
				t.Fatal("too many pages")
			}
			var page []*athena.WorkGroup
			view(t, db, func(tx athena.Tx) (err error) { page, err = tx.ListWorkGroups(after, limit); return })
			if limit > 0 && len(page) > limit {
				t.Fatalf("limit %d: page of %d", limit, len(page))
			}
			for _, wg := range page {
				got = append(got, wg.Name)
			}
			if limit == 0 || len(page) < limit {
				break
			}
			after = page[len(page)-1].Name
		}
		mustEqual(t, fmt.Sprintf("limit %d", limit), got, sorted)
	}

	update(t, db, func(tx athena.Tx) error { return tx.DeleteWorkGroup("b") })
	view(t, db, func(tx athena.Tx) error {
		if _, err := tx.GetWorkGroup("b"); !errors.Is(err, athena.ErrNotFound) {
			t.Errorf("deleted workgroup: %v", err)
		}
		all, err := tx.ListWorkGroups("", 0)
		if len(all) != len(names)-1 {
			t.Errorf("after delete: %d workgroups", len(all))
		}
		return err
	})
}

func TestDeleteSessionWithItsCalculations(t *testing.T) {
	db, _ := openTest(t)
	update(t, db, func(tx athena.Tx) error {
		return errors.Join(
			tx.PutSession(&athena.Session{ID: "s", WorkGroup: "wg"}),
			tx.PutSession(&athena.Session{ID: "other", WorkGroup: "wg"}),
			tx.PutCalculation(&athena.Calculation{ID: "c1", SessionID: "s"}),
			tx.PutCalculation(&athena.Calculation{ID: "c2", SessionID: "s"}),
			tx.PutCalculation(&athena.Calculation{ID: "kept", SessionID: "other"}),
		)
	})
	update(t, db, func(tx athena.Tx) error { return tx.DeleteSession("s") })
	view(t, db, func(tx athena.Tx) error {
		for _, id := range []string{"c1", "c2"} {
			if _, err := tx.GetCalculation(id); !errors.Is(err, athena.ErrNotFound) {
				t.Errorf("calculation %s: %v, want ErrNotFound", id, err)
			}
		}
		if _, err := tx.GetSession("s"); !errors.Is(err, athena.ErrNotFound) {
			t.Errorf("session: %v, want ErrNotFound", err)
		}
		_, err := tx.GetCalculation("kept")
		return errors.Join(err, func() error { _, err := tx.GetSession("other"); return err }())
	})
}

func TestDeleteWorkGroupWithEverythingElse(t *testing.T) {
	db, _ := openTest(t)
	update(t, db, func(tx athena.Tx) error {
		return errors.Join(
			tx.PutWorkGroup(&athena.WorkGroup{Name: "wg"}),
			tx.PutNotebook(&athena.Notebook{ID: "nb", WorkGroup: "wg", Name: "n"}),
			tx.PutSession(&athena.Session{ID: "s", WorkGroup: "wg", NotebookID: "nb"}),
			tx.PutCalculation(&athena.Calculation{ID: "c", SessionID: "s"}),
			tx.PutTags("arn:wg", []wire.Tag{{Key: ptr("k"), Value: ptr("v")}}),
		)
	})
	update(t, db, func(tx athena.Tx) error { return tx.DeleteWorkGroup("wg") })
	view(t, db, func(tx athena.Tx) error {
		_, err := tx.GetSession("s")
		return err
	})
}

func TestNotebooks(t *testing.T) {
	db, _ := openTest(t)
	type nbDef struct{ id, wg, name string }
	defs := []nbDef{
		{"n1", "wg", "alpha"}, {"n2", "wg", "Beta"}, {"n3", "wg", "beta"}, {"n4", "wg", "gamma-beta"},
		{"n5", "wg", "delta"}, {"n6", "wg", "alphabet"}, {"n7", "other", "alpha"}, {"n0", "wg", "zeta"},
	}
	update(t, db, func(tx athena.Tx) error {
		for i, d := range defs {
			nb := &athena.Notebook{ID: d.id, WorkGroup: d.wg, Name: d.name, Type: "IPYNB",
				CreationTime: at(time.Duration(i)), LastModifiedTime: at(time.Minute),
				Payload: `{"cells":[],"id":"` + d.id + `"}`}
			if err := tx.PutNotebook(nb); err != nil {
				return err
			}
		}
		return nil
	})

	t.Run("get", func(t *testing.T) {
		view(t, db, func(tx athena.Tx) error {
			for _, d := range defs {
				byID, err := tx.GetNotebook(d.id)
				if err != nil {
					return err
				}
				byName, err := tx.GetNotebookByName(d.wg, d.name)
				if err != nil {
					return err
				}
				mustEqual(t, "by name", byName, byID)
				if byID.Name != d.name || byID.WorkGroup != d.wg || !strings.Contains(byID.Payload, d.id) {
					t.Errorf("notebook %s: %+v", d.id, byID)
				}
			}
			if _, err := tx.GetNotebookByName("wg", "ALPHA"); !errors.Is(err, athena.ErrNotFound) {
				t.Errorf("names are case-sensitive: %v", err)
			}
			return nil
		})
	})

	t.Run("count", func(t *testing.T) {
		view(t, db, func(tx athena.Tx) error {
			for wg, want := range map[string]int{"wg": 7, "other": 1, "none": 0} {
				n, err := tx.CountNotebooks(wg)
				if err != nil {
					return err
				}
				if n != want {
					t.Errorf("CountNotebooks(%s) = %d, want %d", wg, n, want)
				}
			}
			return nil
		})
	})

	t.Run("list", func(t *testing.T) {
		for _, tc := range []struct {
			wg, contains string
			want         []string // ids
		}{
			{"wg", "", []string{"n2", "n1", "n6", "n3", "n5", "n4", "n0"}},
			{"wg", "beta", []string{"n3", "n4"}},
			{"wg", "bet", []string{"n6", "n3", "n4"}},
			{"wg", "Beta", []string{"n2"}},
			{"wg", "alpha", []string{"n1", "n6"}},
			{"wg", "nothing", nil},
			{"other", "", []string{"n7"}},
			{"none", "", nil},
		} {
			for _, limit := range []int{0, 1, 2, 3, 50} {
				var got []string
				var after athena.Cursor
				for pages := 0; ; pages++ {
					if pages > 10 {
						t.Fatal("too many pages")
					}
					var page []*athena.Notebook
					view(t, db, func(tx athena.Tx) (err error) {
						page, err = tx.ListNotebooks(tc.wg, tc.contains, after, limit)
						return
					})
					for _, nb := range page {
						if nb.Payload != "" {
							t.Errorf("listing loaded the payload of %s", nb.ID)
						}
						if nb.Name == "" || nb.Type != "IPYNB" || nb.CreationTime.IsZero() {
							t.Errorf("listed notebook lacks metadata: %+v", nb)
						}
						got = append(got, nb.ID)
					}
					if limit == 0 || len(page) < limit {
						break
					}
					last := page[len(page)-1]
					after = athena.Cursor{Key: last.Name, ID: last.ID}
				}
				mustEqual(t, fmt.Sprintf("ListNotebooks(%q, %q) limit %d", tc.wg, tc.contains, limit), got, tc.want)
			}
		}
	})

	t.Run("unique name", func(t *testing.T) {
		err := db.Update(context.Background(), func(tx athena.Tx) error {
			return tx.PutNotebook(&athena.Notebook{ID: "dup", WorkGroup: "wg", Name: "alpha", Payload: "x"})
		})
		if err == nil || errors.Is(err, athena.ErrNotFound) {
			t.Fatalf("duplicate (workgroup, name): %v", err)
		}
		// Renaming onto another's name fails too, and leaves both as they were.
		err = db.Update(context.Background(), func(tx athena.Tx) error {
			nb, err := tx.GetNotebook("n5")
			if err != nil {
				return err
			}
			nb.Name = "alpha"
			return tx.PutNotebook(nb)
		})
		if err == nil {
			t.Fatal("rename onto an existing name succeeded")
		}
		view(t, db, func(tx athena.Tx) error {
			if _, err := tx.GetNotebook("dup"); !errors.Is(err, athena.ErrNotFound) {
				t.Errorf("duplicate was stored: %v", err)
			}
			nb, err := tx.GetNotebookByName("wg", "alpha")
			if err != nil || nb.ID != "n1" {
				t.Errorf("alpha is %+v, %v", nb, err)
			}
			nb, err = tx.GetNotebook("n5")
			if err != nil || nb.Name != "delta" {
				t.Errorf("n5 is %+v, %v", nb, err)
			}
			return nil
		})
		// Within one Update, the error can be handled and the transaction goes on.
		update(t, db, func(tx athena.Tx) error {
			if err := tx.PutNotebook(&athena.Notebook{ID: "dup", WorkGroup: "wg", Name: "alpha"}); err == nil {
				t.Error("duplicate accepted")
			}
			return tx.PutNotebook(&athena.Notebook{ID: "dup", WorkGroup: "wg", Name: "alpha2"})
		})
	})

	t.Run("rename and update", func(t *testing.T) {
		update(t, db, func(tx athena.Tx) error {
			nb, err := tx.GetNotebook("n5")
			if err != nil {
				return err
			}
			nb.Name = "epsilon"
			nb.Payload = "new payload"
			nb.LastModifiedTime = at(time.Hour)
			return tx.PutNotebook(nb)
		})
		view(t, db, func(tx athena.Tx) error {
			if _, err := tx.GetNotebookByName("wg", "delta"); !errors.Is(err, athena.ErrNotFound) {
				t.Errorf("old name still found: %v", err)
			}
			nb, err := tx.GetNotebookByName("wg", "epsilon")
			if err != nil {
				return err
			}
			if nb.ID != "n5" || nb.Payload != "new payload" || !nb.LastModifiedTime.Equal(at(time.Hour)) {
				t.Errorf("updated notebook: %+v", nb)
			}
			return nil
		})
	})

	t.Run("delete", func(t *testing.T) {
		update(t, db, func(tx athena.Tx) error { return tx.DeleteNotebook("n1") })
		view(t, db, func(tx athena.Tx) error {
			if _, err := tx.GetNotebook("n1"); !errors.Is(err, athena.ErrNotFound) {
				t.Errorf("deleted notebook: %v", err)
			}
			if _, err := tx.GetNotebookByName("wg", "alpha"); !errors.Is(err, athena.ErrNotFound) {
				t.Errorf("deleted notebook by name: %v", err)
			}
			return nil
		})
		// the name is free again
		update(t, db, func(tx athena.Tx) error {
			return tx.PutNotebook(&athena.Notebook{ID: "n1b", WorkGroup: "wg", Name: "alpha"})
		})
	})
}

func TestSessions(t *testing.T) {
	db, _ := openTest(t)
	type sDef struct {
		id, wg, nb, state string
		start             time.Time
	}
	// Several sessions share a start time, so the order within those falls to the id.
	defs := []sDef{
		{"s01", "wg", "nb1", "IDLE", at(0)},
		{"s02", "wg", "nb1", "TERMINATED", at(0)},
		{"s03", "wg", "nb2", "BUSY", at(0)},
		{"s04", "other", "", "IDLE", at(0)},
		{"s05", "wg", "", "TERMINATED", at(time.Second)},
		{"s06", "wg", "nb1", "IDLE", at(time.Second)},
		{"s07", "wg", "nb2", "FAILED", at(-time.Second)},
		{"s08", "other", "nb1", "BUSY", at(-time.Second)},
		{"s09", "wg", "", "CREATING", time.Time{}},
		{"s10", "wg", "nb1", "IDLE", at(time.Nanosecond)},
		{"s11", "wg", "nb2", "IDLE", at(0)},
	}
	update(t, db, func(tx athena.Tx) error {
		for _, d := range defs {
			s := &athena.Session{ID: d.id, WorkGroup: d.wg, NotebookID: d.nb, State: d.state, StartTime: d.start,
				EngineConfiguration: wire.EngineConfiguration{MaxConcurrentDpus: ptr(int32(20))}}
			if err := tx.PutSession(s); err != nil {
				return err
			}
		}
		return nil
	})
	// The expected order: newest first by (start, id).
	ordered := append([]sDef(nil), defs...)
	sort.Slice(ordered, func(i, j int) bool {
		a, b := ordered[i], ordered[j]
		if !a.start.Equal(b.start) {
			return unixNano(a.start) > unixNano(b.start)
		}
		return a.id > b.id
	})
	expect := func(keep func(sDef) bool) []string {
		var ids []string
		for _, d := range ordered {
			if keep(d) {
				ids = append(ids, d.id)
			}
		}
		return ids
	}
	for _, tc := range []struct {
		name string
		q    athena.SessionQuery
		keep func(sDef) bool
	}{
		{"all", athena.SessionQuery{}, func(sDef) bool { return true }},
		{"workgroup", athena.SessionQuery{WorkGroup: "wg"}, func(d sDef) bool { return d.wg == "wg" }},
		{"notebook", athena.SessionQuery{NotebookID: "nb1"}, func(d sDef) bool { return d.nb == "nb1" }},
		{"states", athena.SessionQuery{States: []string{"IDLE", "BUSY"}},
			func(d sDef) bool { return d.state == "IDLE" || d.state == "BUSY" }},
		{"all filters", athena.SessionQuery{WorkGroup: "wg", NotebookID: "nb2", States: []string{"IDLE", "FAILED"}},
			func(d sDef) bool { return d.wg == "wg" && d.nb == "nb2" && (d.state == "IDLE" || d.state == "FAILED") }},
		{"no match", athena.SessionQuery{WorkGroup: "none"}, func(sDef) bool { return false }},
	} {
		want := expect(tc.keep)
		for _, limit := range []int{0, 1, 2, 3, 100} {
			var got []string
			q := tc.q
			q.Limit = limit
			for pages := 0; ; pages++ {
				if pages > 20 {
					t.Fatal("too many pages")
				}
				var page []*athena.Session
				view(t, db, func(tx athena.Tx) (err error) { page, err = tx.ListSessions(q); return })
				if limit > 0 && len(page) > limit {
					t.Fatalf("page of %d for limit %d", len(page), limit)
				}
				for _, s := range page {
					got = append(got, s.ID)
					if s.EngineConfiguration.MaxConcurrentDpus == nil || *s.EngineConfiguration.MaxConcurrentDpus != 20 {
						t.Errorf("listed session lacks its configuration: %+v", s)
					}
				}
				if limit == 0 || len(page) < limit {
					break
				}
				// The cursor travels in a page token as JSON, in whatever zone the time was.
				last := page[len(page)-1]
				b, err := json.Marshal(athena.Cursor{At: last.StartTime.In(time.FixedZone("X", -7*3600)), ID: last.ID})
				if err != nil {
					t.Fatal(err)
				}
				q.Before = athena.Cursor{}
				if err := json.Unmarshal(b, &q.Before); err != nil {
					t.Fatal(err)
				}
			}
			mustEqual(t, fmt.Sprintf("%s, limit %d", tc.name, limit), got, want)
		}
	}

	// A replacement updates the indexed columns too.
	update(t, db, func(tx athena.Tx) error {
		s, err := tx.GetSession("s03")
		if err != nil {
			return err
		}
		s.State = "TERMINATED"
		s.EndTime = at(time.Hour)
		return tx.PutSession(s)
	})
	view(t, db, func(tx athena.Tx) error {
		s, err := tx.GetSession("s03")
		if err != nil {
			return err
		}
		if s.State != "TERMINATED" || !s.EndTime.Equal(at(time.Hour)) {
			t.Errorf("replaced session: %+v", s)
		}
		list, err := tx.ListSessions(athena.SessionQuery{States: []string{"BUSY"}})
		if err != nil {
			return err
		}
		mustEqual(t, "state index follows replacement", len(list), 1)
		return nil
	})
}

func TestCalculations(t *testing.T) {
	db, _ := openTest(t)
	var calcs []*athena.Calculation
	states := []string{"COMPLETED", "FAILED", "RUNNING", "COMPLETED", "QUEUED"}
	update(t, db, func(tx athena.Tx) error {
		for i := range 12 {
			c := &athena.Calculation{
				ID:             fmt.Sprintf("c%02d", i),
				SessionID:      []string{"s1", "s2"}[i%2],
				State:          states[i%len(states)],
				SubmissionTime: base, // all equal: order is by Seq
				Code:           fmt.Sprintf("print(%d)", i),
			}
			if err := tx.PutCalculation(c); err != nil {
				return err
			}
			if c.Seq == 0 || (len(calcs) > 0 && c.Seq <= calcs[len(calcs)-1].Seq) {
				return fmt.Errorf("calculation %d got Seq %d after %v", i, c.Seq, calcs)
			}
			calcs = append(calcs, c)
		}
		return nil
	})

	t.Run("seq kept", func(t *testing.T) {
		update(t, db, func(tx athena.Tx) error {
			got, err := tx.GetCalculation("c03")
			if err != nil {
				return err
			}
			mustEqual(t, "stored", got, calcs[3])
			// A replacement with Seq 0 keeps the stored Seq.
			c := *calcs[3]
			c.Seq = 0
			c.State = "CANCELED"
			if err := tx.PutCalculation(&c); err != nil {
				return err
			}
			if c.Seq != calcs[3].Seq {
				t.Errorf("replacement got Seq %d, want %d", c.Seq, calcs[3].Seq)
			}
			calcs[3].State = "CANCELED"
			return nil
		})
	})

	t.Run("seq rolled back", func(t *testing.T) {
		c := &athena.Calculation{ID: "rolled", SessionID: "s1", State: "QUEUED"}
		boom := errors.New("boom")
		err := db.Update(context.Background(), func(tx athena.Tx) error {
			if err := tx.PutCalculation(c); err != nil {
				return err
			}
			if c.Seq == 0 {
				t.Error("no Seq assigned")
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Update: %v", err)
		}
		if c.Seq != 0 {
			t.Errorf("Seq %d kept after rollback", c.Seq)
		}
		update(t, db, func(tx athena.Tx) error { return tx.PutCalculation(c) })
		if c.Seq <= calcs[len(calcs)-1].Seq {
			t.Errorf("Seq %d after %d", c.Seq, calcs[len(calcs)-1].Seq)
		}
		calcs = append(calcs, c)
	})

	t.Run("explicit seq", func(t *testing.T) {
		c := &athena.Calculation{ID: "explicit", SessionID: "s3", Seq: 1000}
		d := &athena.Calculation{ID: "after-explicit", SessionID: "s3"}
		update(t, db, func(tx athena.Tx) error { return errors.Join(tx.PutCalculation(c), tx.PutCalculation(d)) })
		if d.Seq <= 1000 {
			t.Errorf("Seq %d after an explicit 1000", d.Seq)
		}
	})

	expect := func(keep func(*athena.Calculation) bool) []string {
		var ids []string
		for i := len(calcs) - 1; i >= 0; i-- {
			if keep(calcs[i]) {
				ids = append(ids, calcs[i].ID)
			}
		}
		return ids
	}
	for _, tc := range []struct {
		name string
		q    athena.CalculationQuery
		keep func(*athena.Calculation) bool
	}{
		{"session", athena.CalculationQuery{SessionID: "s1"}, func(c *athena.Calculation) bool { return c.SessionID == "s1" }},
		{"states", athena.CalculationQuery{SessionID: "s2", States: []string{"COMPLETED", "CANCELED"}},
			func(c *athena.Calculation) bool {
				return c.SessionID == "s2" && (c.State == "COMPLETED" || c.State == "CANCELED")
			}},
		{"all sessions", athena.CalculationQuery{States: []string{"RUNNING"}},
			func(c *athena.Calculation) bool { return c.State == "RUNNING" }},
		{"none", athena.CalculationQuery{SessionID: "nope"}, func(*athena.Calculation) bool { return false }},
	} {
		want := expect(tc.keep)
		for _, limit := range []int{0, 1, 2, 5, 100} {
			var got []string
			q := tc.q
			q.Limit = limit
			for pages := 0; ; pages++ {
				if pages > 20 {
					t.Fatal("too many pages")
				}
				var page []*athena.Calculation
				view(t, db, func(tx athena.Tx) (err error) { page, err = tx.ListCalculations(q); return })
				for _, c := range page {
					got = append(got, c.ID)
				}
				if limit == 0 || len(page) < limit {
					break
				}
				q.Before = athena.Cursor{Seq: page[len(page)-1].Seq}
			}
			mustEqual(t, fmt.Sprintf("%s, limit %d", tc.name, limit), got, want)
		}
	}
	// the full records come back
	view(t, db, func(tx athena.Tx) error {
		list, err := tx.ListCalculations(athena.CalculationQuery{SessionID: "s2"})
		if err != nil {
			return err
		}
		for _, c := range list {
			var want *athena.Calculation
			for _, w := range calcs {
				if w.ID == c.ID {
					want = w
				}
			}
			mustEqual(t, "listed "+c.ID, c, want)
		}
		return nil
	})
}

func TestTags(t *testing.T) {
	db, _ := openTest(t)
	tag := func(k, v string) wire.Tag { return wire.Tag{Key: ptr(k), Value: ptr(v)} }
	for _, tc := range []struct {
		name string
		put  []wire.Tag // nil: DeleteTags
		want []wire.Tag
	}{
		{"none yet", []wire.Tag{}, []wire.Tag{}},
		{"put", []wire.Tag{tag("b", "2"), tag("a", "1"), tag("C", "3"), tag("empty", "")},
			[]wire.Tag{tag("C", "3"), tag("a", "1"), tag("b", "2"), tag("empty", "")}},
		{"replace all", []wire.Tag{tag("z", "26"), tag("a", "one")}, []wire.Tag{tag("a", "one"), tag("z", "26")}},
		{"nil value", []wire.Tag{{Key: ptr("k")}}, []wire.Tag{tag("k", "")}},
		{"duplicate key: last wins", []wire.Tag{tag("k", "1"), tag("k", "2")}, []wire.Tag{tag("k", "2")}},
		{"delete", nil, []wire.Tag{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			update(t, db, func(tx athena.Tx) error {
				if tc.put == nil {
					return tx.DeleteTags("arn:1")
				}
				return tx.PutTags("arn:1", tc.put)
			})
			view(t, db, func(tx athena.Tx) error {
				got, err := tx.GetTags("arn:1")
				if err != nil {
					return err
				}
				if got == nil {
					t.Fatal("GetTags returned nil")
				}
				mustEqual(t, "tags", got, tc.want)
				other, err := tx.GetTags("arn:other")
				if err != nil || other == nil || len(other) != 0 {
					t.Errorf("other ARN: %v, %v", other, err)
				}
				return nil
			})
		})
	}
	err := db.Update(context.Background(), func(tx athena.Tx) error {
		return tx.PutTags("arn:1", []wire.Tag{{Value: ptr("v")}})
	})
	if err == nil {
		t.Error("a tag without a key was accepted")
	}
	// Deleting the tags of an ARN that has none is fine.
	update(t, db, func(tx athena.Tx) error { return tx.DeleteTags("arn:none") })
}

func TestIdempotency(t *testing.T) {
	db, _ := openTest(t)
	rec := &athena.Idempotency{Op: "StartSession", Token: "tok", ParamsHash: "h1", ResourceID: "s1", Created: at(time.Second)}
	update(t, db, func(tx athena.Tx) error {
		if err := tx.PutIdempotency(rec); err != nil {
			return err
		}
		// same token, other op: a separate record
		return tx.PutIdempotency(&athena.Idempotency{Op: "CreateNotebook", Token: "tok", ParamsHash: "h2", ResourceID: "n1"})
	})
	view(t, db, func(tx athena.Tx) error {
		got, err := tx.GetIdempotency("StartSession", "tok")
		if err != nil {
			return err
		}
		mustEqual(t, "record", got, rec)
		other, err := tx.GetIdempotency("CreateNotebook", "tok")
		if err != nil {
			return err
		}
		if other.ResourceID != "n1" {
			t.Errorf("other op: %+v", other)
		}
		if _, err := tx.GetIdempotency("StartSession", "tok2"); !errors.Is(err, athena.ErrNotFound) {
			t.Errorf("missing token: %v", err)
		}
		return nil
	})
}

func TestMeta(t *testing.T) {
	db, path := openTest(t)
	if err := db.PutMeta("secret", "s1"); err != nil {
		t.Fatal(err)
	}
	if err := db.PutMeta("secret", "s2"); err != nil {
		t.Fatal(err)
	}
	if err := db.PutMeta("other", ""); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for key, want := range map[string]string{"secret": "s2", "other": ""} {
		got, err := db.GetMeta(key)
		if err != nil || got != want {
			t.Errorf("GetMeta(%q) = %q, %v; want %q", key, got, err, want)
		}
	}
}

func TestUpdateRollsBackOnError(t *testing.T) {
	db, _ := openTest(t)
	update(t, db, func(tx athena.Tx) error {
		return errors.Join(
			tx.PutWorkGroup(&athena.WorkGroup{Name: "keep"}),
			tx.PutTags("arn:keep", []wire.Tag{{Key: ptr("k"), Value: ptr("v")}}),
		)
	})
	writeAll := func(tx athena.Tx) error {
		return errors.Join(
			tx.PutWorkGroup(&athena.WorkGroup{Name: "wg"}),
			tx.PutNotebook(&athena.Notebook{ID: "nb", WorkGroup: "wg", Name: "n"}),
			tx.PutSession(&athena.Session{ID: "s", WorkGroup: "wg"}),
			tx.PutCalculation(&athena.Calculation{ID: "c", SessionID: "s"}),
			tx.PutTags("arn:wg", []wire.Tag{{Key: ptr("k"), Value: ptr("v")}}),
			tx.PutTags("arn:keep", nil),
			tx.PutIdempotency(&athena.Idempotency{Op: "op", Token: "t"}),
			tx.DeleteWorkGroup("keep"),
		)
	}
	boom := errors.New("boom")
	for _, tc := range []struct {
		name string
		fn   func(athena.Tx) error
	}{
		{"error", func(tx athena.Tx) error {
			if err := writeAll(tx); err != nil {
				return err
			}
			return boom
		}},
		{"wrapped error", func(tx athena.Tx) error {
			if err := writeAll(tx); err != nil {
				return err
			}
			return fmt.Errorf("domain: %w", boom)
		}},
		{"panic", func(tx athena.Tx) error {
			if err := writeAll(tx); err != nil {
				return err
			}
			panic(boom)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := func() (err error) {
				defer func() {
					if p := recover(); p != nil {
						err = p.(error)
					}
				}()
				return db.Update(context.Background(), tc.fn)
			}()
			if !errors.Is(err, boom) {
				t.Fatalf("Update returned %v, want the fn's error", err)
			}
			view(t, db, func(tx athena.Tx) error {
				for what, err := range map[string]error{
					"workgroup":   second(tx.GetWorkGroup("wg")),
					"notebook":    second(tx.GetNotebook("nb")),
					"session":     second(tx.GetSession("s")),
					"calculation": second(tx.GetCalculation("c")),
					"idempotency": second(tx.GetIdempotency("op", "t")),
				} {
					if !errors.Is(err, athena.ErrNotFound) {
						t.Errorf("%s after rollback: %v", what, err)
					}
				}
				if _, err := tx.GetWorkGroup("keep"); err != nil {
					t.Errorf("deleted workgroup after rollback: %v", err)
				}
				for arn, want := range map[string]int{"arn:wg": 0, "arn:keep": 1} {
					tags, err := tx.GetTags(arn)
					if err != nil || len(tags) != want {
						t.Errorf("tags of %s after rollback: %v, %v", arn, tags, err)
					}
				}
				return nil
			})
		})
	}
	// The writer is usable after all that.
	update(t, db, writeAll)
}

func second[T any](_ T, err error) error { return err }

func TestViewIsReadOnly(t *testing.T) {
	db, _ := openTest(t)
	err := db.View(context.Background(), func(tx athena.Tx) error {
		return tx.PutWorkGroup(&athena.WorkGroup{Name: "wg"})
	})
	if err == nil {
		t.Fatal("a write in View succeeded")
	}
	view(t, db, func(tx athena.Tx) error {
		if _, err := tx.GetWorkGroup("wg"); !errors.Is(err, athena.ErrNotFound) {
			t.Errorf("write in View landed: %v", err)
		}
		return nil
	})
}

func TestCanceledContext(t *testing.T) {
	db, _ := openTest(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	called := false
	if err := db.Update(ctx, func(athena.Tx) error { called = true; return nil }); err == nil {
		t.Error("Update with a canceled context succeeded")
	}
	if err := db.View(ctx, func(athena.Tx) error { called = true; return nil }); err == nil {
		t.Error("View with a canceled context succeeded")
	}
	if called {
		t.Error("fn ran with a canceled context")
	}
	update(t, db, func(tx athena.Tx) error { return tx.PutWorkGroup(&athena.WorkGroup{Name: "wg"}) })
}

func TestReopenPersistsEverything(t *testing.T) {
	db, path := openTest(t)
	var wg athena.WorkGroup
	var nb athena.Notebook
	var s athena.Session
	var c athena.Calculation
	var idem athena.Idempotency
	fill(&wg, 11)
	fill(&nb, 12)
	fill(&s, 13)
	fill(&c, 14)
	c.Seq = 0
	fill(&idem, 15)
	tags := []wire.Tag{{Key: ptr("a"), Value: ptr("1")}, {Key: ptr("b"), Value: ptr("2")}}
	update(t, db, func(tx athena.Tx) error {
		return errors.Join(tx.PutWorkGroup(&wg), tx.PutNotebook(&nb), tx.PutSession(&s),
			tx.PutCalculation(&c), tx.PutIdempotency(&idem), tx.PutTags("arn:x", tags))
	})
	if err := db.PutMeta("k", "v"); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	view(t, db, func(tx athena.Tx) error {
		for what, pair := range map[string][2]any{
			"workgroup":   {first(tx.GetWorkGroup(wg.Name)), &wg},
			"notebook":    {first(tx.GetNotebook(nb.ID)), &nb},
			"session":     {first(tx.GetSession(s.ID)), &s},
			"calculation": {first(tx.GetCalculation(c.ID)), &c},
			"idempotency": {first(tx.GetIdempotency(idem.Op, idem.Token)), &idem},
			"tags":        {first(tx.GetTags("arn:x")), tags},
		} {
			mustEqual(t, what, pair[0], pair[1])
		}
		return nil
	})
	if v, err := db.GetMeta("k"); err != nil || v != "v" {
		t.Errorf("meta: %q, %v", v, err)
	}
	// the sequence goes on from where it was
	d := &athena.Calculation{ID: "next", SessionID: s.ID}
	update(t, db, func(tx athena.Tx) error { return tx.PutCalculation(d) })
	if d.Seq <= c.Seq {
		t.Errorf("Seq %d after reopen, before it %d", d.Seq, c.Seq)
	}
}

func first[T any](v T, err error) any {
	if err != nil {
		return err
	}
	return v
}

func TestFillSetsEveryField(t *testing.T) {
	// The round-trip tests rely on fill leaving no field zero.
	for _, v := range []any{&athena.WorkGroup{}, &athena.Notebook{}, &athena.Session{}, &athena.Calculation{}, &athena.Idempotency{}} {
		fill(v, 1)
		rv := reflect.ValueOf(v).Elem()
		for i := 0; i < rv.NumField(); i++ {
			if rv.Field(i).IsZero() {
				t.Errorf("%T.%s left zero", v, rv.Type().Field(i).Name)
			}
		}
	}
}
