#include "ws/deflate.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <new>
#include <stdexcept>
#include <vector>

#include <rws/http/headers.hpp>

namespace rws::ws {

namespace {

constexpr std::string_view kTail("\x00\x00\xff\xff", 4);
constexpr std::size_t kChunk = 16 * 1024;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

// Splits `s` at `sep` outside double quotes.
std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  bool quoted = false;
  std::size_t start = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '"') quoted = !quoted;
    if (s[i] == '\\' && quoted) ++i;
    if (i < s.size() && s[i] == sep && !quoted) {
      parts.push_back(trim(s.substr(start, i - start)));
      start = i + 1;
    }
  }
  parts.push_back(trim(s.substr(start)));
  return parts;
}

// A window-bits value: 8–15 as a token or a quoted string (RFC 7692 §7.1.2: both forms).
std::optional<int> window_bits(std::string_view value) {
  if (value.size() == 4 && value.front() == '"' && value.back() == '"') {
    value = value.substr(1, 2);
  } else if (value.size() == 3 && value.front() == '"' && value.back() == '"') {
    value = value.substr(1, 1);
  }
  if (value.size() == 1 && value[0] == '8') return 8;
  if (value.size() == 1 && value[0] == '9') return 9;
  if (value.size() == 2 && value[0] == '1' && value[1] >= '0' && value[1] <= '5') {
    return 10 + (value[1] - '0');
  }
  return std::nullopt;
}

// One offer ("permessage-deflate; p1; p2=v"): its agreement, or nullopt to decline it.
std::optional<DeflateAgreement> accept_offer(std::string_view offer) {
  std::vector<std::string_view> parts = split(offer, ';');
  if (!http::iequals(parts[0], "permessage-deflate")) return std::nullopt;
  DeflateAgreement agreed;
  bool seen_server_nct = false, seen_client_nct = false, seen_server_bits = false,
       seen_client_bits = false;
  for (std::size_t i = 1; i < parts.size(); ++i) {
    std::string_view name = parts[i];
    std::optional<std::string_view> value;
    if (std::size_t eq = name.find('='); eq != std::string_view::npos) {
      value = trim(name.substr(eq + 1));
      name = trim(name.substr(0, eq));
    }
    if (http::iequals(name, "server_no_context_takeover")) {
      if (seen_server_nct || value) return std::nullopt;
      seen_server_nct = agreed.params.server_no_context_takeover = true;
    } else if (http::iequals(name, "client_no_context_takeover")) {
      if (seen_client_nct || value) return std::nullopt;
      seen_client_nct = agreed.params.client_no_context_takeover = true;
    } else if (http::iequals(name, "server_max_window_bits")) {
      if (seen_server_bits || !value) return std::nullopt;
      std::optional<int> bits = window_bits(*value);
      if (!bits || *bits == 8) return std::nullopt;  // 8: see the header
      seen_server_bits = true;
      agreed.params.server_max_window_bits = *bits;
    } else if (http::iequals(name, "client_max_window_bits")) {
      if (seen_client_bits || (value && !window_bits(*value))) return std::nullopt;
      seen_client_bits = true;
    } else {
      return std::nullopt;
    }
  }
  agreed.response = "permessage-deflate";
  if (seen_server_nct) agreed.response += "; server_no_context_takeover";
  if (seen_client_nct) agreed.response += "; client_no_context_takeover";
  if (seen_server_bits) {
    agreed.response +=
        "; server_max_window_bits=" + std::to_string(agreed.params.server_max_window_bits);
  }
  return agreed;
}

}  // namespace

std::optional<DeflateAgreement> negotiate_deflate(std::string_view offers) {
  for (std::string_view offer : split(offers, ',')) {
    if (offer.empty()) continue;
    if (auto agreed = accept_offer(offer)) return agreed;
  }
  return std::nullopt;
}

Deflater::Deflater(int window_bits, bool no_context_takeover)
    : z_(new z_stream{}), no_context_takeover_(no_context_takeover) {
  if (deflateInit2(z_, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -window_bits, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    delete z_;
    throw std::bad_alloc();
  }
}

Deflater::~Deflater() {
  deflateEnd(z_);
  delete z_;
}

std::string Deflater::compress(std::string_view message) {
  std::string out;
  z_->next_in = reinterpret_cast<Bytef*>(const_cast<char*>(message.data()));
  z_->avail_in = static_cast<uInt>(message.size());
  std::size_t have = 0;
  do {
    out.resize(have + kChunk + message.size() / 8);
    z_->next_out = reinterpret_cast<Bytef*>(out.data() + have);
    z_->avail_out = static_cast<uInt>(out.size() - have);
    deflate(z_, Z_SYNC_FLUSH);  // cannot fail on a valid stream with output space
    have = out.size() - z_->avail_out;
  } while (z_->avail_out == 0);
  out.resize(have);
  // A sync flush always ends with the empty stored block's 00 00 ff ff.
  if (out.size() >= kTail.size() && std::string_view(out).substr(out.size() - 4) == kTail) {
    out.resize(out.size() - kTail.size());
  }
  // Nothing pending (an empty message right after a flush) makes zlib write nothing at all; an
  // empty stored block's first byte stands for it (§7.2.3.6), the tail completing it.
  if (out.empty()) out.push_back('\0');
  if (no_context_takeover_) deflateReset(z_);
  return out;
}

Inflater::Inflater(bool no_context_takeover)
    : z_(new z_stream{}), no_context_takeover_(no_context_takeover) {
  if (inflateInit2(z_, -15) != Z_OK) {
    delete z_;
    throw std::bad_alloc();
  }
}

Inflater::~Inflater() {
  inflateEnd(z_);
  delete z_;
}

std::optional<Error> Inflater::decompress(std::string_view payload, std::size_t max_size,
                                          std::string& out) {
  out.clear();
  // The payload, then the tail the sender removed.
  std::array<std::string_view, 2> inputs{payload, kTail};
  std::size_t have = 0;
  for (std::string_view input : inputs) {
    z_->next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
    z_->avail_in = static_cast<uInt>(input.size());
    for (;;) {
      // Room for one byte more than allowed, to notice an overflow.
      std::size_t room = max_size - have < kChunk ? max_size - have + 1 : kChunk;
      out.resize(have + room);
      z_->next_out = reinterpret_cast<Bytef*>(out.data() + have);
      z_->avail_out = static_cast<uInt>(room);
      int rc = inflate(z_, Z_SYNC_FLUSH);
      have = out.size() - z_->avail_out;
      out.resize(have);
      if (have > max_size) return Error{close_code::kMessageTooBig, "message too big"};
      if (rc == Z_STREAM_END) {
        // A block with BFINAL set ended the stream; what follows (the tail) is not DEFLATE.
        inflateReset(z_);
        return std::nullopt;
      }
      if (rc != Z_OK && rc != Z_BUF_ERROR) {
        return Error{close_code::kInvalidPayload, "invalid compressed data"};
      }
      // inflate() stops when the input is used up or the output is full: only the latter
      // leaves more to do.
      if (z_->avail_out != 0) break;
    }
  }
  if (no_context_takeover_) inflateReset(z_);
  return std::nullopt;
}

}  // namespace rws::ws
