package athena

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"time"

	"glaux/internal/wire"
)

// memStore is an in-memory Store for unit tests of the domain's rules. Update works on a deep
// copy of the state and commits it only when fn succeeds, so a failed request writes nothing,
// as with the real store. View transactions refuse writes.
type memStore struct {
	mu sync.Mutex
	st *memState
	// failPuts, when set, is returned by every Put*/Delete* call (a broken disk).
	failPuts error
}

type memState struct {
	workGroups map[string]*WorkGroup
	notebooks  map[string]*Notebook
	sessions   map[string]*Session
	calcs      map[string]*Calculation
	tags       map[string][]wire.Tag
	idem       map[string]*Idempotency
}

func newMemStore() *memStore {
	return &memStore{st: &memState{
		workGroups: map[string]*WorkGroup{},
		notebooks:  map[string]*Notebook{},
		sessions:   map[string]*Session{},
		calcs:      map[string]*Calculation{},
		tags:       map[string][]wire.Tag{},
		idem:       map[string]*Idempotency{},
	}}
}

var _ Store = (*memStore)(nil)

func (m *memStore) Update(ctx context.Context, fn func(Tx) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	tx := &memTx{st: m.st.clone(), failPuts: m.failPuts}
	if err := fn(tx); err != nil {
		return err
	}
	m.st = tx.st
	return nil
}

func (m *memStore) View(ctx context.Context, fn func(Tx) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return fn(&memTx{st: m.st.clone(), readOnly: true})
}

func (m *memStore) Close() error { return nil }

func (st *memState) clone() *memState {
	c := &memState{
		workGroups: map[string]*WorkGroup{},
		notebooks:  map[string]*Notebook{},
		sessions:   map[string]*Session{},
		calcs:      map[string]*Calculation{},
		tags:       map[string][]wire.Tag{},
		idem:       map[string]*Idempotency{},
	}
	for k, v := range st.workGroups {
		c.workGroups[k] = copyWorkGroup(v)
	}
	for k, v := range st.notebooks {
		nb := *v
		c.notebooks[k] = &nb
	}
	for k, v := range st.sessions {
		c.sessions[k] = copySession(v)
	}
	for k, v := range st.calcs {
		cc := *v
		c.calcs[k] = &cc
	}
	for k, v := range st.tags {
		c.tags[k] = cloneJSON(v)
	}
	for k, v := range st.idem {
		r := *v
		c.idem[k] = &r
	}
	return c
}

func copyWorkGroup(wg *WorkGroup) *WorkGroup {
	c := *wg
	c.Configuration = cloneJSON(wg.Configuration)
	return &c
}

func copySession(s *Session) *Session {
	c := *s
	c.EngineConfiguration = cloneJSON(s.EngineConfiguration)
	c.MonitoringConfiguration = cloneJSON(s.MonitoringConfiguration)
	return &c
}

type memTx struct {
	st       *memState
	readOnly bool
	failPuts error
}

func (tx *memTx) write() error {
	if tx.readOnly {
		return errors.New("memstore: write in a read-only transaction")
	}
	return tx.failPuts
}

func (tx *memTx) GetWorkGroup(name string) (*WorkGroup, error) {
	wg, ok := tx.st.workGroups[name]
	if !ok {
		return nil, ErrNotFound
	}
	return copyWorkGroup(wg), nil
}

func (tx *memTx) PutWorkGroup(wg *WorkGroup) error {
	if err := tx.write(); err != nil {
		return err
	}
	tx.st.workGroups[wg.Name] = copyWorkGroup(wg)
	return nil
}

func (tx *memTx) DeleteWorkGroup(name string) error {
	if err := tx.write(); err != nil {
		return err
	}
	if _, ok := tx.st.workGroups[name]; !ok {
		return ErrNotFound
	}
	delete(tx.st.workGroups, name)
	return nil
}

