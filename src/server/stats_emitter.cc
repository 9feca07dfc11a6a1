// StatsEmitter factory and StatsD name slugs. The UDP emitter is the shared
// StatsD client (src/statsd/client.h) once it exists; until then an address
// is accepted and metrics are not sent (logged once).
//
// Thread safety: stateless.
#include "server/stats_emitter.h"

#include "core/log.h"

namespace stopgap::server {

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
  if (!address.empty()) {
    Log(LogLevel::kWarn, "statsd emission not available in this build", {{"statsd", address}});
  }
  return std::unique_ptr<StatsEmitter>(std::make_unique<NullStatsEmitter>());
}

}  // namespace stopgap::server
