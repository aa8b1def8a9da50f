#pragma once
// Gateway: the Service of gateway mode, built from [[route]] and [[upstream]].
//
// Each configuration becomes an immutable Snapshot (compiled matchers, actions, upstream groups
// with their balancers) published atomically; every request pins the snapshot it started with,
// so a reload never disturbs requests in flight. Backend state (health, ejection, circuit,
// latency) lives outside snapshots, keyed by upstream name and backend address, and carries over
// to the next snapshot; pooled connections are per worker and keyed by backend address, so they
// carry over too. A route's rate limiter (response cache) carries over while the route (by name)
// keeps the same rate_limit (cache) settings. Health checks and DNS refreshes run on the
// gateway's own maintenance thread.

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>

#include <rws/http/service.hpp>

#include "config/gateway_config.hpp"
#include "core/thread_shards.hpp"
#include "gateway/rate_limiters.hpp"
#include "gateway/response_caches.hpp"
#include "h3/client_credentials.hpp"
#include "net/tls_client_context.hpp"
#include "proxy/backend.hpp"

namespace rws::gateway {

struct Snapshot;

class Gateway final : public http::Service {
 public:
  // Throws std::runtime_error naming the problem (an unresolvable backend, a static root that
  // cannot be opened).
  explicit Gateway(const config::GatewayConfig& config);
  ~Gateway() override;

  // Publishes a new configuration; on failure throws and the current one stays.
  void reload(const config::GatewayConfig& config);

  asio::awaitable<http::Response> handle(http::Request request,
                                         http::RequestContext& context) override;

  // A request on the listener of [[ws_proxy]] `name`: proxied by that ws_proxy of the current
  // configuration (so a reload that changes its backends applies to new requests, while open
  // tunnels stay on their backend); 503 if a reload removed it.
  asio::awaitable<http::Response> handle_ws_proxy(const std::string& name, http::Request request,
                                                  http::RequestContext& context);

  // Calls `visit` for every backend of the current configuration (read-only, for metrics). Runs
  // under the backend registry's lock: `visit` must be short and must not call the gateway.
  void for_each_backend(const std::function<void(const proxy::Backend&)>& visit) const;

 private:
  std::shared_ptr<const Snapshot> build(const config::GatewayConfig& config);
  // The snapshot a new request pins: the current one, through this thread shard's reference
  // (see ShardReference).
  std::shared_ptr<const Snapshot> current() const;
  // Makes `next` current: publishes it, then drops every shard's reference to the one before.
  void publish(std::shared_ptr<const Snapshot> next);
  void start_health_checks(const Snapshot& snapshot);
  // The TLS client context of `upstream`'s https:// backends: the previous one while its
  // [upstream.tls] settings are unchanged (throws std::runtime_error naming an unusable file).
  std::shared_ptr<const net::TlsClientContext> tls_context_for(const config::Upstream& upstream);
  // The same settings for the upstream's h3:// backends (GnuTLS), kept while they are unchanged.
  std::shared_ptr<const h3::ClientCredentials> quic_credentials_for(
      const config::Upstream& upstream);
  void schedule_dns_refresh();

  mutable std::mutex registry_mutex_;
  std::map<std::pair<std::string, std::string>, std::shared_ptr<proxy::Backend>> registry_;
  RateLimiterRegistry rate_limiters_;  // route limiters, kept across reloads
  CacheRegistry caches_;               // route response caches, kept across reloads
  // Per upstream name: its [upstream.tls] settings and what was built from them (on the thread
  // that builds snapshots), kept while the settings stay the same so pooled connections stay
  // usable: the OpenSSL context of TCP backends and the GnuTLS credentials of h3:// ones.
  struct UpstreamTlsState {
    config::UpstreamTls settings;
    std::shared_ptr<const net::TlsClientContext> tcp;
    std::shared_ptr<const h3::ClientCredentials> quic;
  };
  UpstreamTlsState& tls_state_for(const config::Upstream& upstream);
  std::map<std::string, UpstreamTlsState> upstream_tls_;
  std::atomic<std::shared_ptr<const Snapshot>> snapshot_;
  // Each thread shard's reference to the current snapshot, made on the shard's first request
  // after a publish under a control block of its own: pinning the snapshot per request then
  // writes only the shard's cache lines, where copying snapshot_ would have every worker write
  // the same ones (the atomic's lock and the snapshot's use count).
  struct ShardReference {
    std::mutex mutex;  // serialises the threads sharing the shard, and publish()
    std::shared_ptr<const Snapshot> snapshot;  // null: take the current one
  };
  mutable core::ThreadShards<ShardReference> shard_references_;
  std::atomic<std::uint64_t> generation_{0};  // health checkers of older snapshots stop

  asio::io_context maintenance_{1};
  std::unique_ptr<asio::executor_work_guard<asio::io_context::executor_type>> keep_alive_;
  std::thread maintenance_thread_;
};

// The Service of [[ws_proxy]] `name`'s listener (Gateway::handle_ws_proxy).
std::shared_ptr<http::Service> make_ws_proxy_service(std::shared_ptr<Gateway> gateway,
                                                     std::string name);

}  // namespace rws::gateway
