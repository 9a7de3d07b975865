package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"glaux/internal/athena"
	"glaux/internal/wire"
)

// tx implements athena.Tx on one SQL transaction.
type tx struct {
	ctx context.Context
	tx  *sql.Tx
	// stmts prepares each query once per connection pool (stmt.go).
	stmts *stmtCache
	// assigned are the calculations whose Seq this transaction set; a rollback resets them
	// to 0, since the sequence values they got are given out again.
	assigned []*athena.Calculation
}

func (t *tx) rollback() {
	_ = t.tx.Rollback()
	t.undoSeqs()
}

func (t *tx) undoSeqs() {
	for _, c := range t.assigned {
		c.Seq = 0
	}
	t.assigned = nil
}

func notFound(kind, key string) error {
	return fmt.Errorf("sqlite: %s %q: %w", kind, key, athena.ErrNotFound)
}

// getRecord reads one JSON data value into rec.
func (t *tx) getRecord(rec any, kind, key, query string, args ...any) error {
	var data string
	err := t.queryRow(query, args...).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return notFound(kind, key)
	}
	if err != nil {
		return fmt.Errorf("sqlite: get %s %q: %w", kind, key, err)
	}
	if err := json.Unmarshal([]byte(data), rec); err != nil {
		return fmt.Errorf("sqlite: decode %s %q: %w", kind, key, err)
	}
	return nil
}

// listRecords runs query, whose only column is JSON data, and decodes each row with decode.
func listRecords[R any, T any](t *tx, kind, query string, args []any, decode func(*R) T) ([]T, error) {
	rows, err := t.query(query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list %s: %w", kind, err)
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		var data string
		if err := rows.Scan(&data); err != nil {
			return nil, fmt.Errorf("sqlite: list %s: %w", kind, err)
		}
		var rec R
		if err := json.Unmarshal([]byte(data), &rec); err != nil {
			return nil, fmt.Errorf("sqlite: decode %s: %w", kind, err)
		}
		out = append(out, decode(&rec))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list %s: %w", kind, err)
	}
	return out, nil
}

// sqlLimit is the LIMIT argument for limit: SQLite reads a negative limit as none.
func sqlLimit(limit int) int {
	if limit <= 0 {
		return -1
	}
	return limit
}

// inList returns "col IN (?, ?, ...)" and its arguments.
func inList(col string, values []string) (string, []any) {
	args := make([]any, len(values))
	for i, v := range values {
		args[i] = v
	}
	return col + " IN (" + strings.TrimSuffix(strings.Repeat("?, ", len(values)), ", ") + ")", args
}

