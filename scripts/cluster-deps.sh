#!/usr/bin/env bash
# Fetches what glaux needs to run sessions against S3-compatible stores (s3a://) and what
# the cluster tests need, once, into a cache:
#   ${GLAUX_CACHE_DIR:-~/.cache/glaux}/jars/    hadoop-aws matching pyspark's bundled Hadoop,
#                                               the AWS SDK bundle it was built against and
#                                               the analytics accelerator library its input
#                                               streams load (Hadoop 3.4.2 and later)
#   ${GLAUX_CACHE_DIR:-~/.cache/glaux}/bin/     versitygw (S3-compatible server, tests only)
#   ${GLAUX_CACHE_DIR:-~/.cache/glaux}/catalog/ derbynet and derbyclient of pyspark's bundled
#                                               Derby: the shared table catalog's metastore
#                                               server and its client (docs/catalog.md)
#   ${GLAUX_CACHE_DIR:-~/.cache/glaux}/tables/  Iceberg's Spark runtime, Delta's Spark and storage
#                                               jars, pinned below for pyspark's Spark version:
#                                               USING iceberg / USING delta (docs/catalog.md)
# Idempotent: what is already there is not fetched again. Needs mvn, go and a Python with
# pyspark (GLAUX_PYTHON, else python3).
#
#   scripts/cluster-deps.sh            # everything: jars, catalog, tables, versitygw
#   scripts/cluster-deps.sh jars       # jars only (what `glaux serve --objects s3` uses)
#   scripts/cluster-deps.sh catalog    # the catalog's Derby jars only (what `glaux serve` uses)
#   scripts/cluster-deps.sh catalog tables  # several steps
set -euo pipefail

default_cache=$HOME/.cache/glaux
[ "$(id -u)" = 0 ] && default_cache=/var/cache/glaux # readable by the runner user, as scripts/pyenv.sh
cache=${GLAUX_CACHE_DIR:-$default_cache}
python=${GLAUX_PYTHON:-python3}
versitygw_version=${VERSITYGW_VERSION:-v1.8.0}
# The table formats, for Spark 4.1 (pyspark 4.1.x): no release of either works on Spark 4.3
# (docs/catalog.md).
tables_spark=4.1
iceberg_version=1.12.0
delta_version=4.4.0

# maven_copy WORK IDS DEP...: Maven resolves a throwaway project with the given dependencies
# (XML inside <dependency>) and copies the artifacts named in IDS (comma-separated) into
# WORK/out; on failure it prints Maven's log and exits.
maven_copy() {
	local work=$1 ids=$2 deps="" dep
	shift 2
	for dep in "$@"; do deps+="    <dependency>$dep</dependency>"$'\n'; done
	cat >"$work/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>glaux</groupId><artifactId>cluster-deps</artifactId><version>1</version>
  <dependencies>
$deps  </dependencies>
</project>
POM
	if ! mvn -B -Dstyle.color=never -f "$work/pom.xml" dependency:copy-dependencies \
		-DincludeArtifactIds="$ids" -DoutputDirectory="$work/out" >"$work/mvn.log" 2>&1; then
		tail -n 40 "$work/mvn.log" >&2
		echo "cluster-deps: mvn failed" >&2
		exit 1
	fi
}

