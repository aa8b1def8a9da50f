// Runs the llhttp HTTP/1 request vectors (shared/vectors/llhttp/request/*.md, see SOURCE.txt
// there) through RequestParser and BodyDecoder, one test per case.
//
// How a case is judged:
// - Every input is parsed the way a server session would: head with RequestParser, body with
//   BodyDecoder per info().framing, then the next pipelined message. A CONNECT head or an accepted
//   Upgrade ends HTTP/1 on the connection (RFC 9110 §9.3.6, §7.8); a message that does not keep
//   the connection alive ends it too, and any non-CRLF byte after it is what llhttp reports as
//   "Data after `Connection: close`". Each input is also fed one byte at a time, and both runs
//   must agree.
// - Accepted by llhttp (no error line, no lenient flag): same messages, and for each the method,
//   target, version, header fields (values without surrounding OWS), Content-Length, chunked
//   framing, body bytes and trailers llhttp logged; an input llhttp left unfinished must leave
//   ours unfinished, and llhttp's "Pause on CONNECT/Upgrade" must end ours the same way.
// - Rejected by llhttp, or needing a lenient flag: ours must reject. RequestParser judges whole
//   lines, so where the input stops inside the offending line the test ends that line with CRLF
//   CRLF and expects the rejection then.
// - Host rule: most vectors are HTTP/1.1 requests without Host, which RFC 9112 §3.2 makes a 400.
//   Where RequestParser rejects a message for exactly that, the test checks so, inserts a Host
//   field after that message's request line and parses again, so that the rest of the vector
//   is still checked. The inserted field is left out of the comparison.
// - kDeviations lists the cases where rws deliberately differs from llhttp; the test asserts
//   rws's outcome there, and that the entry is still a deviation.

#include "llhttp_vectors.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "h1/body_decoder.hpp"
#include "h1/request_parser.hpp"
#include "http/syntax.hpp"

