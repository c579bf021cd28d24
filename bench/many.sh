#!/usr/bin/env bash
# Many certificates in one daemon (issue 22, goal 4a): one scepd with
# MANY_N `[certificate NAME]` sections against a fresh micromdm scepserver
# on 127.0.0.1. Prints, as "key value" lines and a short table:
#   - idle RssAnon with 1 and with MANY_N certificates enrolled, and the
#     difference per further certificate ((RssAnon_N - RssAnon_1) / (N - 1));
#   - wake-ups while idle: context switches and CPU ticks of the idle
#     daemon over MANY_IDLE seconds (the method of bench/run.sh, section 4);
#   - all certificates renewing at once on SIGUSR2 (renew now): wall time
#     from the signal to the last "renewed: certificate ... installed" line,
#     peak RSS (VmHWM) of the daemon, and the most PKIOperation requests the
#     CA was serving at the same moment (from the start and end times in
#     scepserver's log).
#
#   bench/many.sh      (Debian 12 with the `scep` package; builds nothing:
#                       MANY_SCEPD names the binary, default build/bench's,
#                       else build/ci's)
#
# Environment: MANY_N (default 100, at least 2), MANY_IDLE (default 30 s),
# MANY_KEY_SIZE (default 2048), MANY_SCEPD, MANY_RENEW (default 1; 0 skips
# the renewal of all at once). Every wait is bounded, the CA and
# the daemon are stopped on exit, and only 127.0.0.1 is contacted.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

N=${MANY_N:-100}
IDLE_SECS=${MANY_IDLE:-30}
KEY_SIZE=${MANY_KEY_SIZE:-2048}
RENEW=${MANY_RENEW:-1}
CHALLENGE=many-secret
((N >= 2)) || {
  echo "many: MANY_N must be at least 2" >&2
  exit 64
}
SCEPD=${MANY_SCEPD:-}
if [[ -z "$SCEPD" ]]; then
  for b in "$repo/build/bench/daemon/scepd" "$repo/build/ci/daemon/scepd"; do
    [[ -x "$b" ]] && SCEPD=$b && break
  done
fi
[[ -x "$SCEPD" ]] || {
  echo "many: no scepd binary (build build/bench or set MANY_SCEPD)" >&2
  exit 1
}

die() {
  echo "many: $*" >&2
  exit 1
}
say() { printf '\n== %s\n' "$*" >&2; }

