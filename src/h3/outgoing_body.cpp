#include "h3/outgoing_body.hpp"

#include <vector>

#include "h3/nv.hpp"

namespace rws::h3 {

bool OutgoingBody::keep(http::BodyFrame& frame) {
  switch (frame.kind) {
    case http::BodyFrame::Kind::kData:
      if (!frame.data.empty()) {
        out.emplace_back(frame.data);
        out_bytes += frame.data.size();
      }
      return false;
    case http::BodyFrame::Kind::kTrailers:
      trailers_out = std::move(frame.trailers);
      return false;
    case http::BodyFrame::Kind::kEnd:
      out_ended = true;
      return true;
  }
  return false;
}

void OutgoingBody::release(std::uint64_t n) {
  while (n > 0 && !out.empty()) {
    const std::size_t left = out.front().size() - out_front_acked;
    if (n < left) {
      out_front_acked += static_cast<std::size_t>(n);
      out_bytes -= static_cast<std::size_t>(n);
      break;
    }
    n -= left;
    out_bytes -= left;
    out.pop_front();
    if (out_taken > 0) --out_taken;
    out_front_acked = 0;
  }
}

nghttp3_ssize OutgoingBody::provide(nghttp3_conn* http, std::int64_t stream_id, nghttp3_vec* vec,
                                    std::size_t veccnt, std::uint32_t* flags) {
  std::size_t n = 0;
  while (out_taken < out.size() && n < veccnt) {
    std::string& chunk = out[out_taken++];
    vec[n++] = nghttp3_vec{reinterpret_cast<uint8_t*>(chunk.data()), chunk.size()};
  }
  if (out_taken == out.size() && out_ended) {
    *flags |= NGHTTP3_DATA_FLAG_EOF;
    if (!trailers_out.empty()) {
      *flags |= NGHTTP3_DATA_FLAG_NO_END_STREAM;
      std::vector<std::string> strings;
      for (const http::Field& f : trailers_out) {
        strings.push_back(http::to_lower(f.name));
        strings.push_back(f.value);
      }
      std::vector<nghttp3_nv> nva = to_nva(strings);
      if (nghttp3_conn_submit_trailers(http, stream_id, nva.data(), nva.size()) != 0) {
        return NGHTTP3_ERR_CALLBACK_FAILURE;
      }
    }
    return static_cast<nghttp3_ssize>(n);
  }
  if (n == 0) {
    deferred = true;
    return NGHTTP3_ERR_WOULDBLOCK;
  }
  return static_cast<nghttp3_ssize>(n);
}

}  // namespace rws::h3
