#pragma once
// The verified client certificate of a QUIC connection (GnuTLS), described the way the TCP
// listener describes it (net/tls_info.cpp, OpenSSL), so handlers and X-Forwarded-Client-Cert
// see the same strings over HTTP/3. Internal to rws_h3.

#include <rws/http/tls_info.hpp>

typedef struct gnutls_session_int* gnutls_session_t;

namespace rws::h3 {

// Fills `out` from the first certificate the peer presented; false when there is none or it
// cannot be read.
bool describe_peer_certificate(gnutls_session_t session, http::ClientCertificate& out);

}  // namespace rws::h3
