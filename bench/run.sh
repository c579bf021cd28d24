#!/usr/bin/env bash
# Benchmarks scepd and the project's sscep side by side with micromdm's
# scepclient, certmonger and `openssl genrsa` against a fresh local
# scepserver on 127.0.0.1, and writes docs/benchmarks.md. Sections of that
# file that this script does not generate (any other "## " heading) are kept,
# in their order, after the generated ones.
#
#   bench/run.sh            (Debian 12, as root: installs what is missing)
#
# Environment: BENCH_N (runs per timed figure, default 20, at least 10),
# BENCH_N_BIG (runs for 4096-bit keys, default 10), BENCH_IDLE (seconds the
# idle daemon is watched, default 60), BENCH_OUT (report file, default
# docs/benchmarks.md), SCEPD_JOBS (build parallelism, default 2).
#
# Wall times come from bash's $EPOCHREALTIME around each command (fork and
# exec included, output to a log file); start to decision uses
# CLOCK_MONOTONIC (bench/mono.py). Every loop is bounded, the CA is always
# stopped on exit, and only 127.0.0.1 is contacted.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

N=${BENCH_N:-20}
N_BIG=${BENCH_N_BIG:-10}
IDLE_SECS=${BENCH_IDLE:-60}
OUT=${BENCH_OUT:-$repo/docs/benchmarks.md}
JOBS=${SCEPD_JOBS:-2}
CHALLENGE=bench-secret
PY=/usr/bin/python3
((N >= 10)) || {
  echo "bench: BENCH_N must be at least 10" >&2
  exit 64
}

say() { printf '\n== %s\n' "$*" >&2; }
die() {
  echo "bench: $*" >&2
  exit 1
}

# ---- the local CA and the processes under test ---------------------------------

work=
daemon_pid=
cm_pid=
bus_pid=

# http_get, port_in_use, stop_pid, start_ca, stop_ca: the CA on 127.0.0.1.
# shellcheck source=scripts/lib/local-ca.sh
source "$repo/scripts/lib/local-ca.sh"

cleanup() {
  local rc=$?
  stop_pid "$daemon_pid"
  daemon_pid=
  stop_pid "$cm_pid"
  cm_pid=
  stop_pid "$bus_pid"
  bus_pid=
  stop_ca
  if [[ -n "$work" && -d "$work" ]]; then
    if [[ -n "${BENCH_KEEP:-}" ]]; then
      echo "bench: kept $work" >&2
    else
      rm -rf "$work"
    fi
  fi
  [[ $rc -eq 0 ]] || echo "bench: FAILED (exit $rc)" >&2
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM


# ---- timing and statistics ------------------------------------------------------

# timed FILE CMD...: runs CMD (output to the log), appends its wall time in
# microseconds to FILE.
timed() {
  local file=$1 t0 t1
  shift
  t0=${EPOCHREALTIME/./}
  "$@" >>"$work/cmd.log" 2>&1 || die "failed: $* (see the end of $work/cmd.log): $(tail -n 3 "$work/cmd.log")"
  t1=${EPOCHREALTIME/./}
  echo $((t1 - t0)) >>"$file"
}

# stats FILE [DIV]: "median min max n" of the numbers in FILE divided by
# DIV (default 1000: microseconds to milliseconds).
stats() {
  sort -n "$1" | awk -v d="${2:-1000}" '{ a[NR] = $1 }
    END { n = NR; m = (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
          printf "%.1f %.1f %.1f %d\n", m / d, a[1] / d, a[n] / d, n }'
}
median() { stats "$@" | cut -d' ' -f1; }
# mean FILE: the arithmetic mean, microseconds to milliseconds.
mean() { awk '{ s += $1 } END { printf "%.1f", s / NR / 1000 }' "$1"; }
# calc EXPR [FORMAT]: floating point arithmetic, printed with FORMAT (default %.2f).
calc() { awk "BEGIN { printf \"${2:-%.2f}\", $1 }"; }

# row LABEL FILE [REF_MEDIAN REF_NAME]: a markdown table row of FILE's stats.
row() {
  local label=$1 file=$2 ref=${3:-} m lo hi n ratio=""
  read -r m lo hi n < <(stats "$file")
  [[ -n "$ref" ]] && ratio="$(calc "$m / $ref") ×"
  printf '| %s | %s | %s | %s | %s | %s |\n' "$label" "$m" "$lo" "$hi" "$n" "$ratio"
}

# row6 LABEL NAME: stats of NAME, then the median time to exit.
row6() {
  local m lo hi n
  read -r m lo hi n < <(stats "$T/$2")
  printf '| %s | %s | %s | %s | %s | %s |\n' "$1" "$m" "$lo" "$hi" "$n" "$(median "$T/$2.exit")"
}

# ---- the clients under test -------------------------------------------------------

scepd_fresh() { rm -rf "$1/data" "$1/run"; }
scepd_once() { "$SCEPD" -c "$1/scepd.conf" --once; }

# sscep_first DIR BITS: getca + mkrequest + enroll, the whole first enrollment.
sscep_first() {
  "$SSCEP" getca -u "$URL" -c "$1/ca.crt"
  "$SSCEP" mkrequest -k "$1/local.key" -r "$1/local.csr" --key-size "$2" \
    --subject "/CN=bench-sscep-$2" --challenge "$CHALLENGE"
  "$SSCEP" enroll -u "$URL" -c "$1/ca.crt" -k "$1/local.key" -r "$1/local.csr" -l "$1/local.crt"
}
sscep_fresh() {
  rm -rf "$1"
  mkdir -p "$1"
}

scepclient_run() {
  scepclient -server-url "$URL" -private-key "$1/key.pem" -certificate "$1/cert.pem" \
    -keySize "${2:-2048}" -cn bench-scepclient -challenge "$CHALLENGE"
}
scepclient_fresh() { rm -f "$1/key.pem" "$1/cert.pem"; }

genrsa() { openssl genrsa -out "$work/genrsa.key" "$1"; }

# ---- certmonger ------------------------------------------------------------------
# certmonger runs as a session-bus service on a private dbus-daemon, with
# every state directory under $work/cm (CERTMONGER_*_DIR), so the machine's
# own certmonger and system bus are never touched. CM_WHY says why it was
# not measured when it cannot run.
CM_WHY=
cm_n=0

cm() {
  env HOME="$work/cm/home" DBUS_SESSION_BUS_ADDRESS="$CM_BUS" "$@"
}

# cm_settle: until certmonger has had no helper child for 1 s (60 s at most);
# it checks its built-in CAs (one helper process each) after start-up and a
# new CA after add-scep-ca.
cm_settle() {
  local i quiet=0
  for ((i = 0; i < 600; i++)); do
    kill -0 "$cm_pid" 2>/dev/null || return 1
    if pgrep -P "$cm_pid" >/dev/null; then quiet=0; else quiet=$((quiet + 1)); fi
    ((quiet >= 10)) && return 0
    sleep 0.1
  done
  return 1
}

# cm_status ID: certmonger's status of request ID.
cm_status() { cm getcert list -s -i "$1" 2>/dev/null | awk -F': ' '/^[[:space:]]*status:/ { print $2; exit }'; }

# cm_wait_status ID: until ID is MONITORING (30 s); fails on any stuck state.
cm_wait_status() {
  local i s
  for ((i = 0; i < 300; i++)); do
    s=$(cm_status "$1")
    case $s in
      MONITORING) return 0 ;;
      CA_UNREACHABLE | CA_REJECTED | CA_UNCONFIGURED | *GUIDANCE*) break ;;
    esac
    sleep 0.1
  done
  echo "certmonger request $1: status '$s'" >&2
  return 1
}

