# Turns text files into a .cpp holding them as {name, text} pairs (run by engine/CMakeLists.txt):
# cmake -DOUT=<file.cpp> -DSYMBOL=<name> -DFILES="a.json;b.json" -P TextToCpp.cmake
set(body "")
foreach(f IN LISTS FILES)
  get_filename_component(name ${f} NAME_WE)
  file(READ ${f} text)
  if(text MATCHES "\\)cs_text\"")
    message(FATAL_ERROR "${f} contains the raw-string delimiter )cs_text\"")
  endif()
  string(APPEND body "    {\"${name}\", R\"cs_text(${text})cs_text\"},\n")
endforeach()
file(WRITE ${OUT}.tmp
     "// Generated from resources; do not edit.\n#include <string_view>\n#include <utility>\n"
     "#include <vector>\nnamespace convscope::embedded {\n"
     "extern const std::vector<std::pair<std::string_view, std::string_view>> ${SYMBOL};\n"
     "const std::vector<std::pair<std::string_view, std::string_view>> ${SYMBOL} = {\n${body}};\n}\n")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
