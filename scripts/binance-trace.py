#!/usr/bin/env python3
"""Where an order's time goes inside routerd, from its system calls (`scripts/bench-binance --trace`).

Reads `perf script -F tid,time,event,trace` output of routerd's syscall tracepoints (read, write/writev/sendmsg,
pwrite64, fdatasync) and a snapshot of its descriptors taken during the run (`ls -l /proc/PID/fd` and
/proc/net/unix), finds each `router.placeOrder` from the IPC request read to the reply written, and splits it at
the first WAL write (the `pending_new` insert), the synced `sent` commit, the `POST /api/v3/order` written to the
fake (its head, and its last bytes: the body goes once the commit is synced), its answer read, and the record's WAL writes. Prints a Markdown table of each segment's p50 and p90.

    binance-trace.py TRACE_TXT FDS_TXT NET_UNIX_TXT
"""
import re
import statistics
import sys

EVENT = re.compile(r"\s*(\d+)\s+([\d.]+):\s+syscalls:(sys_enter|sys_exit)_(\w+):\s*(.*)")


def descriptors(fds_path, unix_path):
    """The IPC connection's fd (a Unix socket that is not listening), the other sockets' fds, the WAL's fds."""
    listening = set()
    unix = set()
    with open(unix_path) as table:
        next(table)
        for line in table:
            fields = line.split()
            if len(fields) >= 7:
                unix.add(fields[6])
                if fields[3] == "00010000":
                    listening.add(fields[6])
    ipc, sockets, wal = [], [], []
    with open(fds_path) as listing:
        for line in listing:
            match = re.search(r"\s(\d+) -> (.*)$", line)
            if not match:
                continue
            fd, target = int(match.group(1)), match.group(2)
            inode = re.fullmatch(r"socket:\[(\d+)\]", target)
            if inode and inode.group(1) in unix:
                if inode.group(1) not in listening:
                    ipc.append(fd)
            elif inode:
                sockets.append(fd)
            elif target.endswith("-wal"):
                wal.append(fd)
    return ipc, sockets, wal


def events(trace_path):
    """(time, kind, fd or duration) in time order: 'r' a read that got bytes, 'w' a write, 'p' a pwrite64,
    'sync' an fdatasync (its duration)."""
    entered, out = {}, []
    with open(trace_path) as trace:
        for line in trace:
            match = EVENT.match(line)
            if not match:
                continue
            tid, time, kind, call, rest = match.groups()
            time = float(time)
            if kind == "sys_enter":
                fd = re.search(r"fd: 0x([0-9a-f]+)", rest)
                fd = int(fd.group(1), 16) if fd else None
                entered[tid] = (fd, time)
                if call in ("write", "writev", "sendmsg"):
                    out.append((time, "w", fd))
                elif call == "pwrite64":
                    out.append((time, "p", fd))
            elif tid in entered:
                fd, started = entered.pop(tid)
                value = rest.strip()
                result = int(value, 16) if value.startswith("0x") else -1
                if call == "read" and 0 < result < 2**62:
                    out.append((time, "r", fd))
                elif call == "fdatasync":
                    out.append((time, "sync", time - started))
    out.sort(key=lambda event: event[0])
    return out


def main():
    trace_path, fds_path, unix_path = sys.argv[1:4]
    ipc_fds, socket_fds, wal_fds = descriptors(fds_path, unix_path)
    timeline = events(trace_path)
    if len(ipc_fds) != 1:
        sys.exit(f"binance-trace: expected one IPC connection in the snapshot, found fds {ipc_fds}")
    ipc = ipc_fds[0]
    # REST connections answer what they are sent; the WebSocket streams mostly receive.
    writes = {fd: sum(1 for e in timeline if e[1] == "w" and e[2] == fd) for fd in socket_fds}
    reads = {fd: sum(1 for e in timeline if e[1] == "r" and e[2] == fd) for fd in socket_fds}
    rest = {fd for fd in socket_fds if writes[fd] >= 10 and 2 * writes[fd] >= reads[fd]}
    pwrites = {fd: sum(1 for e in timeline if e[1] == "p" and e[2] == fd) for fd in wal_fds}
    wal = max(pwrites, key=pwrites.get) if pwrites else None
    rows, i = [], 0
    while i < len(timeline):
        time, kind, fd = timeline[i]
        if not (kind == "r" and fd == ipc):
            i += 1
            continue
        start, marks, j, rest_fd = time, {}, i + 1, None
        while j < len(timeline):
            t, k, value = timeline[j]
            # The request's head may go while the sync runs, its body (the order's parameters) after it: "send" is
            # the last write before the answer, "head" the first (docs/venues/binance.md).
            if "answer" not in marks:
                if k == "p" and value == wal:
                    marks.setdefault("insert", t)
                elif k == "sync" and "synced" not in marks:
                    marks["synced"], marks["sync"] = t, value
                elif k == "w" and value in rest:
                    marks.setdefault("head", t)
                    marks["send"], rest_fd = t, value
                elif k == "r" and value == rest_fd and "synced" in marks:
                    marks["answer"] = t
            elif k == "p" and value == wal:
                marks.setdefault("record", t)
                marks["recorded"] = t
            elif k == "w" and value == ipc:
                marks["reply"] = t
                break
            j += 1
        if all(key in marks for key in ("insert", "synced", "send", "answer", "record", "reply")):
            rows.append({
                "h": marks["head"] - start,
                "a": marks["insert"] - start, "b": marks["synced"] - marks["insert"], "s": marks["sync"],
                "c": marks["send"] - marks["synced"], "d": marks["answer"] - marks["send"],
                "e": marks["record"] - marks["answer"], "f": marks["recorded"] - marks["record"],
                "g": marks["reply"] - marks["recorded"], "all": marks["reply"] - start,
                "own": marks["reply"] - start - (marks["answer"] - marks["send"]),
            })
        i = j
    if not rows:
        sys.exit("binance-trace: no complete order found in the trace")
    segments = [
        ("a", "IPC request read → first WAL write (decode, hop to routerd's core thread, exclusive section, lookup of the id, checks)"),
        ("b", "`pending_new` insert and `sent` commit, synced"),
        ("s", "  of which the `fdatasync`"),
        ("h", "IPC request read → the POST's first bytes written (its head, while the sync runs)"),
        ("c", "synced → POST's last bytes written (the order's parameters, once granted; before: the whole request)"),
        ("d", "POST written → answer read: **the fake**"),
        ("e", "answer read → first WAL write of the record (hops back, decoding, fills, report, hop to the core thread)"),
        ("f", "the record written (order, fill, events; not synced)"),
        ("g", "→ IPC reply written (events published, log line, hop to the IPC loop)"),
        ("own", "**routerd's own time** (all but the fake)"),
        ("all", "IPC request read → IPC reply written"),
    ]
    print(f"| segment ({len(rows)} orders traced) | p50 µs | p90 µs |")
    print("| --- | --- | --- |")
    for key, name in segments:
        values = sorted(row[key] * 1e6 for row in rows)
        print(f"| {name} | {statistics.median(values):.0f} | {values[int(len(values) * 0.9)]:.0f} |")


if __name__ == "__main__":
    main()
