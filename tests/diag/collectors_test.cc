// The collectors on real processes this test starts (bench/diag_target with
// 200 sleeping threads), time budgets and size caps, secret masking of a
// process's argv and environment, and pid resolution errors.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "diag/diag.h"
#include "diag/internal/collector.h"
#include "target_process.h"

namespace stopgap::diag {
namespace {

namespace fs = std::filesystem;
using testing::TargetProcess;

std::string Slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

size_t Count(const std::string& hay, const std::string& needle) {
  size_t n = 0;
  for (size_t pos = hay.find(needle); pos != std::string::npos; pos = hay.find(needle, pos + 1))
    ++n;
  return n;
}

int64_t Metric(const CollectorOutcome& o, const std::string& key) {
  for (const auto& [k, v] : o.metrics) {
    if (k == key) return v;
  }
  return -1;
}

class CollectorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("diag-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(CollectorsTest, ProcessWith200ThreadsAndStacks) {
  TargetProcess target(200);
  ASSERT_TRUE(target.ready());
  CollectRequest req;
  req.collectors = {"process"};
  req.pid = target.pid();
  req.stacks = true;
  ASSERT_TRUE(ValidateCollectRequest(req).ok());
  auto out = RunCollectors(req, dir_, SystemClock::Instance());
  ASSERT_EQ(out.size(), 1u);
  ASSERT_TRUE(out[0].ok) << out[0].error;
  fs::path pdir = dir_ / ("process-" + std::to_string(target.pid()));
  // 200 workers + the ticker + the main thread.
  EXPECT_NE(Slurp(pdir / "threads.txt").find("threads: 202"), std::string::npos);
  EXPECT_EQ(Metric(out[0], "stack_threads"), 202);
  std::string stacks = Slurp(pdir / "stacks.txt");
  // Every worker's stack is unwound through the target's own frames.
  EXPECT_EQ(Count(stacks, " wait_forever+"), 200u);
  EXPECT_GE(Count(stacks, " worker_loop+"), 800u);  // depth 3 recursion + the first call
  EXPECT_EQ(Count(stacks, " ticker+"), 1u);
  EXPECT_NE(Slurp(pdir / "stacks-summary.txt").find("200 thread(s)"), std::string::npos);
  // One thread at a time, briefly: the largest pause we imposed is small.
  EXPECT_GE(Metric(out[0], "stack_max_pause_us"), 0);
  EXPECT_LT(Metric(out[0], "stack_max_pause_us"), 5000);
  // The target survived and runs on.
  EXPECT_EQ(::kill(target.pid(), 0), 0);
  for (const char* f : {"status.txt", "cmdline.txt", "environ.txt", "limits.txt", "cgroup.txt",
                        "namespaces.txt", "fds.txt", "sockets.txt", "maps-summary.txt"}) {
    EXPECT_TRUE(fs::exists(pdir / f)) << f;
  }
  EXPECT_NE(Slurp(pdir / "maps-summary.txt").find("Rss:"), std::string::npos);
  EXPECT_NE(Slurp(pdir / "status.txt").find("Threads:\t202"), std::string::npos);
}

TEST_F(CollectorsTest, SecretsInArgvAndEnvironmentAreMasked) {
  TargetProcess target(
      1,
      {"--password=hunter2", "--token", "s3cr3t-tok", "DB_PASSWORD=pw-in-argv",
       "postgres://app:url-pass@db/x", "--custom-thing=zzz-custom", "--visible=ok"},
      {"PATH=/usr/bin", "API_TOKEN=env-token-1", "MY_CUSTOM_VALUE=env-custom",
       "AWS_SECRET_ACCESS_KEY=env-aws", "PLAIN=plain-value"});
  ASSERT_TRUE(target.ready());
  CollectRequest req;
  req.collectors = {"process"};
  req.pid = target.pid();
  req.redact_patterns = {"*custom*"};
  auto out = RunCollectors(req, dir_, SystemClock::Instance());
  ASSERT_TRUE(out[0].ok) << out[0].error;
  fs::path pdir = dir_ / ("process-" + std::to_string(target.pid()));
  std::string all;
  for (const auto& e : fs::recursive_directory_iterator(dir_)) {
    if (e.is_regular_file()) all += Slurp(e.path());
  }
  for (const char* secret : {"hunter2", "s3cr3t-tok", "pw-in-argv", "url-pass", "zzz-custom",
                             "env-token-1", "env-custom", "env-aws"}) {
    EXPECT_EQ(all.find(secret), std::string::npos) << secret << " leaked into the bundle";
  }
  std::string cmdline = Slurp(pdir / "cmdline.txt");
  EXPECT_NE(cmdline.find("--password=***"), std::string::npos);
  EXPECT_NE(cmdline.find("--visible=ok"), std::string::npos);
  std::string env = Slurp(pdir / "environ.txt");
  EXPECT_NE(env.find("API_TOKEN=***"), std::string::npos);
  EXPECT_NE(env.find("PLAIN=plain-value"), std::string::npos);
}

TEST_F(CollectorsTest, SystemAndTcp) {
  // A listening socket of our own, so the tcp collector has one to find.
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(s, 7), 0);
  socklen_t len = sizeof a;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  std::string port = std::to_string(ntohs(a.sin_port));

