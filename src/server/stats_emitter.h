// StatsEmitter: where stopgap serve sends its own remediation metrics over
// StatsD (names like stopgap.runs.<workaround>, stopgap.issue.<slug>.runs,
// stopgap.refused.<reason>, timers for step durations). Calls must never
// block the engine: implementations queue and drop (counting drops).
//
// Thread safety: implementations must be thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

namespace stopgap::server {

class StatsEmitter {
 public:
  virtual ~StatsEmitter() = default;
  virtual void Count(std::string_view name, int64_t n = 1) = 0;
  virtual void TimingMs(std::string_view name, double ms) = 0;
  virtual void Gauge(std::string_view name, double value) = 0;
  // Drops so far (queue full, send failures), for /metrics.
  virtual uint64_t dropped() const { return 0; }
};

class NullStatsEmitter final : public StatsEmitter {
 public:
  void Count(std::string_view, int64_t) override {}
  void TimingMs(std::string_view, double) override {}
  void Gauge(std::string_view, double) override {}
};

// The emitter for the catalog's `statsd:` address ("host:port"); a
// NullStatsEmitter when empty.
Result<std::unique_ptr<StatsEmitter>> MakeStatsEmitter(const std::string& address);

// A StatsD name fragment: [A-Za-z0-9_-] kept, everything else '_'
// ("acme/infra#123" -> "acme_infra_123").
std::string StatsdSlug(std::string_view s);

}  // namespace stopgap::server
