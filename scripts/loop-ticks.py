"""Repeats a tick file (tardis.dev trades or HistData quotes) to LINES rows, each copy's times shifted past the
previous copy's end (plus a second), prices unchanged: a large file of real rows for benchmarks. With
--every-us N (tardis.dev trades only) the rows are instead N microseconds apart, a steady feed of 1e6/N ticks/s
of real prices.

usage: scripts/loop-ticks.py SOURCE DESTINATION LINES [--every-us N]
"""
import sys, datetime
src, dst, total = sys.argv[1], sys.argv[2], int(sys.argv[3])
every_us = int(sys.argv[5]) if len(sys.argv) > 5 and sys.argv[4] == '--every-us' else None
lines = open(src).read().splitlines()
header = None
if not lines[0][0].isdigit():
    header, lines = lines[0], lines[1:]
out = open(dst, 'w')
if header: out.write(header + '\n')
def tardis(lines, total):
    first = int(lines[0].split(',')[2]); last = int(lines[-1].split(',')[2])
    if every_us:
        for n in range(total):
            f = lines[n % len(lines)].split(',')
            f[2] = f[3] = str(first + n * every_us)
            out.write(','.join(f) + '\n')
        return
    span = last - first + 1_000_000
    n = 0; cycle = 0
    while n < total:
        off = cycle * span
        for l in lines:
            f = l.split(',')
            f[2] = str(int(f[2]) + off); f[3] = str(int(f[3]) + off)
            out.write(','.join(f) + '\n'); n += 1
            if n >= total: return
        cycle += 1
def histdata(lines, total):
    fmt = '%Y%m%d %H%M%S%f'
    def parse(s): return datetime.datetime.strptime(s + '000', fmt)
    first = parse(lines[0].split(',')[0]); last = parse(lines[-1].split(',')[0])
    span = last - first + datetime.timedelta(seconds=1)
    times = [parse(l.split(',')[0]) - first for l in lines]
    rest = [l.split(',', 1)[1] for l in lines]
    n = 0; cycle = 0
    while n < total:
        base = first + cycle * span
        for t, r in zip(times, rest):
            s = (base + t).strftime(fmt)[:-3]
            out.write(s + ',' + r + '\n'); n += 1
            if n >= total: return
        cycle += 1
if header and header.startswith('exchange'): tardis(lines, total)
elif every_us: sys.exit('--every-us needs a tardis.dev trades file')
else: histdata(lines, total)
