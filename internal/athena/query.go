// Athena SQL (StartQueryExecution and friends) for clients such as dbt-athena that run DDL
// through it: each statement runs with spark.sql in the system session (system.go), on the
// shared catalog. The dialect is Spark SQL, not Athena's Trino (docs/dbt.md).
package athena

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/base64"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"glaux/internal/wire"
)

// systemSQL is the system session's Python helper for one statement.
//
//go:embed system_sql.py
var systemSQL string

const (
	// maxResultRows bounds what a statement may return: results are kept in glaux's memory.
	maxResultRows = 100000
	// maxQueryExecutions bounds the finished statements remembered (oldest forgotten first).
	maxQueryExecutions = 1000
	queryPageSize      = 1000
)

// queryExecutions are the statements since glaux started (they are not persisted).
type queryExecutions struct {
	mu    sync.Mutex
	byID  map[string]*queryExecution
	order []string
}

type queryExecution struct {
	id, query, workGroup, database, catalog, outputLocation, statementType string
	submitted                                                              time.Time
	cancel                                                                 context.CancelFunc

	// set as it runs, under queryExecutions.mu
	state, reason      string
	started, completed time.Time
	columns            []sqlColumn
	rows               [][]*string
	stopRequested      bool
	engineMillis       int64
	userError          bool
}

type sqlColumn struct {
	Name     string `json:"name"`
	Type     string `json:"type"`
	Nullable bool   `json:"nullable"`
}

type sqlResult struct {
	Columns []sqlColumn `json:"columns"`
	Rows    [][]*string `json:"rows"`
}

// StartQueryExecution runs one SQL statement in the system session.
func (s *Service) StartQueryExecution(ctx context.Context, in *wire.StartQueryExecutionInput) (*wire.StartQueryExecutionOutput, error) {
	if !s.SharedCatalog() {
		return nil, ErrNoSharedCatalog
	}
	q := strings.TrimSpace(deref(in.QueryString))
	if q == "" {
		return nil, invalid("QueryString must not be empty.")
	}
	if len(in.ExecutionParameters) > 0 {
		return nil, invalid("ExecutionParameters are not supported by glaux: put the values in the statement.")
	}
	wgName := firstNonEmpty(deref(in.WorkGroup), PrimaryWorkGroup)
	var wg *WorkGroup
	if err := s.store.View(ctx, func(tx Tx) (err error) { wg, err = loadWorkGroup(tx, wgName); return err }); err != nil {
		return nil, err
	}
	if wg.State != wire.WorkGroupStateEnabled {
		return nil, invalid("WorkGroup %s is disabled.", wgName)
	}
	if effectiveEngine(wg) == sparkEngineVersion {
		return nil, invalid("WorkGroup %s is a Spark workgroup: run SQL there with spark.sql in a calculation.", wgName)
	}
	qe := &queryExecution{id: s.newID(), query: q, workGroup: wgName, submitted: s.now(), state: wire.QueryExecutionStateQueued, statementType: statementType(q)}
	if c := in.QueryExecutionContext; c != nil {
		qe.database, qe.catalog = deref(c.Database), deref(c.Catalog)
		if qe.catalog != "" && !strings.EqualFold(qe.catalog, "AwsDataCatalog") {
			return nil, invalid("Catalog %s is not found: glaux has one catalog, AwsDataCatalog.", qe.catalog)
		}
	}
	loc := s.outputLocation(wg)
	enforced := wg.Configuration.EnforceWorkGroupConfiguration == nil || *wg.Configuration.EnforceWorkGroupConfiguration
	if rc := in.ResultConfiguration; rc != nil && rc.OutputLocation != nil && *rc.OutputLocation != "" && !(enforced && hasOutputLocation(wg)) {
		loc = *rc.OutputLocation
	}
	if !strings.HasPrefix(loc, "s3://") {
		return nil, invalid("OutputLocation %s is not an s3:// URI.", loc)
	}
	if !strings.HasSuffix(loc, "/") {
		loc += "/"
	}
	qe.outputLocation = loc + qe.id + resultSuffix(qe.statementType)
	runCtx, cancel := context.WithCancel(context.Background())
	qe.cancel = cancel
	s.queries.add(qe)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer cancel()
		s.runQuery(runCtx, qe)
	}()
	return &wire.StartQueryExecutionOutput{QueryExecutionId: &qe.id}, nil
}

func hasOutputLocation(wg *WorkGroup) bool {
	rc := wg.Configuration.ResultConfiguration
	return rc != nil && rc.OutputLocation != nil && *rc.OutputLocation != ""
}

