// StatsEmitter over the shared StatsD client (src/statsd/client.h): a bounded
// queue drained by the client's sender thread into MTU-sized multi-metric
// packets, so the engine never blocks; drops are counted by the client.
//
// Thread safety: the client is thread-safe; StatsdSlug is pure.
#include "server/stats_emitter.h"

#include "statsd/client.h"

namespace stopgap::server {
namespace {

class StatsdClientEmitter final : public StatsEmitter {
 public:
  explicit StatsdClientEmitter(std::unique_ptr<statsd::StatsdClient> client)
      : client_(std::move(client)) {}
  void Count(std::string_view name, int64_t n) override {
    client_->Count(name, static_cast<double>(n));
  }
  void TimingMs(std::string_view name, double ms) override { client_->Timing(name, ms); }
  void Gauge(std::string_view name, double value) override { client_->Gauge(name, value); }
  uint64_t dropped() const override { return client_->Counters().dropped_lines; }

 private:
  std::unique_ptr<statsd::StatsdClient> client_;
};

}  // namespace

std::string StatsdSlug(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    if (!ok) c = '_';
  }
  return out;
}

Result<std::unique_ptr<StatsEmitter>> MakeStatsEmitter(const std::string& address) {
  if (address.empty()) {
    return std::unique_ptr<StatsEmitter>(std::make_unique<NullStatsEmitter>());
  }
  statsd::StatsdClientOptions o;
  o.address = address;
  auto client = statsd::StatsdClient::Create(o);
  if (!client.ok()) return client.status();
  return std::unique_ptr<StatsEmitter>(std::make_unique<StatsdClientEmitter>(std::move(*client)));
}

}  // namespace stopgap::server
