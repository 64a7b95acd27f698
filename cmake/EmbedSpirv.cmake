# convscope_embed_spirv(): compile GLSL compute shaders with glslc at build time and embed the
# SPIR-V words in a generated C++ source, so no shader file is looked up at run time.
#
#   convscope_embed_spirv(TARGET <lib> SHADERS <name>:<file.comp>[:<-Ddefine,...>] ...)
#
# Each entry makes one symbol `convscope::spirv::<name>` (a std::span<const uint32_t>).
function(convscope_embed_spirv)
  cmake_parse_arguments(ARG "" "TARGET" "SHADERS" ${ARGN})
  set(gen_dir ${CMAKE_CURRENT_BINARY_DIR}/spirv)
  file(MAKE_DIRECTORY ${gen_dir})
  set(sources "")
  set(decls "")
  foreach(entry IN LISTS ARG_SHADERS)
    string(REPLACE ":" ";" parts "${entry}")
    list(GET parts 0 name)
    list(GET parts 1 file)
    set(defines "")
    list(LENGTH parts n)
    if(n GREATER 2)
      list(GET parts 2 defs)
      string(REPLACE "," ";" defines "${defs}")
    endif()
    set(src ${CMAKE_CURRENT_SOURCE_DIR}/${file})
    set(spv ${gen_dir}/${name}.spv)
    set(cpp ${gen_dir}/${name}.cpp)
    add_custom_command(
      OUTPUT ${spv}
      COMMAND ${GLSLC} --target-env=vulkan1.1 -O -Werror ${defines} -MD -MF ${spv}.d -o ${spv} ${src}
      DEPENDS ${src}
      DEPFILE ${spv}.d
      COMMENT "glslc ${file} -> ${name}.spv"
      VERBATIM)
    add_custom_command(
      OUTPUT ${cpp}
      COMMAND ${CMAKE_COMMAND} -DSPV=${spv} -DOUT=${cpp} -DNAME=${name}
              -P ${PROJECT_SOURCE_DIR}/cmake/SpirvToCpp.cmake
      DEPENDS ${spv} ${PROJECT_SOURCE_DIR}/cmake/SpirvToCpp.cmake
      VERBATIM)
    list(APPEND sources ${cpp})
    string(APPEND decls "extern const std::span<const std::uint32_t> ${name};\n")
  endforeach()
  file(WRITE ${gen_dir}/spirv.h.in
       "// Generated: SPIR-V words of every compute shader, compiled by glslc at build time.\n"
       "#pragma once\n#include <cstdint>\n#include <span>\nnamespace convscope::spirv {\n${decls}}\n")
  configure_file(${gen_dir}/spirv.h.in ${gen_dir}/convscope_spirv.h COPYONLY)
  target_sources(${ARG_TARGET} PRIVATE ${sources})
  target_include_directories(${ARG_TARGET} PUBLIC ${gen_dir})
endfunction()
