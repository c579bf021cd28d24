# Run by CPack (CPACK_PRE_BUILD_SCRIPTS) on the staged package tree before it
# is packed. The project installs its settings and init script into the
# prefix's etc/ (usr/etc here); a Debian package keeps them in /etc. Then the
# Debian-only parts: FHS paths in the settings, compressed manuals, the
# copyright file, the changelog and the lintian overrides.
# Debian only: the source tarball (CPackSourceConfig.cmake) is left as it is.
if(NOT CPACK_GENERATOR STREQUAL "DEB")
  return()
endif()
set(root "${CPACK_TEMPORARY_INSTALL_DIRECTORY}")
file(GLOB_RECURSE staged_etc LIST_DIRECTORIES false RELATIVE "${CPACK_TEMPORARY_INSTALL_DIRECTORY}"
  "${CPACK_TEMPORARY_INSTALL_DIRECTORY}/usr/etc/*")
foreach(rel IN LISTS staged_etc)
  string(REGEX REPLACE "^usr/etc/" "etc/" target "${rel}")
  get_filename_component(dir "${CPACK_TEMPORARY_INSTALL_DIRECTORY}/${target}" DIRECTORY)
  file(MAKE_DIRECTORY "${dir}")
  file(RENAME "${CPACK_TEMPORARY_INSTALL_DIRECTORY}/${rel}"
    "${CPACK_TEMPORARY_INSTALL_DIRECTORY}/${target}")
endforeach()
if(EXISTS "${CPACK_TEMPORARY_INSTALL_DIRECTORY}/usr/etc")
  file(REMOVE_RECURSE "${CPACK_TEMPORARY_INSTALL_DIRECTORY}/usr/etc")
endif()
if(NOT EXISTS "${CPACK_TEMPORARY_INSTALL_DIRECTORY}/etc/scepd.conf")
  message(FATAL_ERROR "deb-layout: etc/scepd.conf is not in the staged tree "
    "(${CPACK_TEMPORARY_INSTALL_DIRECTORY})")
endif()

# The Debian package keeps state in /var/lib/scepd and runtime files in
# /run/scepd (the systemd unit's StateDirectory= and RuntimeDirectory=); the
# generic defaults (/var/data/scepClient, the Router App's) stay in the code.
file(READ "${root}/etc/scepd.conf" conf)
# "OLD=>NEW": the commented-out default line ";OLD" becomes the setting NEW.
foreach(pair "data_dir = /var/data/scepClient=>data_dir = /var/lib/scepd"
             "run_dir = /var/run/scepClient=>run_dir = /run/scepd")
  string(REGEX MATCH "^(.*)=>(.*)$" matched "${pair}")
  set(old "${CMAKE_MATCH_1}")
  set(new "${CMAKE_MATCH_2}")
  string(REGEX MATCH "\n[;]${old}\n" found "${conf}")
  if(NOT found)
    message(FATAL_ERROR "deb-layout: etc/scepd.conf has no line ';${old}' to set '${new}'")
  endif()
  string(REGEX REPLACE "\n[;]${old}\n" "\n${new}\n" conf "${conf}")
endforeach()
file(WRITE "${root}/etc/scepd.conf" "${conf}")

# Manual pages gzip-compressed (-n: no name or time stamp, reproducible).
file(GLOB_RECURSE pages "${root}/usr/share/man/*")
foreach(page IN LISTS pages)
  if(NOT page MATCHES "[.]gz$")
    execute_process(COMMAND gzip -9n "${page}" RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "deb-layout: gzip ${page} failed")
    endif()
  endif()
endforeach()

set(doc "${root}/usr/share/doc/scepd")
file(MAKE_DIRECTORY "${doc}" "${root}/usr/share/lintian/overrides")
file(COPY_FILE "${CPACK_SCEPD_DEB_SOURCE_DIR}/copyright" "${doc}/copyright")
file(COPY_FILE "${CPACK_SCEPD_DEB_BINARY_DIR}/changelog" "${doc}/changelog")
execute_process(COMMAND gzip -9nf "${doc}/changelog" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "deb-layout: gzip changelog failed")
endif()
file(COPY_FILE "${CPACK_SCEPD_DEB_SOURCE_DIR}/lintian-overrides"
  "${root}/usr/share/lintian/overrides/scepd")
# Modes as dpkg expects them (the staging tree keeps the umask's).
file(GLOB_RECURSE shipped "${doc}/*" "${root}/usr/share/lintian/*" "${root}/usr/share/man/*")
foreach(f IN LISTS shipped)
  file(CHMOD "${f}" PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
endforeach()
