#!/usr/bin/env bash
# Writes the interop vectors (tests/interop/make_vectors.py: CA answers
# encoded by an independent Python implementation, docs/interop.md) into the
# seed corpora as fuzz/corpus/<target>/interop-<vector>:
#   pki_message  every CertRep, re-made with the fuzz key and certificate
#                (fuzz/pki/) as CA and as router, so that the target's fixed
#                key verifies and opens them; first byte 0 (trusted path)
#   ca_certs     every GetCACert body; first byte picks the Content-Type
#                the vector was sent with (see ca_certs_fuzzer.cc)
#   ca_caps      every GetCACaps body; first byte 0 (no forced algorithm)
# Existing interop-* seeds are replaced; nothing else is touched. Needs
# python3 with python3-asn1crypto and python3-cryptography; contacts nothing.
set -Eeuo pipefail
cd "$(dirname "$0")"
python=/usr/bin/python3
[[ -x $python ]] || python=python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export PYTHONDONTWRITEBYTECODE=1
"$python" ../tests/interop/make_vectors.py "$work/plain" >/dev/null
"$python" ../tests/interop/make_vectors.py "$work/fuzz" --pki pki/fuzz.key pki/fuzz.crt >/dev/null
rm -f corpus/pki_message/interop-* corpus/ca_certs/interop-* corpus/ca_caps/interop-*

seed() {  # seed TARGET NAME FIRST-BYTE(octal) FILE
  # shellcheck disable=SC2059 # the format is the octal escape of the byte
  { printf "\\$3"; cat "$4"; } > "corpus/$1/interop-$2"
}
n=0
while IFS=$'\t' read -r name kind file type _; do
  case $kind in
    certrep) seed pki_message "${name#certrep-}" 000 "$work/fuzz/$file" ;;
    *) continue ;;
  esac
  n=$((n + 1))
done < "$work/fuzz/vectors.tsv"
while IFS=$'\t' read -r name kind file type _; do
  case $kind in
    getcacert)
      case $type in
        application/x-x509-ca-cert) byte=000 ;;
        application/x-x509-ca-ra-cert) byte=001 ;;
        text/html) byte=003 ;;
        *) byte=004 ;;  # with parameters or in another case
      esac
      seed ca_certs "${name#getcacert-}" "$byte" "$work/plain/$file" ;;
    getcacaps) seed ca_caps "${name#getcacaps-}" 000 "$work/plain/$file" ;;
    *) continue ;;
  esac
  n=$((n + 1))
done < "$work/plain/vectors.tsv"
echo "make-interop-seeds: $n seeds written"
