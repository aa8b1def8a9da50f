// libFuzzer target for the HTTP/1.1 request parser and body decoder.
//
// Besides "no crash, no sanitizer report", it checks the parser's contracts: parsing the input
// whole and parsing it in two pieces (split where the first byte says) give the same outcome;
// a complete head never claims more bytes than it was given; a rejection carries a 4xx/5xx
// status and a reason; the body decoder never consumes more than its input and never returns
// data outside what it consumed.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "h1/body_decoder.hpp"
#include "h1/request_parser.hpp"

namespace {

using rws::h1::BodyDecoder;
using rws::h1::BodyFraming;
using rws::h1::RequestParser;

void check(bool condition) {
  if (!condition) std::abort();
}

RequestParser::Status parse_in_two(std::string_view input, std::size_t split, RequestParser& p) {
  RequestParser::Status s = p.parse(input.substr(0, split));
  if (s != RequestParser::Status::kIncomplete) return s;
  return p.parse(input);
}

void decode_body(const RequestParser& parser, std::string_view rest) {
  BodyDecoder decoder = parser.info().framing == BodyFraming::kChunked
                            ? BodyDecoder::chunked()
                            : BodyDecoder::content_length(parser.info().content_length);
  if (parser.info().framing == BodyFraming::kNone) return;
  while (!decoder.done()) {
    BodyDecoder::Step step;
    if (decoder.decode(rest, step) == BodyDecoder::Status::kError) {
      check(!decoder.error().empty());
      return;
    }
    check(step.consumed <= rest.size());
    if (!step.data.empty()) {
      check(step.data.data() >= rest.data() &&
            step.data.data() + step.data.size() <= rest.data() + step.consumed);
    }
    if (step.consumed == 0) return;  // needs more input than the fuzzer gave
    rest.remove_prefix(step.consumed);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::size_t split = data[0] % size;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  split = split > input.size() ? input.size() : split;

  RequestParser whole;
  RequestParser pieces;
  RequestParser::Status a = whole.parse(input);
  RequestParser::Status b = parse_in_two(input, split, pieces);
  check(a == b);
  if (a == RequestParser::Status::kError) {
    check(whole.error().status >= 400 && whole.error().status < 600);
    check(!whole.error().reason.empty());
    check(whole.error().status == pieces.error().status);
    return 0;
  }
  if (a == RequestParser::Status::kIncomplete) return 0;
  check(whole.head_size() <= input.size());
  check(whole.head_size() == pieces.head_size());
  check(whole.head().method == pieces.head().method);
  check(whole.head().target == pieces.head().target);
  check(whole.head().headers.size() == pieces.head().headers.size());
  decode_body(whole, input.substr(whole.head_size()));
  return 0;
}
