#!/usr/bin/env bash
# Endurance: one long-running scepd renews its certificate N times in a row
# against a fresh micromdm scepserver on 127.0.0.1, and the daemon's memory
# and open file descriptors are sampled as it goes. Prints a table (first,
# every tenth of the run, last), min/max/growth and a verdict; exits 1 when
# the fds grow, memory grows past the slack, a renewal fails, or (under
# valgrind or an ASan build) a leak or memory error is reported.
#
#   bench/endurance.sh                      (Debian 12, as root: installs what is missing)
#   ENDURANCE_N=50 bench/endurance.sh       a short run
#   ENDURANCE_VALGRIND=1 ENDURANCE_N=20 bench/endurance.sh
#   ENDURANCE_SCEPD=build/asan/daemon/scepd bench/endurance.sh   (LeakSanitizer at exit)
#
# How renewals are driven: renew_days (3650) is beyond the certificate's
# validity (micromdm -crtvalid 365), so every check finds the certificate due;
# after each install (seen through the success script and the status file)
# the script sends SIGUSR1, the signal check-cert.sh sends, and the daemon
# runs its normal check -> RenewalReq -> install path. micromdm runs with
# -allowrenew 0 (renewal at any time); its depot keeps every certificate it
# issues (about 2 KB each: 1,000 renewals add a few MB under the scratch
# directory, removed at the end).
#
# Environment:
#   ENDURANCE_N          renewals (default 1000)
#   ENDURANCE_EVERY      sample every this many renewals (default 10)
#   ENDURANCE_SCEPD      the scepd binary (default: build/bench/daemon/scepd,
#                        built here as bench/run.sh builds it)
#   ENDURANCE_VALGRIND   non-empty: run scepd under valgrind memcheck
#   ENDURANCE_RSS_SLACK  KiB of RssAnon growth still called flat (default 1024),
#                        measured from the sample at a tenth of the run
#                        (the first renewals fill OpenSSL's and the
#                        allocator's caches) to the last
#   ENDURANCE_KEY_SIZE   RSA key size (default 2048)
#   SCEPD_JOBS           build parallelism (default 2)
# Every wait is bounded (per renewal 120 s, 900 s under valgrind); the CA and
# the daemon are stopped on exit; only 127.0.0.1 is contacted.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

N=${ENDURANCE_N:-1000}
EVERY=${ENDURANCE_EVERY:-10}
SLACK=${ENDURANCE_RSS_SLACK:-1024}
KEY_SIZE=${ENDURANCE_KEY_SIZE:-2048}
JOBS=${SCEPD_JOBS:-2}
VALGRIND=${ENDURANCE_VALGRIND:-}
CHALLENGE=endurance-secret
((N >= 2 && EVERY >= 1)) || {
  echo "endurance: ENDURANCE_N must be at least 2 and ENDURANCE_EVERY at least 1" >&2
  exit 64
}
per_renewal_limit=120
[[ -z "$VALGRIND" ]] || per_renewal_limit=900

die() {
  echo "endurance: $*" >&2
  exit 1
}

work=
daemon_pid=

# http_get, port_in_use, stop_pid, start_ca, stop_ca: the CA on 127.0.0.1.
# shellcheck source=scripts/lib/local-ca.sh
source "$repo/scripts/lib/local-ca.sh"

