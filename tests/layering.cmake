cmake_minimum_required(VERSION 3.25)
# The dependency direction of DESIGN.md, checked on the sources: each module may include
# only the modules below it (and generated schemas). Run as
#   cmake -DSRC=<repo>/src -P layering.cmake
# Fails naming every include that points the wrong way.
set(allowed_domain domain)
set(allowed_eventstore domain eventstore schemas)
set(allowed_writer domain eventstore writer schemas)
set(allowed_projections domain eventstore projections schemas)
set(allowed_api domain eventstore writer projections api schemas)
set(allowed_server domain eventstore writer projections api server schemas)

set(wrong "")
foreach(module domain eventstore writer projections api server)
  file(GLOB_RECURSE files "${SRC}/${module}/*.h" "${SRC}/${module}/*.cc")
  foreach(f ${files})
    file(STRINGS "${f}" includes REGEX "^#include \"[a-z_]+/")
    foreach(line ${includes})
      string(REGEX REPLACE "^#include \"([a-z_]+)/.*" "\\1" target "${line}")
      if(NOT target IN_LIST allowed_${module})
        file(RELATIVE_PATH rel "${SRC}" "${f}")
        string(APPEND wrong "  ${rel}: ${line} (${module} may include: ${allowed_${module}})\n")
      endif()
    endforeach()
  endforeach()
endforeach()

if(wrong)
  message(FATAL_ERROR "includes against the dependency direction of DESIGN.md:\n${wrong}")
endif()
message(STATUS "layering: every module includes only the modules below it")