func (tx *memTx) ListWorkGroups(after string, limit int) ([]*WorkGroup, error) {
	var out []*WorkGroup
	for _, wg := range tx.st.workGroups {
		if wg.Name > after {
			out = append(out, copyWorkGroup(wg))
		}
	}
	slices.SortFunc(out, func(a, b *WorkGroup) int { return strings.Compare(a.Name, b.Name) })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (tx *memTx) GetNotebook(id string) (*Notebook, error) {
	nb, ok := tx.st.notebooks[id]
	if !ok {
		return nil, ErrNotFound
	}
	c := *nb
	return &c, nil
}

func (tx *memTx) GetNotebookByName(workGroup, name string) (*Notebook, error) {
	for _, nb := range tx.st.notebooks {
		if nb.WorkGroup == workGroup && nb.Name == name {
			c := *nb
			return &c, nil
		}
	}
	return nil, ErrNotFound
}

func (tx *memTx) PutNotebook(nb *Notebook) error {
	if err := tx.write(); err != nil {
		return err
	}
	for _, o := range tx.st.notebooks {
		if o.ID != nb.ID && o.WorkGroup == nb.WorkGroup && o.Name == nb.Name {
			return fmt.Errorf("memstore: UNIQUE constraint failed: notebooks.workgroup, notebooks.name")
		}
	}
	c := *nb
	tx.st.notebooks[nb.ID] = &c
	return nil
}

func (tx *memTx) DeleteNotebook(id string) error {
	if err := tx.write(); err != nil {
		return err
	}
	if _, ok := tx.st.notebooks[id]; !ok {
		return ErrNotFound
	}
	delete(tx.st.notebooks, id)
	return nil
}

func (tx *memTx) ListNotebooks(workGroup, nameContains string, after Cursor, limit int) ([]*Notebook, error) {
	var out []*Notebook
	for _, nb := range tx.st.notebooks {
		if nb.WorkGroup != workGroup || !strings.Contains(nb.Name, nameContains) {
			continue
		}
		if after != (Cursor{}) && cmp.Or(strings.Compare(nb.Name, after.Key), strings.Compare(nb.ID, after.ID)) <= 0 {
			continue
		}
		c := *nb
		out = append(out, &c)
	}
	slices.SortFunc(out, func(a, b *Notebook) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.ID, b.ID))
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (tx *memTx) CountNotebooks(workGroup string) (int, error) {
	n := 0
	for _, nb := range tx.st.notebooks {
		if nb.WorkGroup == workGroup {
			n++
		}
	}
	return n, nil
}

func (tx *memTx) GetSession(id string) (*Session, error) {
	s, ok := tx.st.sessions[id]
	if !ok {
		return nil, ErrNotFound
	}
	return copySession(s), nil
}

func (tx *memTx) PutSession(s *Session) error {
	if err := tx.write(); err != nil {
		return err
	}
	tx.st.sessions[s.ID] = copySession(s)
	return nil
}

func (tx *memTx) DeleteSession(id string) error {
	if err := tx.write(); err != nil {
		return err
	}
	if _, ok := tx.st.sessions[id]; !ok {
		return ErrNotFound
	}
	delete(tx.st.sessions, id)
	for cid, c := range tx.st.calcs {
		if c.SessionID == id {
			delete(tx.st.calcs, cid)
		}
	}
	return nil
}

func (tx *memTx) ListSessions(q SessionQuery) ([]*Session, error) {
	var out []*Session
	for _, s := range tx.st.sessions {
		if q.WorkGroup != "" && s.WorkGroup != q.WorkGroup ||
			q.NotebookID != "" && s.NotebookID != q.NotebookID ||
			len(q.States) > 0 && !slices.Contains(q.States, s.State) {
			continue
		}
		if !q.Before.At.IsZero() && (s.StartTime.After(q.Before.At) || s.StartTime.Equal(q.Before.At) && s.ID >= q.Before.ID) {
			continue
		}
		out = append(out, copySession(s))
	}
	slices.SortFunc(out, func(a, b *Session) int {
		return cmp.Or(b.StartTime.Compare(a.StartTime), strings.Compare(b.ID, a.ID))
	})
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out, nil
}

func (tx *memTx) GetCalculation(id string) (*Calculation, error) {
	c, ok := tx.st.calcs[id]
	if !ok {
		return nil, ErrNotFound
	}
	cc := *c
	return &cc, nil
}

func (tx *memTx) PutCalculation(c *Calculation) error {
	if err := tx.write(); err != nil {
		return err
	}
	cc := *c
	tx.st.calcs[c.ID] = &cc
	return nil
}

func (tx *memTx) ListCalculations(q CalculationQuery) ([]*Calculation, error) {
	var out []*Calculation
	for _, c := range tx.st.calcs {
		if q.SessionID != "" && c.SessionID != q.SessionID ||
			len(q.States) > 0 && !slices.Contains(q.States, c.State) ||
			q.Before.Seq > 0 && c.Seq >= q.Before.Seq {
			continue
		}
		cc := *c
		out = append(out, &cc)
	}
	slices.SortFunc(out, func(a, b *Calculation) int { return cmp.Compare(b.Seq, a.Seq) })
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out, nil
}

func (tx *memTx) GetTags(arn string) ([]wire.Tag, error) {
	tags := cloneJSON(tx.st.tags[arn])
	if tags == nil {
		tags = []wire.Tag{}
	}
	slices.SortFunc(tags, func(a, b wire.Tag) int { return strings.Compare(*a.Key, *b.Key) })
	return tags, nil
}

func (tx *memTx) PutTags(arn string, tags []wire.Tag) error {
	if err := tx.write(); err != nil {
		return err
	}
	tx.st.tags[arn] = cloneJSON(tags)
	return nil
}

func (tx *memTx) DeleteTags(arn string) error {
	if err := tx.write(); err != nil {
		return err
	}
	delete(tx.st.tags, arn)
	return nil
}

func (tx *memTx) GetIdempotency(op, token string) (*Idempotency, error) {
	r, ok := tx.st.idem[op+"\x00"+token]
	if !ok {
		return nil, ErrNotFound
	}
	c := *r
	return &c, nil
}

func (tx *memTx) PutIdempotency(rec *Idempotency) error {
	if err := tx.write(); err != nil {
		return err
	}
	c := *rec
	tx.st.idem[rec.Op+"\x00"+rec.Token] = &c
	return nil
}

// memObjects is an in-memory object store; a missing object is fs.ErrNotExist.
type memObjects struct {
	mu   sync.Mutex
	objs map[string][]byte
	errs map[string]error // Get of these URIs fails so
	gets int
}

func newMemObjects() *memObjects {
	return &memObjects{objs: map[string][]byte{}, errs: map[string]error{}}
}

func (o *memObjects) Put(ctx context.Context, uri string, r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.objs[uri] = b
	return nil
}

func (o *memObjects) Get(ctx context.Context, uri string) (io.ReadCloser, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.gets++
	if err := o.errs[uri]; err != nil {
		return nil, err
	}
	b, ok := o.objs[uri]
	if !ok {
		return nil, fmt.Errorf("object %s: %w", uri, fs.ErrNotExist)
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// seqIDs hands out predictable lower-case UUIDs: ...-000000000001, ...-000000000002, ...
type seqIDs struct {
	mu sync.Mutex
	n  int
}

func (s *seqIDs) Next() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	return fmt.Sprintf("00000000-0000-4000-8000-%012d", s.n)
}
