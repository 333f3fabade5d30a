#!/usr/bin/env bash
# Added latency per statement at 1 client thread, in microseconds: sysbench oltp_point_select (one statement
# per event) with and without server-side prepared statements, direct to MariaDB, through ProxyFleet and
# through HAProxy (tcp mode), taking turns. Added p50 = the setup's p50 minus direct's p50 of the same round;
# added mean = 1/TPS of the setup minus 1/TPS of direct. Both are medians over rounds.
#
#   bench/latency.sh                  # 5 rounds of 6 s runs (about 3.5 minutes)
#   bench/latency.sh --rounds 9 --time 10
#   bench/latency.sh --smoke          # 1 round of 2 s runs; docs left alone
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
    sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    echo "Options: --smoke, --rounds N, --time SECONDS, --no-doc"
}

rounds=5
seconds=6
warmup=5
write_doc=true
smoke=false
tests="oltp_point_select"
ps_modes="disable auto"
setups="$(bench_setups)"
command_line="bench/latency.sh${*:+ $*}"

while (($#)); do
    case "$1" in
        --smoke) smoke=true; rounds=1; seconds=2; warmup=0; write_doc=false ;;
        --rounds) rounds="$2"; shift ;;
        --time) seconds="$2"; shift ;;
        --no-doc) write_doc=false ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; exit 2 ;;
    esac
    shift
done
if [[ "$smoke" == true ]]; then
    BENCH_SYSBENCH_TABLES=1
    BENCH_SYSBENCH_TABLE_SIZE=1000
fi

bench_require sysbench python3 mysql
bench_start_mariadb
bench_start_proxyfleet
[[ -z "${BENCH_BASELINE_JAR:-}" ]] || bench_start_baseline
bench_start_haproxy
bench_sysbench_prepare

results="$BENCH_TMP/results.tsv"
: >"$results"
started="$(date -u '+%Y-%m-%d %H:%M UTC')"
bench_sysbench_warmup "$warmup" "$tests" "$ps_modes" "$setups"
bench_sysbench_matrix "$results" "$rounds" "$seconds" "$tests" "$ps_modes" 1 "$setups"

table="$BENCH_TMP/table.md"
python3 "$BENCH_ROOT/bench/summarize.py" latency "$results" >"$table"
echo
cat "$table"
bench_report_failures

if [[ "$write_doc" == true ]]; then
    section="$BENCH_TMP/section.md"
    {
        echo "Measured $started with \`$command_line\`: $rounds rounds of ${seconds}s runs at 1 thread,"
        echo "setups in turn ($setups)."
        echo
        bench_machine_description
        echo
        cat "$table"
        if [[ -s "$BENCH_FAILURES" ]]; then
            echo
            echo "Failed runs in this measurement:"
            echo
            cat "$BENCH_FAILURES"
        fi
    } >"$section"
    bench_update_doc latency "$section"
fi
