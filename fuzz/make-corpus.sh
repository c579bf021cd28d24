#!/usr/bin/env bash
# Writes the fuzz targets' seed corpora into fuzz/corpus/<target>/ (and, only
# when they are missing, the fixed throwaway key and certificate in
# fuzz/pki/ that the targets use to verify and decrypt).
#
#   fuzz/make-corpus.sh BUILD_DIR
#
# BUILD_DIR is a SCEPD_FUZZ build (scripts/fuzz.sh configures build/fuzz and
# calls this with --seed); the binary seeds come from its fuzz_make_corpus,
# built from the core's own encoders, the text seeds are written here from
# the shipped settings files and typical router values. Existing seeds are
# replaced; nothing else in fuzz/corpus/ is touched. Contacts nothing.
set -Eeuo pipefail
cd "$(dirname "$0")"
fuzz_dir=$(pwd)
build=${1:?usage: fuzz/make-corpus.sh BUILD_DIR}
[[ "$build" = /* ]] || build="$OLDPWD/$build"

if [[ ! -s pki/fuzz.key || ! -s pki/fuzz.crt ]]; then
  mkdir -p pki
  openssl genrsa -out pki/fuzz.key 2048 2>/dev/null
  openssl req -x509 -new -key pki/fuzz.key -sha256 -days 36500 \
    -subj "/O=scepd fuzz/CN=scepd fuzz CA (throwaway)" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature,keyEncipherment" \
    -out pki/fuzz.crt
  echo "make-corpus: wrote a new fuzz/pki/fuzz.key and fuzz.crt"
fi

cmake --build "$build" --target fuzz_make_corpus >/dev/null
"$build/fuzz/fuzz_make_corpus" "$fuzz_dir/corpus"

# seed DIR NAME TEXT: one text seed (printf %s, so no escapes are expanded).
seed() {
  mkdir -p "corpus/$1"
  printf '%s' "$3" >"corpus/$1/$2"
}

# ca_caps: the first byte picks the algorithm policy, "A" = 0x41 (legacy on,
# no forced names), "@" = 0x40 (legacy off).
seed ca_caps micromdm "@POSTPKIOperation
SHA-1
SHA-256
AES
DES3
SCEPStandard
Renewal
GetNextCACert
"
seed ca_caps crlf-mixed-case "Apostpkioperation"$'\r\n'"sha-512"$'\r\n'"Des3"$'\r\n'"UPDATE"$'\r\n'
seed ca_caps empty "A"
seed ca_caps unknown-words "@  Foo  SHA-224 Bar${IFS}AES${IFS}"

# subject
seed subject router "/O=Example/OU=Routers/CN=router-A1B2"
seed subject multi-valued "/CN=a+UID=b/O=x"
seed subject escapes '/CN=a\/b\+c\=d\\e/O=spaces kept '
seed subject oids-and-long-names "/2.5.4.3=x/organizationName=Y/emailAddress=a@b.c/C=DE/"
seed subject utf8 "/CN=Zürich Γ/serialNumber=123"

# alt_name
seed alt_name typical "DNS:router.example.com, IP:192.0.2.1, email:me@example.com"
seed alt_name all-kinds 'URI:https://example.com/x, IP:2001:db8::1, RID:1.2.3.4, dirName:/O=Example/CN=x\, y, otherName:1.3.6.1.4.1.311.20.2.3;UTF8:user@example.com'
seed alt_name case-and-blanks "  dns : a.example ,IP:10.0.0.1,  Email:x@y.z  "

# config: the shipped settings plus a compact one using every key.
# cert_summary: certificate files as latest.crt and ca.crt-N hold them
mkdir -p corpus/cert_summary
cp pki/fuzz.crt corpus/cert_summary/pem
openssl x509 -in pki/fuzz.crt -outform DER -out corpus/cert_summary/der
{ openssl x509 -in pki/fuzz.crt -noout -text; cat pki/fuzz.crt; } >corpus/cert_summary/text-then-pem
sed 's/$/\r/' pki/fuzz.crt >corpus/cert_summary/pem-crlf

mkdir -p corpus/config
cp ../etc/scepd.conf corpus/config/scepd.conf
cp ../etc/scepd.router.conf corpus/config/scepd.router.conf
seed config every-key "[scepd]
enabled = yes
data_dir = /var/data/scepClient
run_dir = /var/run/scepClient
check_interval = 12h
log_level = debug
log_target = both
serial_number = A1B2

[certificate]
url = http://127.0.0.1:8080/scep
renew_days = 30
await_result = 300
max_await_result = 480
legacy_ciphers = no
key_size = 2048
subject = /O=Example/CN=router-SN
alt_name = DNS:router-SN.example, IP:192.0.2.1
template = IPSECIntermediateOffline
digital_signature = yes
key_encipherment = yes
server_auth = no
client_auth = yes
challenge_password = pass;word
ca_fingerprint = sha256:$(printf '%064d' 0)
ca_identifier = routers
success_script = echo one
  echo two
failure_script: logger failed
keep_old = 2

[certificate vpn]
data_dir = /var/data/scepClient-vpn
url = https://ca.example/scep
subject = /CN=vpn\\SN
"
seed config errors "[scepd]
enabled = maybe
check_interval = 5x
[certificate]
renew_days = 0
subject = CN=no-slash
key_size = 1000
unknown = 1
[certificate]
[other]
"
# est_response: the first byte picks the path (see est_response_fuzzer.cc):
# certs-only for the fixed key in one line and in lines, the RFC 7030
# csrattrs example, a serverkeygen multipart answer, Retry-After values.
mkdir -p corpus/est_response
p7_b64=$(openssl crl2pkcs7 -nocrl -certfile pki/fuzz.crt -outform DER | base64 -w0)
key_b64=$(openssl pkcs8 -topk8 -nocrypt -in pki/fuzz.key -outform DER | base64 -w0)
{ printf '\x00'; printf '%s' "$p7_b64"; } >corpus/est_response/enroll-one-line
{ printf '\x00'; printf '%s\n' "$p7_b64" | fold -w 64 | sed 's/$/\r/'; } >corpus/est_response/enroll-lines
{ printf '\x04'; printf '%s' "$p7_b64"; } >corpus/est_response/cacerts
{ printf '\x01'; printf '%s' "MEEGCSqGSIb3DQEJBzASBgcqhkjOPQIBMQcGBSuBBAAiMBYGCSqGSIb3DQEJDjEJBgcrBgEBAQEWBggqhkjOPQQDAw==" | base64 -d; } >corpus/est_response/csrattrs-rfc7030
{ printf '\x02--b1\r\nContent-Type: application/pkcs8\r\nContent-Transfer-Encoding: base64\r\n\r\n%s\r\n' "$key_b64"
  printf -- '--b1\r\nContent-Type: application/pkcs7-mime; smime-type=certs-only\r\n\r\n%s\r\n--b1--\r\n' "$p7_b64"; } >corpus/est_response/serverkeygen
seed est_response retry-seconds $'\x03'"120"
seed est_response retry-imf-date $'\x03'"Sun, 06 Nov 1994 08:49:37 GMT"
seed est_response retry-asctime $'\x03'"Sun Nov  6 08:49:37 1994"
# cmp_response: answers of OpenSSL's mock CMP server (no sockets:
# -use_mock_srv), PBM-protected with reference 62154 and secret "ssh" as the
# target's session uses, for a certificate of the fuzz key.
cmp_tmp=$(mktemp -d)
trap 'rm -rf "$cmp_tmp"' EXIT
openssl req -new -key pki/fuzz.key -subj /CN=fuzz -out "$cmp_tmp/ee.csr" 2>/dev/null
openssl x509 -req -in "$cmp_tmp/ee.csr" -CA pki/fuzz.crt -CAkey pki/fuzz.key -set_serial 5 \
  -days 3650 -out "$cmp_tmp/ee.crt" 2>/dev/null
c=corpus/cmp_response
mkdir -p "$c"
cmp_mock() {
  openssl cmp -use_mock_srv -srv_ref 62154 -srv_secret pass:ssh -rsp_cert "$cmp_tmp/ee.crt" \
    -rsp_extracerts pki/fuzz.crt -rsp_capubs pki/fuzz.crt -ref 62154 -secret pass:ssh \
    -recipient "/CN=scepd fuzz CA" -newkey pki/fuzz.key -subject /CN=fuzz \
    -certout "$cmp_tmp/out.crt" "$@" >"$cmp_tmp/log" 2>&1 || { cat "$cmp_tmp/log" >&2; exit 1; }
}
cmp_mock -cmd ir -implicit_confirm -grant_implicitconf -rspout "$c/ir_pbm_ip.der"
cmp_mock -cmd ir -rspout "$c/ir_pbm_ip_then_pkiconf.der,$c/pkiconf.der"
cmp_mock -cmd ir -implicit_confirm -grant_implicitconf -poll_count 2 -check_after 1 \
  -rspout "$c/ir_waiting.der,$c/pollrep.der,$c/ip_after_poll.der"
cmp_mock -cmd genm -rspout "$c/genp.der"
cmp_mock -cmd rr -oldcert "$cmp_tmp/ee.crt" -rspout "$c/rp.der"

echo "make-corpus: seeds in $fuzz_dir/corpus/: $(cd corpus && for d in */; do printf '%s%d ' "${d%/}=" "$(find "$d" -type f | wc -l)"; done)"
