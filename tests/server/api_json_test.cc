// Tests for the JSON shapes of the HTTP API (server/api_json.h): a
// workaround's state in GET /api/v1/workarounds follows the tracker's view of
// its issue (retired when closed) and the calendar (expired).
#include "server/api_json.h"

#include <gtest/gtest.h>

namespace stopgap::server {
namespace {

remedy::Workaround Hardware(std::string id, std::string issue) {
  remedy::Workaround w;
  w.id = std::move(id);
  w.issue.text = std::move(issue);
  w.cause = remedy::Cause::kHardware;  // hardware may omit `expires`
  return w;
}

TEST(WorkaroundJsonTest, StateIsRetiredWhenTheTrackerSaysTheIssueIsClosed) {
  const CivilDay today{2026, 11, 25};
  remedy::Workaround w = Hardware("w", "acme/infra#7");
  EXPECT_EQ(WorkaroundJson(w, today, nullptr, {})["state"], "active");
  EXPECT_EQ(WorkaroundJson(w, today, nullptr, {"acme/infra#8"})["state"], "active");
  nlohmann::json j = WorkaroundJson(w, today, nullptr, {"acme/infra#7"});
  EXPECT_EQ(j["state"], "retired");
  EXPECT_EQ(j["issue"], "acme/infra#7");
  EXPECT_EQ(j["runs_total"], 0) << "never ran: counts are zero, not missing";
}

TEST(WorkaroundJsonTest, ExpiredWhenPastItsDateAndCountsShown) {
  const CivilDay today{2026, 11, 25};
  remedy::Workaround w = Hardware("w", "acme/infra#7");
  w.cause = remedy::Cause::kInHouse;
  w.expires = CivilDay{2026, 11, 24};
  remedy::WorkaroundCounts c;
  c.workaround_id = "w";
  c.runs_total = 3;
  nlohmann::json j = WorkaroundJson(w, today, &c, {});
  EXPECT_EQ(j["state"], "expired");
  EXPECT_EQ(j["runs_total"], 3);
  EXPECT_EQ(j["expires"], "2026-11-24");
}

// A rejection reason cut mid-character (as stored by older versions) used to
// make json::dump throw, so GET /api/v1/alerts answered 500 for good.
TEST(AlertJsonTest, InvalidUtf8FromTheLedgerNeverThrows) {
  remedy::AlertRecord a;
  a.id = 1;
  a.name = "Nova\xC3";
  a.labels_json = "{}";
  a.reason = "status: expected \"firing\" or \"resolved\", got \"\xE2\x82";
  a.annotations_json = "{\"summary\":\"disk \\u00e9\"}";
  nlohmann::json list = nlohmann::json::array({AlertJson(a, nullptr)});
  EXPECT_EQ(list[0]["annotations"]["summary"], "disk \u00e9");
  std::string out;
  EXPECT_NO_THROW(out = list.dump());
  EXPECT_NE(out.find("\xEF\xBF\xBD"), std::string::npos);
  remedy::ExecutionRecord e;
  e.detail = "pidfile: \xFF";
  e.refusal_reason = "\xC3";
  EXPECT_NO_THROW(ExecutionJson(e, true).dump());
  nlohmann::json parsed;
  EXPECT_NO_THROW(parsed = nlohmann::json::parse(ErrorBody("bad \xC3")));
  EXPECT_TRUE(parsed.is_object());
}

// Why didn't it run: the disposition follows an alert to its end, through
// the execution it is recorded against.
TEST(AlertJsonTest, DispositionFollowsTheAlertToItsEnd) {
  remedy::AlertRecord a;
  a.id = 3;
  a.labels_json = "{}";
  a.disposition = remedy::AlertDisposition::kMatched;
  a.execution_id = 9;
  remedy::ExecutionRecord e;
  e.id = 9;
  e.state = remedy::ExecutionState::kRefused;
  e.refusal_reason = "cooldown";
  e.detail = "cooldown 10m for host=db2: last run 3s ago";
  e.group = {{"host", "db2"}};
  nlohmann::json d = AlertJson(a, &e)["disposition"];
  EXPECT_EQ(d["kind"], "refused");
  EXPECT_EQ(d["reason"], "cooldown");
  EXPECT_EQ(d["group"], nlohmann::json({{"host", "db2"}}));
  EXPECT_EQ(d["execution_id"], 9);
  EXPECT_TRUE(d["duplicate_of"].is_null());

  e.state = remedy::ExecutionState::kSucceeded;
  d = AlertJson(a, &e)["disposition"];
  EXPECT_EQ(d["kind"], "ran");
  EXPECT_EQ(d["state"], "succeeded");
  EXPECT_TRUE(d["reason"].is_null());

  a.disposition = remedy::AlertDisposition::kDuplicate;
  a.reason = "in-flight";
  d = AlertJson(a, nullptr)["disposition"];
  EXPECT_EQ(d["kind"], "duplicate");
  EXPECT_EQ(d["duplicate_of"], 9);
  EXPECT_TRUE(d["execution_id"].is_null());
  EXPECT_EQ(d["reason"], "in-flight");

  a.disposition = remedy::AlertDisposition::kUnmatched;
  a.reason.clear();
  a.execution_id.reset();
  d = AlertJson(a, nullptr)["disposition"];
  EXPECT_EQ(d["kind"], "unmatched");
  EXPECT_EQ(d["group"], nlohmann::json::object());
}

TEST(ExecutionJsonTest, GroupDegradedAndActingSeconds) {
  remedy::ExecutionRecord e;
  e.group = {{"host", "db1"}};
  e.acting = std::chrono::milliseconds(1500);
  nlohmann::json j = ExecutionJson(e, false);
  EXPECT_EQ(j["group"], nlohmann::json({{"host", "db1"}}));
  EXPECT_TRUE(j["degraded_seconds"].is_null());  // open
  EXPECT_EQ(j["acting_seconds"], 1.5);
  e.instance_start = WallTime(std::chrono::seconds(1000));
  e.degraded_end = WallTime(std::chrono::seconds(1120));
  EXPECT_EQ(ExecutionJson(e, false)["degraded_seconds"], 120.0);
}

}  // namespace
}  // namespace stopgap::server
