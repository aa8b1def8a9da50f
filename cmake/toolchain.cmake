# Compiler, linker, cache and sanitizer settings shared by every target.

find_program(CCACHE_PROGRAM ccache)
if(CCACHE_PROGRAM)
  set(CMAKE_CXX_COMPILER_LAUNCHER ${CCACHE_PROGRAM})
endif()

find_program(MOLD_PROGRAM mold)
if(MOLD_PROGRAM)
  add_link_options(-fuse-ld=mold)
endif()

# Coroutine frames nest several deep per request; let each thread recycle more of them. These
# are also required of every program using the library (exported with rws::rws).
set(RWS_PUBLIC_DEFINITIONS ASIO_NO_DEPRECATED ASIO_RECYCLING_ALLOCATOR_CACHE_SIZE=8)
add_compile_definitions(${RWS_PUBLIC_DEFINITIONS})
add_compile_options(-Wall -Wextra -Wpedantic -Werror=return-type)
if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  # Asio 1.22 only detects coroutines on clang through <experimental/coroutine> (libc++);
  # clang 14 with libstdc++ 12 has the standard <coroutine>.
  add_compile_definitions(ASIO_HAS_CO_AWAIT=1 ASIO_HAS_STD_COROUTINE=1)
  add_compile_options(-Wshadow)
endif()
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  add_compile_options(-Wshadow=local)
  # Known g++ 12 false positives at -O2: Asio's coroutine frames (mismatched-new-delete) and
  # std::string concatenation (restrict, GCC bug 105329).
  add_compile_options(-Wno-mismatched-new-delete -Wno-restrict)
endif()

if(RWS_SANITIZE)
  add_compile_options(-fsanitize=${RWS_SANITIZE} -fno-omit-frame-pointer
                      -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${RWS_SANITIZE})
  if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang" AND RWS_SANITIZE MATCHES "undefined")
    # clang 14's -fsanitize=function cannot instrument split coroutines ("Cannot represent a
    # difference across sections").
    add_compile_options(-fno-sanitize=function)
  endif()
endif()

# Public headers live in include/, internal ones are included as "layer/file.hpp" from src/.
include_directories(${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}/src)
