// Tests for the dateext name parser/formatter against logrotate 3.21's rules.
#include "logship/dateext.h"

#include <gtest/gtest.h>

namespace stopgap::logship {
namespace {

DateFormat F(const char* s) {
  Result<DateFormat> f = DateFormat::Parse(s);
  EXPECT_TRUE(f.ok()) << s;
  return *f;
}

TEST(DateFormatTest, RejectsSpecifiersLogrotateRejects) {
  EXPECT_FALSE(DateFormat::Parse("-%Y%m%d%j").ok());
  EXPECT_FALSE(DateFormat::Parse("-%F").ok());
  EXPECT_FALSE(DateFormat::Parse("-%Y%").ok());
  EXPECT_FALSE(DateFormat::Parse("").ok());
  EXPECT_FALSE(DateFormat::Parse("-%Y/%m").ok());
  EXPECT_TRUE(DateFormat::Parse("-%Y-%m-%d_%H%M%S").ok());
  EXPECT_TRUE(DateFormat::Parse(".%s").ok());
  EXPECT_TRUE(DateFormat::Parse("-%Y-w%V").ok());
}

TEST(DateextTest, DefaultFormatWithCompression) {
  auto r = ParseRotation(DateFormat::Default(), "app.log-20261125.gz", "app.log");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->compression, ".gz");
  EXPECT_EQ(r->date_text, "-20261125");
  EXPECT_EQ(r->time.Day(), (CivilDay{2026, 11, 25}));
  for (const char* c : {".xz", ".zst", ".bz2", ""}) {
    auto x = ParseRotation(DateFormat::Default(), std::string("app.log-20261125") + c, "app.log");
    ASSERT_TRUE(x.has_value()) << c;
    EXPECT_EQ(x->compression, c);
  }
}

TEST(DateextTest, RejectsLiveLogAndOtherNames) {
  const DateFormat d = DateFormat::Default();
  EXPECT_FALSE(ParseRotation(d, "app.log", "app.log"));
  EXPECT_FALSE(ParseRotation(d, "app.log.1", "app.log"));
  EXPECT_FALSE(ParseRotation(d, "app.log-2026112", "app.log"));
  EXPECT_FALSE(ParseRotation(d, "app.log-202611251", "app.log"));
  EXPECT_FALSE(ParseRotation(d, "app.log-20261325", "app.log"));  // month 13
  EXPECT_FALSE(ParseRotation(d, "app.log-20261100", "app.log"));  // day 0
  EXPECT_FALSE(ParseRotation(d, "other.log-20261125", "app.log"));
  EXPECT_FALSE(ParseRotation(d, "app.log-20261125.gz.tmp", "app.log"));
  EXPECT_FALSE(ParseRotation(d, "app.log-20261125", ""));
}

TEST(DateextTest, HourlyAndDashedAndSecondsFormats) {
  auto h = ParseRotation(F("-%Y%m%d%H"), "app.log-2026112513.zst", "app.log");
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->time.hour, 13);
  EXPECT_FALSE(ParseRotation(F("-%Y%m%d%H"), "app.log-2026112524", "app.log"));
  auto dash = ParseRotation(F("-%Y-%m-%d"), "app.log-2026-11-25.gz", "app.log");
  ASSERT_TRUE(dash.has_value());
  EXPECT_EQ(dash->time.Day(), (CivilDay{2026, 11, 25}));
  auto full = ParseRotation(F("-%Y%m%d-%H%M%S"), "a-20261125-235960", "a");
  ASSERT_TRUE(full.has_value());
  EXPECT_EQ(full->time.second, 60);  // leap second allowed
}

TEST(DateextTest, EpochSecondsAndIsoWeek) {
  auto s = ParseRotation(F("-%s"), "app.log-1764028800.gz", "app.log");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->time.Day(), (CivilDay{2025, 11, 25}));
  auto w = ParseRotation(F("-%Y-w%V"), "app.log-2026-w01", "app.log");
  ASSERT_TRUE(w.has_value());
  EXPECT_EQ(w->time.Day(), (CivilDay{2025, 12, 29}));  // Monday of ISO week 1 of 2026
  EXPECT_FALSE(ParseRotation(F("-%Y-w%V"), "app.log-2026-w54", "app.log"));
}

TEST(DateextTest, AnyBaseFindsTheLiveName) {
  auto r = ParseRotationAnyBase(DateFormat::Default(), "access.log-20261125.gz");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->live_name, "access.log");
  EXPECT_EQ(r->compression, ".gz");
  auto dashed = ParseRotationAnyBase(DateFormat::Default(), "my-app-20200101.log-20261125");
  ASSERT_TRUE(dashed.has_value());
  EXPECT_EQ(dashed->live_name, "my-app-20200101.log");
  EXPECT_FALSE(ParseRotationAnyBase(DateFormat::Default(), "-20261125"));
  EXPECT_FALSE(ParseRotationAnyBase(DateFormat::Default(), "notes.txt"));
}

TEST(DateextTest, FormatMatchesWhatLogrotateWrites) {
  std::tm t{};
  t.tm_year = 2026 - 1900;
  t.tm_mon = 0;
  t.tm_mday = 5;
  t.tm_hour = 7;
  t.tm_min = 3;
  t.tm_sec = 9;
  EXPECT_EQ(DateFormat::Default().Format(t), "-20260105");
  EXPECT_EQ(F("-%Y-%m-%d_%H%M%S").Format(t), "-2026-01-05_070309");
  EXPECT_EQ(F("-%Y%m%d%H").Format(t), "-2026010507");
  // Round trip.
  std::string name = "x" + F("-%Y%m%d%H%M%S").Format(t);
  auto r = ParseRotation(F("-%Y%m%d%H%M%S"), name, "x");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->time.minute, 3);
}

TEST(DateextTest, NumberedRotations) {
  auto n = ParseNumbered("app.log.12.gz", "app.log");
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(n->number, 12);
  EXPECT_EQ(n->compression, ".gz");
  EXPECT_EQ(ParseNumbered("app.log.1", "app.log")->number, 1);
  EXPECT_FALSE(ParseNumbered("app.log.0", "app.log"));
  EXPECT_FALSE(ParseNumbered("app.log.01", "app.log"));
  EXPECT_FALSE(ParseNumbered("app.log", "app.log"));
  EXPECT_FALSE(ParseNumbered("app.log.", "app.log"));
  EXPECT_FALSE(ParseNumbered("app.log.gz", "app.log"));
  EXPECT_FALSE(ParseNumbered("app.log-20261125", "app.log"));
  EXPECT_FALSE(ParseNumbered("app.logx.1", "app.log"));
}

}  // namespace
}  // namespace stopgap::logship
