#!/usr/bin/env bash
# Connection scale with multiplexing: many sysbench clients (default 2,000) running oltp_point_select, direct to
# MariaDB (one server connection per client), through ProxyFleet limited to 50 backend connections
# (mysql_servers.max_connections), and through HAProxy (one server connection per client), taking turns.
# Reports QPS, p99, errors, the most server connections seen at once (sampled on MariaDB), the backend
# connections ProxyFleet opened during the run (stats_mysql_connection_pool.ConnOK), and the CPU time per
# statement of the relay and of MariaDB (/proc/PID/stat). With BENCH_BASELINE_JAR, a fourth setup "baseline".
#
#   bench/multiplex.sh                     # 3 rounds of 10 s with 2,000 clients
#   bench/multiplex.sh --clients 1000 --rounds 5 --time 6
#   bench/multiplex.sh --smoke             # 1 round of 3 s with 100 clients onto 10 connections; docs left alone
#   bench/multiplex.sh --setups "proxyfleet" --rounds 1   # only some of the setups
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
    sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    echo "Options: --smoke, --clients N, --backend-connections N, --rounds N, --time SECONDS, --setups LIST, --no-doc"
}

rounds=3
seconds=10
clients=2000
backend_connections=50
write_doc=true
setups="$(bench_setups)"
command_line="bench/multiplex.sh${*:+ $*}"

while (($#)); do
    case "$1" in
        --smoke) rounds=1; seconds=3; clients=100; backend_connections=10; write_doc=false ;;
        --clients) clients="$2"; shift ;;
        --backend-connections) backend_connections="$2"; shift ;;
        --rounds) rounds="$2"; shift ;;
        --time) seconds="$2"; shift ;;
        --setups) setups="$2"; shift ;;
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
[[ -z "${BENCH_BASELINE_JAR:-}" ]] || bench_start_baseline
bench_start_haproxy
bench_sysbench_prepare
limit_sql="UPDATE mysql_servers SET max_connections = $backend_connections; LOAD MYSQL SERVERS TO RUNTIME;"
bench_admin_sql "$limit_sql"
[[ -z "${BENCH_BASELINE_JAR:-}" ]] || PF_ADMIN_PORT="$BASELINE_ADMIN_PORT" bench_admin_sql "$limit_sql"

# The relay process of a setup, and the admin port of a ProxyFleet setup (empty for the others).
relay_pid_of() {
    case "$1" in
        proxyfleet) echo "$PF_PID" ;;
        baseline) echo "$BASELINE_PID" ;;
        haproxy) echo "$HAPROXY_PID" ;;
        *) echo "" ;;
    esac
}
admin_port_of() {
    case "$1" in
        proxyfleet) echo "$PF_ADMIN_PORT" ;;
        baseline) echo "$BASELINE_ADMIN_PORT" ;;
        *) echo "" ;;
    esac
}

# CPU time (user + system, in clock ticks) a process has used so far; 0 without one.
cpu_ticks() {
    [[ -n "$1" && -r "/proc/$1/stat" ]] || { echo 0; return; }
    awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}

# Backend connections a ProxyFleet setup opened so far (stats_mysql_connection_pool.ConnOK); 0 for others.
connections_opened() {
    [[ -n "$1" ]] || { echo 0; return; }
    PF_ADMIN_PORT="$1" bench_admin_sql "SELECT COALESCE(SUM(ConnOK), 0) FROM stats_mysql_connection_pool"
}

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
        relay="$(relay_pid_of "$setup")"
        admin="$(admin_port_of "$setup")"
        opened_before="$(connections_opened "$admin")"
        relay_before="$(cpu_ticks "$relay")"
        server_before="$(cpu_ticks "$MARIADB_PID")"
        bench_sysbench_once "$results" "$round" oltp_point_select disable "$clients" "$seconds" "$setup"
        relay_ticks=$(($(cpu_ticks "$relay") - relay_before))
        server_ticks=$(($(cpu_ticks "$MARIADB_PID") - server_before))
        opened=$(($(connections_opened "$admin") - opened_before))
        rm -f "$flag"
        wait "$sampler"
        printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$setup" "$(cat "$BENCH_TMP/most.txt")" "$opened" \
            "$relay_ticks" "$server_ticks" >>"$BENCH_TMP/most.tsv"
    done
done

table="$BENCH_TMP/table.md"
python3 - "$results" "$BENCH_TMP/most.tsv" "$clients" "$backend_connections" "$seconds" "$(getconf CLK_TCK)" \
    "$setups" >"$table" <<'EOF'
import statistics, sys
from collections import defaultdict
results, most_file, clients, limit = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
seconds, ticks_per_second, setups = float(sys.argv[5]), float(sys.argv[6]), sys.argv[7].split()
opened, relay_us, server_us = defaultdict(list), defaultdict(list), defaultdict(list)
qps_by_run = {}
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
    qps_by_run[(rnd, setup)] = float(f[6])
    if setup == "direct":
        direct_by_round[rnd] = float(f[6])
ratios = defaultdict(list)
for line in open(results):
    f = line.rstrip("\n").split("\t")
    if f[5] == "ok" and f[0] in direct_by_round:
        ratios[f[4]].append(float(f[6]) / direct_by_round[f[0]])
for line in open(most_file):
    rnd, setup, n, conns, relay_ticks, server_ticks = line.split()
    most[setup].append(int(n))
    statements = qps_by_run.get((rnd, setup), 0) * seconds
    if statements:
        opened[setup].append(int(conns))
        relay_us[setup].append(int(relay_ticks) / ticks_per_second * 1e6 / statements)
        server_us[setup].append(int(server_ticks) / ticks_per_second * 1e6 / statements)
print(f"{clients} clients, oltp_point_select without prepared statements; ProxyFleet limited to {limit} backend connections.")
print("CPU per statement: user + system time of the relay process and of mariadbd during the run, over its statements.")
print()
print("| setup | QPS (median) | ratio to direct | p99 ms (median) | errors | failed runs | most server connections "
      "| backend connections opened (median) | relay CPU µs/stmt | MariaDB CPU µs/stmt |")
print("|---|---|---|---|---|---|---|---|---|---|")
for setup in setups:
    med = lambda xs, fmt: fmt.format(statistics.median(xs)) if xs else "-"
    proxy = setup in ("proxyfleet", "baseline")
    print(f"| {setup} | {med(qps[setup], '{:.0f}')} | {med(ratios[setup], '{:.2f}')} | {med(p99[setup], '{:.1f}')} "
          f"| {errors[setup]} | {failed[setup]} | {max(most[setup]) if most[setup] else '-'} "
          f"| {med(opened[setup], '{:.0f}') if proxy else '-'} "
          f"| {med(relay_us[setup], '{:.1f}') if setup != 'direct' else '-'} | {med(server_us[setup], '{:.1f}')} |")
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