// runQuery runs qe and records how it ended.
func (s *Service) runQuery(ctx context.Context, qe *queryExecution) {
	code := fmt.Sprintf("%s\n_glaux_sql(%q, %q, %d)\n", systemSQL,
		base64.StdEncoding.EncodeToString([]byte(qe.query)), base64.StdEncoding.EncodeToString([]byte(qe.database)), maxResultRows)
	var res sqlResult
	// QUEUED until the system session takes it (one statement or catalog call at a time).
	err := s.runSystemJSON(ctx, code, &res, func() {
		s.queries.update(qe, func() { qe.state, qe.started = wire.QueryExecutionStateRunning, s.now() })
	})
	if err == nil && len(res.Rows) > maxResultRows {
		err = &SystemError{EName: "ResultTooLarge", EValue: fmt.Sprintf("the statement returned more than %d rows, the most glaux keeps", maxResultRows)}
	}
	if err == nil {
		err = s.objects.Put(context.Background(), qe.outputLocation, bytes.NewReader(resultCSV(qe.statementType, res)))
	}
	s.queries.update(qe, func() {
		qe.completed = s.now()
		if qe.started.IsZero() { // it never ran (stopped, or the session could not start)
			qe.started = qe.completed
		}
		qe.engineMillis = qe.completed.Sub(qe.started).Milliseconds()
		se, isUser := err.(*SystemError)
		switch {
		case qe.stopRequested:
			qe.state, qe.reason = wire.QueryExecutionStateCancelled, "Query was cancelled by user"
		case err == nil:
			qe.state, qe.columns, qe.rows = wire.QueryExecutionStateSucceeded, res.Columns, res.Rows
		case isUser:
			qe.state, qe.reason, qe.userError = wire.QueryExecutionStateFailed, truncate(se.Error(), 4096), true
		default:
			s.log.Error("query execution failed", "query_execution", qe.id, "err", err)
			qe.state, qe.reason = wire.QueryExecutionStateFailed, "glaux could not run the statement: "+truncate(err.Error(), 4000)
		}
	})
	s.log.Info("query execution finished", "query_execution", qe.id, "state", qe.state)
}

// GetQueryExecution describes a statement.
func (s *Service) GetQueryExecution(ctx context.Context, in *wire.GetQueryExecutionInput) (*wire.GetQueryExecutionOutput, error) {
	qe, err := s.queries.get(deref(in.QueryExecutionId))
	if err != nil {
		return nil, err
	}
	s.queries.mu.Lock()
	defer s.queries.mu.Unlock()
	out := &wire.QueryExecution{
		QueryExecutionId:    &qe.id,
		Query:               &qe.query,
		StatementType:       &qe.statementType,
		WorkGroup:           &qe.workGroup,
		ResultConfiguration: &wire.ResultConfiguration{OutputLocation: refOf(qe.outputLocation)},
		Status: &wire.QueryExecutionStatus{
			State:              refOf(qe.state),
			SubmissionDateTime: &wire.Time{Time: qe.submitted},
		},
		Statistics: &wire.QueryExecutionStatistics{DataScannedInBytes: refOf(int64(0))},
	}
	if qe.database != "" || qe.catalog != "" {
		out.QueryExecutionContext = &wire.QueryExecutionContext{Database: nonEmpty(qe.database), Catalog: nonEmpty(qe.catalog)}
	}
	if !qe.started.IsZero() {
		out.Statistics.QueryQueueTimeInMillis = refOf(qe.started.Sub(qe.submitted).Milliseconds())
	}
	if !qe.completed.IsZero() {
		out.Status.CompletionDateTime = &wire.Time{Time: qe.completed}
		out.Statistics.EngineExecutionTimeInMillis = refOf(qe.engineMillis)
		out.Statistics.TotalExecutionTimeInMillis = refOf(qe.completed.Sub(qe.submitted).Milliseconds())
	}
	if qe.reason != "" {
		out.Status.StateChangeReason = refOf(qe.reason)
	}
	if qe.state == wire.QueryExecutionStateFailed {
		// Athena's categories: 1 system, 2 user; types 1000s are user errors (syntax, not found).
		cat, typ := int32(1), int32(401)
		if qe.userError {
			cat, typ = 2, 1000
		}
		out.Status.AthenaError = &wire.AthenaError{ErrorCategory: &cat, ErrorType: &typ, ErrorMessage: refOf(qe.reason), Retryable: refOf(false)}
	}
	return &wire.GetQueryExecutionOutput{QueryExecution: out}, nil
}

