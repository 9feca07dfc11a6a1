// libstopgap_guru end to end: the example service (examples/guru-service) is
// started as a real process; the `guru:` step API (diag::RunGuru) signals it
// with SIGUSR2 and copies the new report into a bundle; the report must hold
// every section with secrets masked. Touching the trigger file makes another.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "diag/diag.h"

namespace stopgap::diag {
namespace {

namespace fs = std::filesystem;

std::string Slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class GuruTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("guru-test-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "reports");
    fs::create_directories(dir_ / "bundle");
    std::vector<std::string> args = {GURU_SERVICE_PATH,  "--report-dir",     (dir_ / "reports"),
                                     "--pidfile",        (dir_ / "svc.pid"), "--trigger-file",
                                     (dir_ / "trigger"), "--workers",        "4"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    ASSERT_EQ(::posix_spawn(&pid_, GURU_SERVICE_PATH, &fa, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    ::close(fds[1]);
    std::string line;
    char c;
    while (::read(fds[0], &c, 1) == 1 && c != '\n') line.push_back(c);
    ::close(fds[0]);
    ASSERT_EQ(line.rfind("ready", 0), 0u) << line;
  }
  void TearDown() override {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
      // The service shuts down cleanly with the library installed.
      EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    }
    fs::remove_all(dir_);
  }
  fs::path dir_;
  pid_t pid_ = 0;
};

TEST_F(GuruTest, SignalThroughGuruStepProducesCompleteReport) {
  GuruRequest req;
  req.pidfile = dir_ / "svc.pid";
  req.report_glob = (dir_ / "reports" / "guru-service_gurumeditation_*").string();
  req.timeout = std::chrono::seconds(5);
  CollectorOutcome o = RunGuru(req, dir_ / "bundle", SystemClock::Instance());
  ASSERT_TRUE(o.ok) << o.error;
  ASSERT_EQ(o.files.size(), 1u);
  EXPECT_EQ(o.files[0].rfind("guru/guru-service_gurumeditation_", 0), 0u);
  std::string r = Slurp(dir_ / "bundle" / o.files[0]);
  for (const char* section :
       {"Guru Meditation", "Package", "Threads", "Process", "Configuration", "Job queue"}) {
    EXPECT_TRUE(std::regex_search(r, std::regex("\n====  +" + std::string(section) + "  +====\n")))
        << section;
  }
  // Title block and package.
  EXPECT_NE(r.find("service = guru-service"), std::string::npos);
  EXPECT_NE(r.find("version = 1.0.0"), std::string::npos);
  // Every thread, symbolized: 4 workers inside the service's own functions.
  for (int i = 0; i < 4; ++i) {
    EXPECT_NE(r.find("\"worker-" + std::to_string(i) + "\""), std::string::npos) << i;
  }
  // One frame *in* WaitForJob per worker (at -O0 the condition_variable::wait
  // template frame also names it, as its template argument: not counted).
  const std::regex wait_frame(R"(0x[0-9a-f]+ (\(anonymous namespace\)::)?WaitForJob\()");
  auto waits =
      std::distance(std::sregex_iterator(r.begin(), r.end(), wait_frame), std::sregex_iterator());
  EXPECT_EQ(waits, 4);
  EXPECT_NE(r.find(" main+"), std::string::npos);
  EXPECT_EQ(r.find("(no stack"), std::string::npos);
  // Process info, configuration with secrets masked, the registered section.
  EXPECT_NE(r.find("pid = " + std::to_string(pid_)), std::string::npos);
  EXPECT_NE(r.find("listen = 127.0.0.1:8774"), std::string::npos);
  EXPECT_NE(r.find("database_connection = ***"), std::string::npos);
  EXPECT_NE(r.find("admin_password = ***"), std::string::npos);
  EXPECT_EQ(r.find("dbpass-123"), std::string::npos);
  EXPECT_EQ(r.find("adminpass-456"), std::string::npos);
  EXPECT_NE(r.find("completed = 5"), std::string::npos);
}

TEST_F(GuruTest, TouchingTheTriggerFileWritesAReport) {
  std::ofstream(dir_ / "trigger") << "";
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  size_t n = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    n = 0;
    for (const auto& e : fs::directory_iterator(dir_ / "reports")) {
      n += e.path().filename().string().rfind("guru-service_gurumeditation_", 0) == 0;
    }
    if (n > 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(n, 1u);
}

// The report directory may be shared: symlinks planted at the temp names the
// library used to write (.<service>_gurumeditation_<UTC second>.tmp) must not
// redirect the report into their target.
TEST_F(GuruTest, PlantedTempSymlinkDoesNotRedirectTheReport) {
  std::ofstream(dir_ / "victim") << "precious";
  fs::permissions(dir_ / "victim", fs::perms::owner_read | fs::perms::owner_write);
  time_t now = ::time(nullptr);
  for (time_t t = now - 1; t <= now + 6; ++t) {
    tm tm{};
    ::gmtime_r(&t, &tm);
    char ts[32];
    std::strftime(ts, sizeof ts, "%Y%m%d%H%M%S", &tm);
    fs::create_symlink(
        dir_ / "victim",
        dir_ / "reports" / (".guru-service_gurumeditation_" + std::string(ts) + ".tmp"));
  }
  GuruRequest req;
  req.pidfile = dir_ / "svc.pid";
  req.report_glob = (dir_ / "reports" / "guru-service_gurumeditation_*").string();
  req.timeout = std::chrono::seconds(5);
  CollectorOutcome o = RunGuru(req, dir_ / "bundle", SystemClock::Instance());
  ASSERT_TRUE(o.ok) << o.error;
  EXPECT_EQ(Slurp(dir_ / "victim"), "precious");
  EXPECT_NE(Slurp(dir_ / "bundle" / o.files[0]).find("Guru Meditation"), std::string::npos);
}

TEST_F(GuruTest, NoReportIsATimeoutRecorded) {
  GuruRequest req;
  req.pid = pid_;
  req.signal = SIGWINCH;  // ignored by the service: no report comes
  req.report_glob = (dir_ / "reports" / "*").string();
  req.timeout = std::chrono::milliseconds(300);
  CollectorOutcome o = RunGuru(req, dir_ / "bundle", SystemClock::Instance());
  EXPECT_FALSE(o.ok);
  EXPECT_TRUE(o.timed_out);
  EXPECT_NE(o.error.find("no new report"), std::string::npos);
}

}  // namespace
}  // namespace stopgap::diag
