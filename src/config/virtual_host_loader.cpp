#include "config/virtual_host_loader.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

#include <rws/http/headers.hpp>

namespace rws::config {
namespace {

bool valid_label(std::string_view label) {
  if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
    return false;
  }
  return std::all_of(label.begin(), label.end(),
                     [](unsigned char c) { return std::isalnum(c) != 0 || c == '-' || c == '_'; });
}

// "a.example.com" or "*.example.com": dot-separated labels, a wildcard only as the whole first
// label and followed by at least two labels.
bool valid_domain(std::string_view domain) {
  std::size_t labels = 0;
  bool wildcard = false;
  std::size_t start = 0;
  while (start <= domain.size()) {
    std::size_t dot = domain.find('.', start);
    if (dot == std::string_view::npos) dot = domain.size();
    std::string_view label = domain.substr(start, dot - start);
    if (labels == 0 && label == "*") {
      wildcard = true;
    } else if (!valid_label(label)) {
      return false;
    }
    ++labels;
    start = dot + 1;
  }
  return wildcard ? labels >= 3 : labels >= 1;
}

}  // namespace

std::vector<server::VirtualHostCertificate> load_virtual_hosts(const toml::node& node,
                                                               Diagnostics& diagnostics) {
  std::vector<server::VirtualHostCertificate> hosts;
  const toml::array* array = node.as_array();
  if (array == nullptr || !array->is_array_of_tables()) {
    diagnostics.error(node.source(), "virtual_host must be an array of tables ([[virtual_host]])");
    return hosts;
  }
  for (const toml::node& item : *array) {
    TableReader reader(*item.as_table(), "[[virtual_host]]", diagnostics);
    server::VirtualHostCertificate host;
    bool complete = true;
    if (reader.node("domain") == nullptr) {
      reader.error_here("'domain' is required");
      complete = false;
    } else if (auto domain = reader.string("domain")) {
      host.domain = http::to_lower(*domain);
      if (!valid_domain(host.domain)) {
        reader.error("domain",
                     "'" + *domain + "' is not a host name or a '*.example.com' wildcard");
        complete = false;
      } else if (std::any_of(hosts.begin(), hosts.end(),
                             [&](const auto& h) { return h.domain == host.domain; })) {
        reader.error("domain", "'" + *domain + "' has another [[virtual_host]] already");
        complete = false;
      }
    } else {
      complete = false;
    }
    for (auto [key, out] :
         {std::pair{"cert_file", &host.cert_file}, std::pair{"key_file", &host.key_file}}) {
      if (reader.node(key) == nullptr) {
        reader.error_here(std::string("'") + key + "' is required");
        complete = false;
        continue;
      }
      auto path = reader.string(key);
      if (!path) {
        complete = false;
      } else if (::access(path->c_str(), R_OK) != 0) {
        reader.error(key, "'" + *path + "' cannot be read: " + std::strerror(errno));
        complete = false;
      } else {
        *out = *path;
      }
    }
    reader.finish();
    if (complete) hosts.push_back(std::move(host));
  }
  return hosts;
}

}  // namespace rws::config
