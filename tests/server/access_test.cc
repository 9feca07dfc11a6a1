// AccessPolicy: tokens with scopes, the route scopes, the Host allow-list and
// the Origin check. Token files are real files (0600) in a temp directory.
#include "server/access.h"

#include <stdlib.h>

#include <filesystem>

#include "core/file.h"
#include "gtest/gtest.h"

namespace stopgap::server {
namespace {

class AccessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/stopgap-access-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    Write("am.token", kAm);
    Write("ops.token", kOps);
    Write("default.token", kDefault);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void Write(const std::string& name, const std::string& token) {
    ASSERT_TRUE(WriteFileAtomic(dir_ + "/" + name, token + "\n", 0600).ok());
  }
  remedy::ServerConfig Config() {
    remedy::ServerConfig c;
    c.listen = "127.0.0.1:9470";
    c.tokens = {{"alertmanager", dir_ + "/am.token", {"alerts"}, 0},
                {"ops", dir_ + "/ops.token", {"read", "run"}, 0}};
    return c;
  }
  AccessPolicy Policy(const remedy::ServerConfig& c) {
    Result<AccessPolicy> p = AccessPolicy::Load(c, c.listen, false);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return *p;
  }
  static AccessDecision Ask(const AccessPolicy& p, std::string_view method, std::string_view path,
                            const std::string& token, std::string_view host = "127.0.0.1:9470",
                            std::string_view origin = "") {
    std::string auth = token.empty() ? "" : "Bearer " + token;
    return p.Check(
        {.method = method, .path = path, .host = host, .origin = origin, .authorization = auth});
  }

