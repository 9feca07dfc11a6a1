// PosixProcessRunner against real processes: argv without a shell, the
// minimal environment, caps, files, timeouts that stop a whole process group.
#include "core/process.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "core/file.h"
#include "gtest/gtest.h"

namespace stopgap {
namespace {

using namespace std::chrono_literals;

class ProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/stopgap-process-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
  PosixProcessRunner runner_;
};

TEST_F(ProcessTest, CapturesStdoutStderrAndExitCode) {
  ProcessSpec spec;
  spec.argv = {"sh", "-c", "echo out; echo err >&2; exit 3"};
  Result<ProcessResult> r = runner_.Run(spec);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_EQ(r->term_signal, 0);
  EXPECT_FALSE(r->Succeeded());
  EXPECT_EQ(r->stdout_data, "out\n");
  EXPECT_EQ(r->stderr_data, "err\n");
  EXPECT_EQ(r->program, "/usr/bin/sh");
  EXPECT_GE(r->finished_at, r->started_at);
}

TEST_F(ProcessTest, ShellMetacharactersStayLiteral) {
  std::string marker = dir_ + "/injected";
  ProcessSpec spec;
  // If any shell saw these words, the marker file would be created.
  spec.argv = {"echo", "$(touch " + marker + ")", "`touch " + marker + "`", ";", "touch", marker};
  Result<ProcessResult> r = runner_.Run(spec);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->Succeeded());
  EXPECT_EQ(r->stdout_data,
            "$(touch " + marker + ") `touch " + marker + "` ; touch " + marker + "\n");
  EXPECT_FALSE(std::filesystem::exists(marker));
}

TEST_F(ProcessTest, ProgramIsLookedUpInFixedPathOnly) {
  // A program in the caller's PATH but not in the fixed PATH is not found.
  std::string prog = dir_ + "/only-here";
  ASSERT_TRUE(WriteFileAtomic(prog, "#!/bin/sh\necho hi\n", 0700).ok());
  std::string old = std::getenv("PATH") ? std::getenv("PATH") : "";
  ::setenv("PATH", (dir_ + ":" + old).c_str(), 1);
  ProcessSpec spec;
  spec.argv = {"only-here"};
  Result<ProcessResult> r = runner_.Run(spec);
  ::setenv("PATH", old.c_str(), 1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  // By path it runs.
  spec.argv = {prog};
  r = runner_.Run(spec);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->stdout_data, "hi\n");
}

TEST_F(ProcessTest, MinimalEnvironment) {
  ::setenv("STOPGAP_TEST_SECRET_TOKEN", "hunter2", 1);
  ProcessSpec spec;
  spec.argv = {"env"};
  spec.env = {"EXTRA=1", "HOME=/nonexistent"};
  Result<ProcessResult> r = runner_.Run(spec);
  ::unsetenv("STOPGAP_TEST_SECRET_TOKEN");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->stdout_data.find("hunter2"), std::string::npos);
  EXPECT_NE(r->stdout_data.find("PATH=" + std::string(kFixedPath) + "\n"), std::string::npos);
  EXPECT_NE(r->stdout_data.find("LANG=C\n"), std::string::npos);
  EXPECT_NE(r->stdout_data.find("EXTRA=1\n"), std::string::npos);
  EXPECT_NE(r->stdout_data.find("HOME=/nonexistent\n"), std::string::npos);
  EXPECT_EQ(r->stdout_data.find("HOME=/\n"), std::string::npos);
}

TEST_F(ProcessTest, OutputIsCappedAndMarkedTruncated) {
  ProcessSpec spec;
  spec.argv = {"head", "-c", "100000", "/dev/zero"};
  spec.output_cap = 1000;
  spec.stdout_path = dir_ + "/out";
  Result<ProcessResult> r = runner_.Run(spec);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->Succeeded());
  EXPECT_EQ(r->stdout_data.size(), 1000u);
  EXPECT_TRUE(r->stdout_truncated);
  EXPECT_FALSE(r->stderr_truncated);
  EXPECT_EQ(r->stdout_bytes, 100000u);
  EXPECT_EQ(std::filesystem::file_size(spec.stdout_path), 1000u);
  struct stat st;
  ASSERT_EQ(::stat(spec.stdout_path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(ProcessTest, EmptyStreamCreatesNoFile) {
  ProcessSpec spec;
  spec.argv = {"true"};
  spec.stdout_path = dir_ + "/out";
  spec.stderr_path = dir_ + "/err";
  Result<ProcessResult> r = runner_.Run(spec);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->Succeeded());
  EXPECT_FALSE(std::filesystem::exists(spec.stdout_path));
  EXPECT_FALSE(std::filesystem::exists(spec.stderr_path));
}

TEST_F(ProcessTest, SignalIsRecorded) {
  ProcessSpec spec;
  spec.argv = {"sh", "-c", "kill -SEGV $$"};
  Result<ProcessResult> r = runner_.Run(spec);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->term_signal, SIGSEGV);
  EXPECT_EQ(r->exit_code, -1);
  EXPECT_FALSE(r->timed_out);
}

