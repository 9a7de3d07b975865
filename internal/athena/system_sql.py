# Runs one Athena SQL statement with spark.sql in glaux's system session and prints its
# columns and rows (every value as Spark casts it to a string, None for NULL) as JSON.
def _glaux_sql(query_b64, database_b64, limit):
    import base64, json
    from pyspark.sql import functions as F
    query = base64.b64decode(query_b64).decode()
    database = base64.b64decode(database_b64).decode()
    # Other sessions change tables: no cached relation of an earlier statement may be used.
    spark._jsparkSession.sessionState().catalog().invalidateAllCachedTables()
    # The statement's default database: the one asked for when it exists (dbt names the
    # schema it is about to create), else default.
    if database and spark.catalog.databaseExists(database):
        spark.catalog.setCurrentDatabase(database)
    else:
        spark.catalog.setCurrentDatabase("default")
    df = spark.sql(query)
    fields = df.schema.fields
    columns = [{"name": f.name, "type": f.dataType.simpleString(), "nullable": f.nullable} for f in fields]
    rows = []
    if fields:
        names = ["c%d" % i for i in range(len(fields))]
        strings = df.toDF(*names).select([F.col(n).cast("string") for n in names])
        rows = [list(r) for r in strings.limit(limit + 1).collect()]
    print(json.dumps({"columns": columns, "rows": rows}))
