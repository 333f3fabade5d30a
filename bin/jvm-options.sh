# Sourced by bin/proxyfleet and bench/lib.sh (after bin/java-env.sh): the JVM a node runs in. Each default was
# chosen by measurement for a proxy that may run as a sidecar (docs/benchmarks.md, "Issue 11: memory and
# start-up"). PROXYFLEET_JAVA_OPTS comes after the defaults and so overrides them; a collector named there
# replaces ours. PROXYFLEET_AOT=off disables the ahead-of-time cache.
#
#   proxyfleet_java_command JAR   sets the array PROXYFLEET_JAVA_CMD: java, its options and -jar JAR
#   proxyfleet_aot_build JAR      builds the cache for JAR in the foreground (used by the start-up benchmark)

# The defaults live in bin/jvm.options, which the package's launcher reads too: the "--" lines are what the JVM
# needs to run ProxyFleet at all, the -XX:+Use...GC line the collector, the other options defaults, and NAME=VALUE
# lines environment variables (MALLOC_ARENA_MAX).
PROXYFLEET_JVM_REQUIRED=()
PROXYFLEET_JVM_GC=()
PROXYFLEET_JVM_DEFAULTS=()
while read -r line; do
    case "$line" in
        ''|'#'*) ;;
        --*) PROXYFLEET_JVM_REQUIRED+=("$line") ;;
        -XX:+Use*GC) PROXYFLEET_JVM_GC+=("$line") ;;
        -*) PROXYFLEET_JVM_DEFAULTS+=("$line") ;;
        *=*) name="${line%%=*}"; [[ -n "${!name:-}" ]] || export "$line" ;;
    esac
done <"$(dirname "${BASH_SOURCE[0]}")/jvm.options"
unset line name

# The options without the AOT cache: required, defaults, then the user's (which win).
proxyfleet_jvm_options() {
    local user_opts=()
    # shellcheck disable=SC2206 # word splitting of the user's JVM options is intended
    user_opts=(${PROXYFLEET_JAVA_OPTS:-})
    PROXYFLEET_JVM_OPTIONS=("${PROXYFLEET_JVM_REQUIRED[@]}")
    # Two collectors on one command line stop the JVM; the user's choice wins.
    [[ " ${user_opts[*]} " == *" -XX:+Use"*"GC "* ]] || PROXYFLEET_JVM_OPTIONS+=("${PROXYFLEET_JVM_GC[@]}")
    PROXYFLEET_JVM_OPTIONS+=("${PROXYFLEET_JVM_DEFAULTS[@]}" "${user_opts[@]}")
}

# Where the AOT cache of JAR lives. A cache is only valid for the exact jar, libraries, JVM and options it was
# trained with, so all of them are in its name: a new build, JDK or PROXYFLEET_JAVA_OPTS gets a new cache. Whatever
# this misses, the check after each start (below) catches.
proxyfleet_aot_file() {
    local jar="$1" dir stamp
    dir="${PROXYFLEET_AOT_DIR:-$(dirname "$jar")/aot}"
    # The JDK by its release file and libjvm.so rather than by running java -version, which would add a JVM start.
    stamp="$( { stat -c '%n %s %Y' "$jar" "$(dirname "$jar")"/lib/*.jar "$JAVA_HOME/release" \
                    "$JAVA_HOME"/lib/server/libjvm.so 2>/dev/null
                cat "$JAVA_HOME/release" 2>/dev/null
                echo "${PROXYFLEET_JVM_OPTIONS[*]}"; } | cksum | cut -d' ' -f1)"
    echo "$dir/proxyfleet-$stamp.aot"
}

