#!/usr/bin/env bash
# Instructions the router builds of scepd execute, counted under qemu-user
# (issue 22, goal 5): an idle check and a renewal, as a `--once` process and
# inside the running daemon, for each router CPU whose cross build exists.
# Instruction counts do not depend on the machine's load or speed, so this
# may run beside other work. Prints a table and, with BENCH_OUT, replaces
# the "## Router CPUs" section of that file (docs/benchmarks.md).
#
#   scripts/cross-build.sh ARCH        (makes build/cross-ARCH, build/sysroots/ARCH)
#   bench/router-cpu.sh [ARCH...]      (default: armhf mipsel arm64)
#
# Environment: ROUTER_BUILD_ROOT (where cross-ARCH and sysroots/ARCH are,
# default build), BENCH_K (checks and renewals inside one daemon, default 5),
# BENCH_OUT (a report to update; default none).
#
# How: bench/qemu_insn_count.c, a qemu plugin, prints each emulated
# process's instruction count when it exits. `--once` figures are whole
# processes from exec to exit. Inside the daemon, one daemon is started, left
# to settle, given K checks (SIGUSR1) or K renewals (SIGUSR2) and stopped; a
# second one is started and stopped with none; the difference divided by K is
# the cost of one; the daemon process only: making the next key ahead (a
# child, whose cost is mostly the random search for primes) is not counted. The CA is micromdm's scepserver on 127.0.0.1 (native).
set -Eeuo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

ROOT=${ROUTER_BUILD_ROOT:-$repo/build}
K=${BENCH_K:-5}
CHALLENGE=bench-secret
archs=("$@")
((${#archs[@]})) || archs=(armhf mipsel arm64)

die() {
  echo "router-cpu: $*" >&2
  exit 1
}

work=
daemon_pid=
# shellcheck source=scripts/lib/local-ca.sh
source "$repo/scripts/lib/local-ca.sh"
cleanup() {
  local rc=$?
  stop_pid "$daemon_pid" TERM
  stop_ca
  [[ -n "$work" && -d "$work" && -z "${BENCH_KEEP:-}" ]] && rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

command -v scepserver >/dev/null || die "scepserver (Debian package scep) is needed"
work=$(mktemp -d /tmp/scepd-router-cpu.XXXXXX)
cc -O2 -Wall -Wextra -shared -fPIC -o "$work/insn.so" bench/qemu_insn_count.c
start_ca "scepd router-cpu"

qemu_for() {
  case $1 in
    armhf) echo qemu-arm ;;
    arm64) echo qemu-aarch64 ;;
    mipsel) echo qemu-mipsel ;;
    *) die "unknown architecture $1" ;;
  esac
}

# "${emulated[@]}" LOG CMD...: runs CMD under qemu with the counting plugin;
# each process's "insns PID COUNT" line goes to LOG. An array, not a
# function, so that $! of a background run is the emulated process itself.
emulated=()

# insns_of LOG [PID]: the count of PID, or of every process in LOG summed.
insns_of() {
  awk -v pid="${2:-}" '$1 == "insns" && (pid == "" || $2 == pid) { s += $3 } END { printf "%.0f\n", s }' "$1"
}

# wait_count LOG TEXT N PID: until TEXT appears N times in LOG (at most 300 s:
# a key made at low priority under emulation on a loaded machine is slow).
wait_count() {
  local i
  for ((i = 0; i < 6000; i++)); do
    (($(grep -c -- "$2" "$1" 2>/dev/null || true) >= $3)) && return 0
    kill -0 "$4" 2>/dev/null || die "scepd exited: $(tail -n 3 "$1")"
    sleep 0.05
  done
  die "'$2' did not appear $3 times in $1"
}

# wait_file PATH PID: until PATH exists (at most 300 s). The daemon reaps
# the child that makes the next key only at its next scheduled step (no
# wake-up of its own), so its "next key ready" line comes late: the file is
# the sign.
wait_file() {
  local i
  for ((i = 0; i < 6000; i++)); do
    [[ -e "$1" ]] && return 0
    kill -0 "$2" 2>/dev/null || die "scepd exited"
    sleep 0.05
  done
  die "$1 never appeared"
}

# in_daemon DIR READY SIGNAL N: sets `insns` to the instructions of a daemon
# that is left to reach READY lines, then gets N signals, each answered by
# one more READY line, and is then stopped by SIGTERM. After each READY line
# the key made ahead, if one is being made, is waited for. Not run in a subshell: the EXIT trap must see daemon_pid.
in_daemon() {
  local dir=$1 ready=$2 sig=$3 n=$4 i keys log="$work/daemon.$RANDOM.log"
  "${emulated[@]}" "$log.insns" "$SCEPD" -c "$dir/scepd.conf" >"$log" 2>&1 &
  daemon_pid=$!
  for ((i = 0; i <= n; i++)); do
    ((i == 0)) || kill -s "$sig" "$daemon_pid"
    wait_count "$log" "$ready" $((i + 1)) "$daemon_pid"
    keys=$(grep -c "making the next .*-bit key" "$log" || true)
    ((keys == 0)) || wait_file "$dir/data/.next.key" "$daemon_pid"
  done
  stop_pid "$daemon_pid" TERM
  insns=$(insns_of "$log.insns" "$daemon_pid")
  daemon_pid=
}

