#include "http/negotiation.hpp"

#include <rws/http/headers.hpp>

#include "http/syntax.hpp"

namespace rws::http {

int parse_qvalue(std::string_view text) {
  if (text.empty() || text.size() > 5 || (text[0] != '0' && text[0] != '1')) return -1;
  int value = (text[0] - '0') * 1000;
  if (text.size() == 1) return value;
  if (text[1] != '.') return -1;
  int scale = 100;
  for (std::size_t i = 2; i < text.size(); ++i, scale /= 10) {
    if (text[i] < '0' || text[i] > '9') return -1;
    value += (text[i] - '0') * scale;
  }
  return value > 1000 ? -1 : value;
}

int coding_quality(std::string_view accept_encoding, std::string_view coding) {
  int explicit_q = -1;
  int star_q = -1;
  std::string_view rest = accept_encoding;
  while (!rest.empty()) {
    std::size_t comma = rest.find(',');
    std::string_view element = syntax::trim_ows(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (element.empty()) continue;

    std::size_t semi = element.find(';');
    std::string_view name = syntax::trim_ows(element.substr(0, semi));
    int q = 1000;
    while (semi != std::string_view::npos) {
      std::string_view params = element.substr(semi + 1);
      semi = params.find(';');
      std::string_view param = syntax::trim_ows(params.substr(0, semi));
      element = params;
      std::size_t eq = param.find('=');
      if (eq != std::string_view::npos && iequals(syntax::trim_ows(param.substr(0, eq)), "q")) {
        q = parse_qvalue(syntax::trim_ows(param.substr(eq + 1)));
      }
    }
    if (q < 0) continue;
    if (iequals(name, coding)) {
      explicit_q = q;
    } else if (name == "*") {
      star_q = q;
    }
  }
  if (explicit_q >= 0) return explicit_q;
  if (star_q >= 0) return star_q;
  // Unlisted identity stays acceptable, but below any coding the client listed with a weight.
  return iequals(coding, "identity") ? 1 : 0;
}

}  // namespace rws::http
