#include "config/server_config.hpp"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

#include "config/config_file.hpp"
#include "config/server_keys.hpp"
#include "config/suggest.hpp"

namespace rws::config {
namespace {

constexpr const char* kDefaultFile = "rws.config.toml";

// Environment variables accepted besides RWS_CONFIG_<KEY>, weaker than the canonical name.
struct EnvAlias {
  const char* variable;
  std::string_view key;
};
constexpr EnvAlias kEnvAliases[] = {{"RWS_CONFIG_MAX_BODY_SIZE_IN_BYTES", "max_body_size"}};

void apply_text(ServerConfig& config, const KeySpec& key, std::string_view text,
                const std::string& source, std::vector<std::string>& errors) {
  std::optional<Value> value = parse_text(key, text);
  if (!value) {
    errors.push_back(source + ": invalid value '" + std::string(text) + "' (expected " +
                     expected_description(key) + ")");
    return;
  }
  if (auto problem = apply_value(config, key, *value)) {
    errors.push_back(source + ": invalid value '" + std::string(text) + "': " + *problem);
  }
}

void apply_environment(ServerConfig& config, const std::function<const char*(const char*)>& getenv,
                       std::vector<std::string>& errors) {
  for (const EnvAlias& alias : kEnvAliases) {
    const char* text = getenv(alias.variable);
    if (text != nullptr && getenv(env_name(alias.key).c_str()) == nullptr) {
      apply_text(config, *find_key(alias.key), text, alias.variable, errors);
    }
  }
  for (const KeySpec& key : server_keys()) {
    std::string name = env_name(key.name);
    if (const char* text = getenv(name.c_str())) apply_text(config, key, text, name, errors);
  }
}

std::vector<std::string> flag_names() {
  std::vector<std::string> names = {"--config", "--help", "--version"};
  for (const KeySpec& key : server_keys())
    names.push_back(flag_name(key.name));
  return names;
}

void report_extras(const std::vector<std::string>& extras, std::vector<std::string>& errors) {
  std::vector<std::string> known = flag_names();
  std::vector<std::string_view> known_views(known.begin(), known.end());
  for (const std::string& arg : extras) {
    if (arg.rfind("--", 0) == 0) {
      std::string flag = arg.substr(0, arg.find('='));
      errors.push_back("unknown option '" + flag + "'" + did_you_mean(flag, known_views));
    } else {
      errors.push_back("unexpected argument '" + arg + "'");
    }
  }
}

// The TLS keys that only make sense together (file contents are checked by server::check_tls).
void check_tls_keys(const server::ServerOptions& o, std::vector<std::string>& errors) {
  const server::TlsOptions& tls = o.tls;
  if (tls.cert_file.empty() != tls.key_file.empty()) {
    errors.push_back(tls.cert_file.empty() ? "tls_key_file is set without tls_cert_file"
                                           : "tls_cert_file is set without tls_key_file");
    return;
  }
  if (tls.enabled()) {
    if (tls.http_redirect_port != 0 && tls.http_redirect_port == o.port) {
      errors.push_back("http_redirect_port " + std::to_string(tls.http_redirect_port) +
                       " is the TLS port; choose another port");
    }
    return;
  }
  if (!tls.client_ca_file.empty()) {
    errors.push_back("tls_client_ca_file needs TLS: set tls_cert_file and tls_key_file");
  }
  if (!tls.virtual_hosts.empty()) {
    errors.push_back(
        "[[virtual_host]] needs a default certificate: set tls_cert_file and tls_key_file");
  }
  if (tls.http_redirect_port != 0) {
    errors.push_back("http_redirect_port needs TLS: set tls_cert_file and tls_key_file");
  }
  if (tls.http3_retry) {
    errors.push_back("http3_retry needs TLS: set tls_cert_file and tls_key_file");
  }
}

}  // namespace

LoadResult load_server_config(const std::vector<std::string>& args,
                              const std::function<const char*(const char*)>& getenv) {
  LoadResult result;
  std::span<const KeySpec> keys = server_keys();

  CLI::App app(
      "rws: HTTP server, reverse proxy and web framework.\n"
      "Serves the current directory on http://0.0.0.0:7878 unless told otherwise.\n"
      "Each option also reads RWS_CONFIG_<NAME> and the key <name> of "
      "rws.config.toml;\nprecedence: command line > file > environment > default.",
      "rws");
  app.set_help_flag("-h,--help", "Print this help and exit");
  app.allow_extras();
  app.get_formatter()->column_width(44);
  bool version = false;
  app.add_flag("--version", version, "Print the version and exit");
  bool check_config = false;
  app.add_flag("--check-config", check_config,
               "Validate the configuration (all errors at once) and exit 0/1 without serving");
  CLI::App* check_command =
      app.add_subcommand("check-config", "Validate configuration FILE and exit 0/1");
  std::string check_file;
  check_command->add_option("file", check_file, "Configuration file")
      ->required()
      ->type_name("PATH");
  std::string config_path;
  CLI::Option* config_option =
      app.add_option("--config", config_path,
                     "Configuration file (default: RWS_CONFIG_FILE or ./rws.config.toml)")
          ->type_name("PATH");
  std::vector<std::string> cli_values(keys.size());
  std::vector<CLI::Option*> cli_options;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    std::string names = flag_name(keys[i].name);
    if (!keys[i].short_flag.empty()) names = std::string(keys[i].short_flag) + "," + names;
    static constexpr const char* kTypeNames[] = {"TEXT", "INT", "BOOL", "LIST"};
    cli_options.push_back(app.add_option(names, cli_values[i], std::string(keys[i].help))
                              ->type_name(kTypeNames[static_cast<int>(keys[i].type)]));
  }

  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    result.show_help = true;
    result.help_text = app.help();
    return result;
  } catch (const CLI::ParseError& e) {
    result.errors.push_back(e.what());
    return result;
  }
  if (version) {
    result.show_version = true;
    return result;
  }
  report_extras(app.remaining(), result.errors);
  result.check_only = check_config || check_command->parsed();

  ServerConfig& config = result.config;
  apply_environment(config, getenv, result.errors);

  // The file: --config, else RWS_CONFIG_FILE, else ./rws.config.toml if it exists.
  std::string file;
  if (check_command->parsed()) {
    file = check_file;
  } else if (config_option->count() > 0) {
    file = config_path;
  } else if (const char* env_file = getenv("RWS_CONFIG_FILE")) {
    file = env_file;
  } else if (::access(kDefaultFile, F_OK) == 0) {
    file = kDefaultFile;
  }
  if (!file.empty()) {
    if (::access(file.c_str(), R_OK) != 0) {
      result.errors.push_back("configuration file '" + file +
                              "' cannot be read: " + std::strerror(errno));
    } else {
      config.config_file = file;
      apply_config_file(file, config, result.errors, result.warnings);
    }
  }

  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (cli_options[i]->count() == 0) continue;
    apply_text(config, keys[i], cli_values[i], flag_name(keys[i].name), result.errors);
  }

  check_tls_keys(config.server, result.errors);

  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  if (config.server.thread_count > cores) {
    result.warnings.push_back("thread_count " + std::to_string(config.server.thread_count) +
                              " is more than the " + std::to_string(cores) +
                              " cores of this machine");
  }
  return result;
}

}  // namespace rws::config
