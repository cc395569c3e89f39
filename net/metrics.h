// Counters for GET /metrics (Prometheus text exposition format 0.0.4).
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "core/types.h"

namespace ws::net {

struct LatencyHistogram {
  static constexpr std::array<double, 14> kBoundsSeconds = {
      0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10};
  std::array<uint64_t, kBoundsSeconds.size() + 1> buckets{};  // last: +Inf
  uint64_t count = 0;
  double sum_seconds = 0;
  void observe(Duration d);
  void render(std::string& out, const std::string& name, const std::string& help) const;
};

struct Metrics {
  uint64_t transfers_success = 0;
  uint64_t transfers_failed = 0;
  uint64_t transfers_rejected = 0;  // bad requests and reused ids
  uint64_t transfers_timeout = 0;   // no answer in time: outcome unknown to the client
  uint64_t http_requests = 0;
  uint64_t http_4xx = 0;
  uint64_t http_5xx = 0;
  uint64_t resends = 0;             // requests resent to a coordinator
  LatencyHistogram transfer_latency;
};

}  // namespace ws::net
