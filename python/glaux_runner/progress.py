"""Reports a calculation's Spark progress from the status tracker while it runs."""

import contextlib
import logging
import threading

from .interrupt import start_thread

INTERVAL = 0.25  # seconds between polls, and so at most one event per interval

log = logging.getLogger(__name__)


@contextlib.contextmanager
def reporting(sc, calculation_id, send):
    """Sends `progress` events for the job group `calculation_id` until the block ends;
    none is sent after it ends."""
    stop = threading.Event()
    thread = start_thread(_poll, sc, calculation_id, send, stop, name="glaux-progress")
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _poll(sc, calculation_id, send, stop):
    tracker = last = None
    while not stop.wait(INTERVAL):
        try:
            tracker = tracker or sc.statusTracker()  # not before: most calculations are short
            progress = _summarize(tracker, calculation_id)
        except Exception:  # the JVM may be busy dying; progress is best effort
            log.warning("progress poll failed", exc_info=True)
            continue
        if progress is not None and progress[0] != last:
            last = progress[0]
            send("progress", id=calculation_id, text=progress[0], fraction=progress[1])


def _summarize(tracker, group):
    """Returns (text, fraction) over all jobs of the group, or None before its first job."""
    total = done = active = 0
    current = None  # the stage to name: the latest one with running tasks, else the latest
    for job_id in tracker.getJobIdsForGroup(group):
        job = tracker.getJobInfo(job_id)
        if job is None:
            continue
        for stage_id in job.stageIds:
            stage = tracker.getStageInfo(stage_id)
            if stage is None:
                continue
            total += stage.numTasks
            # A finished job's skipped stages never run their tasks: count them as done.
            done += stage.numTasks if job.status == "SUCCEEDED" else stage.numCompletedTasks
            active += stage.numActiveTasks
            key = (stage.numActiveTasks > 0, stage_id)
            if current is None or key > current:
                current = key
    if current is None or total == 0:
        return None
    text = f"Stage {current[1]}: {done}/{total} tasks ({100 * done // total}%)"
    if active:
        text += f", {active} running"
    return text, done / total
