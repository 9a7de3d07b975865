package main

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"glaux/internal/catalog"
)

// The table formats (docs/catalog.md) are tested inside TestCatalogShared, on its sessions:
// session A writes an Iceberg and a Delta table, merges into both and travels back in time;
// a second session reads them. No Spark starts of its own, and few statements: on two cores
// each Delta or Iceberg statement takes seconds.

// tableJarsDir is the cache scripts/cluster-deps.sh tables fills; the test fails if the jars
// are not there.
func tableJarsDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(defaultCacheDir(), "tables")
	if _, err := catalog.TableJars(dir); err != nil {
		t.Fatalf("USING iceberg / USING delta cannot be tested: %v", err)
	}
	return dir
}

// tablesSmall sizes Delta's state reconstruction (50 partitions by default) and the merge's
// shuffle for these tiny tables: on two cores it takes the statements from ~45 s to ~8 s
// (docs/catalog.md).
const tablesSmall = `spark.conf.set("spark.databricks.delta.snapshotPartitions", "1")
spark.conf.set("spark.sql.shuffle.partitions", "1")
`

// tablesWrite makes both tables, merges (one row updated, one inserted) and reads them now
// and in the past: Iceberg by snapshot id and by timestamp, Delta by version.
const tablesWrite = `import json
` + tablesSmall + `spark.sql("CREATE DATABASE formats")
spark.sql("CREATE TABLE formats.del (id INT, v STRING) USING delta")
spark.sql("INSERT INTO formats.del VALUES (1, 'a'), (2, 'b')")
spark.sql("CREATE NAMESPACE iceberg.formats")
spark.sql("CREATE TABLE iceberg.formats.ice (id INT, v STRING) USING iceberg")
spark.sql("INSERT INTO iceberg.formats.ice VALUES (1, 'a'), (2, 'b')")
snap = spark.sql("SELECT snapshot_id, committed_at FROM iceberg.formats.ice.snapshots").first()
for t in ("formats.del", "iceberg.formats.ice"):
    spark.sql(f"""MERGE INTO {t} t USING (SELECT 2 AS id, 'B' AS v UNION ALL SELECT 3, 'c') s ON t.id = s.id
                 WHEN MATCHED THEN UPDATE SET v = s.v WHEN NOT MATCHED THEN INSERT *""")
rows = lambda q: [list(r) for r in spark.sql(q + " ORDER BY id").collect()]
print(json.dumps({
    "delta": rows("SELECT * FROM formats.del"),
    "delta_v0": rows("SELECT * FROM formats.del VERSION AS OF 0"),
    "delta_v1": rows("SELECT * FROM formats.del VERSION AS OF 1"),
    "iceberg": rows("SELECT * FROM iceberg.formats.ice"),
    "iceberg_snapshot": rows(f"SELECT * FROM iceberg.formats.ice VERSION AS OF {snap.snapshot_id}"),
    "iceberg_time": rows(f"SELECT * FROM iceberg.formats.ice TIMESTAMP AS OF '{snap.committed_at}'"),
    "provider": spark.sql("DESCRIBE TABLE EXTENDED formats.del").where("col_name = 'Provider'").first().data_type,
}))`

// tablesRead is what a later session reads of them.
const tablesRead = `import json
` + tablesSmall + `rows = lambda q: [list(r) for r in spark.sql(q + " ORDER BY id").collect()]
print(json.dumps({"delta": rows("SELECT * FROM formats.del"), "iceberg": rows("SELECT * FROM iceberg.formats.ice")}))`

var (
	mergedRows = []any{[]any{1.0, "a"}, []any{2.0, "B"}, []any{3.0, "c"}}
	firstRows  = []any{[]any{1.0, "a"}, []any{2.0, "b"}}
)

// checkTables runs code in session and compares its JSON output with want, key by key.
func checkTables(t *testing.T, s *testServer, session, who, code string, want map[string]any) {
	t.Helper()
	began := time.Now()
	out := wantCompleted(t, s, session, code)
	t.Logf("%s, table formats (%.1fs): %s", who, time.Since(began).Seconds(), out)
	var got map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%s: output %q: %v", who, out, err)
	}
	for k, w := range want {
		if !reflect.DeepEqual(got[k], w) {
			t.Errorf("%s: %s = %v, want %v", who, k, got[k], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%s: output has %d keys, want %d: %v", who, len(got), len(want), got)
	}
}

var tablesWriteWant = map[string]any{
	"delta": mergedRows, "delta_v0": []any{}, "delta_v1": firstRows,
	"iceberg": mergedRows, "iceberg_snapshot": firstRows, "iceberg_time": firstRows,
	"provider": "delta",
}

var tablesReadWant = map[string]any{"delta": mergedRows, "iceberg": mergedRows}
