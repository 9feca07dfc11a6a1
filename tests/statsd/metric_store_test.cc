// Aggregation and flush rendering: an IntervalTable merged into a MetricStore
// must render the reference graphite backend's lines (names, timer stats,
// number formatting) and clear per the delete* settings.
#include "statsd/metric_store.h"

#include <gtest/gtest.h>

#include <map>
#include <sstream>

namespace stopgap::statsd {
namespace {

// name -> value of one flush (timestamps checked separately).
std::map<std::string, std::string> Lines(const FlushOutput& out, int64_t ts = 1000) {
  std::map<std::string, std::string> m;
  std::istringstream in(out.payload);
  std::string line;
  while (std::getline(in, line)) {
    size_t a = line.rfind(' ');
    size_t b = line.rfind(' ', a - 1);
    EXPECT_EQ(line.substr(a + 1), std::to_string(ts)) << line;
    m[line.substr(0, b)] = line.substr(b + 1, a - b - 1);
  }
  return m;
}

FlushOutput FlushPackets(MetricStore* store, std::initializer_list<std::string_view> packets,
                         int64_t ts = 1000) {
  IntervalTable t;
  for (std::string_view p : packets) t.AddPacket(p, {});
  store->Merge(t);
  return store->Flush(ts, GraphiteStats{}, [] { return int64_t{0}; });
}

TEST(MetricStoreTest, CountersLegacyNamespace) {
  MetricStore store({});
  auto m = Lines(FlushPackets(&store, {"a:1|c\na:2|c", "b:5|c|@0.5\nbad", "f:0.1|c\nf:0.2|c"}));
  EXPECT_EQ(m["stats.a"], "0.3");
  EXPECT_EQ(m["stats_counts.a"], "3");
  EXPECT_EQ(m["stats_counts.b"], "10");
  EXPECT_EQ(m["stats_counts.f"], "0.30000000000000004");
  EXPECT_EQ(m["stats_counts.statsd.packets_received"], "3");
  EXPECT_EQ(m["stats_counts.statsd.metrics_received"], "6");
  EXPECT_EQ(m["stats_counts.statsd.bad_lines_seen"], "1");
  EXPECT_EQ(m["statsd.numStats"], "6");
  EXPECT_EQ(m["stats.statsd.graphiteStats.last_flush"], "0");
  EXPECT_TRUE(m.count("stats.statsd.processing_time"));
  // Next interval: counters flush 0, no timestamp_lag until the second flush.
  EXPECT_FALSE(m.count("stats.gauges.statsd.timestamp_lag"));
  auto m2 = Lines(FlushPackets(&store, {}, 1010), 1010);
  EXPECT_EQ(m2["stats_counts.a"], "0");
  EXPECT_EQ(m2["stats.gauges.statsd.timestamp_lag"], "0");
}

// A flood of distinct names stops at max_names: the rest are dropped and
// counted (statsd.names_dropped); names already held keep aggregating.
TEST(MetricStoreTest, DistinctNamesAreCapped) {
  FlushConfig cfg;
  cfg.max_names = 10;  // 3 of them are statsd.* counters held from the start
  MetricStore store(cfg);
  std::string flood;
  for (int i = 0; i < 100; ++i) flood += "n" + std::to_string(i) + ":1|c\n";
  flood += "s:a|s\ns:b|s\ng:1|g\nt:1|ms\n";
  auto m = Lines(FlushPackets(&store, {flood}));
  EXPECT_EQ(store.names_dropped(), 97u);  // 93 counters, the set, the gauge, the timer
  EXPECT_EQ(m["stats_counts.statsd.names_dropped"], "97");
  EXPECT_EQ(m["stats_counts.n0"], "1");
  EXPECT_FALSE(m.count("stats_counts.n99"));
  EXPECT_LE(store.name_count(), 11u);
  auto m2 = Lines(FlushPackets(&store, {"n0:5|c\nnew:1|c"}, 1010), 1010);
  EXPECT_EQ(m2["stats_counts.n0"], "5");
  EXPECT_FALSE(m2.count("stats_counts.new"));
  EXPECT_EQ(store.names_dropped(), 98u);
}

TEST(MetricStoreTest, TimerStatisticsMatchTheReference) {
  FlushConfig cfg;
  cfg.percentiles = {90, -10, 50};
  MetricStore store(cfg);
  auto m = Lines(FlushPackets(
      &store, {"t:1|ms\nt:2|ms\nt:3|ms\nt:4|ms\nt:5|ms\nt:6|ms\nt:7|ms\nt:8|ms\nt:9|ms\nt:10|ms"}));
  EXPECT_EQ(m["stats.timers.t.count_90"], "9");
  EXPECT_EQ(m["stats.timers.t.upper_90"], "9");
  EXPECT_EQ(m["stats.timers.t.sum_90"], "45");
  EXPECT_EQ(m["stats.timers.t.mean_90"], "5");
  EXPECT_EQ(m["stats.timers.t.sum_squares_90"], "285");
  EXPECT_EQ(m["stats.timers.t.count_top10"], "1");
  EXPECT_EQ(m["stats.timers.t.lower_top10"], "10");
  EXPECT_EQ(m["stats.timers.t.sum_top10"], "10");
  EXPECT_EQ(m["stats.timers.t.count_50"], "5");
  EXPECT_EQ(m["stats.timers.t.mean_50"], "3");
  EXPECT_EQ(m["stats.timers.t.upper"], "10");
  EXPECT_EQ(m["stats.timers.t.lower"], "1");
  EXPECT_EQ(m["stats.timers.t.count"], "10");
  EXPECT_EQ(m["stats.timers.t.count_ps"], "1");
  EXPECT_EQ(m["stats.timers.t.sum"], "55");
  EXPECT_EQ(m["stats.timers.t.sum_squares"], "385");
  EXPECT_EQ(m["stats.timers.t.mean"], "5.5");
  EXPECT_EQ(m["stats.timers.t.median"], "5.5");
  EXPECT_EQ(m["stats.timers.t.std"], "2.8722813232690143");
  auto m2 = Lines(FlushPackets(&store, {}, 1000));
  EXPECT_EQ(m2["stats.timers.t.count"], "0");
  EXPECT_FALSE(m2.count("stats.timers.t.mean"));
}

TEST(MetricStoreTest, SingleTimerValueAndSampleRate) {
  MetricStore store({});
  auto m = Lines(FlushPackets(&store, {"t:100|ms|@0.1"}));
  EXPECT_EQ(m["stats.timers.t.count"], "10");
  EXPECT_EQ(m["stats.timers.t.count_90"], "1");
  EXPECT_EQ(m["stats.timers.t.upper_90"], "100");
  EXPECT_EQ(m["stats.timers.t.std"], "0");
}

TEST(MetricStoreTest, GaugesDeltasAndSets) {
  MetricStore store({});
  auto m = Lines(FlushPackets(
      &store, {"g:5|g\ng:+3|g\ng:-1|g", "d:+4|g", "z:0|g\nz:+2|g", "s:a|s\ns:b|s\ns:a|s"}));
  EXPECT_EQ(m["stats.gauges.g"], "7");
  EXPECT_EQ(m["stats.gauges.d"], "4");
  EXPECT_EQ(m["stats.gauges.z"], "2");
  EXPECT_EQ(m["stats.sets.s.count"], "2");
  // Deltas across intervals move the persisted value; sets reset to 0.
  auto m2 = Lines(FlushPackets(&store, {"g:+10|g"}));
  EXPECT_EQ(m2["stats.gauges.g"], "17");
  EXPECT_EQ(m2["stats.sets.s.count"], "0");
}

TEST(MetricStoreTest, ModernNamespaceWithPrefixesSuffixAndTags) {
  FlushConfig cfg;
  cfg.naming.legacy_namespace = false;
  cfg.naming.global_prefix = "pfx";
  cfg.naming.prefix_timer = "";
  cfg.naming.global_suffix = "h1";
  MetricStore store(cfg);
  auto m = Lines(FlushPackets(&store, {"a:1|c|#env:prod", "t:1|ms", "g:1|g", "s:x|s"}));
  EXPECT_EQ(m["pfx.counters.a.rate.h1;env=prod"], "0.1");
  EXPECT_EQ(m["pfx.counters.a.count.h1;env=prod"], "1");
  EXPECT_EQ(m["pfx.t.mean.h1"], "1");
  EXPECT_EQ(m["pfx.gauges.g.h1"], "1");
  EXPECT_EQ(m["pfx.sets.s.count.h1"], "1");
  EXPECT_EQ(m["pfx.statsd.numStats.h1"], "7");
  EXPECT_TRUE(m.count("pfx.statsd.graphiteStats.calculationtime.h1"));
  EXPECT_TRUE(m.count("pfx.statsd.graphiteStats.last_flush.h1"));
}

TEST(MetricStoreTest, DeleteIdleStats) {
  FlushConfig cfg;
  cfg.delete_counters = cfg.delete_timers = cfg.delete_gauges = cfg.delete_sets = true;
  MetricStore store(cfg);
  (void)FlushPackets(&store, {"a:1|c\nt:1|ms\ng:1|g\ns:x|s"});
  auto m = Lines(FlushPackets(&store, {}));
  EXPECT_FALSE(m.count("stats_counts.a"));
  EXPECT_FALSE(m.count("stats.timers.t.count"));
  EXPECT_FALSE(m.count("stats.gauges.g"));
  EXPECT_FALSE(m.count("stats.sets.s.count"));
  EXPECT_EQ(m["stats_counts.statsd.packets_received"], "0");  // kept, zeroed
}

TEST(MetricStoreTest, HistogramAndCalculatedTimerMetrics) {
  FlushConfig cfg;
  cfg.histograms.push_back({"render", {0.01, 0.1, 1, std::numeric_limits<double>::infinity()}});
  cfg.calculated_timer_metrics = {"count", "upper_percent", "histogram"};
  MetricStore store(cfg);
  auto m = Lines(FlushPackets(&store, {"render:0.005|ms\nrender:0.05|ms\nrender:5|ms"}));
  EXPECT_EQ(m["stats.timers.render.histogram.bin_0_01"], "1");
  EXPECT_EQ(m["stats.timers.render.histogram.bin_0_1"], "1");
  EXPECT_EQ(m["stats.timers.render.histogram.bin_1"], "0");
  EXPECT_EQ(m["stats.timers.render.histogram.bin_inf"], "1");
  EXPECT_EQ(m["stats.timers.render.count"], "3");
  EXPECT_EQ(m["stats.timers.render.upper_90"], "5");
  EXPECT_FALSE(m.count("stats.timers.render.mean"));
  EXPECT_FALSE(m.count("stats.timers.render.mean_90"));
}

TEST(MetricStoreTest, AdminDeleteAndInspect) {
  MetricStore store({});
  IntervalTable t;
  t.AddPacket("app.a:1|c\napp.b:2|c\nother:3|c", {});
  store.Merge(t);
  EXPECT_NE(store.InspectCounters().find("'app.a': 1"), std::string::npos);
  EXPECT_EQ(store.Delete(MetricStore::Kind::kCounters, {"nothere"}),
            "metric nothere not found\nEND\n\n");
  std::string r = store.Delete(MetricStore::Kind::kCounters, {"app.*"});
  EXPECT_NE(r.find("deleted: app.a\n"), std::string::npos);
  EXPECT_NE(r.find("deleted: app.b\n"), std::string::npos);
  EXPECT_EQ(store.InspectCounters().find("app.a"), std::string::npos);
}

}  // namespace
}  // namespace stopgap::statsd