// GetQueryResults pages through a finished statement's rows; a DML statement's first row is
// its column names, as in Athena.
func (s *Service) GetQueryResults(ctx context.Context, in *wire.GetQueryResultsInput) (*wire.GetQueryResultsOutput, error) {
	qe, err := s.queries.get(deref(in.QueryExecutionId))
	if err != nil {
		return nil, err
	}
	if t := deref(in.QueryResultType); t != "" && t != "DATA_ROWS" {
		return nil, invalid("QueryResultType %s is not supported by glaux.", t)
	}
	size := queryPageSize
	if in.MaxResults != nil {
		size = int(*in.MaxResults)
	}
	offset := 0
	if tok := deref(in.NextToken); tok != "" {
		b, err := base64.RawURLEncoding.DecodeString(tok)
		n, convErr := strconv.Atoi(string(b))
		if err != nil || convErr != nil || n < 1 || !strings.HasPrefix(string(b), strconv.Itoa(n)) {
			return nil, invalid("NextToken is not valid.")
		}
		offset = n
	}
	s.queries.mu.Lock()
	defer s.queries.mu.Unlock()
	switch qe.state {
	case wire.QueryExecutionStateSucceeded:
	case wire.QueryExecutionStateQueued, wire.QueryExecutionStateRunning:
		return nil, invalid("Query has not yet finished. Current state: %s", qe.state)
	default:
		return nil, invalid("Query did not finish successfully. Final query state: %s", qe.state)
	}
	rows := make([]wire.Row, 0, len(qe.rows)+1)
	if qe.statementType == "DML" {
		header := make([]wire.Datum, len(qe.columns))
		for i, c := range qe.columns {
			header[i] = wire.Datum{VarCharValue: refOf(c.Name)}
		}
		rows = append(rows, wire.Row{Data: header})
	}
	for _, r := range qe.rows {
		data := make([]wire.Datum, len(r))
		for i, v := range r {
			data[i] = wire.Datum{VarCharValue: v}
		}
		rows = append(rows, wire.Row{Data: data})
	}
	if offset > len(rows) {
		return nil, invalid("NextToken is not valid.")
	}
	end := min(len(rows), offset+size)
	out := &wire.GetQueryResultsOutput{
		ResultSet:   &wire.ResultSet{Rows: rows[offset:end], ResultSetMetadata: &wire.ResultSetMetadata{ColumnInfo: columnInfo(qe.columns)}},
		UpdateCount: refOf(int64(0)),
	}
	if end < len(rows) {
		out.NextToken = refOf(base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(end))))
	}
	return out, nil
}

// StopQueryExecution cancels a queued or running statement; a finished one stays as it is.
func (s *Service) StopQueryExecution(ctx context.Context, in *wire.StopQueryExecutionInput) (*wire.StopQueryExecutionOutput, error) {
	qe, err := s.queries.get(deref(in.QueryExecutionId))
	if err != nil {
		return nil, err
	}
	s.queries.mu.Lock()
	running := qe.state == wire.QueryExecutionStateQueued || qe.state == wire.QueryExecutionStateRunning
	if running {
		qe.stopRequested = true
	}
	s.queries.mu.Unlock()
	if running {
		qe.cancel()
	}
	return &wire.StopQueryExecutionOutput{}, nil
}

var decimalType = regexp.MustCompile(`^decimal\((\d+),(\d+)\)$`)

// columnInfo maps Spark's type names to Athena's.
func columnInfo(cols []sqlColumn) []wire.ColumnInfo {
	out := make([]wire.ColumnInfo, len(cols))
	for i, c := range cols {
		typ, prec, scale := c.Type, int32(0), int32(0)
		switch {
		case c.Type == "string" || strings.HasPrefix(c.Type, "varchar") || strings.HasPrefix(c.Type, "char"):
			typ, prec = "varchar", 2147483647
		case c.Type == "int":
			typ, prec = "integer", 10
		case c.Type == "bigint":
			prec = 19
		case c.Type == "smallint":
			prec = 5
		case c.Type == "tinyint":
			prec = 3
		case c.Type == "double":
			prec = 17
		case c.Type == "float":
			prec = 24
		case c.Type == "binary":
			typ = "varbinary"
		case strings.HasPrefix(c.Type, "timestamp"):
			typ, prec, scale = "timestamp", 3, 3
		case strings.HasPrefix(c.Type, "array<"):
			typ = "array"
		case strings.HasPrefix(c.Type, "map<"):
			typ = "map"
		case strings.HasPrefix(c.Type, "struct<"):
			typ = "row"
		case decimalType.MatchString(c.Type):
			m := decimalType.FindStringSubmatch(c.Type)
			p, _ := strconv.Atoi(m[1])
			sc, _ := strconv.Atoi(m[2])
			typ, prec, scale = "decimal", int32(p), int32(sc)
		}
		nullable := wire.ColumnNullableNotNull
		if c.Nullable {
			nullable = wire.ColumnNullableNullable
		}
		out[i] = wire.ColumnInfo{
			CatalogName: refOf("hive"), SchemaName: refOf(""), TableName: refOf(""),
			Name: refOf(c.Name), Label: refOf(c.Name), Type: refOf(typ),
			Precision: refOf(prec), Scale: refOf(scale), Nullable: refOf(nullable),
			CaseSensitive: refOf(typ == "varchar"),
		}
	}
	return out
}

