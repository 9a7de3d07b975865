package athena

import "testing"

func TestStatementType(t *testing.T) {
	for q, want := range map[string]string{
		"SELECT 1":                             "DML",
		"  -- dbt\n/* x */ (select 1)":         "DML",
		"with a as (select 1) select * from a": "DML",
		"insert into t values (1)":             "DML",
		"create schema if not exists smoke":    "DDL",
		"drop table smoke.t":                   "DDL",
		"SHOW TABLES IN smoke":                 "UTILITY",
		"describe smoke.t":                     "UTILITY",
		"explain select 1":                     "UTILITY",
		"-- only a comment":                    "DDL",
	} {
		if got := statementType(q); got != want {
			t.Errorf("statementType(%q) = %s; want %s", q, got, want)
		}
	}
}

func TestColumnInfo(t *testing.T) {
	cols := columnInfo([]sqlColumn{{"a", "string", true}, {"b", "int", false}, {"c", "decimal(10,2)", true}, {"d", "array<int>", true}, {"e", "timestamp_ntz", true}, {"f", "struct<x:int>", true}})
	want := []struct {
		typ         string
		prec, scale int32
		nullable    string
	}{{"varchar", 2147483647, 0, "NULLABLE"}, {"integer", 10, 0, "NOT_NULL"}, {"decimal", 10, 2, "NULLABLE"}, {"array", 0, 0, "NULLABLE"}, {"timestamp", 3, 3, "NULLABLE"}, {"row", 0, 0, "NULLABLE"}}
	for i, w := range want {
		c := cols[i]
		if *c.Type != w.typ || *c.Precision != w.prec || *c.Scale != w.scale || *c.Nullable != w.nullable {
			t.Errorf("column %d: %s(%d,%d) %s; want %+v", i, *c.Type, *c.Precision, *c.Scale, *c.Nullable, w)
		}
	}
}

func TestResultCSV(t *testing.T) {
	v := func(s string) *string { return &s }
	res := sqlResult{Columns: []sqlColumn{{Name: "id"}, {Name: "s"}}, Rows: [][]*string{{v("1"), v(`a"b,c`)}, {v("2"), nil}}}
	if got, want := string(resultCSV("DML", res)), "\"id\",\"s\"\n\"1\",\"a\"\"b,c\"\n\"2\",\n"; got != want {
		t.Errorf("DML CSV %q; want %q", got, want)
	}
	if got, want := string(resultCSV("UTILITY", res)), "1\ta\"b,c\n2\t\n"; got != want {
		t.Errorf("text %q; want %q", got, want)
	}
}
