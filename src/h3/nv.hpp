#pragma once
// Field conversions between rws and nghttp3 (views, no copies). Internal to rws_h3.

#include <nghttp3/nghttp3.h>

#include <string>
#include <string_view>
#include <vector>

namespace rws::h3 {

// A field pointing at `name` and `value`, which must outlive its use.
inline nghttp3_nv make_nv(std::string_view name, std::string_view value) {
  return nghttp3_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                    reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(),
                    value.size(), NGHTTP3_NV_FLAG_NONE};
}

// `strings` holds name, value, name, value...; the returned fields point into it.
inline std::vector<nghttp3_nv> to_nva(const std::vector<std::string>& strings) {
  std::vector<nghttp3_nv> nva;
  nva.reserve(strings.size() / 2);
  for (std::size_t i = 0; i + 1 < strings.size(); i += 2)
    nva.push_back(make_nv(strings[i], strings[i + 1]));
  return nva;
}

inline std::string_view view(nghttp3_rcbuf* buffer) {
  const nghttp3_vec v = nghttp3_rcbuf_get_buf(buffer);
  return {reinterpret_cast<const char*>(v.base), v.len};
}

}  // namespace rws::h3
