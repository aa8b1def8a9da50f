#pragma once
// Response header edits: `remove` first, then `set` (replacing any value), then `add`
// (appending another field line).

#include <string>
#include <utility>
#include <vector>

#include <rws/app/handler.hpp>

namespace rws::middleware {

struct ResponseHeaderOptions {
  std::vector<std::pair<std::string, std::string>> set;
  std::vector<std::pair<std::string, std::string>> add;
  std::vector<std::string> remove;
};

Middleware response_headers(ResponseHeaderOptions options);

}  // namespace rws::middleware
