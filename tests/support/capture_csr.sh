#!/bin/sh
# CSR verifier for micromdm scepserver (-csrverifierexec) that records the
# request it was asked about, so a test can inspect exactly what the CA got.
#
# scepserver runs the verifier with no arguments and the DER CSR on stdin;
# exit 0 issues the certificate, non-zero makes the CA answer FAILURE
# badRequest. It cannot pass arguments, so the test fixture (ScepServer)
# writes a per-instance wrapper that calls:
#
#   capture_csr.sh [CAPTURE_FILE [NEXT_VERIFIER]]
#
# CAPTURE_FILE defaults to $CAPTURE_FILE. The CSR is written there atomically
# (each request replaces the previous one) and also kept as CAPTURE_FILE.N,
# N = 1, 2, ... in arrival order. With NEXT_VERIFIER the CSR is then handed
# to it on stdin and its exit status is the answer; otherwise exit 0.
set -eu

capture=${1:-${CAPTURE_FILE:-}}
if [ -z "$capture" ]; then
  echo "capture_csr.sh: no capture file (argument or \$CAPTURE_FILE)" >&2
  exit 2
fi
next=${2:-}

tmp="$capture.tmp.$$"
cat > "$tmp"
n=1
# Claim the next free number atomically (noclobber), so parallel requests
# never share one.
while ! (set -C; : > "$capture.$n") 2>/dev/null; do
  n=$((n + 1))
  if [ "$n" -gt 10000 ]; then
    echo "capture_csr.sh: too many captures" >&2
    exit 2
  fi
done
cat "$tmp" > "$capture.$n"
mv -f "$tmp" "$capture"

if [ -n "$next" ]; then
  exec "$next" < "$capture.$n"
fi
exit 0
