cmake_minimum_required(VERSION 3.25)
# The OpenAPI document and the router, in step: every route registered in src/api
# (r.Add("METHOD", "/path", ...)) is one of the document's operations, and every operation
# of the document is routed. Run as
#   cmake -DSRC=<repo>/src [-DDOC=<openapi.json>] -P openapi_routes.cmake
# (DOC defaults to SRC/api/openapi.json). Fails naming what is missing on each side.
if(NOT SRC)
  message(FATAL_ERROR
          "usage: cmake -DSRC=<repo>/src [-DDOC=<openapi.json>] -P openapi_routes.cmake")
endif()
if(NOT DOC)
  set(DOC "${SRC}/api/openapi.json")
endif()

# What the server routes. Read from whole files, so that a call split over lines counts,
# and every r.Add( must be one whose method and path are literals: a route this cannot
# read would otherwise escape the check.
set(routed "")
set(unreadable "")
file(GLOB sources "${SRC}/api/*.cc")
foreach(f ${sources})
  file(READ "${f}" text)
  string(REGEX MATCHALL "r\\.Add\\(" calls "${text}")
  string(REGEX MATCHALL "r\\.Add\\(\"[A-Z]+\",[ \n]*\"[^\"]+\"" adds "${text}")
  list(LENGTH calls n_calls)
  list(LENGTH adds n_adds)
  if(NOT n_calls EQUAL n_adds)
    file(RELATIVE_PATH rel "${SRC}" "${f}")
    string(APPEND unreadable
           "  ${rel}: ${n_calls} r.Add( calls, ${n_adds} with a literal method and path\n")
  endif()
  foreach(add ${adds})
    string(REGEX REPLACE "^r\\.Add\\(\"([A-Z]+)\",[ \n]*\"([^\"]+)\"$" "\\1 \\2" route "${add}")
    # The console's page and files (api/console.cc: / and /console/...) are not the API.
    if(NOT route MATCHES "^[A-Z]+ /(console/.*)?$")
      list(APPEND routed "${route}")
    endif()
  endforeach()
endforeach()
if(unreadable)
  message(FATAL_ERROR "routes this check cannot read (write r.Add(\"METHOD\", \"/path\", ...)):\n"
                      "${unreadable}")
endif()
list(LENGTH routed n_routed)
if(n_routed EQUAL 0)
  message(FATAL_ERROR "no r.Add(\"METHOD\", \"/path\" in ${SRC}/api/*.cc: is SRC right?")
endif()

# What the document describes: each path item's operations (its other members, such as
# parameters or summary, are not methods).
file(READ "${DOC}" doc)
string(JSON paths ERROR_VARIABLE error GET "${doc}" paths)
if(error)
  message(FATAL_ERROR "${DOC}: no paths: ${error}")
endif()
set(documented "")
string(JSON n_paths LENGTH "${paths}")
math(EXPR last_path "${n_paths} - 1")
foreach(i RANGE ${last_path})
  string(JSON path MEMBER "${paths}" ${i})
  string(JSON item GET "${paths}" "${path}")
  string(JSON n_members LENGTH "${item}")
  math(EXPR last_member "${n_members} - 1")
  foreach(j RANGE ${last_member})
    string(JSON method MEMBER "${item}" ${j})
    if(method MATCHES "^(get|put|post|delete|options|head|patch|trace)$")
      string(TOUPPER "${method}" method)
      list(APPEND documented "${method} ${path}")
    endif()
  endforeach()
endforeach()

set(undocumented "")
foreach(route ${routed})
  if(NOT route IN_LIST documented)
    string(APPEND undocumented "  ${route}\n")
  endif()
endforeach()
set(unrouted "")
foreach(route ${documented})
  if(NOT route IN_LIST routed)
    string(APPEND unrouted "  ${route}\n")
  endif()
endforeach()

set(wrong "")
if(undocumented)
  string(APPEND wrong "routed but not in ${DOC} (describe them in tools/openapi/gen.mjs and "
                      "regenerate):\n${undocumented}")
endif()
if(unrouted)
  string(APPEND wrong "in ${DOC} but not routed by src/api (405 or 404 from the server):\n"
                      "${unrouted}")
endif()
if(wrong)
  message(FATAL_ERROR "the OpenAPI document and the router differ:\n${wrong}")
endif()
list(LENGTH documented n_documented)
message(STATUS "openapi routes: ${n_routed} routed, ${n_documented} documented, in step")
