# shellcheck shell=bash
# Shared by the bench/*.sh scripts (sourced, not run). It starts, on 127.0.0.1 only and on free ports:
#   - a throwaway MariaDB (bench_start_mariadb), installed into a temporary directory like the test fixture
#     io.proxyfleet.testkit.MariaDb does it, with a benchmark user and database;
#   - one ProxyFleet node (bench_start_proxyfleet) from the built jar, configured through its admin port;
#   - HAProxy in tcp mode in front of the same MariaDB (bench_start_haproxy), the L4 floor of any extra hop.
# Everything started here is stopped, and every temporary file removed, when the calling script exits.
#
# Environment:
#   PROXYFLEET_CLASSPATH   run io.proxyfleet.Main from this class path instead of the jar (the smoke test uses
#                          its own class path so that it never rebuilds target/ under a running Maven)
#   PROXYFLEET_JAVA_OPTS   extra JVM options for the node (for example -Xmx512m)
#   BENCH_PROXY_THREADS    mysql-threads of the node (default: nproc)
#   BENCH_KEEP=1           keep the temporary directory (logs) after exit
#   BENCH_BASELINE_JAR     a ProxyFleet jar built from another commit: the sysbench and latency scripts then run it
#                          as a fourth setup, "baseline", taking turns with the others (before/after in one run)
#   BENCH_BASELINE_JAVA_OPTS  JVM options of the baseline node (default: PROXYFLEET_JAVA_OPTS); with this tree's jar
#                          as BENCH_BASELINE_JAR, it compares two settings of one build (a transport, say)

BENCH_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=../bin/java-env.sh
source "$BENCH_ROOT/bin/java-env.sh"
# shellcheck source=../bin/jvm-options.sh
source "$BENCH_ROOT/bin/jvm-options.sh"
export PATH="$PATH:/usr/sbin:/sbin"

readonly BENCH_HOST=127.0.0.1
readonly BENCH_USER=sbtest
readonly BENCH_PASSWORD=sbtest-pass
readonly BENCH_DB=sbtest
readonly BENCH_ADMIN_USER=admin
readonly BENCH_ADMIN_PASSWORD=admin
# Servers answer within seconds on an idle machine; a loaded 2-core machine needs more headroom.
readonly BENCH_START_TIMEOUT_S=90
# Enough for 64 sysbench threads per setup plus the idle-connection benchmark through the proxy.
readonly BENCH_MARIADB_MAX_CONNECTIONS=4000
readonly BENCH_PROXY_MAX_CONNECTIONS=30000

BENCH_TMP="$(mktemp -d "${TMPDIR:-/tmp}/proxyfleet-bench.XXXXXX")"
BENCH_PIDS=()
MARIADB_PORT=""
MARIADB_PID=""
MARIADB_SOCKET=""
PF_PORT=""
PF_ADMIN_PORT=""
PF_PID=""
HAPROXY_PORT=""
HAPROXY_PID=""
BASELINE_PORT=""
BASELINE_ADMIN_PORT=""
BASELINE_PID=""

bench_log() {
    echo "[$(date -u +%H:%M:%S)] $*" >&2
}

bench_die() {
    bench_log "ERROR: $*"
    exit 1
}

