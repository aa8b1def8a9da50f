#pragma once
// Reports each exchange to two logs in turn (the access log and the metrics registry).

#include "http/exchange_log.hpp"

namespace rws::server {

class ExchangeFanOut final : public http::ExchangeLog {
 public:
  ExchangeFanOut(http::ExchangeLog& first, http::ExchangeLog& second)
      : first_(first), second_(second) {}

  void record(const http::ExchangeRecord& exchange) noexcept override {
    first_.record(exchange);
    second_.record(exchange);
  }

 private:
  http::ExchangeLog& first_;
  http::ExchangeLog& second_;
};

}  // namespace rws::server
