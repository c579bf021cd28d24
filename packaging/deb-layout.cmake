# Run by CPack (CPACK_PRE_BUILD_SCRIPTS) on the staged package tree before it
# is packed. The project installs its settings and init script into the
# prefix's etc/ (usr/etc here); a Debian package keeps them in /etc.
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
