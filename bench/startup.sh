#!/usr/bin/env bash
# Start-up time: from launching a node until (1) its admin port answers `SELECT 1`, on a new data directory (first
# start: TLS files generated, SQLite schema created) and again on the same one (restart), and (2) a client's
# `SELECT 1` through the traffic port is answered by MariaDB, with servers and users from the config file (-c).
# Each is polled every 20 ms with the mysql client; the node's CPU time (user + system) at that moment is reported
# too, as it moves less with other load on the machine. Setups run in turn, one round after the other.
#
#   bench/startup.sh                          # 5 rounds; setups: aot (bin/proxyfleet's defaults), no-aot
#   bench/startup.sh --baseline OLD.jar       # adds "baseline": OLD.jar run as bin/proxyfleet ran it before issue 11
#   bench/startup.sh --smoke                  # 1 round of the default setup; docs left alone
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
    sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    echo "Options: --smoke, --rounds N, --baseline JAR, --no-doc"
}

rounds=5
baseline_jar=""
write_doc=true
smoke=false
command_line="bench/startup.sh${*:+ $*}"
readonly POLL_S=0.02
readonly READY_TIMEOUT_S=120
readonly CLOCK_TICKS="$(getconf CLK_TCK)"

while (($#)); do
    case "$1" in
        --smoke) rounds=1; write_doc=false; smoke=true ;;
        --rounds) rounds="$2"; shift ;;
        --baseline) baseline_jar="$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"; shift ;;
        --no-doc) write_doc=false ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; exit 2 ;;
    esac
    shift
done

bench_require mysql
bench_start_mariadb

if [[ -n "${PROXYFLEET_CLASSPATH:-}" ]]; then
    setups="classpath"
else
    bench_build_jar
    setups="aot no-aot"
fi
[[ -z "$baseline_jar" ]] || setups="$setups baseline"
[[ "$smoke" == false ]] || setups="${setups%% *}"

# The command line of SETUP into the array CMD.
java_command_of() {
    case "$1" in
        classpath)
            proxyfleet_jvm_options
            CMD=("$JAVA_HOME/bin/java" "${PROXYFLEET_JVM_OPTIONS[@]}" -cp "$PROXYFLEET_CLASSPATH" io.proxyfleet.Main) ;;
        aot) proxyfleet_java_command "$(bench_jar)"; CMD=("${PROXYFLEET_JAVA_CMD[@]}") ;;
        no-aot) PROXYFLEET_AOT=off proxyfleet_java_command "$(bench_jar)"; CMD=("${PROXYFLEET_JAVA_CMD[@]}") ;;
        # What bin/proxyfleet ran before issue 11: the JVM's own defaults.
        baseline) CMD=("$JAVA_HOME/bin/java" "${PROXYFLEET_JVM_REQUIRED[@]}" -jar "$baseline_jar") ;;
    esac
}

# Writes a config file for DIR with free ports; with "traffic", also MariaDB as server and the bench user.
write_config() {
    local dir="$1" with="$2"
    ADMIN_PORT="$(bench_free_port)"
    TRAFFIC_PORT="$(bench_free_port)"
    {
        echo "datadir=\"$dir\""
        echo "admin_variables={ admin_credentials=\"$BENCH_ADMIN_USER:$BENCH_ADMIN_PASSWORD\""
        echo "    mysql_ifaces=\"$BENCH_HOST:$ADMIN_PORT\" }"
        echo "mysql_variables={ interfaces=\"$BENCH_HOST:$TRAFFIC_PORT\" server_version=\"5.5.30\" }"
        if [[ "$with" == traffic ]]; then
            echo "mysql_servers=( { address=\"$BENCH_HOST\", port=$MARIADB_PORT, hostgroup=0 } )"
            echo "mysql_users=( { username=\"$BENCH_USER\", password=\"$BENCH_PASSWORD\", default_hostgroup=0 } )"
        fi
    } >"$dir/node.cnf"
}

admin_ready() {
    mysql --no-defaults -h"$BENCH_HOST" -P"$ADMIN_PORT" -u"$BENCH_ADMIN_USER" -p"$BENCH_ADMIN_PASSWORD" \
        -N -B -e "SELECT 1" >/dev/null 2>&1
}

