#pragma once
// Validating a JSON document field by field; the failures become one 422 response listing every
// field with its first problem:  {"errors": [{"field": "email", "message": "must be an email
// address"}]}.
//
//   rws::Validator v(body);
//   v.required("name").string().length(1, 100);
//   v.optional("age").integer().range(0, 150);
//   v.required("email").string().email();
//   v.throw_if_invalid();  // HttpError 422 when anything failed

#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>

#include <rws/app/json.hpp>

namespace rws {

class Validator {
 public:
  class Field {
   public:
    Field& string();
    Field& integer();
    Field& number();
    Field& boolean();
    Field& array();
    Field& object();
    // Strings: length in Unicode code points; arrays: number of elements.
    Field& length(std::size_t min, std::size_t max);
    // Numbers: min <= value <= max.
    Field& range(double min, double max);
    Field& email();
    Field& url();  // absolute http or https URL
    // The whole string must match the RE2 regular expression (linear time, no ReDoS).
    Field& pattern(std::string_view regex);
    Field& one_of(std::initializer_list<std::string_view> choices);

   private:
    friend class Validator;
    Field(Validator& owner, std::string name, const Json* value)
        : owner_(owner), name_(std::move(name)), value_(value) {}
    // Whether the next check applies (the field is present and has not failed yet).
    bool active() const { return value_ != nullptr && !failed_; }
    Field& fail(std::string message);

    Validator& owner_;
    std::string name_;
    const Json* value_;  // nullptr: absent (optional) or already reported
    bool failed_ = false;
  };

  // `document` must outlive the validator; a non-object document fails as a whole.
  explicit Validator(const Json& document);

  Field required(std::string name);
  Field optional(std::string name);

  bool ok() const { return errors_.empty(); }
  const Json& errors() const { return errors_; }
  // 422 with {"errors": [...]}.
  http::Response response() const;
  void throw_if_invalid() const;

 private:
  const Json& document_;
  Json errors_ = Json::array();
};

}  // namespace rws
