#!/usr/bin/env python3
"""Parses sysbench output and turns interleaved benchmark results into markdown tables.

    summarize.py run LOG              one sysbench log -> "qps tps p50 p95 p99 errors" (latencies in ms)
    summarize.py sysbench RESULTS     throughput table: medians over rounds, ratios to direct
    summarize.py latency RESULTS      added latency per statement at 1 thread, in microseconds

RESULTS is a tab-separated file, one run a line:
    round test ps_mode threads setup status qps tps p50 p95 p99 errors
status is "ok" or "failed"; the numbers of a failed run are "-".

Ratios are paired: each round's figure divided by (or minus) direct's figure of the same round and
configuration, then the median over rounds, so that drift of a shared, noisy machine between rounds
cancels out as far as it can.
"""
import re
import statistics
import sys
from collections import defaultdict

SETUP_ORDER = ["direct", "baseline", "proxyfleet", "haproxy"]
PERCENTILES = (50, 95, 99)
MICROS_PER_MILLI = 1000.0
MICROS_PER_SECOND = 1_000_000.0

HISTOGRAM_LINE = re.compile(r"^\s*([0-9.]+)\s+\|\**\s+([0-9]+)\s*$")
QUERIES_LINE = re.compile(r"^\s*queries:\s+[0-9]+\s+\(([0-9.]+) per sec\.\)")
TRANSACTIONS_LINE = re.compile(r"^\s*transactions:\s+[0-9]+\s+\(([0-9.]+) per sec\.\)")
ERRORS_LINE = re.compile(r"^\s*ignored errors:\s+([0-9]+)")


def parse_run(path):
    """QPS, TPS, p50/p95/p99 (ms, from sysbench's latency histogram) and ignored errors of one run."""
    buckets = []
    qps = tps = None
    errors = 0
    in_histogram = False
    with open(path, encoding="utf-8", errors="replace") as log:
        for line in log:
            if line.startswith("Latency histogram"):
                in_histogram = True
                continue
            if in_histogram:
                match = HISTOGRAM_LINE.match(line)
                if match:
                    buckets.append((float(match.group(1)), int(match.group(2))))
                    continue
                if "distribution" in line:
                    continue
                in_histogram = False
            if (match := QUERIES_LINE.match(line)):
                qps = float(match.group(1))
            elif (match := TRANSACTIONS_LINE.match(line)):
                tps = float(match.group(1))
            elif (match := ERRORS_LINE.match(line)):
                errors = int(match.group(1))
    if qps is None or tps is None or not buckets:
        raise SystemExit(f"{path}: no sysbench statistics or histogram found")
    total = sum(count for _, count in buckets)
    figures = []
    for pct in PERCENTILES:
        wanted = total * pct / 100.0
        seen = 0
        for value, count in buckets:
            seen += count
            if seen >= wanted:
                figures.append(value)
                break
    return qps, tps, figures, errors


def read_results(path):
    """{(test, ps, threads): {setup: [row per round]}} with rows as dicts; keeps file order of configs."""
    configs = {}
    with open(path, encoding="utf-8") as results:
        for line in results:
            fields = line.rstrip("\n").split("\t")
            if len(fields) != 12:
                continue
            rnd, test, ps, threads, setup, status, qps, tps, p50, p95, p99, errors = fields
            row = {"round": int(rnd), "status": status}
            if status == "ok":
                row.update(qps=float(qps), tps=float(tps), p50=float(p50), p95=float(p95), p99=float(p99),
                           errors=int(errors))
            configs.setdefault((test, ps, int(threads)), defaultdict(list))[setup].append(row)
    return configs


def ok_rows(rows):
    return [row for row in rows if row["status"] == "ok"]


def median_of(values, fmt):
    return fmt.format(statistics.median(values)) if values else "-"


def paired(rows, direct_rows, key, combine):
    """combine(setup figure, direct figure) for each round both completed."""
    direct_by_round = {row["round"]: row for row in ok_rows(direct_rows)}
    return [combine(row[key], direct_by_round[row["round"]][key])
            for row in ok_rows(rows) if row["round"] in direct_by_round and direct_by_round[row["round"]][key]]


def sysbench_table(path):
    configs = read_results(path)
    print("| Test | PS mode | Threads | Setup | QPS | QPS ×direct | p50 ms | p95 ms | p99 ms | p99 ×direct "
          "| Errors | Runs ok |")
    print("|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for (test, ps, threads), by_setup in configs.items():
        direct = by_setup.get("direct", [])
        for setup in SETUP_ORDER:
            rows = by_setup.get(setup)
            if not rows:
                continue
            good = ok_rows(rows)
            qps_ratio = paired(rows, direct, "qps", lambda a, b: a / b)
            p99_ratio = paired(rows, direct, "p99", lambda a, b: a / b)
            print(f"| {test} | {ps} | {threads} | {setup} "
                  f"| {median_of([r['qps'] for r in good], '{:.0f}')} "
                  f"| {median_of(qps_ratio, '{:.2f}') if setup != 'direct' else '1'} "
                  f"| {median_of([r['p50'] for r in good], '{:.3f}')} "
                  f"| {median_of([r['p95'] for r in good], '{:.3f}')} "
                  f"| {median_of([r['p99'] for r in good], '{:.3f}')} "
                  f"| {median_of(p99_ratio, '{:.2f}') if setup != 'direct' else '1'} "
                  f"| {sum(r['errors'] for r in good)} | {len(good)}/{len(rows)} |")


def latency_table(path):
    configs = read_results(path)
    print("| Test | PS mode | Setup | p50 µs | Added p50 µs | Added p50 µs (min..max) | Mean µs "
          "| Added mean µs | Runs ok |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|")
    for (test, ps, threads), by_setup in configs.items():
        if threads != 1:
            continue
        direct = by_setup.get("direct", [])
        for setup in SETUP_ORDER:
            rows = by_setup.get(setup)
            if not rows:
                continue
            good = ok_rows(rows)
            # At one thread an event's mean latency is the inverse of the event rate, measured exactly.
            for row in good:
                row["mean_us"] = MICROS_PER_SECOND / row["tps"]
            for row in ok_rows(direct):
                row["mean_us"] = MICROS_PER_SECOND / row["tps"]
            added_p50 = paired(rows, direct, "p50", lambda a, b: (a - b) * MICROS_PER_MILLI)
            added_mean = paired(rows, direct, "mean_us", lambda a, b: a - b)
            spread = f"{min(added_p50):.0f}..{max(added_p50):.0f}" if added_p50 and setup != "direct" else "-"
            print(f"| {test} | {ps} | {setup} "
                  f"| {median_of([r['p50'] * MICROS_PER_MILLI for r in good], '{:.0f}')} "
                  f"| {median_of(added_p50, '{:.0f}') if setup != 'direct' else '0'} | {spread} "
                  f"| {median_of([r['mean_us'] for r in good], '{:.0f}')} "
                  f"| {median_of(added_mean, '{:.0f}') if setup != 'direct' else '0'} "
                  f"| {len(good)}/{len(rows)} |")


def main(argv):
    if len(argv) != 3 or argv[1] not in ("run", "sysbench", "latency"):
        raise SystemExit(__doc__)
    if argv[1] == "run":
        qps, tps, (p50, p95, p99), errors = parse_run(argv[2])
        print(f"{qps:.2f} {tps:.2f} {p50:.3f} {p95:.3f} {p99:.3f} {errors}")
    elif argv[1] == "sysbench":
        sysbench_table(argv[2])
    else:
        latency_table(argv[2])


if __name__ == "__main__":
    main(sys.argv)