cleanup() {
  local rc=$?
  stop_pid "$daemon_pid" TERM
  stop_ca
  if [[ -n "$work" && -d "$work" ]]; then
    if [[ -n "${ENDURANCE_KEEP:-}" ]]; then echo "endurance: kept $work" >&2; else rm -rf "$work"; fi
  fi
  [[ $rc -eq 0 ]] || echo "endurance: FAILED (exit $rc)" >&2
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM


# sample PID: "VmRSS RssAnon fds" (KiB, KiB, count). The status file says
# "done" while the step is still unwinding (the transfer's socket, the
# hook's pipes), so the fds are the fewest seen over a second: a leaked
# descriptor raises that, a busy moment does not.
sample() {
  local rss anon fds n i
  fds=$(find "/proc/$1/fd" -mindepth 1 -maxdepth 1 | wc -l)
  for ((i = 0; i < 10; i++)); do
    sleep 0.1
    n=$(find "/proc/$1/fd" -mindepth 1 -maxdepth 1 | wc -l)
    ((n >= fds)) || fds=$n
  done
  rss=$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status")
  anon=$(awk '$1 == "RssAnon:" { print $2 }' "/proc/$1/status")
  echo "$rss $anon $fds"
}

# installed COUNT: true once COUNT certificates were installed and the daemon
# is idle again (status back to "not running" with the latest serial).
# Builtins only: forks under a loaded machine would dominate the timing.
installed() {
  local -a events
  local status=
  [[ -f "$work/events" ]] || return 1
  mapfile -t events <"$work/events"
  ((${#events[@]} >= $1)) || return 1
  [[ "${events[-1]}" != failed* ]] || die "an attempt failed: ${events[-1]}"
  [[ -f "$work/run/status" ]] && IFS= read -r -d '' status <"$work/run/status"
  [[ "$status" == "Module scepClient not running"$'\n'"Certificate enrolled ${events[-1]#* }"$'\n' ]]
}

# wait_installed COUNT: bounded wait for installed COUNT; dies on a failed
# attempt or a dead daemon.
wait_installed() {
  local start=${EPOCHREALTIME/./}
  while ((${EPOCHREALTIME/./} - start < per_renewal_limit * 1000000)); do
    installed "$1" && return 0
    kill -0 "$daemon_pid" 2>/dev/null || die "scepd exited: $(tail -n 10 "$work/scepd.log")"
    sleep 0.01
  done
  die "certificate $1 not installed within $per_renewal_limit s: $(tail -n 5 "$work/scepd.log")"
}

# seconds_since T0: seconds (one decimal) since the $EPOCHREALTIME value T0.
seconds_since() {
  local us=$((${EPOCHREALTIME/./} - ${1/./}))
  printf '%d.%d' $((us / 1000000)) $((us % 1000000 / 100000))
}

# ---- set-up ------------------------------------------------------------------------

extra=()
[[ -z "$VALGRIND" ]] || extra+=(valgrind)
scripts/lib/install-deps.sh "${extra[@]}" >&2

if [[ -n "${ENDURANCE_SCEPD:-}" ]]; then
  SCEPD=$(realpath "$ENDURANCE_SCEPD")
else
  cmake -S . -B build/bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DSCEPD_BUILD_TESTS=OFF >/dev/null
  cmake --build build/bench -j "$JOBS" --target scepd >&2
  SCEPD=$repo/build/bench/daemon/scepd
fi
[[ -x "$SCEPD" ]] || die "no scepd at $SCEPD"

work=$(mktemp -d /tmp/scepd-endurance.XXXXXX)
start_ca "scepd endurance CA"
cat >"$work/scepd.conf" <<CONF
[scepd]
enabled = yes
data_dir = $work/data
run_dir = $work/run
log_target = stderr
log_level = info
check_interval = 24h
[certificate]
url = $URL
subject = /O=scepd endurance/CN=router-endurance
challenge_password = $CHALLENGE
key_size = $KEY_SIZE
renew_days = 3650
keep_old = 2
success_script = echo "\$SCEP_EVENT \$SCEP_SERIAL" >> $work/events
failure_script = echo "failed \$SCEP_ERROR" >> $work/events
CONF

cmd=("$SCEPD" -c "$work/scepd.conf")
if [[ -n "$VALGRIND" ]]; then
  cmd=(valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite,indirect
    --errors-for-leak-kinds=definite,indirect --error-exitcode=99 --track-fds=yes
    --log-file="$work/valgrind.log" "${cmd[@]}")
fi
echo "endurance: $N renewals by one scepd ($SCEPD${VALGRIND:+, under valgrind}) against micromdm at $URL" >&2
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
  "${cmd[@]}" >"$work/scepd.log" 2>&1 </dev/null &
daemon_pid=$!

# ---- the run -----------------------------------------------------------------------

wait_installed 1 # the first enrollment
echo "endurance: enrolled; renewing" >&2
t0=$EPOCHREALTIME
declare -a S_N S_RSS S_ANON S_FDS S_T
for ((r = 1; r <= N; r++)); do
  kill -USR1 "$daemon_pid"
  wait_installed $((r + 1))
  if ((r == 1 || r == N || r % EVERY == 0)); then
    read -r rss anon fds < <(sample "$daemon_pid")
    S_N+=("$r") S_RSS+=("$rss") S_ANON+=("$anon") S_FDS+=("$fds")
    S_T+=("$(seconds_since "$t0")")
  fi
  ((r % 100 != 0)) || echo "endurance: $r renewals" >&2
done
elapsed=$(seconds_since "$t0")
per_ms=$(((${EPOCHREALTIME/./} - ${t0/./}) / N / 1000))
renewed=$(grep -c '^renewed' "$work/events" || true)
issued=$(wc -l <"$work/depot/index.txt")

stop_pid "$daemon_pid" TERM
daemon_rc=0
wait "$daemon_pid" 2>/dev/null || daemon_rc=$?
daemon_pid=

# ---- report ------------------------------------------------------------------------

step=$((N / 10))
((step >= 1)) || step=1
printf '\n| renewal | VmRSS KiB | RssAnon KiB | open fds | elapsed s |\n|---:|---:|---:|---:|---:|\n'
base_i=0
for i in "${!S_N[@]}"; do
  n=${S_N[$i]}
  ((n <= step)) && base_i=$i
  if ((${#S_N[@]} <= 12 || n == 1 || n == N || n % step == 0)); then
    printf '| %d | %d | %d | %d | %s |\n' "$n" "${S_RSS[$i]}" "${S_ANON[$i]}" "${S_FDS[$i]}" "${S_T[$i]}"
  fi
done
minmax() { printf '%s\n' "$@" | sort -n | sed -n '1p;$p' | paste -sd' '; }
read -r rss_min rss_max < <(minmax "${S_RSS[@]}")
read -r anon_min anon_max < <(minmax "${S_ANON[@]}")
read -r fds_min fds_max < <(minmax "${S_FDS[@]}")
last=$((${#S_N[@]} - 1))
rss_growth=$((S_RSS[last] - S_RSS[base_i]))
anon_growth=$((S_ANON[last] - S_ANON[base_i]))
fds_growth=$((S_FDS[last] - S_FDS[0]))
cat <<EOF

samples: ${#S_N[@]} (every $EVERY renewals)
VmRSS   KiB: min $rss_min, max $rss_max, renewal ${S_N[$base_i]} -> $N: ${rss_growth}
RssAnon KiB: min $anon_min, max $anon_max, renewal ${S_N[$base_i]} -> $N: ${anon_growth}
open fds:    min $fds_min, max $fds_max, renewal 1 -> $N: ${fds_growth}
renewals: $renewed installed ("renewed" events), $issued certificates in the CA's depot, ${elapsed} s (${per_ms} ms per renewal, script polling included)
scepd exit status after SIGTERM: $daemon_rc
EOF

verdict=0
if ((fds_min != fds_max)); then
  echo "verdict: open fds NOT flat ($fds_min..$fds_max)"
  verdict=1
else
  echo "verdict: open fds flat ($fds_min)"
fi
if [[ -n "$VALGRIND" ]] || grep -q __asan_init "$SCEPD" 2>/dev/null; then
  echo "verdict: RssAnon not judged (valgrind and ASan keep freed memory in quarantine by design)"
elif ((anon_growth > SLACK)); then
  echo "verdict: RssAnon grew $anon_growth KiB after renewal ${S_N[$base_i]} (slack $SLACK KiB): NOT flat"
  verdict=1
else
  echo "verdict: RssAnon flat (grew $anon_growth KiB after renewal ${S_N[$base_i]}; slack $SLACK KiB)"
fi
((renewed == N)) || {
  echo "verdict: $renewed renewals instead of $N"
  verdict=1
}
if [[ -n "$VALGRIND" ]]; then
  echo "valgrind:"
  grep -E 'ERROR SUMMARY|definitely lost|indirectly lost|possibly lost|still reachable|FILE DESCRIPTORS' \
    "$work/valgrind.log" | sed 's/^==[0-9]*== /  /'
fi
if grep -qE 'LeakSanitizer|AddressSanitizer|runtime error' "$work/scepd.log"; then
  echo "verdict: sanitizer report in the daemon's log:"
  grep -E -A 12 'LeakSanitizer|AddressSanitizer|runtime error' "$work/scepd.log" | head -n 40
  verdict=1
fi
if ((daemon_rc != 0)); then
  echo "verdict: scepd exited $daemon_rc after SIGTERM (leak or memory error under valgrind/ASan)"
  [[ -z "$VALGRIND" ]] || grep -E -A 15 'definitely lost in|Invalid|uninitialised' "$work/valgrind.log" | head -n 60
  verdict=1
fi
if ((verdict == 0)); then echo "verdict: PASS"; else echo "verdict: FAIL"; fi
exit "$verdict"
