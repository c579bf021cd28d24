#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, clang, ASan + UBSan) in build/fuzz and
# runs each for a set time on a scratch copy of its committed seed corpus.
#
#   scripts/fuzz.sh [OPTIONS] [SECONDS-PER-TARGET]     (default 60)
#
#   --merge        afterwards, merge the inputs that found new coverage into
#                  fuzz/corpus/<target>/ (minimised; review and commit them)
#   --seed         rewrite the seed corpora with fuzz/make-corpus.sh first
#   --build-only   build, run nothing
#   --only NAME    run one target (repeatable): pki_message, ca_certs,
#                  ca_caps, subject, alt_name, config, cert_summary
#
# Exits 0 when every target ran its time without a finding; otherwise 1,
# after printing for each failed target the input that crashed, leaked or
# hung (kept in build/fuzz/findings/<target>/) and how to replay it.
# The committed corpus is never changed without --merge or --seed.
# Each failure (a finding, or clang that would not install or build) is
# also written, one line each, to $FUZZ_BUILD/failures.txt:
# the target, the first sanitizer or libFuzzer error line, and the input in
# base64 (up to 3 KiB), so a finding that only a CI machine reached can be
# replayed from its log (scripts/test.sh repeats these lines at the end).
# Environment: SCEPD_JOBS (build parallelism and targets run at once,
# default 2), FUZZ_BUILD (build
# directory, default build/fuzz), FUZZ_SEED (libFuzzer's -seed, for a
# repeatable run as the test command makes; default: a random seed).
set -Eeuo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

