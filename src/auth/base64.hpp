#pragma once
// Base64 (RFC 4648 §4, padded) and base64url (§5, unpadded as in JWS) codecs.

#include <optional>
#include <string>
#include <string_view>

namespace rws::auth {

std::string encode_base64(std::string_view bytes);
// Strict: only the base64url alphabet, no padding, no whitespace, no leftover bits.
std::optional<std::string> decode_base64url(std::string_view text);
// Strict padded standard base64.
std::optional<std::string> decode_base64(std::string_view text);

}  // namespace rws::auth