namespace rws::h1 {
namespace {

namespace lv = llhttp_vectors;

// CTest runs unit tests in test/unit; the shared checkout sits next to the project.
constexpr const char* kDefaultVectorsDir = "../../../shared/vectors/llhttp/request";
constexpr std::string_view kMissingHostReason = "missing Host field";  // RequestParser's reason
constexpr std::string_view kAddedHostField = "Host: vectors.rws.test\r\n";
constexpr std::string_view kAddedHostValue = "vectors.rws.test";
constexpr std::size_t kMaxHostInsertions = 32;

// How parsing the whole input ended.
enum class End : std::uint8_t {
  kComplete,        // every message complete (trailing CRLFs aside)
  kIncomplete,      // the input stopped inside a message
  kUpgraded,        // after a CONNECT head or an accepted Upgrade: the rest is not HTTP/1
  kRejected,        // RequestParser or BodyDecoder reported an error
  kClosedWithData,  // a message closed the connection and more than CRLFs followed it
};

std::string_view to_string(End e) {
  switch (e) {
    case End::kComplete:
      return "complete";
    case End::kIncomplete:
      return "incomplete";
    case End::kUpgraded:
      return "upgraded";
    case End::kRejected:
      return "rejected";
    case End::kClosedWithData:
      return "closed with data after it";
  }
  return "?";
}

// ---------------------------------------------------------------------------------------------
// Documented deviations: cases where rws (strict RFC 9110/9112 reading) ends differently from
// llhttp. Keep this list as short as the RFCs allow.

struct Deviation {
  std::string_view file;
  std::string_view heading;
  End end;     // what rws does
  int status;  // kRejected: the status and reason RequestParser gives
  std::string_view reason;
  std::string_view why;
};

constexpr Deviation kDeviations[] = {
    {"sample.md", "No HTTP version", End::kRejected, 400, "malformed request line",
     "HTTP/0.9 request without HTTP-version; request-line requires it (RFC 9112 §3)"},
    {"uri.md", "Quotes in URI", End::kRejected, 400, "invalid request target",
     "'\"' and '\\' are not URI characters, they must be pct-encoded (RFC 3986 §2, RFC 9112 §3.2)"},
    {"uri.md", "Query URL with vertical bar character", End::kRejected, 400,
     "invalid request target", "'|' is not a URI character (RFC 3986 §2, §3.4; RFC 9112 §3.2)"},
    {"uri.md", "Fragment in URI", End::kRejected, 400, "invalid request target",
     "origin-form is absolute-path [\"?\" query], no fragment (RFC 9112 §3.2.1)"},
    {"uri.md", "`host:port` and basic auth", End::kRejected, 400, "invalid request target",
     "userinfo in an http(s) URI is deprecated and treated as an error (RFC 9110 §4.2.4)"},
    {"method.md", "M-SEARCH request", End::kRejected, 400,
     "asterisk-form target is only for OPTIONS",
     "asterisk-form is for OPTIONS only (RFC 9112 §3.2.4)"},
    {"method.md", "PRI request HTTP2", End::kRejected, 400,
     "asterisk-form target is only for OPTIONS",
     "the h2c preface is recognised before the h1 parser (RFC 9113 §3.3); as HTTP/1.1 it is a "
     "non-OPTIONS asterisk-form (RFC 9112 §3.2.4)"},
    {"method.md", "SOURCE request with ICE", End::kRejected, 400, "invalid HTTP version",
     "only HTTP/1.x: HTTP-version = \"HTTP/\" DIGIT \".\" DIGIT (RFC 9112 §2.3)"},
    {"method.md", "OPTIONS request with RTSP", End::kRejected, 400, "invalid HTTP version",
     "only HTTP/1.x: HTTP-version = \"HTTP/\" DIGIT \".\" DIGIT (RFC 9112 §2.3)"},
    {"method.md", "ANNOUNCE request with RTSP", End::kRejected, 400, "invalid HTTP version",
     "only HTTP/1.x: HTTP-version = \"HTTP/\" DIGIT \".\" DIGIT (RFC 9112 §2.3)"},
    {"invalid.md", "HTTP protocol and ANNOUNCE method", End::kComplete, 0, "",
     "any token is a method; an unknown one gets 501 from the server, not a parse error "
     "(RFC 9110 §9.1)"},
    {"invalid.md", "Invalid method", End::kComplete, 0, "",
     "any token is a method; an unknown one gets 501 from the server, not a parse error "
     "(RFC 9110 §9.1)"},
    {"transfer-encoding.md", "POST with `chunked` as last transfer-encoding", End::kRejected, 400,
     "invalid request target",
     "target has a fragment (RFC 9112 §3.2.1); without it, coding \"deflate\" is a 501 "
     "(RFC 9112 §6.1)"},
    {"transfer-encoding.md", "POST with `chunked` as last transfer-encoding (multiple headers)",
     End::kRejected, 400, "invalid request target",
     "target has a fragment (RFC 9112 §3.2.1); without it, coding \"deflate\" is a 501 "
     "(RFC 9112 §6.1)"},
    {"method.md", "CONNECT with body", End::kRejected, 400, "CONNECT request with content",
     "a CONNECT request has no content (RFC 9110 §9.3.6); rws does not tunnel, so a CONNECT "
     "announcing a body is refused rather than having its tunnel bytes read as a body"},
    {"content-length.md", "Content-Length reset when no body is received", End::kIncomplete, 0, "",
     "\"skipBody\" is llhttp's hook for responses to HEAD; a server reads a request's "
     "Content-Length body (RFC 9112 §6.3), so the next request becomes body bytes"},
};

const Deviation* find_deviation(const lv::Case& c) {
  for (const Deviation& d : kDeviations) {
    if (d.file == c.file && d.heading == c.heading) return &d;
  }
  return nullptr;
}

// ---------------------------------------------------------------------------------------------
// Loading.

const lv::Corpus& corpus() {
  static const lv::Corpus kCorpus = [] {
    const char* env = std::getenv("RWS_VECTORS_DIR");
    return lv::load_corpus(env != nullptr && *env != '\0' ? env : kDefaultVectorsDir);
  }();
  return kCorpus;
}

std::vector<const lv::Case*> case_pointers() {
  std::vector<const lv::Case*> out;
  for (const lv::Case& c : corpus().cases) {
    out.push_back(&c);
  }
  return out;
}

bool verbose() {
  const char* env = std::getenv("RWS_VECTORS_VERBOSE");
  return env != nullptr && *env != '\0' && std::string_view(env) != "0";
}

// ---------------------------------------------------------------------------------------------
// Summary, printed after all tests.

struct Stats {
  int cases = 0;
  int accepted = 0;              // llhttp accepted, and so did rws with the same results
  int rejected = 0;              // llhttp (strict) rejected, and so did rws
  int rejected_at_line_end = 0;  // ... once the unterminated line was ended
  int deviations = 0;
  int skipped = 0;
  int host_added = 0;  // cases that needed the Host rule
};

Stats& stats() {
  static Stats s;
  return s;
}

class SummaryPrinter : public ::testing::Environment {
 public:
  void SetUp() override { stats() = Stats{}; }  // once per --gtest_repeat iteration
  void TearDown() override {
    const Stats& s = stats();
    if (s.cases == 0) return;
    std::cout << "[llhttp vectors] " << s.cases << " cases run from " << corpus().directory << ":\n"
              << "  accepted as llhttp does:    " << s.accepted << "\n"
              << "  rejected as llhttp does:    " << s.rejected << " (" << s.rejected_at_line_end
              << " once the unterminated line was ended)\n"
              << "  documented deviations:      " << s.deviations << "\n"
              << "  skipped:                    " << s.skipped << "\n"
              << "  Host field added (RFC 9112 §3.2) in " << s.host_added << " cases\n";
  }
};

[[maybe_unused]] ::testing::Environment* const kSummary =
    ::testing::AddGlobalTestEnvironment(new SummaryPrinter);

// ---------------------------------------------------------------------------------------------
// Our side: parse an input as a server session would.

struct OurMessage {
  std::size_t start = 0;  // offset of the message (or of the CRLFs before it) in the input
  bool head_complete = false;
  bool complete = false;
  bool host_added = false;
  http::RequestHead head;
  MessageInfo info;
  std::string body;
  http::Headers trailers;
};

struct OurRun {
  std::vector<OurMessage> messages;  // complete ones, then at most one unfinished
  End end = End::kComplete;
  int status = 0;           // kRejected
  std::string_view reason;  // kRejected; static strings of the parser and decoder

