# Compiler, linker, cache and sanitizer settings shared by every target.

find_program(CCACHE_PROGRAM ccache)
if(CCACHE_PROGRAM)
  set(CMAKE_CXX_COMPILER_LAUNCHER ${CCACHE_PROGRAM})
endif()

find_program(MOLD_PROGRAM mold)
if(MOLD_PROGRAM)
  add_link_options(-fuse-ld=mold)
endif()

add_compile_definitions(ASIO_NO_DEPRECATED)
add_compile_options(-Wall -Wextra -Wpedantic -Wshadow=local -Werror=return-type)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  # Known g++ 12 false positives at -O2: Asio's coroutine frames (mismatched-new-delete) and
  # std::string concatenation (restrict, GCC bug 105329).
  add_compile_options(-Wno-mismatched-new-delete -Wno-restrict)
endif()

if(RWS_SANITIZE)
  add_compile_options(-fsanitize=${RWS_SANITIZE} -fno-omit-frame-pointer
                      -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${RWS_SANITIZE})
endif()

# Public headers live in include/, internal ones are included as "layer/file.hpp" from src/.
include_directories(${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}/src)