traffic_ready() {
    mysql --no-defaults --skip-ssl -h"$BENCH_HOST" -P"$TRAFFIC_PORT" -u"$BENCH_USER" -p"$BENCH_PASSWORD" \
        -N -B -e "SELECT 1" >/dev/null 2>&1
}

# Launches SETUP on DIR and polls READY; sets MS (wall) and CPU (the node's, both in ms). Stops the node after.
measure() {
    local setup="$1" dir="$2" ready="$3" pid started ended cpu deadline
    java_command_of "$setup"
    started="$(date +%s%N)"
    "${CMD[@]}" -f -D "$dir" -c "$dir/node.cnf" >>"$dir/console.log" 2>&1 &
    pid=$!
    BENCH_PIDS+=("$pid")
    deadline=$((SECONDS + READY_TIMEOUT_S))
    until "$ready"; do
        kill -0 "$pid" 2>/dev/null || { tail -n 20 "$dir/console.log" >&2; bench_die "$setup exited during start-up"; }
        ((SECONDS < deadline)) || bench_die "$setup not ready in ${READY_TIMEOUT_S}s (log: $dir/console.log)"
        sleep "$POLL_S"
    done
    ended="$(date +%s%N)"
    # utime and stime: fields 14 and 15 of /proc/PID/stat, counted after the command name's closing parenthesis.
    cpu="$(sed 's/.*) //' "/proc/$pid/stat" | awk -v hz="$CLOCK_TICKS" '{ printf "%d", ($12 + $13) * 1000 / hz }')"
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    MS=$(((ended - started) / 1000000))
    CPU="$cpu"
}

results="$BENCH_TMP/startup.tsv"
: >"$results"
for ((round = 1; round <= rounds; round++)); do
    for setup in $setups; do
        dir="$BENCH_TMP/$setup-$round-admin"
        mkdir -p "$dir"
        write_config "$dir" admin
        measure "$setup" "$dir" admin_ready
        printf '%s\tfirst start: admin SELECT 1\t%s\t%s\n' "$setup" "$MS" "$CPU" >>"$results"
        bench_log "round $round $setup first start, admin: $MS ms (cpu $CPU ms)"
        measure "$setup" "$dir" admin_ready
        printf '%s\trestart: admin SELECT 1\t%s\t%s\n' "$setup" "$MS" "$CPU" >>"$results"
        bench_log "round $round $setup restart, admin: $MS ms (cpu $CPU ms)"
        dir="$BENCH_TMP/$setup-$round-traffic"
        mkdir -p "$dir"
        write_config "$dir" traffic
        measure "$setup" "$dir" traffic_ready
        printf '%s\tfirst start: traffic SELECT 1 from -c\t%s\t%s\n' "$setup" "$MS" "$CPU" >>"$results"
        bench_log "round $round $setup first start, traffic: $MS ms (cpu $CPU ms)"
    done
done

table="$BENCH_TMP/table.md"
{
    echo "| Setup | Until | Median ms | Min..max ms | Median CPU ms | Rounds |"
    echo "|---|---|---:|---:|---:|---:|"
    for setup in $setups; do
        for what in "first start: admin SELECT 1" "restart: admin SELECT 1" "first start: traffic SELECT 1 from -c"; do
            ms="$(awk -F'\t' -v s="$setup" -v w="$what" '$1 == s && $2 == w { print $3 }' "$results")"
            cpu="$(awk -F'\t' -v s="$setup" -v w="$what" '$1 == s && $2 == w { print $4 }' "$results")"
            echo "| $setup | $what | $(echo "$ms" | bench_median) | $(echo "$ms" | sort -n | head -1)..$(echo "$ms" | sort -n | tail -1)" \
                 "| $(echo "$cpu" | bench_median) | $(echo "$ms" | wc -l) |"
        done
    done
} >"$table"
echo
cat "$table"

if [[ "$write_doc" == true ]]; then
    section="$BENCH_TMP/section.md"
    {
        echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') with \`$command_line\`: $rounds rounds, setups in turn ($setups)."
        echo "\`aot\` is bin/proxyfleet's command (bin/jvm-options.sh, with the ahead-of-time cache), \`no-aot\` the"
        echo "same without the cache$([[ -z "$baseline_jar" ]] || echo ", \`baseline\` the jar given with --baseline run with the JVM's own defaults")."
        echo
        bench_machine_description
        echo
        cat "$table"
    } >"$section"
    bench_update_doc startup "$section"
fi
