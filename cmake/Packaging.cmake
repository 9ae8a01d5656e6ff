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
# The committed units name /usr/bin and /etc/superbot-realtime; an install
# to another prefix writes that prefix's paths into them.

set(SBR_SYSTEMD_UNIT_DIR "lib/systemd/system" CACHE STRING
    "Where the systemd units are installed (relative: under the install prefix)")
set(SBR_PACKAGE_MAINTAINER "superbot-realtime maintainers <realtime@superbot.invalid>" CACHE STRING
    "Maintainer field of the Debian package")

# conf.d, the systemd units and the SDK's .pc file name install paths: they
# are written at install time for the prefix of that install, so
# `cmake --install build --prefix P` gives units that start P/bin's daemon
# (cmake/InstallConfigured.cmake).
install(CODE "
set(SBR_SOURCE_DIR \"${PROJECT_SOURCE_DIR}\")
set(SBR_BINARY_DIR \"${CMAKE_BINARY_DIR}\")
set(SBR_VERSION \"${PROJECT_VERSION}\")
set(SBR_BINDIR \"${CMAKE_INSTALL_BINDIR}\")
set(SBR_LIBDIR \"${CMAKE_INSTALL_LIBDIR}\")
set(SBR_INCLUDEDIR \"${CMAKE_INSTALL_INCLUDEDIR}\")
set(SBR_SYSCONFDIR \"${CMAKE_INSTALL_SYSCONFDIR}\")
set(SBR_DATADIR \"${CMAKE_INSTALL_DATADIR}\")
set(SBR_DOCDIR \"${CMAKE_INSTALL_DOCDIR}\")
set(SBR_UNITDIR \"${SBR_SYSTEMD_UNIT_DIR}\")
")
install(SCRIPT ${PROJECT_SOURCE_DIR}/cmake/InstallConfigured.cmake)
# For the package's conffiles: where the /usr prefix puts conf.d.
set(_sbr_etc_dir "${CMAKE_INSTALL_FULL_SYSCONFDIR}/superbot-realtime")

# --- operator files and guides ---------------------------------------------
install(FILES packaging/superbot-realtime.env.example
        DESTINATION ${CMAKE_INSTALL_DATADIR}/superbot-realtime RENAME env.example)
install(FILES packaging/prometheus/alerts.yml packaging/prometheus/alerts.test.yml
        DESTINATION ${CMAKE_INSTALL_DATADIR}/superbot-realtime/prometheus)
install(FILES packaging/grafana/superbot-realtime.json
        DESTINATION ${CMAKE_INSTALL_DATADIR}/superbot-realtime/grafana)
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

# The package's copyright (machine-readable, DEP-5) and its Debian changelog,
# compressed as Debian wants it (gzip -9n: no name or time, reproducible).
install(FILES packaging/debian/copyright DESTINATION ${CMAKE_INSTALL_DOCDIR})
set(SBR_PACKAGE_RELEASE 1)
string(TIMESTAMP _sbr_changelog_date "%a, %d %b %Y %H:%M:%S +0000" UTC)
file(CONFIGURE OUTPUT ${CMAKE_BINARY_DIR}/packaging/debian/changelog.Debian CONTENT
"superbot-realtime (${PROJECT_VERSION}-${SBR_PACKAGE_RELEASE}) unstable; urgency=medium

  * Package of superbot-realtime ${PROJECT_VERSION}; what changed is in
    /usr/share/doc/superbot-realtime/CHANGELOG.md.

 -- ${SBR_PACKAGE_MAINTAINER}  ${_sbr_changelog_date}
")
find_program(SBR_GZIP gzip REQUIRED)
execute_process(COMMAND ${SBR_GZIP} -9nc
                INPUT_FILE ${CMAKE_BINARY_DIR}/packaging/debian/changelog.Debian
                OUTPUT_FILE ${CMAKE_BINARY_DIR}/packaging/debian/changelog.Debian.gz
                RESULT_VARIABLE _sbr_gzip_rc)
if(NOT _sbr_gzip_rc EQUAL 0)
    message(FATAL_ERROR "gzip failed (${_sbr_gzip_rc}) on packaging/debian/changelog.Debian")
endif()
install(FILES ${CMAKE_BINARY_DIR}/packaging/debian/changelog.Debian.gz DESTINATION ${CMAKE_INSTALL_DOCDIR})

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
set(CPACK_DEBIAN_PACKAGE_RELEASE ${SBR_PACKAGE_RELEASE})
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

set(CPACK_GENERATOR "DEB")
set(CPACK_SOURCE_GENERATOR "TGZ")
set(CPACK_SOURCE_IGNORE_FILES "/\\\\.git/" "/build[^/]*/" "/node_modules/" "\\\\.so$" "\\\\.o$" "/\\\\.env$")
include(CPack)
