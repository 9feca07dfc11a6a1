// Diagnostics that cannot hang a worker: a `process` collector with stacks
// against a target with one thread stuck in the kernel (a vfork parent, state
// D: no ptrace interrupt can stop it) returns within its budget, reports the
// thread as skipped, and leaves no thread of the target stopped; a `guru`
// step whose target never writes its report returns at its timeout.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include "diag/diag.h"
#include "target_process.h"

namespace stopgap::diag {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::steady_clock;
using testing::TargetProcess;

std::string Slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// tid -> state letter of every thread of `pid`.
std::map<pid_t, char> ThreadStates(pid_t pid) {
  std::map<pid_t, char> out;
  for (const auto& e : fs::directory_iterator("/proc/" + std::to_string(pid) + "/task")) {
    std::string stat = Slurp(e.path() / "stat");
    size_t paren = stat.rfind(')');
    if (paren == std::string::npos || paren + 2 >= stat.size()) continue;
    out[std::stoi(e.path().filename().string())] = stat[paren + 2];
  }
  return out;
}

// The children of `pid` (scanning /proc: the vfork child of the stuck thread).
std::vector<pid_t> ChildrenOf(pid_t pid) {
  std::vector<pid_t> out;
  for (const auto& e : fs::directory_iterator("/proc")) {
    std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string stat = Slurp(e.path() / "stat");
    size_t paren = stat.rfind(')');
    if (paren == std::string::npos) continue;
    std::istringstream rest(stat.substr(paren + 2));
    char state;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (ppid == pid) out.push_back(std::stoi(name));
  }
  return out;
}

std::string StoppedThreads(pid_t pid) {
  std::string out;
  for (const auto& [tid, state] : ThreadStates(pid)) {
    if (state == 't' || state == 'T') out += std::to_string(tid) + "=" + state + " ";
  }
  return out;
}

class BoundedWaitsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("diag-bounded-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(BoundedWaitsTest, ThreadStuckInKernelIsSkippedAndNothingIsLeftStopped) {
  TargetProcess target(40, {}, {"PATH=/usr/bin:/bin", "DIAG_TARGET_STUCK=1"});
  ASSERT_TRUE(target.ready());
  pid_t stuck = 0;
  for (int i = 0; i < 100 && stuck == 0; ++i) {
    for (const auto& [tid, state] : ThreadStates(target.pid())) {
      if (state == 'D') stuck = tid;
    }
    if (stuck == 0) std::this_thread::sleep_for(milliseconds(10));
  }
  ASSERT_NE(stuck, 0) << "the target has no thread in state D";

  CollectRequest req;
  req.collectors = {"process"};
  req.pid = target.pid();
  req.stacks = true;
  req.timeout = std::chrono::seconds(3);
  ASSERT_TRUE(ValidateCollectRequest(req).ok());
  auto t0 = steady_clock::now();
  // On the test's own thread pool: if the collect hangs, the test fails
  // instead of hanging.
  auto run = std::async(std::launch::async,
                        [&] { return RunCollectors(req, dir_, SystemClock::Instance()); });
  ASSERT_EQ(run.wait_for(req.timeout + std::chrono::seconds(2)), std::future_status::ready)
      << "the collect step did not return";
  auto took = steady_clock::now() - t0;
  auto out = run.get();
  EXPECT_LT(took, req.timeout + milliseconds(500));
  ASSERT_EQ(out.size(), 1u);

  // No thread of the target is left stopped by us, right away.
  EXPECT_EQ(StoppedThreads(target.pid()), "");

  // The stuck thread is reported skipped; the others were captured.
  std::string skipped;
  for (const std::string& s : out[0].skipped) skipped += s + "\n";
  EXPECT_NE(skipped.find("thread " + std::to_string(stuck) + ": did not stop"), std::string::npos)
      << skipped;
  EXPECT_EQ(out[0].skipped.size(), 1u) << skipped;
  EXPECT_TRUE(out[0].ok) << out[0].error;
  std::string stacks = Slurp(dir_ / ("process-" + std::to_string(target.pid())) / "stacks.txt");
  EXPECT_NE(stacks.find("captured: 42 skipped: 1"), std::string::npos) << stacks.substr(0, 300);

  // Let the stuck thread out of the kernel: it must run on, not stop in a
  // trap we left pending.
  std::vector<pid_t> children = ChildrenOf(target.pid());
  ASSERT_EQ(children.size(), 1u);
  ASSERT_EQ(::kill(children[0], SIGKILL), 0);
  char state = 'D';
  for (int i = 0; i < 200 && state == 'D'; ++i) {
    std::this_thread::sleep_for(milliseconds(10));
    state = ThreadStates(target.pid())[stuck];
  }
  EXPECT_NE(state, 'D');
  std::this_thread::sleep_for(milliseconds(100));
  EXPECT_EQ(StoppedThreads(target.pid()), "");
}

TEST_F(BoundedWaitsTest, GuruWhoseTargetNeverWritesReturnsAtItsTimeout) {
  TargetProcess target(2);
  ASSERT_TRUE(target.ready());
  GuruRequest req;
  req.pid = target.pid();
  req.signal = SIGUSR1;  // the target only resets a counter: no report, ever
  req.report_glob = (dir_ / "reports" / "guru-*.txt").string();
  req.timeout = milliseconds(700);
  fs::create_directories(dir_ / "bundle");
  auto t0 = steady_clock::now();
  auto run = std::async(std::launch::async, [&] {
    return RunGuru(req, (dir_ / "bundle").string(), SystemClock::Instance());
  });
  ASSERT_EQ(run.wait_for(req.timeout + std::chrono::seconds(2)), std::future_status::ready);
  auto took = steady_clock::now() - t0;
  CollectorOutcome out = run.get();
  EXPECT_GE(took, req.timeout);
  EXPECT_LT(took, req.timeout + milliseconds(300));
  EXPECT_FALSE(out.ok);
  EXPECT_TRUE(out.timed_out);
  EXPECT_NE(out.error.find("no new report"), std::string::npos) << out.error;
  EXPECT_EQ(::kill(target.pid(), 0), 0);
}

}  // namespace
}  // namespace stopgap::diag
