#!/usr/bin/env bash
# THE main job: build scepd in release mode, start a fresh local SCEP CA
# (micromdm scepserver) on 127.0.0.1, then enroll a router certificate and
# renew it with the project's sscep-compatible CLI, then let the scepd
# daemon enroll and renew on its own (its success script rewrites an IPsec
# settings file with scep_replace_pem; check-cert.sh forces a check), and
# print the status. While the daemon runs, the router app's web pages
# (scepd.cgi under busybox httpd) are served on 127.0.0.1; the URL is printed.
#
#   scripts/demo.sh          (Debian 12, as root: installs what is missing)
#
# Everything happens in a temporary directory that is removed at exit (set
# SCEPD_DEMO_KEEP=1 to keep it); the CA is always stopped on exit. Only
# 127.0.0.1 is contacted.
#
# The sscep calls are isolated in the cli_* functions below, so they are
# the only place to adjust when the CLI syntax changes.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

CHALLENGE=secret
SUBJECT='/CN=demo-router/O=scepd demo'
ALT_NAMES='DNS:demo.example,IP:127.0.0.1'
KEY_BITS=2048

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
die() {
  echo "demo: $*" >&2
  exit 1
}

# ---- the sscep command line (one function per operation) -----------------

cli_getcaps() {
  "$SSCEP" getcaps -u "$URL"
}

# Fetches the CA certificate to $work/ca.crt and prints its fingerprint.
cli_getca() {
  "$SSCEP" getca -u "$URL" -c "$work/ca.crt" -F sha256
}

# cli_mkrequest KEY CSR: a new RSA key and a CSR carrying the challenge.
cli_mkrequest() {
  "$SSCEP" mkrequest -k "$1" -r "$2" --key-size "$KEY_BITS" --subject "$SUBJECT" \
    --alt-names "$ALT_NAMES" --challenge "$CHALLENGE"
}

# cli_enroll KEY CSR CERT: PKCSReq; the issued certificate goes to CERT.
cli_enroll() {
  "$SSCEP" enroll -u "$URL" -c "$work/ca.crt" -k "$1" -r "$2" -l "$3" -v
}

# cli_renew NEW_KEY NEW_CSR NEW_CERT OLD_KEY OLD_CERT: RenewalReq signed with
# the current key and certificate.
cli_renew() {
  "$SSCEP" enroll -u "$URL" -c "$work/ca.crt" -k "$1" -r "$2" -l "$3" -K "$4" -O "$5" -v
}

# ---- the local CA -----------------------------------------------------------

work=
# http_get, port_in_use, stop_pid, start_ca, stop_ca: the CA on 127.0.0.1.
# shellcheck source=scripts/lib/local-ca.sh
source "$repo/scripts/lib/local-ca.sh"

scepd_pid=

stop_scepd() {
  stop_pid "$scepd_pid" TERM
  scepd_pid=
}

web_pid=

stop_web() {
  stop_pid "$web_pid" TERM
  web_pid=
}

# start_web: busybox httpd on a free 127.0.0.1 port serving cgi-bin/scepd.cgi
# for $work/scepd.conf; sets WEB_URL.
start_web() {
  local attempt i port
  mkdir -p "$work/www/cgi-bin"
  ln -sf "$repo/build/release/web/scepd.cgi" "$work/www/cgi-bin/scepd.cgi"
  for ((attempt = 0; attempt < 20; attempt++)); do
    port=$((20000 + RANDOM % 20000))
    port_in_use "$port" && continue
    SCEPD_CONFIG=$work/scepd.conf busybox httpd -f -p "127.0.0.1:$port" -h "$work/www" \
      >"$work/httpd.log" 2>&1 &
    web_pid=$!
    for ((i = 0; i < 100; i++)); do # up to 5 s
      kill -0 "$web_pid" 2>/dev/null || break
      if http_get "$port" '/cgi-bin/scepd.cgi?page=status' | grep -q 'Module scepClient' &&
        kill -0 "$web_pid" 2>/dev/null; then
        WEB_URL="http://127.0.0.1:$port/cgi-bin/scepd.cgi"
        return 0
      fi
      sleep 0.05
    done
    stop_web
  done
  die "busybox httpd did not start: $(tail -n 3 "$work/httpd.log" 2>/dev/null)"
}

# show_status [--json]: scepd status and what its exit code means.
show_status() {
  local rc=0
  "$SCEPD" -c "$work/scepd.conf" status "$@" || rc=$?
  case $rc in
    0) echo "(status exit 0: valid, outside the renewal window)" ;;
    1) echo "(status exit 1: renewing - inside the renewal window)" ;;
    5) echo "(status exit 5: the daemon is not running)" ;;
    *) echo "(status exit $rc: see scepd(8))" ;;
  esac
}

