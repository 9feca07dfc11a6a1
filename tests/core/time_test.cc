#include "core/time.h"

#include <gtest/gtest.h>

namespace stopgap {
namespace {

TEST(ParseDuration, Units) {
  EXPECT_EQ(ParseDuration("500ms")->count(), 500);
  EXPECT_EQ(ParseDuration("10s")->count(), 10'000);
  EXPECT_EQ(ParseDuration("10m")->count(), 600'000);
  EXPECT_EQ(ParseDuration("1h30m")->count(), 5'400'000);
  EXPECT_EQ(ParseDuration("90d")->count(), 90LL * 86'400'000);
  EXPECT_EQ(ParseDuration("2w")->count(), 14LL * 86'400'000);
}

TEST(ParseDuration, RejectsBadInput) {
  for (const char* bad : {"", "10", "m", "10x", "-5s", "1.5h", "10 m", "99999999999999999999d"}) {
    EXPECT_FALSE(ParseDuration(bad).ok()) << bad;
  }
}

TEST(FormatDuration, RoundTrips) {
  for (const char* s : {"0s", "1h30m", "90d", "500ms", "1d2h3m4s5ms"}) {
    auto d = ParseDuration(s);
    ASSERT_TRUE(d.ok()) << s;
    EXPECT_EQ(FormatDuration(*d), s);
  }
}

TEST(CivilDay, ParseAndDays) {
  auto d = ParseCivilDay("2027-01-31");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(FormatCivilDay(*d), "2027-01-31");
  EXPECT_EQ(DaysSinceEpoch({1970, 1, 1}), 0);
  EXPECT_EQ(DaysSinceEpoch({2000, 3, 1}) - DaysSinceEpoch({2000, 2, 28}), 2);  // leap year
  EXPECT_FALSE(ParseCivilDay("2027-02-30").ok());
  EXPECT_FALSE(ParseCivilDay("2027-1-31").ok());
  EXPECT_FALSE(ParseCivilDay("2027-13-01").ok());
}

TEST(Rfc3339, RoundTripAndOffsets) {
  auto t = ParseRfc3339("2026-11-25T14:29:30.123Z");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(FormatRfc3339(*t), "2026-11-25T14:29:30.123Z");
  auto t2 = ParseRfc3339("2026-11-25T16:29:30.123+02:00");
  ASSERT_TRUE(t2.ok());
  EXPECT_EQ(*t, *t2);
  auto t3 = ParseRfc3339("2026-11-25T14:29:30.123456789Z");
  ASSERT_TRUE(t3.ok());
  EXPECT_FALSE(ParseRfc3339("2026-11-25 garbage").ok());
  EXPECT_FALSE(ParseRfc3339("2026-11-25T14:29:30").ok());
  // Regression: years past WallTime's 64-bit nanosecond range overflowed (UB).
  EXPECT_FALSE(ParseRfc3339("4052-01-01T00:00:00Z").ok());
  EXPECT_FALSE(ParseRfc3339("1000-01-01T00:00:00Z").ok());
}

TEST(ManualClock, AdvancesOnlyWhenTold) {
  ManualClock c(WallTime(std::chrono::seconds(1000)));
  auto m0 = c.Monotonic();
  c.Advance(std::chrono::seconds(5));
  EXPECT_EQ(c.Now(), WallTime(std::chrono::seconds(1005)));
  EXPECT_EQ(c.Monotonic() - m0, std::chrono::seconds(5));
}

}  // namespace
}  // namespace stopgap
