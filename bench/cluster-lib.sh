# shellcheck shell=bash
# Shared by bench/cluster-demo.sh and bench/convergence.sh (sourced, not run). It starts, on 127.0.0.1 only and
# on free ports:
#   - a throwaway MariaDB (cl_start_mariadb) in a temporary directory, as the test fixture
#     io.proxyfleet.testkit.MariaDb does, with an application user;
#   - N ProxyFleet nodes (cl_start_cluster N) that list each other in proxysql_servers and share the cluster
#     credentials cluster1/clusterpass; every other cluster setting keeps its default.
# Everything started here is stopped, and the temporary directory removed, when the calling script exits or is
# interrupted (Ctrl-C).
#
# Environment:
#   PROXYFLEET_CLASSPATH   run io.proxyfleet.Main from this class path instead of the jar (a test sets it so that
#                          nothing is rebuilt under a running Maven)
#   PROXYFLEET_JAVA_OPTS   JVM options of every node (default: a small heap, so that 10 nodes fit a small machine)
#   CLUSTER_KEEP=1         keep the temporary directory (node logs) after exit

CL_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=../bin/java-env.sh
source "$CL_ROOT/bin/java-env.sh"
export PATH="$PATH:/usr/sbin:/sbin"

readonly CL_HOST=127.0.0.1
readonly CL_ADMIN_USER=admin
readonly CL_ADMIN_PASSWORD=admin
readonly CL_CLUSTER_USER=cluster1
readonly CL_CLUSTER_PASSWORD=clusterpass
readonly CL_APP_USER=app
readonly CL_APP_PASSWORD=app-pass
readonly CL_APP_DB=demo
readonly CL_DEFAULT_JAVA_OPTS="-Xms32m -Xmx192m -XX:+UseSerialGC -XX:TieredStopAtLevel=1"
# A JVM starts within seconds on an idle machine; ten of them on a loaded 2-core machine need more headroom.
readonly CL_START_TIMEOUT_S=120

CL_TMP="$(mktemp -d "${TMPDIR:-/tmp}/proxyfleet-cluster.XXXXXX")"
CL_PIDS=()
MARIADB_PORT=""
MARIADB_SOCKET=""
# Per node, index 1..N (index 0 unused so that node numbers read as in the docs).
CL_ADMIN_PORTS=("")
CL_TRAFFIC_PORTS=("")
CL_NODE_PIDS=("")

cl_log() {
    echo "[$(date -u +%H:%M:%S)] $*" >&2
}

cl_die() {
    cl_log "ERROR: $*"
    exit 1
}