jars() {
	local pyspark_dir hadoop_client hadoop_version dir
	pyspark_dir=$("$python" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))')
	hadoop_client=$(ls "$pyspark_dir"/jars/hadoop-client-api-*.jar 2>/dev/null | head -n1)
	if [[ -z $hadoop_client ]]; then
		echo "cluster-deps: no hadoop-client-api jar in $pyspark_dir/jars" >&2
		exit 1
	fi
	hadoop_version=$(basename "$hadoop_client" .jar)
	hadoop_version=${hadoop_version#hadoop-client-api-}
	dir=$cache/jars
	mkdir -p "$dir"
	# The marker names what was fetched, so a cache filled by an older version of this script
	# (without the accelerator) is filled again.
	local artifacts=hadoop-aws,bundle,analyticsaccelerator-s3
	if [[ -f $dir/hadoop-aws-$hadoop_version.jar ]] && [[ $(cat "$dir/.hadoop-$hadoop_version" 2>/dev/null) == "$artifacts" ]]; then
		echo "cluster-deps: S3A jars for Hadoop $hadoop_version already in $dir"
		return
	fi
	echo "cluster-deps: fetching hadoop-aws $hadoop_version and its AWS SDK bundle into $dir"
	# A throwaway project whose only dependency is hadoop-aws: Maven resolves the bundle
	# version that this Hadoop release was built against.
	local work
	work=$(mktemp -d)
	trap 'rm -rf "$work"' RETURN
	maven_copy "$work" "$artifacts" \
		"<groupId>org.apache.hadoop</groupId><artifactId>hadoop-aws</artifactId><version>$hadoop_version</version>"
	# Replace the jars of another Hadoop version: glaux puts every jar of the dir on the classpath.
	rm -f "$dir"/hadoop-aws-*.jar "$dir"/bundle-*.jar "$dir"/analyticsaccelerator-s3-*.jar "$dir"/.hadoop-*
	mv "$work"/out/*.jar "$dir"/
	echo "$artifacts" >"$dir/.hadoop-$hadoop_version"
	ls -l "$dir"
}

# pyspark_jar_version NAME prints the version of pyspark's bundled NAME-<version>.jar.
pyspark_jar_version() {
	local pyspark_dir jar
	pyspark_dir=$("$python" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))')
	jar=$(ls "$pyspark_dir"/jars/"$1"-[0-9]*.jar 2>/dev/null | head -n1)
	if [[ -z $jar ]]; then
		echo "cluster-deps: no $1 jar in $pyspark_dir/jars" >&2
		exit 1
	fi
	jar=$(basename "$jar" .jar)
	echo "${jar#"$1"-}"
}

# catalog fetches derbynet (the network server glaux runs the metastore database with) and
# derbyclient (the JDBC driver sessions reach it with), of exactly pyspark's Derby version.
catalog() {
	local version dir
	version=$(pyspark_jar_version derby)
	dir=$cache/catalog
	if [[ -f $dir/derbynet-$version.jar ]] && [[ -f $dir/derbyclient-$version.jar ]]; then
		echo "cluster-deps: catalog jars for Derby $version already in $dir"
		return
	fi
	echo "cluster-deps: fetching derbynet and derbyclient $version into $dir"
	mkdir -p "$dir"
	local work
	work=$(mktemp -d)
	trap 'rm -rf "$work"' RETURN
	maven_copy "$work" derbynet,derbyclient \
		"<groupId>org.apache.derby</groupId><artifactId>derbynet</artifactId><version>$version</version>" \
		"<groupId>org.apache.derby</groupId><artifactId>derbyclient</artifactId><version>$version</version>"
	rm -f "$dir"/derbynet-*.jar "$dir"/derbyclient-*.jar
	mv "$work"/out/*.jar "$dir"/
	ls -l "$dir"
}

# tables fetches Iceberg's Spark runtime (one shaded jar) and Delta's Spark and storage jars,
# of the pinned versions, built for pyspark's Spark version.
tables() {
	local spark_version dir
	spark_version=$("$python" -c 'import pyspark; print(pyspark.__version__)')
	if [[ ${spark_version%.*} != "$tables_spark" ]]; then
		echo "cluster-deps: the table formats are pinned for Spark $tables_spark, pyspark is $spark_version (docs/catalog.md)" >&2
		exit 1
	fi
	local iceberg=iceberg-spark-runtime-${tables_spark}_2.13 delta=delta-spark_${tables_spark}_2.13
	dir=$cache/tables
	if [[ -f $dir/$iceberg-$iceberg_version.jar ]] && [[ -f $dir/$delta-$delta_version.jar ]] && [[ -f $dir/delta-storage-$delta_version.jar ]]; then
		echo "cluster-deps: Iceberg $iceberg_version and Delta $delta_version jars already in $dir"
		return
	fi
	echo "cluster-deps: fetching Iceberg $iceberg_version and Delta $delta_version for Spark $tables_spark into $dir"
	mkdir -p "$dir"
	local work
	work=$(mktemp -d)
	trap 'rm -rf "$work"' RETURN
	maven_copy "$work" "$iceberg,$delta,delta-storage" \
		"<groupId>org.apache.iceberg</groupId><artifactId>$iceberg</artifactId><version>$iceberg_version</version>" \
		"<groupId>io.delta</groupId><artifactId>$delta</artifactId><version>$delta_version</version>" \
		"<groupId>io.delta</groupId><artifactId>delta-storage</artifactId><version>$delta_version</version>"
	# Every jar of the dir goes on sessions' spark.jars: replace other versions'.
	rm -f "$dir"/*.jar
	mv "$work"/out/*.jar "$dir"/
	ls -l "$dir"
}

versitygw() {
	local bin=$cache/bin/versitygw
	if [[ -x $bin ]] && [[ -f $cache/bin/.versitygw-$versitygw_version ]]; then
		echo "cluster-deps: versitygw $versitygw_version already at $bin"
		return
	fi
	mkdir -p "$cache/bin"
	echo "cluster-deps: building versitygw $versitygw_version into $cache/bin"
	GOBIN=$cache/bin GOFLAGS=-buildvcs=false go install "github.com/versity/versitygw/cmd/versitygw@$versitygw_version"
	rm -f "$cache"/bin/.versitygw-*
	touch "$cache/bin/.versitygw-$versitygw_version"
}

[[ $# -gt 0 ]] || set -- all
for what in "$@"; do
	case $what in
		all) jars; catalog; tables; versitygw ;;
		jars) jars ;;
		catalog) catalog ;;
		tables) tables ;;
		versitygw) versitygw ;;
		*) echo "usage: $0 [all|jars|catalog|tables|versitygw]..." >&2; exit 2 ;;
	esac
done