TEST_F(ProcessTest, NoSignalIsIgnoredInChild) {
  // The parent ignores SIGPIPE (main.cc does); the child must not inherit that.
  ::signal(SIGPIPE, SIG_IGN);
  ProcessSpec spec;
  spec.argv = {"grep", "SigIgn", "/proc/self/status"};
  Result<ProcessResult> r = runner_.Run(spec);
  ::signal(SIGPIPE, SIG_DFL);
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->stdout_data.starts_with("SigIgn:\t")) << r->stdout_data;
  uint64_t ignored = std::stoull(r->stdout_data.substr(8), nullptr, 16);
  EXPECT_EQ(ignored & (1ull << (SIGPIPE - 1)), 0u) << r->stdout_data;
  EXPECT_EQ(ignored & (1ull << (SIGTERM - 1)), 0u) << r->stdout_data;
}

// Alive and not a zombie (an orphan's zombie may linger when PID 1 does not reap).
bool ProcessAlive(pid_t pid) {
  Result<std::string> stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  if (!stat.ok()) return false;
  size_t paren = stat->rfind(')');
  return paren != std::string::npos && paren + 2 < stat->size() && (*stat)[paren + 2] != 'Z';
}

TEST_F(ProcessTest, TimeoutKillsTheWholeProcessGroup) {
  // The child starts a grandchild that ignores SIGTERM and writes its pid; both
  // must be gone once Run returns.
  std::string pidfile = dir_ + "/grandchild.pid";
  ProcessSpec spec;
  spec.argv = {
      "sh", "-c",
      "sh -c 'trap \"\" TERM; echo $$ > " + pidfile + "; while :; do sleep 0.05; done' & wait"};
  spec.timeout = 300ms;
  spec.kill_grace = 200ms;
  auto start = std::chrono::steady_clock::now();
  Result<ProcessResult> r = runner_.Run(spec);
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->timed_out);
  EXPECT_FALSE(r->Succeeded());
  EXPECT_LT(elapsed, 5s);
  Result<std::string> gp = ReadFile(pidfile);
  ASSERT_TRUE(gp.ok());
  pid_t grandchild = std::stoi(*gp);
  // SIGKILL is asynchronous for a process we cannot reap: allow it a moment.
  for (int i = 0; i < 100 && ProcessAlive(grandchild); ++i) std::this_thread::sleep_for(10ms);
  EXPECT_FALSE(ProcessAlive(grandchild)) << "grandchild " << grandchild << " survived";
  EXPECT_FALSE(ProcessAlive(r->pid));
}

TEST_F(ProcessTest, SigtermIsTriedFirst) {
  ProcessSpec spec;
  spec.argv = {"sleep", "30"};
  spec.timeout = 100ms;
  spec.kill_grace = 5s;
  Result<ProcessResult> r = runner_.Run(spec);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->timed_out);
  EXPECT_EQ(r->term_signal, SIGTERM);
  EXPECT_LT(r->duration, 3s);
}

