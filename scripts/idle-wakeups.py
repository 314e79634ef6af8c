#!/usr/bin/env python3
"""What an idle machine adds to a wake-up and to a synced write, with nothing of BAGBOT in the way.

After each idle gap (a sleep of 0, 1, 5, 25 or 100 ms), times:
  - a one-byte ping-pong between two processes over a Unix socket pair (each side wakes the other once), and
  - a synced SQLite commit in WAL mode (`synchronous = FULL`: the WAL's fdatasync), a row in a table with two
    indexes and a row in another, about the pages routerd's `sent` commit writes, in DIR (default: a fresh directory
    under /tmp, which must be on the disk routerd's database would use).

The gaps take turns in a shuffled order over several passes, so that none is timed only early or late in the run.
Some VMs let an idle vCPU halt, and the first wake-ups and the first sync after a pause then cost several times what
they cost back to back (docs/performance.md, "2026-12-07: the pause between orders"). With `--keep-awake`, one busy
loop per CPU at idle priority (SCHED_IDLE) keeps every vCPU from halting, to tell the halting apart from the rest.
Not a test; prints a Markdown table. Stops by itself.

    scripts/idle-wakeups.py [--dir DIR] [--samples 200] [--passes 4] [--keep-awake]
"""
import argparse
import os
import random
import shutil
import socket
import sqlite3
import statistics
import tempfile
import time

GAPS_MS = (0, 1, 5, 25, 100)


def percentiles(samples):
    ordered = sorted(samples)
    return round(statistics.median(ordered)), round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))])


def ping_pong(gap_s, samples, near):
    times = []
    for _ in range(samples):
        time.sleep(gap_s)
        start = time.perf_counter_ns()
        near.send(b"x")
        near.recv(1)
        times.append((time.perf_counter_ns() - start) / 1000)
    return times


def synced_commit(gap_s, samples, db, counter):
    times = []
    for _ in range(samples):
        time.sleep(gap_s)
        counter[0] += 1
        key = f"idle-{os.getpid()}-{counter[0]}"
        start = time.perf_counter_ns()
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO orders VALUES (?, 'sent', ?, ?)", (key, f"2026-12-07 00:00:{counter[0]:09d}", "x" * 150))
        db.execute("INSERT INTO events (order_id, status) VALUES (?, 'sent')", (key,))
        db.execute("COMMIT")
        times.append((time.perf_counter_ns() - start) / 1000)
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", help="where the database goes (default: a fresh directory under /tmp)")
    parser.add_argument("--samples", type=int, default=200, help="samples per gap (a third of them at 100 ms)")
    parser.add_argument("--passes", type=int, default=4, help="passes over the gaps, each in a shuffled order")
    parser.add_argument("--keep-awake", action="store_true", help="one busy loop per CPU at idle priority throughout")
    options = parser.parse_args()
    if options.samples < 10 or options.passes < 1 or options.samples < options.passes:
        parser.error("--samples must be at least 10 and at least --passes, and --passes at least 1")
    spinners = []
    directory = tempfile.mkdtemp(prefix="bb-idle-", dir=options.dir)
    near, far = socket.socketpair()
    child = os.fork()
    if child == 0:
        near.close()
        while True:
            byte = far.recv(1)
            if not byte or byte == b"q":
                os._exit(0)
            far.send(byte)
    far.close()
    try:
        parent = os.getpid()
        for _ in range(os.cpu_count() or 1) if options.keep_awake else ():
            spinner = os.fork()
            if spinner == 0:
                os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
                while os.getppid() == parent:  # ends with this script, however it ends
                    pass
                os._exit(0)
            spinners.append(spinner)
        db = sqlite3.connect(os.path.join(directory, "idle.db"), isolation_level=None)
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = FULL")
        db.execute("CREATE TABLE orders (id TEXT PRIMARY KEY, status TEXT, created TEXT, padding TEXT)")
        db.execute("CREATE INDEX orders_by_status ON orders (status)")
        db.execute("CREATE INDEX orders_by_created ON orders (created)")
        db.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, order_id TEXT, status TEXT)")
        db.execute("CREATE INDEX events_by_order ON events (order_id)")
        counter = [0]
        synced_commit(0.001, 50, db, counter)  # the file and its WAL exist before the first timed gap
        pongs = {gap: [] for gap in GAPS_MS}
        commits = {gap: [] for gap in GAPS_MS}
        order = random.Random(7)
        for _ in range(options.passes):
            for gap_ms in order.sample(GAPS_MS, len(GAPS_MS)):
                samples = max(10, options.samples // 3) if gap_ms >= 100 else options.samples
                samples = max(1, samples // options.passes)
                pongs[gap_ms] += ping_pong(gap_ms / 1000, samples, near)
                commits[gap_ms] += synced_commit(gap_ms / 1000, samples, db, counter)
        print(f"Idle gap before each sample, {options.passes} passes over the gaps in shuffled orders"
              f"{', CPUs kept awake at idle priority' if spinners else ''}; database in {directory}, µs")
        print()
        print("| idle gap | samples | ping-pong p50 | p90 | synced commit p50 | p90 |")
        print("| --- | --- | --- | --- | --- | --- |")
        for gap_ms in GAPS_MS:
            pong, commit = percentiles(pongs[gap_ms]), percentiles(commits[gap_ms])
            print(f"| {gap_ms} ms | {len(pongs[gap_ms])} | {pong[0]} | {pong[1]} | {commit[0]} | {commit[1]} |")
        db.close()
    finally:
        near.send(b"q")
        os.waitpid(child, 0)
        for spinner in spinners:
            os.kill(spinner, 9)
            os.waitpid(spinner, 0)
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
