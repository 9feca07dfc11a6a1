// Tests for the StatsD emission of stopgap serve: the engine observer's names
// arrive over real UDP as StatsD lines (a bound loopback socket is the peer).
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "remedy/engine.h"
#include "server/engine_metrics.h"
#include "server/stats_emitter.h"

namespace stopgap::server {
namespace {

TEST(StatsdSlugTest, KeepsSafeCharacters) {
  EXPECT_EQ(StatsdSlug("acme/infra#123"), "acme_infra_123");
  EXPECT_EQ(StatsdSlug("nova-rpc_1"), "nova-rpc_1");
}

TEST(StatsEmitterTest, EmptyAddressIsANullEmitter) {
  auto e = MakeStatsEmitter("");
  ASSERT_TRUE(e.ok());
  (*e)->Count("x");
  EXPECT_EQ((*e)->dropped(), 0u);
}

TEST(StatsEmitterTest, EngineEventsGoOutAsStatsdLines) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
  auto e = MakeStatsEmitter("127.0.0.1:" + std::to_string(ntohs(a.sin_port)));
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  MetricsRegistry m;
  EngineMetrics::DescribeMetrics(m);
  EngineMetrics obs(m, **e);
  remedy::Workaround w;
  w.id = "nova-rpc";
  w.issue.text = "acme/infra#123";
  w.issue.kind = remedy::IssueRefKind::kRepo;
  w.issue.project = "acme/infra";
  w.issue.number = 123;
  obs.OnAdmitted(1, w);
  obs.OnRefused(2, w, {remedy::RefusalReason::kCooldown, "cooldown"});
  remedy::StepRecord step;
  step.phase = remedy::StepPhase::kAction;
  step.duration = Duration{42};
  obs.OnStepFinished(1, w, step);
  std::string got;
  for (int i = 0; i < 50 && got.find("stopgap.step.nova-rpc.action:42|ms") == std::string::npos;
       ++i) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    char buf[2048];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n > 0) got.append(buf, static_cast<size_t>(n)).append("\n");
  }
  close(fd);
  EXPECT_NE(got.find("stopgap.runs.nova-rpc:1|c"), std::string::npos) << got;
  EXPECT_NE(got.find("stopgap.issue." + StatsdSlug(w.issue.Slug()) + ".runs:1|c"),
            std::string::npos)
      << got;
  EXPECT_NE(got.find("stopgap.refused.cooldown:1|c"), std::string::npos) << got;
  EXPECT_NE(got.find("stopgap.step.nova-rpc.action:42|ms"), std::string::npos) << got;
  EXPECT_EQ(
      m.Value("stopgap_runs_total", {{"workaround", "nova-rpc"}, {"issue", "acme/infra#123"}}), 1);
}

}  // namespace
}  // namespace stopgap::server
