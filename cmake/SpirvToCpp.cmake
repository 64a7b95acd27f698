# Turns one .spv file into a .cpp that defines its words (run by convscope_embed_spirv).
file(READ ${SPV} hex HEX)
string(LENGTH "${hex}" len)
math(EXPR rem "${len} % 8")
if(NOT rem EQUAL 0)
  message(FATAL_ERROR "${SPV}: size is not a multiple of 4 bytes")
endif()
# SPIR-V is little-endian words: reorder each group of 4 bytes into a 0x........ literal.
string(REGEX REPLACE "(..)(..)(..)(..)" "0x\\4\\3\\2\\1u," words "${hex}")
string(REGEX REPLACE "((0x........u,){8})" "\\1\n" words "${words}")
file(WRITE ${OUT}
     "// Generated from ${SPV}; do not edit.\n#include <cstdint>\n#include <span>\n"
     "namespace convscope::spirv {\nstatic const std::uint32_t k_${NAME}[] = {\n${words}\n};\n"
     "extern const std::span<const std::uint32_t> ${NAME};\n"
     "const std::span<const std::uint32_t> ${NAME}{k_${NAME}};\n}\n")