  CollectRequest req;
  req.collectors = {"system", "tcp"};
  auto out = RunCollectors(req, dir_, SystemClock::Instance());
  ::close(s);
  ASSERT_EQ(out.size(), 2u);
  ASSERT_TRUE(out[0].ok) << out[0].error;
  ASSERT_TRUE(out[1].ok) << out[1].error;
  EXPECT_NE(Slurp(dir_ / "system/summary.txt").find("kernel: Linux"), std::string::npos);
  EXPECT_NE(Slurp(dir_ / "system/meminfo.txt").find("MemTotal:"), std::string::npos);
  EXPECT_TRUE(std::regex_search(Slurp(dir_ / "system/disk.txt"), std::regex("\n/ ")));
  EXPECT_NE(Slurp(dir_ / "system/top.txt").find("# top by CPU"), std::string::npos);
  EXPECT_GT(Metric(out[0], "processes"), 1);
  std::string sockets = Slurp(dir_ / "tcp/sockets.txt");
  EXPECT_NE(sockets.find("127.0.0.1:" + port), std::string::npos) << sockets;
  EXPECT_NE(sockets.find("LISTEN"), std::string::npos);
  std::string counters = Slurp(dir_ / "tcp/counters.txt");
  EXPECT_NE(counters.find("retransmit_rate_window:"), std::string::npos);
  EXPECT_NE(counters.find("ListenOverflows:"), std::string::npos);
  EXPECT_NE(counters.find("Tcp.OutSegs"), std::string::npos);
}

TEST_F(CollectorsTest, OverrunningCollectorIsCutOffAndOthersGoOn) {
  CollectRequest req;
  req.collectors = {"slow", "tcp"};
  req.timeout = std::chrono::milliseconds(200);
  auto finished_sleeping = std::make_shared<std::atomic<bool>>(false);
  auto late_write = std::make_shared<std::atomic<int>>(-1);
  req.extra.push_back({"slow", [=](CollectorContext& ctx) -> Status {
                         std::this_thread::sleep_for(std::chrono::milliseconds(800));
                         finished_sleeping->store(true);
                         late_write->store(static_cast<int>(ctx.WriteFile("late.txt", "x").code()));
                         return Status::Ok();
                       }});
  auto t0 = std::chrono::steady_clock::now();
  auto out = RunCollectors(req, dir_, SystemClock::Instance());
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_LT(took, std::chrono::milliseconds(600));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_FALSE(out[0].ok);
  EXPECT_TRUE(out[0].timed_out);
  EXPECT_NE(out[0].error.find("time budget"), std::string::npos);
  EXPECT_GE(out[0].duration.count(), 200);
  EXPECT_TRUE(out[1].ok) << out[1].error;
  // The abandoned collector can no longer write into the bundle.
  while (late_write->load() == -1) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(late_write->load(), static_cast<int>(StatusCode::kDeadlineExceeded));
  EXPECT_FALSE(fs::exists(dir_ / "slow/late.txt"));
}

TEST_F(CollectorsTest, SizeCapTruncatesAndFailureIsRecorded) {
  CollectRequest req;
  req.collectors = {"big", "broken"};
  req.size_cap = 1000;
  req.extra.push_back({"big", [](CollectorContext& ctx) {
                         return ctx.WriteFile("big.txt", std::string(5000, 'x'));
                       }});
  req.extra.push_back({"broken", [](CollectorContext&) { return Unavailable("disk on fire"); }});
  auto out = RunCollectors(req, dir_, SystemClock::Instance());
  EXPECT_TRUE(out[0].ok);
  EXPECT_TRUE(out[0].truncated);
  EXPECT_EQ(out[0].bytes, 1000u);
  EXPECT_EQ(fs::file_size(dir_ / "big/big.txt"), 1000u);
  EXPECT_EQ((fs::status(dir_ / "big/big.txt").permissions() & fs::perms::all),
            fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_FALSE(out[1].ok);
  EXPECT_FALSE(out[1].timed_out);
  EXPECT_EQ(out[1].error, "disk on fire");
}

TEST_F(CollectorsTest, PidErrorsAreClear) {
  auto r = ResolvePid(999999999, "");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("no such process"), std::string::npos);
  std::ofstream(dir_ / "bad.pid") << "not-a-pid\n";
  r = ResolvePid(std::nullopt, (dir_ / "bad.pid").string());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("bad.pid"), std::string::npos);
  std::ofstream(dir_ / "me.pid") << ::getpid() << "\n";
  r = ResolvePid(std::nullopt, (dir_ / "me.pid").string());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, ::getpid());
  CollectRequest req;
  req.collectors = {"system", "nosuch"};
  EXPECT_NE(ValidateCollectRequest(req).message().find("nosuch"), std::string::npos);
  req.collectors = {"process"};
  EXPECT_FALSE(ValidateCollectRequest(req).ok());  // no pid
}

