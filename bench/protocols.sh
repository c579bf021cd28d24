#!/usr/bin/env bash
# Issue 22, goal 6: scepd's CMP and EST renewals against independent clients,
# on "own share" (wall time minus the server's own time for the same
# requests), all on 127.0.0.1.
#
#   bench/protocols.sh SCEPD BUILD_DIR [N] [OUT]
#
# SCEPD: the scepd binary to measure (a Release build). BUILD_DIR: a CMake
# build directory configured with SCEPD_BUILD_TESTS=ON; the script builds
# its target est_test_server (the project's EST test server as a process,
# tests/est_server/est_server_main.cc) there if it is missing. N: runs per
# figure (default 20, at least 5). OUT: the markdown fragment to write
# (default: stdout only gets the goal lines, the fragment goes to
# $BUILD_DIR/protocols.md).
#
# CMP: OpenSSL's mock server (`openssl cmp -port`, as
# tests/support/cmp_server.cc starts it) answers `scepd --once` with
# `protocol = cmp` and `openssl cmp -cmd kur`, alternated round by round.
# EST: the project's EST test server answers `scepd --once` with
# `protocol = est` and strongSwan's `pki --est` (simplereenroll).
#
# Prints one line per protocol for bench/run.sh's goal table:
#   goal6 cmp SCEPD_OWN_MS REFERENCE_OWN_MS
#   goal6 est SCEPD_OWN_MS REFERENCE_OWN_MS
# and issue 22 goal 3's ratio for EC P-256 keys (over EST: SCEP needs RSA):
#   goal3 ec256 FIRST_ENROLLMENT/(KEY_FLOOR+EXCHANGE) (means)
# Every loop and wait is bounded; every server is stopped on exit.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