  std::size_t completed() const {
    return static_cast<std::size_t>(std::count_if(messages.begin(), messages.end(),
                                                  [](const OurMessage& m) { return m.complete; }));
  }
};

bool only_line_breaks(std::string_view s) {
  return s.find_first_not_of("\r\n") == std::string_view::npos;
}

// Parses `input` as it arrives `piece` bytes at a time.
OurRun run_parser(std::string_view input, std::size_t piece) {
  OurRun run;
  std::size_t avail = std::min(piece, input.size());
  auto receive_more = [&] {
    if (avail == input.size()) return false;
    avail = std::min(input.size(), avail + piece);
    return true;
  };
  std::size_t pos = 0;
  while (true) {
    OurMessage msg;
    msg.start = pos;
    RequestParser parser;
    RequestParser::Status status;
    while ((status = parser.parse(input.substr(pos, avail - pos))) ==
           RequestParser::Status::kIncomplete) {
      if (!receive_more()) break;
    }
    if (status == RequestParser::Status::kIncomplete) {
      if (only_line_breaks(input.substr(pos))) return run;  // kComplete
      run.messages.push_back(std::move(msg));
      run.end = End::kIncomplete;
      return run;
    }
    if (status == RequestParser::Status::kError) {
      run.messages.push_back(std::move(msg));
      run.end = End::kRejected;
      run.status = parser.error().status;
      run.reason = parser.error().reason;
      return run;
    }
    msg.head_complete = true;
    msg.head = parser.head();
    msg.info = parser.info();
    pos += parser.head_size();
    // RFC 9110 §9.3.6: a CONNECT request has no content; what follows the head is the tunnel.
    if (msg.head.method == "CONNECT") {
      msg.complete = true;
      run.messages.push_back(std::move(msg));
      run.end = End::kUpgraded;
      return run;
    }
    if (msg.info.framing != BodyFraming::kNone) {
      BodyDecoder decoder = msg.info.framing == BodyFraming::kChunked
                                ? BodyDecoder::chunked()
                                : BodyDecoder::content_length(msg.info.content_length);
      while (!decoder.done()) {
        BodyDecoder::Step step;
        if (decoder.decode(input.substr(pos, avail - pos), step) == BodyDecoder::Status::kError) {
          run.messages.push_back(std::move(msg));
          run.end = End::kRejected;
          run.status = 400;
          run.reason = decoder.error();
          return run;
        }
        pos += step.consumed;
        msg.body.append(step.data);
        if (step.consumed == 0 && !decoder.done() && !receive_more()) {
          run.messages.push_back(std::move(msg));
          run.end = End::kIncomplete;
          return run;
        }
      }
      msg.trailers = decoder.trailers();
    }
    msg.complete = true;
    bool upgrade = msg.info.upgrade;
    bool keep_alive = msg.info.keep_alive;
    run.messages.push_back(std::move(msg));
    if (upgrade) {
      run.end = End::kUpgraded;
      return run;
    }
    if (!keep_alive) {
      run.end = only_line_breaks(input.substr(pos)) ? End::kComplete : End::kClosedWithData;
      return run;
    }
  }
}

std::string printable(std::string_view s) {
  std::string out;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '\\') {
      out += "\\\\";
    } else if (u >= 0x20 && u < 0x7f) {
      out.push_back(c);
    } else {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    }
  }
  return out;
}

