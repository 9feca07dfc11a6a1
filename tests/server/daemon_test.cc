// In-process tests of stopgap serve (StopgapDaemon) on port 0 with a real
// SQLite ledger, real child processes and cpp-httplib as the HTTP peer:
// intake -> ledger -> engine -> pool, dedup, resolved alerts, 503 when the
// queue is full, auth, reload, shutdown and retention.
#include "server/daemon.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/file.h"

namespace stopgap::server {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

struct TempDir {
  std::string path;
  TempDir() {
    char t[] = "/tmp/stopgap-daemon-XXXXXX";
    path = mkdtemp(t);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

std::string Expires() {
  return FormatCivilDay(
      CivilDayFromDays(DaysSinceEpoch(CivilDayOf(SystemClock::Instance().Now())) + 20));
}

// A catalog with one workaround `w` matching alertname `A` whose action is
// `action` (YAML flow sequence); `extra` goes under limits.
std::string Catalog(const std::string& dir, const std::string& action,
                    const std::string& limits = "{cooldown: 10m, concurrency: 10}",
                    const std::string& server_extra = "") {
  return "server: {listen: \"127.0.0.1:9470\", token_file: \"" + dir + "/token\"" + server_extra +
         "}\n"
         "ledger: \"sqlite://" +
         dir +
         "/ledger.db\"\n"
         "bundles: \"" +
         dir +
         "/bundles\"\n"
         "policy: {max_runs_per_hour: 1000}\n"
         "workarounds:\n"
         "  - id: w\n"
         "    issue: acme/infra#7\n"
         "    cause: in-house\n"
         "    diagnosed: false\n"
         "    expires: " +
         Expires() +
         "\n"
         "    match: {alertname: A}\n"
         "    diagnostics:\n"
         "      - run: [\"true\"]\n"
         "    action:\n"
         "      - run: " +
         action +
         "\n"
         "    limits: " +
         limits + "\n";
}

std::string AmBody(const std::string& fingerprint, const std::string& status = "firing",
                   const std::string& starts_at = "2026-11-25T14:00:00Z") {
  json a = {{"status", status},
            {"labels", {{"alertname", "A"}, {"fp", fingerprint}}},
            {"annotations", json::object()},
            {"startsAt", starts_at},
            {"endsAt", status == "firing" ? "0001-01-01T00:00:00Z" : "2026-11-25T14:05:00Z"},
            {"fingerprint", fingerprint}};
  return json({{"version", "4"}, {"status", status}, {"receiver", "stopgap"}, {"alerts", {a}}})
      .dump();
}

class DaemonTest : public ::testing::Test {
 protected:
  void StartWith(const std::string& catalog, DaemonOptions o = {}) {
    path_ = dir_.path + "/stopgap.yaml";
    ASSERT_TRUE(WriteFileAtomic(path_, catalog).ok());
    o.catalog_path = path_;
    o.listen = "127.0.0.1:0";  // the catalog must name a real port; tests take any
    auto d = StopgapDaemon::Create(o);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    daemon_ = std::move(*d);
    ASSERT_TRUE(daemon_->Start().ok());
    auto token = ReadFile(dir_.path + "/token");
    ASSERT_TRUE(token.ok());
    token_ = token->substr(0, 64);
    client_ = std::make_unique<httplib::Client>("127.0.0.1", daemon_->port());
  }
  httplib::Headers Auth() { return {{"Authorization", "Bearer " + token_}}; }
  httplib::Result Post(const std::string& path, const std::string& body) {
    return client_->Post(path.c_str(), Auth(), body, "application/json");
  }
  json GetJson(const std::string& path) {
    auto r = client_->Get(path.c_str(), Auth());
    EXPECT_TRUE(r && r->status == 200) << path;
    return r ? json::parse(r->body) : json();
  }
  // Waits (bounded) until execution `id` is in `state`.
  bool WaitState(int64_t id, const std::string& state) {
    for (int i = 0; i < 500; ++i) {
      json e = GetJson("/api/v1/executions/" + std::to_string(id));
      if (e.value("state", "") == state) return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }
  void Touch(const std::string& f) { std::ofstream(dir_.path + "/" + f) << "x"; }
  std::string Gate() {  // an action that blocks until the file "gate" exists
    return "[sh, -c, 'while [ ! -e \"$0\" ]; do sleep 0.01; done', \"" + dir_.path + "/gate\"]";
  }

  TempDir dir_;
  // Outlives daemon_ (declared before it): the daemon keeps a reference.
  ManualClock clock_{SystemClock::Instance().Now()};
  std::string path_;
  std::string token_;
  std::unique_ptr<StopgapDaemon> daemon_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(DaemonTest, FiringAlertIsAcknowledgedThenRunDiagnosticsFirst) {
  StartWith(Catalog(dir_.path, "[\"true\"]"));
  auto r = Post("/api/v1/alerts/alertmanager", AmBody("fp1"));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 202) << r->body;
  json ack = json::parse(r->body);
  ASSERT_EQ(ack["executions"].size(), 1u) << r->body;
  int64_t id = ack["executions"][0];
  ASSERT_TRUE(WaitState(id, "succeeded"));
  json e = GetJson("/api/v1/executions/" + std::to_string(id));
  ASSERT_GE(e["steps"].size(), 2u);
  EXPECT_EQ(e["steps"][0]["phase"], "diagnostics");
  EXPECT_EQ(e["steps"][1]["phase"], "action");
  EXPECT_LE(e["steps"][0]["finished_at"].get<std::string>(),
            e["steps"][1]["started_at"].get<std::string>());
  EXPECT_EQ(e["fingerprint"], "fp1");
  json alerts = GetJson("/api/v1/alerts");
  ASSERT_FALSE(alerts["alerts"].empty());
  EXPECT_EQ(alerts["alerts"][0]["disposition"]["kind"], "ran");
  EXPECT_EQ(alerts["alerts"][0]["execution"], id);
}

TEST_F(DaemonTest, ReSendIsADuplicateInFlightThenOfItsInstanceThenWithinCooldown) {
  StartWith(Catalog(dir_.path, Gate()));
  auto r1 = Post("/api/v1/alerts/alertmanager", AmBody("fpd"));
  ASSERT_TRUE(r1 && r1->status == 202);
  int64_t id = json::parse(r1->body)["executions"][0];
  auto r2 = Post("/api/v1/alerts/alertmanager", AmBody("fpd"));
  ASSERT_TRUE(r2 && r2->status == 202) << (r2 ? r2->body : "");
  json a2 = json::parse(r2->body);
  EXPECT_TRUE(a2["executions"].empty());
  ASSERT_EQ(a2["duplicates"].size(), 1u);
  EXPECT_EQ(a2["duplicates"][0]["execution"], id);
  EXPECT_EQ(a2["duplicates"][0]["why"], "in-flight");
  Touch("gate");
  ASSERT_TRUE(WaitState(id, "succeeded"));
  // The same firing instance (same startsAt) never acts again.
  auto r3 = Post("/api/v1/alerts/alertmanager", AmBody("fpd"));
  ASSERT_TRUE(r3 && r3->status == 202);
  json a3 = json::parse(r3->body);
  ASSERT_EQ(a3["duplicates"].size(), 1u);
  EXPECT_EQ(a3["duplicates"][0]["why"], "same-instance");
  EXPECT_EQ(a3["duplicates"][0]["execution"], id);
  // A new instance (fired again: a new startsAt) within the cooldown.
  auto r4 = Post("/api/v1/alerts/alertmanager", AmBody("fpd", "firing", "2026-11-25T15:00:00Z"));
  ASSERT_TRUE(r4 && r4->status == 202);
  json a4 = json::parse(r4->body);
  ASSERT_EQ(a4["duplicates"].size(), 1u);
  EXPECT_EQ(a4["duplicates"][0]["why"], "cooldown");
  EXPECT_EQ(GetJson("/api/v1/executions?workaround=w")["executions"].size(), 1u);
  auto m = client_->Get("/metrics");
  ASSERT_TRUE(m);
  for (const char* why : {"in-flight", "same-instance", "cooldown"}) {
    EXPECT_NE(
        m->body.find("stopgap_alerts_deduplicated_total{reason=\"" + std::string(why) + "\"} 1"),
        std::string::npos)
        << why;
  }
  // Each of the four 202s timed, from its header to its ack.
  EXPECT_NE(m->body.find("stopgap_alert_ack_seconds_count 4\n"), std::string::npos) << m->body;
  EXPECT_NE(m->body.find("stopgap_alert_ack_seconds_bucket{le=\"+Inf\"} 4\n"), std::string::npos);
}

// Two hosts' alerts in one group notification, concurrency 1: the second
// waits for the slot (on_busy: queue, the default) and then acts; re-sends of
// both instances are duplicates.
TEST_F(DaemonTest, SecondInstanceWaitsForTheSlotThenActsOnce) {
  StartWith(Catalog(dir_.path, Gate(), "{concurrency: 1}"));
  json two = json::parse(AmBody("h1"));
  two["alerts"].push_back(json::parse(AmBody("h2"))["alerts"][0]);
  auto r = Post("/api/v1/alerts/alertmanager", two.dump());
  ASSERT_TRUE(r && r->status == 202) << (r ? r->body : "");
  json a = json::parse(r->body);
  ASSERT_EQ(a["executions"].size(), 2u) << r->body;
  int64_t first = a["executions"][0], second = a["executions"][1];
  ASSERT_TRUE(WaitState(first, "acting"));
  EXPECT_EQ(GetJson("/api/v1/executions/" + std::to_string(second))["state"], "matched");
  Touch("gate");
  ASSERT_TRUE(WaitState(first, "succeeded"));
  ASSERT_TRUE(WaitState(second, "succeeded"));
  auto again = Post("/api/v1/alerts/alertmanager", two.dump());
  ASSERT_TRUE(again && again->status == 202);
  json d = json::parse(again->body);
  EXPECT_TRUE(d["executions"].empty());
  ASSERT_EQ(d["duplicates"].size(), 2u);
  EXPECT_EQ(d["duplicates"][0]["why"], "same-instance");
  EXPECT_EQ(d["duplicates"][1]["why"], "same-instance");
}

// on_busy: refuse: the second host is refused (concurrency), and as a
// passing refusal it has not acted: its next notification acts.
TEST_F(DaemonTest, RefusedForABusySlotTheInstanceActsOnItsNextNotification) {
  StartWith(Catalog(dir_.path, Gate(), "{concurrency: 1, on_busy: refuse}"));
  auto r1 = Post("/api/v1/alerts/alertmanager", AmBody("r1"));
  int64_t first = json::parse(r1->body)["executions"][0];
  ASSERT_TRUE(WaitState(first, "acting"));
  auto r2 = Post("/api/v1/alerts/alertmanager", AmBody("r2"));
  json a2 = json::parse(r2->body);
  ASSERT_EQ(a2["refused"].size(), 1u) << r2->body;
  EXPECT_EQ(a2["refused"][0]["reason"], "concurrency");
  Touch("gate");
  ASSERT_TRUE(WaitState(first, "succeeded"));
  auto r3 = Post("/api/v1/alerts/alertmanager", AmBody("r2"));
  json a3 = json::parse(r3->body);
  ASSERT_EQ(a3["execution_details"].size(), 1u) << r3->body;
  EXPECT_EQ(a3["execution_details"][0]["state"], "matched");
  ASSERT_TRUE(WaitState(a3["executions"][0], "succeeded"));
}

// A failed run is not retried while its alert still fires: the re-send is a
// duplicate ("still-firing") and nothing runs again.
TEST_F(DaemonTest, FailedInstanceStillFiringIsNotRetried) {
  StartWith(Catalog(dir_.path, "[sh, -c, 'echo x >> \"$0\"; exit 3', \"" + dir_.path + "/runs\"]",
                    "{concurrency: 1}"));
  auto r1 = Post("/api/v1/alerts/alertmanager", AmBody("f1"));
  int64_t id = json::parse(r1->body)["executions"][0];
  ASSERT_TRUE(WaitState(id, "failed"));
  for (int i = 0; i < 3; ++i) {
    auto r = Post("/api/v1/alerts/alertmanager", AmBody("f1"));
    json a = json::parse(r->body);
    EXPECT_TRUE(a["executions"].empty()) << r->body;
    ASSERT_EQ(a["duplicates"].size(), 1u);
    EXPECT_EQ(a["duplicates"][0]["why"], "still-firing");
    EXPECT_EQ(a["duplicates"][0]["execution"], id);
  }
  Result<std::string> runs = ReadFile(dir_.path + "/runs");
  ASSERT_TRUE(runs.ok());
  EXPECT_EQ(*runs, "x\n");
}

// A generic alert without starts_at: its instance lasts until a resolve.
TEST_F(DaemonTest, GenericAlertWithoutStartIsOneInstanceUntilResolved) {
  StartWith(Catalog(dir_.path, "[\"true\"]", "{concurrency: 1}"));
  const std::string firing = R"({"name":"A","labels":{"fp":"g1"},"fingerprint":"g1"})";
  auto r1 = Post("/api/v1/alerts", firing);
  ASSERT_TRUE(r1 && r1->status == 202) << (r1 ? r1->body : "");
  int64_t id = json::parse(r1->body)["executions"][0];
  ASSERT_TRUE(WaitState(id, "succeeded"));
  auto r2 = Post("/api/v1/alerts", firing);
  EXPECT_EQ(json::parse(r2->body)["duplicates"][0]["why"], "same-instance");
  auto resolved =
      Post("/api/v1/alerts",
           R"({"name":"A","labels":{"fp":"g1"},"fingerprint":"g1","status":"resolved"})");
  ASSERT_TRUE(resolved && resolved->status == 202) << (resolved ? resolved->body : "");
  std::this_thread::sleep_for(5ms);  // the ledger keeps milliseconds
  auto r3 = Post("/api/v1/alerts", firing);
  json a3 = json::parse(r3->body);
  ASSERT_EQ(a3["executions"].size(), 1u) << r3->body;
  EXPECT_TRUE(WaitState(a3["executions"][0], "succeeded"));
}

TEST_F(DaemonTest, ResolvedAlertNeverActsAndIsRecordedAgainstItsExecution) {
  StartWith(Catalog(dir_.path, "[touch, \"" + dir_.path + "/acted\"]"));
  auto r0 = Post("/api/v1/alerts/alertmanager", AmBody("fresh", "resolved"));
  ASSERT_TRUE(r0 && r0->status == 202) << (r0 ? r0->body : "");
  json a0 = json::parse(r0->body);
  EXPECT_TRUE(a0["executions"].empty());
  ASSERT_EQ(a0["resolved"].size(), 1u);
  EXPECT_TRUE(a0["resolved"][0]["execution"].is_null());
  EXPECT_FALSE(std::filesystem::exists(dir_.path + "/acted"));

  auto r1 = Post("/api/v1/alerts/alertmanager", AmBody("fpr"));
  int64_t id = json::parse(r1->body)["executions"][0];
  ASSERT_TRUE(WaitState(id, "succeeded"));
  std::filesystem::remove(dir_.path + "/acted");
  auto r2 = Post("/api/v1/alerts/alertmanager", AmBody("fpr", "resolved"));
  json a2 = json::parse(r2->body);
  ASSERT_EQ(a2["resolved"].size(), 1u);
  EXPECT_EQ(a2["resolved"][0]["execution"], id);
  std::this_thread::sleep_for(100ms);
  EXPECT_FALSE(std::filesystem::exists(dir_.path + "/acted"));
  EXPECT_EQ(GetJson("/api/v1/executions")["executions"].size(), 1u);
}

TEST_F(DaemonTest, FullQueueAnswers503WithRetryAfterAndRecordsTheAlert) {
  DaemonOptions o;
  o.workers = 1;
  o.queue_capacity = 1;
  StartWith(Catalog(dir_.path, Gate(), "{concurrency: 10}"), o);
  auto r1 = Post("/api/v1/alerts/alertmanager", AmBody("q1"));
  ASSERT_TRUE(r1 && r1->status == 202);
  int64_t first = json::parse(r1->body)["executions"][0];
  ASSERT_TRUE(WaitState(first, "acting"));  // the worker holds it; the queue is empty
  auto r2 = Post("/api/v1/alerts/alertmanager", AmBody("q2"));
  ASSERT_TRUE(r2 && r2->status == 202) << (r2 ? r2->body : "");
  auto r3 = Post("/api/v1/alerts/alertmanager", AmBody("q3"));
  ASSERT_TRUE(r3);
  EXPECT_EQ(r3->status, 503) << r3->body;
  EXPECT_EQ(r3->get_header_value("Retry-After"), "5");
  json alerts = GetJson("/api/v1/alerts");
  EXPECT_EQ(alerts["alerts"][0]["fingerprint"], "q3");
  EXPECT_EQ(alerts["alerts"][0]["disposition"]["kind"], "rejected");
  Touch("gate");
  // The retry after the queue drains is accepted.
  int64_t second = json::parse(r2->body)["executions"][0];
  ASSERT_TRUE(WaitState(second, "succeeded"));
  auto r4 = Post("/api/v1/alerts/alertmanager", AmBody("q3"));
  ASSERT_TRUE(r4);
  EXPECT_EQ(r4->status, 202) << r4->body;
}

TEST_F(DaemonTest, WritesNeedTheTokenAndBadInputIs400NamingTheField) {
  StartWith(Catalog(dir_.path, "[\"true\"]"));
  auto no = client_->Post("/api/v1/alerts/alertmanager", AmBody("x"), "application/json");
  ASSERT_TRUE(no);
  EXPECT_EQ(no->status, 401);
  httplib::Headers wrong = {{"Authorization", "Bearer " + std::string(64, '0')}};
  auto bad = client_->Post("/api/v1/alerts", wrong, R"({"name":"A"})", "application/json");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 401);
  auto run = client_->Post("/api/v1/workarounds/w/run", "", "application/json");
  EXPECT_EQ(run->status, 401);
  EXPECT_EQ(client_->Get("/api/v1/workarounds")->status, 401) << "reads need a token by default";

  auto r = Post("/api/v1/alerts/alertmanager", R"({"alerts":[{"status":"firing","labels":7}]})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find("alerts[0].labels"), std::string::npos) << r->body;
  auto g = Post("/api/v1/alerts", R"({"labels":{}})");
  EXPECT_EQ(g->status, 400);
  EXPECT_NE(g->body.find("name: missing"), std::string::npos);
  auto m = client_->Get("/metrics");
  EXPECT_NE(m->body.find(
                "stopgap_alerts_rejected_total{reason=\"bad-request\",source=\"alertmanager\"} 1"),
            std::string::npos)
      << m->body;
  EXPECT_NE(m->body.find("stopgap_http_unauthorized_total 4"), std::string::npos);
  EXPECT_EQ(GetJson("/api/v1/alerts")["alerts"][0]["disposition"]["kind"], "rejected");
}

TEST_F(DaemonTest, ReadsAreOpenOnlyWhenReadAuthIsOff) {
  StartWith(Catalog(dir_.path, "[\"true\"]", "{cooldown: 10m}", ", read_auth: false"));
  EXPECT_EQ(client_->Get("/api/v1/workarounds")->status, 200);
  EXPECT_EQ(client_->Post("/api/v1/alerts", R"({"name":"A"})", "application/json")->status, 401);
}

TEST_F(DaemonTest, AnotherHostIsMisdirected) {
  StartWith(Catalog(dir_.path, "[\"true\"]"));
  httplib::Headers h = Auth();
  h.emplace("Host", "rebound.example:9470");
  auto r = client_->Get("/api/v1/workarounds", h);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 421);
  EXPECT_FALSE(r->has_header("Access-Control-Allow-Origin"));
  httplib::Headers health = {{"Host", "rebound.example:9470"}};
  EXPECT_EQ(client_->Get("/healthz", health)->status, 200);
}

TEST_F(DaemonTest, ReadAuthProtectsReadsButNotHealthz) {
  StartWith(Catalog(dir_.path, "[\"true\"]", "{cooldown: 10m}", ", metrics_auth: true"));
  EXPECT_EQ(client_->Get("/api/v1/workarounds")->status, 401);
  EXPECT_EQ(client_->Get("/metrics")->status, 401);
  EXPECT_EQ(client_->Get("/api/v1/workarounds", Auth())->status, 200);
  EXPECT_EQ(client_->Get("/healthz")->status, 200);
}

TEST_F(DaemonTest, GenericAlertRunByHandAndApiShapes) {
  StartWith(Catalog(dir_.path, "[\"true\"]"));
  auto g = Post("/api/v1/alerts", R"({"name":"A","labels":{"host":"db1"},"fingerprint":"g1"})");
  ASSERT_TRUE(g && g->status == 202) << (g ? g->body : "");
  int64_t id = json::parse(g->body)["executions"][0];
  ASSERT_TRUE(WaitState(id, "succeeded"));
  auto h = Post("/api/v1/workarounds/w/run", R"({"labels":{"host":"db2"}})");
  ASSERT_TRUE(h);
  // Cooldown applies to runs by hand too: refused and recorded, or accepted.
  EXPECT_TRUE(h->status == 409 || h->status == 202) << h->body;
  EXPECT_EQ(Post("/api/v1/workarounds/nope/run", "")->status, 404);
  json w = GetJson("/api/v1/workarounds");
  ASSERT_EQ(w["workarounds"].size(), 1u);
  EXPECT_EQ(w["workarounds"][0]["id"], "w");
  EXPECT_EQ(w["workarounds"][0]["state"], "active");
  EXPECT_GE(w["workarounds"][0]["runs_total"].get<int>(), 1);
  json issues = GetJson("/api/v1/issues");
  ASSERT_EQ(issues["issues"].size(), 1u);
  EXPECT_EQ(issues["issues"][0]["issue"], "acme/infra#7");
  EXPECT_EQ(client_->Get("/api/v1/executions?limit=0", Auth())->status, 400);
  EXPECT_EQ(client_->Get("/api/v1/executions/999999", Auth())->status, 404);
  auto ui = client_->Get("/");
  ASSERT_TRUE(ui);
  EXPECT_NE(ui->body.find("<title>stopgap</title>"), std::string::npos);
  EXPECT_EQ(client_->Get("/healthz")->status, 200);
}

TEST_F(DaemonTest, ReloadRefusesABadCatalogAndKeepsTheOld) {
  StartWith(Catalog(dir_.path, "[\"true\"]"));
  ASSERT_TRUE(WriteFileAtomic(path_, "workarounds:\n  - id: broken\n").ok());
  EXPECT_FALSE(daemon_->Reload().ok());
  EXPECT_EQ(GetJson("/api/v1/workarounds")["workarounds"][0]["id"], "w");
  std::string next = Catalog(dir_.path, "[\"true\"]");
  size_t pos = next.find("id: w\n");
  next.replace(pos, 6, "id: w2\n");
  ASSERT_TRUE(WriteFileAtomic(path_, next).ok());
  ASSERT_TRUE(daemon_->Reload().ok());
  EXPECT_EQ(GetJson("/api/v1/workarounds")["workarounds"][0]["id"], "w2");
}

// Whether a live process has `needle` in its command line (/proc/*/cmdline).
bool AnyProcessMentions(const std::string& needle) {
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    std::ifstream f(e.path() / "cmdline", std::ios::binary);
    std::string cmd((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    if (cmd.find(needle) != std::string::npos) return true;
  }
  return false;
}

TEST_F(DaemonTest, ShutdownMarksWhatDidNotFinishInterruptedAndStopsIt) {
  DaemonOptions o;
  o.workers = 1;
  StartWith(Catalog(dir_.path, Gate(), "{concurrency: 10}"), o);
  int64_t running =
      json::parse(Post("/api/v1/alerts/alertmanager", AmBody("s1"))->body)["executions"][0];
  int64_t queued =
      json::parse(Post("/api/v1/alerts/alertmanager", AmBody("s2"))->body)["executions"][0];
  ASSERT_TRUE(WaitState(running, "acting"));
  const std::string gate = dir_.path + "/gate";
  // "acting" is recorded just before the action is spawned.
  for (int i = 0; i < 500 && !AnyProcessMentions(gate); ++i) std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(AnyProcessMentions(gate)) << "the action is running";
  ShutdownReport r = daemon_->Shutdown(50ms);
  EXPECT_EQ(r.never_started, 1);
  EXPECT_EQ(r.still_running, 1);
  EXPECT_TRUE(r.stopped) << "the action past the grace period is stopped, its worker joined";
  EXPECT_TRUE(r.clean());
  EXPECT_FALSE(AnyProcessMentions(gate)) << "nothing keeps acting after 'interrupted'";
  daemon_.reset();
  // A new daemon on the same ledger shows both as interrupted.
  StartWith(Catalog(dir_.path, "[\"true\"]"));
  EXPECT_EQ(GetJson("/api/v1/executions/" + std::to_string(queued))["state"], "interrupted");
  EXPECT_EQ(GetJson("/api/v1/executions/" + std::to_string(running))["state"], "interrupted");
}

TEST_F(DaemonTest, BundlesAreShippedToTheArchiveStoreAndKeptLocally) {
  std::string archive = dir_.path + "/archive";
  StartWith("archive: {url: \"file://" + archive + "\"}\n" + Catalog(dir_.path, "[\"true\"]"));
  int64_t id =
      json::parse(Post("/api/v1/alerts/alertmanager", AmBody("shipped"))->body)["executions"][0];
  ASSERT_TRUE(WaitState(id, "succeeded"));
  std::string bundle = GetJson("/api/v1/executions/" + std::to_string(id))["bundle_dir"];
  std::string name = std::filesystem::path(bundle).filename().string();
  char host[256] = {};
  ASSERT_EQ(gethostname(host, sizeof host - 1), 0);
  // Keys are <name>-<created-at>-<instance>.tar.zst (unique across ledgers).
  std::filesystem::path shipped;
  auto find_shipped = [&] {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(
             std::filesystem::path(archive) / "bundles" / host, ec)) {
      std::string f = e.path().filename().string();
      if (f.starts_with(name + "-") && f.ends_with(".tar.zst")) shipped = e.path();
    }
    return !shipped.empty();
  };
  // The archiver stores the object, then removes its local pack: wait for both.
  const std::string pack = bundle + ".tar.zst";
  bool found = false;
  for (int i = 0; i < 300 && !(found && !std::filesystem::exists(pack)); ++i) {
    found = find_shipped();
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(found) << shipped;
  EXPECT_GT(std::filesystem::file_size(shipped), 0u);
  EXPECT_TRUE(std::filesystem::exists(bundle));  // kept locally
  EXPECT_FALSE(std::filesystem::exists(pack));   // no leftover pack
}

TEST_F(DaemonTest, RetentionPrunesOldExecutionsButKeepsIssueTotals) {
  DaemonOptions o;
  o.clock = &clock_;
  o.prune_interval = 20ms;
  StartWith(Catalog(dir_.path, "[\"true\"]"), o);
  int64_t id =
      json::parse(Post("/api/v1/alerts/alertmanager", AmBody("old"))->body)["executions"][0];
  ASSERT_TRUE(WaitState(id, "succeeded"));
  std::string bundle = GetJson("/api/v1/executions/" + std::to_string(id))["bundle_dir"];
  ASSERT_FALSE(bundle.empty());
  ASSERT_TRUE(std::filesystem::exists(bundle));
  clock_.Advance(std::chrono::hours(24 * 401));  // past the default policy.retain (400d)
  bool pruned = false;
  for (int i = 0; i < 300 && !pruned; ++i) {
    pruned = GetJson("/api/v1/executions")["executions"].empty() &&
             !std::filesystem::exists(bundle);  // and past policy.retain_bundles
    if (!pruned) std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(pruned);
  EXPECT_FALSE(std::filesystem::exists(bundle));
  json issues = GetJson("/api/v1/issues");
  ASSERT_EQ(issues["issues"].size(), 1u);
  EXPECT_EQ(issues["issues"][0]["runs_total"], 1);
}

}  // namespace
}  // namespace stopgap::server
