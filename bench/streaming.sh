#!/usr/bin/env bash
# Streaming: a large result set (SELECT REPEAT('x', 1000) FROM seq_1_to_N, 1 GB by default) read with
# `mysql --quick`, by a fast client (straight to a byte counter) directly, through ProxyFleet and through
# HAProxy, then by a slow client (rate-limited to 20 MiB/s with pv) through ProxyFleet. Reports throughput and
# ProxyFleet's peak resident memory during each transfer (VmHWM of /proc/PID/status, reset before each run).
#
#   bench/streaming.sh                  # 1,000,000 rows of 1,000 bytes
#   bench/streaming.sh --rows 200000 --slow-rate 50m
#   bench/streaming.sh --smoke          # 20,000 rows (20 MB); docs left alone
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
    sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    echo "Options: --smoke, --rows N, --slow-rate RATE (pv -L syntax), --no-doc"
}

rows=1000000
slow_rate=20m
write_doc=true
command_line="bench/streaming.sh${*:+ $*}"
readonly ROW_BYTES=1000
readonly BYTES_PER_MIB=1048576
# Read size of the Python stand-in for pv.
readonly SLOW_READER_CHUNK=65536

while (($#)); do
    case "$1" in
        --smoke) rows=20000; write_doc=false ;;
        --rows) rows="$2"; shift ;;
        --slow-rate) slow_rate="$2"; shift ;;
        --no-doc) write_doc=false ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; exit 2 ;;
    esac
    shift
done

bench_require python3 mysql
command -v pv >/dev/null 2>&1 || bench_apt_install pv || bench_log "pv unavailable: a Python reader limits the rate"
bench_start_mariadb
bench_start_proxyfleet
bench_start_haproxy

query="SELECT REPEAT('x', $ROW_BYTES) FROM seq_1_to_$rows"
# MariaDB's mysql client negotiates TLS whenever the server offers it: ProxyFleet does (mysql-have_ssl), the
# benchmark's MariaDB has no certificates. --skip-ssl keeps every setup in plain text, like with like.

# Reads stdin at most at the given rate (pv -L syntax: a number with an optional k/m/g suffix), writes
# nothing; the fallback when pv is not installed.
slow_reader() {
    if command -v pv >/dev/null 2>&1; then
        pv -q -L "$1" >/dev/null
    else
        python3 -c '
import sys, time
rate, chunk = sys.argv[1].lower(), int(sys.argv[2])
scale = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
per_second = int(rate[:-1]) * scale[rate[-1]] if rate[-1] in scale else int(rate)
start, total = time.monotonic(), 0
while (data := sys.stdin.buffer.read1(chunk)):
    total += len(data)
    ahead = total / per_second - (time.monotonic() - start)
    if ahead > 0:
        time.sleep(ahead)
' "$1" "$SLOW_READER_CHUNK"
    fi
}

# Streams the result set from SETUP to a fast (wc -c) or slow reader; prints "bytes seconds peak_kib",
# peak_kib being ProxyFleet's VmHWM over the transfer ("-" when the setup does not involve it).
stream_once() {
    local setup="$1" reader="$2" port started ended bytes peak="-" err="$BENCH_TMP/stream.err"
    port="$(bench_port_of "$setup")"
    bench_reset_peak_rss "$PF_PID"
    started="$(date +%s.%N)"
    if [[ "$reader" == fast ]]; then
        bytes="$(mysql --no-defaults --skip-ssl --quick -N -B -h"$BENCH_HOST" -P"$port" -u"$BENCH_USER" -p"$BENCH_PASSWORD" \
            -D"$BENCH_DB" -e "$query" 2>"$err" | wc -c)" || true
    else
        bytes="$(mysql --no-defaults --skip-ssl --quick -N -B -h"$BENCH_HOST" -P"$port" -u"$BENCH_USER" -p"$BENCH_PASSWORD" \
            -D"$BENCH_DB" -e "$query" 2>"$err" | tee >(slow_reader "$slow_rate") | wc -c)" || true
    fi
    ended="$(date +%s.%N)"
    if [[ -s "$err" ]]; then
        cat "$err" >&2
        bench_die "the $reader client failed through $setup"
    fi
    [[ "$setup" == direct || "$setup" == haproxy ]] || peak="$(bench_proc_kib "$PF_PID" VmHWM)"
    echo "$bytes $(awk -v a="$started" -v b="$ended" 'BEGIN { printf "%.2f", b - a }') $peak"
}

table="$BENCH_TMP/table.md"
expected=$((rows * (ROW_BYTES + 1)))
rss_idle="$(bench_proc_kib "$PF_PID" VmRSS)"
{
    echo "| Client | Setup | Bytes received | Seconds | MiB/s | ProxyFleet peak RSS |"
    echo "|---|---|---:|---:|---:|---:|"
} >"$table"
for run in fast:direct fast:proxyfleet fast:haproxy slow:proxyfleet; do
    reader="${run%%:*}"
    setup="${run#*:}"
    bench_log "streaming $rows rows to a $reader client through $setup"
    read -r bytes seconds peak < <(stream_once "$setup" "$reader")
    ((bytes == expected)) || bench_die "$setup delivered $bytes bytes to the $reader client, expected $expected"
    kill -0 "$PF_PID" 2>/dev/null || bench_die "ProxyFleet died; see $(bench_proxyfleet_log)"
    rate="$(awk -v b="$bytes" -v s="$seconds" -v m="$BYTES_PER_MIB" 'BEGIN { printf "%.1f", b / m / s }')"
    [[ "$peak" == - ]] || peak="$(awk -v k="$peak" 'BEGIN { printf "%.1f MiB", k / 1024 }')"
    [[ "$reader" == slow ]] && reader="slow (${slow_rate}/s)"
    echo "| $reader | $setup | $bytes | $seconds | $rate | $peak |" >>"$table"
done
echo
cat "$table"
echo
echo "ProxyFleet RSS before the transfers: $(awk -v k="$rss_idle" 'BEGIN { printf "%.1f MiB", k / 1024 }')"

if [[ "$write_doc" == true ]]; then
    section="$BENCH_TMP/section.md"
    {
        echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') with \`$command_line\`: \`$query\`, read with"
        echo "\`mysql --quick -N -B\`. ProxyFleet's RSS before the transfers:" \
             "$(awk -v k="$rss_idle" 'BEGIN { printf "%.1f MiB", k / 1024 }')."
        echo
        bench_machine_description
        echo
        cat "$table"
    } >"$section"
    bench_update_doc streaming "$section"
fi
