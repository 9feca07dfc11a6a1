// StatsdConfig: every setting of `stopgap statsd`, from flags or a YAML file
// (-c FILE, same names with underscores). Defaults are the reference
// statsd 0.9.0 defaults (see docs/statsd.md for the mapping of names).
//
// Thread safety: a plain value.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "statsd/line_parser.h"

namespace stopgap::statsd {

// histogram: [{metric: "render", bins: [0.01, 0.1, 1, "inf"]}]; first match wins.
struct HistogramSpec {
  std::string metric;        // substring of the timer name
  std::vector<double> bins;  // +infinity for "inf"
};

struct GraphiteNaming {
  bool legacy_namespace = true;
  std::string global_prefix = "stats";
  std::string prefix_counter = "counters";
  std::string prefix_timer = "timers";
  std::string prefix_gauge = "gauges";
  std::string prefix_set = "sets";
  std::optional<std::string> global_suffix;
  std::string prefix_stats = "statsd";
  bool flush_counts = true;
};

struct FlushConfig {
  int64_t flush_interval_ms = 10000;
  std::vector<double> percentiles = {90};
  std::vector<HistogramSpec> histograms;
  std::vector<std::string> calculated_timer_metrics;  // empty: all
  bool delete_counters = false;
  bool delete_timers = false;
  bool delete_gauges = false;
  bool delete_sets = false;
  int gauges_max_ttl = 1;
  bool key_name_sanitize = true;
  // A timer with more samples than this in one interval is summarised by a
  // TimerSketch (percentiles within 1 % relative error) instead of sorted;
  // 0: always exact.
  uint64_t timer_exact_max = 100000;
  // Distinct names held (counters, timers, gauges, sets and set members
  // together). A new name past it is dropped and counted in
  // <prefix_stats>.names_dropped; names already held keep aggregating.
  uint64_t max_names = 1'000'000;
  // Global aggregation: a set with more members than this is forwarded as a
  // HyperLogLog (0.81 % standard error), and the global node turns a set into
  // one past this many members.
  uint64_t set_exact_max = 1000;
  GraphiteNaming naming;
};

// graphiteProtocol: carbon's plaintext lines or its pickle receiver (the
// reference's byte-for-byte pickle; docs/statsd.md).
enum class GraphiteProtocol { kText, kPickle };
// repeaterProtocol: how backends/repeater forwards packets.
enum class RepeaterProtocol { kUdp4, kUdp6, kTcp };
std::string_view GraphiteProtocolName(GraphiteProtocol p);
std::string_view RepeaterProtocolName(RepeaterProtocol p);
// "text"/"pickle"; "udp4"/"udp6"/"tcp". False on anything else.
bool ParseGraphiteProtocol(std::string_view s, GraphiteProtocol* out);
bool ParseRepeaterProtocol(std::string_view s, RepeaterProtocol* out);

struct StatsdConfig {
  std::string udp = "127.0.0.1:8125";
  std::string tcp;                       // empty: no TCP intake
  std::string admin = "127.0.0.1:8126";  // empty: no admin interface
  std::string graphite;                  // empty: compute but discard (reference: no graphiteHost)
  int receivers = 0;                     // 0: half the CPUs, at least 1
  int rcvbuf_bytes = 32 << 20;           // SO_RCVBUF per socket (capped by net.core.rmem_max)
  int batch = 64;                        // packets per recvmmsg
  int max_packet_bytes = 65536;          // larger datagrams are counted as oversized
  // After a recvmmsg that emptied the socket, wait this long before the next
  // one so that a wakeup drains many datagrams, not a few (0: off; only
  // used when the effective SO_RCVBUF is >= 8 MiB, i.e. holds many ms).
  int receive_nap_us = 1000;
  size_t graphite_buffer_bytes = 256u << 20;  // unsent flushes kept while Graphite is down
  std::string health_status = "up";
  GraphiteProtocol graphite_protocol = GraphiteProtocol::kText;
  // backends/console: each flush's payload (Graphite plaintext lines) is also
  // printed to stdout, after a "Flushing stats at <date>" line.
  bool console = false;
  // backends/repeater: every received packet (UDP or TCP intake) is forwarded
  // as is to each HOST:PORT (empty: off).
  std::vector<std::string> repeat_to;
  RepeaterProtocol repeater_protocol = RepeaterProtocol::kUdp4;
  // HTTP address serving GET /metrics in the Prometheus exposition format
  // (empty: off).
  std::string prometheus;
  // Global aggregation (docs/statsd.md). A local node sends each interval's
  // aggregates to forward_to (HOST:PORT of a global node; empty: off); a
  // global node listens on global_listen (empty: off) and merges them.
  std::string forward_to;
  std::string node_id;                       // empty: hostname:udp-port
  size_t forward_buffer_bytes = 256u << 20;  // unacked frames kept (oldest dropped)
  size_t forward_buffer_intervals = 360;     // ... and at most this many intervals
  uint64_t forward_timer_exact_max = 64;     // timers with more values go as a sketch
  std::string global_listen;
  ParseOptions parse;
  FlushConfig flush;
};

// Loads YAML from text (file names the source in errors). Unknown keys are errors.
Result<StatsdConfig> ParseStatsdConfigYaml(const std::string& text, const std::string& file,
                                           StatsdConfig base = {});
// "key: value" lines of every setting (admin `config`, `--print-config`).
std::string DescribeConfig(const StatsdConfig& c);
// Parses "0.01,0.1,1,inf" style bin lists.
Result<std::vector<double>> ParseBins(const std::string& text);
// Fills the delete_* flags from deleteIdleStats semantics: each unset one follows it.
void ApplyDeleteIdleStats(bool delete_idle, StatsdConfig* c);

}  // namespace stopgap::statsd