std::string describe(const OurRun& run) {
  std::ostringstream os;
  os << "rws: " << to_string(run.end);
  if (run.end == End::kRejected) os << " " << run.status << " \"" << run.reason << "\"";
  for (const OurMessage& m : run.messages) {
    os << "\n  ["
       << (m.complete        ? "complete"
           : m.head_complete ? "unfinished body"
                             : "unfinished head")
       << "]";
    if (!m.head_complete) continue;
    os << " " << printable(m.head.method) << " " << printable(m.head.target) << " v"
       << m.head.version << " framing=" << static_cast<int>(m.info.framing)
       << " cl=" << m.info.content_length << " keep_alive=" << m.info.keep_alive
       << " upgrade=" << m.info.upgrade;
    for (const http::Field& f : m.head.headers) {
      os << "\n    " << printable(f.name) << ": " << printable(f.value);
    }
    os << "\n    body=\"" << printable(m.body) << "\"";
    for (const http::Field& f : m.trailers) {
      os << "\n    trailer " << printable(f.name) << ": " << printable(f.value);
    }
  }
  return os.str();
}

// One case's input after the Host rule, with the run over it.
struct CaseRun {
  std::string input;
  std::vector<std::size_t> host_added;  // messages that were given a Host field
  OurRun whole;
  OurRun bytewise;
};

std::size_t request_line_end(std::string_view s, std::size_t start) {
  std::size_t first = s.find_first_not_of("\r\n", start);
  std::size_t crlf = s.find("\r\n", first == std::string_view::npos ? s.size() : first);
  return crlf == std::string_view::npos ? s.size() : crlf + 2;
}

CaseRun execute(std::string input) {
  CaseRun r;
  r.input = std::move(input);
  while (true) {
    r.whole = run_parser(r.input, std::max<std::size_t>(1, r.input.size()));
    if (r.whole.end != End::kRejected || r.whole.status != 400 ||
        r.whole.reason != kMissingHostReason || r.host_added.size() >= kMaxHostInsertions) {
      break;
    }
    // RFC 9112 §3.2: an HTTP/1.1 request without Host is a 400. Checked; now give it one.
    r.host_added.push_back(r.whole.messages.size() - 1);
    r.input.insert(request_line_end(r.input, r.whole.messages.back().start), kAddedHostField);
  }
  r.bytewise = run_parser(r.input, 1);
  for (std::size_t i : r.host_added) {
    if (i < r.whole.messages.size()) r.whole.messages[i].host_added = true;
    if (i < r.bytewise.messages.size()) r.bytewise.messages[i].host_added = true;
  }
  return r;
}

// ---------------------------------------------------------------------------------------------
// llhttp's side.

struct Expectation {
  End end = End::kComplete;
  bool lenient = false;  // llhttp needed a lenient flag: the log is no guide to a strict parse
  std::string text;      // what llhttp did, for messages
};