bench_cleanup() {
    local status=$? idx pid tries
    trap - EXIT
    # Stop in reverse start order: relays before the server they relay to.
    for ((idx = ${#BENCH_PIDS[@]} - 1; idx >= 0; idx--)); do
        pid="${BENCH_PIDS[idx]}"
        kill "$pid" 2>/dev/null || continue
        for ((tries = 0; tries < 50; tries++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if [[ "${BENCH_KEEP:-0}" == 1 ]]; then
        bench_log "kept $BENCH_TMP"
    else
        rm -rf "$BENCH_TMP"
    fi
    exit "$status"
}
trap bench_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bench_require() {
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null 2>&1 || bench_die "$tool is not installed"
    done
}

# Installs Debian packages that are missing (HAProxy, pv) when we may: as root or with password-less sudo.
bench_apt_install() {
    local sudo_cmd=()
    [[ "$(id -u)" -eq 0 ]] || sudo_cmd=(sudo -n)
    bench_log "installing $*"
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q "$@" >&2 \
        || { "${sudo_cmd[@]}" apt-get update -q >&2 \
             && DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q "$@" >&2; }
}

bench_free_port() {
    python3 "$(dirname "${BASH_SOURCE[0]}")/free-port.py"
}

# Waits until "$@" succeeds; fails if the process $1 died or the timeout passed.
bench_wait_for() {
    local pid="$1" what="$2" log="$3" deadline
    shift 3
    deadline=$((SECONDS + BENCH_START_TIMEOUT_S))
    until "$@" >/dev/null 2>&1; do
        if ! kill -0 "$pid" 2>/dev/null; then
            tail -n 30 "$log" >&2 || true
            bench_die "$what exited during start-up (log: $log)"
        fi
        ((SECONDS < deadline)) || { tail -n 30 "$log" >&2; bench_die "$what not ready in ${BENCH_START_TIMEOUT_S}s"; }
        sleep 0.2
    done
}

# ------------------------------------------------------------------------------------------------ MariaDB

# Runs SQL on MariaDB as root over its socket; extra arguments go to the mysql client.
bench_mariadb_sql() {
    local sql="$1"
    shift
    mysql --no-defaults -S "$MARIADB_SOCKET" -uroot -N -B "$@" -e "$sql"
}

bench_start_mariadb() {
    local dir="$BENCH_TMP/mariadb" user_arg=()
    mkdir -p "$dir"
    bench_require mariadbd mariadb-install-db mysql
    # mariadbd refuses to run as root unless told to.
    [[ "$(id -u)" -eq 0 ]] && user_arg=(--user=root)
    local server_args=(
        --innodb-buffer-pool-size=256M
        --innodb-log-file-size=64M
        --innodb-flush-log-at-trx-commit=2
        --key-buffer-size=1M
        --skip-name-resolve
        --character-set-server=utf8mb4
        --collation-server=utf8mb4_general_ci
        --max-connections="$BENCH_MARIADB_MAX_CONNECTIONS"
        --max-allowed-packet=64M
    )
    mariadb-install-db --no-defaults --auth-root-authentication-method=normal --datadir="$dir/data" \
        --skip-test-db "${user_arg[@]}" "${server_args[@]}" >"$dir/install.log" 2>&1 \
        || { tail -n 30 "$dir/install.log" >&2; bench_die "mariadb-install-db failed"; }
    MARIADB_PORT="$(bench_free_port)"
    MARIADB_SOCKET="$dir/mysql.sock"
    mariadbd --no-defaults --datadir="$dir/data" --port="$MARIADB_PORT" --bind-address="$BENCH_HOST" \
        --socket="$MARIADB_SOCKET" --pid-file="$dir/mysql.pid" --log-error="$dir/error.log" --server-id=1 \
        "${user_arg[@]}" "${server_args[@]}" >"$dir/console.log" 2>&1 &
    MARIADB_PID=$!
    BENCH_PIDS+=("$MARIADB_PID")
    bench_wait_for "$MARIADB_PID" mariadbd "$dir/error.log" bench_mariadb_sql "SELECT 1"
    bench_mariadb_sql "CREATE USER '$BENCH_USER'@'%' IDENTIFIED VIA mysql_native_password
                           USING PASSWORD('$BENCH_PASSWORD');
                       GRANT ALL PRIVILEGES ON *.* TO '$BENCH_USER'@'%';
                       CREATE DATABASE $BENCH_DB;"
    bench_log "MariaDB $(bench_mariadb_version) on $BENCH_HOST:$MARIADB_PORT (pid $MARIADB_PID)"
}

bench_mariadb_version() {
    bench_mariadb_sql "SELECT VERSION()"
}

# ------------------------------------------------------------------------------------------------ ProxyFleet

bench_jar() {
    local each
    for each in "$BENCH_ROOT"/target/proxyfleet-*.jar; do
        case "$each" in
            *-sources.jar|*-tests.jar|*-javadoc.jar) ;;
            *) [[ -f "$each" ]] && { echo "$each"; return; } ;;
        esac
    done
    return 0
}

# Builds the jar once (and again only when sources are newer), as bin/proxyfleet does.
bench_build_jar() {
    local jar
    jar="$(bench_jar)"
    if [[ -z "$jar" || -n "$(find "$BENCH_ROOT/src/main" "$BENCH_ROOT/pom.xml" -newer "$jar" -print -quit)" ]]; then
        bench_log "building ProxyFleet (mvn -q -B -DskipTests package)"
        (cd "$BENCH_ROOT" && mvn -q -B -DskipTests package) >&2
        jar="$(bench_jar)"
    fi
    # Built now rather than in the background by the first start, which would compete with the measurements.
    proxyfleet_jvm_options
    if [[ "${PROXYFLEET_AOT:-on}" != off && ! -s "$(proxyfleet_aot_file "$jar")" ]]; then
        bench_log "building the ahead-of-time cache (bin/jvm-options.sh)"
        proxyfleet_aot_build "$jar" || bench_log "the AOT cache could not be built; ProxyFleet starts without it"
    fi
}

bench_admin_sql() {
    mysql --no-defaults -h"$BENCH_HOST" -P"$PF_ADMIN_PORT" -u"$BENCH_ADMIN_USER" -p"$BENCH_ADMIN_PASSWORD" \
        -N -B -e "$1"
}

# Starts a node; sets PF_PORT, PF_ADMIN_PORT and PF_PID. Arguments (both optional): a name for its directory
# (default proxyfleet) and a jar to run instead of this tree's.
bench_start_proxyfleet() {
    local dir="$BENCH_TMP/${1:-proxyfleet}" jar="${2:-}" cnf java_cmd threads
    mkdir -p "$dir"
    threads="${BENCH_PROXY_THREADS:-$(nproc)}"
    PF_PORT="$(bench_free_port)"
    PF_ADMIN_PORT="$(bench_free_port)"
    cnf="$dir/proxyfleet.cnf"
    cat >"$cnf" <<EOF
datadir="$dir"
admin_variables=
{
    admin_credentials="$BENCH_ADMIN_USER:$BENCH_ADMIN_PASSWORD"
    mysql_ifaces="$BENCH_HOST:$PF_ADMIN_PORT"
}
mysql_variables=
{
    interfaces="$BENCH_HOST:$PF_PORT"
    threads=$threads
    max_connections=$BENCH_PROXY_MAX_CONNECTIONS
    server_version="5.5.30"
}
EOF
    # bin/proxyfleet's JVM options (bin/jvm-options.sh), and its ahead-of-time cache when running this tree's jar.
    if [[ -n "$jar" ]]; then
        proxyfleet_jvm_options
        java_cmd=("$JAVA_HOME/bin/java" "${PROXYFLEET_JVM_OPTIONS[@]}" -jar "$jar")
    elif [[ -n "${PROXYFLEET_CLASSPATH:-}" ]]; then
        proxyfleet_jvm_options
        java_cmd=("$JAVA_HOME/bin/java" "${PROXYFLEET_JVM_OPTIONS[@]}" -cp "$PROXYFLEET_CLASSPATH" io.proxyfleet.Main)
    else
        bench_build_jar
        proxyfleet_java_command "$(bench_jar)"
        java_cmd=("${PROXYFLEET_JAVA_CMD[@]}")
    fi
    "${java_cmd[@]}" -f -D "$dir" -c "$cnf" >"$dir/console.log" 2>&1 &
    PF_PID=$!
    BENCH_PIDS+=("$PF_PID")
    bench_wait_for "$PF_PID" ProxyFleet "$dir/console.log" bench_admin_sql "SELECT 1"
    bench_admin_sql "INSERT INTO mysql_servers (hostgroup_id, hostname, port, max_connections)
                         VALUES (0, '$BENCH_HOST', $MARIADB_PORT, $BENCH_MARIADB_MAX_CONNECTIONS);
                     INSERT INTO mysql_users (username, password, default_hostgroup)
                         VALUES ('$BENCH_USER', '$BENCH_PASSWORD', 0);
                     LOAD MYSQL SERVERS TO RUNTIME;
                     LOAD MYSQL USERS TO RUNTIME;"
    bench_wait_for "$PF_PID" ProxyFleet "$dir/console.log" \
        mysql --no-defaults -h"$BENCH_HOST" -P"$PF_PORT" -u"$BENCH_USER" -p"$BENCH_PASSWORD" -e "SELECT 1"
    bench_log "ProxyFleet traffic $BENCH_HOST:$PF_PORT admin $PF_ADMIN_PORT (pid $PF_PID, mysql-threads=$threads)"
}

# Starts the node of $BENCH_BASELINE_JAR as setup "baseline" (BASELINE_PORT), leaving PF_* to this tree's node.
bench_start_baseline() {
    local port="$PF_PORT" admin="$PF_ADMIN_PORT" pid="$PF_PID"
    [[ -f "$BENCH_BASELINE_JAR" ]] || bench_die "BENCH_BASELINE_JAR: no such file: $BENCH_BASELINE_JAR"
    PROXYFLEET_JAVA_OPTS="${BENCH_BASELINE_JAVA_OPTS-${PROXYFLEET_JAVA_OPTS:-}}" \
        bench_start_proxyfleet baseline "$BENCH_BASELINE_JAR"
    BASELINE_PORT="$PF_PORT"
    BASELINE_ADMIN_PORT="$PF_ADMIN_PORT"
    BASELINE_PID="$PF_PID"
    PF_PORT="$port"
    PF_ADMIN_PORT="$admin"
    PF_PID="$pid"
}

# The setups of a comparison: direct, [baseline,] proxyfleet, haproxy.
bench_setups() {
    if [[ -n "${BENCH_BASELINE_JAR:-}" ]]; then
        echo "direct baseline proxyfleet haproxy"
    else
        echo "direct proxyfleet haproxy"
    fi
}

bench_proxyfleet_log() {
    echo "$BENCH_TMP/proxyfleet/console.log"
}

# A field of /proc/PID/status in KiB (VmRSS, VmHWM).
bench_proc_kib() {
    awk -v key="$2:" '$1 == key { print $2 }' "/proc/$1/status"
}

# Resets VmHWM to the current RSS (Linux >= 4.0), so the next peak belongs to the next measurement.
bench_reset_peak_rss() {
    echo 5 >"/proc/$1/clear_refs"
}

# ------------------------------------------------------------------------------------------------ HAProxy

bench_start_haproxy() {
    local dir="$BENCH_TMP/haproxy" cfg maxconn
    mkdir -p "$dir"
    command -v haproxy >/dev/null 2>&1 || bench_apt_install haproxy
    bench_require haproxy
    HAPROXY_PORT="$(bench_free_port)"
    cfg="$dir/haproxy.cfg"
    # Each relayed connection holds two descriptors; HAProxy refuses to start if maxconn needs more than
    # the process may open.
    maxconn=$((($(ulimit -n) - 100) / 2))
    cat >"$cfg" <<EOF
global
    maxconn $maxconn
defaults
    mode tcp
    timeout connect 5s
    timeout client 1h
    timeout server 1h
listen mariadb
    bind $BENCH_HOST:$HAPROXY_PORT
    server db $BENCH_HOST:$MARIADB_PORT
EOF
    haproxy -db -f "$cfg" >"$dir/console.log" 2>&1 &
    HAPROXY_PID=$!
    BENCH_PIDS+=("$HAPROXY_PID")
    bench_wait_for "$HAPROXY_PID" haproxy "$dir/console.log" \
        mysql --no-defaults -h"$BENCH_HOST" -P"$HAPROXY_PORT" -u"$BENCH_USER" -p"$BENCH_PASSWORD" -e "SELECT 1"
    bench_log "HAProxy $(bench_haproxy_version) on $BENCH_HOST:$HAPROXY_PORT (pid $HAPROXY_PID)"
}

bench_haproxy_version() {
    haproxy -v | awk 'NR == 1 { print $3 }'
}

# Port of a setup by name: direct, proxyfleet, haproxy.
bench_port_of() {
    case "$1" in
        direct) echo "$MARIADB_PORT" ;;
        proxyfleet) echo "$PF_PORT" ;;
        baseline) echo "$BASELINE_PORT" ;;
        haproxy) echo "$HAPROXY_PORT" ;;
        *) bench_die "unknown setup $1" ;;
    esac
}