// statementType is Athena's StatementType of a statement: DML for queries and writes,
// UTILITY for DESCRIBE/SHOW/EXPLAIN, DDL for the rest.
func statementType(q string) string {
	q = strings.TrimSpace(q)
	for strings.HasPrefix(q, "--") || strings.HasPrefix(q, "/*") || strings.HasPrefix(q, "(") {
		switch {
		case strings.HasPrefix(q, "--"):
			if i := strings.IndexByte(q, '\n'); i >= 0 {
				q = strings.TrimSpace(q[i+1:])
			} else {
				q = ""
			}
		case strings.HasPrefix(q, "/*"):
			if i := strings.Index(q, "*/"); i >= 0 {
				q = strings.TrimSpace(q[i+2:])
			} else {
				q = ""
			}
		default:
			q = strings.TrimSpace(q[1:])
		}
	}
	words := strings.FieldsFunc(q, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') })
	if len(words) == 0 {
		return "DDL"
	}
	switch strings.ToUpper(words[0]) {
	case "SELECT", "WITH", "VALUES", "TABLE", "INSERT", "UPDATE", "DELETE", "MERGE", "FROM":
		return "DML"
	case "DESCRIBE", "DESC", "SHOW", "EXPLAIN":
		return "UTILITY"
	}
	return "DDL"
}

// resultSuffix is the result object's extension: Athena writes a query's rows as CSV and a
// DDL statement's output as text.
func resultSuffix(statementType string) string {
	if statementType == "DML" {
		return ".csv"
	}
	return ".txt"
}

// resultCSV is the result object: for DML, CSV with a header and every value quoted (an
// empty unquoted field is NULL), as Athena writes it; otherwise one line per row, values
// separated by tabs.
func resultCSV(statementType string, res sqlResult) []byte {
	var b bytes.Buffer
	if statementType != "DML" {
		for _, r := range res.Rows {
			for i, v := range r {
				if i > 0 {
					b.WriteByte('\t')
				}
				if v != nil {
					b.WriteString(*v)
				}
			}
			b.WriteByte('\n')
		}
		return b.Bytes()
	}
	quote := func(v string) string { return `"` + strings.ReplaceAll(v, `"`, `""`) + `"` }
	for i, c := range res.Columns {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(quote(c.Name))
	}
	b.WriteByte('\n')
	for _, r := range res.Rows {
		for i, v := range r {
			if i > 0 {
				b.WriteByte(',')
			}
			if v != nil {
				b.WriteString(quote(*v))
			}
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}

func (q *queryExecutions) add(qe *queryExecution) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.byID == nil {
		q.byID = map[string]*queryExecution{}
	}
	q.byID[qe.id] = qe
	q.order = append(q.order, qe.id)
	// Forget the oldest finished statements beyond the bound.
	for i := 0; len(q.byID) > maxQueryExecutions && i < len(q.order); {
		old := q.byID[q.order[i]]
		if old.state == wire.QueryExecutionStateQueued || old.state == wire.QueryExecutionStateRunning {
			i++
			continue
		}
		delete(q.byID, old.id)
		q.order = append(q.order[:i], q.order[i+1:]...)
	}
}

func (q *queryExecutions) get(id string) (*queryExecution, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	qe, ok := q.byID[id]
	if !ok {
		return nil, invalid("QUERY_NOT_FOUND: Query %s was not found (glaux keeps statements since it started).", id)
	}
	return qe, nil
}

func (q *queryExecutions) update(qe *queryExecution, fn func()) {
	q.mu.Lock()
	defer q.mu.Unlock()
	fn()
}
