#!/usr/bin/env bash
# Connection scale: N idle client connections logged in through ProxyFleet. Reports the node's resident memory
# (VmRSS of /proc/PID/status) before and with the clients, per connection, again after a full GC, and how many
# backend connections the idle clients hold (stats_mysql_connection_pool on the admin port, Threads_connected
# on MariaDB).
#
#   bench/idle-connections.sh               # 10,000 idle connections
#   bench/idle-connections.sh --count 2000
#   bench/idle-connections.sh --smoke       # 200 connections; docs left alone
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
    sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    echo "Options: --smoke, --count N, --no-doc"
}

count=10000
write_doc=true
command_line="bench/idle-connections.sh${*:+ $*}"
# Time to let the node settle (lazy allocations, GC) before each reading.
readonly SETTLE_S=3
# Descriptors the node and the client need beyond one per connection.
readonly SPARE_DESCRIPTORS=1000
# Logins through a loaded 2-core machine: allow 20 ms each and a minute more.
readonly LOGIN_BUDGET_MS=20

while (($#)); do
    case "$1" in
        --smoke) count=200; write_doc=false ;;
        --count) count="$2"; shift ;;
        --no-doc) write_doc=false ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; exit 2 ;;
    esac
    shift
done

# The client and the node each hold one descriptor per connection; both inherit this limit.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
(($(ulimit -n) >= count + SPARE_DESCRIPTORS)) \
    || bench_die "ulimit -n is $(ulimit -n); $count connections need $((count + SPARE_DESCRIPTORS)) (raise the hard limit)"

bench_require python3 mysql
bench_start_mariadb
bench_start_proxyfleet

pool_counts() {
    bench_admin_sql "SELECT COALESCE(SUM(ConnUsed), 0) || '/' || COALESCE(SUM(ConnFree), 0)
                     FROM stats_mysql_connection_pool"
}
threads_connected() {
    bench_mariadb_sql "SHOW GLOBAL STATUS LIKE 'Threads_connected'" | awk '{ print $2 }'
}
mib() {
    awk -v kib="$1" 'BEGIN { printf "%.1f MiB", kib / 1024 }'
}
per_connection() {
    awk -v before="$1" -v after="$2" -v n="$3" 'BEGIN { if (n > 0) printf "%.1f KiB", (after - before) / n; else print "-" }'
}

# A few sessions with a query first, so that the "before" figure includes what any first session allocates.
for _ in 1 2 3; do
    mysql --no-defaults -h"$BENCH_HOST" -P"$PF_PORT" -u"$BENCH_USER" -p"$BENCH_PASSWORD" -e "SELECT 1" >/dev/null
done
sleep "$SETTLE_S"
rss_before="$(bench_proc_kib "$PF_PID" VmRSS)"
pool_before="$(pool_counts)"
threads_before="$(threads_connected)"
bench_log "before: RSS $(mib "$rss_before"), pool used/free $pool_before, MariaDB Threads_connected $threads_before"

clients_out="$BENCH_TMP/idle-clients.out"
python3 "$BENCH_ROOT/bench/idle_clients.py" "$BENCH_HOST" "$PF_PORT" "$BENCH_USER" "$BENCH_PASSWORD" "$count" \
    >"$clients_out" 2>"$BENCH_TMP/idle-clients.err" &
clients_pid=$!
BENCH_PIDS+=("$clients_pid")
deadline=$((SECONDS + 60 + count * LOGIN_BUDGET_MS / 1000))
until grep -q '^connected' "$clients_out"; do
    kill -0 "$clients_pid" 2>/dev/null || { cat "$BENCH_TMP/idle-clients.err" >&2; bench_die "the idle client died"; }
    kill -0 "$PF_PID" 2>/dev/null || bench_die "ProxyFleet died; see $(bench_proxyfleet_log)"
    ((SECONDS < deadline)) || bench_die "$count logins did not finish in time"
    sleep 0.5
done
read -r _ connected failed login_seconds <"$clients_out"
if [[ -s "$BENCH_TMP/idle-clients.err" ]]; then
    bench_log "client errors (first few):"
    cat "$BENCH_TMP/idle-clients.err" >&2
fi
sleep "$SETTLE_S"
rss_with="$(bench_proc_kib "$PF_PID" VmRSS)"
pool_with="$(pool_counts)"
threads_with="$(threads_connected)"
bench_log "with $connected idle clients: RSS $(mib "$rss_with"), pool $pool_with, Threads_connected $threads_with"

# How much of that is live data rather than garbage not yet collected: the collector may return free heap after a
# full GC.
"$JAVA_HOME/bin/jcmd" "$PF_PID" GC.run >/dev/null
sleep "$SETTLE_S"
rss_gc="$(bench_proc_kib "$PF_PID" VmRSS)"
# One line per generation (Serial) or one for the heap (G1), from GC.heap_info's "total ... used ..." lines.
heap_info="$("$JAVA_HOME/bin/jcmd" "$PF_PID" GC.heap_info \
    | awk '/ total .* used / { $1 = $1; sub(/ \[.*/, ""); line = line (line ? "; " : "") $0 } END { print line }')"
bench_log "after a full GC, clients still connected: RSS $(mib "$rss_gc"); $heap_info"

kill "$clients_pid"
wait "$clients_pid" 2>/dev/null || true
sleep "$SETTLE_S"
rss_closed="$(bench_proc_kib "$PF_PID" VmRSS)"
pool_closed="$(pool_counts)"
kill -0 "$PF_PID" 2>/dev/null || bench_die "ProxyFleet died; see $(bench_proxyfleet_log)"
mysql --no-defaults -h"$BENCH_HOST" -P"$PF_PORT" -u"$BENCH_USER" -p"$BENCH_PASSWORD" -e "SELECT 1" >/dev/null \
    || bench_die "ProxyFleet no longer serves queries after the idle clients left"

table="$BENCH_TMP/table.md"
{
    echo "| Measure | Value |"
    echo "|---|---:|"
    echo "| Idle client connections logged in | $connected of $count ($failed failed) in ${login_seconds}s |"
    echo "| ProxyFleet RSS before | $(mib "$rss_before") |"
    echo "| RSS with the idle clients | $(mib "$rss_with") |"
    echo "| RSS per idle connection | $(per_connection "$rss_before" "$rss_with" "$connected") |"
    echo "| RSS with the idle clients after a full GC | $(mib "$rss_gc") |"
    echo "| RSS per idle connection after a full GC | $(per_connection "$rss_before" "$rss_gc" "$connected") |"
    echo "| RSS after the clients left | $(mib "$rss_closed") |"
    echo "| Backend connections used/free, before | $pool_before |"
    echo "| Backend connections used/free, with the idle clients | $pool_with |"
    echo "| Backend connections used/free, after the clients left | $pool_closed |"
    echo "| MariaDB Threads_connected before (includes this script's own session) | $threads_before |"
    echo "| MariaDB Threads_connected with the idle clients | $threads_with |"
} >"$table"
echo
cat "$table"

if [[ "$write_doc" == true ]]; then
    section="$BENCH_TMP/section.md"
    {
        echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') with \`$command_line\`. Heap after the full GC: $heap_info."
        echo
        bench_machine_description
        echo
        cat "$table"
    } >"$section"
    bench_update_doc idle-connections "$section"
fi