# ------------------------------------------------------------------------------------------------ reporting

# The machine, as a markdown bullet list.
bench_machine_description() {
    local cpu mem java_version
    cpu="$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
    mem="$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
    java_version="$("$JAVA_HOME/bin/java" -version 2>&1 | head -n 1)"
    echo "- CPU: ${cpu:-unknown}, nproc $(nproc)"
    echo "- Memory: $mem"
    echo "- Kernel: $(uname -sr)"
    # Other work on a shared machine shows here; it explains more noise than anything else.
    echo "- Load average (1, 5, 15 min) when this section was written: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "- Java: $java_version"
    if [[ -n "$MARIADB_SOCKET" ]]; then
        echo "- MariaDB: $(bench_mariadb_version)"
    fi
    if command -v sysbench >/dev/null 2>&1; then
        echo "- sysbench: $(sysbench --version | awk '{ print $2 }')"
    fi
    if command -v haproxy >/dev/null 2>&1; then
        echo "- HAProxy: $(bench_haproxy_version)"
    fi
    echo "- ProxyFleet: $(git -C "$BENCH_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)," \
         "mysql-threads=${BENCH_PROXY_THREADS:-$(nproc)}, JVM options: bin/jvm-options.sh${PROXYFLEET_JAVA_OPTS:+ + $PROXYFLEET_JAVA_OPTS}"
    if [[ -n "${BENCH_BASELINE_JAR:-}" ]]; then
        echo "- baseline: ProxyFleet from $BENCH_BASELINE_JAR (BENCH_BASELINE_JAR)," \
             "JVM options: bin/jvm-options.sh + ${BENCH_BASELINE_JAVA_OPTS-${PROXYFLEET_JAVA_OPTS:-none}}"
    fi
}