bool is_request_type(std::string_view type) {
  return type == "request" || type == "request-only" || type == "request-finish" ||
         type.substr(0, 16) == "request-lenient-";
}

Expectation expectation(const lv::Case& c) {
  Expectation e;
  const lv::Log& log = c.log;
  e.lenient =
      c.type.find("lenient") != std::string::npos || lv::meta_string(c.meta, "mode") == "loose";
  if (e.lenient) {
    e.end = End::kRejected;
    e.text = "llhttp needs lenient type \"" + c.type + "\"";
  } else if (log.error_code && (*log.error_code == 22 || *log.error_code == 23)) {
    // HPE_PAUSED_UPGRADE / HPE_PAUSED_H2_UPGRADE: not an error, HTTP/1 ends here.
    e.end = End::kUpgraded;
    e.text = "llhttp: " + log.error_reason;
  } else if (log.error_code) {
    e.end = End::kRejected;
    e.text = "llhttp: error code=" + std::to_string(*log.error_code) + " " + log.error_reason;
  } else if (log.finish) {
    e.end = *log.finish == 0 ? End::kComplete : End::kIncomplete;
    e.text = "llhttp: finish=" + std::to_string(*log.finish);
  } else {
    e.end = log.messages.empty() || log.messages.back().message_complete ? End::kComplete
                                                                         : End::kIncomplete;
    e.text = "llhttp: " + std::string(to_string(e.end));
  }
  return e;
}

// Whether llhttp's logged text and our bytes agree (see lv::Case::high_escapes).
bool same_bytes(std::string_view logged, std::string_view ours, bool high_escapes) {
  if (logged == ours) return true;
  std::string latin1;
  return high_escapes && lv::detail::utf8_to_latin1(logged, latin1) && latin1 == ours;
}

struct CompareMode {
  bool heads_only = false;  // deviations: the bodies are expected to differ
  bool high_escapes = false;
};

// Compares logged fields (llhttp values keep trailing OWS) with ours; appends differences.
void compare_fields(std::string_view what, const std::vector<lv::LoggedField>& want,
                    std::vector<const http::Field*> got, bool high_escapes,
                    const std::function<void(const std::string&)>& diff) {
  if (got.size() != want.size()) {
    diff("llhttp has " + std::to_string(want.size()) + " " + std::string(what) + "s, rws " +
         std::to_string(got.size()));
  }
  for (std::size_t i = 0; i < std::min(got.size(), want.size()); ++i) {
    std::string_view value = http::syntax::trim_ows(want[i].value);
    if (!same_bytes(want[i].name, got[i]->name, high_escapes) ||
        !same_bytes(value, got[i]->value, high_escapes)) {
      diff(std::string(what) + " " + std::to_string(i + 1) + ": llhttp \"" +
           printable(want[i].name) + ": " + printable(value) + "\", rws \"" +
           printable(got[i]->name) + ": " + printable(got[i]->value) + "\"");
    }
  }
}

