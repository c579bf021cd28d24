#!/usr/bin/env bash
# THE test command: the whole suite, natively twice, then on router CPUs.
#   1. build/ci    warnings as errors, ctest (unit, loopback io, CLI and
#                  daemon end to end against micromdm scepserver)
#   2. build/asan  the same at -O1 -g1 under AddressSanitizer + UndefinedBehaviorSanitizer,
#                  but for tests/asan-skip.txt (crash matrices but one,
#                  packaging and document checks, host measurements)
#   3. build/fuzz  scripts/fuzz.sh: every libFuzzer target for a short while
#                  (SCEPD_FUZZ_SECONDS, default 15, fixed seed)
#   4. build/cross-{armhf,arm64,mipsel}  scripts/cross-build.sh all: the
#                  size-optimised build for each router architecture, warnings
#                  as errors, the same suite under qemu-user
# Installs missing Debian packages first (scripts/lib/install-deps.sh).
# Every part runs even if an earlier one fails; exits non-zero if a build or
# any test failed, and ends with a summary line per cross architecture, then
# ctest's summary line for each native suite (or the reason there is none).
# A cross architecture whose Debian sysroot cannot be fetched (package mirror
# unreachable or not indexable) is reported as SKIPPED, loudly, and does not
# fail the run.
#
# Environment: SCEPD_JOBS (default 2) build/test parallelism;
# SCEPD_SKIP_ASAN=1 skips the second suite, SCEPD_SKIP_FUZZ=1 the fuzzers,
# SCEPD_SKIP_CROSS=1 the router CPUs;
# SCEPD_CROSS_ARCHS (default "all") which architectures to cross-test;
# SCEPD_CROSS_BUDGET (default 4920, 82 minutes) seconds after this script's
# start by which the cross stage should be over: an architecture that would
# end later, at the pace of the slowest so far, is not started (reported
# SKIPPED), so that CI's 90 minutes hold on a slow machine;
# CTEST_ARGS extra ctest arguments for every suite (e.g. CTEST_ARGS="-R Cli").
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)

# Every package the stages below will ask for, in one apt step at the start
# (the stages check again, and find them present): a later apt run is one
# more chance for a busy dpkg lock or a failed download.
extra_packages=()
[[ -n "${SCEPD_SKIP_FUZZ:-}" ]] || extra_packages+=(clang libclang-rt-14-dev)
read -r -a cross_archs <<<"${SCEPD_CROSS_ARCHS:-all}"
if [[ -z "${SCEPD_SKIP_CROSS:-}" ]]; then
  read -r -a cross_packages < <(scripts/cross-build.sh --host-packages "${cross_archs[@]}")
  extra_packages+=("${cross_packages[@]}")
fi
scripts/lib/install-deps.sh "${extra_packages[@]}"

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
  local t0 t_build
  t0=$(date +%s)
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
  t_build=$(($(date +%s) - t0))
  echo "=== [$name] ctest"
  local rc=0 t1
  t1=$(date +%s)
  ctest --test-dir "$dir" --output-on-failure --no-tests=error -j "$jobs" \
    "${ctest_extra[@]}" 2>&1 | tee "$dir/ctest.log" || rc=$?
  local summary
  summary=$(grep -E 'tests passed|No tests were found' "$dir/ctest.log" | tail -n 1 || true)
  summaries+=("[$name] build ${t_build} s, ctest $(($(date +%s) - t1)) s: ${summary:-no ctest summary (exit $rc)}")
  if [[ $rc -ne 0 ]]; then
    failed=1
  fi
}

# Line tables only (-g1): full debug information cost 40 % of the build.
run_suite ci build/ci \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG" "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG"
if [[ -z "${SCEPD_SKIP_ASAN:-}" ]]; then
  # tests/asan-skip.txt: what the sanitizers would only slow down.
  asan_skip=$(sed -e '/^[[:space:]]*#/d' -e '/^[[:space:]]*$/d' tests/asan-skip.txt | paste -sd '|')
  ctest_saved=("${ctest_extra[@]}")
  [[ -z "$asan_skip" ]] || ctest_extra+=(-E "$asan_skip")
  # -O1 (what the sanitizers' manuals advise) and line tables only (-g1,
  # enough for their stack traces): the same build took 2.5 times longer
  # to compile at -O2 -g (packaging_test.cc: 67 CPU-seconds, 27 at -O1 -g1).
  run_suite asan build/asan -DSCEPD_SANITIZE=ON \
    "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG" "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG"
  ctest_extra=("${ctest_saved[@]}")
fi

# Fuzzers: a short run of each target with a fixed seed (repeatable).
if [[ -z "${SCEPD_SKIP_FUZZ:-}" ]]; then
  echo "=== [fuzz] scripts/fuzz.sh ${SCEPD_FUZZ_SECONDS:-15}"
  t_fuzz=$(date +%s)
  if FUZZ_SEED=${FUZZ_SEED:-1} scripts/fuzz.sh "${SCEPD_FUZZ_SECONDS:-15}"; then
    summaries=("[fuzz] every target ran ${SCEPD_FUZZ_SECONDS:-15} s without a finding ($(($(date +%s) - t_fuzz)) s in all)" "${summaries[@]}")
  else
    fuzz_lines=("[fuzz] FAILED (a finding or a build error, see above)")
    while IFS= read -r line; do
      fuzz_lines+=("[fuzz] $line")
    done < <(cat "${FUZZ_BUILD:-build/fuzz}/failures.txt" 2>/dev/null || true)
    summaries=("${fuzz_lines[@]}" "${summaries[@]}")
    failed=1
  fi
fi

# Router CPUs: cross-build.sh prints one summary line per architecture,
# "[armhf] build ... s, ctest ... s, ...: 100% tests passed, ...", after its
# "=== cross-build: summary" line; they are repeated below, before the
# native suites' lines (which stay the closing lines).
cross_summaries=()
if [[ -z "${SCEPD_SKIP_CROSS:-}" ]]; then
  echo "=== [cross] scripts/cross-build.sh ${SCEPD_CROSS_ARCHS:-all}"
  mkdir -p build
  rc=0
  SCEPD_CROSS_WERROR=1 SCEPD_CROSS_DEADLINE=$((started + ${SCEPD_CROSS_BUDGET:-4920})) \
    scripts/cross-build.sh "${cross_archs[@]}" 2>&1 | tee build/cross.log ||
    rc=$?
  while IFS= read -r line; do
    cross_summaries+=("[cross ${line#\[}")
  done < <(sed -n '/^=== cross-build: summary/,$p' build/cross.log | grep -E '^\[' || true)
  if [[ ${#cross_summaries[@]} -eq 0 ]]; then
    cross_summaries+=("[cross] no summary from scripts/cross-build.sh (exit $rc)")
  fi
  if [[ $rc -ne 0 ]]; then
    failed=1
  fi
else
  cross_summaries+=("[cross] not run (SCEPD_SKIP_CROSS)")
fi

verdict=OK
if [[ $failed -ne 0 ]]; then
  verdict=FAILED
fi
echo
echo "=== [total] $(($(date +%s) - started)) s"
echo "=== summary: $verdict"
for line in "${cross_summaries[@]}" "${summaries[@]}"; do
  echo "$line"
done
exit "$failed"
