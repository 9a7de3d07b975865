package main

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The catalog flags and their variables, and what they refuse.
func TestCatalogConfig(t *testing.T) {
	for _, v := range []string{"GLAUX_CATALOG", "GLAUX_CATALOG_URI", "GLAUX_CATALOG_PORT", "GLAUX_WAREHOUSE"} {
		t.Setenv(v, "") // restored after the test
		os.Unsetenv(v)
	}
	cases := []struct {
		name    string
		env     map[string]string
		args    []string
		catalog string
		uri     string
		port    int
		err     string
	}{
		{name: "default", catalog: "derby"},
		{name: "memory", args: []string{"--catalog", "memory"}, catalog: "memory"},
		{name: "env", env: map[string]string{"GLAUX_CATALOG": "memory"}, catalog: "memory"},
		{name: "flag over env", env: map[string]string{"GLAUX_CATALOG": "memory"}, args: []string{"--catalog", "derby"}, catalog: "derby"},
		{name: "port", env: map[string]string{"GLAUX_CATALOG_PORT": "1527"}, catalog: "derby", port: 1527},
		{name: "external", args: []string{"--catalog-uri", "thrift://meta:9083"}, catalog: "hive", uri: "thrift://meta:9083"},
		{name: "external env", env: map[string]string{"GLAUX_CATALOG_URI": "thrift://a:1,thrift://b:2"}, catalog: "hive", uri: "thrift://a:1,thrift://b:2"},
		{name: "unknown", args: []string{"--catalog", "glue"}, err: "--catalog must be derby or memory"},
		{name: "not thrift", args: []string{"--catalog-uri", "http://meta:9083"}, err: "thrift://host:port"},
		{name: "no port", args: []string{"--catalog-uri", "thrift://meta"}, err: "thrift://host:port"},
		{name: "memory and uri", args: []string{"--catalog", "memory", "--catalog-uri", "thrift://meta:9083"}, err: "contradict"},
		{name: "hive without uri", args: []string{"--catalog", "hive"}, err: "needs --catalog-uri"},
		{name: "bad port", args: []string{"--catalog-port", "70000"}, err: "--catalog-port"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			c, err := parseConfig(tc.args)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("parseConfig(%v) = %v, want an error about %q", tc.args, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Catalog != tc.catalog || c.CatalogURI != tc.uri || c.CatalogPort != tc.port {
				t.Errorf("catalog %q uri %q port %d, want %q %q %d", c.Catalog, c.CatalogURI, c.CatalogPort, tc.catalog, tc.uri, tc.port)
			}
		})
	}
}

// The shared warehouse: --warehouse, else the results bucket with --objects s3, else the data dir.
func TestCatalogWarehouse(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name, objects, output, flag, want, err string
	}{
		{name: "dir", objects: "dir", output: "s3://results/x/", want: filepath.Join(dir, "warehouse")},
		{name: "s3", objects: "s3", output: "s3://results/x/", want: "s3a://results/warehouse/"},
		{name: "flag", objects: "s3", output: "s3://results/x/", flag: "s3a://tables/wh/", want: "s3a://tables/wh/"},
		{name: "s3 without a bucket", objects: "s3", output: "results", err: "--warehouse"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := warehouse(&Config{DataDir: dir, Objects: tc.objects, OutputLocation: tc.output, Warehouse: tc.flag})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("warehouse: %q %v, want an error about %q", got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("warehouse: %q %v, want %q", got, err, tc.want)
			}
		})
	}
}

// The table formats: configured when --table-jars has their jars, else left out with a warning.
func TestTableFormats(t *testing.T) {
	t.Setenv("GLAUX_TABLE_JARS", "/elsewhere/tables")
	if c, err := parseConfig(nil); err != nil || c.TableJars != "/elsewhere/tables" {
		t.Errorf("GLAUX_TABLE_JARS: %q %v", c.TableJars, err)
	}
	dir := t.TempDir()
	var logged bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logged, nil))
	if conf := tableFormats(&Config{TableJars: dir}, "/wh", log); conf != nil || !strings.Contains(logged.String(), "scripts/cluster-deps.sh tables") {
		t.Errorf("without the jars: %v, logged %q", conf, logged.String())
	}
	for _, n := range []string{"iceberg-spark-runtime-4.1_2.13-1.12.0.jar", "delta-spark_4.1_2.13-4.4.0.jar", "delta-storage-4.4.0.jar"} {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	conf := tableFormats(&Config{TableJars: dir}, "/wh", log)
	if conf["spark.sql.catalog.spark_catalog"] != "org.apache.spark.sql.delta.catalog.DeltaCatalog" || conf["spark.sql.catalog.iceberg.warehouse"] != "/wh/iceberg" ||
		strings.Count(conf["spark.jars"], ",") != 2 || !strings.Contains(conf["spark.sql.extensions"], "IcebergSparkSessionExtensions,io.delta.sql.DeltaSparkSessionExtension") {
		t.Errorf("with the jars: %v", conf)
	}
	if conf := tableFormats(&Config{TableJars: ""}, "/wh", log); conf != nil {
		t.Errorf("--table-jars '': %v", conf)
	}
}