TEST_F(ProcessTest, StopAllStopsRunningGroupsAndRefusesNewSteps) {
  // Two steps at once: one exits on SIGTERM, one's grandchild ignores it and
  // needs the SIGKILL after kill_grace. Both Run() calls return well before
  // their 60 s timeout, marked stopped (not timed out), groups gone.
  PosixProcessRunner runner;
  std::string pidfile = dir_ + "/stubborn.pid";
  ProcessSpec polite;
  polite.argv = {"sleep", "60"};
  ProcessSpec stubborn;
  stubborn.argv = {
      "sh", "-c",
      "sh -c 'trap \"\" TERM; echo $$ > " + pidfile + "; while :; do sleep 0.05; done' & wait"};
  stubborn.kill_grace = 200ms;
  Result<ProcessResult> r1 = Internal("not run"), r2 = Internal("not run");
  std::thread t1([&] { r1 = runner.Run(polite); });
  std::thread t2([&] { r2 = runner.Run(stubborn); });
  for (int i = 0; i < 500 && !std::filesystem::exists(pidfile); ++i) {
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_TRUE(std::filesystem::exists(pidfile));
  auto start = std::chrono::steady_clock::now();
  runner.StopAll();
  t1.join();
  t2.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  ASSERT_TRUE(r1.ok() && r2.ok());
  EXPECT_TRUE(r1->stopped);
  EXPECT_FALSE(r1->timed_out);
  EXPECT_EQ(r1->term_signal, SIGTERM);
  EXPECT_EQ(r1->Describe(), "signal 15 (stopped)");
  EXPECT_TRUE(r2->stopped);
  EXPECT_FALSE(r2->Succeeded());
  pid_t grandchild = std::stoi(*ReadFile(pidfile));
  for (int i = 0; i < 100 && ProcessAlive(grandchild); ++i) std::this_thread::sleep_for(10ms);
  EXPECT_FALSE(ProcessAlive(grandchild)) << "the SIGTERM-proof grandchild got SIGKILL";
  Result<ProcessResult> after = runner.Run(polite);
  EXPECT_EQ(after.status().code(), StatusCode::kUnavailable) << "no new steps once stopping";
}

// Fencing (a node that lost its cluster lease): running steps are stopped
// within the fence's grace, not their own kill_grace, new ones are refused
// until Unfence(), and a step running at Fence() is stopped even when
// Unfence() follows at once.
TEST_F(ProcessTest, FenceStopsRunningStepsAndRefusesNewOnesUntilUnfenced) {
  PosixProcessRunner runner;
  std::string pidfile = dir_ + "/stubborn.pid";
  ProcessSpec stubborn;
  stubborn.argv = {
      "sh", "-c",
      "sh -c 'trap \"\" TERM; echo $$ > " + pidfile + "; while :; do sleep 0.05; done' & wait"};
  stubborn.kill_grace = 60s;  // the fence's grace bounds it
  Result<ProcessResult> r = Internal("not run");
  std::thread t([&] { r = runner.Run(stubborn); });
  for (int i = 0; i < 500 && !std::filesystem::exists(pidfile); ++i) {
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_TRUE(std::filesystem::exists(pidfile));
  auto start = std::chrono::steady_clock::now();
  runner.Fence(200ms);
  EXPECT_TRUE(runner.fenced());
  t.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s) << "killed within the fence's grace";
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->fenced);
  EXPECT_FALSE(r->stopped);
  EXPECT_FALSE(r->timed_out);
  EXPECT_FALSE(r->Succeeded());
  pid_t grandchild = std::stoi(*ReadFile(pidfile));
  for (int i = 0; i < 100 && ProcessAlive(grandchild); ++i) std::this_thread::sleep_for(10ms);
  EXPECT_FALSE(ProcessAlive(grandchild)) << "the SIGTERM-proof grandchild got SIGKILL";

  ProcessSpec quick;
  quick.argv = {"true"};
  Result<ProcessResult> refused = runner.Run(quick);
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable) << "no new steps while fenced";
  EXPECT_FALSE(runner.stopping());
  runner.Unfence();
  EXPECT_FALSE(runner.fenced());
  Result<ProcessResult> again = runner.Run(quick);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->Succeeded());
  EXPECT_FALSE(again->fenced);

  // Fence and Unfence at once: the step that ran at the fence is stopped anyway.
  std::filesystem::remove(pidfile);
  ProcessSpec polite;
  polite.argv = {"sh", "-c", "echo $$ > " + pidfile + "; exec sleep 60"};
  t = std::thread([&] { r = runner.Run(polite); });
  for (int i = 0; i < 500 && !std::filesystem::exists(pidfile); ++i) {
    std::this_thread::sleep_for(10ms);
  }
  runner.Fence(1s);
  runner.Unfence();
  t.join();
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->fenced);
  EXPECT_EQ(r->term_signal, SIGTERM);
  EXPECT_EQ(r->Describe(), "signal 15 (fenced)");
}

TEST_F(ProcessTest, OwnProcessGroup) {
  ProcessSpec spec;
  spec.argv = {"sh", "-c", "ps -o pgid= -p $$"};
  Result<ProcessResult> r = runner_.Run(spec);
  ASSERT_TRUE(r.ok());
  if (r->Succeeded()) {  // ps may be absent from a minimal box
    EXPECT_EQ(std::stoi(r->stdout_data), r->pid);
  }
  EXPECT_NE(::getpgid(0), r->pid);
}

TEST_F(ProcessTest, NotFoundAndEmptyArgv) {
  ProcessSpec spec;
  Result<ProcessResult> r = runner_.Run(spec);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  spec.argv = {"no-such-program-stopgap"};
  r = runner_.Run(spec);
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
}

TEST_F(ProcessTest, StdinIsDevNull) {
  ProcessSpec spec;
  spec.argv = {"cat"};
  spec.timeout = 5s;
  Result<ProcessResult> r = runner_.Run(spec);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->Succeeded());
  EXPECT_EQ(r->stdout_data, "");
}

}  // namespace
}  // namespace stopgap
