#!/usr/bin/env bash
# System calls per statement made by the relay itself: one sysbench run (oltp_point_select unless --test)
# through ProxyFleet and one through HAProxy (tcp mode), each relay traced with `strace -c -f` (every thread of
# the process) for the length of the run. Prints a table of calls per statement for each system call, and the
# total. Calls of the JVM's housekeeping threads (GC, JIT, timers) are included: they are part of what the node
# costs. Under ptrace every call is slow, so QPS here means nothing; the counts per statement are what to
# compare. With BENCH_BASELINE_JAR (see lib.sh), a node built from another commit is traced too, as "baseline".
#
#   bench/syscalls.sh                      # 8 threads, 10 s per relay, text protocol
#   bench/syscalls.sh --threads 1 --ps auto --time 5
#   bench/syscalls.sh --smoke              # 1 thread, 2 s
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bench_profile_options "$@"
setups="proxyfleet haproxy"
[[ -z "${BENCH_BASELINE_JAR:-}" ]] || setups="baseline proxyfleet haproxy"

command -v strace >/dev/null 2>&1 || bench_apt_install strace
bench_require sysbench python3 mysql strace
bench_start_mariadb
bench_start_proxyfleet
[[ -z "${BENCH_BASELINE_JAR:-}" ]] || bench_start_baseline
bench_start_haproxy
bench_sysbench_prepare

pid_of() {
    case "$1" in
        proxyfleet) echo "$PF_PID" ;;
        baseline) echo "$BASELINE_PID" ;;
        haproxy) echo "$HAPROXY_PID" ;;
    esac
}

# JIT-compiles the relay's path before it is traced; HAProxy gets the same run so both start equally warm.
for setup in $setups; do
    bench_sysbench_once "$BENCH_TMP/warmup.tsv" 0 "$test_name" "$ps_mode" "$threads" "$warmup" "$setup"
done

for setup in $setups; do
    log="$BENCH_TMP/sysbench-$setup.log"
    trace="$BENCH_TMP/strace-$setup.txt"
    # -c counts instead of printing each call; -f with -p attaches to every thread of the process.
    strace -c -f -o "$trace" -p "$(pid_of "$setup")" 2>"$BENCH_TMP/strace-$setup.err" &
    tracer=$!
    # strace attaches asynchronously: wait until it has attached to the process before the run starts.
    for ((tries = 0; tries < 100; tries++)); do
        grep -q "attached" "$BENCH_TMP/strace-$setup.err" 2>/dev/null && break
        sleep 0.1
    done
    bench_profile_run "$setup" "$log"
    kill -INT "$tracer"
    wait "$tracer" || true
    bench_log "$setup: $(grep -E '^\s+queries:' "$log" | tr -s ' ')"
done

echo
python3 - "$BENCH_TMP" $setups <<'EOF'
import re
import sys

tmp, setups = sys.argv[1], sys.argv[2:]
QUERIES = re.compile(r"^\s*queries:\s+([0-9]+)")
# strace -c: "% time  seconds  usecs/call  calls  [errors]  syscall"
ROW = re.compile(r"^\s*[0-9.]+\s+[0-9.]+\s+[0-9]+\s+([0-9]+)\s+(?:([0-9]+)\s+)?([a-z_0-9]+)\s*$")
# Calls rarer than this per statement are start-up or housekeeping noise, left out of the table (not the total).
SHOWN_PER_STATEMENT = 0.005

per_statement = {}
totals = {}
for setup in setups:
    with open(f"{tmp}/sysbench-{setup}.log") as log:
        statements = next(int(m.group(1)) for m in map(QUERIES.match, log) if m)
    counts = {}
    with open(f"{tmp}/strace-{setup}.txt") as trace:
        for line in trace:
            match = ROW.match(line)
            if match and match.group(3) != "total":
                counts[match.group(3)] = int(match.group(1))
    per_statement[setup] = {name: calls / statements for name, calls in counts.items()}
    totals[setup] = (sum(counts.values()) / statements, statements)

names = sorted({n for s in setups for n, v in per_statement[s].items() if v >= SHOWN_PER_STATEMENT},
               key=lambda n: -max(per_statement[s].get(n, 0) for s in setups))
print("| System call | " + " | ".join(f"{s} per statement" for s in setups) + " |")
print("|---|" + "---:|" * len(setups))
for name in names:
    print(f"| {name} | " + " | ".join(f"{per_statement[s].get(name, 0):.3f}" for s in setups) + " |")
print("| **total** | " + " | ".join(f"**{totals[s][0]:.2f}**" for s in setups) + " |")
print()
print("Statements traced: " + ", ".join(f"{s} {totals[s][1]}" for s in setups))
EOF
