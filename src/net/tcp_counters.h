// The kernel's TCP counters from /proc/net/snmp and /proc/net/netstat, parsed
// by their header lines (never by column position: kernels add and reorder
// fields). Shared by `stopgap tcpstats` and the diagnostics `tcp` collector.
//
//   Result<TcpCounters> now = ReadTcpCounters();
//   uint64_t retrans = CounterDelta(before.Get("Tcp", "RetransSegs"), ...);
//   double rate = RetransmitRate(before, *now);
//
// Thread safety: pure functions and plain values; ReadTcpCounters only reads files.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace stopgap::net {

// One field of one section, e.g. {"Tcp", "RetransSegs", 12}. Values are kept as
// signed 64-bit (Tcp MaxConn is -1); counters above INT64_MAX are clamped.
struct ProcNetCounter {
  std::string section;  // "Tcp", "TcpExt", "Udp", "IpExt", ...
  std::string name;     // "ActiveOpens", "ListenDrops", ...
  int64_t value = 0;
};

// Every "Section: names" / "Section: values" pair of both files, in file order.
struct TcpCounters {
  std::vector<ProcNetCounter> counters;

  // The value of section.name, or nullopt when this kernel does not have it.
  std::optional<int64_t> Get(std::string_view section, std::string_view name) const;
  // All counters of one section, in file order.
  std::vector<const ProcNetCounter*> Section(std::string_view section) const;
};

// The Tcp: fields tcpstats reports (when present).
inline constexpr std::string_view kTcpFields[] = {
    "ActiveOpens", "PassiveOpens", "AttemptFails", "EstabResets", "CurrEstab",   "InSegs",
    "OutSegs",     "RetransSegs",  "InErrs",       "OutRsts",     "InCsumErrors"};
// The TcpExt: fields tcpstats reports (when present).
inline constexpr std::string_view kTcpExtFields[] = {
    "TCPLostRetransmit", "TCPTimeouts",    "TCPFastRetrans", "TCPSlowStartRetrans",
    "ListenOverflows",   "ListenDrops",    "TCPSynRetrans",  "TCPAbortOnTimeout",
    "TCPAbortOnData",    "TCPAbortOnClose"};

// Parses the text of /proc/net/snmp and /proc/net/netstat (either may be
// empty). A header line is followed by a value line with the same "Section:"
// prefix; a mismatch in prefix or in field count is an InvalidArgument naming
// the section. A section with no Tcp: line at all is accepted (empty result).
Result<TcpCounters> ParseTcpCounters(std::string_view snmp, std::string_view netstat);

// Reads <proc_root>/net/snmp and <proc_root>/net/netstat (netstat optional).
Result<TcpCounters> ReadTcpCounters(const std::string& proc_root = "/proc");

// after - before for a monotonic counter; 0 when the counter went backwards
// (wrap, reset, a different namespace) or either reading is missing: never negative.
uint64_t CounterDelta(std::optional<int64_t> before, std::optional<int64_t> after);

// Delta of section.name between two readings (see CounterDelta).
uint64_t CounterDelta(const TcpCounters& before, const TcpCounters& after, std::string_view section,
                      std::string_view name);

// ΔRetransSegs / ΔOutSegs between two readings: a fraction in [0, 1] (can be
// above 1 only if the kernel retransmits more than it sends new segments, which
// it does not). 0 when nothing was sent.
double RetransmitRate(const TcpCounters& before, const TcpCounters& after);

}  // namespace stopgap::net
