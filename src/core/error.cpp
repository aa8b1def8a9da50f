#include <rws/core/error.hpp>

namespace rws {
namespace {

class RwsCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "rws"; }
  std::string message(int value) const override {
    switch (static_cast<Errc>(value)) {
      case Errc::kBadMessage:
        return "malformed message";
      case Errc::kTimeout:
        return "timed out";
      case Errc::kTooLarge:
        return "size limit exceeded";
      case Errc::kClosed:
        return "connection closed";
      case Errc::kCancelled:
        return "cancelled";
      case Errc::kNotFound:
        return "not found";
      case Errc::kForbidden:
        return "forbidden";
      case Errc::kInvalidArgument:
        return "invalid argument";
    }
    return "unknown rws error";
  }
};

}  // namespace

const std::error_category& rws_category() noexcept {
  static const RwsCategory category;
  return category;
}

std::string Error::describe() const {
  if (context.empty()) return code.message();
  return context + ": " + code.message();
}

}  // namespace rws
