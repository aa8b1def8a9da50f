#include <re2/re2.h>

#include <map>
#include <memory>
#include <mutex>

#include <rws/app/validate.hpp>

namespace rws {
namespace {

std::size_t code_points(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

// Compiled patterns, shared by all threads (patterns come from code, so the set stays small).
const RE2* compiled(std::string_view pattern) {
  static std::mutex mutex;
  static std::map<std::string, std::unique_ptr<RE2>, std::less<>> cache;
  std::lock_guard lock(mutex);
  auto it = cache.find(pattern);
  if (it == cache.end()) {
    if (cache.size() >= 1024) cache.clear();
    auto re = std::make_unique<RE2>(std::string(pattern), RE2::Quiet);
    it = cache.emplace(std::string(pattern), std::move(re)).first;
  }
  return it->second.get();
}

bool is_email(std::string_view s) {
  std::size_t at = s.find('@');
  if (at == std::string_view::npos || at == 0 || at > 64 || s.size() > 254) return false;
  if (s.find('@', at + 1) != std::string_view::npos) return false;
  std::string_view domain = s.substr(at + 1);
  std::size_t dot = domain.find('.');
  if (dot == std::string_view::npos || dot == 0 || domain.back() == '.' ||
      domain.find("..") != std::string_view::npos) {
    return false;
  }
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f || c == '<' || c == '>' || c == '(' || c == ')' || c == ',' ||
        c == ';' || c == ':' || c == '\\' || c == '"' || c == '[' || c == ']') {
      return false;
    }
  }
  return true;
}

bool is_url(std::string_view s) {
  std::string_view rest;
  if (s.substr(0, 7) == "http://") {
    rest = s.substr(7);
  } else if (s.substr(0, 8) == "https://") {
    rest = s.substr(8);
  } else {
    return false;
  }
  std::string_view host = rest.substr(0, rest.find_first_of("/?#"));
  if (host.empty() || host.front() == ':' || host.front() == '.') return false;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f || c == '"' || c == '<' || c == '>' || c == '\\' || c == '^' ||
        c == '`' || c == '{' || c == '|' || c == '}') {
      return false;
    }
  }
  return true;
}

}  // namespace

Validator::Validator(const Json& document) : document_(document) {
  if (!document_.is_object()) {
    errors_.push_back(Json{{"field", ""}, {"message", "must be a JSON object"}});
  }
}

Validator::Field Validator::required(std::string name) {
  const Json* value = nullptr;
  if (document_.is_object()) {
    auto it = document_.find(name);
    if (it != document_.end() && !it->is_null()) value = &*it;
  }
  Field field(*this, std::move(name), value);
  if (value == nullptr && document_.is_object()) field.fail("is required");
  return field;
}

Validator::Field Validator::optional(std::string name) {
  const Json* value = nullptr;
  if (document_.is_object()) {
    auto it = document_.find(name);
    if (it != document_.end() && !it->is_null()) value = &*it;
  }
  return Field(*this, std::move(name), value);
}

Validator::Field& Validator::Field::fail(std::string message) {
  if (!failed_) owner_.errors_.push_back(Json{{"field", name_}, {"message", std::move(message)}});
  failed_ = true;
  return *this;
}

Validator::Field& Validator::Field::string() {
  if (active() && !value_->is_string()) fail("must be a string");
  return *this;
}
Validator::Field& Validator::Field::integer() {
  if (active() && !value_->is_number_integer()) fail("must be an integer");
  return *this;
}
Validator::Field& Validator::Field::number() {
  if (active() && !value_->is_number()) fail("must be a number");
  return *this;
}
Validator::Field& Validator::Field::boolean() {
  if (active() && !value_->is_boolean()) fail("must be true or false");
  return *this;
}
Validator::Field& Validator::Field::array() {
  if (active() && !value_->is_array()) fail("must be an array");
  return *this;
}
Validator::Field& Validator::Field::object() {
  if (active() && !value_->is_object()) fail("must be an object");
  return *this;
}

Validator::Field& Validator::Field::length(std::size_t min, std::size_t max) {
  if (!active()) return *this;
  std::size_t n;
  if (value_->is_string()) {
    n = code_points(value_->get_ref<const std::string&>());
  } else if (value_->is_array()) {
    n = value_->size();
  } else {
    return fail("must be a string or an array");
  }
  if (n < min || n > max) {
    fail("length must be between " + std::to_string(min) + " and " + std::to_string(max));
  }
  return *this;
}

Validator::Field& Validator::Field::range(double min, double max) {
  if (!active()) return *this;
  if (!value_->is_number()) return fail("must be a number");
  double v = value_->get<double>();
  if (v < min || v > max) {
    auto show = [](double d) {
      std::string s = std::to_string(d);
      s.erase(s.find_last_not_of('0') + 1);
      if (s.back() == '.') s.pop_back();
      return s;
    };
    fail("must be between " + show(min) + " and " + show(max));
  }
  return *this;
}

Validator::Field& Validator::Field::email() {
  if (!active()) return *this;
  if (!value_->is_string() || !is_email(value_->get_ref<const std::string&>())) {
    fail("must be an email address");
  }
  return *this;
}

Validator::Field& Validator::Field::url() {
  if (!active()) return *this;
  if (!value_->is_string() || !is_url(value_->get_ref<const std::string&>())) {
    fail("must be an http or https URL");
  }
  return *this;
}

Validator::Field& Validator::Field::pattern(std::string_view regex) {
  if (!active()) return *this;
  const RE2* re = compiled(regex);
  if (!re->ok()) throw std::invalid_argument("invalid validation pattern: " + re->error());
  if (!value_->is_string() || !RE2::FullMatch(value_->get_ref<const std::string&>(), *re)) {
    fail("must match " + std::string(regex));
  }
  return *this;
}

Validator::Field& Validator::Field::one_of(std::initializer_list<std::string_view> choices) {
  if (!active()) return *this;
  if (value_->is_string()) {
    const std::string& s = value_->get_ref<const std::string&>();
    for (std::string_view c : choices) {
      if (s == c) return *this;
    }
  }
  std::string list;
  for (std::string_view c : choices) {
    if (!list.empty()) list += ", ";
    list += c;
  }
  return fail("must be one of: " + list);
}

http::Response Validator::response() const {
  return json(Json{{"errors", errors_}}, 422);
}

void Validator::throw_if_invalid() const {
  if (!ok()) throw HttpError(response());
}

}  // namespace rws