start_certmonger() {
  local cm=$work/cm i
  command -v certmonger >/dev/null && command -v getcert >/dev/null && command -v dbus-daemon >/dev/null || {
    CM_WHY="certmonger, getcert or dbus-daemon is not installed"
    return 1
  }
  mkdir -p "$cm"/{home,req,cas,local,tmp,conf,certs}
  cc -shared -fPIC -O2 -o "$cm/legacy_provider.so" bench/legacy_provider.c -lcrypto 2>>"$work/cmd.log" || {
    CM_WHY="bench/legacy_provider.c did not build (see cmd.log)"
    return 1
  }
  openssl x509 -in "$work/depot/ca.pem" -out "$cm/ca.pem" 2>/dev/null ||
    openssl x509 -inform DER -in "$work/depot/ca.pem" -out "$cm/ca.pem"
  CM_BUS="unix:path=$cm/bus"
  dbus-daemon --session --nofork --nopidfile --address="$CM_BUS" >"$cm/dbus.log" 2>&1 &
  bus_pid=$!
  for ((i = 0; i < 100; i++)); do [[ -S "$cm/bus" ]] && break; sleep 0.05; done
  [[ -S "$cm/bus" ]] || {
    CM_WHY="the private dbus-daemon did not start: $(tail -n 3 "$cm/dbus.log")"
    return 1
  }
  HOME="$cm/home" DBUS_SESSION_BUS_ADDRESS="$CM_BUS" LD_PRELOAD="$cm/legacy_provider.so" \
    CERTMONGER_REQUESTS_DIR="$cm/req" CERTMONGER_CAS_DIR="$cm/cas" \
    CERTMONGER_LOCAL_CA_DIR="$cm/local" CERTMONGER_TMPDIR="$cm/tmp" CERTMONGER_CONFIG_DIR="$cm/conf" \
    certmonger -s -n >"$cm/certmonger.log" 2>&1 &
  cm_pid=$!
  for ((i = 0; i < 200; i++)); do
    cm getcert list-cas -s >/dev/null 2>&1 && break
    kill -0 "$cm_pid" 2>/dev/null || break
    sleep 0.05
  done
  cm_settle || {
    CM_WHY="certmonger did not come up: $(tail -n 3 "$cm/certmonger.log")"
    return 1
  }
  cm getcert add-scep-ca -s -c bench -u "$URL" -N "$cm/ca.pem" >>"$work/cmd.log" 2>&1 || {
    CM_WHY="getcert add-scep-ca failed (see cmd.log)"
    return 1
  }
  cm_settle || true
  # One enrollment before timing: certmonger must actually work here.
  certmonger_first >>"$work/cmd.log" 2>&1 && cm_wait_status "bench$cm_n" 2>>"$work/cmd.log" || {
    CM_WHY="a first enrollment did not reach MONITORING: status '$(cm_status "bench$cm_n")'"
    return 1
  }
  cm getcert stop-tracking -s -i "bench$cm_n" >>"$work/cmd.log" 2>&1
}

# certmonger_first: `getcert request` for a new 2048-bit key, until the
# certificate file is written (checked every 10 ms, 60 s at most). The
# status is checked afterwards, untimed (certmonger_check).
certmonger_first() {
  local id=bench$((++cm_n)) d=$work/cm/certs i
  cm getcert request -s -c bench -I "$id" -f "$d/$id.crt" -k "$d/$id.key" -N CN=bench-certmonger \
    -L "$CHALLENGE" -g 2048 || return 1
  for ((i = 0; i < 6000; i++)); do
    [[ -s "$d/$id.crt" ]] && return 0
    sleep 0.01
  done
  return 1
}
# certmonger_check: the last request reached MONITORING; stop tracking it
# (so the idle daemon later tracks one certificate, as scepd does).
certmonger_check() {
  cm_wait_status "bench$cm_n" || die "certmonger request bench$cm_n did not reach MONITORING"
  cm getcert stop-tracking -s -i "bench$cm_n" >>"$work/cmd.log" 2>&1
}

# ---- /proc sampling ---------------------------------------------------------------