# Replaces the section between "<!-- bench:NAME:begin -->" and "<!-- bench:NAME:end -->" in
# docs/benchmarks.md with the content of file $2 (appends the section when it is not there yet).
bench_update_doc() {
    local name="$1" content="$2" doc="$BENCH_ROOT/docs/benchmarks.md"
    local begin="<!-- bench:$name:begin -->" end="<!-- bench:$name:end -->"
    mkdir -p "$(dirname "$doc")"
    [[ -f "$doc" ]] || printf '# Benchmarks\n' >"$doc"
    if grep -qF "$begin" "$doc"; then
        awk -v begin="$begin" -v end="$end" -v file="$content" '
            $0 == begin { print; while ((getline line < file) > 0) print line; skipping = 1; next }
            $0 == end { skipping = 0 }
            !skipping { print }
        ' "$doc" >"$doc.tmp"
        mv "$doc.tmp" "$doc"
    else
        { echo; echo "$begin"; cat "$content"; echo "$end"; } >>"$doc"
    fi
    bench_log "updated the $name section of docs/benchmarks.md"
}

# The median of the numbers on stdin, one a line ("-" when there are none).
bench_median() {
    sort -g | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print "-"; exit }
        if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# ------------------------------------------------------------------------------------------------ sysbench

BENCH_SYSBENCH_TABLES=4
BENCH_SYSBENCH_TABLE_SIZE=25000
# A run that takes this much longer than --time has hung.
readonly BENCH_SYSBENCH_GRACE_S=60
BENCH_FAILURES="$BENCH_TMP/failures.txt"
: >"$BENCH_FAILURES"