func whereClause(conds []string) string {
	if len(conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(conds, " AND ")
}

// --- workgroups ---

func (t *tx) GetWorkGroup(name string) (*athena.WorkGroup, error) {
	var rec workGroupRecord
	if err := t.getRecord(&rec, "workgroup", name, "SELECT data FROM workgroups WHERE name = ?", name); err != nil {
		return nil, err
	}
	return rec.decode(), nil
}

func (t *tx) PutWorkGroup(wg *athena.WorkGroup) error {
	data, err := marshal(encodeWorkGroup(wg))
	if err != nil {
		return fmt.Errorf("sqlite: encode workgroup %q: %w", wg.Name, err)
	}
	if _, err := t.exec(`INSERT INTO workgroups (name, data) VALUES (?, ?)
		ON CONFLICT (name) DO UPDATE SET data = excluded.data`, wg.Name, data); err != nil {
		return fmt.Errorf("sqlite: put workgroup %q: %w", wg.Name, err)
	}
	return nil
}

// DeleteWorkGroup deletes the workgroup record only: its notebooks, sessions and tags are the
// caller's to delete. A missing workgroup is ErrNotFound.
func (t *tx) DeleteWorkGroup(name string) error {
	return t.delete("workgroup", name, "DELETE FROM workgroups WHERE name = ?", name)
}

func (t *tx) delete(kind, key, query string, args ...any) error {
	res, err := t.exec(query, args...)
	if err != nil {
		return fmt.Errorf("sqlite: delete %s %q: %w", kind, key, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: delete %s %q: %w", kind, key, err)
	}
	if n == 0 {
		return notFound(kind, key)
	}
	return nil
}

func (t *tx) ListWorkGroups(after string, limit int) ([]*athena.WorkGroup, error) {
	return listRecords(t, "workgroups",
		"SELECT data FROM workgroups WHERE name > ? ORDER BY name LIMIT ?",
		[]any{after, sqlLimit(limit)}, (*workGroupRecord).decode)
}

// --- notebooks ---

func (t *tx) getNotebook(kind, key, query string, args ...any) (*athena.Notebook, error) {
	var data, payload string
	err := t.queryRow(query, args...).Scan(&data, &payload)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(kind, key)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: get %s %q: %w", kind, key, err)
	}
	var rec notebookRecord
	if err := json.Unmarshal([]byte(data), &rec); err != nil {
		return nil, fmt.Errorf("sqlite: decode %s %q: %w", kind, key, err)
	}
	return rec.decode(payload), nil
}

func (t *tx) GetNotebook(id string) (*athena.Notebook, error) {
	return t.getNotebook("notebook", id, "SELECT data, payload FROM notebooks WHERE id = ?", id)
}

func (t *tx) GetNotebookByName(workGroup, name string) (*athena.Notebook, error) {
	return t.getNotebook("notebook", workGroup+"/"+name,
		"SELECT data, payload FROM notebooks WHERE workgroup = ? AND name = ?", workGroup, name)
}

// PutNotebook inserts or replaces the notebook with nb.ID. Another notebook with the same
// (WorkGroup, Name) is a constraint error, and is left as it is.
func (t *tx) PutNotebook(nb *athena.Notebook) error {
	data, err := marshal(encodeNotebook(nb))
	if err != nil {
		return fmt.Errorf("sqlite: encode notebook %q: %w", nb.ID, err)
	}
	if _, err := t.exec(`INSERT INTO notebooks (id, workgroup, name, data, payload) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET workgroup = excluded.workgroup, name = excluded.name,
			data = excluded.data, payload = excluded.payload`,
		nb.ID, nb.WorkGroup, nb.Name, data, nb.Payload); err != nil {
		return fmt.Errorf("sqlite: put notebook %q (%q in workgroup %q): %w", nb.ID, nb.Name, nb.WorkGroup, err)
	}
	return nil
}

func (t *tx) DeleteNotebook(id string) error {
	return t.delete("notebook", id, "DELETE FROM notebooks WHERE id = ?", id)
}

// ListNotebooks returns notebooks without their Payload (GetNotebook has it).
func (t *tx) ListNotebooks(workGroup, nameContains string, after athena.Cursor, limit int) ([]*athena.Notebook, error) {
	conds := []string{"workgroup = ?"}
	args := []any{workGroup}
	if nameContains != "" {
		conds = append(conds, "instr(name, ?) > 0")
		args = append(args, nameContains)
	}
	if after.Key != "" || after.ID != "" {
		conds = append(conds, "(name, id) > (?, ?)")
		args = append(args, after.Key, after.ID)
	}
	args = append(args, sqlLimit(limit))
	return listRecords(t, "notebooks",
		"SELECT data FROM notebooks"+whereClause(conds)+" ORDER BY name, id LIMIT ?",
		args, func(r *notebookRecord) *athena.Notebook { return r.decode("") })
}

func (t *tx) CountNotebooks(workGroup string) (int, error) {
	var n int
	if err := t.queryRow("SELECT COUNT(*) FROM notebooks WHERE workgroup = ?", workGroup).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite: count notebooks of %q: %w", workGroup, err)
	}
	return n, nil
}

// --- sessions ---

func (t *tx) GetSession(id string) (*athena.Session, error) {
	var rec sessionRecord
	if err := t.getRecord(&rec, "session", id, "SELECT data FROM sessions WHERE id = ?", id); err != nil {
		return nil, err
	}
	return rec.decode(), nil
}

