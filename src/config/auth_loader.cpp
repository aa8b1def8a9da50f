#include "config/auth_loader.hpp"

#include <cstdlib>
#include <exception>
#include <string_view>

#include <rws/http/headers.hpp>

#include "http/syntax.hpp"

namespace rws::config {
namespace {

constexpr std::chrono::milliseconds kJwksTimeout{5000};
constexpr std::chrono::milliseconds kJwksRefresh = std::chrono::minutes(5);

struct TypeKeys {
  std::string_view type;
  std::vector<std::string_view> keys;
};
const TypeKeys kTypeKeys[] = {
    {"bearer", {"token_env"}},
    {"basic", {"htpasswd_file", "users_file", "realm"}},
    {"jwt",
     {"secret_env", "public_key_file", "jwks_url", "algorithms", "issuer", "audience",
      "leeway_secs", "claims_header"}},
};

// The value of the environment variable named at `key`; nullopt (and an error) when the key is
// absent or the variable is unset or empty.
std::optional<std::string> env_secret(TableReader& r, std::string_view key) {
  std::optional<std::string> name = r.string(key);
  if (!name) return std::nullopt;
  const char* value = name->empty() ? nullptr : std::getenv(name->c_str());
  if (value == nullptr || *value == '\0') {
    r.error(key, std::string(key) + ": environment variable '" + *name +
                     "' is not set or empty (the route would be unprotected)");
    return std::nullopt;
  }
  return std::string(value);
}

void read_bearer(TableReader& r, AuthConfig& a, bool& ok) {
  if (r.raw().get("token_env") == nullptr) {
    r.error_here("type = \"bearer\" needs token_env (the environment variable with the token)");
    ok = false;
    return;
  }
  std::optional<std::string> token = env_secret(r, "token_env");
  ok = ok && token.has_value();
  if (token) a.token = std::move(*token);
}

void read_basic(TableReader& r, AuthConfig& a, bool& ok) {
  r.alias("users_file", "htpasswd_file");
  if (auto realm = r.string("realm")) {
    if (!http::syntax::is_field_value(*realm)) {
      r.error("realm", "realm: control characters are not allowed");
      ok = false;
    }
    a.realm = *realm;
  }
  std::optional<std::string> path = r.string("htpasswd_file");
  if (!path) {
    if (r.node("htpasswd_file") == nullptr) {
      r.error_here("type = \"basic\" needs htpasswd_file");
    }
    ok = false;
    return;
  }
  try {
    auto users = std::make_shared<const auth::Htpasswd>(auth::Htpasswd::load(*path));
    if (users->size() == 0) {
      r.error("htpasswd_file", "htpasswd_file: '" + *path + "' has no users");
      ok = false;
    }
    a.users = std::move(users);
  } catch (const std::exception& e) {
    r.error("htpasswd_file", std::string("htpasswd_file: ") + e.what());
    ok = false;
  }
}

void read_jwt(TableReader& r, AuthConfig& a, bool& ok) {
  const std::string_view sources[] = {"secret_env", "public_key_file", "jwks_url"};
  std::string_view source;
  int given = 0;
  for (std::string_view s : sources) {
    if (r.node(s) != nullptr) {
      ++given;
      source = s;
    }
  }
  if (given != 1) {
    r.error_here(given == 0 ? "type = \"jwt\" needs one of secret_env, public_key_file, jwks_url"
                            : "type = \"jwt\": give only one of secret_env, public_key_file, "
                              "jwks_url");
    ok = false;
  }

  auth::JwtRules rules;
  if (auto names = r.strings("algorithms")) {
    for (const std::string& name : *names) {
      if (std::optional<auth::JwtAlg> alg = auth::jwt_alg_from_name(name)) {
        rules.algorithms.push_back(*alg);
      } else {
        r.error("algorithms",
                "algorithms: '" + name + "' is not supported (HS256, HS384, HS512, RS256, ES256)");
        ok = false;
      }
    }
    if (names->empty()) {
      r.error("algorithms", "algorithms is empty: no token would be accepted");
      ok = false;
    }
  }
  if (auto v = r.string("issuer")) rules.issuer = *v;
  if (auto v = r.strings("audience")) rules.audience = *v;
  if (auto v = r.integer("leeway_secs", 0, 3600)) rules.leeway = std::chrono::seconds(*v);
  if (auto v = r.string("claims_header")) {
    if (!http::syntax::is_token(*v)) {
      r.error("claims_header", "claims_header: '" + *v + "' is not a valid header name");
      ok = false;
    } else if (http::iequals(*v, "authorization") || http::iequals(*v, "content-length") ||
               http::iequals(*v, "transfer-encoding") || http::iequals(*v, "host") ||
               http::iequals(*v, "connection")) {
      r.error("claims_header", "claims_header: '" + *v + "' is a field rws or HTTP relies on");
      ok = false;
    }
    a.claims_header = *v;
  }
  if (given != 1) return;

  std::optional<auth::JwtKeys> keys;
  std::optional<std::string> jwks_url;
  try {
    if (source == "secret_env") {
      if (std::optional<std::string> secret = env_secret(r, "secret_env")) {
        keys = auth::JwtKeys::secret(std::move(*secret));
      }
    } else if (source == "public_key_file") {
      if (auto path = r.string("public_key_file")) keys = auth::JwtKeys::pem_file(*path);
    } else if ((jwks_url = r.string("jwks_url"))) {
      keys = auth::JwtKeys::jwks_url(*jwks_url, kJwksTimeout);
    }
  } catch (const std::exception& e) {
    r.error(source, std::string(source) + ": " + e.what());
  }
  if (!keys) {
    ok = false;
    return;
  }
  if (!ok) return;
  try {
    if (jwks_url) {
      // Refetched every 5 minutes from now on (and from scratch on each reload).
      a.jwt =
          std::make_shared<const auth::JwtVerifier>(std::move(*keys), std::move(rules), *jwks_url,
                                                    auth::JwksRefresh{kJwksRefresh, kJwksTimeout});
    } else {
      a.jwt = std::make_shared<const auth::JwtVerifier>(std::move(*keys), std::move(rules));
    }
  } catch (const std::exception& e) {
    r.error(r.raw().get("algorithms") != nullptr ? "algorithms" : source,
            std::string("algorithms: ") + e.what());
    ok = false;
  }
}

}  // namespace

std::optional<AuthConfig> read_auth(const toml::table& table, const std::string& what,
                                    Diagnostics& d) {
  TableReader r(table, what, d);
  AuthConfig a;
  bool ok = true;
  std::optional<std::string> type = r.string("type");
  const TypeKeys* keys = nullptr;
  if (type) {
    for (const TypeKeys& t : kTypeKeys) {
      if (t.type == *type) keys = &t;
    }
  }
  if (!type) {
    if (r.node("type") == nullptr)
      r.error_here("auth needs type = \"bearer\", \"basic\" or \"jwt\"");
    ok = false;
  } else if (keys == nullptr) {
    r.error("type", "type: '" + *type + "' is not one of \"bearer\", \"basic\", \"jwt\"");
    ok = false;
  } else if (keys->type == "bearer") {
    a.type = AuthConfig::Type::kBearer;
    read_bearer(r, a, ok);
  } else if (keys->type == "basic") {
    a.type = AuthConfig::Type::kBasic;
    read_basic(r, a, ok);
  } else {
    a.type = AuthConfig::Type::kJwt;
    read_jwt(r, a, ok);
  }
  // Keys of another type: named as such rather than as unknown.
  if (keys != nullptr) {
    for (const TypeKeys& other : kTypeKeys) {
      if (&other == keys) continue;
      for (std::string_view key : other.keys) {
        if (table.get(key) == nullptr) continue;
        r.node(key);
        r.error(key, std::string(key) + " is for type = \"" + std::string(other.type) +
                         "\", not \"" + *type + "\"");
        ok = false;
      }
    }
  }
  r.finish();
  if (!ok) return std::nullopt;
  return a;
}

}  // namespace rws::config
