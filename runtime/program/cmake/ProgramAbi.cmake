# The interface between a generated trainer and libmimo_program: a hash of
# the headers the generated code compiles against (the program, runtime and
# kernel headers: Kernels' virtual table, the Support.h calls, the layouts).
# The library and every trainer are compiled with MIMO_PROGRAM_ABI set to it;
# trainerMain compares the two, so a trainer built against other headers
# stops with a clear message instead of calling the wrong kernel.
#
#   mimo_program_abi(<out-var> <mimo source dir>)
function(mimo_program_abi out source)
  file(GLOB headers
    ${source}/runtime/program/include/mimo/program/*.h
    ${source}/runtime/include/mimo/runtime/*.h
    ${source}/kernels/include/mimo/kernels/*.h)
  list(SORT headers)
  set(text "")
  foreach(h ${headers})
    file(READ ${h} body)
    get_filename_component(name ${h} NAME)
    string(APPEND text "${name}\n${body}\n")
  endforeach()
  string(SHA256 hash "${text}")
  string(SUBSTRING ${hash} 0 16 hash)
  # Editing a header re-runs the configure step, and so the hash.
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${headers})
  set(${out} ${hash} PARENT_SCOPE)
endfunction()