millions() { awk -v n="$1" 'BEGIN { printf "%.1f M", n / 1e6 }'; }

rows=()
for arch in "${archs[@]}"; do
  QEMU=$(qemu_for "$arch")
  SYSROOT=$ROOT/sysroots/$arch
  SCEPD=$ROOT/cross-$arch/daemon/scepd
  emulated=("$QEMU" -L "$SYSROOT" -plugin "$work/insn.so" -d plugin -D)
  [[ -x "$SCEPD" && -d "$SYSROOT" ]] || {
    echo "router-cpu: $arch skipped: no $SCEPD or $SYSROOT (scripts/cross-build.sh $arch)" >&2
    continue
  }
  echo "router-cpu: $arch: --once runs" >&2
  d=$work/$arch
  scepd_conf "$d/idle" 2048 30
  "${emulated[@]}" "$work/enroll.insns" "$SCEPD" -c "$d/idle/scepd.conf" --once >"$work/enroll.log" 2>&1 ||
    die "$arch: first enrollment failed: $(tail -n 3 "$work/enroll.log")"
  first=$(insns_of "$work/enroll.insns")

  "${emulated[@]}" "$work/idle.insns" "$SCEPD" -c "$d/idle/scepd.conf" --once >"$work/idle.log" 2>&1 ||
    die "$arch: idle check failed"
  idle_once=$(insns_of "$work/idle.insns")

  # renew_days beyond the CA's 365 days: every run renews (key made ahead
  # by the run before, as on a router).
  scepd_conf "$d/renew" 2048 400
  "${emulated[@]}" "$work/r0.insns" "$SCEPD" -c "$d/renew/scepd.conf" --once >"$work/r0.log" 2>&1 ||
    die "$arch: enrollment for renewals failed"
  "${emulated[@]}" "$work/r1.insns" "$SCEPD" -c "$d/renew/scepd.conf" --once >"$work/r1.log" 2>&1 &
  pid=$!
  wait "$pid" || die "$arch: --once renewal failed: $(tail -n 3 "$work/r1.log")"
  renew_self=$(insns_of "$work/r1.insns" "$pid")

  echo "router-cpu: $arch: checks in the daemon" >&2
  in_daemon "$d/idle" " valid: " USR1 0
  d0=$insns
  in_daemon "$d/idle" " valid: " USR1 "$K"
  check=$(((insns - d0) / K))
  echo "router-cpu: $arch: renewals in the daemon" >&2
  # Inside the renewal window: the daemon renews once at start by itself.
  in_daemon "$d/renew" "installed, valid until" USR2 0
  r0=$insns
  in_daemon "$d/renew" "installed, valid until" USR2 "$K"
  renew_daemon=$(((insns - r0) / K))

  rows+=("| $arch | $(millions "$first") | $(millions "$idle_once") | $(millions "$renew_self") | $(millions "$check") | $(millions "$renew_daemon") |")
done
((${#rows[@]})) || die "no cross build found under $ROOT"

report() {
  cat <<EOF
## Router CPUs: instructions under qemu

Guest instructions counted by \`bench/qemu_insn_count.c\` (a qemu-user
plugin) with \`bench/router-cpu.sh\`, RSA-2048, micromdm's scepserver on
127.0.0.1; commit $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo '?'), the size-optimised
cross builds of \`scripts/cross-build.sh\`. Load-independent. "In the daemon"
is the difference between a daemon given $K checks (SIGUSR1) or renewals
(SIGUSR2) and one given none, divided by $K, for the daemon process alone.
Renewals use the key made ahead; the child that makes the next one is not
counted (an RSA key's cost varies from run to run with the search for
primes, as the first enrollment's figure, which makes its key, shows).

| CPU | first enrollment (\`--once\`) | idle check (\`--once\`, whole process) | renewal (\`--once\`, whole process) | one check in the daemon | one renewal in the daemon |
|---|---|---|---|---|---|
EOF
  printf '%s\n' "${rows[@]}"
}
report
if [[ -n "${BENCH_OUT:-}" ]]; then
  {
    [[ -f "$BENCH_OUT" ]] && awk '/^## / { skip = ($0 ~ /^## Router CPUs/) } !skip' "$BENCH_OUT"
    printf '\n'
    report
  } | cat -s >"$BENCH_OUT.tmp"
  mv "$BENCH_OUT.tmp" "$BENCH_OUT"
  echo "router-cpu: wrote $BENCH_OUT" >&2
fi