usage() {
  echo "usage: bench/protocols.sh SCEPD BUILD_DIR [N] [OUT]" >&2
  exit 64
}
(($# >= 2 && $# <= 4)) || usage
SCEPD=$(realpath "$1")
BUILD=$(realpath "$2")
N=${3:-20}
OUT=${4:-$BUILD/protocols.md}
PY=/usr/bin/python3
if ! [[ "$N" =~ ^[0-9]+$ ]] || ((N < 5)); then
  echo "bench: N must be a number, at least 5" >&2
  exit 64
fi
[[ -x "$SCEPD" ]] || {
  echo "bench: $SCEPD is not an executable" >&2
  exit 64
}

say() { printf '\n== %s\n' "$*" >&2; }
die() {
  echo "bench: $*" >&2
  exit 1
}

work=
srv_pid=
# stop_pid (and port_in_use) from the shared helpers; start_ca is not used.
# shellcheck source=scripts/lib/local-ca.sh
source "$repo/scripts/lib/local-ca.sh"

stop_server() {
  stop_pid "$srv_pid"
  srv_pid=
}
cleanup() {
  local rc=$?
  stop_server
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

# ---- timing ---------------------------------------------------------------------

# cpu_ns PID: CPU time PID has used so far, in nanoseconds, all its threads
# (first field of /proc/PID/task/*/schedstat: time on a CPU, exact).
cpu_ns() {
  cat /proc/"$1"/task/*/schedstat | awk '{ s += $1 } END { printf "%d\n", s }'
}

# requests: how many requests the running server has received so far
# (REQUESTS_OF names the function that asks it).
REQUESTS_OF=
requests() { "$REQUESTS_OF"; }

# timed NAME CMD...: runs CMD (output to the log) and appends its wall time
# (bash's $EPOCHREALTIME around it) to $T/NAME and the server's CPU time
# during it to $T/NAME.srv, both in microseconds, and the number of
# requests the server received to $T/NAME.req. Only the command is timed.
timed() {
  local name=$1 t0 t1 c0 c1 q0 q1
  shift
  q0=$(requests)
  c0=$(cpu_ns "$srv_pid")
  times >"$work/times0"
  t0=${EPOCHREALTIME/./}
  "$@" >>"$work/cmd.log" 2>&1 || die "failed: $* (see the end of $work/cmd.log): $(tail -n 3 "$work/cmd.log")"
  t1=${EPOCHREALTIME/./}
  times >"$work/times1"
  c1=$(cpu_ns "$srv_pid")
  q1=$(requests)
  echo $((t1 - t0)) >>"$T/$name"
  echo $(((c1 - c0) / 1000)) >>"$T/$name.srv"
  echo $((q1 - q0)) >>"$T/$name.req"
  echo $(($(children_cpu_us "$work/times1") - $(children_cpu_us "$work/times0"))) >>"$T/$name.cpu"
}

# children_cpu_us FILE: user + system time of the shell's waited-for
# children from bash's `times` output in FILE (its second line, 1 ms
# resolution), in microseconds. `times` runs in this shell (a redirection,
# no subshell), so it counts the commands this shell ran itself.
children_cpu_us() {
  sed -n 2p "$1" | awk '{ s = 0; for (i = 1; i <= 2; i++) { split($i, p, "m"); s += p[1] * 60 + p[2] }
    printf "%d\n", s * 1e6 }'
}

# timed_scepd NAME CONF: `scepd -c CONF --once`, timed with bench/mono.py
# until its "installed, valid until" line (it then makes the key for the
# next renewal before it exits), as bench/run.sh section 2 does; the
# server figures as in timed.
timed_scepd() {
  local name=$1 r c0 c1 q0 q1
  q0=$(requests)
  c0=$(cpu_ns "$srv_pid")
  r=$(MONO_CPU=1 "$PY" bench/mono.py "installed, valid until" "$SCEPD" -c "$2" --once 2>>"$work/cmd.log") ||
    die "scepd --once renewal failed (see $work/cmd.log)"
  c1=$(cpu_ns "$srv_pid")
  q1=$(requests)
  awk '{ printf "%d\n", $1 * 1000 }' <<<"$r" >>"$T/$name"
  awk '{ printf "%d\n", $3 * 1000 }' <<<"$r" >>"$T/$name.cpu"
  echo $(((c1 - c0) / 1000)) >>"$T/$name.srv"
  echo $((q1 - q0)) >>"$T/$name.req"
}

# stats FILE: "median min max n" in milliseconds of the microseconds in FILE.
stats() {
  sort -n "$1" | awk '{ a[NR] = $1 }
    END { n = NR; m = (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
          printf "%.1f %.1f %.1f %d\n", m / 1000, a[1] / 1000, a[n] / 1000, n }'
}
median() { stats "$1" | cut -d' ' -f1; }
calc() { awk "BEGIN { printf \"${2:-%.2f}\", $1 }"; }

# own NAME: per run, wall time minus the server's CPU time in that run.
own() { paste "$T/$1" "$T/$1.srv" | awk '{ print $1 - $2 }' >"$T/$1.own"; }

# row LABEL NAME REF_OWN_MEDIAN: a table row; "vs reference" compares own shares.
row() {
  local m lo hi n o
  read -r m lo hi n < <(stats "$T/$2")
  o=$(median "$T/$2.own")
  printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s × | %s |\n' "$1" "$m" "$lo" "$hi" "$n" \
    "$(sort -n "$T/$2.req" | uniq | paste -sd/)" "$(median "$T/$2.srv")" "$o" "$(calc "$o / $3")" \
    "$(median "$T/$2.cpu")"
}

# ---- fixtures ---------------------------------------------------------------------

# free_port: a port nothing listens on (bounded tries).
free_port() {
  local p i
  for ((i = 0; i < 50; i++)); do
    p=$((20000 + RANDOM % 20000))
    port_in_use "$p" || {
      echo "$p"
      return 0
    }
  done
  die "no free port found"
}

# start_cmp_server ARGS...: `openssl cmp -port P ARGS` in $work/cmp (file
# names relative to it), log in $work/cmp/server.log; sets CMP_URL and
# srv_pid; waits up to 10 s until it listens.
start_cmp_server() {
  local attempt i
  for ((attempt = 0; attempt < 3; attempt++)); do
    local port
    port=$(free_port)
    (cd "$work/cmp" && exec openssl cmp -port "$port" "$@") >>"$work/cmp/server.log" 2>&1 &
    srv_pid=$!
    for ((i = 0; i < 200; i++)); do
      kill -0 "$srv_pid" 2>/dev/null || break
      if port_in_use "$port"; then
        CMP_URL=http://127.0.0.1:$port/pkix/
        return 0
      fi
      sleep 0.05
    done
    stop_server
  done
  die "openssl cmp -port did not start: $(tail -n 5 "$work/cmp/server.log")"
}

# start_est_server: the project's EST test server, DIR $work/est; sets
# EST_URL and srv_pid; waits up to 20 s for its port file.
start_est_server() {
  local i
  "$EST_SERVER" "$work/est" 3600 >>"$work/est/server.log" 2>&1 &
  srv_pid=$!
  for ((i = 0; i < 400; i++)); do
    [[ -s "$work/est/port" ]] && break
    kill -0 "$srv_pid" 2>/dev/null || die "est_test_server exited: $(tail -n 5 "$work/est/server.log")"
    sleep 0.05
  done
  [[ -s "$work/est/port" ]] || die "est_test_server wrote no port file"
  EST_URL=https://127.0.0.1:$(cat "$work/est/port")
}

# conf DIR URL LINES: DIR/scepd.conf for one certificate with protocol LINES.
conf() {
  scepd_conf_with "$1" "url = $2
key_size = 2048
renew_days = 30
keep_old = 1
$3"
}

# snapshot DIR KEY: keeps DIR/data (enrolled) with KEY as .next.key in
# DIR/snap; restore DIR puts that state back, so every timed renewal starts
# from the same pair and renews to the same new key.
snapshot() {
  install -m 0600 "$2" "$1/data/.next.key"
  cp -a "$1/data" "$1/snap"
}
restore() {
  rm -rf "$1/data"
  cp -a "$1/snap" "$1/data"
}

# issue KEY SUBJECT DAYS OUT SERIAL: a certificate for KEY signed by the
# bench CMP CA.
issue() {
  local d=$work/cmp
  openssl req -new -key "$1" -subj "$2" -out "$d/tmp.csr" 2>>"$work/cmd.log"
  openssl x509 -req -in "$d/tmp.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -set_serial "$5" \
    -days "$3" -extfile <(printf '%s\n' basicConstraints=CA:FALSE \
      "keyUsage=critical,digitalSignature,keyEncipherment") -out "$4" 2>>"$work/cmd.log"
}

genkey() { openssl genpkey -quiet -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>>"$work/cmd.log"; }

# ---- main -------------------------------------------------------------------------

command -v openssl >/dev/null || die "openssl is not installed"
command -v pki >/dev/null || die "strongSwan's pki is not installed (strongswan-pki)"
[[ -r /proc/self/schedstat ]] || die "/proc/PID/schedstat is missing: the server's time cannot be measured"
EST_SERVER=$BUILD/tests/est_test_server
if [[ ! -x "$EST_SERVER" ]]; then
  say "Building est_test_server in $BUILD"
  nice cmake --build "$BUILD" --target est_test_server >&2
fi
[[ -x "$EST_SERVER" ]] || die "$EST_SERVER not built"

work=$(mktemp -d "${TMPDIR:-/tmp}/scepd-bench-proto.XXXXXX")
T=$work/times
mkdir -p "$T" "$work/cmp" "$work/est"
: >"$work/cmd.log"

# ---- CMP --------------------------------------------------------------------------
say "CMP fixtures"
c=$work/cmp
SECRET=bench-pbm-secret
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$c/ca.key" -subj "/CN=Bench CMP CA" -days 3650 \
  -out "$c/ca.pem" 2>>"$work/cmd.log"
genkey "$c/srv.key"
issue "$c/srv.key" "/CN=Bench CMP server" 3650 "$c/srv.pem" 2
genkey "$c/old.key"
genkey "$c/new.key"
# Valid 10 days: inside renew_days (30), so every run renews. The same
# serial number: the mock answers a kur only with a certificate carrying
# the old certificate's issuer and serial ("wrong certid" otherwise).
issue "$c/old.key" "/CN=bench-cmp" 10 "$c/old.pem" 10
issue "$c/new.key" "/CN=bench-cmp" 10 "$c/new.pem" 10

# scepd's first enrollment (ir, PBM) to old.pem with old.key made ahead,
# against a MAC-protecting mock, untimed.
start_cmp_server -srv_ref 62154 -srv_secret "pass:$SECRET" -rsp_cert old.pem -rsp_extracerts ca.pem \
  -rsp_capubs ca.pem
conf "$work/sc" "$CMP_URL" "protocol = cmp
subject = /CN=bench-cmp
recipient = /CN=Bench CMP CA
cmp_reference = 62154
cmp_secret = $SECRET"
mkdir -p "$work/sc/data"
chmod 0700 "$work/sc/data"
install -m 0600 "$c/old.key" "$work/sc/data/.next.key"
"$SCEPD" -c "$work/sc/scepd.conf" --once >>"$work/cmd.log" 2>&1 || die "scepd's first CMP enrollment failed (see $work/cmd.log)"
stop_server
snapshot "$work/sc" "$c/new.key"

# The signature-protecting mock for kur; implicit confirmation granted, and
# both clients ask for it (scepd always does): one round trip each.
start_cmp_server -srv_cert srv.pem -srv_key srv.key -srv_trusted ca.pem -rsp_cert new.pem \
  -rsp_extracerts ca.pem -grant_implicitconf
sed -i "s|^url = .*|url = $CMP_URL|" "$work/sc/scepd.conf"
openssl_kur() {
  rm -f "$c/kur.pem"
  openssl cmp -server "${CMP_URL#http://}" -cmd kur -cert "$c/old.pem" -key "$c/old.key" \
    -newkey "$c/new.key" -trusted "$c/ca.pem" -implicit_confirm -certout "$c/kur.pem"
}
cmp_requests() { grep -c 'Received request' "$c/server.log" || true; }
REQUESTS_OF=cmp_requests
# same_cert A B: A and B are the same certificate.
same_cert() { cmp -s <(openssl x509 -in "$1" -outform DER) <(openssl x509 -in "$2" -outform DER); }
say "CMP: one untimed round, then $N rounds, scepd --once and openssl cmp -cmd kur alternated"
restore "$work/sc"
"$SCEPD" -c "$work/sc/scepd.conf" --once >>"$work/cmd.log" 2>&1 || die "scepd's CMP renewal failed (see $work/cmd.log)"
openssl_kur >>"$work/cmd.log" 2>&1 || die "openssl cmp -cmd kur failed (see $work/cmd.log)"
for ((i = 0; i < N; i++)); do
  for ((j = 0; j < 2; j++)); do
    case $(((i + j) % 2)) in
      0)
        restore "$work/sc"
        timed_scepd cmp_scepd "$work/sc/scepd.conf"
        same_cert "$work/sc/data/latest.crt" "$c/new.pem" || die "scepd did not install new.pem"
        ;;
      1)
        timed cmp_openssl openssl_kur
        same_cert "$c/kur.pem" "$c/new.pem" || die "openssl cmp did not write new.pem"
        ;;
    esac
  done
done
stop_server

# ---- EST --------------------------------------------------------------------------
say "EST fixtures"
e=$work/est
start_est_server
genkey "$e/old.key"
genkey "$e/new.key"
openssl req -new -key "$e/old.key" -subj "/CN=bench-est" -out "$e/old.req" 2>>"$work/cmd.log"
openssl req -new -key "$e/new.key" -subj "/CN=bench-est" -out "$e/new.req" 2>>"$work/cmd.log"
pki --est --url "$EST_URL" --cacert "$e/ca.pem" --in "$e/old.req" --userpass estuser:estpass \
  --interval 1 --maxpolltime 10 --outform pem >"$e/old.pem" 2>>"$work/cmd.log" ||
  die "pki's first enrollment failed (see $work/cmd.log)"
# scepd's first enrollment (simpleenroll, Basic) with old.key made ahead.
conf "$work/se" "$EST_URL" "protocol = est
subject = /CN=bench-est
tls_ca_file = $e/ca.pem
est_username = estuser
est_password = estpass"
mkdir -p "$work/se/data"
chmod 0700 "$work/se/data"
install -m 0600 "$e/old.key" "$work/se/data/.next.key"
"$SCEPD" -c "$work/se/scepd.conf" --once >>"$work/cmd.log" 2>&1 || die "scepd's first EST enrollment failed (see $work/cmd.log)"
snapshot "$work/se" "$e/new.key"
pki_reenroll() {
  pki --est --url "$EST_URL" --cacert "$e/ca.pem" --in "$e/new.req" --cert "$e/old.pem" \
    --key "$e/old.key" --interval 1 --maxpolltime 10 --outform pem >"$e/reenroll.pem"
}
# est_requests: the server's request count, asked with SIGUSR1 (it prints
# "est_test_server: R requests, E enrollments"); waits up to 5 s.
est_requests() {
  local before i
  before=$(grep -c 'requests,' "$e/server.log" || true)
  kill -USR1 "$srv_pid"
  for ((i = 0; i < 500; i++)); do
    (($(grep -c 'requests,' "$e/server.log" || true) > before)) && break
    sleep 0.01
  done
  (($(grep -c 'requests,' "$e/server.log" || true) > before)) || die "est_test_server did not answer SIGUSR1"
  grep 'requests,' "$e/server.log" | tail -n 1 | awk '{ print $2 }'
}
REQUESTS_OF=est_requests
new_pub=$(openssl pkey -in "$e/new.key" -pubout)
# for_new_key CERT: CERT carries new.key's public key.
for_new_key() { [[ $(openssl x509 -in "$1" -noout -pubkey) == "$new_pub" ]]; }
say "EST: one untimed round, then $N rounds, scepd --once and pki --est alternated"
restore "$work/se"
"$SCEPD" -c "$work/se/scepd.conf" --once >>"$work/cmd.log" 2>&1 || die "scepd's EST renewal failed (see $work/cmd.log)"
pki_reenroll 2>>"$work/cmd.log" || die "pki --est failed (see $work/cmd.log)"
for ((i = 0; i < N; i++)); do
  for ((j = 0; j < 2; j++)); do
    case $(((i + j) % 2)) in
      0)
        restore "$work/se"
        timed_scepd est_scepd "$work/se/scepd.conf"
        for_new_key "$work/se/data/latest.crt" || die "scepd's certificate is not for new.key"
        ;;
      1)
        timed est_pki pki_reenroll
        for_new_key "$e/reenroll.pem" || die "pki's certificate is not for new.key"
        ;;
    esac
  done
done

# ---- EST, EC P-256: first enrollment against its parts (issue 22, goal 3) ---------
# SCEP needs RSA keys, so the EC P-256 figure of goal 3 is taken here:
# scepd --once from an empty data_dir (the key made on a thread while
# /cacerts is fetched and checked, then /simpleenroll), the key's
# generation floor (openssl genpkey), and the exchange: a scepd --once
# renewal of an EC P-256 pair to its "installed" line (/cacerts and
# /simplereenroll; an EC key is made at once, none is made ahead).
say "EST, EC P-256: $N rounds of first enrollment, key floor and renewal, alternated"
ec_lines="protocol = est
subject = /CN=bench-est-ec
key_type = ec
ec_curve = P-256
tls_ca_file = $e/ca.pem
est_username = estuser
est_password = estpass"
conf "$work/ef" "$EST_URL" "$ec_lines"
conf "$work/er" "$EST_URL" "$ec_lines"
"$SCEPD" -c "$work/er/scepd.conf" --once >>"$work/cmd.log" 2>&1 || die "scepd's EC EST enrollment failed (see $work/cmd.log)"
ec_first() {
  rm -rf "$work/ef/data" "$work/ef/run"
  "$SCEPD" -c "$work/ef/scepd.conf" --once
}
ec_floor() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/ec-floor.key"; }
for ((i = 0; i < N; i++)); do
  for ((j = 0; j < 3; j++)); do
    case $(((i + j) % 3)) in
      0) timed ec_first ec_first ;;
      1) timed ec_floor ec_floor ;;
      2) timed_scepd ec_renew "$work/er/scepd.conf" ;;
    esac
  done
done
[[ $(openssl x509 -in "$work/ef/data/latest.crt" -noout -text) == *"id-ecPublicKey"* ]] ||
  die "scepd's EC enrollment did not install an EC certificate"
stop_server

# ---- the two timers ---------------------------------------------------------------
# scepd is timed by bench/mono.py (Python starting it, until a line), the
# references by bash around the process: both timers around /bin/sh
# printing that line, so the difference of the harnesses is on record.
say "Timers: $N rounds of /bin/sh under each"
for ((i = 0; i < N; i++)); do
  r=$("$PY" bench/mono.py "installed, valid until" /bin/sh -c 'echo "installed, valid until" >&2') ||
    die "bench/mono.py around /bin/sh failed"
  awk '{ printf "%d\n", $1 * 1000 }' <<<"$r" >>"$T/harness_mono"
  t0=${EPOCHREALTIME/./}
  /bin/sh -c 'echo "installed, valid until" >&2' 2>>"$work/cmd.log"
  t1=${EPOCHREALTIME/./}
  echo $((t1 - t0)) >>"$T/harness_bash"
done

# ---- report -----------------------------------------------------------------------
for f in cmp_scepd cmp_openssl est_scepd est_pki; do own "$f"; done
# mean NAME: the mean of $T/NAME, microseconds to milliseconds.
mean() { awk '{ s += $1 } END { printf "%.1f", s / NR / 1000 }' "$T/$1"; }
ec_ratio=$(calc "$(mean ec_first) / ($(mean ec_floor) + $(mean ec_renew))")
o_cmp_s=$(median "$T/cmp_scepd.own")
o_cmp_r=$(median "$T/cmp_openssl.own")
o_est_s=$(median "$T/est_scepd.own")
o_est_r=$(median "$T/est_pki.own")
{
  cat <<EOF
## 7. CMP and EST (issue 22, goal 6)

Renewals with a key made beforehand, every one from the same state (the
current pair, the next key), $N runs per command, the two commands of a
protocol alternated round by round, all on 127.0.0.1
(\`bench/protocols.sh SCEPD BUILD_DIR N OUT\`). Wall time as in section 2:
\`scepd --once\` (\`renew_days\` 30, certificates valid less than that, so
every run renews) with \`bench/mono.py\` until its "installed, valid until"
line, the other clients with bash's \`\$EPOCHREALTIME\` around the process.

**The server's own time** is the CPU time the server process used during
each run: the first field (time on a CPU, in nanoseconds) of
\`/proc/PID/task/*/schedstat\`, summed over its threads, read just before
and just after the run. Neither server logs how long a request took; on
loopback a server waits only for the client, so its CPU time is what it adds
to the client's wall time (its scheduling latency is not counted, which
makes the own shares slightly larger, alike for both clients). **Own share**
= wall time − that server time, per run; the table gives its median, and the
server's median beside it. "vs reference" divides own shares. "requests
per run" is what the server received during each run (from its log for
CMP, from its counter for EST; the distinct values seen). One untimed round
of each command precedes the timed ones.

The last column is the client's own CPU time (user + system), which the
machine's load hardly changes: for scepd, its threads' schedstat when the
"installed" line came (\`MONO_CPU=1 bench/mono.py\`: the next key's child
starts later), for the references bash's \`times\` (children's user +
system time, 1 ms resolution) around the command. Wall times and own shares
on a loaded machine spread widely (see min/max); compare the CPU column to
see which client does more work.

The two timers differ by what starting a process costs them: \`/bin/sh\`
printing the line takes $(median "$T/harness_mono") ms under
\`bench/mono.py\` and $(median "$T/harness_bash") ms under bash (medians of
$N); the scepd rows are not corrected for it.

**CMP.** Server: OpenSSL's mock, \`openssl cmp -port P -srv_cert srv.pem
-srv_key srv.key -srv_trusted ca.pem -rsp_cert new.pem -rsp_extracerts ca.pem
-grant_implicitconf\` (it answers every request with the fixed
\`new.pem\`, made for \`new.key\`). scepd (\`protocol = cmp\`, first
enrollment by ir with PBM before the loop) sends a kur signed with the
current pair for the key in \`.next.key\` (\`new.key\`, put back with the
enrolled \`data_dir\` before each run, untimed), asking for implicit
confirmation as it always does. Reference: \`openssl cmp -cmd kur -cert
old.pem -key old.key -newkey new.key -trusted ca.pem -implicit_confirm
-certout kur.pem\`. One kur and its answer each; both sign the request
(proof of possession and protection) during the run. Every certificate
scepd installed and openssl wrote was checked to be \`new.pem\`.

| command | median ms | min | max | N | requests per run | server ms (median) | own share ms (median) | vs reference | client CPU ms (median) |
|---|---|---|---|---|---|---|---|---|---|
$(row 'scepd --once, protocol = cmp (kur)' cmp_scepd "$o_cmp_r")
$(row 'openssl cmp -cmd kur' cmp_openssl "$o_cmp_r")

CMP verdict: scepd's own share / openssl cmp's = $o_cmp_s / $o_cmp_r ms =
**$(calc "$o_cmp_s / $o_cmp_r") ×** (client CPU $(median "$T/cmp_scepd.cpu") / $(median "$T/cmp_openssl.cpu") ms =
$(calc "$(median "$T/cmp_scepd.cpu") / $(median "$T/cmp_openssl.cpu")") ×).

**EST.** Server: the project's EST test server
(\`tests/est_server/\`, run as a process by \`est_test_server\`: cpp-httplib,
HTTPS on 127.0.0.1, its own test CA, which also issued its TLS certificate;
it really issues, valid one day; it sets TCP_NODELAY, without which each
answer waited behind TLS 1.3's session tickets for the client's delayed
ACK, about 40 ms that no CPU time shows). scepd (\`protocol = est\`, \`tls_ca_file\`
the test CA, first enrollment with Basic before the loop) sends
/simplereenroll with the current pair as TLS client certificate for the key
in \`.next.key\` (restored as for CMP). Reference: strongSwan's \`pki --est
--url URL --cacert ca.pem --in new.req --cert old.pem --key old.key
--interval 1 --outform pem\`; its PKCS#10 request \`new.req\` is made and
signed before the loop (pki takes no key to sign one), so pki's figure
lacks one RSA signature that scepd's includes. Every certificate either
client got was checked to carry \`new.key\`.

| command | median ms | min | max | N | requests per run | server ms (median) | own share ms (median) | vs reference | client CPU ms (median) |
|---|---|---|---|---|---|---|---|---|---|
$(row 'scepd --once, protocol = est (simplereenroll)' est_scepd "$o_est_r")
$(row 'pki --est (simplereenroll)' est_pki "$o_est_r")

EST verdict: scepd's own share / pki's = $o_est_s / $o_est_r ms =
**$(calc "$o_est_s / $o_est_r") ×** (client CPU $(median "$T/est_scepd.cpu") / $(median "$T/est_pki.cpu") ms =
$(calc "$(median "$T/est_scepd.cpu") / $(median "$T/est_pki.cpu")") ×).

**EC P-256 first enrollment (issue 22, goal 3).** SCEP needs RSA keys, so
this key type is measured over EST, against the same server: \`scepd
--once\` from an empty \`data_dir\` (\`key_type = ec\`, the key made on a
thread while /cacerts is fetched and checked, then /simpleenroll with
Basic), the key's generation floor (\`openssl genpkey -algorithm EC
-pkeyopt ec_paramgen_curve:P-256\`), and the exchange: a \`scepd --once\`
renewal of an EC P-256 pair to its "installed" line (/cacerts and
/simplereenroll). Alternated round by round, $N runs each; whole-process
wall time for the first two, as section 1.

| | mean ms | median ms | min | max | N |
|---|---|---|---|---|---|
| scepd --once first enrollment, EC P-256 | $(mean ec_first) | $(stats "$T/ec_first" | awk '{ print $1 " | " $2 " | " $3 " | " $4 }') |
| openssl genpkey EC P-256 (floor) | $(mean ec_floor) | $(stats "$T/ec_floor" | awk '{ print $1 " | " $2 " | " $3 " | " $4 }') |
| scepd --once renewal, EC P-256, to "installed" (exchange) | $(mean ec_renew) | $(stats "$T/ec_renew" | awk '{ print $1 " | " $2 " | " $3 " | " $4 }') |

First enrollment / (floor + exchange), means: **$ec_ratio ×**.
EOF
} >"$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo "bench: wrote $OUT" >&2
echo "goal6 cmp $o_cmp_s $o_cmp_r"
echo "goal6 est $o_est_s $o_est_r"
echo "goal3 ec256 $ec_ratio"