// Differences between what llhttp logged for a message and what we parsed, as far as llhttp got.
void compare_message(const lv::LoggedMessage& want, const OurMessage& got, std::size_t index,
                     CompareMode mode, std::vector<std::string>& diffs) {
  auto diff = [&](const std::string& what) {
    diffs.push_back("message " + std::to_string(index + 1) + ": " + what);
  };
  if (!got.head_complete) {
    if (want.headers_complete && !mode.heads_only) {
      diff("llhttp completed the head, RequestParser did not");
    }
    return;
  }
  // Once llhttp reached the target, the method it logged is final (a method llhttp does not know
  // is reported as the prefix it failed after).
  if (want.url_complete && !same_bytes(want.method, got.head.method, mode.high_escapes)) {
    diff("method: llhttp \"" + printable(want.method) + "\", rws \"" + printable(got.head.method) +
         "\"");
  }
  if (want.url_complete && !same_bytes(want.url, got.head.target, mode.high_escapes)) {
    diff("target: llhttp \"" + printable(want.url) + "\", rws \"" + printable(got.head.target) +
         "\"");
  }
  if (!want.headers_complete) return;
  int version = want.version_major == 1 ? (want.version_minor == 0 ? 10 : 11) : -1;
  if (got.head.version != version) {
    diff("version: llhttp " + std::to_string(want.version_major) + "." +
         std::to_string(want.version_minor) + ", rws " + std::to_string(got.head.version));
  }
  std::vector<const http::Field*> fields;
  for (const http::Field& f : got.head.headers)
    fields.push_back(&f);
  if (got.host_added) {
    if (fields.empty() || !http::iequals(fields.front()->name, "host") ||
        fields.front()->value != kAddedHostValue) {
      diff("the added Host field is not the first field");
    } else {
      fields.erase(fields.begin());
    }
  }
  compare_fields("header field", want.headers, fields, mode.high_escapes, diff);
  if (got.info.content_length != want.content_length) {
    diff("Content-Length: llhttp " + std::to_string(want.content_length) + ", rws " +
         std::to_string(got.info.content_length));
  }
  bool want_chunked = (want.flags & lv::kFlagChunked) != 0;
  if (want_chunked != (got.info.framing == BodyFraming::kChunked)) {
    diff(std::string("chunked: llhttp ") + (want_chunked ? "yes" : "no") + ", rws " +
         (want_chunked ? "no" : "yes"));
  }
  if (mode.heads_only) return;
  if (!same_bytes(want.body, got.body, mode.high_escapes)) {
    diff("body: llhttp \"" + printable(want.body) + "\", rws \"" + printable(got.body) + "\"");
  }
  if (want.message_complete != got.complete) {
    diff(std::string("message complete: llhttp ") + (want.message_complete ? "yes" : "no") +
         ", rws " + (got.complete ? "yes" : "no"));
  }
  if (!want.message_complete || !got.complete) return;
  std::vector<const http::Field*> trailers;
  for (const http::Field& f : got.trailers)
    trailers.push_back(&f);
  compare_fields("trailer field", want.trailers, trailers, mode.high_escapes, diff);
}

std::string join(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& l : lines)
    out += "\n  " + l;
  return out;
}

// ---------------------------------------------------------------------------------------------
// The tests.

TEST(LlhttpVectors, CorpusIsPresentAndWellFormed) {
  const lv::Corpus& c = corpus();
  ASSERT_TRUE(c.directory_found) << "llhttp request vectors not found at \"" << c.directory
                                 << "\" (relative to the working directory; set RWS_VECTORS_DIR)";
  EXPECT_FALSE(c.cases.empty()) << "no cases in " << c.directory;
  EXPECT_TRUE(c.errors.empty()) << "malformed vectors:" << join(c.errors);
}

TEST(LlhttpVectors, EveryDeviationNamesOneCase) {
  for (const Deviation& d : kDeviations) {
    auto n = std::count_if(corpus().cases.begin(), corpus().cases.end(), [&](const lv::Case& c) {
      return c.file == d.file && c.heading == d.heading;
    });
    EXPECT_EQ(n, 1) << "deviation entry " << d.file << " \"" << d.heading << "\"";
  }
}

// Each check returns a one-line outcome for the verbose listing.
std::string check_deviation(const lv::Case& c, const Deviation& dev, const Expectation& want,
                            const OurRun& got) {
  const std::string ours = describe(got);
  EXPECT_NE(to_string(dev.end), to_string(want.end))
      << "stale deviation entry: rws now does what llhttp does";
  EXPECT_EQ(to_string(got.end), to_string(dev.end)) << want.text << "\n" << ours;
  if (dev.end == End::kRejected) {
    EXPECT_EQ(got.status, dev.status) << ours;
    EXPECT_EQ(got.reason, dev.reason) << ours;
  }
  std::vector<std::string> diffs;
  const std::vector<lv::LoggedMessage>& logged = c.log.messages;
  for (std::size_t i = 0; i < std::min(logged.size(), got.messages.size()); ++i) {
    compare_message(logged[i], got.messages[i], i, {true, c.high_escapes}, diffs);
  }
  EXPECT_TRUE(diffs.empty()) << want.text << join(diffs) << "\n" << ours;
  ++stats().deviations;
  return "DEVIATION: " + std::string(to_string(dev.end)) + " - " + std::string(dev.why);
}

