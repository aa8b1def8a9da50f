// rws-client: fetches one URL over HTTP/1.1, HTTP/2 or HTTP/3 and prints the response like
// `curl -i`:
// the status line (which names the protocol that was negotiated), the header fields, a blank
// line and the body (or the body into a file with -o), then trailer fields if any.
//
//   rws-client [--http1.1 | --http2 | --http3] [-X METHOD] [-H "Name: value"]... [-d DATA | -d
//   @FILE]
//              [--cacert FILE] [-k] [-o FILE] [--max-time SECONDS] URL
//
// A Host field given with -H names the request's host (Host, or :authority over HTTP/2 and
// HTTP/3) instead of the URL's authority; the URL still says where to connect and the TLS
// server name.
//
// Exit status: 0 when a response arrived (whatever its status), 1 for a usage error, 2 when
// the request failed (the reason is printed on stderr).

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <rws/http/status.hpp>

#include "fetch.hpp"

namespace {

using rws::client::FetchRequest;
using rws::client::FetchResult;

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void print_head(const FetchResult& result) {
  std::string out = result.protocol + " " + std::to_string(result.head.status);
  if (result.protocol.starts_with("HTTP/1")) {
    out += " ";
    out += result.head.reason.empty() ? std::string(rws::http::reason_phrase(result.head.status))
                                      : result.head.reason;
  }
  out += "\r\n";
  for (const rws::http::Field& f : result.head.headers)
    out += f.name + ": " + f.value + "\r\n";
  out += "\r\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("rws-client: fetch a URL over HTTP/1.1, HTTP/2 or HTTP/3 and print the response");
  std::string url;
  FetchRequest request;
  bool http1 = false;
  bool http2 = false;
  bool http3 = false;
  std::vector<std::string> headers;
  std::string data;
  std::string output;
  double max_time = 30;
  app.add_option("url", url, "http:// or https:// URL")->required();
  app.add_flag("--http1.1", http1, "HTTP/1.1 only");
  app.add_flag("--http2", http2, "HTTP/2 only (prior knowledge on http://, ALPN h2 on https://)");
  app.add_flag("--http3", http3, "HTTP/3 over QUIC (https:// only)");
  app.add_option("-X,--request", request.method, "request method");
  app.add_option("-H,--header", headers, "request header field \"Name: value\"");
  app.add_option("-d,--data", data, "request body; @FILE reads it from FILE");
  app.add_option("--cacert", request.ca_file, "CA certificates (PEM) to verify the server with");
  app.add_flag("-k,--insecure", request.insecure, "accept any server certificate");
  app.add_option("-o,--output", output, "write the body to FILE instead of stdout");
  app.add_option("--max-time", max_time, "give up after this many seconds")
      ->check(CLI::PositiveNumber);
  app.set_version_flag("--version", "rws-client " RWS_VERSION);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 1;
  }
  if (int(http1) + int(http2) + int(http3) > 1) {
    std::cerr << "rws-client: --http1.1, --http2 and --http3 exclude each other\n";
    return 1;
  }
  request.protocol = http1   ? rws::client::Protocol::kHttp1
                     : http2 ? rws::client::Protocol::kHttp2
                     : http3 ? rws::client::Protocol::kHttp3
                             : rws::client::Protocol::kAuto;
  auto parsed = rws::client::parse_target_url(url);
  if (!parsed) {
    std::cerr << "rws-client: " << parsed.error() << "\n";
    return 1;
  }
  request.url = std::move(*parsed);
  for (const std::string& h : headers) {
    const std::size_t colon = h.find(':');
    if (colon == std::string::npos || colon == 0) {
      std::cerr << "rws-client: header '" << h << "' is not \"Name: value\"\n";
      return 1;
    }
    std::string value = h.substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    request.headers.emplace_back(h.substr(0, colon), value);
  }
  if (app.count("--data") > 0) {
    if (data.starts_with('@')) {
      auto content = read_file(data.substr(1));
      if (!content) {
        std::cerr << "rws-client: cannot read '" << data.substr(1) << "'\n";
        return 1;
      }
      request.body = std::move(*content);
    } else {
      request.body = data;
    }
    if (app.count("--request") == 0) request.method = "POST";
  }
  std::FILE* sink_file = stdout;
  if (!output.empty()) {
    sink_file = std::fopen(output.c_str(), "wb");
    if (sink_file == nullptr) {
      std::cerr << "rws-client: cannot write '" << output << "'\n";
      return 1;
    }
  }

  asio::io_context io;
  int status = 2;
  const auto limit = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::duration<double>(max_time));
  request.connect_timeout = limit;
  request.read_timeout = limit;
  std::optional<FetchResult> result;
  std::string error;
  // With -o the body goes to the file as it arrives; on stdout it follows the head, so it is
  // kept until the exchange is complete.
  std::string pending_body;
  auto sink = [&](std::string_view bytes) {
    if (sink_file == stdout) {
      pending_body.append(bytes);
    } else {
      std::fwrite(bytes.data(), 1, bytes.size(), sink_file);
    }
  };
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        using namespace asio::experimental::awaitable_operators;
        asio::steady_timer timer(io, limit);
        auto outcome =
            co_await (rws::client::fetch(request, sink) || timer.async_wait(asio::use_awaitable));
        if (outcome.index() == 1) {
          error = "no complete response within " + std::to_string(max_time) + " s";
          co_return;
        }
        auto& fetched = std::get<0>(outcome);
        if (!fetched) {
          error = fetched.error().describe();
          co_return;
        }
        result = std::move(*fetched);
      },
      asio::detached);
  io.run();
  if (result) {
    print_head(*result);
    std::fwrite(pending_body.data(), 1, pending_body.size(), stdout);
    if (!result->trailers.empty()) {
      std::string out = "\r\n";
      for (const rws::http::Field& f : result->trailers)
        out += f.name + ": " + f.value + "\r\n";
      std::fwrite(out.data(), 1, out.size(), stdout);
    }
    status = 0;
  }
  if (sink_file != stdout) std::fclose(sink_file);
  if (!result) std::cerr << "rws-client: " << error << "\n";
  return status;
}