cl_cleanup() {
    local status=$? idx pid tries
    trap - EXIT
    # Reverse start order: the nodes before the MariaDB they proxy to.
    for ((idx = ${#CL_PIDS[@]} - 1; idx >= 0; idx--)); do
        pid="${CL_PIDS[idx]}"
        kill "$pid" 2>/dev/null || continue
    done
    for ((idx = ${#CL_PIDS[@]} - 1; idx >= 0; idx--)); do
        pid="${CL_PIDS[idx]}"
        for ((tries = 0; tries < 100; tries++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if [[ "${CLUSTER_KEEP:-0}" == 1 ]]; then
        cl_log "kept $CL_TMP"
    else
        rm -rf "$CL_TMP"
    fi
    exit "$status"
}
trap cl_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

cl_require() {
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null 2>&1 || cl_die "$tool is not installed (Debian: mariadb-server mariadb-client)"
    done
}

cl_free_port() {
    python3 "$(dirname "${BASH_SOURCE[0]}")/free-port.py"
}

# Waits until "$@" succeeds; fails if the process $1 died or the timeout passed.
cl_wait_for() {
    local pid="$1" what="$2" log="$3" deadline
    shift 3
    deadline=$((SECONDS + CL_START_TIMEOUT_S))
    until "$@" >/dev/null 2>&1; do
        if ! kill -0 "$pid" 2>/dev/null; then
            tail -n 30 "$log" >&2 || true
            cl_die "$what exited during start-up (log: $log)"
        fi
        ((SECONDS < deadline)) || { tail -n 30 "$log" >&2; cl_die "$what not ready in ${CL_START_TIMEOUT_S}s"; }
        sleep 0.2
    done
}

# Milliseconds since the epoch.
cl_now_ms() {
    date +%s%3N
}

# ------------------------------------------------------------------------------------------------ MariaDB

cl_mariadb_sql() {
    mysql --no-defaults -S "$MARIADB_SOCKET" -uroot -N -B -e "$1"
}

cl_start_mariadb() {
    local dir="$CL_TMP/mariadb" user_arg=() pid
    mkdir -p "$dir"
    cl_require mariadbd mariadb-install-db mysql
    # mariadbd refuses to run as root unless told to.
    [[ "$(id -u)" -eq 0 ]] && user_arg=(--user=root)
    local server_args=(
        --innodb-buffer-pool-size=32M
        --innodb-log-file-size=16M
        --innodb-flush-log-at-trx-commit=2
        --skip-name-resolve
        --character-set-server=utf8mb4
        --collation-server=utf8mb4_general_ci
    )
    mariadb-install-db --no-defaults --auth-root-authentication-method=normal --datadir="$dir/data" \
        --skip-test-db "${user_arg[@]}" "${server_args[@]}" >"$dir/install.log" 2>&1 \
        || { tail -n 30 "$dir/install.log" >&2; cl_die "mariadb-install-db failed"; }
    MARIADB_PORT="$(cl_free_port)"
    MARIADB_SOCKET="$dir/mysql.sock"
    mariadbd --no-defaults --datadir="$dir/data" --port="$MARIADB_PORT" --bind-address="$CL_HOST" \
        --socket="$MARIADB_SOCKET" --pid-file="$dir/mysql.pid" --log-error="$dir/error.log" \
        "${user_arg[@]}" "${server_args[@]}" >"$dir/console.log" 2>&1 &
    pid=$!
    CL_PIDS+=("$pid")
    cl_wait_for "$pid" mariadbd "$dir/error.log" cl_mariadb_sql "SELECT 1"
    cl_mariadb_sql "CREATE USER '$CL_APP_USER'@'%' IDENTIFIED VIA mysql_native_password
                        USING PASSWORD('$CL_APP_PASSWORD');
                    CREATE DATABASE $CL_APP_DB;
                    GRANT ALL PRIVILEGES ON $CL_APP_DB.* TO '$CL_APP_USER'@'%';"
    cl_log "MariaDB $(cl_mariadb_sql "SELECT VERSION()") on $CL_HOST:$MARIADB_PORT (pid $pid)"
}

# ------------------------------------------------------------------------------------------------ ProxyFleet

cl_jar() {
    local each
    for each in "$CL_ROOT"/target/proxyfleet-*.jar; do
        case "$each" in
            *-sources.jar|*-tests.jar|*-javadoc.jar) ;;
            *) [[ -f "$each" ]] && { echo "$each"; return; } ;;
        esac
    done
    return 0
}

# The command that runs a node, without its arguments; builds the jar first when sources are newer.
cl_java_cmd() {
    local jar
    # Netty's epoll transport loads JNI code and uses sun.misc.Unsafe; the same flags as bin/proxyfleet.
    CL_JAVA=("$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow)
    # shellcheck disable=SC2206 # word splitting of the JVM options is intended
    CL_JAVA+=(${PROXYFLEET_JAVA_OPTS:-$CL_DEFAULT_JAVA_OPTS})
    if [[ -n "${PROXYFLEET_CLASSPATH:-}" ]]; then
        CL_JAVA+=(-cp "$PROXYFLEET_CLASSPATH" io.proxyfleet.Main)
        return
    fi
    jar="$(cl_jar)"
    if [[ -z "$jar" || -n "$(find "$CL_ROOT/src/main" "$CL_ROOT/pom.xml" -newer "$jar" -print -quit)" ]]; then
        cl_log "building ProxyFleet (mvn -q -B -DskipTests package)"
        (cd "$CL_ROOT" && mvn -q -B -DskipTests package) >&2
        jar="$(cl_jar)"
    fi
    CL_JAVA+=(-jar "$jar")
}

# Runs SQL on node $1's admin port (tab-separated, no headers). Without TLS: about 1 admin connection in 150
# stalls 10 s in the TLS handshake and fails (the admin listener loses a ClientHello that arrives together with
# the SSL request), which would be measured as convergence time.
cl_admin() {
    mysql --no-defaults --protocol=TCP -h"$CL_HOST" -P"${CL_ADMIN_PORTS[$1]}" -u"$CL_ADMIN_USER" \
        -p"$CL_ADMIN_PASSWORD" --skip-ssl -N -B -e "$2"
}

cl_node_dir() {
    echo "$CL_TMP/node$1"
}

# Writes node $1's config file: its own ports, the cluster credentials and every node in proxysql_servers.
cl_write_config() {
    local i="$1" n="$2" dir servers="" j
    dir="$(cl_node_dir "$i")"
    mkdir -p "$dir"
    for ((j = 1; j <= n; j++)); do
        servers+="    { hostname=\"$CL_HOST\", port=${CL_ADMIN_PORTS[j]}, weight=0, comment=\"node$j\" }"
        ((j < n)) && servers+=","
        servers+=$'\n'
    done
    cat >"$dir/proxysql.cnf" <<EOF
datadir="$dir"
admin_variables=
{
    admin_credentials="$CL_ADMIN_USER:$CL_ADMIN_PASSWORD;$CL_CLUSTER_USER:$CL_CLUSTER_PASSWORD"
    mysql_ifaces="$CL_HOST:${CL_ADMIN_PORTS[i]}"
    cluster_username="$CL_CLUSTER_USER"
    cluster_password="$CL_CLUSTER_PASSWORD"
}
mysql_variables=
{
    interfaces="$CL_HOST:${CL_TRAFFIC_PORTS[i]}"
    threads=1
    server_version="5.5.30"
}
proxysql_servers=
(
$servers)
EOF
}

# Starts node $1 in the foreground (logs in <dir>/proxysql.log) from its config file or, on a restart, its
# data directory; returns at once.
cl_launch_node() {
    local i="$1" dir
    dir="$(cl_node_dir "$i")"
    "${CL_JAVA[@]}" -f -D "$dir" -c "$dir/proxysql.cnf" >"$dir/console.log" 2>&1 &
    CL_NODE_PIDS[i]=$!
    CL_PIDS+=("$!")
}

# Starts $1 nodes that form one cluster; waits until each answers on its admin port.
cl_start_cluster() {
    local n="$1" i
    cl_require mysql python3
    cl_java_cmd
    for ((i = 1; i <= n; i++)); do
        CL_ADMIN_PORTS[i]="$(cl_free_port)"
        CL_TRAFFIC_PORTS[i]="$(cl_free_port)"
    done
    for ((i = 1; i <= n; i++)); do
        cl_write_config "$i" "$n"
        cl_launch_node "$i"
    done
    for ((i = 1; i <= n; i++)); do
        cl_wait_for "${CL_NODE_PIDS[i]}" "node$i" "$(cl_node_dir "$i")/console.log" cl_admin "$i" "SELECT 1"
    done
    cl_log "$n ProxyFleet nodes up (admin ports ${CL_ADMIN_PORTS[*]:1})"
}

# The machine, as a markdown bullet list.
cl_machine_description() {
    local cpu mem
    cpu="$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
    mem="$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
    echo "- CPU: ${cpu:-unknown}, nproc $(nproc)"
    echo "- Memory: $mem"
    echo "- Kernel: $(uname -sr)"
    echo "- Java: $("$JAVA_HOME/bin/java" -version 2>&1 | head -n 1)"
    echo "- Load average (1, 5, 15 min) at the end of the run: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "- ProxyFleet: $(git -C "$CL_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)," \
         "JVM options per node: ${PROXYFLEET_JAVA_OPTS:-$CL_DEFAULT_JAVA_OPTS}"
}
