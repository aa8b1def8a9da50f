# Installation: headers, the libraries, a CMake package (find_package(rws) → rws::rws) and a
# pkg-config file (rws.pc).

include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# rws::rws: everything a library user links (the App framework plus the server), with the
# compile settings its headers require: C++20, and the Asio configuration the libraries were
# built with (ASIO_RECYCLING_ALLOCATOR_CACHE_SIZE changes the layout of Asio's thread state, so
# every translation unit of a program must agree on it).
add_library(rws_library INTERFACE)
set_target_properties(rws_library PROPERTIES EXPORT_NAME rws)
target_link_libraries(rws_library INTERFACE rws_run rws_middleware)
target_compile_features(rws_library INTERFACE cxx_std_20)
target_include_directories(rws_library INTERFACE
  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
  $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
target_compile_definitions(rws_library INTERFACE ${RWS_PUBLIC_DEFINITIONS}
  $<$<CXX_COMPILER_ID:Clang>:ASIO_HAS_CO_AWAIT=1;ASIO_HAS_STD_COROUTINE=1>)
if(RWS_SANITIZE)
  # A sanitized build's libraries need the sanitizer runtime in the program that links them.
  target_link_options(rws_library INTERFACE -fsanitize=${RWS_SANITIZE})
  set(RWS_PC_SANITIZE " -fsanitize=${RWS_SANITIZE}")
endif()
add_library(rws::rws ALIAS rws_library)

set(RWS_INSTALLED_LIBRARIES
  rws_run rws_middleware rws_proxy rws_auth rws_app rws_ws rws_ws_codec rws_static rws_server
  rws_access_log rws_metrics rws_h3 rws_h2 rws_h1 rws_h1_codec rws_redis rws_redis_codec rws_net
  rws_http rws_blocking rws_log rws_openssl rws_core)
install(TARGETS rws_library ${RWS_INSTALLED_LIBRARIES}
  EXPORT rwsTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY include/rws DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS rws rws-client RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

set(RWS_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/rws)
install(EXPORT rwsTargets NAMESPACE rws:: DESTINATION ${RWS_CMAKE_DIR})
configure_package_config_file(cmake/rwsConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/rwsConfig.cmake INSTALL_DESTINATION ${RWS_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/rwsConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/rwsConfig.cmake
  ${CMAKE_CURRENT_BINARY_DIR}/rwsConfigVersion.cmake DESTINATION ${RWS_CMAKE_DIR})

# pkg-config: the libraries in link order, then their dependencies.
set(RWS_PC_LIBS "")
foreach(lib ${RWS_INSTALLED_LIBRARIES})
  string(APPEND RWS_PC_LIBS " -l${lib}")
endforeach()
set(RWS_PC_CFLAGS "")
foreach(def ${RWS_PUBLIC_DEFINITIONS})
  string(APPEND RWS_PC_CFLAGS " -D${def}")
endforeach()
# The prefix relative to the .pc file, so the installed tree can be moved (cmake --install
# --prefix DIR at install time).
file(RELATIVE_PATH RWS_PC_PREFIX_FROM_PCDIR "/root/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/root")
configure_file(cmake/rws.pc.in ${CMAKE_CURRENT_BINARY_DIR}/rws.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/rws.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
