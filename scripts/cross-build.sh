#!/usr/bin/env bash
# Cross-builds scepd for the Debian router architectures and runs the test
# suite under qemu-user.
#
# Usage: scripts/cross-build.sh [armhf|arm64|mipsel|all]...   (default: all)
#        scripts/cross-build.sh --host-packages [ARCH...]
#          prints the host's Debian packages those architectures need (the
#          cross compilers and qemu-user) on one line, and does nothing else
#
# Per architecture:
#   1. a private sysroot of Debian target packages, made once and cached
#      (apt with its own state, lists, archives and empty dpkg status; the
#      host's dpkg and its architectures are never touched: no multiarch);
#   2. cmake -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/ARCH.cmake in
#      build/cross-ARCH, MinSizeRel with SCEPD_SIZE_OPT=ON, build;
#   3. ctest, every target binary run by qemu-ARCH -L SYSROOT;
#   4. stripped sizes of scepd and sscep and their NEEDED libraries.
# Cross compilers and qemu-user are installed first if missing (apt).
#
# Exit status: non-zero if a configure, build or test failed. If the package
# mirror cannot be reached or indexed while making a sysroot, that
# architecture is SKIPPED with a loud message and does not fail the run
# (exit 0 when that is the only problem), so a mirror hiccup cannot block
# the native gate.
#
# Environment:
#   SCEPD_JOBS           build/test parallelism (default 2)
#   SCEPD_SYSROOT_CACHE  where sysroots are cached (default build/sysroots)
#   SCEPD_CROSS_WERROR   1: build with -DSCEPD_WERROR=ON (default OFF)
#   SCEPD_CROSS_SKIP_TESTS 1: build and report sizes only
#   CTEST_ARGS           extra ctest arguments (e.g. CTEST_ARGS="-L core")
#   SCEPD_CROSS_TESTS    curated (default): the tests listed in
#                        tests/cross-tests.txt run only where that file says
#                        (natively only, or under one architecture); all: every
#                        test under every architecture
#   CTEST_TIMEOUT        ctest --timeout for tests without their own (default 900)
#   SCEPD_SKIP_DEPS      1: do not check/install host packages
#   SCEPD_CROSS_DEADLINE epoch seconds by which the run should be over: an
#                        architecture that would end later, at the pace of
#                        the slowest one so far (SCEPD_CROSS_EXPECT seconds,
#                        default 1200, before the first), is SKIPPED (loudly,
#                        not a failure), so that a slow machine cannot push
#                        CI past its time limit
set -euo pipefail
cd "$(dirname "$0")/.."
src=$(pwd)

jobs=${SCEPD_JOBS:-2}
cache=${SCEPD_SYSROOT_CACHE:-build/sysroots}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
read -r -a ctest_extra <<<"${CTEST_ARGS:-}"

# Target packages unpacked into every sysroot (dependencies follow).
sysroot_packages=(
  libc6-dev libstdc++-12-dev
  libssl-dev libcurl4-openssl-dev libinih-dev libspdlog-dev
  libgtest-dev libgmock-dev libcpp-httplib-dev
)

triple_of() {
  case $1 in
    armhf) echo arm-linux-gnueabihf ;;
    arm64) echo aarch64-linux-gnu ;;
    mipsel) echo mipsel-linux-gnu ;;
  esac
}
qemu_of() {
  case $1 in
    armhf) echo qemu-arm ;;
    arm64) echo qemu-aarch64 ;;
    mipsel) echo qemu-mipsel ;;
  esac
}

log() { echo "=== cross-build: $*"; }
loud() {
  echo >&2
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!" >&2
  echo "!!! cross-build: $*" >&2
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!" >&2
  echo >&2
}
now() { date +%s; }

# --- arguments --------------------------------------------------------------
archs=()
print_host_packages=
for a in "${@:-all}"; do
  case $a in
    --host-packages) print_host_packages=1 ;;
    # Most exotic first: if CI's time budget (SCEPD_CROSS_DEADLINE) runs
    # out, the architecture left out is the one closest to the native build.
    all) archs+=(mipsel armhf arm64) ;;
    armhf | arm64 | mipsel) archs+=("$a") ;;
    -h | --help)
      sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "cross-build: unknown architecture '$a' (armhf, arm64, mipsel or all)" >&2
      exit 2
      ;;
  esac
done

