#!/usr/bin/python3
"""Writes every ```cpp block of a Markdown guide into one C++ file, each block in its own
namespace, so that the guide's code is compiled by the test build.

    extract_snippets.py GUIDE.md OUT.cpp
"""
import re
import sys

PRELUDE = """// Generated from {guide} by test/docs/extract_snippets.py: do not edit.
#include <rws/rws.hpp>

#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>
"""


def main():
    guide, out = sys.argv[1], sys.argv[2]
    text = open(guide, encoding="utf-8").read()
    blocks = re.findall(r"^```cpp\n(.*?)^```", text, re.S | re.M)
    if not blocks:
        sys.exit(f"{guide}: no ```cpp blocks found")
    parts = [PRELUDE.format(guide=guide)]
    for i, block in enumerate(blocks):
        # A block defining main() is a whole program: rename it so all blocks can share a file.
        block = re.sub(r"\bint main\(\)", "int snippet_main()", block)
        parts.append(f"namespace guide_snippet_{i} {{\n// block {i + 1}\n{block}}}  // namespace\n")
    with open(out, "w", encoding="utf-8") as f:
        f.write("\n".join(parts))


if __name__ == "__main__":
    main()
