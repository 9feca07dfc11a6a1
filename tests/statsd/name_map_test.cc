// The name interner and the per-thread interval table: lookups across growth,
// touched-entry bookkeeping, and the reset that drops idle names.
#include "statsd/internal/name_map.h"

#include <gtest/gtest.h>

#include <string>

#include "statsd/interval_table.h"

namespace stopgap::statsd {
namespace {

TEST(NameMapTest, FindsEveryNameAcrossGrowth) {
  internal::NameMap<int> m;
  bool inserted = false;
  for (int i = 0; i < 20000; ++i) {
    uint32_t idx = m.FindOrInsert("name." + std::to_string(i), &inserted);
    EXPECT_TRUE(inserted);
    m.at(idx).value = i;
  }
  for (int i = 0; i < 20000; ++i) {
    uint32_t idx = m.FindOrInsert("name." + std::to_string(i), &inserted);
    ASSERT_FALSE(inserted);
    ASSERT_EQ(m.at(idx).value, i);
    ASSERT_EQ(m.at(idx).name, "name." + std::to_string(i));
  }
  EXPECT_EQ(m.size(), 20000u);
  // Names that share a prefix, the empty name, long names.
  uint32_t e = m.FindOrInsert("", &inserted);
  EXPECT_TRUE(inserted);
  EXPECT_EQ(m.FindOrInsert("", &inserted), e);
  std::string big(100000, 'x');
  uint32_t b = m.FindOrInsert(big, &inserted);
  EXPECT_EQ(m.at(b).name, big);
  m.Clear();
  EXPECT_EQ(m.size(), 0u);
  m.FindOrInsert("name.1", &inserted);
  EXPECT_TRUE(inserted);
}

TEST(IntervalTableTest, ResetKeepsOrDropsNames) {
  IntervalTable t;
  t.AddPacket("a:1|c\nb:2|ms\ng:3|g\ns:x|s", {});
  EXPECT_EQ(t.touched_counters().size(), 1u);
  EXPECT_EQ(t.counts().lines, 4u);
  t.Reset();
  EXPECT_TRUE(t.touched_counters().empty());
  EXPECT_EQ(t.counters().size(), 1u);  // the name stays interned
  EXPECT_EQ(t.counts().lines, 0u);
  t.AddPacket("a:5|c", {});
  EXPECT_EQ(t.counters().at(t.touched_counters()[0]).value.value, 5);
  // Many idle names: the reset drops them all.
  std::string p;
  for (int i = 0; i < 10000; ++i) p += "n" + std::to_string(i) + ":1|c\n";
  t.AddPacket(p, {});
  t.Reset();
  t.AddPacket("only:1|c", {});
  t.Reset();
  EXPECT_EQ(t.counters().size(), 0u);
}

TEST(IntervalTableTest, GaugeDeltasBeforeAnyAbsoluteValueAreKept) {
  IntervalTable t;
  t.AddPacket("g:+1|g\ng:+2|g\nh:+1|g\nh:5|g\nh:+1|g", {});
  const auto& g = t.gauges().at(t.touched_gauges()[0]).value;
  EXPECT_FALSE(g.absolute);
  EXPECT_EQ(g.leading_deltas, (std::vector<double>{1, 2}));
  const auto& h = t.gauges().at(t.touched_gauges()[1]).value;
  EXPECT_TRUE(h.absolute);
  EXPECT_EQ(h.value, 6);
}

// HashName is seeded per process from getrandom(2): the unseeded formula's
// value for "" (a = 0, b = kM3) must not come out.
TEST(HashNameTest, SeededPerProcess) {
  EXPECT_NE(internal::kNameHashSeed, 0u);
  constexpr uint64_t kM1 = 0x9E3779B97F4A7C15ULL;
  constexpr uint64_t kM2 = 0xBF58476D1CE4E5B9ULL;
  constexpr uint64_t kM3 = 0x94D049BB133111EBULL;
  uint64_t h = (0 ^ (kM3 * kM1)) * kM2;
  EXPECT_NE(internal::HashName(""), h ^ (h >> 32));
}

}  // namespace
}  // namespace stopgap::statsd