cleanup() {
  local rc=$?
  stop_web
  stop_scepd
  stop_ca
  if [[ -n "$work" && -d "$work" ]]; then
    if [[ -n "${SCEPD_DEMO_KEEP:-}" ]]; then
      echo "demo: kept $work"
    else
      rm -rf "$work"
    fi
  fi
  if [[ $rc -ne 0 ]]; then
    echo "demo: FAILED (exit $rc)" >&2
  fi
  exit "$rc"
}

on_error() {
  local rc=$? line=$1
  echo "demo: command failed (exit $rc) at scripts/demo.sh:$line" >&2
  if [[ -n "$work" && -f "$work/scepserver.log" ]]; then
    echo "demo: last lines of the CA log:" >&2
    tail -n 15 "$work/scepserver.log" >&2 || true
  fi
}

# ---- status output ------------------------------------------------------------

show_cert() {
  openssl x509 -in "$1" -noout -subject -issuer -serial -startdate -enddate \
    -ext subjectAltName,keyUsage,extendedKeyUsage
}

# check_cert CERT KEY: chains to the CA and belongs to KEY.
check_cert() {
  openssl verify -CAfile "$work/ca.crt" "$1"
  if [[ "$(openssl x509 -in "$1" -noout -pubkey)" != "$(openssl pkey -in "$2" -pubout)" ]]; then
    die "$1 does not belong to $2"
  fi
  echo "$1: public key matches $2"
}

serial_of() { openssl x509 -in "$1" -noout -serial | cut -d= -f2; }
enddate_of() { openssl x509 -in "$1" -noout -enddate | cut -d= -f2; }

# ---- main ---------------------------------------------------------------------

trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'on_error $LINENO' ERR

say "Dependencies"
scripts/lib/install-deps.sh

say "Build (build/release)"
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DSCEPD_BUILD_TESTS=OFF \
  >/dev/null
cmake --build build/release -j "${SCEPD_JOBS:-2}"
# SCEPD_DEMO_SSCEP runs the demo with another sscep binary (e.g. upstream's).
SSCEP=${SCEPD_DEMO_SSCEP:-$repo/build/release/cli/sscep}
[[ -x "$SSCEP" ]] || die "$SSCEP was not built (is the CLI in cli/ yet?)"

work=$(mktemp -d "${TMPDIR:-/tmp}/scepd-demo.XXXXXX")
cd "$work"

say "Local CA (micromdm scepserver)"
start_ca "scepd demo CA"
echo "CA running as pid $ca_pid at $URL (files in $work)"

say "sscep getcaps"
cli_getcaps

say "sscep getca"
cli_getca
echo "CA certificate saved to $work/ca.crt; expected (from the CA's own depot):"
openssl x509 -in "$work/depot/ca.pem" -noout -fingerprint -sha256
cmp -s <(openssl x509 -in "$work/ca.crt" -outform DER) \
  <(openssl x509 -in "$work/depot/ca.pem" -outform DER) ||
  die "downloaded CA certificate differs from the CA's"

say "sscep mkrequest + enroll"
cli_mkrequest "$work/local.key" "$work/local.csr"
openssl req -in "$work/local.csr" -noout -subject
cli_enroll "$work/local.key" "$work/local.csr" "$work/local.crt"
show_cert "$work/local.crt"
check_cert "$work/local.crt" "$work/local.key"

say "sscep renew (RenewalReq with a new key, signed by the current one)"
cli_mkrequest "$work/new.key" "$work/new.csr"
cli_renew "$work/new.key" "$work/new.csr" "$work/new.crt" "$work/local.key" "$work/local.crt"
show_cert "$work/new.crt"
check_cert "$work/new.crt" "$work/new.key"
[[ "$(serial_of "$work/new.crt")" != "$(serial_of "$work/local.crt")" ]] ||
  die "renewal returned the same certificate"

say "scepd: the daemon enrolls"
SCEPD=$repo/build/release/daemon/scepd
[[ -x "$SCEPD" ]] || die "$SCEPD was not built"
cat >"$work/scepd.conf" <<CONF
[scepd]
enabled = yes
data_dir = $work/scepClient
run_dir = $work/run
log_target = stderr
serial_number = DEMO1234
[certificate]
url = $URL
subject = /DC=org/DC=OpenXPKI/DC=Test Deployment/CN=router-SN
alt_name = DNS:router-SN.example
challenge_password = $CHALLENGE
renew_days = 30
success_script = echo "\$SCEP_EVENT certificate \$SCEP_SERIAL for \$SCEP_SUBJECT"
    $repo/scripts/scep_replace_pem $work/settings.ipsec IPSEC_LOCAL_KEY pkey IPSEC_LOCAL_CERT cert