  const std::string kAm = std::string(64, 'a');
  const std::string kOps = std::string(64, 'b');
  const std::string kDefault = std::string(64, 'd');
  std::string dir_;
};

TEST_F(AccessTest, ReadsNeedATokenByDefault) {
  AccessPolicy p = Policy(Config());
  for (const char* path : {"/api/v1/alerts", "/api/v1/executions", "/api/v1/executions/1",
                           "/api/v1/workarounds", "/api/v1/issues"}) {
    EXPECT_EQ(Ask(p, "GET", path, "").status, 401) << path;
    EXPECT_EQ(Ask(p, "GET", path, std::string(64, 'x')).status, 401) << path;
    AccessDecision d = Ask(p, "GET", path, kOps);
    EXPECT_EQ(d.status, 200) << path;
    EXPECT_EQ(d.token, "ops");
    EXPECT_EQ(Ask(p, "GET", path, kAm).status, 403) << path << ": alerts has no read";
  }
}

TEST_F(AccessTest, ScopesPerRoute) {
  AccessPolicy p = Policy(Config());
  EXPECT_EQ(Ask(p, "POST", "/api/v1/alerts", kAm).status, 200);
  EXPECT_EQ(Ask(p, "POST", "/api/v1/alerts/alertmanager", kAm).token, "alertmanager");
  EXPECT_EQ(Ask(p, "POST", "/api/v1/alerts", kOps).status, 403);
  EXPECT_EQ(Ask(p, "POST", "/api/v1/workarounds/w/run", kOps).status, 200);
  EXPECT_EQ(Ask(p, "POST", "/api/v1/workarounds/w/run", kAm).status, 403);
  EXPECT_EQ(Ask(p, "DELETE", "/api/v1/alerts", kOps).status, 403) << "unknown: admin";
  EXPECT_EQ(Ask(p, "OPTIONS", "/api/v1/alerts", "").status, 401);
  // Approvals need approve; the breaker's reset needs admin.
  EXPECT_EQ(p.RequiredScope("POST", "/api/v1/executions/7/approve"), Scope::kApprove);
  EXPECT_EQ(p.RequiredScope("POST", "/api/v1/executions/7/deny"), Scope::kApprove);
  EXPECT_EQ(p.RequiredScope("POST", "/api/v1/breaker/reset"), Scope::kAdmin);
  EXPECT_EQ(p.RequiredScope("GET", "/api/v1/breaker"), Scope::kRead);
  EXPECT_EQ(Ask(p, "POST", "/api/v1/executions/7/deny", kOps).status, 403);
  AccessDecision d = Ask(p, "POST", "/api/v1/alerts", kOps);
  EXPECT_EQ(d.message.find(kOps), std::string::npos) << "secret echoed";
}

TEST_F(AccessTest, LegacyTokenFileHasEveryScope) {
  remedy::ServerConfig c;
  c.listen = "127.0.0.1:9470";
  c.token_file = dir_ + "/default.token";
  AccessPolicy p = Policy(c);
  for (auto [m, path] : {std::pair{"GET", "/api/v1/alerts"},
                         {"POST", "/api/v1/alerts"},
                         {"POST", "/api/v1/workarounds/w/run"},
                         {"DELETE", "/x"}}) {
    AccessDecision d = Ask(p, m, path, kDefault);
    EXPECT_EQ(d.status, 200) << m << " " << path;
    EXPECT_EQ(d.token, "default");
  }
}

TEST_F(AccessTest, HealthzAndMetrics) {
  remedy::ServerConfig c = Config();
  AccessPolicy p = Policy(c);
  EXPECT_EQ(Ask(p, "GET", "/healthz", "", "evil.example:9470").status, 200);
  EXPECT_EQ(Ask(p, "GET", "/metrics", "").status, 200);
  EXPECT_EQ(Ask(p, "GET", "/", "").status, 200);
  c.metrics_auth = true;
  AccessPolicy q = Policy(c);
  EXPECT_EQ(Ask(q, "GET", "/metrics", "").status, 401);
  EXPECT_EQ(Ask(q, "GET", "/metrics", kOps).status, 200);
}

TEST_F(AccessTest, HostAllowList) {
  AccessPolicy p = Policy(Config());
  for (const char* host : {"127.0.0.1:9470", "localhost:9470", "LOCALHOST:9470", "[::1]:9470"}) {
    EXPECT_EQ(Ask(p, "GET", "/api/v1/alerts", kOps, host).status, 200) << host;
  }
  for (const char* host : {"evil.example:9470", "127.0.0.1:80", "localhost", "",
                           "127.0.0.1.nip.io:9470", "localhost:9470.evil"}) {
    AccessDecision d = Ask(p, "GET", "/api/v1/alerts", kOps, host);
    EXPECT_EQ(d.status, 421) << host;
    EXPECT_EQ(Ask(p, "GET", "/", "", host).status, 421) << host;
  }
  remedy::ServerConfig c = Config();
  c.allowed_hosts = {"stopgap.lan"};
  AccessPolicy q = Policy(c);
  EXPECT_EQ(Ask(q, "GET", "/api/v1/alerts", kOps, "stopgap.lan:1234").status, 200);
  EXPECT_EQ(Ask(q, "GET", "/api/v1/alerts", kOps, "127.0.0.1:9470").status, 421);
}

TEST_F(AccessTest, CrossOriginRefused) {
  AccessPolicy p = Policy(Config());
  EXPECT_EQ(Ask(p, "GET", "/api/v1/alerts", kOps, "127.0.0.1:9470", "http://evil.example").status,
            403);
  EXPECT_EQ(Ask(p, "GET", "/api/v1/alerts", kOps, "127.0.0.1:9470", "http://127.0.0.1:9470").status,
            200);
}

TEST_F(AccessTest, LoadFailures) {
  remedy::ServerConfig none;
  EXPECT_FALSE(AccessPolicy::Load(none, "127.0.0.1:9470", false).ok());
  remedy::ServerConfig c = Config();
  c.tokens[0].file = dir_ + "/missing.token";
  EXPECT_FALSE(AccessPolicy::Load(c, c.listen, false).ok());
  std::vector<std::string> created;
  ASSERT_TRUE(AccessPolicy::Load(c, c.listen, true, &created).ok());
  EXPECT_EQ(created, (std::vector<std::string>{dir_ + "/missing.token"}));
}

TEST_F(AccessTest, UiAssetsAreOpenButBundleReadsNeedRead) {
  AccessPolicy p = Policy(Config());
  for (const char* path : {"/", "/ui/app.js", "/ui/app.css"}) {
    EXPECT_EQ(Ask(p, "GET", path, "").status, 200) << path;
    EXPECT_EQ(Ask(p, "GET", path, "", "evil.example:9470").status, 421) << path;
  }
  for (const char* path :
       {"/api/v1/executions/1/bundle", "/api/v1/executions/1/bundle/file",
        "/api/v1/executions/1/bundle.tar.zst", "/api/v1/runs/daily", "/api/v1/ui/tracker"}) {
    EXPECT_EQ(Ask(p, "GET", path, "").status, 401) << path;
    EXPECT_EQ(Ask(p, "GET", path, kOps).status, 200) << path;
  }
  EXPECT_EQ(Ask(p, "POST", "/ui/app.js", "").status, 401) << "only reads are open";
}

}  // namespace
}  // namespace stopgap::server
