#!/usr/bin/env bash
# Throughput and latency with sysbench: oltp_point_select and oltp_read_only, with server-side prepared
# statements (--db-ps-mode=auto) and without (disable), at 1, 8 and 64 threads, against MariaDB directly,
# through ProxyFleet and through HAProxy (tcp mode), taking turns (direct, proxyfleet, haproxy, direct, ...).
# Prints a markdown table of medians over rounds and ratios to direct, and records it in docs/benchmarks.md.
#
#   bench/sysbench.sh                      # 3 rounds of 10 s runs (about 18 minutes)
#   bench/sysbench.sh --rounds 5 --time 6 --threads "8 64"
#   bench/sysbench.sh --smoke              # 1 round of 1 s runs at 1 and 8 threads; docs left alone
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
    sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    echo "Options: --smoke, --rounds N, --time SECONDS, --threads \"LIST\", --tests \"LIST\", --ps \"LIST\", --no-doc"
}

rounds=3
seconds=10
warmup=5
thread_counts="1 8 64"
write_doc=true
smoke=false
tests="oltp_point_select oltp_read_only"
ps_modes="disable auto"
setups="$(bench_setups)"
command_line="bench/sysbench.sh${*:+ $*}"

while (($#)); do
    case "$1" in
        --smoke) smoke=true; rounds=1; seconds=1; warmup=0; thread_counts="1 8"; write_doc=false ;;
        --rounds) rounds="$2"; shift ;;
        --time) seconds="$2"; shift ;;
        --threads) thread_counts="$2"; shift ;;
        --tests) tests="$2"; shift ;;
        --ps) ps_modes="$2"; shift ;;
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
bench_sysbench_matrix "$results" "$rounds" "$seconds" "$tests" "$ps_modes" "$thread_counts" "$setups"

table="$BENCH_TMP/table.md"
python3 "$BENCH_ROOT/bench/summarize.py" sysbench "$results" >"$table"
echo
cat "$table"
bench_report_failures

if [[ "$write_doc" == true ]]; then
    section="$BENCH_TMP/section.md"
    {
        echo "Measured $started with \`$command_line\`: $rounds rounds of ${seconds}s runs per configuration,"
        echo "$BENCH_SYSBENCH_TABLES tables of $BENCH_SYSBENCH_TABLE_SIZE rows, setups in turn ($setups)."
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
    bench_update_doc sysbench "$section"
fi
