# Run at install time (install(SCRIPT), see cmake/Packaging.cmake): the files
# that name install paths, written for the prefix of this install
# (`cmake --install build --prefix P`, or CPack's /usr), not the prefix the
# build was configured with:
#
#   - conf.d, under <prefix>/etc/superbot-realtime, or /etc/superbot-realtime
#     for the /usr prefix (as Debian and GNUInstallDirs place /usr's sysconfdir);
#   - the systemd units, naming the installed daemon, conf.d, env file and docs;
#   - superbot-realtime-sdk.pc: absolute paths for /usr (`-I/usr/include`),
#     relative to the .pc file's own place (${pcfiledir}) for any other prefix,
#     so such an install can still be moved as a whole.
#
# Inputs (set by install(CODE) just before): SBR_SOURCE_DIR, SBR_BINARY_DIR,
# SBR_VERSION, SBR_BINDIR, SBR_LIBDIR, SBR_INCLUDEDIR, SBR_SYSCONFDIR,
# SBR_DATADIR, SBR_DOCDIR, SBR_UNITDIR (GNUInstallDirs' relative dirs).

function(sbr_under_prefix out dir)
    if(IS_ABSOLUTE "${dir}")
        set(${out} "${dir}" PARENT_SCOPE)
    else()
        set(${out} "${CMAKE_INSTALL_PREFIX}/${dir}" PARENT_SCOPE)
    endif()
endfunction()

string(REGEX REPLACE "(.)/+$" "\\1" _prefix "${CMAKE_INSTALL_PREFIX}")
if(_prefix STREQUAL "/usr")
    set(_etc "/etc/superbot-realtime")
else()
    sbr_under_prefix(_etc "${SBR_SYSCONFDIR}/superbot-realtime")
endif()
sbr_under_prefix(_bin "${SBR_BINDIR}/superbot-realtime")
sbr_under_prefix(_share "${SBR_DATADIR}/superbot-realtime")
sbr_under_prefix(_doc "${SBR_DOCDIR}")
sbr_under_prefix(_units "${SBR_UNITDIR}")
sbr_under_prefix(_pcdir "${SBR_LIBDIR}/pkgconfig")

# One staging folder per destination, so two installs of one build to two
# prefixes at once (parallel tests) never write each other's files.
string(MD5 _tag "$ENV{DESTDIR}${CMAKE_INSTALL_PREFIX}")
set(_stage "${SBR_BINARY_DIR}/packaging/installed-${_tag}")
file(MAKE_DIRECTORY "${_stage}")

# --- conf.d ------------------------------------------------------------------
file(GLOB _confs "${SBR_SOURCE_DIR}/conf.d/*.conf")
list(SORT _confs)
file(INSTALL DESTINATION "${_etc}/conf.d" TYPE FILE PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
     FILES ${_confs})

# --- systemd units -------------------------------------------------------------
foreach(unit superbot-realtime.service superbot-realtime@.service)
    file(READ "${SBR_SOURCE_DIR}/packaging/${unit}" _text)
    string(REPLACE "/usr/bin/superbot-realtime" "${_bin}" _text "${_text}")
    string(REPLACE "/etc/superbot-realtime" "${_etc}" _text "${_text}")
    string(REPLACE "/usr/share/doc/superbot-realtime" "${_doc}" _text "${_text}")
    string(REPLACE "/usr/share/superbot-realtime" "${_share}" _text "${_text}")
    file(WRITE "${_stage}/${unit}" "${_text}")
    file(INSTALL DESTINATION "${_units}" TYPE FILE PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
         FILES "${_stage}/${unit}")
endforeach()

# --- the SDK's pkg-config file -------------------------------------------------
if(_prefix STREQUAL "/usr")
    set(SBR_PC_PREFIX "/usr")
else()
    file(RELATIVE_PATH _up "/root/${SBR_LIBDIR}/pkgconfig" "/root")
    string(REGEX REPLACE "/$" "" _up "${_up}")
    set(SBR_PC_PREFIX "\${pcfiledir}/${_up}")
endif()
foreach(v INCLUDEDIR LIBDIR)
    if(IS_ABSOLUTE "${SBR_${v}}")
        set(SBR_PC_${v} "${SBR_${v}}")
    else()
        set(SBR_PC_${v} "\${prefix}/${SBR_${v}}")
    endif()
endforeach()
configure_file("${SBR_SOURCE_DIR}/sdk/superbot-realtime-sdk.pc.in" "${_stage}/superbot-realtime-sdk.pc" @ONLY)
file(INSTALL DESTINATION "${_pcdir}" TYPE FILE PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
     FILES "${_stage}/superbot-realtime-sdk.pc")
