# Installation of the systemd units, the operator files and the guides, and
# the Debian package (CPack).  Included by the top-level CMakeLists.txt after
# every other install rule.
#
# A package for /usr:
#
#     cmake -S . -B build-pkg -DCMAKE_INSTALL_PREFIX=/usr -DSUPERBOT_TESTS=OFF
#     cmake --build build-pkg
#     (cd build-pkg && cpack -G DEB)
#
# The committed units name /usr/bin and /etc/superbot-realtime; for another
# prefix they are installed with that prefix's paths.

set(SBR_SYSTEMD_UNIT_DIR "lib/systemd/system" CACHE STRING
    "Where the systemd units are installed (relative: under the install prefix)")
set(SBR_PACKAGE_MAINTAINER "superbot-realtime maintainers <realtime@superbot.invalid>" CACHE STRING
    "Maintainer field of the Debian package")

# The daemon's compiled-in conf dir (see SBR_INSTALL_CONF_DIR in CMakeLists.txt):
# /etc/superbot-realtime/conf.d for the /usr prefix, as GNUInstallDirs maps
# /usr's sysconfdir to /etc.
set(_sbr_etc_dir "${CMAKE_INSTALL_FULL_SYSCONFDIR}/superbot-realtime")
set(_sbr_bin "${CMAKE_INSTALL_FULL_BINDIR}/superbot-realtime")

# --- systemd units: the committed files, with this prefix's paths ----------
foreach(unit superbot-realtime.service superbot-realtime@.service)
    file(READ ${PROJECT_SOURCE_DIR}/packaging/${unit} _sbr_unit)
    string(REPLACE "/usr/bin/superbot-realtime" "${_sbr_bin}" _sbr_unit "${_sbr_unit}")
    string(REPLACE "/etc/superbot-realtime" "${_sbr_etc_dir}" _sbr_unit "${_sbr_unit}")
    file(CONFIGURE OUTPUT ${CMAKE_BINARY_DIR}/packaging/${unit} CONTENT "${_sbr_unit}" @ONLY)
    install(FILES ${CMAKE_BINARY_DIR}/packaging/${unit} DESTINATION ${SBR_SYSTEMD_UNIT_DIR})
endforeach()
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
    ${PROJECT_SOURCE_DIR}/packaging/superbot-realtime.service
    ${PROJECT_SOURCE_DIR}/packaging/superbot-realtime@.service)

# --- operator files and guides ---------------------------------------------
install(FILES packaging/superbot-realtime.env.example
        DESTINATION ${CMAKE_INSTALL_DATADIR}/superbot-realtime RENAME env.example)
foreach(doc README.md CHANGELOG.md docs/PROTOCOL.md docs/PLUGINS.md docs/OPERATIONS.md docs/BENCHMARKS.md)
    if(EXISTS ${PROJECT_SOURCE_DIR}/${doc})
        install(FILES ${doc} DESTINATION ${CMAKE_INSTALL_DOCDIR})
    endif()
endforeach()
if(EXISTS ${PROJECT_SOURCE_DIR}/sdk/examples)
    install(DIRECTORY sdk/examples/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples
            FILES_MATCHING PATTERN "*.c" PATTERN "*.h" PATTERN "Makefile" PATTERN "*.conf" PATTERN "*.md"
            PATTERN "CMakeLists.txt" EXCLUDE)
endif()

# --- the Debian package --------------------------------------------------
set(CPACK_PACKAGE_NAME "superbot-realtime")
set(CPACK_PACKAGE_VENDOR "superbot")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_CONTACT "${SBR_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Realtime gateway of the superbot chat application")
set(CPACK_PACKAGE_DESCRIPTION
"A Socket.IO (Engine.IO v4, Socket.IO v5) gateway written in C on libevent:
realtime tokens, presence, typing indicators, slow mode and event fan-out
across workers through Redis, with its features as plugins loaded through a
stable C SDK.  Ships systemd units for one or N workers and the plugin SDK
(headers and pkg-config file).")
set(CPACK_PACKAGING_INSTALL_PREFIX "${CMAKE_INSTALL_PREFIX}")
set(CPACK_STRIP_FILES ON)

set(CPACK_DEBIAN_PACKAGE_NAME "superbot-realtime")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_SECTION "net")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
# Runtime libraries.  libevent-2.1-7 is the whole of libevent (core, and the
# "extra" part with evhttp), which is what -levent links; auth-jwt needs
# libjwt, bus-redis hiredis.  With dpkg-shlibdeps (dpkg-dev) the list is
# computed from what the daemon and the plugins really link, with exact
# version floors; without it, this list is used.
find_program(SBR_DPKG_SHLIBDEPS dpkg-shlibdeps)
if(SBR_DPKG_SHLIBDEPS)
    set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
