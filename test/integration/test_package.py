"""Packaging: `cmake --install` produces a tree from which an out-of-tree project builds with
find_package(rws) (CMake) or pkg-config, and the result serves requests."""

import os
import subprocess
import textwrap

import pytest

from conftest import require_tool

BUILD_DIR = os.environ.get("RWS_BUILD_DIR", "")
SOURCE_DIR = os.environ.get("RWS_SOURCE_DIR", "")


def run(cmd, **kwargs):
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kwargs)
    assert out.returncode == 0, f"{' '.join(cmd)} failed:\n{out.stdout}\n{out.stderr}"
    return out


@pytest.fixture(scope="module")
def prefix(tmp_path_factory):
    if not BUILD_DIR:
        pytest.fail("RWS_BUILD_DIR is not set: run the integration tests through ctest")
    prefix = tmp_path_factory.mktemp("prefix")
    run([require_tool("cmake"), "--install", BUILD_DIR, "--prefix", str(prefix)])
    return prefix


def test_installed_tree(prefix):
    assert (prefix / "include" / "rws" / "rws.hpp").is_file()
    assert (prefix / "lib" / "cmake" / "rws" / "rwsConfig.cmake").is_file()
    assert (prefix / "lib" / "pkgconfig" / "rws.pc").is_file()
    assert (prefix / "bin" / "rws").is_file()
    headers = list((prefix / "include" / "rws").rglob("*.hpp"))
    assert headers
    for header in headers:  # public headers never reach into the private source tree
        assert '#include "' not in header.read_text(), header


def test_find_package_build_of_an_example(prefix, tmp_path, servers, curl):
    build = tmp_path / "hello-build"
    cmake = require_tool("cmake")
    run([cmake, "-S", os.path.join(SOURCE_DIR, "examples", "hello"), "-B", str(build),
         "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release", f"-DCMAKE_PREFIX_PATH={prefix}"])
    run([cmake, "--build", str(build)])
    server = servers([str(build / "example_hello"), "0"])
    assert curl.run(server.url("/hello/package"))[::2] == (200, b"Hello, package!\n")


def test_pkg_config_build(prefix, tmp_path):
    source = tmp_path / "main.cpp"
    source.write_text(textwrap.dedent("""\
        #include <rws/rws.hpp>
        int main() {
          rws::App app;
          app.get("/n/:n", [](rws::Context& c) { return rws::text(std::to_string(c.param<int>("n") + 1)); });
          rws::TestClient client(app);
          return client.get("/n/41").send().body == "42" ? 0 : 1;
        }
        """))
    env = dict(os.environ, PKG_CONFIG_PATH=str(prefix / "lib" / "pkgconfig"))
    flags = run([require_tool("pkg-config"), "--cflags", "--libs", "rws"], env=env).stdout.split()
    run([require_tool("g++"), str(source), "-o", str(tmp_path / "app"), *flags])
    assert subprocess.run([str(tmp_path / "app")], timeout=60).returncode == 0
