// The web UI's routes through a real daemon (port 0, real SQLite ledger, real
// child processes; cpp-httplib as the peer): the assets with their content
// types and strict CSP, and the bundle reads of a real execution, including a
// traversal attempt and a symlink planted inside the bundle pointing at the
// token file.
#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/file.h"
#include "server/daemon.h"

namespace stopgap::server {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

class WebRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char t[] = "/tmp/stopgap-webroutes-XXXXXX";
    dir_ = mkdtemp(t);
    std::string expires = FormatCivilDay(
        CivilDayFromDays(DaysSinceEpoch(CivilDayOf(SystemClock::Instance().Now())) + 20));
    std::string catalog = "server: {listen: \"127.0.0.1:9470\", token_file: \"" + dir_ +
                          "/token\"}\nledger: \"sqlite://" + dir_ + "/ledger.db\"\nbundles: \"" +
                          dir_ +
                          "/bundles\"\nworkarounds:\n  - id: w\n    issue: acme/infra#7\n"
                          "    cause: in-house\n    diagnosed: false\n    expires: " +
                          expires +
                          "\n    match: {alertname: A}\n    diagnostics:\n"
                          "      - run: [echo, \"<b>diag</b>\"]\n    action:\n"
                          "      - run: [\"true\"]\n    limits: {cooldown: 1s}\n";
    ASSERT_TRUE(WriteFileAtomic(dir_ + "/stopgap.yaml", catalog).ok());
    DaemonOptions o;
    o.catalog_path = dir_ + "/stopgap.yaml";
    o.listen = "127.0.0.1:0";
    auto d = StopgapDaemon::Create(o);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    daemon_ = std::move(*d);
    ASSERT_TRUE(daemon_->Start().ok());
    token_ = ReadFile(dir_ + "/token")->substr(0, 64);
    client_ = std::make_unique<httplib::Client>("127.0.0.1", daemon_->port());
  }
  void TearDown() override {
    daemon_.reset();
    std::filesystem::remove_all(dir_);
  }
  httplib::Result Get(const std::string& path) {
    return client_->Get(path, {{"Authorization", "Bearer " + token_}});
  }
  // Posts an alert and waits (bounded) until its execution succeeded.
  int64_t RunOne() {
    auto r =
        client_->Post("/api/v1/alerts", {{"Authorization", "Bearer " + token_}},
                      R"({"name":"A","labels":{"alertname":"A","host":"h1"}})", "application/json");
    EXPECT_TRUE(r && r->status == 202);
    int64_t id = json::parse(r->body)["executions"][0];
    for (int i = 0; i < 500; ++i) {
      auto e = Get("/api/v1/executions/" + std::to_string(id));
      if (e && json::parse(e->body).value("state", "") == "succeeded") return id;
      std::this_thread::sleep_for(10ms);
    }
    ADD_FAILURE() << "execution " << id << " did not succeed";
    return id;
  }

  std::string dir_;
  std::string token_;
  std::unique_ptr<StopgapDaemon> daemon_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(WebRoutesTest, AssetsHaveTheirTypesAndAStrictCsp) {
  auto page = client_->Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(page->get_header_value("Content-Type"), "text/html; charset=utf-8");
  std::string csp = page->get_header_value("Content-Security-Policy");
  EXPECT_NE(csp.find("script-src 'self'"), std::string::npos) << csp;
  EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos) << csp;
  EXPECT_EQ(page->body.find("<script>"), std::string::npos) << "no inline script";
  EXPECT_EQ(page->body.find("<style"), std::string::npos) << "no inline style";
  auto js = client_->Get("/ui/app.js");
  ASSERT_TRUE(js);
  EXPECT_EQ(js->status, 200);
  EXPECT_EQ(js->get_header_value("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(js->get_header_value("X-Content-Type-Options"), "nosniff");
  auto css = client_->Get("/ui/app.css");
  ASSERT_TRUE(css);
  EXPECT_EQ(css->get_header_value("Content-Type"), "text/css; charset=utf-8");
  auto none = client_->Get("/ui/nope.js");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 404);
  auto traversal = client_->Get("/ui/../api/v1/workarounds");
  ASSERT_TRUE(traversal);
  EXPECT_NE(traversal->status, 200);
}

TEST_F(WebRoutesTest, BundleListFileAndDownload) {
  int64_t id = RunOne();
  std::string base = "/api/v1/executions/" + std::to_string(id) + "/bundle";
  auto list = Get(base);
  ASSERT_TRUE(list);
  ASSERT_EQ(list->status, 200) << list->body;
  json files = json::parse(list->body)["files"];
  bool found = false;
  for (const auto& f : files) found |= f["path"] == "diagnostics-00.stdout" && f["text"] == true;
  EXPECT_TRUE(found) << list->body;

  auto f = Get(base + "/file?path=diagnostics-00.stdout");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->status, 200);
  EXPECT_EQ(f->body, "<b>diag</b>\n");
  EXPECT_EQ(f->get_header_value("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(f->get_header_value("X-Content-Type-Options"), "nosniff");

  auto tar = Get(base + ".tar.zst");
  ASSERT_TRUE(tar);
  EXPECT_EQ(tar->status, 200);
  EXPECT_EQ(tar->body.substr(0, 4), std::string("\x28\xb5\x2f\xfd", 4));
  EXPECT_NE(tar->get_header_value("Content-Disposition").find("attachment"), std::string::npos);

  auto unauth = client_->Get(base);
  ASSERT_TRUE(unauth);
  EXPECT_EQ(unauth->status, 401);
  auto missing = Get("/api/v1/executions/999/bundle");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
}

TEST_F(WebRoutesTest, TraversalAndASymlinkToTheTokenReadNothing) {
  int64_t id = RunOne();
  std::string bundle = dir_ + "/bundles/" + std::to_string(id);
  ASSERT_TRUE(std::filesystem::is_directory(bundle));
  std::filesystem::create_symlink(dir_ + "/token", bundle + "/token-link");
  std::filesystem::create_symlink(dir_, bundle + "/root-link");
  std::string base = "/api/v1/executions/" + std::to_string(id) + "/bundle/file?path=";
  for (const char* p : {"../../token", "..%2F..%2Ftoken", "%2Fetc%2Fpasswd", "token-link",
                        "root-link/token", "root-link%2Ftoken"}) {
    auto r = Get(base + p);
    ASSERT_TRUE(r) << p;
    EXPECT_TRUE(r->status == 400 || r->status == 403) << p << ": " << r->status;
    EXPECT_EQ(r->body.find(token_), std::string::npos) << p << " leaked the token";
  }
  auto list = Get("/api/v1/executions/" + std::to_string(id) + "/bundle");
  ASSERT_TRUE(list);
  EXPECT_EQ(list->body.find("token-link"), std::string::npos) << "symlinks are not listed";
}

TEST_F(WebRoutesTest, RunsPerDayCountsTodaysRun) {
  RunOne();
  auto r = Get("/api/v1/runs/daily?days=7");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  json j = json::parse(r->body);
  ASSERT_EQ(j["days"].size(), 7u);
  EXPECT_EQ(j["workarounds"]["w"], json({0, 0, 0, 0, 0, 0, 1}));
  EXPECT_EQ(j["complete"], true);
  auto bad = Get("/api/v1/runs/daily?days=0");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  auto other = Get("/api/v1/runs/daily?days=7&issue=acme%2Fother%231");
  EXPECT_EQ(json::parse(other->body)["workarounds"], json::object());
}

}  // namespace
}  // namespace stopgap::server
