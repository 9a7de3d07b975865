"""The plain-PySpark baseline of bench/run: a bare driver, no glaux, no IPython.

    python pyspark_baseline.py MASTER DRIVER_MEMORY
    python pyspark_baseline.py --remote SC_URL      # a Spark Connect client instead (part 4)

Creates the SparkSession exactly as a user would, then writes "READY" to fd 3 (bench/run
times process start -> READY). After that it reads one JSON command per line on stdin and
answers one JSON line on fd 3 (fd 3, not stdout, because the JVM shares stdout):

    {"op": "exec", "code": "1+1", "n": 50}  -> {"times": [seconds, ...]}   compile + exec, n times
    {"op": "quit"}                           -> spark.stop(), exit 0
"""

import json
import os
import sys
import time

from pyspark.sql import SparkSession

if sys.argv[1] == "--remote":
    from pyspark.sql.connect.session import SparkSession as RemoteSession

    spark = RemoteSession.builder.remote(sys.argv[2]).create()
    spark.range(1).count()  # connected and answered
else:
    master, memory = sys.argv[1], sys.argv[2]
    spark = SparkSession.builder.master(master).config("spark.driver.memory", memory).getOrCreate()

out = os.fdopen(3, "w", buffering=1)
out.write("READY\n")

namespace = {"spark": spark, "sc": None if sys.argv[1] == "--remote" else spark.sparkContext}
for line in sys.stdin:
    command = json.loads(line)
    if command["op"] == "quit":
        break
    if command["op"] == "exec":
        times = []
        for _ in range(int(command.get("n", 1))):
            start = time.perf_counter()
            exec(compile(command["code"], "<bench>", "exec"), namespace)
            times.append(time.perf_counter() - start)
        out.write(json.dumps({"times": times}) + "\n")
    else:
        out.write(json.dumps({"error": "unknown op " + repr(command["op"])}) + "\n")

spark.stop()