func (t *tx) DeleteSession(id string) error {
	if _, err := t.exec("DELETE FROM calculations WHERE session_id = ?", id); err != nil {
		return fmt.Errorf("sqlite: delete calculations of session %q: %w", id, err)
	}
	return t.delete("session", id, "DELETE FROM sessions WHERE id = ?", id)
}

func (t *tx) PutSession(s *athena.Session) error {
	data, err := marshal(encodeSession(s))
	if err != nil {
		return fmt.Errorf("sqlite: encode session %q: %w", s.ID, err)
	}
	if _, err := t.exec(`INSERT INTO sessions (id, workgroup, notebook_id, state, start_time_ns, data)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET workgroup = excluded.workgroup, notebook_id = excluded.notebook_id,
			state = excluded.state, start_time_ns = excluded.start_time_ns, data = excluded.data`,
		s.ID, s.WorkGroup, s.NotebookID, s.State, unixNano(s.StartTime), data); err != nil {
		return fmt.Errorf("sqlite: put session %q: %w", s.ID, err)
	}
	return nil
}

func (t *tx) ListSessions(q athena.SessionQuery) ([]*athena.Session, error) {
	var conds []string
	var args []any
	if q.WorkGroup != "" {
		conds = append(conds, "workgroup = ?")
		args = append(args, q.WorkGroup)
	}
	if q.NotebookID != "" {
		conds = append(conds, "notebook_id = ?")
		args = append(args, q.NotebookID)
	}
	if len(q.States) > 0 {
		c, a := inList("state", q.States)
		conds = append(conds, c)
		args = append(args, a...)
	}
	if !q.Before.At.IsZero() || q.Before.ID != "" {
		conds = append(conds, "(start_time_ns, id) < (?, ?)")
		args = append(args, unixNano(q.Before.At), q.Before.ID)
	}
	args = append(args, sqlLimit(q.Limit))
	return listRecords(t, "sessions",
		"SELECT data FROM sessions"+whereClause(conds)+" ORDER BY start_time_ns DESC, id DESC LIMIT ?",
		args, (*sessionRecord).decode)
}

// --- calculations ---

func (t *tx) GetCalculation(id string) (*athena.Calculation, error) {
	var rec calculationRecord
	if err := t.getRecord(&rec, "calculation", id, "SELECT data FROM calculations WHERE id = ?", id); err != nil {
		return nil, err
	}
	return rec.decode(), nil
}

// PutCalculation inserts or replaces c. A calculation with Seq 0 gets the stored one, or, when
// new, the next of the installation-wide sequence; either way c.Seq is set to it (and reset to
// 0 if the transaction does not commit).
func (t *tx) PutCalculation(c *athena.Calculation) error {
	if c.Seq == 0 {
		var seq int64
		err := t.queryRow("SELECT seq FROM calculations WHERE id = ?", c.ID).Scan(&seq)
		switch {
		case err == nil:
			c.Seq = seq
		case errors.Is(err, sql.ErrNoRows):
			if err := t.tx.QueryRowContext(t.ctx,
				"UPDATE sequences SET value = value + 1 WHERE name = 'calculation' RETURNING value").Scan(&seq); err != nil {
				return fmt.Errorf("sqlite: next calculation sequence: %w", err)
			}
			c.Seq = seq
			t.assigned = append(t.assigned, c)
		default:
			return fmt.Errorf("sqlite: put calculation %q: %w", c.ID, err)
		}
	} else if _, err := t.exec("UPDATE sequences SET value = max(value, ?) WHERE name = 'calculation'", c.Seq); err != nil {
		// keep the sequence ahead of every stored Seq
		return fmt.Errorf("sqlite: put calculation %q: %w", c.ID, err)
	}
	data, err := marshal(encodeCalculation(c))
	if err != nil {
		return fmt.Errorf("sqlite: encode calculation %q: %w", c.ID, err)
	}
	if _, err := t.exec(`INSERT INTO calculations (id, session_id, seq, state, data) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET session_id = excluded.session_id, seq = excluded.seq,
			state = excluded.state, data = excluded.data`,
		c.ID, c.SessionID, c.Seq, c.State, data); err != nil {
		return fmt.Errorf("sqlite: put calculation %q: %w", c.ID, err)
	}
	return nil
}