// A pidfile that is a symlink to a 0600 file must not be followed, and what a
// pidfile holds never reaches the error (it goes to the ledger and the API).
TEST_F(CollectorsTest, PidfileSymlinkRefusedAndContentsNeverEchoed) {
  std::ofstream(dir_ / "secret") << "hunter2-topsecret\n";
  fs::permissions(dir_ / "secret", fs::perms::owner_read | fs::perms::owner_write);
  fs::create_symlink(dir_ / "secret", dir_ / "link.pid");
  auto r = ResolvePid(std::nullopt, (dir_ / "link.pid").string());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().find("hunter2"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("symlink"), std::string::npos) << r.status().message();
  r = ResolvePid(std::nullopt, (dir_ / "secret").string());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().find("hunter2"), std::string::npos) << r.status().message();
  ASSERT_EQ(::mkfifo((dir_ / "fifo.pid").c_str(), 0600), 0);
  r = ResolvePid(std::nullopt, (dir_ / "fifo.pid").string());  // must not hang
  EXPECT_FALSE(r.ok());
}

TEST_F(CollectorsTest, PidfileOwnedBySomeoneElseIsRefused) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to chown";
  std::ofstream(dir_ / "other.pid") << ::getpid() << "\n";
  ASSERT_EQ(::chown((dir_ / "other.pid").c_str(), 4242, 4242), 0);
  auto r = ResolvePid(std::nullopt, (dir_ / "other.pid").string());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("uid 4242"), std::string::npos) << r.status().message();
}

TEST_F(CollectorsTest, ExeCheck) {
  std::string self = fs::read_symlink("/proc/self/exe").string();
  EXPECT_TRUE(ResolvePid(::getpid(), "", self).ok());
  auto r = ResolvePid(::getpid(), "", "/usr/sbin/sshd");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("/usr/sbin/sshd"), std::string::npos);
  GuruRequest g;
  g.pid = ::getpid();
  g.exe = "/usr/sbin/sshd";
  g.report_glob = (dir_ / "never-*.txt").string();
  g.signal = SIGUSR2;  // refused before it is sent: the test process would die of it
  CollectorOutcome o = RunGuru(g, dir_.string(), SystemClock::Instance());
  EXPECT_FALSE(o.ok);
  EXPECT_NE(o.error.find("/usr/sbin/sshd"), std::string::npos) << o.error;
}

TEST(ParseSignal, NamesAndNumbers) {
  EXPECT_EQ(*ParseSignal("USR2"), SIGUSR2);
  EXPECT_EQ(*ParseSignal("SIGusr1"), SIGUSR1);
  EXPECT_EQ(*ParseSignal("15"), SIGTERM);
  EXPECT_FALSE(ParseSignal("BOGUS").ok());
  EXPECT_FALSE(ParseSignal("0").ok());
}

}  // namespace
}  // namespace stopgap::diag
