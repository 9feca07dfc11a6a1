// IntervalTable::AddPacket's one-pass fast path (clean name, digits, c/ms)
// must aggregate exactly what the full parser does, line by line, for lines
// at and just outside the fast path's edges; and the SIMD name scan must
// agree with the byte table.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "statsd/internal/name_scan.h"
#include "statsd/interval_table.h"

namespace stopgap::statsd {
namespace {

struct Snapshot {
  std::map<std::string, double> counters;
  std::map<std::string, std::vector<double>> timers;
  std::map<std::string, double> timer_counts;
  std::map<std::string, double> gauges;
  uint64_t lines = 0, bad = 0;
};

Snapshot Snap(IntervalTable& t) {
  Snapshot s;
  for (uint32_t i : t.touched_counters()) {
    s.counters[std::string(t.counters().at(i).name)] = t.counters().at(i).value.value;
  }
  for (uint32_t i : t.touched_timers()) {
    std::string n(t.timers().at(i).name);
    s.timers[n] = t.timers().at(i).value.values;
    s.timer_counts[n] = t.timers().at(i).value.count;
  }
  for (uint32_t i : t.touched_gauges()) {
    s.gauges[std::string(t.gauges().at(i).name)] = t.gauges().at(i).value.value;
  }
  s.lines = t.counts().lines;
  s.bad = t.counts().bad_lines;
  return s;
}

// The same packet through AddPacket and, line by line, through AddLine (the
// full parser).
void ExpectSameAsFullParser(const std::string& packet, const ParseOptions& opts = {}) {
  IntervalTable fast, full;
  fast.AddPacket(packet, opts);
  ForEachLine(packet, [&](std::string_view line) {
    ++full.counts().lines;
    full.AddLine(line, opts);
  });
  Snapshot a = Snap(fast), b = Snap(full);
  EXPECT_EQ(a.counters, b.counters) << packet;
  EXPECT_EQ(a.timers, b.timers) << packet;
  EXPECT_EQ(a.timer_counts, b.timer_counts) << packet;
  EXPECT_EQ(a.gauges, b.gauges) << packet;
  EXPECT_EQ(a.lines, b.lines) << packet;
  EXPECT_EQ(a.bad, b.bad) << packet;
}

TEST(FastPathTest, SameResultsAsTheFullParser) {
  const std::vector<std::string> lines = {
      "a:1|c",
      "a:0|c",
      "a:007|c",
      "a:123456789012345|c",
      "a:1234567890123456|c",
      "a:1|c|@0.5",
      "a:1|cx",
      "a:1|c ",
      "a:1|c\r",
      "a:1|ms",
      "a:0|ms",
      "a:5|m",
      "a:5|mss",
      "a:1|ms|@0.1",
      "a:-1|ms",
      "a:+1|c",
      "a:1.5|c",
      "a:1e3|c",
      "a:|c",
      "a:1|",
      "a:1",
      ":1|c",
      "a:1|c:2|ms",
      "a:1|c|#t:v",
      "a b:1|c",
      "a/b:1|c",
      "caf\xc3\xa9:1|c",
      "a:1|g",
      "a:+1|g",
      "a:x|s",
      "garbage",
      "a:0x10|c",
      "a: 1|c",
      "a:1 |c",
      "bench.stopgap.load.generator.metric.name.padding.0000000001:1|c",
      "bench.stopgap.load.generator.metric.name.padding.0000000001:12|ms",
      "bench.stopgap.load.generator.metric.name.padding.000000000\x01:1|c",
      "bench.stopgap.load.generator.metric.name.padding.0000000001|1|c",
      "x.y_z-w;k=v:3|c",
      "0123456789abcdef:1|c",
      "0123456789abcdef0:1|c",
  };
  for (const std::string& l : lines) {
    ExpectSameAsFullParser(l);
    ExpectSameAsFullParser(l + "\n");
    ExpectSameAsFullParser("\n" + l + "\n\nz:1|c");
    ExpectSameAsFullParser(l, ParseOptions{.strict = true});
    ExpectSameAsFullParser(l, ParseOptions{.dogstatsd = true});
    ExpectSameAsFullParser(l, ParseOptions{.sanitize = false});
  }
  std::string all;
  for (const std::string& l : lines) all += l + "\n";
  ExpectSameAsFullParser(all);
}

TEST(FastPathTest, PacketBoundariesInsideTheLine) {
  // The packet ends inside the type or right after the digits: never read past it.
  const std::string full = "name.with.some.length:12|ms";
  for (size_t n = 0; n <= full.size(); ++n) {
    std::string cut = full.substr(0, n);
    ExpectSameAsFullParser(cut);
  }
}

TEST(FastPathTest, SimdNameScanAgreesWithTheByteTable) {
  std::string s(40, 'a');
  for (int c = 0; c < 256; ++c) {
    for (size_t pos : {0u, 5u, 15u, 16u, 17u, 31u, 39u}) {
      std::string t = s;
      t[pos] = static_cast<char>(c);
      const char* end = t.data() + t.size();
      const char* want = t.data();
      while (want < end && internal::NameByteAllowed(*want)) ++want;
      EXPECT_EQ(internal::ScanCleanName(t.data(), end) - t.data(), want - t.data())
          << "byte " << c << " at " << pos;
    }
  }
}

}  // namespace
}  // namespace stopgap::statsd