# Every libFuzzer target: one fuzz/NAME_fuzzer.cc each (a new file is a new
# target here without editing this list).
targets_all=()
for f in fuzz/*_fuzzer.cc; do
  f=${f#fuzz/}
  targets_all+=("${f%_fuzzer.cc}")
done
seconds=60
merge=
seed=
build_only=
targets=()
while (($#)); do
  case "$1" in
    --merge) merge=1 ;;
    --seed) seed=1 ;;
    --build-only) build_only=1 ;;
    --only)
      [[ " ${targets_all[*]} " == *" ${2:-} "* ]] || { echo "fuzz: unknown target '${2:-}'" >&2; exit 64; }
      targets+=("$2")
      shift
      ;;
    -h | --help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *)
      [[ "$1" =~ ^[0-9]+$ && "$1" -gt 0 ]] || { echo "fuzz: bad argument '$1' (see --help)" >&2; exit 64; }
      seconds=$1
      ;;
  esac
  shift
done
((${#targets[@]})) || targets=("${targets_all[@]}")

build=${FUZZ_BUILD:-$repo/build/fuzz}
jobs=${SCEPD_JOBS:-2}
failures=$build/failures.txt
mkdir -p "$build"
rm -f "$failures"

if ! scripts/lib/install-deps.sh clang libclang-rt-14-dev; then
  echo "setup: installing clang and its sanitizer runtime failed (see install-deps above)" >"$failures"
  exit 1
fi

launcher=()
command -v ccache >/dev/null 2>&1 && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
t0=$SECONDS
if ! cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DSCEPD_FUZZ=ON -DSCEPD_BUILD_TESTS=OFF "${launcher[@]}" >/dev/null; then
  echo "build: cmake could not configure $build (see above)" >"$failures"
  exit 1
fi
build_targets=(fuzz_make_corpus)
for t in "${targets[@]}"; do build_targets+=("${t}_fuzzer"); done
if ! cmake --build "$build" -j "$jobs" --target "${build_targets[@]}"; then
  echo "build: building ${build_targets[*]} failed (see above)" >"$failures"
  exit 1
fi
echo "fuzz: built in $((SECONDS - t0)) s"
[[ -z "$seed" ]] || fuzz/make-corpus.sh "$build"
[[ -z "$build_only" ]] || exit 0

# run_target NAME: one fuzzer for $seconds; its report goes to
# logs/NAME.report, and on a finding a line for $failures to logs/NAME.failure
# (targets run $jobs at a time; the reports are printed in target order).
run_target() {
  local t=$1
  local seeds=$repo/fuzz/corpus/$t
  local work=$build/corpus-work/$t
  local findings=$build/findings/$t
  local log=$build/logs/$t.log
  local report=$build/logs/$t.report
  rm -rf "$work"
  mkdir -p "$work" "$findings"
  # New coverage goes to the scratch dir (first directory); the seeds are
  # only read. stdin from /dev/null: the settings target may be led to read
  # /dev/stdin as a password file.
  local rc=0
  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$build/fuzz/${t}_fuzzer" ${FUZZ_SEED:+-seed="$FUZZ_SEED"} -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 \
    -max_len=16384 -print_final_stats=1 -artifact_prefix="$findings/" \
    "$work" "$seeds" </dev/null >"$log" 2>&1 || rc=$?
  {
    echo "fuzz: $t for ${seconds} s"
    grep -E '^stat::(number_of_executed_units|new_units_added|peak_rss_mb)' "$log" |
      sed "s/^/fuzz:   /" || true
  } >"$report"
  if ((rc != 0)); then
    {
      echo "fuzz: $t FAILED (exit $rc); log $log"
      grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error)' "$log" | head -n 5 | sed 's/^/fuzz:   /' || true
    } >>"$report"
    local first input line size
    first=$(grep -m1 -E '^(==[0-9]+==ERROR|.*runtime error|.*ERROR: libFuzzer)' "$log" || true)
    input=$(grep -oE "Test unit written to [^ ]+" "$log" | awk '{print $5}' | head -n 1 || true)
    if [[ -n "$input" ]]; then
      echo "fuzz:   input: $input" >>"$report"
      echo "fuzz:   replay: $build/fuzz/${t}_fuzzer $input" >>"$report"
    fi
    line="$t: exit $rc: ${first:-no error line in $log}"
    if [[ -n "$input" && -f "$input" ]]; then
      size=$(stat -c %s "$input")
      if ((size <= 3072)); then
        line+=" | input ($size bytes, base64): $(base64 -w0 "$input")"
      else
        line+=" | input: $size bytes, too long to print ($input)"
      fi
    fi
    echo "$line" >"$build/logs/$t.failure"
    return 0
  fi
  if [[ -n "$merge" ]]; then
    local before
    before=$(find "$seeds" -type f | wc -l)
    "$build/fuzz/${t}_fuzzer" -merge=1 "$seeds" "$work" </dev/null >>"$log" 2>&1
    echo "fuzz:   merged: $before -> $(find "$seeds" -type f | wc -l) seeds in fuzz/corpus/$t" >>"$report"
  fi
}

mkdir -p "$build/logs"
for t in "${targets[@]}"; do
  [[ -d "$repo/fuzz/corpus/$t" ]] || { echo "fuzz: no seed corpus $repo/fuzz/corpus/$t (run with --seed)" >&2; exit 1; }
  rm -f "$build/logs/$t.report" "$build/logs/$t.failure"
done
# At most $jobs at once (each target has its own corpus and findings).
running=0
for t in "${targets[@]}"; do
  if ((running >= jobs)); then
    wait -n || true
    running=$((running - 1))
  fi
  run_target "$t" &
  running=$((running + 1))
done
wait || true
failed=()
for t in "${targets[@]}"; do
  cat "$build/logs/$t.report" 2>/dev/null || echo "fuzz: $t left no report"
  if [[ -f "$build/logs/$t.failure" ]]; then
    failed+=("$t")
    cat "$build/logs/$t.failure" >>"$failures"
  elif [[ ! -f "$build/logs/$t.report" ]]; then
    failed+=("$t")
    echo "$t: the fuzz run left no report" >>"$failures"
  fi
done

echo "fuzz: $((${#targets[@]} - ${#failed[@]})) of ${#targets[@]} targets ran ${seconds} s each without a finding; total $((SECONDS - t0)) s"
if ((${#failed[@]})); then
  echo "fuzz: FAILED: ${failed[*]}" >&2
  exit 1
fi
