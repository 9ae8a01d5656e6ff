# sbr_add_plugin(NAME SOURCES file... [LIBS lib...] [INCLUDES dir...])
# Builds plugins/<NAME>.so next to the daemon and installs it to the plugin dir.
function(sbr_add_plugin name)
    cmake_parse_arguments(P "" "" "SOURCES;LIBS;INCLUDES" ${ARGN})
    add_library(plugin-${name} MODULE ${P_SOURCES})
    set_target_properties(plugin-${name} PROPERTIES
        OUTPUT_NAME ${name}
        PREFIX ""
        LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/plugins
        C_VISIBILITY_PRESET hidden)
    target_include_directories(plugin-${name} PRIVATE ${PROJECT_SOURCE_DIR}/sdk/include ${P_INCLUDES})
    target_link_libraries(plugin-${name} PRIVATE ${P_LIBS})
    install(TARGETS plugin-${name} LIBRARY DESTINATION ${SBR_INSTALL_PLUGIN_DIR})
endfunction()
