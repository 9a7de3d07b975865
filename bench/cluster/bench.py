"""One worker vs two: a CPU-bound group-by through glaux on a real Spark standalone cluster.

Starts (all on 127.0.0.1, ports the kernel picks) a Spark master and one worker (1 core,
2 GiB), glaux serve with --spark-master pointing at it, and drives glaux with boto3: a
session, a warm-up job, then the timed jobs. Then a second worker joins and a new session
runs the same jobs; then it leaves and a third session runs them on one worker again. Every
process started is stopped at the end, also on Ctrl-C.
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

import boto3
from botocore.config import Config

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
README = os.path.join(HERE, "README.md")
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"

JOB = """
import json, time
from pyspark.sql import functions as F

def job():
    h = F.col("id").cast("string")
    for _ in range({rounds}):  # CPU per row: chained SHA-256s
        h = F.sha2(h, 256)
    df = spark.range({rows}, numPartitions={partitions}).select((F.col("id") % 1000).alias("k"), h.alias("h"))
    # collect(), not count(): a count of the groups would let Spark prune the hashing away
    return len(df.groupBy("k").agg(F.count("*").alias("n"), F.max("h").alias("m")).collect())

job()  # warm-up: executors register, the JIT compiles
times = []
for _ in range({repeat}):
    t = time.perf_counter()
    groups = job()
    times.append(time.perf_counter() - t)
