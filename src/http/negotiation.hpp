#pragma once
// Content negotiation helpers (RFC 9110 §12.4–§12.5).

#include <string_view>

namespace rws::http {

// The qvalue, in thousandths (0–1000), that an Accept-Encoding field value gives `coding`
// (case-insensitive). A coding listed explicitly wins over "*". "identity" not covered by the
// field is acceptable but least preferred (1), so "gzip;q=0.5" still prefers gzip; it is
// excluded only by "identity;q=0" or by "*;q=0" without an identity entry. Any other coding not
// covered is 0. Elements with a malformed qvalue are ignored.
int coding_quality(std::string_view accept_encoding, std::string_view coding);

// Parses a weight "q=0.5" parameter value: 0, 1, 0.x{1,3}, 1.0{1,3}. -1 when malformed.
int parse_qvalue(std::string_view text);

}  // namespace rws::http
