#!/bin/bash
# Makes this directory again: a version-1 pending file as the scepd before
# the enrollment seam (up to commit 9fb2f76) wrote it, and the state of the
# test responder that answered PENDING to it (pending_polls 0: the first
# CertPoll succeeds). Must run with a build of THAT scepd (argument: its
# build directory); the current one writes version 2.
#   tests/data/pending_v1/make.sh /path/to/old/build
set -e
B=${1:?build directory of the pre-seam scepd}
OUT=$(cd "$(dirname "$0")" && pwd)
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
rm -rf "$OUT/data" "$OUT/responder"
$B/tests/responder/scep_responder --port 0 --port-file $W/port --state-dir $W/responder \
  --pending-polls 0 --challenge secret --key-bits 2048 > $W/responder.log 2>&1 &
RP=$!
for i in $(seq 100); do [ -s $W/port ] && break; sleep 0.1; done
PORT=$(cat $W/port)
cat > $W/scepd.conf <<CONF
[scepd]
enabled = yes
data_dir = $W/data
run_dir = $W/run
log_level = debug
log_target = stderr
[certificate]
url = http://127.0.0.1:$PORT/scep
subject = /O=scepd test/CN=router-1
challenge_password = secret
key_size = 1024
await_result = 3600
max_await_result = 43200
CONF
$B/daemon/scepd -c $W/scepd.conf > $W/scepd.log 2>&1 &
SP=$!
for i in $(seq 600); do grep -q '^polls=1' $W/data/.pending/state 2>/dev/null && break; sleep 0.1; done
kill $SP; wait $SP || true
kill $RP; wait $RP || true
mkdir -p $OUT/data/.pending $OUT/responder/transactions
cp $W/data/.pending/state $OUT/data/.pending/state
cp $W/responder/ca.key $W/responder/ca.crt $OUT/responder/
cp $W/responder/transactions/*.txn $OUT/responder/transactions/
grep -q '^version=1$' $OUT/data/.pending/state