((${#archs[@]})) || archs=(mipsel armhf arm64)

# --- host tools -------------------------------------------------------------
host_packages=(qemu-user cmake ninja-build pkg-config)
for a in "${archs[@]}"; do host_packages+=("g++-$(triple_of "$a")"); done
if [[ -n "$print_host_packages" ]]; then
  echo "${host_packages[*]}"
  exit 0
fi
if [[ -z "${SCEPD_SKIP_DEPS:-}" ]]; then
  # The native dependencies too: the integration tests need scepserver.
  scripts/lib/install-deps.sh "${host_packages[@]}"
fi
for tool in cmake ninja pkg-config readelf; do
  command -v "$tool" >/dev/null || { echo "cross-build: $tool not found" >&2; exit 1; }
done

# --- sysroots ---------------------------------------------------------------
# The host's own Debian source entries (deb822 .sources and one-line .list),
# minus the security suite for mipsel (debian-security has no mipsel).
write_sources() {
  local arch=$1 list=$2 sources=$3 out=$2.work
  : >"$out.list"
  : >"$out.sources"
  local f
  if [[ -f /etc/apt/sources.list ]]; then
    grep -E '^[[:space:]]*deb[[:space:]]' /etc/apt/sources.list >>"$out.list" || true
  fi
  for f in /etc/apt/sources.list.d/*.list; do
    [[ -f $f ]] && { grep -E '^[[:space:]]*deb[[:space:]]' "$f" >>"$out.list" || true; }
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f $f ]] && { cat "$f"; echo; } >>"$out.sources"
  done
  # Only Debian's own archive: drop third-party repositories (they have no
  # target packages and may not be reachable).
  grep -E 'debian' "$out.list" >"$out.list.tmp" || true
  mv "$out.list.tmp" "$out.list"
  awk -v RS= -v ORS='\n\n' '/URIs:[^\n]*debian/' "$out.sources" >"$out.sources.tmp"
  mv "$out.sources.tmp" "$out.sources"
  if [[ $arch == mipsel ]]; then
    grep -v -- '-security' "$out.list" >"$out.list.tmp" || true
    mv "$out.list.tmp" "$out.list"
    awk -v RS= -v ORS='\n\n' '!/-security/' "$out.sources" >"$out.sources.tmp"
    mv "$out.sources.tmp" "$out.sources"
  fi
  mv "$out.list" "$list"
  mv "$out.sources" "$sources"
}

summaries=()
sysroot_notes=()

# make_sysroot ARCH: 0 ready, 1 error, 3 mirror unreachable / not indexable.
make_sysroot() {
  local arch=$1
  local sysroot=$cache/$arch
  local stamp_want
  # The first line versions the sysroot layout (2: with .scepd-packages).
  stamp_want="$(printf '%s\n' "layout 2" "${sysroot_packages[@]}")"
  if [[ -f $sysroot/.scepd-sysroot ]] && [[ "$(cat "$sysroot/.scepd-sysroot")" == "$stamp_want" ]]; then
    log "[$arch] sysroot cached: $sysroot"
    return 0
  fi
  log "[$arch] making sysroot $sysroot"
  local t0 work apt_dir
  t0=$(now)
  work=$cache/.apt-$arch
  apt_dir=$work/etc
  rm -rf "$work" "$sysroot.new"
  mkdir -p "$apt_dir/sources.list.d" "$apt_dir/preferences.d" "$work/lists/partial" \
    "$work/archives/partial" "$work/state" "$sysroot.new"
  : >"$work/state/status"
  write_sources "$arch" "$apt_dir/host.list" "$apt_dir/sources.list.d/host.sources"
  local apt=(apt-get -q
    -o "APT::Architecture=$arch" -o "APT::Architectures::=$arch"
    -o "Dir::State=$work/state" -o "Dir::State::status=$work/state/status"
    -o "Dir::State::Lists=$work/lists"
    -o "Dir::Cache=$work/cache" -o "Dir::Cache::Archives=$work/archives"
    -o "Dir::Etc::SourceList=$apt_dir/host.list"
    -o "Dir::Etc::SourceParts=$apt_dir/sources.list.d"
    -o "Dir::Etc::Preferences=$apt_dir/preferences"
    -o "Dir::Etc::PreferencesParts=$apt_dir/preferences.d"
    -o "APT::Sandbox::User=root"
    -o "APT::Install-Recommends=false"
    -o "Debug::NoLocking=true")
  mkdir -p "$work/cache"

  local attempt ok=0
  for attempt in 1 2 3; do
    if "${apt[@]}" --error-on=any update >"$work/update.log" 2>&1; then
      ok=1
      break
    fi
    cat "$work/update.log" >&2
    # Only the security suite failed to index (seen here: a stale armhf
    # Packages.xz, "File has unexpected size"): build from the main suites
    # alone, which hold every package; security updates do not change the
    # ABI the sysroot is for. Said loudly, remembered in the summary.
    if grep -q '^E: Failed to fetch' "$work/update.log" &&
      ! grep '^E: Failed to fetch' "$work/update.log" | grep -qv -- '-security'; then
      loud "[$arch] the security suite cannot be indexed: making the sysroot WITHOUT bookworm-security"
      grep -v -- '-security' "$apt_dir/host.list" >"$apt_dir/host.list.tmp" || true
      mv "$apt_dir/host.list.tmp" "$apt_dir/host.list"
      awk -v RS= -v ORS='\n\n' '!/-security/' "$apt_dir/sources.list.d/host.sources" \
        >"$apt_dir/host.sources.tmp"
      mv "$apt_dir/host.sources.tmp" "$apt_dir/sources.list.d/host.sources"
      sysroot_notes+=("[$arch] sysroot made without the security suite (it could not be indexed)")
      continue
    fi
    [[ $attempt -lt 3 ]] && sleep 5
  done
  if [[ $ok -ne 1 ]]; then
    loud "[$arch] cannot reach or index the Debian package mirror (apt-get update failed): SKIPPING $arch"
    return 3
  fi
  if ! "${apt[@]}" install -y --download-only "${sysroot_packages[@]}" >"$work/download.log" 2>&1; then
    cat "$work/download.log" >&2
    if grep -qE 'Failed to fetch|Unable to fetch|Could not resolve|Temporary failure|Connection failed|Hash Sum mismatch|File has unexpected size' "$work/download.log"; then
      loud "[$arch] cannot download target packages from the Debian package mirror: SKIPPING $arch"
      return 3
    fi
    echo "cross-build: [$arch] apt could not resolve the target packages (see above)" >&2
    return 1
  fi
  local deb n=0
  for deb in "$work"/archives/*.deb; do
    dpkg-deb -x "$deb" "$sysroot.new"
    # "package version" lines: the cross .deb's Depends are made from these
    # (packaging/CMakeLists.txt), as dpkg-shlibdeps cannot see the sysroot.
    dpkg-deb -f "$deb" Package Version | tr '\n' ' ' | sed 's/Package: //; s/ Version: / /; s/ *$/\n/' \
      >>"$sysroot.new/.scepd-packages"
    n=$((n + 1))
  done
  # Absolute symlinks (/lib/..., /usr/lib/...) point into the host: make them
  # relative so they resolve inside the sysroot, for the linker and for qemu.
  local link target
  while IFS= read -r -d '' link; do
    target=$(readlink "$link")
    if [[ $target == /* ]]; then
      ln -sfn "$(realpath -s -m --relative-to="$(dirname "$link")" "$sysroot.new$target")" "$link"
    fi
  done < <(find "$sysroot.new" -type l -print0)
  printf '%s\n' "$stamp_want" >"$sysroot.new/.scepd-sysroot"
  rm -rf "$sysroot"
  mv "$sysroot.new" "$sysroot"
  rm -rf "$work/archives" "$work/lists" "$work/cache"
  log "[$arch] sysroot ready: $n packages, $(du -sh "$sysroot" | cut -f1), $(($(now) - t0)) s"
  return 0
}

# --- per architecture ---------------------------------------------------------
failed=0
report_sizes() {
  local arch=$1 dir=$2 triple
  triple=$(triple_of "$arch")
  local bin stripped
  for bin in daemon/scepd cli/sscep; do
    [[ -f $dir/$bin ]] || continue
    stripped=$dir/$(basename "$bin").stripped
    "$triple-strip" -o "$stripped" "$dir/$bin"
    printf '%s [%s] %-6s stripped %8d bytes (%s KiB)  NEEDED: %s\n' "===" "$arch" \
      "$(basename "$bin")" "$(stat -c %s "$stripped")" "$(($(stat -c %s "$stripped") / 1024))" \
      "$(readelf -d "$dir/$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')"
  done
}

# The longest an architecture has taken in this run (seconds): how long the
# next one is expected to take.
# excluded_tests ARCH: the ctest -E regex of the tests that tests/cross-tests.txt
# keeps away from ARCH (those marked "native", and those given to another
# architecture); empty when none.
excluded_tests() {
  awk -v arch="$1" '
    /^[[:space:]]*(#|$)/ { next }
    $2 != arch { printf "%s%s", (n++ ? "|" : ""), $1 }
  ' "$src/tests/cross-tests.txt"
}

longest=0
for arch in "${archs[@]}"; do
  t_arch=$(now)
  expected=$((longest > 0 ? longest : ${SCEPD_CROSS_EXPECT:-1200}))
  if [[ -n "${SCEPD_CROSS_DEADLINE:-}" ]] && ((t_arch + expected > SCEPD_CROSS_DEADLINE)); then
    loud "[$arch] would end after SCEPD_CROSS_DEADLINE (about $expected s, $((SCEPD_CROSS_DEADLINE - t_arch)) s left): SKIPPING $arch"
    summaries+=("[$arch] SKIPPED: not enough time left in the budget (not a test failure)")
    continue
  fi
  triple=$(triple_of "$arch")
  dir=build/cross-$arch
  rc=0
  make_sysroot "$arch" || rc=$?
  if [[ $rc -eq 3 ]]; then
    summaries+=("[$arch] SKIPPED: package mirror unreachable or not indexable (not a test failure)")
    continue
  elif [[ $rc -ne 0 ]]; then
    summaries+=("[$arch] SYSROOT FAILED")
    failed=1
    continue
  fi
  sysroot=$cache/$arch
  command -v "$(qemu_of "$arch")" >/dev/null || { echo "cross-build: $(qemu_of "$arch") missing" >&2; exit 1; }

  log "[$arch] configure $dir"
  werror=OFF
  [[ -n "${SCEPD_CROSS_WERROR:-}" ]] && werror=ON
  launcher=()
  if command -v ccache >/dev/null; then
    launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  fi
  if ! cmake -S "$src" -B "$dir" -G Ninja "${launcher[@]}" \
    -DCMAKE_TOOLCHAIN_FILE="$src/cmake/toolchains/$arch.cmake" -DSCEPD_SYSROOT="$sysroot" \
    -DCMAKE_BUILD_TYPE=MinSizeRel -DSCEPD_SIZE_OPT=ON -DSCEPD_WERROR=$werror \
    -DSCEPD_BUILD_TESTS=ON; then
    summaries+=("[$arch] CONFIGURE FAILED")
    failed=1
    continue
  fi
  log "[$arch] build"
  t0=$(now)
  if ! cmake --build "$dir" -j "$jobs" 2>&1 | tee "$dir/build.log"; then
    summaries+=("[$arch] BUILD FAILED (see the compiler errors above)")
    failed=1
    continue
  fi
  t_build=$(($(now) - t0))
  warnings=$(grep -c 'warning:' "$dir/build.log" || true)
  report_sizes "$arch" "$dir" | tee "$dir/sizes.txt"

  if [[ -n "${SCEPD_CROSS_SKIP_TESTS:-}" ]]; then
    summaries+=("[$arch] built in ${t_build} s ($warnings warnings), tests not run (SCEPD_CROSS_SKIP_TESTS)")
    continue
  fi
  subset=()
  if [[ ${SCEPD_CROSS_TESTS:-curated} != all ]]; then
    excluded=$(excluded_tests "$arch")
    [[ -z $excluded ]] || subset=(-E "$excluded")
  fi
  log "[$arch] ctest under $(qemu_of "$arch") -L $sysroot ${subset[*]}"
  t0=$(now)
  rc=0
  ctest --test-dir "$dir" --output-on-failure --no-tests=error -j "$jobs" \
    --timeout "${CTEST_TIMEOUT:-900}" "${subset[@]}" "${ctest_extra[@]}" 2>&1 | tee "$dir/ctest.log" || rc=$?
  summary=$(grep -E 'tests passed|No tests were found' "$dir/ctest.log" | tail -n 1 || true)
  # ctest's own summary last on the line, as CI reads it.
  summaries+=("[$arch] build ${t_build} s, $warnings warnings, ctest $(($(now) - t0)) s, total $(($(now) - t_arch)) s: ${summary:-no ctest summary (exit $rc)}")
  [[ $rc -eq 0 ]] || failed=1
  took=$(($(now) - t_arch))
  if ((took > longest)); then longest=$took; fi
done

echo
verdict=OK
[[ $failed -eq 0 ]] || verdict=FAILED
log "summary: $verdict"
for line in "${summaries[@]}" "${sysroot_notes[@]}"; do echo "$line"; done
for arch in "${archs[@]}"; do
  [[ -f build/cross-$arch/sizes.txt ]] && cat "build/cross-$arch/sizes.txt"
done
exit "$failed"