bench_sysbench_args() {
    local port="$1"
    echo --db-driver=mysql --mysql-host="$BENCH_HOST" --mysql-port="$port" --mysql-user="$BENCH_USER" \
        --mysql-password="$BENCH_PASSWORD" --mysql-db="$BENCH_DB" --tables="$BENCH_SYSBENCH_TABLES" \
        --table-size="$BENCH_SYSBENCH_TABLE_SIZE"
}

bench_sysbench_prepare() {
    bench_require sysbench
    bench_log "sysbench prepare: $BENCH_SYSBENCH_TABLES tables of $BENCH_SYSBENCH_TABLE_SIZE rows"
    # shellcheck disable=SC2046 # the option list is meant to split
    sysbench oltp_read_only $(bench_sysbench_args "$MARIADB_PORT") prepare >"$BENCH_TMP/prepare.log" 2>&1 \
        || { tail -n 20 "$BENCH_TMP/prepare.log" >&2; bench_die "sysbench prepare failed"; }
}

# Runs sysbench TEST with PS_MODE (auto|disable) and THREADS for SECONDS against SETUP and appends one line
# to RESULTS (see summarize.py). A failed or hung run is recorded as failed, its log kept in $BENCH_FAILURES.
bench_sysbench_once() {
    local results="$1" round="$2" test="$3" ps="$4" threads="$5" seconds="$6" setup="$7" port log figures
    port="$(bench_port_of "$setup")"
    log="$BENCH_TMP/sysbench-$round-$test-$ps-$threads-$setup.log"
    # shellcheck disable=SC2046 # the option list is meant to split
    if timeout "$((seconds + BENCH_SYSBENCH_GRACE_S))" sysbench "$test" $(bench_sysbench_args "$port") \
            --threads="$threads" --time="$seconds" --db-ps-mode="$ps" --histogram=on --percentile=99 \
            --report-interval=0 run >"$log" 2>&1 \
        && figures="$(python3 "$BENCH_ROOT/bench/summarize.py" run "$log")"; then
        # shellcheck disable=SC2086 # figures is six numbers separated by spaces
        printf '%s\t%s\t%s\t%s\t%s\tok\t%s\n' "$round" "$test" "$ps" "$threads" "$setup" \
            "$(echo $figures | tr ' ' '\t')" >>"$results"
        bench_log "round $round $test ps=$ps threads=$threads $setup: $figures"
    else
        printf '%s\t%s\t%s\t%s\t%s\tfailed\t-\t-\t-\t-\t-\t-\n' "$round" "$test" "$ps" "$threads" "$setup" \
            >>"$results"
        bench_log "round $round $test ps=$ps threads=$threads $setup: FAILED (log below)"
        {
            echo "### round $round, $test, --db-ps-mode=$ps, --threads=$threads, $setup (port $port)"
            echo '```'
            tail -n 25 "$log"
            echo '```'
        } | tee -a "$BENCH_FAILURES" >&2
    fi
    kill -0 "$PF_PID" 2>/dev/null || bench_die "ProxyFleet died; see $(bench_proxyfleet_log)"
}

