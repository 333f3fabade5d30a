#!/usr/bin/env bash
# Connection scale with multiplexing: many sysbench clients (default 2,000) running oltp_point_select, direct to
# MariaDB (one server connection per client), through ProxyFleet limited to 50 backend connections
# (mysql_servers.max_connections), and through HAProxy (one server connection per client), taking turns.
# Reports QPS, p99, errors and the most server connections seen at once (sampled on MariaDB).
#
#   bench/multiplex.sh                     # 3 rounds of 10 s with 2,000 clients
#   bench/multiplex.sh --clients 1000 --rounds 5 --time 6
#   bench/multiplex.sh --smoke             # 1 round of 3 s with 100 clients onto 10 connections; docs left alone
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
    sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    echo "Options: --smoke, --clients N, --backend-connections N, --rounds N, --time SECONDS, --no-doc"
}

rounds=3
seconds=10
clients=2000
backend_connections=50
write_doc=true
setups="direct proxyfleet haproxy"
command_line="bench/multiplex.sh${*:+ $*}"

while (($#)); do
    case "$1" in
        --smoke) rounds=1; seconds=3; clients=100; backend_connections=10; write_doc=false ;;
        --clients) clients="$2"; shift ;;
        --backend-connections) backend_connections="$2"; shift ;;
        --rounds) rounds="$2"; shift ;;
        --time) seconds="$2"; shift ;;
        --no-doc) write_doc=false ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; exit 2 ;;
    esac
    shift
done

# Every client is a socket in sysbench, and in HAProxy twice.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
(($(ulimit -n) >= 2 * clients + 200)) || bench_die "ulimit -n is $(ulimit -n); $clients clients need $((2 * clients + 200))"

bench_require sysbench python3 mysql
bench_start_mariadb
bench_start_proxyfleet
bench_start_haproxy
bench_sysbench_prepare
bench_admin_sql "UPDATE mysql_servers SET max_connections = $backend_connections; LOAD MYSQL SERVERS TO RUNTIME;"

# Samples MariaDB's connections from the benchmark user until the file $1 disappears; prints the maximum.
sample_server_connections() {
    local flag="$1" most=0 now
    while [[ -e "$flag" ]]; do
        now="$(bench_mariadb_sql "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = '$BENCH_USER'" \
            2>/dev/null || echo 0)"
        ((now > most)) && most="$now"
        sleep 0.2
    done
    echo "$most"
}

results="$BENCH_TMP/multiplex.tsv"
: >"$results"
started="$(date -u '+%Y-%m-%d %H:%M UTC')"
for ((round = 1; round <= rounds; round++)); do
    for setup in $setups; do
        flag="$BENCH_TMP/sampling"
        touch "$flag"
        sample_server_connections "$flag" >"$BENCH_TMP/most.txt" &
        sampler=$!
        bench_sysbench_once "$results" "$round" oltp_point_select disable "$clients" "$seconds" "$setup"
        rm -f "$flag"
        wait "$sampler"
        printf '%s\t%s\t%s\n' "$round" "$setup" "$(cat "$BENCH_TMP/most.txt")" >>"$BENCH_TMP/most.tsv"
    done
done

table="$BENCH_TMP/table.md"
python3 - "$results" "$BENCH_TMP/most.tsv" "$clients" "$backend_connections" >"$table" <<'EOF'
import statistics, sys
from collections import defaultdict
results, most_file, clients, limit = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
qps, p99, errors, failed, most = defaultdict(list), defaultdict(list), defaultdict(int), defaultdict(int), defaultdict(list)
direct_by_round = {}
for line in open(results):
    f = line.rstrip("\n").split("\t")
    rnd, setup, status = f[0], f[4], f[5]
    if status != "ok":
        failed[setup] += 1
        continue
    qps[setup].append(float(f[6]))
    p99[setup].append(float(f[10]))
    errors[setup] += int(f[11])
    if setup == "direct":
        direct_by_round[rnd] = float(f[6])
ratios = defaultdict(list)
for line in open(results):
    f = line.rstrip("\n").split("\t")
    if f[5] == "ok" and f[0] in direct_by_round:
        ratios[f[4]].append(float(f[6]) / direct_by_round[f[0]])
for line in open(most_file):
    rnd, setup, n = line.split()
    most[setup].append(int(n))
print(f"{clients} clients, oltp_point_select without prepared statements; ProxyFleet limited to {limit} backend connections.")
print()
print("| setup | QPS (median) | ratio to direct | p99 ms (median) | errors | failed runs | most server connections |")
print("|---|---|---|---|---|---|---|")
for setup in ("direct", "proxyfleet", "haproxy"):
    med = lambda xs, fmt: fmt.format(statistics.median(xs)) if xs else "-"
    print(f"| {setup} | {med(qps[setup], '{:.0f}')} | {med(ratios[setup], '{:.2f}')} | {med(p99[setup], '{:.1f}')} "
          f"| {errors[setup]} | {failed[setup]} | {max(most[setup]) if most[setup] else '-'} |")
EOF
echo
cat "$table"
bench_report_failures

if [[ "$write_doc" == true ]]; then
    section="$BENCH_TMP/section.md"
    {
        echo "Measured $started with \`$command_line\`: $rounds rounds of ${seconds}s runs, setups in turn ($setups)."
        echo
        bench_machine_description
        echo
        cat "$table"
    } >"$section"
    bench_update_doc multiplex "$section"
fi
