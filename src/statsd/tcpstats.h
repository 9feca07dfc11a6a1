// tcpstats: the StatsD lines for one interval of kernel TCP counters — the
// deltas of the Tcp:/TcpExt: counters as counters, CurrEstab as a gauge, and
// the retransmit rate (ΔRetransSegs / ΔOutSegs) as a gauge. Pure.
//
// Thread safety: pure function.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "net/tcp_counters.h"

namespace stopgap::statsd {

// "<prefix>.<Field>:<delta>|c" for every reported field this kernel has,
// "<prefix>.CurrEstab:<v>|g", "<prefix>.retransmit_rate:<r>|g".
std::vector<std::string> TcpStatsLines(const net::TcpCounters& before,
                                       const net::TcpCounters& after, std::string_view prefix);

// The default prefix: "<short hostname>.tcp" (the hostname up to its first dot).
std::string DefaultTcpStatsPrefix();

}  // namespace stopgap::statsd
