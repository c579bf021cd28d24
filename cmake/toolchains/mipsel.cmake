# Cross toolchain: Debian mipsel (32-bit little-endian MIPS, hard-float glibc;
# OpenWrt's musl/soft-float targets differ, see docs/cross-build.md).
# Usage: cmake -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/mipsel.cmake [-DSCEPD_SYSROOT=...]
# (scripts/cross-build.sh mipsel makes the sysroot and does all of this).
set(SCEPD_TRIPLE mipsel-linux-gnu)
set(SCEPD_DEB_ARCH mipsel)
set(SCEPD_QEMU qemu-mipsel)
set(CMAKE_SYSTEM_PROCESSOR mips)
include(${CMAKE_CURRENT_LIST_DIR}/common.cmake)
# No native 64-bit atomics on 32-bit MIPS: std::atomic<int64_t> and friends
# call __atomic_*_8 from libatomic. As a standard library it lands at the end
# of every link line, after the objects, so --as-needed keeps it only where
# it is used.
set(CMAKE_C_STANDARD_LIBRARIES_INIT "-latomic")
set(CMAKE_CXX_STANDARD_LIBRARIES_INIT "-latomic")