print(json.dumps({{"groups": groups, "times": times,
                  "executors": sc._jsc.sc().getExecutorMemoryStatus().size() - 1}}))
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Procs:
    """Processes started by the benchmark, each in its own process group."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.procs = []

    def start(self, name, argv, env=None):
        log = open(os.path.join(self.workdir, name + ".log"), "wb")
        p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})},
                             start_new_session=True)
        self.procs.append((name, p))
        return p

    def stop_all(self):
        for name, p in reversed(self.procs):
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        deadline = time.time() + 40
        for name, p in reversed(self.procs):
            try:
                p.wait(timeout=max(1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                pass
            try:
                os.killpg(p.pid, signal.SIGKILL)  # and whatever is left of its group
            except ProcessLookupError:
                pass


def wait_for(what, timeout, cond):
    deadline = time.time() + timeout
    while True:
        try:
            if cond():
                return
        except Exception:
            pass
        if time.time() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.5)


def cpu_busy(seconds=5):
    """Share of CPU time (0..1) spent busy over the next seconds, from /proc/stat."""
    def sample():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return sum(v), v[3] + v[4]  # total, idle + iowait
    t0, i0 = sample()
    time.sleep(seconds)
    t1, i1 = sample()
    return 1 - (i1 - i0) / max(1, t1 - t0)


def wait_idle(limit):
    """Waits up to limit seconds for the machine to be below 15 % busy; returns the last share seen."""
    deadline = time.time() + limit
    while True:
        busy = cpu_busy()
        if busy < 0.15 or time.time() > deadline:
            print(f"machine {busy:.0%} busy before the run", flush=True)
            return busy


def master_status(ui):
    with urllib.request.urlopen(ui + "/json/", timeout=5) as r:
        return json.load(r)


def run_session(athena, wg, code):
    sid = athena.start_session(WorkGroup=wg, EngineConfiguration={
        "MaxConcurrentDpus": 3,  # the coordinator and up to 2 executors of 1 DPU (1 core)
        "SparkProperties": {"spark.dynamicAllocation.executorIdleTimeout": "300s"},
    })["SessionId"]
    wait_for("the session", 300, lambda: athena.get_session_status(SessionId=sid)["Status"]["State"] == "IDLE")
    cid = athena.start_calculation_execution(SessionId=sid, CodeBlock=code)["CalculationExecutionId"]
    wait_for("the calculation", 1800, lambda: athena.get_calculation_execution_status(
        CalculationExecutionId=cid)["Status"]["State"] in ("COMPLETED", "FAILED", "CANCELED"))
    calc = athena.get_calculation_execution(CalculationExecutionId=cid)
    workers = [e for e in athena.list_executors(SessionId=sid)["ExecutorsSummary"] if e["ExecutorType"] == "WORKER"]
    athena.terminate_session(SessionId=sid)
    if calc["Status"]["State"] != "COMPLETED":
        raise SystemExit(f"calculation {calc['Status']['State']}: {calc['Status'].get('StateChangeReason')}")
    return calc, len(workers)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--partitions", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=2, help="SHA-256 rounds per row")
    ap.add_argument("--idle-wait", type=float, default=180, help="seconds to wait for an idle machine")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--work-dir", help="keep data dirs and logs here")
    ap.add_argument("--no-readme", action="store_true", help="print, do not rewrite README.md")
    args = ap.parse_args()

    import pyspark
    spark_class = os.path.join(os.path.dirname(pyspark.__file__), "bin", "spark-class")
    workdir = args.work_dir or tempfile.mkdtemp(prefix="glaux-bench-cluster-")
    os.makedirs(workdir, exist_ok=True)
    procs = Procs(workdir)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    busy = wait_idle(args.idle_wait)
    try:
        glaux = os.path.join(workdir, "glaux")
        subprocess.run(["go", "build", "-o", glaux, "./cmd/glaux"], cwd=REPO, check=True)
        spark_env = {"SPARK_LOCAL_IP": "127.0.0.1", "SPARK_DAEMON_MEMORY": "512m"}
        port, ui_port = free_port(), free_port()
        master = f"spark://127.0.0.1:{port}"
        ui = f"http://127.0.0.1:{ui_port}"
        procs.start("spark-master", [spark_class, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                                     "--port", str(port), "--webui-port", str(ui_port)], spark_env)
        wait_for("the Spark master", 120, lambda: master_status(ui)["status"] == "ALIVE")

        def add_worker(n):
            p = procs.start(f"spark-worker-{n}", [spark_class, "org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1",
                                              "--port", "0", "--webui-port", "0", "--cores", "1", "--memory", "2g",
                                              "--work-dir", os.path.join(workdir, f"worker-{n}"), master], spark_env)
            wait_for(f"{n} worker(s)", 120, lambda: master_status(ui)["aliveworkers"] == n)
            return p

        add_worker(1)
        addr = f"127.0.0.1:{free_port()}"
        data = tempfile.mkdtemp(dir=workdir, prefix="data-")
        procs.start("glaux", [glaux, "serve", "--addr", addr, "--data-dir", data,
                              "--python", sys.executable, "--spark-master", master, "--spark-driver-host", "127.0.0.1",
                              "--memory-per-dpu", "1536", "--s3-addr", "", "--runner-user", "", "--log-level", "warn"])
        athena = boto3.client("athena", endpoint_url="http://" + addr, region_name="us-east-1",
                              aws_access_key_id="test", aws_secret_access_key="test",
                              config=Config(retries={"max_attempts": 10, "mode": "standard"}))
        wait_for("glaux", 60, lambda: athena.list_work_groups() is not None)
        athena.create_work_group(Name="bench", Configuration={
            "EngineVersion": {"SelectedEngineVersion": "PySpark engine version 3"},
            "ExecutionRole": "arn:aws:iam::123456789012:role/glaux-bench",
            "ResultConfiguration": {"OutputLocation": "s3://bench-results/"}})
        code = JOB.format(rows=args.rows, partitions=args.partitions, repeat=args.repeat, rounds=args.rounds)

        # One worker, two, then one again (the second stopped): a load that came or went
        # during the run shows as a difference between the two one-worker phases.
        phases = []
        workers = {}
        for n in (1, 2, 1):
            if n == 2:
                workers[2] = add_worker(2)
            elif phases:
                os.killpg(workers[2].pid, signal.SIGTERM)
                wait_for("the second worker to leave", 120, lambda: master_status(ui)["aliveworkers"] == 1)
            calc, listed = run_session(athena, "bench", code)
            stdout = open(os.path.join(data, "objects", *calc["Result"]["StdOutS3Uri"][5:].split("/"))).read()
            out = json.loads(stdout.strip().splitlines()[-1])
            phases.append({**out, "workers": n, "listed": listed, "load": os.getloadavg()[0]})
            print(f"{n} worker(s): {out['executors']} executors, job times {[round(t, 2) for t in out['times']]} s", flush=True)
    finally:
        procs.stop_all()
        if not args.work_dir:
            shutil.rmtree(workdir, ignore_errors=True)

    one = statistics.median([t for p in phases if p["workers"] == 1 for t in p["times"]])
    two = statistics.median([t for p in phases if p["workers"] == 2 for t in p["times"]])
    speedup = one / two
    a, b = (statistics.median(p["times"]) for p in (phases[0], phases[2]))
    drift = abs(a - b) / min(a, b)
    steady = busy < 0.15 and drift < 0.25
    table = "\n".join([
        f"Run of {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {os.cpu_count()} cores "
        f"({busy:.0%} busy with other work before the run{'' if busy < 0.15 else ': NOT IDLE, numbers unreliable'}); "
        f"{args.rows:,} rows, {args.rounds} SHA-256 rounds per row, {args.partitions} partitions, "
        f"{args.repeat} timed jobs per phase after a warm-up job.",
        "",
        "| phase | workers (1 core each) | executors used | job times (s) | load average after |",
        "| --- | --- | --- | --- | --- |",
        *(f"| {i + 1} | {p['workers']} | {p['executors']} | {', '.join(f'{t:.2f}' for t in p['times'])} | {p['load']:.2f} |"
          for i, p in enumerate(phases)),
        "",
        f"Median job time: {one:.2f} s with one worker, {two:.2f} s with two. "
        f"**Speed-up with two workers: {speedup:.2f}×** (ideal 2×; on a 2-core machine the driver, "
        "glaux and the Spark daemons share the same two cores as the executors).",
        "" if steady else (
            f"\n**Unreliable run**: the two one-worker phases differ by {drift:.0%} (and/or the machine was "
            "busy before the run): other work on the machine changed during the run. Rerun on an idle machine."),
    ])
    print(table)
    if not args.no_readme:
        text = open(README).read()
        start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
        open(README, "w").write(text[:start] + "\n" + table + "\n" + text[end:])


if __name__ == "__main__":
    main()
