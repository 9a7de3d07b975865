# glaux's Glue catalog operations, run in the system session on the shared metastore
# (internal/glue). Each call prints one JSON document: the answer, or {"error": {...}} for
# the conditions Glue answers with an exception of its own.
def _glaux_glue(op, args_b64):
    import base64, json
    jvm = spark._jvm
    ext = spark._jsparkSession.sharedState().externalCatalog()
    conv = jvm.scala.jdk.javaapi.CollectionConverters
    args = json.loads(base64.b64decode(args_b64).decode())

    def opt(o):
        return o.get() if o.isDefined() else None

    def err(typ, msg):
        return {"error": {"type": typ, "message": msg}}

    def sql_string(s):
        return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"

    def ident(s):
        return "`" + s.replace("`", "``") + "`"

    def database(name):
        d = ext.getDatabase(name)
        out = {"Name": d.name(), "Description": d.description(), "LocationUri": d.locationUri().toString(),
               "Parameters": dict(conv.asJava(d.properties()))}
        return out

    def column(f, comment):
        c = {"Name": f.name(), "Type": f.dataType().catalogString()}
        if comment is not None:
            c["Comment"] = comment
        return c

    def table(db, name):
        t = ext.getTable(db, name)
        parts = set(conv.asJava(t.partitionColumnNames()))
        cols, keys = [], []
        for f in t.schema().fields():
            (keys if f.name() in parts else cols).append(column(f, opt(f.getComment())))
        kind = t.tableType().name()
        storage = t.storage()
        loc = opt(storage.locationUri())
        params = dict(conv.asJava(t.properties()))
        provider = opt(t.provider())
        if provider is not None:
            params.setdefault("spark.sql.sources.provider", provider)
        sd = {"Columns": cols, "Compressed": False, "NumberOfBuckets": -1, "BucketColumns": [],
              "SortColumns": [], "Parameters": dict(conv.asJava(storage.properties())),
              "StoredAsSubDirectories": False,
              "SerdeInfo": {"Parameters": dict(conv.asJava(storage.properties()))}}
        if loc is not None:
            sd["Location"] = loc.toString()
        for key, val in (("InputFormat", storage.inputFormat()), ("OutputFormat", storage.outputFormat())):
            if opt(val) is not None:
                sd[key] = opt(val)
        if opt(storage.serde()) is not None:
            sd["SerdeInfo"]["SerializationLibrary"] = opt(storage.serde())
        bucket = opt(t.bucketSpec())
        if bucket is not None:
            sd["NumberOfBuckets"] = bucket.numBuckets()
            sd["BucketColumns"] = list(conv.asJava(bucket.bucketColumnNames()))
        out = {"Name": t.identifier().table(), "DatabaseName": db, "Owner": t.owner(),
               "CreateTime": t.createTime() / 1000.0, "Retention": 0, "StorageDescriptor": sd,
               "PartitionKeys": keys, "Parameters": params, "CreatedBy": t.createVersion() and ("Spark " + t.createVersion()),
               "IsRegisteredWithLakeFormation": False,
               "TableType": {"MANAGED": "MANAGED_TABLE", "EXTERNAL": "EXTERNAL_TABLE", "VIEW": "VIRTUAL_VIEW"}.get(kind, kind)}
        if t.lastAccessTime() > 0:
            out["LastAccessTime"] = t.lastAccessTime() / 1000.0
        if opt(t.comment()) is not None:
            out["Description"] = opt(t.comment())
        view = opt(t.viewText())
        if view is not None:
            out["ViewOriginalText"] = out["ViewExpandedText"] = view
        return out

    def no_database(name):
        return err("EntityNotFoundException", "Database %s not found." % name)

    def no_table(db, name):
        return err("EntityNotFoundException", "Table %s not found." % name if ext.databaseExists(db) else "Database %s not found." % db)

    if op == "GetDatabases":
        res = {"DatabaseList": [database(n) for n in conv.asJava(ext.listDatabases())]}
    elif op == "GetDatabase":
        res = database(args["Name"]) if ext.databaseExists(args["Name"]) else no_database(args["Name"])
    elif op == "CreateDatabase":
        d = args
        if ext.databaseExists(d["Name"]):
            res = err("AlreadyExistsException", "Database already exists.")
        else:
            stmt = "CREATE DATABASE " + ident(d["Name"])
            if d.get("Description"):
                stmt += " COMMENT " + sql_string(d["Description"])
            if d.get("LocationUri"):
                stmt += " LOCATION " + sql_string(d["LocationUri"])
            if d.get("Parameters"):
                stmt += " WITH DBPROPERTIES (" + ", ".join(sql_string(k) + "=" + sql_string(v) for k, v in d["Parameters"].items()) + ")"
            spark.sql(stmt)
            res = {}
    elif op == "DeleteDatabase":
        if ext.databaseExists(args["Name"]):
            spark.sql("DROP DATABASE " + ident(args["Name"]) + " CASCADE")
            res = {}
        else:
            res = no_database(args["Name"])
    elif op == "GetTables":
        db = args["DatabaseName"]
        if ext.databaseExists(db):
            res = {"TableList": [table(db, n) for n in conv.asJava(ext.listTables(db))]}
        else:
            res = no_database(db)
    elif op == "GetTable":
        db, name = args["DatabaseName"], args["Name"]
        res = table(db, name) if ext.tableExists(db, name) else no_table(db, name)
    elif op == "DeleteTable":
        db, name = args["DatabaseName"], args["Name"]
        if ext.tableExists(db, name):
            kind = ext.getTable(db, name).tableType().name()
            spark.sql(("DROP VIEW " if kind == "VIEW" else "DROP TABLE ") + ident(db) + "." + ident(name))
            res = {}
        else:
            res = no_table(db, name)
    else:
        raise ValueError("unknown operation " + op)
    # The system session's Spark SQL must see what other sessions changed.
    spark._jsparkSession.sessionState().catalog().invalidateAllCachedTables()
    print(json.dumps(res))
