// Global aggregation: the HyperLogLog's accuracy, the forward frame codec
// (round trip, and refusal of truncated or inconsistent input), and the merge
// of several local nodes' intervals into one global MetricStore: counters
// exact, percentiles within 1 % of the exact ones over every sample, gauges
// by latest write, sets exact or within the HLL's error.
#include "statsd/forward.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <sstream>

#include "statsd/hll.h"
#include "statsd/metric_store.h"

namespace stopgap::statsd {
namespace {

std::map<std::string, double> FlushValues(MetricStore* store) {
  FlushOutput out = store->Flush(1000, GraphiteStats{}, [] { return int64_t{0}; });
  std::map<std::string, double> m;
  std::istringstream in(out.payload);
  std::string name, value, ts;
  while (in >> name >> value >> ts) m[name] = std::stod(value);
  return m;
}

TEST(HllTest, EstimateWithinThreePercentFromTenToAMillion) {
  Hll h;
  uint64_t n = 0;
  for (uint64_t target : {10, 100, 1000, 10000, 100000, 1000000}) {
    for (; n < target; ++n) h.Add("member-" + std::to_string(n));
    double e = h.Estimate();
    EXPECT_NEAR(e, static_cast<double>(target), 0.03 * static_cast<double>(target) + 0.5)
        << "n=" << target;
  }
  // Adding the same members again changes nothing.
  double before = h.Estimate();
  for (int i = 0; i < 1000; ++i) h.Add("member-" + std::to_string(i));
  EXPECT_EQ(h.Estimate(), before);
}

TEST(HllTest, MergeIsTheUnion) {
  Hll a, b;
  for (int i = 0; i < 60000; ++i) a.Add("x" + std::to_string(i));
  for (int i = 40000; i < 100000; ++i) b.Add("x" + std::to_string(i));
  a.Merge(b);
  EXPECT_NEAR(a.Estimate(), 100000, 3000);
  EXPECT_EQ(Hll::Hash("abc"), Hll::Hash("abc"));  // fixed seed: the same on every node
  EXPECT_NE(Hll::Hash("abc"), Hll::Hash("abd"));
}

TEST(ForwardCodecTest, SketchRoundTripAndRefusals) {
  TimerSketch s;
  for (int i = 1; i <= 5000; ++i) s.Add(i * 0.37);
  s.Add(0);
  s.Add(-4.5);
  std::string bytes;
  s.Encode(&bytes);
  std::string_view in = bytes;
  TimerSketch d;
  ASSERT_TRUE(d.Decode(&in));
  EXPECT_TRUE(in.empty());
  EXPECT_EQ(d.count(), s.count());
  EXPECT_EQ(d.min(), s.min());
  EXPECT_EQ(d.max(), s.max());
  EXPECT_EQ(d.sum(), s.sum());
  for (uint64_t k : {1, 2, 100, 2500, 4999, 5002}) EXPECT_EQ(d.ValueAtRank(k), s.ValueAtRank(k));
  // Every truncation fails; a count that disagrees with the buckets fails.
  for (size_t n = 0; n < bytes.size(); ++n) {
    std::string_view cut = std::string_view(bytes).substr(0, n);
    TimerSketch x;
    EXPECT_FALSE(x.Decode(&cut)) << n;
  }
  std::string lie = bytes;
  lie[0] = static_cast<char>(lie[0] ^ 1);  // count's low bit
  std::string_view lv = lie;
  TimerSketch x;
  EXPECT_FALSE(x.Decode(&lv));
}

TEST(ForwardCodecTest, FrameRoundTrip) {
  ForwardEncoder e({"node-a", 42, 7, 1700000000123, 10000});
  e.Counter("hits", 12.5);
  e.Gauge("temp", -3.25, 1700000000100);
  e.TimerExact("lat", 3, {1, 2, 3});
  TimerSketch sk;
  for (int i = 0; i < 1000; ++i) sk.Add(i);
  e.TimerSketched("big", 2000, sk);
  e.SetExact("users", {"u1", "u2"});
  Hll h;
  h.Add("z");
  e.SetHll("visitors", h);
  std::string frame = e.Finish();
  // Partial frames ask for more; the whole one decodes.
  for (size_t n : {size_t{0}, size_t{3}, size_t{15}, frame.size() - 1}) {
    Result<size_t> sz = ForwardFrameSize(std::string_view(frame).substr(0, n));
    ASSERT_TRUE(sz.ok()) << n;
    EXPECT_EQ(*sz, 0u) << n;
  }
  ASSERT_EQ(*ForwardFrameSize(frame + "SGFW"), frame.size());
  Result<ForwardInterval> iv = DecodeForwardFrame(frame);
  ASSERT_TRUE(iv.ok()) << iv.status().message();
  EXPECT_EQ(iv->header.node_id, "node-a");
  EXPECT_EQ(iv->header.session, 42u);
  EXPECT_EQ(iv->header.seq, 7u);
  EXPECT_EQ(iv->header.time_ms, 1700000000123);
  EXPECT_EQ(iv->header.interval_ms, 10000);
  ASSERT_EQ(iv->counters.size(), 1u);
  EXPECT_EQ(iv->counters[0].first, "hits");
  EXPECT_EQ(iv->counters[0].second, 12.5);
  ASSERT_EQ(iv->gauges.size(), 1u);
  EXPECT_EQ(iv->gauges[0].value, -3.25);
  EXPECT_EQ(iv->gauges[0].ts_ms, 1700000000100);
  ASSERT_EQ(iv->timers.size(), 2u);
  EXPECT_EQ(iv->timers[0].values, (std::vector<double>{1, 2, 3}));
  ASSERT_TRUE(iv->timers[1].sketch);
  EXPECT_EQ(iv->timers[1].sketch->count(), 1000u);
  EXPECT_EQ(iv->timers[1].count, 2000);
  ASSERT_EQ(iv->sets.size(), 2u);
  EXPECT_EQ(iv->sets[0].members, (std::vector<std::string_view>{"u1", "u2"}));
  ASSERT_TRUE(iv->sets[1].hll);
  EXPECT_NEAR(iv->sets[1].hll->Estimate(), 1, 0.01);
  auto ack = DecodeForwardAck(EncodeForwardAck(42, 7));
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->first, 42u);
  EXPECT_EQ(ack->second, 7u);
}

TEST(ForwardCodecTest, RefusesBadFrames) {
  ForwardEncoder e({"n", 1, 1, 0, 1000});
  e.Counter("a", 1);
  std::string frame = e.Finish();
  EXPECT_FALSE(ForwardFrameSize("GET / HTTP/1.1\r\n").ok());
  std::string v2 = frame;
  v2[4] = 2;
  EXPECT_FALSE(ForwardFrameSize(v2).ok());
  std::string huge = frame;
  huge[11] = 0x7f;  // compressed length of ~2 GiB
  EXPECT_FALSE(ForwardFrameSize(huge).ok());
  std::string flipped = frame;
  flipped.back() = static_cast<char>(flipped.back() ^ 0x55);
  EXPECT_FALSE(DecodeForwardFrame(flipped).ok());
  // Payload level: every truncation and any trailing byte is refused.
  std::string payload;
  {
    ForwardEncoder p({"n", 1, 1, 0, 1000});
    p.Counter("a", 1);
    p.SetExact("s", {"m"});
    std::string f = p.Finish();
    Result<ForwardInterval> ok = DecodeForwardFrame(f);
    ASSERT_TRUE(ok.ok());
    payload = *ok->payload;
  }
  for (size_t n = 0; n < payload.size(); ++n) {
    EXPECT_FALSE(DecodeForwardPayload(payload.substr(0, n)).ok()) << n;
  }
  EXPECT_FALSE(DecodeForwardPayload(payload + "x").ok());
  EXPECT_TRUE(DecodeForwardPayload(payload).ok());
}

// Three local nodes, each its own MetricStore fed from IntervalTables, encode
// their interval; the global store merges the decoded frames. The global
// flush must match what one server receiving every sample would compute.
TEST(ForwardMergeTest, ThreeNodesIntoOneGlobal) {
  FlushConfig cfg;
  cfg.percentiles = {90, 50};
  cfg.set_exact_max = 1000;
  MetricStore global(cfg);
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> lat(3.0, 1.0);
  std::vector<double> all_small, all_big;
  double hits = 0;
  for (int node = 0; node < 3; ++node) {
    MetricStore local(cfg);
    IntervalTable t;
    t.set_clock_ms(1000 + node);  // node 2 writes the gauge last
    std::string p;
    for (int i = 0; i < 4000; ++i) {
      double v = std::round(lat(rng) * 1000) / 1000;
      all_big.push_back(v);
      t.AddPacket("big:" + std::to_string(v) + "|ms", {});
    }
    for (int i = 0; i < 10; ++i) {
      double v = node * 10 + i;
      all_small.push_back(v);
      t.AddPacket("small:" + std::to_string(v) + "|ms", {});
    }
    for (int i = 0; i < 100 + node; ++i) {
      t.AddPacket("hits:" + std::to_string(i % 7) + "|c", {});
      hits += i % 7;
    }
    t.AddPacket("temp:" + std::to_string(node * 10) + "|g", {});
    t.AddPacket("users:u" + std::to_string(node) + "|s\nusers:shared|s", {});
    for (int i = 0; i < 20000; ++i) {  // 60000 distinct, 20000 per node: HLL past 1000
      t.AddPacket("visitors:v" + std::to_string(node * 20000 + i) + "|s", {});
    }
    local.Merge(t);
    ForwardEncoder enc({"node" + std::to_string(node), 1, 1, 0, 10000});
    local.EncodeForward(&enc, /*timer_exact_values=*/64);
    Result<ForwardInterval> iv = DecodeForwardFrame(enc.Finish());
    ASSERT_TRUE(iv.ok()) << iv.status().message();
    ASSERT_EQ(iv->counters.size(), 1u);  // hits only: statsd.* stay local
    global.MergeForward(*iv);
  }
  auto m = FlushValues(&global);
  EXPECT_EQ(m["stats_counts.hits"], hits);
  EXPECT_EQ(m["stats.gauges.temp"], 20);
  EXPECT_EQ(m["stats.sets.users.count"], 4);
  EXPECT_NEAR(m["stats.sets.visitors.count"], 60000, 1800);
  // Exact timers stay exact (30 values, each node sent its 10 as values).
  std::sort(all_small.begin(), all_small.end());
  EXPECT_EQ(m["stats.timers.small.upper_90"], all_small[26]);
  EXPECT_EQ(m["stats.timers.small.count"], 30);
  // Sketched timers: within 1 % of the exact statistic over all 12000 samples.
  std::sort(all_big.begin(), all_big.end());
  const size_t n = all_big.size();
  EXPECT_EQ(m["stats.timers.big.count"], static_cast<double>(n));
  double upper90 = all_big[static_cast<size_t>(std::round(0.9 * n)) - 1];
  double median = (all_big[n / 2 - 1] + all_big[n / 2]) / 2;
  EXPECT_NEAR(m["stats.timers.big.upper_90"], upper90, 0.01 * upper90);
  EXPECT_NEAR(m["stats.timers.big.upper_50"], all_big[n / 2 - 1], 0.01 * all_big[n / 2 - 1]);
  EXPECT_NEAR(m["stats.timers.big.median"], median, 0.01 * median);
  EXPECT_EQ(m["stats.timers.big.upper"], all_big.back());
  EXPECT_EQ(m["stats.timers.big.lower"], all_big.front());
}

TEST(ForwardMergeTest, OlderGaugeWriteLoses) {
  MetricStore global({});
  ForwardEncoder a({"a", 1, 1, 0, 1000}), b({"b", 1, 1, 0, 1000});
  a.Gauge("g", 5, 2000);
  b.Gauge("g", 9, 1000);  // written earlier, arrives later
  global.MergeForward(*DecodeForwardFrame(a.Finish()));
  global.MergeForward(*DecodeForwardFrame(b.Finish()));
  EXPECT_EQ(FlushValues(&global)["stats.gauges.g"], 5);
}

}  // namespace
}  // namespace stopgap::statsd
