// TimerSketch's documented error bounds (values at a rank within 1 %
// relative error, sums of the smallest k within 1 %, sums of squares within
// 2.01 %), exact counts/min/max/std, merging equal to one sketch of all the
// values; and a MetricStore past timer_exact_max rendering within those
// bounds of the exact (sorted) rendering, exact below it.
#include "statsd/timer_sketch.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "statsd/metric_store.h"

namespace stopgap::statsd {
namespace {

constexpr double kA = TimerSketch::kRelativeAccuracy;

std::vector<double> Values(size_t n, uint32_t seed, bool with_negatives) {
  std::mt19937_64 rng(seed);
  std::lognormal_distribution<double> lat(3, 1.5);  // latency-like, 1e-2 .. 1e4
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<double> v;
  for (size_t i = 0; i < n; ++i) {
    double x = lat(rng);
    if (u(rng) < 0.02) x = 0;
    if (u(rng) < 0.01) x = std::floor(x);  // repeated integers
    if (with_negatives && u(rng) < 0.3) x = -x;
    v.push_back(x);
  }
  return v;
}

TEST(TimerSketchTest, ValueAtEveryRankWithinTheBound) {
  for (bool neg : {false, true}) {
    std::vector<double> v = Values(100000, 7, neg);
    TimerSketch s;
    for (double x : v) s.Add(x);
    std::sort(v.begin(), v.end());
    ASSERT_EQ(s.count(), v.size());
    EXPECT_EQ(s.min(), v.front());
    EXPECT_EQ(s.max(), v.back());
    for (uint64_t k = 1; k <= v.size(); k += 97) {
      double want = v[k - 1];
      double got = s.ValueAtRank(k);
      ASSERT_LE(std::fabs(got - want), kA * std::fabs(want) + TimerSketch::kZeroBelow)
          << "rank " << k << " want " << want << " got " << got;
    }
    EXPECT_EQ(s.ValueAtRank(v.size()), v.back());
    EXPECT_EQ(s.ValueAtRank(1), v.front());
  }
}

TEST(TimerSketchTest, SumsOfTheSmallestWithinTheBound) {
  std::vector<double> v = Values(50000, 11, false);
  TimerSketch s;
  for (double x : v) s.Add(x);
  std::sort(v.begin(), v.end());
  double sum = 0, sq = 0;
  for (uint64_t k = 1; k <= v.size(); ++k) {
    sum += v[k - 1];
    sq += v[k - 1] * v[k - 1];
    if (k % 101 != 0 && k != v.size()) continue;
    ASSERT_LE(std::fabs(s.SumSmallest(k) - sum), kA * sum + 1e-9) << k;
    ASSERT_LE(std::fabs(s.SumSquaresSmallest(k) - sq), (2 * kA + kA * kA) * sq + 1e-9) << k;
  }
  double top = 0, top_sq = 0;
  for (uint64_t k = 1; k <= v.size(); ++k) {
    double x = v[v.size() - k];
    top += x;
    top_sq += x * x;
    if (k % 101 != 0) continue;
    ASSERT_LE(std::fabs(s.SumLargest(k) - top), kA * top + 1e-9) << k;
    ASSERT_LE(std::fabs(s.SumSquaresLargest(k) - top_sq), (2 * kA + kA * kA) * top_sq + 1e-9) << k;
  }
  double mean = sum / static_cast<double>(v.size()), d2 = 0;
  for (double x : v) d2 += (x - mean) * (x - mean);
  EXPECT_NEAR(s.stddev(), std::sqrt(d2 / static_cast<double>(v.size())), 1e-9 * s.stddev());
  EXPECT_NEAR(s.sum(), sum, 1e-9 * sum);
}

TEST(TimerSketchTest, MergeEqualsOneSketchOfEverything) {
  std::vector<double> a = Values(30000, 1, true), b = Values(20000, 2, true);
  TimerSketch sa, sb, all;
  for (double x : a) sa.Add(x), all.Add(x);
  for (double x : b) sb.Add(x), all.Add(x);
  sa.Merge(sb);
  ASSERT_EQ(sa.count(), all.count());
  EXPECT_EQ(sa.min(), all.min());
  EXPECT_EQ(sa.max(), all.max());
  EXPECT_NEAR(sa.stddev(), all.stddev(), 1e-9 * all.stddev());
  for (uint64_t k = 1; k <= all.count(); k += 53) ASSERT_EQ(sa.ValueAtRank(k), all.ValueAtRank(k));
  EXPECT_EQ(sa.CountBelow(10), all.CountBelow(10));
}

std::map<std::string, double> Flushed(uint64_t exact_max, const std::vector<double>& v) {
  FlushConfig cfg;
  cfg.timer_exact_max = exact_max;
  cfg.percentiles = {50, 90, 99, -10};
  cfg.histograms = {{"t", {1, 10, 100, std::numeric_limits<double>::infinity()}}};
  MetricStore store(cfg);
  // Two receive threads' tables, one past the threshold on its own.
  IntervalTable t1, t2;
  t1.set_timer_exact_max(exact_max);
  t2.set_timer_exact_max(exact_max);
  std::string p1, p2;
  for (size_t i = 0; i < v.size(); ++i) {
    (i % 3 ? p1 : p2) += "t:" + std::to_string(v[i]) + "|ms\n";
    if (p1.size() > 60000) t1.AddPacket(p1, {}), p1.clear();
    if (p2.size() > 60000) t2.AddPacket(p2, {}), p2.clear();
  }
  t1.AddPacket(p1, {});
  t2.AddPacket(p2, {});
  store.Merge(t1);
  store.Merge(t2);
  FlushOutput out = store.Flush(1000, GraphiteStats{}, [] { return int64_t{0}; });
  std::map<std::string, double> m;
  std::istringstream in(out.payload);
  std::string name;
  double value;
  int64_t ts;
  while (in >> name >> value >> ts) {
    if (name.starts_with("stats.timers.t.")) m[name.substr(15)] = value;
  }
  return m;
}

TEST(TimerSketchTest, StorePastTheThresholdRendersWithinTheBounds) {
  std::vector<double> v = Values(20000, 5, false);
  for (double& x : v) x = std::stod(std::to_string(x));  // the values as sent
  std::map<std::string, double> exact = Flushed(0, v), approx = Flushed(1000, v);
  std::map<std::string, double> exact_again = Flushed(100000, v);
  EXPECT_EQ(exact, exact_again);  // below the threshold: the exact path
  ASSERT_EQ(exact.size(), approx.size());
  for (const auto& [stat, want] : exact) {
    double got = approx.at(stat);
    double tol;
    if (stat.starts_with("count") || stat == "upper" || stat == "lower") {
      tol = 0;
    } else if (stat == "sum" || stat == "sum_squares" || stat == "mean" || stat == "std") {
      tol = 1e-9 * std::fabs(want);
    } else if (stat.starts_with("sum_squares_")) {
      tol = (2 * kA + kA * kA) * std::fabs(want);
    } else if (stat.starts_with("histogram")) {
      tol = 0.01 * static_cast<double>(v.size());  // values near a bin edge may move
    } else {
      tol = kA * std::fabs(want);  // median, upper_N, mean_N, sum_N
    }
    EXPECT_LE(std::fabs(got - want), tol) << stat << " exact " << want << " sketch " << got;
  }
}

}  // namespace
}  // namespace stopgap::statsd
