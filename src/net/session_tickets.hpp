#pragma once
// Stateless TLS session tickets with rotating keys, shared by every TLS context of the process.
//
// A new key is made every kTicketKeyLifetime; tickets are issued under the newest key and
// accepted under the newest three, so a ticket stays usable for two to three hours and a key
// compromise exposes at most that window. Tickets under an older key are renewed when used.
// Keys live only in memory: a restart invalidates every ticket (a full handshake follows).

#include <chrono>

typedef struct ssl_ctx_st SSL_CTX;

namespace rws::net {

inline constexpr std::chrono::hours kTicketKeyLifetime{1};

// Makes `ctx` issue and accept tickets under the process-wide rotating keys.
void use_rotating_ticket_keys(SSL_CTX* ctx);

}  // namespace rws::net