# sample PID: prints "key value" lines (memory in KiB, CPU in clock ticks).
sample() {
  local pid=$1 f v t cs=0 ticks
  for f in VmRSS RssAnon RssFile RssShmem VmHWM Threads; do
    v=$(awk -v k="$f:" '$1 == k { print $2 }' "/proc/$pid/status")
    echo "$f ${v:-0}"
  done
  echo "Pss $(awk '$1 == "Pss:" { print $2 }' "/proc/$pid/smaps_rollup")"
  echo "Pss_Anon $(awk '$1 == "Pss_Anon:" { print $2 }' "/proc/$pid/smaps_rollup")"
  echo "fds $(find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 | wc -l)"
  for t in /proc/"$pid"/task/*; do
    v=$(awk '/^(non)?voluntary_ctxt_switches:/ { s += $2 } END { print s + 0 }' "$t/status")
    cs=$((cs + v))
  done
  echo "ctxt $cs"
  # utime and stime are fields 14 and 15; field 2 (comm) may hold spaces.
  ticks=$(sed 's/^.*) //' "/proc/$pid/stat" | awk '{ print $12 + $13 }')
  echo "cpu_ticks $ticks"
}
val() { awk -v k="$2" '$1 == k { print $2 }' "$1"; }

# wait_log FILE TEXT PID: until FILE contains TEXT (20 s).
wait_log() {
  local i
  for ((i = 0; i < 400; i++)); do
    grep -q -- "$2" "$1" 2>/dev/null && return 0
    kill -0 "$3" 2>/dev/null || die "process $3 exited: $(tail -n 5 "$1")"
    sleep 0.05
  done
  die "'$2' never appeared in $1"
}

# ---- main ------------------------------------------------------------------------

say "Dependencies"
scripts/lib/install-deps.sh time python3 valgrind binutils procps certmonger dbus >&2

say "Builds (build/bench: Release; build/bench-size: SCEPD_SIZE_OPT=ON)"
# ccache when the machine has it (the figures do not depend on it).
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
cmake -S . -B build/bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DSCEPD_BUILD_TESTS=OFF "${launcher[@]}" >/dev/null
cmake --build build/bench -j "$JOBS" >&2
cmake -S . -B build/bench-size -G Ninja -DCMAKE_BUILD_TYPE=Release -DSCEPD_BUILD_TESTS=OFF "${launcher[@]}" \
  -DSCEPD_SIZE_OPT=ON >/dev/null
cmake --build build/bench-size -j "$JOBS" >&2
SCEPD=$repo/build/bench/daemon/scepd
SSCEP=$repo/build/bench/cli/sscep
SCEPD_SIZE=$repo/build/bench-size/daemon/scepd
SSCEP_SIZE=$repo/build/bench-size/cli/sscep
for b in "$SCEPD" "$SSCEP" "$SCEPD_SIZE" "$SSCEP_SIZE"; do [[ -x "$b" ]] || die "$b not built"; done

work=$(mktemp -d "${TMPDIR:-/tmp}/scepd-bench.XXXXXX")
T=$work/times
mkdir -p "$T"
say "Local CA"
start_ca "scepd bench CA"
echo "scepserver pid $ca_pid at $URL" >&2
say "certmonger (private session bus)"
if start_certmonger; then
  echo "certmonger pid $cm_pid" >&2
else
  echo "bench: certmonger not measured: $CM_WHY" >&2
  stop_pid "$cm_pid"
  cm_pid=
  stop_pid "$bus_pid"
  bus_pid=
fi
started=$(date -u '+%Y-%m-%d %H:%M UTC')
t_begin=$SECONDS

# ---- 1. first enrollment ------------------------------------------------------------
say "1. First enrollment, $N rounds"
scepd_conf "$work/sd" 2048
clients=4
[[ -n "$cm_pid" ]] && clients=5
for ((i = 0; i < N; i++)); do
  for ((j = 0; j < clients; j++)); do
    case $(((i + j) % clients)) in
      0) scepd_fresh "$work/sd" && timed "$T/first_scepd" scepd_once "$work/sd" ;;
      1) sscep_fresh "$work/ss" && timed "$T/first_sscep" sscep_first "$work/ss" 2048 ;;
      2) mkdir -p "$work/sc" && scepclient_fresh "$work/sc" &&
        timed "$T/first_scepclient" scepclient_run "$work/sc" ;;
      3) timed "$T/first_genrsa" genrsa 2048 ;;
      4) timed "$T/first_certmonger" certmonger_first && certmonger_check ;;
    esac
  done
done

# ---- 2. the exchange alone ------------------------------------------------------------
say "2. Renewal with a key made beforehand, $N rounds"
rn=$work/rn
sscep_fresh "$rn"
sscep_first "$rn" 2048 >>"$work/cmd.log" 2>&1
"$SSCEP" mkrequest -k "$rn/new.key" -r "$rn/new.csr" --key-size 2048 \
  --subject "/CN=bench-sscep-2048" --challenge "$CHALLENGE" >>"$work/cmd.log" 2>&1
sscep_renew() {
  rm -f "$rn/new.crt" "$rn/new.crt.chain"
  "$SSCEP" enroll -u "$URL" -c "$rn/ca.crt" -k "$rn/new.key" -r "$rn/new.csr" \
    -K "$rn/local.key" -O "$rn/local.crt" -l "$rn/new.crt"
}
mkdir -p "$work/rc"
scepclient_run "$work/rc" >>"$work/cmd.log" 2>&1
# scepd --once whose certificate always needs renewing (renew_days beyond
# the CA's 365 days): a new key, then RenewalReq.
scepd_conf "$work/sr" 2048 400
scepd_once "$work/sr" >>"$work/cmd.log" 2>&1
issued_before=$(wc -l <"$work/depot/index.txt")
ca_log_before=$(wc -l <"$work/scepserver.log")
for ((i = 0; i < N; i++)); do
  for ((j = 0; j < 3; j++)); do
    case $(((i + j) % 3)) in
      0) timed "$T/renew_sscep" sscep_renew ;;
      1) timed "$T/renew_scepclient" scepclient_run "$work/rc" ;;
      2) # Until the "installed" line: what the renewal waits for. The
        # process then makes the next key before it exits (.exit figure).
        r=$("$PY" bench/mono.py "installed, valid until" "$SCEPD" -c "$work/sr/scepd.conf" --once \
          2>>"$work/cmd.log") || die "scepd --once renewal failed (see $work/cmd.log)"
        read -r line_us exit_us < <(awk '{ printf "%d %d\n", $1 * 1000, $2 * 1000 }' <<<"$r")
        echo "$line_us" >>"$T/renew_scepd"
        echo "$exit_us" >>"$T/renew_scepd.exit"
        ;;
    esac
  done
done
issued_renew=$(($(wc -l <"$work/depot/index.txt") - issued_before))
# ca_times FIRST_LINE OP: the CA's own time per OP request (PKIOperation,
# GetCACert, GetCACaps) from line FIRST_LINE of scepserver's log on
# ("op=PKIOperation ... took=6.1ms"), in microseconds, one per line.
ca_times() {
  tail -n +"$1" "$work/scepserver.log" |
    awk -F'took=' -v op="op=$2 " '/caller=endpoint.go/ && index($0, op) {
      v = $2; u = v; sub(/[a-zµ]+$/, "", v); sub(/^[0-9.]+/, "", u)
      f = (u == "s") ? 1e6 : (u == "ms") ? 1e3 : (u == "ns") ? 1e-3 : 1
      printf "%d\n", v * f }'
}
# ca_share FIRST_LINE NAME: $T/NAME_{pkiop,cacert,cacaps} from the log, and
# prints the CA's own time for one renewal's three requests (medians, ms).
ca_share() {
  local op f
  for op in PKIOperation:pkiop GetCACert:cacert GetCACaps:cacaps; do
    f=$T/$2_${op#*:}
    ca_times "$1" "${op%%:*}" >"$f"
    [[ -s "$f" ]] || die "no ${op%%:*} times in $work/scepserver.log"
  done
  calc "$(median "$T/$2_pkiop") + $(median "$T/$2_cacert") + $(median "$T/$2_cacaps")" %.2f
}
# The CA's own time for each renewal of that loop (all three clients send
# GetCACaps, GetCACert and PKIOperation); "own share" = wall time - this.
ca_renew=$(ca_share "$((ca_log_before + 1))" renew_ca)
# Renewals inside one running daemon (libraries loaded, libcurl too after
# its first renewal): SIGUSR1 until "installed", each with a key made ahead.
scepd_conf "$work/sd" 2048 400
scepd_once "$work/sd" >>"$work/cmd.log" 2>&1
ca_log_before=$(wc -l <"$work/scepserver.log")
"$PY" bench/daemon_renewal.py "$N" "$work/sd/daemon.log" "$work/sd/data/.next.key" \
  "$SCEPD" -c "$work/sd/scepd.conf" >"$T/renew_daemon" ||
  die "renewals in the daemon failed (see $work/sd/daemon.log)"
ca_daemon=$(ca_share "$((ca_log_before + 1))" daemon_ca)

# ---- 2b. first enrollment by key type (issue 22, goal 3) --------------------------------
# scepd --once from an empty data_dir, the key type's generation floor
# (openssl) and a scepd --once renewal of the same key type (the exchange),
# alternated round by round.
say "2b. First enrollment by key type, $N rounds"
key_floor() {
  case $1 in
    rsa3072) openssl genrsa -out "$work/floor.key" 3072 ;;
  esac
}
key_conf() {  # key_conf DIR TYPE [RENEW_DAYS]
  case $2 in
    rsa3072) scepd_conf "$1" 3072 "${3:-30}" ;;
  esac
}
# once_to_installed DIR NAME: a scepd --once renewal timed to its
# "installed" line (then it makes the next key and exits).
once_to_installed() {
  local r line_us
  r=$("$PY" bench/mono.py "installed, valid until" "$SCEPD" -c "$1/scepd.conf" --once \
    2>>"$work/cmd.log") || die "scepd --once renewal failed (see $work/cmd.log)"
  read -r line_us _ < <(awk '{ printf "%d %d\n", $1 * 1000, $2 * 1000 }' <<<"$r")
  echo "$line_us" >>"$T/$2"
}
kt=rsa3072  # SCEP keys are RSA; EC P-256 is measured over EST (section 7)
key_conf "$work/kf_$kt" "$kt"
key_conf "$work/kr_$kt" "$kt" 400
scepd_once "$work/kr_$kt" >>"$work/cmd.log" 2>&1
for ((i = 0; i < N; i++)); do
  for ((j = 0; j < 3; j++)); do
    case $(((i + j) % 3)) in
      0) scepd_fresh "$work/kf_$kt" && timed "$T/kt_first_$kt" scepd_once "$work/kf_$kt" ;;
      1) timed "$T/kt_floor_$kt" key_floor "$kt" ;;
      2) once_to_installed "$work/kr_$kt" "kt_renew_$kt" ;;
    esac
  done
done

# ---- 3. key sizes ------------------------------------------------------------------
say "3. Key sizes"
for bits in 2048 3072 4096; do
  n=$N
  ((bits == 4096)) && n=$N_BIG
  for ((i = 0; i < n; i++)); do
    for ((j = 0; j < 2; j++)); do
      if (((i + j) % 2 == 0)); then
        d=$work/ks$bits
        sscep_fresh "$d"
        t0=${EPOCHREALTIME/./}
        timed "$T/ks_getca_$bits" "$SSCEP" getca -u "$URL" -c "$d/ca.crt"
        timed "$T/ks_mkreq_$bits" "$SSCEP" mkrequest -k "$d/local.key" -r "$d/local.csr" \
          --key-size "$bits" --subject "/CN=bench-ks-$bits" --challenge "$CHALLENGE"
        timed "$T/ks_enroll_$bits" "$SSCEP" enroll -u "$URL" -c "$d/ca.crt" -k "$d/local.key" \
          -r "$d/local.csr" -l "$d/local.crt"
        t1=${EPOCHREALTIME/./}
        echo $((t1 - t0)) >>"$T/ks_total_$bits"
        # getca + enroll: everything beyond making the key and CSR.
        echo $(($(tail -n1 "$T/ks_getca_$bits") + $(tail -n1 "$T/ks_enroll_$bits"))) >>"$T/ks_beyond_$bits"
      else
        timed "$T/ks_genrsa_$bits" genrsa "$bits"
      fi
    done
  done
done

# ---- 4. memory, idle daemon -----------------------------------------------------------
say "4. Peak RSS during an enrollment"
# The daemon enrolling from nothing, in the foreground: VmHWM once enrolled.
scepd_conf "$work/pk" 2048
"$SCEPD" -c "$work/pk/scepd.conf" >"$work/pk.log" 2>&1 &
daemon_pid=$!
for ((i = 0; i < 400; i++)); do
  [[ "$(sed -n 2p "$work/pk/run/status" 2>/dev/null)" == "Certificate enrolled"* ]] && break
  kill -0 "$daemon_pid" 2>/dev/null || die "scepd exited: $(tail -n 5 "$work/pk.log")"
  sleep 0.05
done
sample "$daemon_pid" >"$work/peak_daemon"
stop_pid "$daemon_pid"
daemon_pid=
# Maximum RSS (GNU time) of one run of each client.
maxrss() { /usr/bin/time -f '%M' -o "$work/maxrss" "$@" >>"$work/cmd.log" 2>&1 && cat "$work/maxrss"; }
scepd_fresh "$work/sd"
peak_once=$(maxrss "$SCEPD" -c "$work/sd/scepd.conf" --once)
sscep_fresh "$work/ss"
"$SSCEP" getca -u "$URL" -c "$work/ss/ca.crt" >>"$work/cmd.log" 2>&1
peak_mkreq=$(maxrss "$SSCEP" mkrequest -k "$work/ss/local.key" -r "$work/ss/local.csr" \
  --key-size 2048 --subject /CN=bench-sscep-2048 --challenge "$CHALLENGE")
peak_enroll=$(maxrss "$SSCEP" enroll -u "$URL" -c "$work/ss/ca.crt" -k "$work/ss/local.key" \
  -r "$work/ss/local.csr" -l "$work/ss/local.crt")
scepclient_fresh "$work/sc"
peak_scepclient=$(maxrss scepclient -server-url "$URL" -private-key "$work/sc/key.pem" \
  -certificate "$work/sc/cert.pem" -keySize 2048 -cn bench-scepclient -challenge "$CHALLENGE")
peak_genrsa=$(maxrss openssl genrsa -out "$work/genrsa.key" 2048)

say "4. Idle daemon, ${IDLE_SECS} s"
if [[ -n "$cm_pid" ]]; then
  # certmonger tracking one valid certificate, as the scepd daemon below.
  certmonger_first >>"$work/cmd.log" 2>&1 || die "certmonger: the idle certificate was not issued"
  cm_wait_status "bench$cm_n" || die "certmonger request bench$cm_n did not reach MONITORING"
  cm_settle || true
  echo "certmonger tracks: $(cm getcert list -s | grep -c 'Request ID') request(s)" >&2
fi
scepd_conf "$work/idle" 2048
scepd_once "$work/idle" >>"$work/cmd.log" 2>&1
"$SCEPD" -c "$work/idle/scepd.conf" >"$work/idle.log" 2>&1 &
daemon_pid=$!
wait_log "$work/idle.log" " valid: " "$daemon_pid"
sample "$daemon_pid" >"$work/idle_start"
[[ -n "$cm_pid" ]] && sample "$cm_pid" >"$work/cm_idle_start"
[[ -n "$bus_pid" ]] && sample "$bus_pid" >"$work/bus_idle_start"
sleep "$IDLE_SECS"
kill -0 "$daemon_pid" 2>/dev/null || die "scepd exited while idle: $(tail -n 5 "$work/idle.log")"
sample "$daemon_pid" >"$work/idle_end"
if [[ -n "$cm_pid" ]]; then
  kill -0 "$cm_pid" 2>/dev/null || die "certmonger exited while idle: $(tail -n 5 "$work/cm/certmonger.log")"
  sample "$cm_pid" >"$work/cm_idle_end"
  sample "$bus_pid" >"$work/bus_idle_end"
  awk '/^[0-9a-f]+-[0-9a-f]+ / { name = ($6 == "") ? "[anon]" : $6 }
    /^Rss:/ { rss[name] += $2 } /^Anonymous:/ { anon[name] += $2 }
    END { for (n in rss) if (rss[n] > 0) printf "%6d %6d %s\n", rss[n], anon[n], n }' "/proc/$cm_pid/smaps" |
    sort -rn | sed -n 1,8p >"$work/cm_idle_maps"
  cm_libs=$(awk '$6 ~ /\.so/ { print $6 }' "/proc/$cm_pid/maps" | sort -u | wc -l)
fi
scepd_libs=$(awk '$6 ~ /\.so/ { print $6 }' "/proc/$daemon_pid/maps" | sort -u | wc -l)
cp "/proc/$daemon_pid/smaps_rollup" "$work/idle_smaps_rollup"
awk '/^[0-9a-f]+-[0-9a-f]+ / { name = ($6 == "") ? "[anon]" : $6 }
  /^Rss:/ { rss[name] += $2 } /^Anonymous:/ { anon[name] += $2 }
  END { for (n in rss) if (rss[n] > 0) printf "%6d %6d %s\n", rss[n], anon[n], n }' "/proc/$daemon_pid/smaps" |
  sort -rn | sed -n 1,12p >"$work/idle_maps"
stop_pid "$daemon_pid"
daemon_pid=

# ---- 5. binaries -------------------------------------------------------------------
say "5. Binary sizes"
bin_row() {
  local label=$1 bin=$2 s
  strip -o "$work/stripped" "$bin"
  s=$(stat -c %s "$work/stripped")
  printf '| %s | %s | %s | %s | %s |\n' "$label" "$s" "$(calc "$s / 1024" %.1f)" \
    "$(ldd "$bin" | wc -l)" "$(readelf -d "$bin" | grep -c NEEDED)"
}
stripped_kib() {
  strip -o "$work/stripped" "$1"
  calc "$(stat -c %s "$work/stripped") / 1024" %.1f
}

# ---- 6. start to decision ----------------------------------------------------------------
say "6. Start to decision, $N rounds"
scepd_conf "$work/sdec" 2048
scepd_once "$work/sdec" >>"$work/cmd.log" 2>&1
# The harness alone: a shell that prints the same line and exits. The
# floors: a C program that only prints it (starting a process here), and a
# C++ program doing the same, linked to the Release scepd's libraries in
# the same order (what loading them costs before scepd does anything).
printf '#include <stdio.h>\nint main(void) { fputs(" valid: \\n", stderr); return 0; }\n' \
  >"$work/floor.c"
cc -O2 -o "$work/floor-c" "$work/floor.c"
printf '#include <cstdio>\n#include <string>\nint main(int, char** argv) {\n  std::string s(argv[0]);\n  std::fputs(" valid: \\n", stderr);\n  return s.empty();\n}\n' \
  >"$work/floor.cc"
floor_libs=()
while read -r lib; do
  case $lib in
    libstdc++.so.* | libm.so.* | libgcc_s.so.* | libc.so.*) ;;  # what c++ links anyway
    lib*.so*) floor_libs+=("-l:$lib") ;;
  esac
done < <(readelf -d "$SCEPD" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
c++ -O2 -o "$work/floor-cxx" "$work/floor.cc" -Wl,--no-as-needed "${floor_libs[@]}"
floor_cxx_libs=$(readelf -d "$work/floor-cxx" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | paste -sd' ')
dec_names=(dec_release dec_size dec_harness dec_floor_c dec_floor_cxx)
for ((i = 0; i < N; i++)); do
  for ((j = 0; j < 5; j++)); do
    k=$(((i + j) % 5))
    case $k in
      0) r=$("$PY" bench/mono.py " valid: " "$SCEPD" -c "$work/sdec/scepd.conf" --once) ;;
      1) r=$("$PY" bench/mono.py " valid: " "$SCEPD_SIZE" -c "$work/sdec/scepd.conf" --once) ;;
      2) r=$("$PY" bench/mono.py " valid: " /bin/sh -c 'echo " valid: " >&2') ;;
      3) r=$("$PY" bench/mono.py " valid: " "$work/floor-c") ;;
      4) r=$("$PY" bench/mono.py " valid: " "$work/floor-cxx") ;;
    esac
    # milliseconds to microseconds, as the other figures
    read -r line_us exit_us < <(awk '{ printf "%d %d\n", $1 * 1000, $2 * 1000 }' <<<"$r")
    echo "$line_us" >>"$T/${dec_names[k]}"
    echo "$exit_us" >>"$T/${dec_names[k]}.exit"
  done
done
# ---- 7. CMP and EST (issue 22, goal 6): bench/protocols.sh -------------------------------
# Its EST server is a test target: a build directory of its own, with tests.
say "7. CMP and EST, $N rounds (bench/protocols.sh)"
PROTO_WHY=
if cmake -S . -B build/bench-est -G Ninja -DCMAKE_BUILD_TYPE=Release -DSCEPD_BUILD_TESTS=ON \
  "${launcher[@]}" >/dev/null && cmake --build build/bench-est -j "$JOBS" --target est_test_server >&2; then
  bench/protocols.sh "$SCEPD" build/bench-est "$N" "$work/protocols.md" >"$work/protocols.out" ||
    PROTO_WHY="bench/protocols.sh failed (see its output above)"
else
  PROTO_WHY="the EST test server did not build"
fi
elapsed=$((SECONDS - t_begin))

# ---- diagnostics for missed goals (filled in below) -----------------------------------------
say "Diagnostics"
diag_massif=
if command -v valgrind >/dev/null; then
  valgrind --tool=massif --massif-out-file="$work/massif.out" --pages-as-heap=no \
    "$SCEPD" -c "$work/sdec/scepd.conf" --once >>"$work/cmd.log" 2>&1 || true
  if [[ -s "$work/massif.out" ]]; then
    # The peak snapshot's heap tree, first two levels.
    diag_massif=$(ms_print "$work/massif.out" | awk '/^->/' | sed -n 1,8p)
  fi
fi
diag_perf=
if command -v perf >/dev/null; then
  if perf record -q -F 20000 -g -o "$work/perf.data" -- "$SCEPD" -c "$work/sdec/scepd.conf" --once \
    >>"$work/cmd.log" 2>&1; then
    diag_perf=$(perf report -i "$work/perf.data" --stdio --no-children --sort dso 2>/dev/null |
      grep -E "^ +[0-9.]+%" | sed -n 1,8p)
  fi
fi
# Instructions executed (callgrind): independent of the machine's load, so
# comparable between runs where the timings are not.
diag_ir_idle=
diag_ir_renew=
if command -v valgrind >/dev/null; then
  valgrind --tool=callgrind --callgrind-out-file="$work/cg-idle.out" \
    "$SCEPD" -c "$work/sdec/scepd.conf" --once >>"$work/cmd.log" 2>&1 || true
  diag_ir_idle=$(awk '/^(summary|totals):/ { print $2; exit }' "$work/cg-idle.out" 2>/dev/null || true)
  # A renewal with the key made ahead; the renewing process only (the child
  # it forks to make the next key writes its own, far larger, file).
  rm -f "$work"/cg-renew.*
  valgrind --tool=callgrind --callgrind-out-file="$work/cg-renew.%p" \
    "$SCEPD" -c "$work/sr/scepd.conf" --once >>"$work/cmd.log" 2>&1 || true
  diag_ir_renew=$(cat "$work"/cg-renew.* 2>/dev/null | awk '/^(summary|totals):/ { print $2 }' |
    sort -n | head -n 1)
fi
# Storage writes (issue 22, flash wear): one `scepd --once` renewal ($work/sr
# always renews, with the key made ahead by the run before) and one idle
# check ($work/sdec, valid certificate), children included: fsync-family
# calls, bytes written into data_dir and into run_dir (tmpfs on routers).
# sync_audit DIR prints "SYNCS DATA_BYTES RUN_BYTES".
sync_audit() {
  local out="$work/strace-sync.txt"
  strace -f -qq -y -o "$out" -e trace=fsync,fdatasync,sync_file_range,syncfs,write,pwrite64 \
    "$SCEPD" -c "$1/scepd.conf" --once >>"$work/cmd.log" 2>&1 || return 1
  awk -v data="<$1/data/" -v run="<$1/run/" '
    /(fsync|fdatasync|sync_file_range|syncfs)\(/ { syncs++ }
    /(write|pwrite64)\([0-9]+</ && $NF ~ /^[0-9]+$/ {
      if (index($0, data)) d += $NF; else if (index($0, run)) r += $NF }
    END { printf "%d %d %d\n", syncs, d, r }' "$out"
}
io_renew="? ? ?"
io_idle="? ? ?"
if command -v strace >/dev/null; then
  io_renew=$(sync_audit "$work/sr") || io_renew="? ? ?"
  io_idle=$(sync_audit "$work/sdec") || io_idle="? ? ?"
fi
read -r io_renew_syncs io_renew_data io_renew_run <<<"$io_renew"
read -r io_idle_syncs io_idle_data io_idle_run <<<"$io_idle"
say "storage per renewal: $io_renew_syncs fsyncs, $io_renew_data bytes to data_dir, $io_renew_run to run_dir; per idle check: $io_idle_syncs fsyncs, $io_idle_data bytes to data_dir, $io_idle_run to run_dir"

diag_strace=
if command -v strace >/dev/null; then
  strace -f -c -w -o "$work/strace.txt" "$SCEPD" -c "$work/sdec/scepd.conf" --once >>"$work/cmd.log" 2>&1 || true
  diag_strace=$(sed -n '1,12p' "$work/strace.txt")
fi

# ---- the report --------------------------------------------------------------------------
say "Writing $OUT"
cpu=$(awk -F: '/^model name/ { sub(/^ +/, "", $2); print $2; exit }' /proc/cpuinfo)
scep_ver=$(dpkg-query -W -f='${Version}' scep 2>/dev/null || echo unknown)
m_first_scepd=$(median "$T/first_scepd")
m_first_sscep=$(median "$T/first_sscep")
m_first_sc=$(median "$T/first_scepclient")
m_genrsa=$(median "$T/first_genrsa")
m_ren_sscep=$(median "$T/renew_sscep")
m_ren_sc=$(median "$T/renew_scepclient")
m_ren_scepd=$(median "$T/renew_scepd")
m_dec=$(median "$T/dec_release")
m_dec_size=$(median "$T/dec_size")
m_harness=$(median "$T/dec_harness")
m_floor_cxx=$(median "$T/dec_floor_cxx")
m_ren_daemon=$(median "$T/renew_daemon")
m_ca_pkiop=$(median "$T/renew_ca_pkiop")
kib() { calc "$1" %.0f; }
rss_anon=$(val "$work/idle_end" RssAnon)
ctxt_d=$(($(val "$work/idle_end" ctxt) - $(val "$work/idle_start" ctxt)))
cpu_d=$(($(val "$work/idle_end" cpu_ticks) - $(val "$work/idle_start" cpu_ticks)))
size_rel=$(stripped_kib "$SCEPD")
size_opt=$(stripped_kib "$SCEPD_SIZE")
floor_plus=$(calc "$m_genrsa + $m_ren_scepd" %.1f)
# Expected values add up, medians of skewed figures do not (RSA key
# generation time is a long-tailed random variable): the first-enrollment
# goal, a sum, is judged on means; the medians are shown beside them.
a_first_scepd=$(mean "$T/first_scepd")
a_genrsa=$(mean "$T/first_genrsa")
a_ren_scepd=$(mean "$T/renew_scepd")
floor_plus_mean=$(calc "$a_genrsa + $a_ren_scepd" %.1f)
# The "## " headings this script writes; any other section of $OUT is kept.
GENERATED_HEADINGS='^## (Machine and versions|[0-9]+\\. |Goals \\(issue (6|22)\\)|Profiles \\(generated\\)|Notes for a later session)'
cm_ver=$(dpkg-query -W -f='${Version}' certmonger 2>/dev/null || echo "not installed")
cm_first_text() {
  if [[ -n "$CM_WHY" ]]; then
    echo "certmonger was not measured in this run: $CM_WHY."
    return
  fi
  echo "scepd / certmonger: $(calc "$m_first_scepd / $(median "$T/first_certmonger")") ×."
}
cm_idle_text() {
  if [[ -n "$CM_WHY" ]]; then
    echo "The idle certmonger was not measured in this run: $CM_WHY."
    return
  fi
  cat <<CMEOF
certmonger $cm_ver beside it, idle over the same ${IDLE_SECS} s, tracking
one valid certificate from the same CA: \`certmonger -s -n\` on a private
\`dbus-daemon --session\` (a router would need the system bus running for
it, whose figures are in the last column), every state directory private
(\`CERTMONGER_REQUESTS_DIR\`, \`CERTMONGER_CAS_DIR\`, ...), and
\`bench/legacy_provider.c\` preloaded so that it can decrypt the CA's
single-DES replies (it does not take the legacy provider from
\`OPENSSL_CONF\`). $cm_libs shared objects mapped. Peak RSS (VmHWM) of the
certmonger process over the whole run: $(val "$work/cm_idle_end" VmHWM) KiB
(it makes keys and requests in forked children).

| | scepd after ${IDLE_SECS} s | certmonger at start | certmonger after ${IDLE_SECS} s | change | its dbus-daemon after ${IDLE_SECS} s |
|---|---|---|---|---|---|
CMEOF
  local k a b
  for k in VmRSS RssAnon RssFile Pss Pss_Anon Threads fds ctxt cpu_ticks; do
    a=$(val "$work/cm_idle_start" "$k")
    b=$(val "$work/cm_idle_end" "$k")
    printf '| %s | %s | %s | %s | %s | %s |\n' "$k" "$(val "$work/idle_end" "$k")" "$a" "$b" \
      "$(calc "${b:-0} - ${a:-0}" %.0f)" "$(val "$work/bus_idle_end" "$k")"
  done
  echo
  echo "Largest resident mappings of the idle certmonger (KiB, by file):"
  echo
  echo '```'
  cat "$work/cm_idle_maps"
  echo '```'
}
cm_goal_row() {
  local rss
  rss=$(val "$work/idle_end" VmRSS)
  if [[ -n "$CM_WHY" ]]; then
    echo "| idle: RSS < ½ of an idle certmonger's | VmRSS $rss KiB; certmonger not measured ($CM_WHY) | not measured |"
    return
  fi
  local cm_rss pss cm_pss
  cm_rss=$(val "$work/cm_idle_end" VmRSS)
  # PSS shares each library page among the processes mapping it: shown
  # beside RSS, which counts the shared libraries' pages in full.
  pss=$(val "$work/idle_end" Pss)
  cm_pss=$(val "$work/cm_idle_end" Pss)
  echo "| idle: RSS < ½ of an idle certmonger's | scepd VmRSS $rss KiB vs certmonger $cm_rss KiB ($(calc "$rss / $cm_rss") ×); PSS $pss vs $cm_pss KiB ($(calc "$pss / $cm_pss") ×) | $(verdict "$rss < 0.5 * $cm_rss") |"
}
verdict() { if awk "BEGIN { exit !($1) }"; then echo met; else echo "**missed**"; fi; }
# kt_row LABEL FIRST FLOOR EXCHANGE: a row of the key-type table.
kt_row() {
  printf '| %s | %s (%s) | %s (%s) | %s (%s) | %s × | %s |\n' "$1" "$(mean "$2")" "$(median "$2")" \
    "$(mean "$3")" "$(median "$3")" "$(mean "$4")" "$(median "$4")" "$(kt_ratio "$2" "$3" "$4")" \
    "$(wc -l <"$2")"
}
kt_ratio() { calc "$(mean "$1") / ($(mean "$2") + $(mean "$3"))"; }
kt_verdict() { verdict "$(kt_ratio "$1" "$2" "$3") <= 1.0"; }
own_daemon=$(calc "$m_ren_daemon - $ca_daemon" %.1f)
own_once=$(calc "$m_ren_scepd - $ca_renew" %.1f)
own_sc=$(calc "$m_ren_sc - $ca_renew" %.1f)
curl_libs=$(ldd "$(ldconfig -p | awk '/libcurl\.so\.4 .*x86-64/ { print $NF; exit }')" 2>/dev/null | wc -l)
# ec_goal3 ratio|verdict: EC P-256's first-enrollment ratio (over EST,
# section 7) for the goal 3 row.
ec_goal3() {
  local r
  r=$(awk '$1 == "goal3" && $2 == "ec256" { print $3 }' "$work/protocols.out" 2>/dev/null)
  if [[ -z "$r" ]]; then
    [[ $1 == ratio ]] && echo ", EC P-256 not measured (SCEP needs RSA; over EST in section 7)"
    return
  fi
  if [[ $1 == ratio ]]; then
    echo ", EC P-256 $r × (over EST, section 7)"
  else
    echo ", EC P-256 $(verdict "$r <= 1.0")"
  fi
}
goal6_rows() {
  local proto ours ref
  if [[ ! -s "$work/protocols.out" ]]; then
    echo "| 6. CMP and EST own share | not measured: ${PROTO_WHY:-bench/protocols.sh did not run} | not measured |"
    return
  fi
  while read -r _ proto ours ref; do
    echo "| 6. $proto: scepd's own share vs the reference client's | $ours ms vs $ref ms: $(calc "$ours / $ref") × (section 7) | $(verdict "$ours <= $ref") |"
  done < <(grep '^goal6 ' "$work/protocols.out")
}

{
  cat <<EOF
# Benchmarks

Generated by \`bench/run.sh\` on $started; do not edit by hand (the notes at
the end are generated too). Figures from one run on one machine: they
compare the clients with each other in the same run, not across machines.

## Machine and versions

| | |
|---|---|
| CPU | $cpu, \`nproc\` = $(nproc) |
| kernel | $(uname -sr) |
| OpenSSL | $(openssl version) |
| micromdm scepserver / scepclient | Debian package \`scep\` $scep_ver |
| certmonger | Debian package \`certmonger\` $cm_ver |
| libcurl | $(dpkg-query -W -f='${Version}' libcurl4 2>/dev/null || echo unknown) |
| compiler | $(c++ --version | head -n 1) |
| scepd | commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . ':!bench' ':!docs/benchmarks.md' || echo ' (with local changes)'), build/bench (\`-DCMAKE_BUILD_TYPE=Release\`) and build/bench-size (plus \`-DSCEPD_SIZE_OPT=ON\`) |
| runs | N = $N per figure ($N_BIG for 4096-bit keys); idle watch ${IDLE_SECS} s; timed part took ${elapsed} s |

Reproduce (Debian 12, as root, from the repository root):

    BENCH_N=$N BENCH_N_BIG=$N_BIG BENCH_IDLE=$IDLE_SECS bench/run.sh

The CA is a fresh \`scepserver\` on 127.0.0.1 (\`-allowrenew 0 -crtvalid 365
-challenge\`), on the same two cores as the clients, so its own work (signing,
file depot) is inside every exchange figure. Times are wall-clock
milliseconds of the whole process (fork and exec included), taken with
bash's \`\$EPOCHREALTIME\`; commands of one figure are alternated round by
round so a slow moment hits all of them alike. RSA key generation time varies
a lot from key to key (prime search): compare medians, and read min/max as
the spread.

## 1. First enrollment (RSA-2048 key, GetCACaps, GetCACert, PKCSReq)

- \`scepd --once\` with an empty \`data_dir\` each run (one process).
- \`sscep getca\` + \`sscep mkrequest\` + \`sscep enroll\` (three processes;
  getca is included because the other two clients fetch the CA certificate too).
- \`scepclient\` with neither key nor certificate present (it makes the key).
- \`openssl genrsa 2048\`: the floor, key generation alone.
- certmonger: \`getcert request -c bench -g 2048 -L challenge\` for a new
  key and certificate file, until the certificate file is written (checked
  every 10 ms); the status MONITORING is checked afterwards, untimed. The
  daemon runs on a private session bus (below).

| command | median ms | min | max | N | vs genrsa |
|---|---|---|---|---|---|
$(row 'scepd --once' "$T/first_scepd" "$m_genrsa")
$(row 'sscep getca+mkrequest+enroll' "$T/first_sscep" "$m_genrsa")
$(row 'scepclient' "$T/first_scepclient" "$m_genrsa")
$(row 'openssl genrsa 2048' "$T/first_genrsa" "$m_genrsa")
$([[ -s "$T/first_certmonger" ]] && row 'certmonger (getcert request)' "$T/first_certmonger" "$m_genrsa")

scepd / scepclient: $(calc "$m_first_scepd / $m_first_sc") ×; sscep / scepclient:
$(calc "$m_first_sscep / $m_first_sc") ×; scepd beyond the genrsa floor:
$(calc "$m_first_scepd - $m_genrsa" %.1f) ms.

$(cm_first_text)

## 2. The SCEP exchange alone (renewal, key made beforehand)

- \`sscep enroll -K old.key -O old.crt\` with a new key and CSR made before
  the loop (GetCACaps + RenewalReq; CA certificate already on disk).
- \`scepclient\` run again with its key and certificate present: RenewalReq
  with the same key (also fetches the CA certificate).
- \`scepd --once\` whose certificate always needs renewing (\`renew_days\`
  400 > the CA's 365 days): RenewalReq with the key the previous run made
  ahead of time (\`.next.key\`), timed (\`bench/mono.py\`) until its
  "renewed: certificate ... installed" line; after that line the process
  makes the key for the next renewal at low priority and waits for it
  before exiting (the "to exit" row). Shown for the "renewal does not wait
  for key generation" goal.

The CA's index grew by $issued_renew certificates during this loop
($((3 * N)) runs): every run was a real exchange.

| command | median ms | min | max | N | vs scepclient |
|---|---|---|---|---|---|
$(row 'sscep enroll -K -O (pre-made key)' "$T/renew_sscep" "$m_ren_sc")
$(row 'scepclient renewal' "$T/renew_scepclient" "$m_ren_sc")
$(row 'scepd --once renewal, to "installed" (prepared key)' "$T/renew_scepd" "$m_ren_sc")
$(row 'scepd --once renewal, to exit (then makes the next key)' "$T/renew_scepd.exit" "$m_ren_sc")
$(row 'scepd daemon renewal on SIGUSR1, to "installed" (prepared key)' "$T/renew_daemon" "$m_ren_sc")
$(row "the CA's own time per PKIOperation (scepserver's log)" "$T/renew_ca_pkiop" "$m_ren_sc")

The daemon row is one running \`scepd\` renewing $N times in a row after
the loop above (not alternated with it): SIGUSR1 until its "installed" line
(\`bench/daemon_renewal.py\`), every renewal with a key made ahead, no
process start and no library to load. The last row is what the CA itself
spent on each RenewalReq of the loop (\`took=\` in its log): a floor under
every client's figure.

Storage (flash wear), measured with \`strace -f\` (children included, so
the next key's child counts) on one more \`scepd --once\` renewal and on
one idle check (valid certificate; the daemon makes one per
\`check_interval\`, a day by default): **$io_renew_syncs fsync-family calls
per renewal** (fsync, fdatasync, sync_file_range, syncfs; issue 22's goal
≤ 4, docs/daemon.md "Write order" says why 6 is the floor that keeps the
crash guarantees), $io_renew_data bytes written into \`data_dir\` and
$io_renew_run into \`run_dir\`; an idle check $io_idle_syncs calls,
$io_idle_data bytes into \`data_dir\`, $io_idle_run into \`run_dir\` (tmpfs on
routers).

### First enrollment by key type (issue 22, goal 3)

Per round, alternated: \`scepd --once\` from an empty \`data_dir\` (the
key is made on a thread while GetCACaps, GetCACert and the CA check run),
the key type's generation floor with \`openssl\` (\`genrsa 3072\`,
\`genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256\`), and a
\`scepd --once\` renewal of the same key type to its "installed" line (the
exchange; for RSA with the key made ahead by the run before). The goal
compares means (a sum of two long-tailed figures); medians beside them.
RSA-2048's row uses section 1 and 2's figures. EC P-256 is measured over
EST in section 7: SCEP's envelope needs an RSA key (scepd refuses
\`key_type = ec\` with \`protocol = scep\`).

| key | scepd first enrollment, mean (median) ms | key floor, mean (median) ms | exchange, mean (median) ms | first / (floor + exchange), means | N |
|---|---|---|---|---|---|
$(kt_row 'RSA-2048' "$T/first_scepd" "$T/first_genrsa" "$T/renew_scepd")
$(kt_row 'RSA-3072' "$T/kt_first_rsa3072" "$T/kt_floor_rsa3072" "$T/kt_renew_rsa3072")

## 3. Key sizes (first enrollment with sscep)

Per round: \`sscep getca\`, \`sscep mkrequest --key-size BITS\`, \`sscep
enroll\`, alternated with \`openssl genrsa BITS\`. "beyond genrsa" is the
difference of the medians (noisy: key generation spreads widely); "getca +
enroll" is measured directly per run and is what the project adds beyond
making the key and CSR. 4096-bit runs: N = $N_BIG (key generation takes
seconds).

| bits | sscep total median ms (min–max) | genrsa median ms (min–max) | beyond genrsa (medians) | getca + enroll median ms (min–max) | mkrequest median ms | N |
|---|---|---|---|---|---|---|
EOF
  for bits in 2048 3072 4096; do
    read -r tm tlo thi tn < <(stats "$T/ks_total_$bits")
    read -r gm glo ghi _ < <(stats "$T/ks_genrsa_$bits")
    read -r bm blo bhi _ < <(stats "$T/ks_beyond_$bits")
    printf '| %s | %s (%s–%s) | %s (%s–%s) | %s | %s (%s–%s) | %s | %s |\n' "$bits" \
      "$tm" "$tlo" "$thi" "$gm" "$glo" "$ghi" "$(calc "$tm - $gm" %.1f)" "$bm" "$blo" "$bhi" \
      "$(median "$T/ks_mkreq_$bits")" "$tn"
  done
  cat <<EOF

## 4. Memory and idle behaviour

Peak RSS during one enrollment (KiB): the scepd daemon enrolling from an
empty \`data_dir\` in the foreground (VmHWM read once the status file says
enrolled): $(val "$work/peak_daemon" VmHWM); by GNU time's maximum RSS:
\`scepd --once\` $peak_once, \`sscep mkrequest\` $peak_mkreq, \`sscep enroll\`
$peak_enroll, \`scepclient\` $peak_scepclient, \`openssl genrsa 2048\` $peak_genrsa.

The idle daemon (\`scepd\` in the foreground, \`log_target = stderr\`, a valid
certificate enrolled just before), sampled when it logged its decision and
${IDLE_SECS} s later. Memory in KiB; context switches summed over all its
threads; CPU in clock ticks of $(getconf CLK_TCK) Hz (utime + stime).

| | at start | after ${IDLE_SECS} s | change |
|---|---|---|---|
EOF
  for k in VmRSS RssAnon RssFile RssShmem Pss Pss_Anon VmHWM Threads fds ctxt cpu_ticks; do
    a=$(val "$work/idle_start" "$k")
    b=$(val "$work/idle_end" "$k")
    printf '| %s | %s | %s | %s |\n' "$k" "$a" "$b" "$(calc "${b:-0} - ${a:-0}" %.0f)"
  done
  cat <<EOF

Largest resident mappings of the idle daemon (KiB resident, of which
anonymous, by file); $scepd_libs shared objects mapped:

\`\`\`
$(cat "$work/idle_maps")
\`\`\`

$(cm_idle_text)

## 5. Binaries (stripped copies)

| binary | bytes | KiB | \`ldd\` lines | NEEDED |
|---|---|---|---|---|
$(bin_row 'scepd (Release)' "$SCEPD")
$(bin_row 'scepd (SCEPD_SIZE_OPT)' "$SCEPD_SIZE")
$(bin_row 'sscep (Release)' "$SSCEP")
$(bin_row 'sscep (SCEPD_SIZE_OPT)' "$SSCEP_SIZE")

## 6. Start to decision

\`scepd --once\` with a valid certificate, \`log_target = stderr\`: from just
before the process is started (CLOCK_MONOTONIC, \`bench/mono.py\`) until its
stderr line "... valid: ...; next check at ..." is read, and until it exits.
The harness row is \`/bin/sh\` printing the same line: the cost of starting
any process and reading its pipe here. The two floors print the same line
and do nothing else: a C program, and a C++ program linked to the Release
scepd's libraries ($floor_cxx_libs): what exec and the dynamic loader cost
on this machine before scepd's own code runs.

| command | median ms | min | max | N | to exit, median ms |
|---|---|---|---|---|---|
$(row6 'scepd (Release)' dec_release)
$(row6 'scepd (SCEPD_SIZE_OPT)' dec_size)
$(row6 'harness (/bin/sh)' dec_harness)
$(row6 'floor: C program, libc only' dec_floor_c)
$(row6 "floor: C++ program with scepd's libraries" dec_floor_cxx)

$(if [[ -s "$work/protocols.md" ]]; then cat "$work/protocols.md"; else printf '## 7. CMP and EST (issue 22, goal 6)\n\nNot measured in this run: %s.\n' "${PROTO_WHY:-bench/protocols.sh did not run}"; fi)

## Goals (issue 6)

| goal | figure | verdict |
|---|---|---|
| exchange without key generation ≤ ½ of scepclient's renewal | scepd renewal (key made ahead) $m_ren_scepd ms (in the running daemon $m_ren_daemon ms), sscep $m_ren_sscep ms vs scepclient $m_ren_sc ms ($(calc "$m_ren_scepd / $m_ren_sc") ×, $(calc "$m_ren_sscep / $m_ren_sc") ×); the CA alone $m_ca_pkiop ms | scepd $(verdict "$m_ren_scepd <= 0.5 * $m_ren_sc"), sscep $(verdict "$m_ren_sscep <= 0.5 * $m_ren_sc") |
| first enrollment within 5 % of genrsa floor + exchange | means: scepd $a_first_scepd ms vs $a_genrsa + $a_ren_scepd = $floor_plus_mean ms ($(calc "$a_first_scepd / $floor_plus_mean") ×); medians: $m_first_scepd vs $m_genrsa + $m_ren_scepd = $floor_plus ms ($(calc "$m_first_scepd / $floor_plus") ×) | $(verdict "$a_first_scepd <= 1.05 * $floor_plus_mean") (on means: a sum; key generation time is long-tailed) |
| renewal does not wait for key generation | scepd renewal to "installed" $m_ren_scepd ms (key made ahead by the previous run) vs genrsa $m_genrsa ms | $(verdict "$m_ren_scepd < $m_genrsa") |
| idle: RssAnon < 1 MiB | $rss_anon KiB | $(verdict "$rss_anon < 1024") |
$(cm_goal_row)
| idle: zero wake-ups between events | $ctxt_d context switches in ${IDLE_SECS} s | $(verdict "$ctxt_d == 0") |
| idle: zero CPU | $cpu_d ticks in ${IDLE_SECS} s | $(verdict "$cpu_d == 0") |
| stripped binary < 600 KiB | scepd $size_rel KiB (Release), $size_opt KiB (SCEPD_SIZE_OPT) | Release $(verdict "$size_rel < 600"), size-opt $(verdict "$size_opt < 600") |
| start to decision < 10 ms | $m_dec ms (Release), $m_dec_size ms (size-opt); harness alone $m_harness ms, floor with scepd's libraries $m_floor_cxx ms | $(verdict "$m_dec < 10") |

## Goals (issue 22)

"Own share" is a client's wall time minus what the CA itself spent on the
same requests (scepserver's \`took=\` for GetCACaps, GetCACert and
PKIOperation, medians: $ca_renew ms per renewal in the loop of section 2,
$ca_daemon ms during the daemon's renewals).

| goal | figure | verdict |
|---|---|---|
| 1. own share of a renewal ≤ 0.5 × scepclient's, in the daemon | scepd daemon $m_ren_daemon − $ca_daemon = $own_daemon ms vs scepclient $m_ren_sc − $ca_renew = $own_sc ms: $(calc "$own_daemon / $own_sc") × | $(verdict "$own_daemon <= 0.5 * $own_sc") |
| 1. the same with \`scepd --once\` | $m_ren_scepd − $ca_renew = $own_once ms: $(calc "$own_once / $own_sc") × (process start and loading libcurl with its $curl_libs libraries included) | $(verdict "$own_once <= 0.5 * $own_sc") |
| 2. at most 4 fsyncs per renewal | $io_renew_syncs (children included); $io_renew_data bytes into \`data_dir\` per renewal, $io_idle_data per idle check | $(verdict "$io_renew_syncs <= 4") |
| 3. first enrollment ≤ 1.0 × (key generation + exchange), means | RSA-2048 $(kt_ratio "$T/first_scepd" "$T/first_genrsa" "$T/renew_scepd") ×, RSA-3072 $(kt_ratio "$T/kt_first_rsa3072" "$T/kt_floor_rsa3072" "$T/kt_renew_rsa3072") ×$(ec_goal3 ratio) | RSA-2048 $(kt_verdict "$T/first_scepd" "$T/first_genrsa" "$T/renew_scepd"), RSA-3072 $(kt_verdict "$T/kt_first_rsa3072" "$T/kt_floor_rsa3072" "$T/kt_renew_rsa3072")$(ec_goal3 verdict) |
| 4. many certificates | \`bench/many.sh\` (not run here: it takes minutes); its figures are in the hand-written section below | see below |
| 5. router CPUs | \`bench/router-cpu.sh\` (qemu-user; not run here); figures in the hand-written section below | see below |
$(goal6_rows)

## Profiles (generated)

Profiles of one
\`scepd --once\` with a valid certificate (the start-to-decision path, which is
also what the idle daemon has allocated once it sleeps):

perf, samples by shared object:

\`\`\`
${diag_perf:-(perf not available or not permitted here)}
\`\`\`

valgrind massif, heap at the peak snapshot (top of the tree):

\`\`\`
${diag_massif:-(valgrind not available)}
\`\`\`

Instructions executed (valgrind callgrind, whole process from exec to exit;
independent of the machine's load): \`scepd --once\` with a valid certificate
${diag_ir_idle:-?}; a \`scepd --once\` renewal with the key made ahead
${diag_ir_renew:-?} (the renewing process; not its child making the next key).

strace -c -f -w, system calls by wall time (top):

\`\`\`
${diag_strace:-(strace not available)}
\`\`\`
EOF
  # Sections of the old report that this script does not write (hand-written
  # ones, e.g. "## Endurance"), kept in their order.
  if [[ -f "$OUT" ]]; then
    awk -v gen="$GENERATED_HEADINGS" '/^## / { keep = ($0 !~ gen) } /^# / { keep = 0 } keep' "$OUT" |
      sed -e '1{/^$/d}' | { read -r -d '' kept || true; [[ -n "$kept" ]] && printf '\n%s\n' "$kept"; true; }
  fi
} >"$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo "bench: wrote $OUT" >&2
