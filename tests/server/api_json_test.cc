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
  nlohmann::json list = nlohmann::json::array({AlertJson(a)});
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

}  // namespace
}  // namespace stopgap::server