CONF
# The router's IPsec settings, as the success script will rewrite them.
cat >"$work/settings.ipsec" <<'IPSEC'
# IPsec tunnel 1 (example settings file of the router)
IPSEC_ENABLED=1
IPSEC_REMOTE_ADDR=192.0.2.1
IPSEC_LOCAL_KEY=
IPSEC_LOCAL_CERT=
IPSEC_REMOTE_ID='CN=gateway'
IPSEC
"$SCEPD" -c "$work/scepd.conf" --check-config
"$SCEPD" -c "$work/scepd.conf" >"$work/scepd.log" 2>&1 &
scepd_pid=$!
# wait_status TEXT: until the status file's second line is TEXT (30 s).
wait_status() {
  local i
  for ((i = 0; i < 300; i++)); do
    if [[ "$(sed -n 2p "$work/run/status" 2>/dev/null)" == "$1" ]]; then
      return 0
    fi
    kill -0 "$scepd_pid" 2>/dev/null || die "scepd exited: $(tail -n 5 "$work/scepd.log")"
    sleep 0.1
  done
  die "status never became '$1': $(tail -n 5 "$work/scepd.log")"
}
wait_status "Certificate enrolled $(printf '%02X' $((16#$(serial_of "$work/new.crt") + 1)))"
show_status
ls -l "$work/scepClient"
check_cert "$work/scepClient/latest.crt" "$work/scepClient/latest.key"

say "The router app's web pages (busybox httpd + scepd.cgi, no authentication on 127.0.0.1)"
start_web
echo "Status:        $WEB_URL?page=status"
echo "Configuration: $WEB_URL?page=config"
echo "(up while the demo runs; SCEPD_DEMO_HOLD=SECONDS keeps daemon and pages up that long at the end)"

say "scepd: a forced renewal (renew_days beyond the validity, then SIGHUP as the web UI's Apply)"
enrolled=$(readlink "$work/scepClient/latest.crt")
sed -i 's/^renew_days = 30$/renew_days = 400/' "$work/scepd.conf"
kill -HUP "$scepd_pid"
wait_status "Certificate enrolled $(printf '%02X' $((16#${enrolled%.crt} + 1)))"
show_status
show_status --json
ls -l "$work/scepClient"
check_cert "$work/scepClient/latest.crt" "$work/scepClient/latest.key"

say "check-cert.sh (cron's check): scepd is running, so it asks it to check now"
renewed=$(readlink "$work/scepClient/latest.crt")
SCEPD_CONF=$work/scepd.conf SCEPD=$SCEPD CHECK_CERT_TIMEOUT=60 "$repo/scripts/check-cert.sh"
# renew_days (400) is still beyond the validity: the check renews once more.
wait_status "Certificate enrolled $(printf '%02X' $((16#${renewed%.crt} + 1)))"
show_status

say "The IPsec settings hold the new pair (written by scep_replace_pem)"
sed -e '/BEGIN/,/END/{/BEGIN\|END/!d}' "$work/settings.ipsec"
# Source the settings in sh and compare with the installed pair.
# shellcheck disable=SC2016
sh -c '. "$1"; printf "%s" "$IPSEC_LOCAL_CERT"' sh "$work/settings.ipsec" >"$work/ipsec.crt"
# shellcheck disable=SC2016
sh -c '. "$1"; printf "%s" "$IPSEC_LOCAL_KEY"' sh "$work/settings.ipsec" >"$work/ipsec.key"
cmp -s "$work/ipsec.crt" "$work/scepClient/latest.crt" ||
  die "settings.ipsec does not hold latest.crt"
cmp -s "$work/ipsec.key" "$work/scepClient/latest.key" ||
  die "settings.ipsec does not hold latest.key"
echo "settings.ipsec: IPSEC_LOCAL_CERT = latest.crt ($(readlink "$work/scepClient/latest.crt")), IPSEC_LOCAL_KEY = latest.key"
if [[ -n "${SCEPD_DEMO_HOLD:-}" ]]; then
  echo "Holding for ${SCEPD_DEMO_HOLD} s: $WEB_URL"
  sleep "$SCEPD_DEMO_HOLD"
fi
stop_web
stop_scepd
echo "scepd log:"
cat "$work/scepd.log"

say "Status"
printf '%-10s %s\n' "CA" "$URL ($(openssl x509 -in "$work/ca.crt" -noout -subject | sed 's/^subject=//'))"
printf '%-10s serial %s, valid until %s\n' "enrolled" "$(serial_of "$work/local.crt")" \
  "$(enddate_of "$work/local.crt")"
printf '%-10s serial %s, valid until %s\n' "renewed" "$(serial_of "$work/new.crt")" \
  "$(enddate_of "$work/new.crt")"
printf '%-10s serial %s, valid until %s\n' "scepd" "$(serial_of "$work/scepClient/latest.crt")" \
  "$(enddate_of "$work/scepClient/latest.crt")"
echo "CA index (depot/index.txt):"
cat "$work/depot/index.txt"
echo
echo "demo: OK"
