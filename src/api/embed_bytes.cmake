# embed_literal(<file> <out_var> <size_var>): the bytes of <file> as C++ string literal
# lines ("\xNN" escapes, 20 bytes a line), for the embedding scripts (embed.cmake,
# embed_console.cmake). Plain CMake: no external tools. Escapes rather than a brace list of
# numbers: bytes over 0x7f would be narrowing conversions to char, and compilers read long
# literals fast.
function(embed_literal file out_var size_var)
  file(READ "${file}" hex HEX)
  string(LENGTH "${hex}" hex_length)
  math(EXPR size "${hex_length} / 2")
  # A line break after every 40 hex digits (CMake's regular expressions have no {n}), then
  # each byte as an escape, then each line as a literal.
  string(REPEAT "[0-9a-f][0-9a-f]" 20 line_pattern)
  string(REGEX REPLACE "(${line_pattern})" "\\1\n" lines "${hex}")
  if(NOT lines MATCHES "\n$")
    string(APPEND lines "\n")
  endif()
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "\\\\x\\1" lines "${lines}")
  string(REGEX REPLACE "([^\n]+)\n" "    \"\\1\"\n" lines "${lines}")
  if(size EQUAL 0)
    set(lines "    \"\"\n")
  endif()
  string(REGEX REPLACE "\n$" "" lines "${lines}")
  set(${out_var} "${lines}" PARENT_SCOPE)
  set(${size_var} "${size}" PARENT_SCOPE)
endfunction()

# Writes `text` to `output` aside and renames it, so that an interrupted run leaves no half
# file for the build.
function(embed_write output text)
  file(WRITE "${output}.tmp" "${text}")
  file(RENAME "${output}.tmp" "${output}")
endfunction()