func (t *tx) ListCalculations(q athena.CalculationQuery) ([]*athena.Calculation, error) {
	var conds []string
	var args []any
	if q.SessionID != "" {
		conds = append(conds, "session_id = ?")
		args = append(args, q.SessionID)
	}
	if len(q.States) > 0 {
		c, a := inList("state", q.States)
		conds = append(conds, c)
		args = append(args, a...)
	}
	if q.Before.Seq > 0 {
		conds = append(conds, "seq < ?")
		args = append(args, q.Before.Seq)
	}
	args = append(args, sqlLimit(q.Limit))
	return listRecords(t, "calculations",
		"SELECT data FROM calculations"+whereClause(conds)+" ORDER BY seq DESC LIMIT ?",
		args, (*calculationRecord).decode)
}

// --- tags ---

// GetTags returns the tags of arn in key order; none is an empty, non-nil slice.
func (t *tx) GetTags(arn string) ([]wire.Tag, error) {
	rows, err := t.query("SELECT key, value FROM tags WHERE arn = ? ORDER BY key", arn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: get tags of %q: %w", arn, err)
	}
	defer rows.Close()
	tags := []wire.Tag{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, fmt.Errorf("sqlite: get tags of %q: %w", arn, err)
		}
		tags = append(tags, wire.Tag{Key: &k, Value: &v})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: get tags of %q: %w", arn, err)
	}
	return tags, nil
}

// PutTags replaces all tags of arn with tags (a later duplicate key wins; a nil Value is "").
func (t *tx) PutTags(arn string, tags []wire.Tag) error {
	if err := t.DeleteTags(arn); err != nil {
		return err
	}
	for _, tag := range tags {
		if tag.Key == nil {
			return fmt.Errorf("sqlite: put tags of %q: a tag has no key", arn)
		}
		value := ""
		if tag.Value != nil {
			value = *tag.Value
		}
		if _, err := t.exec(`INSERT INTO tags (arn, key, value) VALUES (?, ?, ?)
			ON CONFLICT (arn, key) DO UPDATE SET value = excluded.value`, arn, *tag.Key, value); err != nil {
			return fmt.Errorf("sqlite: put tags of %q: %w", arn, err)
		}
	}
	return nil
}

// DeleteTags deletes every tag of arn; none is not an error.
func (t *tx) DeleteTags(arn string) error {
	if _, err := t.exec("DELETE FROM tags WHERE arn = ?", arn); err != nil {
		return fmt.Errorf("sqlite: delete tags of %q: %w", arn, err)
	}
	return nil
}

// --- idempotency ---

func (t *tx) GetIdempotency(op, token string) (*athena.Idempotency, error) {
	var rec idempotencyRecord
	if err := t.getRecord(&rec, "idempotency record", op+"/"+token,
		"SELECT data FROM idempotency WHERE op = ? AND token = ?", op, token); err != nil {
		return nil, err
	}
	return rec.decode(), nil
}

func (t *tx) PutIdempotency(rec *athena.Idempotency) error {
	data, err := marshal(encodeIdempotency(rec))
	if err != nil {
		return fmt.Errorf("sqlite: encode idempotency record: %w", err)
	}
	if _, err := t.exec(`INSERT INTO idempotency (op, token, data) VALUES (?, ?, ?)
		ON CONFLICT (op, token) DO UPDATE SET data = excluded.data`, rec.Op, rec.Token, data); err != nil {
		return fmt.Errorf("sqlite: put idempotency record %q/%q: %w", rec.Op, rec.Token, err)
	}
	return nil
}
