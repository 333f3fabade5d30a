# Sourced by bin/test and bin/proxyfleet: exports JAVA_HOME for a Java 25+ JDK, or exits with a message.
PROXYFLEET_PREFERRED_JDK=/usr/lib/jvm/temurin-25-jdk-amd64
PROXYFLEET_MIN_JAVA=25

proxyfleet_java_feature() {
    # Prints the feature release (17, 21, 25...) of the given java binary.
    "$1" -XshowSettings:properties -version 2>&1 \
        | awk -F'= ' '/java.specification.version/ { print $2; exit }' \
        | cut -d. -f1
}

if [[ -d "$PROXYFLEET_PREFERRED_JDK" ]]; then
    export JAVA_HOME="$PROXYFLEET_PREFERRED_JDK"
elif [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" \
        && "$(proxyfleet_java_feature "$JAVA_HOME/bin/java")" -ge "$PROXYFLEET_MIN_JAVA" ]]; then
    : # the caller's JAVA_HOME already points at a new enough JDK
elif command -v java >/dev/null 2>&1 \
        && [[ "$(proxyfleet_java_feature java)" -ge "$PROXYFLEET_MIN_JAVA" ]]; then
    JAVA_HOME="$(java -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.home/ { print $2; exit }')"
    export JAVA_HOME
else
    echo "ProxyFleet needs Java $PROXYFLEET_MIN_JAVA or newer: install a JDK $PROXYFLEET_MIN_JAVA+" \
         "or set JAVA_HOME to one" >&2
    exit 1
fi
export PATH="$JAVA_HOME/bin:$PATH"
# Maven's bundled Guava uses sun.misc.Unsafe; keep Java 25's warning about it out of build output.
export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
