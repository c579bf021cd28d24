# Cross toolchain: Debian armhf (ARMv7 hard-float, 32-bit time_t and size_t).
# Usage: cmake -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/armhf.cmake [-DSCEPD_SYSROOT=...]
# (scripts/cross-build.sh armhf makes the sysroot and does all of this).
set(SCEPD_TRIPLE arm-linux-gnueabihf)
set(SCEPD_DEB_ARCH armhf)
set(SCEPD_QEMU qemu-arm)
set(CMAKE_SYSTEM_PROCESSOR arm)
include(${CMAKE_CURRENT_LIST_DIR}/common.cmake)