work=
daemon_pid=
# shellcheck source=scripts/lib/local-ca.sh
source "$repo/scripts/lib/local-ca.sh"
cleanup() {
  local rc=$?
  stop_pid "$daemon_pid"
  stop_ca
  [[ -n "$work" && -d "$work" && -z "${MANY_KEEP:-}" ]] && rm -rf "$work"
  [[ $rc -eq 0 ]] || echo "many: FAILED (exit $rc)" >&2
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# conf FILE COUNT: [scepd] and COUNT named certificate sections.
conf() {
  local i
  {
    cat <<CONF
[scepd]
enabled = yes
data_dir = $work/data
run_dir = $work/run-$2
log_target = stderr
log_level = info
CONF
    for ((i = 1; i <= $2; i++)); do
      cat <<CONF
[certificate c$i]
data_dir = $work/data/c$i
url = $URL
subject = /CN=bench-many-$i
challenge_password = $CHALLENGE
key_size = $KEY_SIZE
renew_days = 30
keep_old = 1
CONF
    done
  } >"$1"
}

# status_val PID KEY: a /proc/PID/status value (KiB for memory).
status_val() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
# ctxt PID: voluntary + involuntary context switches summed over its threads.
ctxt() {
  local t s=0 v
  for t in /proc/"$1"/task/*; do
    v=$(awk '/^(non)?voluntary_ctxt_switches:/ { s += $2 } END { print s + 0 }' "$t/status")
    s=$((s + v))
  done
  echo "$s"
}
ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }

# wait_count FILE TEXT COUNT PID SECONDS: until FILE has COUNT lines with TEXT.
wait_count() {
  local i
  for ((i = 0; i < $5 * 20; i++)); do
    (($(grep -c -- "$2" "$1" 2>/dev/null || true) >= $3)) && return 0
    kill -0 "$4" 2>/dev/null || die "scepd exited: $(tail -n 5 "$1")"
    sleep 0.05
  done
  die "fewer than $3 lines '$2' in $1 after $5 s"
}

# idle COUNT: starts the daemon on COUNT enrolled certificates, waits for
# every "valid" decision, then watches it IDLE_SECS; sets rss_anon, ctxt_d,
# cpu_d (and leaves the daemon running in daemon_pid).
idle() {
  "$SCEPD" -c "$work/scepd-$1.conf" >"$work/daemon-$1.log" 2>&1 &
  daemon_pid=$!
  wait_count "$work/daemon-$1.log" " valid: " "$1" "$daemon_pid" 120
  sleep 1 # the loop's malloc_trim and page release come after the last decision
  local c0 t0
  c0=$(ctxt "$daemon_pid")
  t0=$(ticks "$daemon_pid")
  sleep "$IDLE_SECS"
  kill -0 "$daemon_pid" 2>/dev/null || die "scepd exited while idle"
  rss_anon=$(status_val "$daemon_pid" RssAnon)
  ctxt_d=$(($(ctxt "$daemon_pid") - c0))
  cpu_d=$(($(ticks "$daemon_pid") - t0))
}

work=$(mktemp -d "${TMPDIR:-/tmp}/scepd-many.XXXXXX")
say "Local CA"
start_ca "scepd many-certificates bench CA"
conf "$work/scepd-$N.conf" "$N"
conf "$work/scepd-1.conf" 1

say "Enrolling $N certificates (scepd --once)"
t0=${EPOCHREALTIME/./}
"$SCEPD" -c "$work/scepd-$N.conf" --once >"$work/once.log" 2>&1 ||
  die "scepd --once failed: $(tail -n 5 "$work/once.log")"
t1=${EPOCHREALTIME/./}
enroll_ms=$(((t1 - t0) / 1000))

say "Idle daemon with 1 certificate, $IDLE_SECS s"
idle 1
rss_1=$rss_anon ctxt_1=$ctxt_d cpu_1=$cpu_d
stop_pid "$daemon_pid"
daemon_pid=

say "Idle daemon with $N certificates, $IDLE_SECS s"
idle "$N"
rss_n=$rss_anon ctxt_n=$ctxt_d cpu_n=$cpu_d
hwm_idle=$(status_val "$daemon_pid" VmHWM)

renew_ms=skipped renew_per=skipped hwm=skipped rss_after=skipped pkiops=skipped in_flight=skipped
if ((RENEW)); then
say "All $N renewing at once (SIGUSR2)"
ca_lines=$(wc -l <"$work/scepserver.log")
log=$work/daemon-$N.log
t0=${EPOCHREALTIME/./}
kill -USR2 "$daemon_pid"
wait_count "$log" "renewed: certificate" "$N" "$daemon_pid" 900
t1=${EPOCHREALTIME/./}
renew_ms=$(((t1 - t0) / 1000))
hwm=$(status_val "$daemon_pid" VmHWM)
rss_after=$(status_val "$daemon_pid" RssAnon)
stop_pid "$daemon_pid"
daemon_pid=
# scepserver logs each request when it ends, with its duration:
# ts=2026-12-07T09:58:01.123456789Z ... op=PKIOperation ... took=12.3ms.
# Requests in flight at once = the most [end - took, end] intervals that overlap.
in_flight=$(tail -n +"$((ca_lines + 1))" "$work/scepserver.log" |
  awk '/op=PKIOperation/ && /took=/ {
    if (!match($0, /ts=[^ ]+/)) next
    ts = substr($0, RSTART + 3, RLENGTH - 3)          # 2026-12-07T09:58:01.123456Z
    split(substr(ts, 12), hms, ":"); end = hms[1] * 3600 + hms[2] * 60 + hms[3]
    v = $0; sub(/.*took=/, "", v); sub(/ .*/, "", v); u = v
    sub(/[a-zµ]+$/, "", v); sub(/^[0-9.]+/, "", u)
    f = (u == "s") ? 1 : (u == "ms") ? 1e-3 : (u == "µs" || u == "us") ? 1e-6 : (u == "ns") ? 1e-9 : 1
    n++; printf "%.9f 1\n%.9f -1\n", end - v * f, end }
    END { if (n == 0) print "none" > "/dev/stderr" }' |
  sort -k1,1n -k2,2n | awk '{ c += $2; if (c > m) m = c } END { print m + 0 }')
pkiops=$(tail -n +"$((ca_lines + 1))" "$work/scepserver.log" | grep -c 'op=PKIOperation' || true)
renew_per=$((renew_ms / N))
fi
stop_pid "$daemon_pid"
daemon_pid=

per_cert=$(awk -v a="$rss_n" -v b="$rss_1" -v n="$N" 'BEGIN { printf "%.1f", (a - b) / (n - 1) }')
cat <<EOF
scepd $SCEPD
certificates $N
key_size $KEY_SIZE
enroll_all_once_ms $enroll_ms
idle_seconds $IDLE_SECS
rss_anon_1_kib $rss_1
rss_anon_${N}_kib $rss_n
rss_anon_per_certificate_kib $per_cert
idle_ctxt_1 $ctxt_1
idle_cpu_ticks_1 $cpu_1
idle_ctxt_$N $ctxt_n
idle_cpu_ticks_$N $cpu_n
vmhwm_before_renewal_kib $hwm_idle
renew_all_wall_ms $renew_ms
renew_all_per_certificate_ms $renew_per
renew_all_vmhwm_kib $hwm
rss_anon_after_renewal_kib $rss_after
ca_pkioperations $pkiops
ca_requests_in_flight_max $in_flight
EOF
