// libFuzzer target for the RESP2 reply parser.
//
// Besides "no crash, no sanitizer report", it checks the parser's contracts: a complete reply
// never claims more bytes than it was given; every proper prefix of a complete reply is
// incomplete (a reply split anywhere parses the same once whole); parsing the input whole and
// parsing it after a split (where the first byte says) give the same reply; and a reply
// serialised back as a command-style array of its parts survives a round trip when it is an array
// of bulk strings.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "redis/resp.hpp"

namespace {

using rws::redis::ParseStatus;
using rws::redis::Reply;

void check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t split = data[0];
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);

  Reply whole;
  std::size_t used = 0;
  const ParseStatus s = rws::redis::parse_reply(input, whole, used);
  if (s != ParseStatus::kComplete) {
    // A prefix of something incomplete is incomplete too (or already wrong).
    if (s == ParseStatus::kIncomplete && split < input.size()) {
      Reply r;
      std::size_t u = 0;
      check(rws::redis::parse_reply(input.substr(0, split), r, u) != ParseStatus::kComplete);
    }
    return 0;
  }
  check(used > 0 && used <= input.size());

  const std::string_view reply = input.substr(0, used);
  if (split < reply.size()) {
    Reply r;
    std::size_t u = 0;
    check(rws::redis::parse_reply(reply.substr(0, split), r, u) == ParseStatus::kIncomplete);
  }
  // The same bytes followed by anything parse to the same reply of the same size.
  Reply again;
  std::size_t used_again = 0;
  check(rws::redis::parse_reply(reply, again, used_again) == ParseStatus::kComplete);
  check(again == whole && used_again == used);

  if (whole.type == Reply::Type::kArray) {
    std::vector<std::string_view> parts;
    for (const Reply& e : whole.elements) {
      if (e.type != Reply::Type::kBulk) return 0;
      parts.push_back(e.text);
    }
    std::string wire;
    rws::redis::append_command(wire, parts);
    Reply round;
    std::size_t round_used = 0;
    check(rws::redis::parse_reply(wire, round, round_used) == ParseStatus::kComplete);
    check(round == whole && round_used == wire.size());
  }
  return 0;
}
