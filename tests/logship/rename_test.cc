// Tests for rename-dateext: numbered -> dateext names from mtime, suffixes
// kept, collisions reported and never overwritten, dry-run touches nothing.
#include "logship/rename.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "temp_dir.h"

namespace stopgap::logship {
namespace {

using testing::Exists;
using testing::ReadText;
using testing::SetMtime;
using testing::TempDir;
using testing::WriteText;

class RenameTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("TZ", "UTC", 1);
    ::tzset();
    WriteText(dir_ / "app.log", "live");
    WriteText(dir_ / "app.log.1", "one");
    SetMtime(dir_ / "app.log.1", 1764028800 + 3600);  // 2025-11-25
    WriteText(dir_ / "app.log.2.gz", "two");
    SetMtime(dir_ / "app.log.2.gz", 1764028800 - 86400 + 60);  // 2025-11-24
    WriteText(dir_ / "app.log.3.gz", "three");
    SetMtime(dir_ / "app.log.3.gz", 1764028800 - 86400 + 3720);  // also 2025-11-24: collides
    WriteText(dir_ / "app.log.4.xz", "four");
    SetMtime(dir_ / "app.log.4.xz", 1764028800 - 3 * 86400);  // 2025-11-22
    WriteText(dir_ / "app.log-20251122.xz", "already there");
  }
  TempDir dir_;
};

TEST_F(RenameTest, RenamesAndReportsCollisions) {
  auto actions = RenameNumberedRotations({dir_ / "app.log "}, DateFormat::Default(), "", false);
  ASSERT_EQ(actions.size(), 4u);
  EXPECT_EQ(actions[0].outcome, RenameAction::Outcome::kRenamed);
  EXPECT_EQ(actions[0].to, dir_ / "app.log-20251125");
  EXPECT_EQ(actions[1].outcome, RenameAction::Outcome::kRenamed);
  EXPECT_EQ(actions[1].to, dir_ / "app.log-20251124.gz");
  EXPECT_EQ(actions[2].outcome, RenameAction::Outcome::kCollision);  // .3.gz same day
  EXPECT_EQ(actions[3].outcome, RenameAction::Outcome::kCollision);  // existing file
  EXPECT_EQ(ReadText(dir_ / "app.log-20251125"), "one");
  EXPECT_EQ(ReadText(dir_ / "app.log-20251124.gz"), "two");
  EXPECT_EQ(ReadText(dir_ / "app.log.3.gz"), "three");                 // left as it was
  EXPECT_EQ(ReadText(dir_ / "app.log-20251122.xz"), "already there");  // not overwritten
  EXPECT_EQ(ReadText(dir_ / "app.log.4.xz"), "four");
  EXPECT_EQ(ReadText(dir_ / "app.log"), "live");
}

TEST_F(RenameTest, DryRunChangesNothingButPredictsCollisions) {
  auto actions = RenameNumberedRotations({dir_ / "app.log"}, DateFormat::Default(), "", true);
  ASSERT_EQ(actions.size(), 4u);
  EXPECT_EQ(actions[0].outcome, RenameAction::Outcome::kWouldRename);
  EXPECT_EQ(actions[2].outcome, RenameAction::Outcome::kCollision);
  EXPECT_TRUE(Exists(dir_ / "app.log.1"));
  EXPECT_FALSE(Exists(dir_ / "app.log-20251125"));
}

TEST_F(RenameTest, CustomHourlyFormat) {
  Result<DateFormat> f = DateFormat::Parse("-%Y%m%d%H");
  ASSERT_TRUE(f.ok());
  auto actions = RenameNumberedRotations({dir_ / "app.log"}, *f, "", false);
  EXPECT_EQ(actions[0].to, dir_ / "app.log-2025112501");
  EXPECT_EQ(actions[2].outcome, RenameAction::Outcome::kRenamed);  // different hour: no clash
}

}  // namespace
}  // namespace stopgap::logship
