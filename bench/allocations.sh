#!/usr/bin/env bash
# Java heap allocated per statement by ProxyFleet during one sysbench run (oltp_point_select unless --test), and
# where: a JFR recording (jdk.ObjectAllocationSample, whose weights add up to what was allocated) of the
# measured run only, after a warm-up. Prints bytes per statement and the top allocation sites and classes (`jfr
# view`).
#
#   bench/allocations.sh                   # 8 threads, 10 s, text protocol
#   bench/allocations.sh --ps auto --threads 1 --time 5
#   bench/allocations.sh --smoke           # 1 thread, 2 s
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bench_profile_options "$@"
# Sites and classes shown; the rest is summed into the total only.
top=15

bench_require sysbench python3 mysql
bench_start_mariadb
bench_start_proxyfleet
bench_sysbench_prepare

bench_sysbench_once "$BENCH_TMP/warmup.tsv" 0 "$test_name" "$ps_mode" "$threads" "$warmup" proxyfleet
recording="$BENCH_TMP/allocations.jfr"
"$JAVA_HOME/bin/jcmd" "$PF_PID" JFR.start name=allocations settings=profile >/dev/null
log="$BENCH_TMP/sysbench-measured.log"
bench_profile_run proxyfleet "$log"
"$JAVA_HOME/bin/jcmd" "$PF_PID" JFR.stop name=allocations filename="$recording" >/dev/null

statements="$(awk '/^ *queries:/ { print $2 }' "$log")"
"$JAVA_HOME/bin/jfr" print --events jdk.ObjectAllocationSample --stack-depth 1 "$recording" \
    >"$BENCH_TMP/samples.txt"
echo
python3 - "$BENCH_TMP/samples.txt" "$statements" <<'EOF'
import re
import sys

UNITS = {"bytes": 1, "byte": 1, "kB": 1024, "MB": 1024 ** 2, "GB": 1024 ** 3}
WEIGHT = re.compile(r"^\s*weight = ([0-9.]+) (bytes|byte|kB|MB|GB)")
total = 0.0
with open(sys.argv[1]) as samples:
    for line in samples:
        match = WEIGHT.match(line)
        if match:
            total += float(match.group(1)) * UNITS[match.group(2)]
statements = int(sys.argv[2])
print(f"Statements: {statements}; heap allocated: {total / 1024 ** 2:.1f} MiB, "
      f"{total / statements:.0f} bytes per statement")
EOF
echo
"$JAVA_HOME/bin/jfr" view --width 160 --truncate beginning allocation-by-site "$recording" | head -n $((top + 6))
echo
"$JAVA_HOME/bin/jfr" view --width 160 allocation-by-class "$recording" | head -n $((top + 6))