else()
    set(CPACK_DEBIAN_PACKAGE_DEPENDS
        "libc6 (>= 2.34), libevent-2.1-7 (>= 2.1.8), libjansson4 (>= 2.14), libjwt0 (>= 1.10), libhiredis0.14 (>= 0.14)")
endif()
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "redis-server, nginx")

# conffiles: every default conf.d file, so dpkg keeps the operator's edits.
file(GLOB _sbr_conf_files RELATIVE ${PROJECT_SOURCE_DIR}/conf.d CONFIGURE_DEPENDS
     ${PROJECT_SOURCE_DIR}/conf.d/*.conf)
list(SORT _sbr_conf_files)
set(_sbr_conffiles "")
foreach(f ${_sbr_conf_files})
    string(APPEND _sbr_conffiles "${_sbr_etc_dir}/conf.d/${f}\n")
endforeach()
file(CONFIGURE OUTPUT ${CMAKE_BINARY_DIR}/packaging/debian/conffiles CONTENT "${_sbr_conffiles}")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_BINARY_DIR}/packaging/debian/conffiles
    ${PROJECT_SOURCE_DIR}/packaging/debian/postinst
    ${PROJECT_SOURCE_DIR}/packaging/debian/prerm
    ${PROJECT_SOURCE_DIR}/packaging/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

# With the /usr prefix the daemon reads /etc/superbot-realtime/conf.d, while
# the relative install rule of conf.d stages it under usr/etc: move it to etc/
# before the package is built.
if(NOT IS_ABSOLUTE "${CMAKE_INSTALL_SYSCONFDIR}"
   AND NOT "${CMAKE_INSTALL_FULL_SYSCONFDIR}" STREQUAL "${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_SYSCONFDIR}")
    file(RELATIVE_PATH _sbr_staged_etc "/" "${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_SYSCONFDIR}")
    file(RELATIVE_PATH _sbr_real_etc "/" "${CMAKE_INSTALL_FULL_SYSCONFDIR}")
    file(CONFIGURE OUTPUT ${CMAKE_BINARY_DIR}/packaging/cpack-sysconfdir.cmake CONTENT [[
# Generated by cmake/Packaging.cmake: @_sbr_staged_etc@ -> @_sbr_real_etc@ in the staged tree.
file(GLOB _roots LIST_DIRECTORIES true "${CPACK_TEMPORARY_DIRECTORY}" "${CPACK_TEMPORARY_DIRECTORY}/*")
foreach(root ${_roots})
    if(IS_DIRECTORY "${root}/@_sbr_staged_etc@")
        file(MAKE_DIRECTORY "${root}/@_sbr_real_etc@")
        file(GLOB _entries RELATIVE "${root}/@_sbr_staged_etc@" "${root}/@_sbr_staged_etc@/*")
        foreach(e ${_entries})
            file(RENAME "${root}/@_sbr_staged_etc@/${e}" "${root}/@_sbr_real_etc@/${e}")
        endforeach()
        file(REMOVE_RECURSE "${root}/@_sbr_staged_etc@")
    endif()
endforeach()
]] @ONLY)
    set(CPACK_PRE_BUILD_SCRIPTS ${CMAKE_BINARY_DIR}/packaging/cpack-sysconfdir.cmake)
endif()

set(CPACK_GENERATOR "DEB")
set(CPACK_SOURCE_GENERATOR "TGZ")
set(CPACK_SOURCE_IGNORE_FILES "/\\\\.git/" "/build[^/]*/" "/node_modules/" "\\\\.so$" "\\\\.o$" "/\\\\.env$")
include(CPack)
