# Shared part of the scepd cross toolchains (armhf.cmake, arm64.cmake,
# mipsel.cmake set SCEPD_TRIPLE, SCEPD_DEB_ARCH, SCEPD_QEMU and
# CMAKE_SYSTEM_PROCESSOR, then include this file).
#
# The sysroot is a private tree of Debian packages for the target made by
# scripts/cross-build.sh (never dpkg multiarch). It is taken from, in order:
# the cache variable SCEPD_SYSROOT, the environment variable SCEPD_SYSROOT,
# or <source>/build/sysroots/<debian-arch>.
set(CMAKE_SYSTEM_NAME Linux)

if(NOT SCEPD_SYSROOT)
  if(DEFINED ENV{SCEPD_SYSROOT} AND NOT "$ENV{SCEPD_SYSROOT}" STREQUAL "")
    set(SCEPD_SYSROOT "$ENV{SCEPD_SYSROOT}")
  else()
    get_filename_component(SCEPD_SYSROOT
      "${CMAKE_CURRENT_LIST_DIR}/../../build/sysroots/${SCEPD_DEB_ARCH}" ABSOLUTE)
  endif()
endif()
if(NOT EXISTS "${SCEPD_SYSROOT}/usr/include")
  message(FATAL_ERROR "scepd ${SCEPD_DEB_ARCH} toolchain: no sysroot at '${SCEPD_SYSROOT}' "
    "(run scripts/cross-build.sh ${SCEPD_DEB_ARCH}, or set SCEPD_SYSROOT)")
endif()
set(SCEPD_SYSROOT "${SCEPD_SYSROOT}" CACHE PATH "Target sysroot (Debian ${SCEPD_DEB_ARCH} packages)")
# try_compile projects re-read this file: hand them the same sysroot.
set(ENV{SCEPD_SYSROOT} "${SCEPD_SYSROOT}")
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES SCEPD_SYSROOT)

set(CMAKE_C_COMPILER ${SCEPD_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${SCEPD_TRIPLE}-g++)
set(CMAKE_LIBRARY_ARCHITECTURE ${SCEPD_TRIPLE})

set(CMAKE_SYSROOT "${SCEPD_SYSROOT}")
set(CMAKE_FIND_ROOT_PATH "${SCEPD_SYSROOT}")
# Host programs (pkg-config, qemu, strip...) from the host; everything the
# target links or includes only from the sysroot.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# pkg-config (inih, cpp-httplib, and FindCURL's first try) reads only the
# sysroot's .pc files and prefixes their paths with the sysroot.
set(ENV{PKG_CONFIG_SYSROOT_DIR} "${SCEPD_SYSROOT}")
set(ENV{PKG_CONFIG_LIBDIR}
  "${SCEPD_SYSROOT}/usr/lib/${SCEPD_TRIPLE}/pkgconfig:${SCEPD_SYSROOT}/usr/lib/pkgconfig:${SCEPD_SYSROOT}/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")

# ctest and gtest_discover_tests run target binaries under qemu-user with the
# sysroot's dynamic loader and libraries (no binfmt_misc needed). Programs
# that the tests exec() by path do NOT go through this (see docs/cross-build.md).
set(CMAKE_CROSSCOMPILING_EMULATOR ${SCEPD_QEMU} -L "${SCEPD_SYSROOT}")
