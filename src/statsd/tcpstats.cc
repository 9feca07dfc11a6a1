// tcpstats line building (see tcpstats.h).
#include "statsd/tcpstats.h"

#include <unistd.h>

#include "statsd/client.h"
#include "statsd/line_parser.h"

namespace stopgap::statsd {

std::vector<std::string> TcpStatsLines(const net::TcpCounters& before,
                                       const net::TcpCounters& after, std::string_view prefix) {
  std::vector<std::string> lines;
  std::string p(prefix);
  if (!p.empty()) p.push_back('.');
  for (std::string_view f : net::kTcpFields) {
    std::optional<int64_t> now = after.Get("Tcp", f);
    if (!now) continue;
    if (f == "CurrEstab") {
      lines.push_back(FormatStatsdLine(p + std::string(f), static_cast<double>(*now), "g"));
      continue;
    }
    uint64_t d = net::CounterDelta(before.Get("Tcp", f), now);
    lines.push_back(FormatStatsdLine(p + std::string(f), static_cast<double>(d), "c"));
  }
  for (std::string_view f : net::kTcpExtFields) {
    std::optional<int64_t> now = after.Get("TcpExt", f);
    if (!now) continue;
    uint64_t d = net::CounterDelta(before.Get("TcpExt", f), now);
    lines.push_back(FormatStatsdLine(p + std::string(f), static_cast<double>(d), "c"));
  }
  lines.push_back(FormatStatsdLine(p + "retransmit_rate", net::RetransmitRate(before, after), "g"));
  return lines;
}

std::string DefaultTcpStatsPrefix() {
  char host[256] = {0};
  if (gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') return "localhost.tcp";
  std::string h(host);
  h = h.substr(0, h.find('.'));
  std::string clean;
  SanitizeKey(h, &clean);
  return (clean.empty() ? "localhost" : clean) + ".tcp";
}

}  // namespace stopgap::statsd
