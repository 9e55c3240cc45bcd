# Writes OUT: a C++ table {name, JSON text} of the hardware files in DIR.
file(GLOB FILES ${DIR}/*.json)
list(SORT FILES)
set(body "")
foreach(f ${FILES})
  get_filename_component(name ${f} NAME_WE)
  file(READ ${f} text)
  string(APPEND body "    {\"${name}\", R\"mimo_hw(${text})mimo_hw\"},\n")
endforeach()
file(WRITE ${OUT}.tmp
  "// Generated from examples/hardware/*.json; do not edit.\n"
  "const BuiltinHardware kBuiltinHardware[] = {\n${body}};\n")
file(RENAME ${OUT}.tmp ${OUT})
