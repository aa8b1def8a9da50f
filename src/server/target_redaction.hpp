#pragma once
// Keeps credentials out of access logs: the values of query parameters whose names look like
// credentials are replaced before a request target is logged.

#include <string>
#include <string_view>

namespace rws::server {

// True when `name` (a query parameter name, percent-decoded, any case) is one of access_token,
// token, password, passwd, secret, api_key, apikey, key, signature, sig, auth.
bool credential_parameter(std::string_view name);

// `target` with the value of every credential parameter in its query replaced by "REDACTED"
// (names and every other byte kept). Returns `target` itself, unchanged, when nothing is redacted;
// otherwise the result is built in `scratch` and a view of it is returned.
std::string_view redact_target(std::string_view target, std::string& scratch);

}  // namespace rws::server
