package catalog

import (
	"fmt"
	"path/filepath"
	"strings"
)

// The table formats' jars (scripts/cluster-deps.sh tables pins their versions), as globs in
// the directory it fills: Iceberg's shaded Spark runtime, Delta's Spark jar and its storage.
var tableJarGlobs = []string{"iceberg-spark-runtime-*.jar", "delta-spark_*.jar", "delta-storage-*.jar"}

// IcebergCatalog is the name of the Spark catalog of Iceberg tables: iceberg.db.t.
const IcebergCatalog = "iceberg"

// TableJars finds the table formats' jars in dir, one of each; the error names what is
// missing and how to get it.
func TableJars(dir string) ([]string, error) {
	var jars, missing []string
	for _, g := range tableJarGlobs {
		m, _ := filepath.Glob(filepath.Join(dir, g))
		if len(m) != 1 {
			missing = append(missing, fmt.Sprintf("%s (found %d)", g, len(m)))
			continue
		}
		abs, err := filepath.Abs(m[0])
		if err != nil {
			return nil, err
		}
		jars = append(jars, abs)
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("want one of each of the table formats' jars in %s, missing %s (run scripts/cluster-deps.sh tables)", dir, strings.Join(missing, ", "))
	}
	return jars, nil
}

// TableConf is what a session needs for USING delta and USING iceberg beside the shared
// catalog (docs/catalog.md): both extensions; Delta's catalog in spark_catalog, where it wraps
// the Hive session catalog (Delta tables are registered in the shared metastore); and
// Iceberg's catalog IcebergCatalog, a Hadoop catalog in <warehouse>/iceberg that every session
// shares through the warehouse. (Iceberg's Hive catalog on the shared metastore fails its
// first commit: Hive's lock tables are not in a schema DataNucleus made.) jars go on
// spark.jars.
func TableConf(jars []string, warehouse string) map[string]string {
	ice := "spark.sql.catalog." + IcebergCatalog
	return map[string]string{
		"spark.jars":                      strings.Join(jars, ","),
		"spark.sql.extensions":            "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions,io.delta.sql.DeltaSparkSessionExtension",
		"spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
		ice:                               "org.apache.iceberg.spark.SparkCatalog",
		ice + ".type":                     "hadoop",
		ice + ".warehouse":                strings.TrimSuffix(warehouse, "/") + "/" + IcebergCatalog,
	}
}
