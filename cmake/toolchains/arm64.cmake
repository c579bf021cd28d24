# Cross toolchain: Debian arm64 (AArch64, LP64).
# Usage: cmake -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/arm64.cmake [-DSCEPD_SYSROOT=...]
# (scripts/cross-build.sh arm64 makes the sysroot and does all of this).
set(SCEPD_TRIPLE aarch64-linux-gnu)
set(SCEPD_DEB_ARCH arm64)
set(SCEPD_QEMU qemu-aarch64)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
include(${CMAKE_CURRENT_LIST_DIR}/common.cmake)
