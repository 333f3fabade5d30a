#!/usr/bin/env bash
# Cluster scale with many nodes in one JVM (each node with its own ports and data directory, default cluster
# settings): convergence of a user change made on core node 1, the acknowledgement time PROXYFLEET WAIT CLUSTER
# reports, and the cluster's idle CPU. Separate JVMs do not fit 100 nodes on a 2-core machine.
#   bench/cluster-scale.sh                        # 3 core + 50, 3 core + 100, 10 core + 0; 5 warm-up and 20
#                                                 # measured changes each
#   bench/cluster-scale.sh --core 3 --satellites 50 --changes 10 --warmup 2 --idle-seconds 20
#   bench/cluster-scale.sh --smoke                # 3 core + 5 satellites, 3 changes, 5 s idle
# One line per run on stdout: "core=C satellites=S changes=K warmup=W p50_ms= p99_ms= max_ms= ack_p99_ms= cpu_per_change_ms= idle_cpu_pct=
# threads=" (idle CPU in percent of one core, for the whole JVM: all nodes together).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=../bin/java-env.sh
source "$ROOT/bin/java-env.sh"
readonly JVM_OPTS="${SCALE_JAVA_OPTS:--Xms256m -Xmx2g -XX:+UseSerialGC}"

SNAPSHOT="$(mktemp -d "${TMPDIR:-/tmp}/proxyfleet-scale-cp.XXXXXX")"
trap 'rm -rf "$SNAPSHOT"' EXIT

# The compiled classes, copied so that a build running meanwhile cannot change them under the nodes.
classpath() {
    (cd "$ROOT" && mvn -B -q -o test-compile \
        && mvn -B -q -o dependency:build-classpath -Dmdep.outputFile="$SNAPSHOT/deps" -Dmdep.includeScope=test) >&2
    cp -r "$ROOT/target/classes" "$SNAPSHOT/classes"
    cp -r "$ROOT/target/test-classes" "$SNAPSHOT/test-classes"
    echo "$SNAPSHOT/test-classes:$SNAPSHOT/classes:$(cat "$SNAPSHOT/deps")"
}

run() {
    # shellcheck disable=SC2086 # word splitting of the JVM options is intended
    "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow $JVM_OPTS \
        -Dlogback.configurationFile="$ROOT/bench/scale-logback.xml" \
        -cp "$CP" io.proxyfleet.bench.ClusterScaleBench "$@"
}

CP="${PROXYFLEET_CLASSPATH:-$(classpath)}"
if [[ "${1:-}" == --smoke ]]; then
    run --core 3 --satellites 5 --changes 3 --idle-seconds 5
elif (($# > 0)); then
    run "$@"
else
    run --core 3 --satellites 50 --changes 20 --warmup 5 --idle-seconds 30
    run --core 3 --satellites 100 --changes 20 --warmup 5 --idle-seconds 30
    run --core 10 --satellites 0 --changes 20 --warmup 5 --idle-seconds 30
fi