# Trains and writes the cache for JAR (several seconds), atomically: a half-written cache is never used. Older
# caches of the same directory go.
proxyfleet_aot_build() {
    local jar="$1" cache tmp training
    proxyfleet_jvm_options
    cache="$(proxyfleet_aot_file "$jar")"
    mkdir -p "$(dirname "$cache")" || return 1
    tmp="$cache.$$.tmp"
    training="$(mktemp -d "${TMPDIR:-/tmp}/proxyfleet-aot-training.XXXXXX")" || return 1
    # The TLS files first, in a JVM of their own, so that the signed Bouncy Castle jars that generate them stay out
    # of the cache (io.proxyfleet.AotTraining). The class path must be the jar alone, as with -jar, or the cache
    # does not match at start-up.
    if "$JAVA_HOME/bin/java" "${PROXYFLEET_JVM_OPTIONS[@]}" -cp "$jar" io.proxyfleet.AotTraining \
            --tls-files "$training" >"$cache.log" 2>&1 \
        && "$JAVA_HOME/bin/java" "${PROXYFLEET_JVM_OPTIONS[@]}" -XX:AOTCacheOutput="$tmp" \
            -cp "$jar" io.proxyfleet.AotTraining "$training" >>"$cache.log" 2>&1 \
        && proxyfleet_aot_valid "$jar" "$tmp"; then
        rm -rf "$training"
        find "$(dirname "$cache")" -maxdepth 1 -name 'proxyfleet-*.aot' ! -name "$(basename "$cache")" -delete
        mv -f "$tmp" "$cache"
    else
        rm -rf "$training" "$tmp"
        return 1
    fi
}

# A builder killed before it removed its lock (kill -9, reboot) must not block every later build.
readonly PROXYFLEET_AOT_STALE_LOCK_MIN=10

# Whether the JVM accepts CACHE for JAR with the current options: -XX:AOTMode=on turns a mismatch into an error.
proxyfleet_aot_valid() {
    [[ -s "$2" ]] && "$JAVA_HOME/bin/java" "${PROXYFLEET_JVM_OPTIONS[@]}" -XX:AOTCache="$2" -XX:AOTMode=on \
        -cp "$1" -version >/dev/null 2>&1
}

# How long after a start the cache it used is checked, so that the check never competes with the start itself.
readonly PROXYFLEET_AOT_CHECK_DELAY_S=10

proxyfleet_java_command() {
    local jar="$1" cache lock
    proxyfleet_jvm_options
    PROXYFLEET_JAVA_CMD=("$JAVA_HOME/bin/java" "${PROXYFLEET_JVM_OPTIONS[@]}")
    if [[ "${PROXYFLEET_AOT:-on}" != off ]]; then
        cache="$(proxyfleet_aot_file "$jar")"
        lock="$cache.building"
        if [[ -s "$cache" ]]; then
            # A cache the JVM rejects (a JDK replaced in place, a damaged file) costs a warning, never the start:
            # the JVM then runs without it. A check after the start removes such a cache, so the next start
            # builds a new one.
            PROXYFLEET_JAVA_CMD+=(-XX:AOTCache="$cache")
            ( renice -n 19 "$BASHPID" >/dev/null 2>&1
              sleep "$PROXYFLEET_AOT_CHECK_DELAY_S"
              proxyfleet_aot_valid "$jar" "$cache" || rm -f "$cache" ) </dev/null >/dev/null 2>&1 &
        elif mkdir -p "$(dirname "$cache")" 2>/dev/null; then
            find "$lock" -maxdepth 0 -mmin +"$PROXYFLEET_AOT_STALE_LOCK_MIN" -exec rmdir {} \; 2>/dev/null || true
            if mkdir "$lock" 2>/dev/null; then
                # First start with this jar and JVM: this node starts without a cache, the next ones with it. Built
                # at low priority in the background so that this start is not slowed; one builder at a time.
                ( trap 'rmdir "$lock"' EXIT
                  renice -n 10 "$BASHPID" >/dev/null 2>&1
                  proxyfleet_aot_build "$jar" ) </dev/null >/dev/null 2>&1 &
            fi
        fi
    fi
    PROXYFLEET_JAVA_CMD+=(-jar "$jar")
}