# The interleaved matrix: every round runs every configuration on every setup in turn (A B C, A B C, ...).
bench_sysbench_matrix() {
    local results="$1" rounds="$2" seconds="$3" tests="$4" ps_modes="$5" thread_counts="$6" setups="$7"
    local round test ps threads setup
    for ((round = 1; round <= rounds; round++)); do
        for test in $tests; do
            for ps in $ps_modes; do
                for threads in $thread_counts; do
                    for setup in $setups; do
                        bench_sysbench_once "$results" "$round" "$test" "$ps" "$threads" "$seconds" "$setup"
                    done
                done
            done
        done
    done
}

# Prints failed runs' logs, if any, under a heading.
bench_report_failures() {
    if [[ -s "$BENCH_FAILURES" ]]; then
        echo
        echo "Failed runs:"
        echo
        cat "$BENCH_FAILURES"
    fi
}

# Unrecorded runs on every setup first, so that the JIT compiler has warmed ProxyFleet's hot paths and every
# setup's connections and caches are as warm as in the runs that count.
bench_sysbench_warmup() {
    local seconds="$1" tests="$2" ps_modes="$3" setups="$4" warm="$BENCH_TMP/warmup.tsv"
    ((seconds > 0)) || return 0
    bench_log "warm-up: ${seconds}s per test and PS mode on each setup, not recorded"
    bench_sysbench_matrix "$warm" 1 "$seconds" "$tests" "$ps_modes" 8 "$setups"
    sed -i 's/^### round 1,/### warm-up,/' "$BENCH_FAILURES"
}

# ---- the profiling scripts (allocations.sh, syscalls.sh): one measured sysbench run each (--test, oltp_point_select by default)

# Parses the options every profiling script takes into threads, seconds, ps_mode and warmup.
bench_profile_options() {
    threads=8
    seconds=10
    ps_mode=disable
    warmup=10
    # Any sysbench OLTP test: oltp_read_only shows the relay of larger results and transactions.
    test_name=oltp_point_select
    while (($#)); do
        case "$1" in
            --smoke) threads=1; seconds=2; warmup=1; BENCH_SYSBENCH_TABLES=1; BENCH_SYSBENCH_TABLE_SIZE=1000 ;;
            --threads) threads="$2"; shift ;;
            --time) seconds="$2"; shift ;;
            --ps) ps_mode="$2"; shift ;;
            --warmup) warmup="$2"; shift ;;
            --test) test_name="$2"; shift ;;
            -h|--help) bench_profile_usage; exit 0 ;;
            *) bench_profile_usage >&2; exit 2 ;;
        esac
        shift
    done
}

# The calling script's header comment is its usage text.
bench_profile_usage() {
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
    echo "Options: --smoke, --threads N, --time SECONDS, --ps auto|disable, --warmup SECONDS, --test SYSBENCH_TEST"
}

# The measured run through SETUP with the parsed options, its sysbench output in LOG.
bench_profile_run() {
    local setup="$1" log="$2"
    # shellcheck disable=SC2046 # the option list is meant to split
    sysbench "$test_name" $(bench_sysbench_args "$(bench_port_of "$setup")") --threads="$threads" \
        --time="$seconds" --db-ps-mode="$ps_mode" --report-interval=0 run >"$log" 2>&1 \
        || { tail -n 20 "$log" >&2; bench_die "sysbench through $setup failed"; }
}