std::string check_rejected(const lv::Case& c, const Expectation& want, const CaseRun& run) {
  const OurRun& got = run.whole;
  const std::string ours = describe(got);
  bool rejected = got.end == End::kRejected || got.end == End::kClosedWithData;
  std::string how = ours;
  if (got.end == End::kIncomplete) {
    // RequestParser judges a line once its CRLF arrives: end the line and the head.
    CaseRun ended = execute(run.input + "\r\n\r\n");
    rejected = ended.whole.end == End::kRejected;
    how = "after appending CRLF CRLF, " + describe(ended.whole);
    if (rejected) ++stats().rejected_at_line_end;
  }
  EXPECT_TRUE(rejected) << want.text << "\n" << how;
  if (rejected) ++stats().rejected;
  const std::vector<lv::LoggedMessage>& logged = c.log.messages;
  auto logged_complete = static_cast<std::size_t>(std::count_if(
      logged.begin(), logged.end(), [](const lv::LoggedMessage& m) { return m.message_complete; }));
  if (!want.lenient) {
    EXPECT_LE(got.completed(), logged_complete) << "rws accepted a message llhttp rejected\n"
                                                << want.text << "\n"
                                                << ours;
  }
  std::vector<std::string> diffs;
  for (std::size_t i = 0; i < std::min(got.completed(), logged_complete); ++i) {
    compare_message(logged[i], got.messages[i], i, {false, c.high_escapes}, diffs);
  }
  EXPECT_TRUE(diffs.empty()) << want.text << join(diffs) << "\n" << ours;
  return how.substr(0, how.find('\n'));
}

std::string check_accepted(const lv::Case& c, const Expectation& want, const OurRun& got) {
  const std::string ours = describe(got);
  const std::vector<lv::LoggedMessage>& logged = c.log.messages;
  EXPECT_EQ(to_string(got.end), to_string(want.end)) << want.text << "\n" << ours;
  EXPECT_EQ(got.messages.size(), logged.size()) << "number of messages\n" << ours;
  std::vector<std::string> diffs;
  for (std::size_t i = 0; i < std::min(logged.size(), got.messages.size()); ++i) {
    compare_message(logged[i], got.messages[i], i, {false, c.high_escapes}, diffs);
  }
  EXPECT_TRUE(diffs.empty()) << want.text << join(diffs) << "\n" << ours;
  if (got.end == want.end && diffs.empty() && got.messages.size() == logged.size()) {
    ++stats().accepted;
  }
  return ours.substr(0, ours.find('\n'));
}

class LlhttpRequestVector : public ::testing::TestWithParam<const lv::Case*> {};

TEST_P(LlhttpRequestVector, Matches) {
  const lv::Case& c = *GetParam();
  SCOPED_TRACE(c.file + ":" + std::to_string(c.line) + " \"" + c.heading + "\"");
  ++stats().cases;
  if (c.has_expression) {
    ++stats().skipped;
    GTEST_SKIP() << "${...} expression in the http block is not expanded";
  }
  if (!is_request_type(c.type)) {
    ++stats().skipped;
    GTEST_SKIP() << "not a request vector (type \"" << c.type << "\")";
  }

  const Expectation want = expectation(c);
  const CaseRun run = execute(c.input);
  EXPECT_EQ(describe(run.bytewise), describe(run.whole))
      << "byte-at-a-time parse differs from whole-buffer parse";
  if (!run.host_added.empty()) ++stats().host_added;

  std::string outcome;
  if (const Deviation* dev = find_deviation(c)) {
    outcome = check_deviation(c, *dev, want, run.whole);
  } else if (want.end == End::kRejected) {
    outcome = check_rejected(c, want, run);
  } else {
    outcome = check_accepted(c, want, run.whole);
  }
  if (verbose()) {
    std::cout << "[llhttp vector] " << c.file << " \"" << c.heading << "\": " << want.text << " | "
              << outcome << (run.host_added.empty() ? "" : " (Host added)") << "\n";
  }
}

INSTANTIATE_TEST_SUITE_P(Llhttp, LlhttpRequestVector, ::testing::ValuesIn(case_pointers()),
                         [](const ::testing::TestParamInfo<const lv::Case*>& param_info) {
                           return param_info.param->name;
                         });

}  // namespace
}  // namespace rws::h1
