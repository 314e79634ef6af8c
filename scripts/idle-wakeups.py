#!/usr/bin/env python3
"""What an idle machine adds to a wake-up and to a synced write, with nothing of BAGBOT in the way.

After each idle gap (a sleep of 0, 1, 5, 25 or 100 ms), times:
  - a one-byte ping-pong between two processes over a Unix socket pair (each side wakes the other once), and
  - a synced SQLite commit in WAL mode (`synchronous = FULL`: the WAL's fdatasync), a row in a table with two
    indexes and a row in another, about the pages routerd's `sent` commit writes, in DIR (default: a fresh directory
    under /tmp, which must be on the disk routerd's database would use).

Some VMs let an idle vCPU and the disk path fall asleep: the first wake-ups and the first sync after a pause then cost
several times what they cost back to back (docs/performance.md, "The pause between orders"). Not a test; prints a
Markdown table. Stops by itself.

    scripts/idle-wakeups.py [--dir DIR] [--samples 200]
"""
import argparse
import os
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
    return percentiles(times)


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
    return percentiles(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", help="where the database goes (default: a fresh directory under /tmp)")
    parser.add_argument("--samples", type=int, default=200, help="samples per gap (a third of them at 100 ms)")
    options = parser.parse_args()
    if options.samples < 10:
        parser.error("--samples must be at least 10")
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
        print(f"Idle gap before each sample; {options.samples} samples per gap ({max(10, options.samples // 3)} at 100 ms),"
              f" database in {directory}, µs")
        print()
        print("| idle gap | ping-pong p50 | p90 | synced commit p50 | p90 |")
        print("| --- | --- | --- | --- | --- |")
        for gap_ms in GAPS_MS:
            samples = max(10, options.samples // 3) if gap_ms >= 100 else options.samples
            pong = ping_pong(gap_ms / 1000, samples, near)
            commit = synced_commit(gap_ms / 1000, samples, db, counter)
            print(f"| {gap_ms} ms | {pong[0]} | {pong[1]} | {commit[0]} | {commit[1]} |")
        db.close()
    finally:
        near.send(b"q")
        os.waitpid(child, 0)
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
