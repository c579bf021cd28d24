#!/usr/bin/env bash
# THE test command: the whole suite, twice.
#   1. build/ci    warnings as errors, ctest (unit, loopback io, CLI and
#                  daemon end to end against micromdm scepserver)
#   2. build/asan  the same under AddressSanitizer + UndefinedBehaviorSanitizer
# Installs missing Debian packages first (scripts/lib/install-deps.sh).
# Both suites run even if the first fails; exits non-zero if a build or any
# test failed, and ends with ctest's summary line for each suite (or the
# reason there is none).
#
# Environment: SCEPD_JOBS (default 2) build/test parallelism;
# SCEPD_SKIP_ASAN=1 runs only the first suite; CTEST_ARGS extra ctest
# arguments (e.g. CTEST_ARGS="-R Cli").
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/lib/install-deps.sh

jobs=${SCEPD_JOBS:-2}
read -r -a ctest_extra <<<"${CTEST_ARGS:-}"

export ASAN_OPTIONS=detect_leaks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

summaries=()
failed=0

# run_suite NAME BUILD_DIR [cmake args...]: configure, build, ctest.
run_suite() {
  local name=$1 dir=$2
  shift 2
  echo "=== [$name] configure $dir"
  if ! cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DSCEPD_WERROR=ON -DSCEPD_BUILD_TESTS=ON "$@"; then
    summaries+=("[$name] CONFIGURE FAILED")
    failed=1
    return 0
  fi
  echo "=== [$name] build"
  if ! cmake --build "$dir" -j "$jobs"; then
    summaries+=("[$name] BUILD FAILED (see the compiler errors above)")
    failed=1
    return 0
  fi
  echo "=== [$name] ctest"
  local rc=0
  ctest --test-dir "$dir" --output-on-failure --no-tests=error -j "$jobs" \
    "${ctest_extra[@]}" 2>&1 | tee "$dir/ctest.log" || rc=$?
  local summary
  summary=$(grep -E 'tests passed|No tests were found' "$dir/ctest.log" | tail -n 1 || true)
  summaries+=("[$name] ${summary:-no ctest summary (exit $rc)}")
  if [[ $rc -ne 0 ]]; then
    failed=1
  fi
}

run_suite ci build/ci
if [[ -z "${SCEPD_SKIP_ASAN:-}" ]]; then
  run_suite asan build/asan -DSCEPD_SANITIZE=ON
fi

verdict=OK
if [[ $failed -ne 0 ]]; then
  verdict=FAILED
fi
echo
echo "=== summary: $verdict"
for line in "${summaries[@]}"; do
  echo "$line"
done
exit "$failed"
