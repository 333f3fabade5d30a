#!/usr/bin/env bash
# Cluster convergence time: from `LOAD MYSQL USERS TO RUNTIME` on node1 until every node lists the new user in
# runtime_mysql_users, over N changes, for clusters of 3 and 10 nodes on 127.0.0.1 with default cluster settings.
#   bench/convergence.sh             # 3 and 10 nodes, 20 changes each; writes the figures into docs/cluster.md
#   bench/convergence.sh --smoke     # 3 nodes, 3 changes, prints the figures only (run by a test)
#   bench/convergence.sh --nodes "3 5" --changes 10 --no-doc
# One line per cluster size on stdout: "nodes=N changes=C p50_ms=X p99_ms=Y max_ms=Z".
# Each change starts at the beginning of a new second: two loads within one second get the same epoch, which
# ProxySQL's rules (and ours) treat as a conflict that nobody resolves (docs/cluster.md, "Same-second loads").
set -euo pipefail

readonly SCRIPT="${BASH_SOURCE[0]}"
readonly CHANGE_TIMEOUT_MS=30000
readonly POLL_SLEEP_S=0.02

usage() {
    sed -n '2,9p' "$SCRIPT" | sed 's/^# \{0,1\}//'
}

# ------------------------------------------------------------------------------------ one cluster size (child)

# Prints "t_ms" once node $1 lists user $2 in runtime_mysql_users, or "timeout".
await_user() {
    local node="$1" user="$2" deadline
    deadline=$(($(cl_now_ms) + CHANGE_TIMEOUT_MS))
    until [[ "$(cl_admin "$node" "SELECT COUNT(DISTINCT username) FROM runtime_mysql_users WHERE username = '$user'" \
                2>/dev/null)" == 1 ]]; do
        if (($(cl_now_ms) > deadline)); then
            echo timeout
            return
        fi
        sleep "$POLL_SLEEP_S"
    done
    cl_now_ms
}

# Sleeps until a few milliseconds into the next wall-clock second.
await_next_second() {
    local now
    now="$(cl_now_ms)"
    sleep "$(python3 -c "print((1000 - $now % 1000 + 20) / 1000)")"
}

run_size() {
    local n="$1" changes="$2" k i user started out samples=() worst t pollers
    # shellcheck source=cluster-lib.sh
    source "$(dirname "$SCRIPT")/cluster-lib.sh"
    cl_start_cluster "$n"
    # Every monitor must have seen every peer once before the first change, or its first check is measured too.
    for ((i = 1; i <= n; i++)); do
        local deadline=$((SECONDS + 60))
        until [[ "$(cl_admin "$i" "SELECT COUNT(*) FROM stats_proxysql_servers_checksums
                                   WHERE name = 'mysql_users' AND updated_at > 0" 2>/dev/null)" == "$n" ]]; do
            ((SECONDS < deadline)) || cl_die "node$i does not see its $n peers after 60 s"
            sleep 0.2
        done
    done
    cl_log "all $n nodes monitor each other; measuring $changes changes"
    for ((k = 1; k <= changes; k++)); do
        user="conv_$k"
        cl_admin 1 "INSERT INTO mysql_users (username, password, default_hostgroup) VALUES ('$user', 'pw', 0)"
        await_next_second
        out="$CL_TMP/change$k"
        mkdir -p "$out"
        started="$(cl_now_ms)"
        cl_admin 1 "LOAD MYSQL USERS TO RUNTIME"
        pollers=()
        for ((i = 2; i <= n; i++)); do
            await_user "$i" "$user" >"$out/node$i" &
            pollers+=("$!")
        done
        # Only the pollers: a bare `wait` would also wait for the nodes.
        wait "${pollers[@]}"
        worst=0
        for ((i = 2; i <= n; i++)); do
            t="$(cat "$out/node$i")"
            [[ "$t" != timeout ]] || cl_die "change $k: node$i did not list $user within ${CHANGE_TIMEOUT_MS} ms"
            ((t - started > worst)) && worst=$((t - started))
        done
        samples+=("$worst")
        cl_log "change $k: every node serves $user after $worst ms"
    done
    printf '%s\n' "${samples[@]}" | python3 -c '
import math, sys
n_nodes, changes = sys.argv[1], sys.argv[2]
v = sorted(int(x) for x in sys.stdin if x.strip())
def pct(p):
    # nearest rank
    return v[max(0, math.ceil(p / 100 * len(v)) - 1)]
print(f"nodes={n_nodes} changes={changes} p50_ms={pct(50)} p99_ms={pct(99)} max_ms={v[-1]}")
' "$n" "$changes"
}

# ------------------------------------------------------------------------------------------- main (parent)

write_doc() {
    local results="$1" doc machine
    doc="$(cd "$(dirname "$SCRIPT")/.." && pwd)/docs/cluster.md"
    local begin="<!-- convergence:begin -->" end="<!-- convergence:end -->"
    [[ -f "$doc" ]] && grep -qF "$begin" "$doc" || { echo "no $begin section in $doc" >&2; return 1; }
    machine="$(
        # shellcheck source=cluster-lib.sh
        source "$(dirname "$SCRIPT")/cluster-lib.sh"
        cl_machine_description
    )"
    local section="$CL_TMP_DOC"
    {
        echo "$begin"
        echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') by \`bench/convergence.sh\` (default cluster settings):"
        echo
        echo "| nodes | changes | p50 | p99 | max |"
        echo "|---|---|---|---|---|"
        while read -r line; do
            # nodes=3 changes=20 p50_ms=... p99_ms=... max_ms=...
            eval "local $line"
            # shellcheck disable=SC2154 # assigned by the eval above
            echo "| $nodes | $changes | $p50_ms ms | $p99_ms ms | $max_ms ms |"
        done <<<"$results"
        echo
        echo "Machine:"
        echo
        echo "$machine"
        echo "$end"
    } >"$section"
    python3 - "$doc" "$section" "$begin" "$end" <<'PY'
import sys
doc, section, begin, end = sys.argv[1:5]
text = open(doc).read()
head, rest = text.split(begin, 1)
_, tail = rest.split(end, 1)
open(doc, "w").write(head + open(section).read().rstrip("\n") + tail)
PY
    echo "updated $doc" >&2
}

main() {
    local sizes="3 10" changes=20 doc=true results="" size
    while (($#)); do
        case "$1" in
            --smoke) sizes=3; changes=3; doc=false ;;
            --nodes) sizes="$2"; shift ;;
            --changes) changes="$2"; shift ;;
            --no-doc) doc=false ;;
            --run-size) run_size "$2" "$3"; return ;;
            -h|--help) usage; return ;;
            *) usage >&2; return 2 ;;
        esac
        shift
    done
    for size in $sizes; do
        # A child per size, so that each cluster is stopped and cleaned up before the next one starts.
        results+="$("$SCRIPT" --run-size "$size" "$changes" | tail -n 1)"$'\n'
    done
    results="${results%$'\n'}"
    echo "$results"
    if [[ "$doc" == true ]]; then
        CL_TMP_DOC="$(mktemp)"
        write_doc "$results"
        rm -f "$CL_TMP_DOC"
    fi
}

main "$@"
