#include "h2/outgoing_data.hpp"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace rws::h2 {

ssize_t provide_data(nghttp2_session* session, std::int32_t stream_id, OutgoingData& data,
                     std::uint8_t* buffer, std::size_t length, std::uint32_t* flags) {
  const std::size_t n = std::min(length, data.pending_out());
  std::memcpy(buffer, data.out.data() + data.out_offset, n);
  data.out_offset += n;
  if (data.out_offset == data.out.size()) {
    data.out.clear();
    data.out_offset = 0;
  }
  if (data.pending_out() == 0 && data.out_ended) {
    *flags |= NGHTTP2_DATA_FLAG_EOF;
    data.eof_taken = true;
    if (!data.trailers_out.empty()) {
      *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
      std::vector<std::string> names;
      std::vector<nghttp2_nv> nva;
      names.reserve(data.trailers_out.size());
      for (const http::Field& f : data.trailers_out)
        names.push_back(http::to_lower(f.name));
      std::size_t i = 0;
      for (const http::Field& f : data.trailers_out) {
        const std::string& name = names[i++];
        nva.push_back(nghttp2_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                                 reinterpret_cast<uint8_t*>(const_cast<char*>(f.value.data())),
                                 name.size(), f.value.size(), NGHTTP2_NV_FLAG_NONE});
      }
      nghttp2_submit_trailer(session, stream_id, nva.data(), nva.size());
    }
    return static_cast<ssize_t>(n);
  }
  if (n == 0) {
    data.deferred = true;
    return NGHTTP2_ERR_DEFERRED;
  }
  return static_cast<ssize_t>(n);
}

}  // namespace rws::h2
