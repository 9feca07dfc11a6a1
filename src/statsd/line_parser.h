// The StatsD line parser: one line "name:value|type[|@rate][|#tags]" (several
// ":value|type" parts allowed) into samples, with exactly the reference
// statsd 0.9.0 rules for validity, sample rates, tags and name sanitising.
// A pure function over std::string_view: no I/O, no allocation once the
// caller's scratch string and sample vector have grown.
//
//   ParsedLine out; ParseScratch scratch;
//   ForEachLine(packet, [&](std::string_view line) { ParseLine(line, opts, &scratch, &out); ... });
//
// Thread safety: pure; each thread uses its own scratch and ParsedLine.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace stopgap::statsd {

enum class MetricKind : uint8_t { kCounter, kGauge, kTimer, kSet };

struct ParseOptions {
  bool strict = false;     // unknown type letters are bad lines (reference: counters)
  bool dogstatsd = false;  // h/d are timers (histograms); _e{ and _sc| lines are events
  bool sanitize = true;    // keyNameSanitize
};

struct MetricSample {
  MetricKind kind = MetricKind::kCounter;
  bool gauge_delta = false;  // gauge value began with + or -
  // counter: value * (1 / rate), as the reference adds it; gauge: the value;
  // timer: the value (count increment in timer_count).
  double value = 0;
  double timer_count = 1;       // timers: 1 / rate
  std::string_view set_member;  // sets: the member (into the line)
};

struct ParsedLine {
  std::string_view key;  // sanitised name (with ";tag" parts); into the line or scratch
  std::vector<MetricSample> samples;
  uint32_t bad = 0;    // invalid value parts: each one counts in bad_lines_seen
  bool event = false;  // a DogStatsD event or service check (dogstatsd mode only)
};

// Buffers a parsing thread reuses: the key when it had to be rewritten.
struct ParseScratch {
  std::string key;
  std::string joined;
};

// Parses one non-empty line (no '\n'). `out` is overwritten; out->key may
// point into scratch, valid until the next call.
void ParseLine(std::string_view line, const ParseOptions& opts, ParseScratch* scratch,
               ParsedLine* out);

// The reference's sanitizeKeyName: runs of JS whitespace -> "_", "/" -> "-",
// bytes outside [A-Za-z0-9_.;=-] dropped. Appends to *out.
void SanitizeKey(std::string_view key, std::string* out);

// Calls fn(line) for every non-empty '\n'-separated line of a packet.
template <typename Fn>
inline void ForEachLine(std::string_view packet, Fn&& fn) {
  const char* p = packet.data();
  const char* end = p + packet.size();
  while (p < end) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
    const char* e = nl ? nl : end;
    if (e > p) fn(std::string_view(p, static_cast<size_t>(e - p)));
    p = e + 1;
  }
}

}  // namespace stopgap::statsd
