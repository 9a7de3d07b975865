package main

// dbt-athena against glaux (docs/dbt.md): the Glue catalog operations and Athena SQL that
// glaux's system session answers from the shared catalog, driven by aws-sdk-go-v2, and the
// released dbt-athena running a project of two Python models, the second a ref of the first,
// twice. Data in versitygw (s3:// table locations need a real S3 store), one server for all.

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/aws-sdk-go-v2/service/athena/types"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	gluetypes "github.com/aws/aws-sdk-go-v2/service/glue/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"glaux/internal/objects"
	"glaux/internal/testenv"
)

// dbtServer is one glaux with objects in versitygw, for the dbt tests.
type dbtServer struct {
	*testServer
	s3url string
	store *objects.S3
	glue  *glue.Client
}

func startDBTServer(t *testing.T) *dbtServer {
	testPython(t)
	testenv.Need(t, testenv.S3)
	cache := defaultCacheDir()
	bin := os.Getenv("GLAUX_VERSITYGW")
	if bin == "" {
		bin = filepath.Join(cache, "bin", "versitygw")
	}
	if _, err := os.Stat(bin); err != nil {
		testenv.Missing(t, testenv.S3, "%s is missing: run scripts/cluster-deps.sh", bin)
	}
	jars := filepath.Join(cache, "jars")
	if list, _ := objects.S3AJars(jars); len(list) < 2 {
		testenv.Missing(t, testenv.S3, "no S3A jars in %s: run scripts/cluster-deps.sh", jars)
	}
	// dbt signs every service with the profile's key: the store takes glaux's test/test.
	s3url := startVersity(t, bin, "test", "test")
	store, err := objects.NewS3(objects.S3Config{Endpoint: s3url, Region: "us-east-1", PathStyle: true, AccessKey: "test", SecretKey: "test"})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []string{"glaux-results", "results"} { // the server's, and createSparkWorkGroup's
		if err := store.EnsureBucket(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	cfg := catalogConfig(t, "")
	cfg.Objects, cfg.S3Endpoint, cfg.S3Region, cfg.S3PathStyle = "s3", s3url, "us-east-1", true
	cfg.S3AccessKey, cfg.S3SecretKey, cfg.S3AJars = "test", "test", jars
	s := startServer(t, cfg)
	return &dbtServer{testServer: s, s3url: s3url, store: store, glue: glue.New(glue.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(s.Endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		Retryer:     connectionRetryer(), HTTPClient: tracedHTTPClient(),
	})}
}

// TestDBT: one server (its system session and catalog) for the Glue and SQL operations, then
// the released dbt-athena.
func TestDBT(t *testing.T) {
	s := startDBTServer(t)
	t.Run("GlueAndQueries", func(t *testing.T) { testGlueAndQueries(t, s) })
	t.Run("Run", func(t *testing.T) { testDBTRun(t, s) })
}

func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// runQuery runs one statement on the primary workgroup and waits for its end.
func runQuery(t *testing.T, c *athena.Client, q string) *types.QueryExecution {
	t.Helper()
	ctx := context.Background()
	out, err := c.StartQueryExecution(ctx, &athena.StartQueryExecutionInput{QueryString: aws.String(q), WorkGroup: aws.String("primary")})
	if err != nil {
		t.Fatalf("StartQueryExecution %q: %v", q, err)
	}
	return waitQuery(t, c, *out.QueryExecutionId)
}

func waitQuery(t *testing.T, c *athena.Client, id string) *types.QueryExecution {
	t.Helper()
	deadline := time.Now().Add(4 * time.Minute)
	for {
		got, err := c.GetQueryExecution(context.Background(), &athena.GetQueryExecutionInput{QueryExecutionId: aws.String(id)})
		if err != nil {
			t.Fatalf("GetQueryExecution: %v", err)
		}
		switch got.QueryExecution.Status.State {
		case types.QueryExecutionStateSucceeded, types.QueryExecutionStateFailed, types.QueryExecutionStateCancelled:
			return got.QueryExecution
		}
		if time.Now().After(deadline) {
			t.Fatalf("query %s still %s", id, got.QueryExecution.Status.State)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func testGlueAndQueries(t *testing.T, s *dbtServer) {
	ctx := context.Background()
	c, g := s.Client, s.glue

	// STS: the account of the one catalog.
	st := sts.New(sts.Options{Region: "us-east-1", BaseEndpoint: aws.String(s.Endpoint), Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
	id, err := st.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(id.Account) != "123456789012" || aws.ToString(id.Arn) != "arn:aws:iam::123456789012:user/test" {
		t.Fatalf("GetCallerIdentity: %+v, %v", id, err)
	}

	// Databases.
	_, err = g.GetDatabase(ctx, &glue.GetDatabaseInput{Name: aws.String("gluetest")})
	var nf *gluetypes.EntityNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("GetDatabase of a missing database: %v; want EntityNotFoundException", err)
	}
	if _, err := g.CreateDatabase(ctx, &glue.CreateDatabaseInput{DatabaseInput: &gluetypes.DatabaseInput{Name: aws.String("GlueTest"), Description: aws.String("it's a test")}}); err != nil {
		t.Fatalf("CreateDatabase: %v", err)
	}
	var exists *gluetypes.AlreadyExistsException
	if _, err := g.CreateDatabase(ctx, &glue.CreateDatabaseInput{DatabaseInput: &gluetypes.DatabaseInput{Name: aws.String("gluetest")}}); !errors.As(err, &exists) {
		t.Errorf("CreateDatabase again: %v; want AlreadyExistsException", err)
	}
	db, err := g.GetDatabase(ctx, &glue.GetDatabaseInput{Name: aws.String("gluetest"), CatalogId: aws.String("123456789012")})
	if err != nil || aws.ToString(db.Database.Name) != "gluetest" || aws.ToString(db.Database.Description) != "it's a test" || !strings.HasPrefix(aws.ToString(db.Database.LocationUri), "s3a://glaux-results/warehouse/") {
		t.Fatalf("GetDatabase: %v; %s %q %s", err, aws.ToString(db.Database.Name), aws.ToString(db.Database.Description), aws.ToString(db.Database.LocationUri))
	}
	var bad *gluetypes.InvalidInputException
	for name, call := range map[string]func() error{
		"GetDatabase with an empty name": func() error {
			_, err := g.GetDatabase(ctx, &glue.GetDatabaseInput{Name: aws.String("")})
			return err
		},
		"GetDatabases with MaxResults 0": func() error {
			_, err := g.GetDatabases(ctx, &glue.GetDatabasesInput{MaxResults: aws.Int32(0)})
			return err
		},
		"GetTables with a bad token": func() error {
			_, err := g.GetTables(ctx, &glue.GetTablesInput{DatabaseName: aws.String("gluetest"), NextToken: aws.String("%%")})
			return err
		},
	} {
		if err := call(); !errors.As(err, &bad) {
			t.Errorf("%s: %v; want InvalidInputException", name, err)
		}
	}
	if _, err := g.GetDatabase(ctx, &glue.GetDatabaseInput{Name: aws.String("gluetest"), CatalogId: aws.String("999999999999")}); !errors.As(err, &nf) {
		t.Errorf("GetDatabase in another catalog: %v; want EntityNotFoundException", err)
	}
	dbs, err := g.GetDatabases(ctx, &glue.GetDatabasesInput{MaxResults: aws.Int32(1)})
	if err != nil || len(dbs.DatabaseList) != 1 || dbs.NextToken == nil {
		t.Fatalf("GetDatabases page 1: %+v, %v", dbs, err)
	}
	var names []string
	p := glue.NewGetDatabasesPaginator(g, &glue.GetDatabasesInput{MaxResults: aws.Int32(1)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range page.DatabaseList {
			names = append(names, *d.Name)
		}
	}
	if !contains(names, "default") || !contains(names, "gluetest") {
		t.Errorf("GetDatabases: %v; want default and gluetest", names)
	}

	// SQL: DDL, a write and a query, in Spark SQL.
	for _, q := range []string{
		"CREATE TABLE gluetest.t (id INT, name STRING, d DECIMAL(10,2)) USING parquet PARTITIONED BY (name)",
		"INSERT INTO gluetest.t VALUES (1, 1.50, 'a'), (2, NULL, 'b'), (3, 3.25, 'c\"q')",
	} {
		if qe := runQuery(t, c, q); qe.Status.State != types.QueryExecutionStateSucceeded {
			t.Fatalf("%s: %s %s", q, qe.Status.State, aws.ToString(qe.Status.StateChangeReason))
		}
	}
	qe := runQuery(t, c, "SELECT id, d, name FROM gluetest.t ORDER BY id")
	if qe.Status.State != types.QueryExecutionStateSucceeded || qe.StatementType != types.StatementTypeDml {
		t.Fatalf("SELECT: %+v", qe.Status)
	}
	var rows [][]string
	var next *string
	for page := 0; ; page++ {
		res, err := c.GetQueryResults(ctx, &athena.GetQueryResultsInput{QueryExecutionId: qe.QueryExecutionId, MaxResults: aws.Int32(3), NextToken: next})
		if err != nil {
			t.Fatalf("GetQueryResults: %v", err)
		}
		if page == 0 {
			var types []string
			for _, ci := range res.ResultSet.ResultSetMetadata.ColumnInfo {
				types = append(types, aws.ToString(ci.Name)+":"+aws.ToString(ci.Type))
			}
			if got := strings.Join(types, ","); got != "id:integer,d:decimal,name:varchar" {
				t.Errorf("ColumnInfo: %s", got)
			}
		}
		for _, r := range res.ResultSet.Rows {
			var row []string
			for _, d := range r.Data {
				row = append(row, aws.ToString(d.VarCharValue)+map[bool]string{true: "", false: "<null>"}[d.VarCharValue != nil])
			}
			rows = append(rows, row)
		}
		if next = res.NextToken; next == nil {
			break
		}
	}
	want := [][]string{{"id", "d", "name"}, {"1", "1.50", "a"}, {"2", "<null>", "b"}, {"3", "3.25", `c"q`}}
	if strings.Join(flat(rows), "|") != strings.Join(flat(want), "|") {
		t.Errorf("rows (pages of 3): %q; want %q", rows, want)
	}
	// Athena's result object: CSV, every value quoted, NULL empty.
	out := aws.ToString(qe.ResultConfiguration.OutputLocation)
	if want := "s3://glaux-results/" + aws.ToString(qe.QueryExecutionId) + ".csv"; out != want {
		t.Errorf("OutputLocation %s; want %s", out, want)
	}
	if body := readStoreObject(t, s.store, out); body != "\"id\",\"d\",\"name\"\n\"1\",\"1.50\",\"a\"\n\"2\",,\"b\"\n\"3\",\"3.25\",\"c\"\"q\"\n" {
		t.Errorf("result CSV:\n%s", body)
	}

	// A statement Spark cannot parse fails as a user error; its results cannot be read.
	failed := runQuery(t, c, "SELEC 1")
	if failed.Status.State != types.QueryExecutionStateFailed || !strings.Contains(aws.ToString(failed.Status.StateChangeReason), "PARSE_SYNTAX_ERROR") ||
		failed.Status.AthenaError == nil || aws.ToInt32(failed.Status.AthenaError.ErrorCategory) != 2 {
		t.Errorf("bad SQL: %+v", failed.Status)
	}
	var ire *types.InvalidRequestException
	if _, err := c.GetQueryResults(ctx, &athena.GetQueryResultsInput{QueryExecutionId: failed.QueryExecutionId}); !errors.As(err, &ire) {
		t.Errorf("GetQueryResults of a failed query: %v", err)
	}
	if _, err := c.GetQueryExecution(ctx, &athena.GetQueryExecutionInput{QueryExecutionId: aws.String("00000000-0000-4000-8000-000000000000")}); !errors.As(err, &ire) {
		t.Errorf("GetQueryExecution of an unknown id: %v", err)
	}
	createSparkWorkGroup(t, c, "sqlonspark")
	if _, err := c.StartQueryExecution(ctx, &athena.StartQueryExecutionInput{QueryString: aws.String("SELECT 1"), WorkGroup: aws.String("sqlonspark")}); !errors.As(err, &ire) {
		t.Errorf("SQL on a Spark workgroup: %v", err)
	}
	if _, err := c.StartQueryExecution(ctx, &athena.StartQueryExecutionInput{QueryString: aws.String("SELECT 1"), QueryExecutionContext: &types.QueryExecutionContext{Catalog: aws.String("other")}}); !errors.As(err, &ire) {
		t.Errorf("SQL on another catalog: %v", err)
	}

	// A long statement is stopped; the system session goes on.
	long, err := c.StartQueryExecution(ctx, &athena.StartQueryExecutionInput{QueryString: aws.String("SELECT count(*) FROM range(1000000000000)")})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the long query to run", time.Minute, func() bool {
		got, err := c.GetQueryExecution(ctx, &athena.GetQueryExecutionInput{QueryExecutionId: long.QueryExecutionId})
		return err == nil && got.QueryExecution.Status.State == types.QueryExecutionStateRunning
	})
	time.Sleep(time.Second) // its Spark job under way
	if _, err := c.StopQueryExecution(ctx, &athena.StopQueryExecutionInput{QueryExecutionId: long.QueryExecutionId}); err != nil {
		t.Fatal(err)
	}
	if got := waitQuery(t, c, *long.QueryExecutionId); got.Status.State != types.QueryExecutionStateCancelled {
		t.Errorf("stopped query: %+v", got.Status)
	}

	// Tables, as the statements made them.
	tbl, err := g.GetTable(ctx, &glue.GetTableInput{DatabaseName: aws.String("gluetest"), Name: aws.String("T")})
	if err != nil {
		t.Fatalf("GetTable: %v", err)
	}
	tb := tbl.Table
	var cols, keys []string
	for _, col := range tb.StorageDescriptor.Columns {
		cols = append(cols, *col.Name+":"+*col.Type)
	}
	for _, col := range tb.PartitionKeys {
		keys = append(keys, *col.Name+":"+*col.Type)
	}
	if aws.ToString(tb.TableType) != "MANAGED_TABLE" || strings.Join(cols, ",") != "id:int,d:decimal(10,2)" || strings.Join(keys, ",") != "name:string" ||
		aws.ToString(tb.StorageDescriptor.Location) != "s3a://glaux-results/warehouse/gluetest.db/t" || tb.Parameters["spark.sql.sources.provider"] != "parquet" {
		t.Errorf("GetTable: type %s, columns %v, partition keys %v, location %s, parameters %v", aws.ToString(tb.TableType), cols, keys, aws.ToString(tb.StorageDescriptor.Location), tb.Parameters)
	}
	if _, err := g.GetTable(ctx, &glue.GetTableInput{DatabaseName: aws.String("gluetest"), Name: aws.String("nope")}); !errors.As(err, &nf) {
		t.Errorf("GetTable of a missing table: %v", err)
	}
	if _, err := g.GetTables(ctx, &glue.GetTablesInput{DatabaseName: aws.String("nodb")}); !errors.As(err, &nf) {
		t.Errorf("GetTables of a missing database: %v", err)
	}
	if qe := runQuery(t, c, "CREATE VIEW gluetest.v AS SELECT id FROM gluetest.t"); qe.Status.State != types.QueryExecutionStateSucceeded {
		t.Fatalf("CREATE VIEW: %s", aws.ToString(qe.Status.StateChangeReason))
	}
	tables, err := g.GetTables(ctx, &glue.GetTablesInput{DatabaseName: aws.String("gluetest")})
	if err != nil || len(tables.TableList) != 2 || aws.ToString(tables.TableList[1].TableType) != "VIRTUAL_VIEW" || !strings.Contains(aws.ToString(tables.TableList[1].ViewOriginalText), "SELECT id") {
		t.Fatalf("GetTables: %+v, %v", tables, err)
	}
	if only, err := g.GetTables(ctx, &glue.GetTablesInput{DatabaseName: aws.String("gluetest"), Expression: aws.String("v.*")}); err != nil || len(only.TableList) != 1 {
		t.Errorf("GetTables with Expression: %+v, %v", only, err)
	}
	if _, err := g.DeleteTable(ctx, &glue.DeleteTableInput{DatabaseName: aws.String("gluetest"), Name: aws.String("v")}); err != nil {
		t.Fatalf("DeleteTable of a view: %v", err)
	}
	if _, err := g.DeleteTable(ctx, &glue.DeleteTableInput{DatabaseName: aws.String("gluetest"), Name: aws.String("v")}); !errors.As(err, &nf) {
		t.Errorf("DeleteTable again: %v", err)
	}
	// What Glue changed, SQL sees: SHOW TABLES is a utility statement, its rows without header.
	show := runQuery(t, c, "SHOW TABLES IN gluetest")
	res, err := c.GetQueryResults(ctx, &athena.GetQueryResultsInput{QueryExecutionId: show.QueryExecutionId})
	if err != nil || show.StatementType != types.StatementTypeUtility || len(res.ResultSet.Rows) != 1 || aws.ToString(res.ResultSet.Rows[0].Data[1].VarCharValue) != "t" {
		t.Errorf("SHOW TABLES after DeleteTable: %+v, %v", res, err)
	}
	if _, err := g.DeleteDatabase(ctx, &glue.DeleteDatabaseInput{Name: aws.String("gluetest")}); err != nil {
		t.Fatalf("DeleteDatabase: %v", err)
	}
	if _, err := g.GetDatabase(ctx, &glue.GetDatabaseInput{Name: aws.String("gluetest")}); !errors.As(err, &nf) {
		t.Errorf("GetDatabase after DeleteDatabase: %v", err)
	}
	// Unserved operations and other services' scopes say so.
	if _, err := g.GetPartitions(ctx, &glue.GetPartitionsInput{DatabaseName: aws.String("default"), TableName: aws.String("x")}); errorCode(err) != "UnknownOperationException" {
		t.Errorf("GetPartitions: %v; want UnknownOperationException", err)
	}
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func flat(rows [][]string) []string {
	var out []string
	for _, r := range rows {
		out = append(out, strings.Join(r, ","))
	}
	return out
}

func readStoreObject(t *testing.T, store *objects.S3, uri string) string {
	t.Helper()
	r, err := store.Get(context.Background(), uri)
	if err != nil {
		t.Fatalf("reading %s: %v", uri, err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

const dbtProject = `name: glaux_smoke
version: "1.0"
profile: glaux
models:
  glaux_smoke:
    +materialized: table
`

const dbtProfiles = `glaux:
  target: dev
  outputs:
    dev:
      type: athena
      s3_staging_dir: s3://glaux-results/dbt/staging/
      s3_data_dir: s3://glaux-results/dbt/data/
      region_name: us-east-1
      database: awsdatacatalog
      schema: smoke
      work_group: primary
      spark_work_group: dbtspark
      threads: 1
      aws_access_key_id: test
      aws_secret_access_key: test
`

const dbtFirst = `def model(dbt, spark):
    dbt.config(materialized="table")
    return spark.createDataFrame([(1, "a"), (2, "b"), (3, "c")], ["id", "name"])
`

const dbtSecond = `def model(dbt, spark):
    dbt.config(materialized="table")
    df = dbt.ref("first")
    return df.filter(df.id > 1)
`

// testDBTRun runs the released dbt-athena against glaux: `dbt run` of two Python models, the
// second a ref of the first, then again (dropping and recreating both), and reads the
// second through a glaux session.
func testDBTRun(t *testing.T, s *dbtServer) {
	testenv.Need(t, testenv.DBT)
	py := os.Getenv("GLAUX_DBT_PYTHON")
	if py == "" {
		testenv.Missing(t, testenv.DBT, "GLAUX_DBT_PYTHON is not set: run with GLAUX_DBT_PYTHON=$(scripts/pyenv.sh python/requirements-dbt.txt) or scripts/test")
	}
	dbtBin := filepath.Join(filepath.Dir(py), "dbt")
	if _, err := os.Stat(dbtBin); err != nil {
		testenv.Missing(t, testenv.DBT, "%s is missing: GLAUX_DBT_PYTHON must be the python of python/requirements-dbt.txt's environment", dbtBin)
	}
	ctx := context.Background()
	createSparkWorkGroup(t, s.Client, "dbtspark")

	proj := t.TempDir()
	for name, body := range map[string]string{"dbt_project.yml": dbtProject, "profiles.yml": dbtProfiles, "models/first.py": dbtFirst, "models/second.py": dbtSecond} {
		os.MkdirAll(filepath.Join(proj, filepath.Dir(name)), 0o755)
		if err := os.WriteFile(filepath.Join(proj, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	location := func(table string) string {
		got, err := s.glue.GetTable(ctx, &glue.GetTableInput{DatabaseName: aws.String("smoke"), Name: aws.String(table)})
		if err != nil {
			t.Fatalf("GetTable smoke.%s: %v", table, err)
		}
		return aws.ToString(got.Table.StorageDescriptor.Location)
	}
	run := func(round int) {
		cmd := exec.Command(dbtBin, "run", "--project-dir", proj, "--profiles-dir", proj)
		cmd.Dir = proj
		// dbt-athena's Spark client ignores the profile's endpoint_url: the AWS variables
		// point every client it makes at glaux, and S3 at the store.
		cmd.Env = append(os.Environ(), "AWS_ENDPOINT_URL="+s.Endpoint, "AWS_ENDPOINT_URL_S3="+s.s3url,
			"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_DEFAULT_REGION=us-east-1",
			"DBT_SEND_ANONYMOUS_USAGE_STATS=false", "DBT_LOG_PATH="+filepath.Join(proj, "logs"))
		start := time.Now()
		out, err := cmd.CombinedOutput()
		t.Logf("dbt run %d took %s", round, time.Since(start).Round(time.Second))
		if err != nil || !strings.Contains(string(out), "PASS=2 WARN=0 ERROR=0") {
			log, _ := os.ReadFile(filepath.Join(proj, "logs", "dbt.log"))
			t.Fatalf("dbt run %d: %v\n%s\n--- dbt.log (end):\n%s", round, err, out, lastLines(string(log), 60))
		}
	}
	run(1)
	first1 := location("first")
	run(2)
	first2 := location("first")
	// The second run dropped the tables (their data too, as dbt does, through S3) and wrote anew.
	if first1 == first2 || !strings.HasPrefix(first2, "s3://glaux-results/dbt/data/smoke/first/") {
		t.Errorf("smoke.first at %s, then %s; want a new location under s3_data_dir", first1, first2)
	}
	sc := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(s.s3url), UsePathStyle: true, Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
	left, err := sc.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("glaux-results"), Prefix: aws.String(strings.TrimPrefix(first1, "s3://glaux-results/") + "/")})
	if err != nil || len(left.Contents) != 0 {
		t.Errorf("objects of the dropped table's first location: %v, %v", left, err)
	}

	// A session reads what dbt made, from the shared catalog.
	sess := startIdleSession(t, s.Client, "dbtspark", nil)
	calc := runCalculation(t, s.Client, sess, `print(sorted((r.id, r.name) for r in spark.table("smoke.second").collect()))`)
	if calc.Status.State != types.CalculationExecutionStateCompleted {
		t.Fatalf("reading smoke.second: %s %s", calc.Status.State, aws.ToString(calc.Status.StateChangeReason))
	}
	if got := strings.TrimSpace(readStoreObject(t, s.store, aws.ToString(calc.Result.StdOutS3Uri))); got != "[(2, 'b'), (3, 'c')]" {
		t.Errorf("smoke.second: %s; want [(2, 'b'), (3, 'c')]", got)
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// TestGlueAuthz: with --policy-file, Glue calls are IAM actions glue:<Operation> on the
// catalog: refused before anything runs, or let through (here to a server without a shared
// catalog, which says so).
func TestGlueAuthz(t *testing.T) {
	s, _ := authzServer(t)
	client := func(key string) *glue.Client {
		return glue.New(glue.Options{Region: "us-east-1", BaseEndpoint: aws.String(s.Endpoint),
			Credentials: credentials.NewStaticCredentialsProvider(key, "secret-of-"+key, ""), Retryer: connectionRetryer()})
	}
	ctx := context.Background()
	_, err := client("AKIABOB").GetDatabases(ctx, &glue.GetDatabasesInput{})
	wantDenied(t, err, "bob", "glue:GetDatabases", "arn:aws:glue:us-east-1:123456789012:catalog")
	var bad *gluetypes.InvalidInputException
	_, err = client("AKIAADMIN").GetDatabases(ctx, &glue.GetDatabasesInput{})
	if !errors.As(err, &bad) || !strings.Contains(bad.ErrorMessage(), "shared table catalog") {
		t.Errorf("admin's GetDatabases without a shared catalog: %v", err)
	}
	// A signature for another key's secret is refused as Glue's clients expect.
	wrong := glue.New(glue.Options{Region: "us-east-1", BaseEndpoint: aws.String(s.Endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("AKIAADMIN", "wrong", ""), Retryer: connectionRetryer()})
	if _, err := wrong.GetDatabases(ctx, &glue.GetDatabasesInput{}); errorCode(err) != "InvalidSignatureException" {
		t.Errorf("wrong secret: %v", err)
	}
}
