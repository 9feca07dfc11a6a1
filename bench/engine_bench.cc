// engine_bench: the remediation engine's overhead per execution against its
// floor, side by side in one process. Each iteration of
//   floor:  posix_spawn + waitpid of the same three commands (diagnostics,
//           action, verify), then one write + fsync of a small record;
//   engine: RemediationEngine::Execute of a workaround with those three steps
//           (real PosixProcessRunner, SQLite ledger, bundle sealed with fsync).
// Rounds alternate floor and engine so both see the same machine noise. Per
// round: wall time and CPU time (self + children, getrusage) per execution.
// Prints the median over rounds and the engine/floor ratios.
//
// Usage: engine_bench [--rounds N] [--iterations N] [--dir DIR]
// Thread safety: single-threaded.
#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "core/log.h"
#include "core/process.h"
#include "remedy/engine.h"
#include "remedy/ledger.h"

extern char** environ;

namespace {

using namespace stopgap;
using namespace stopgap::remedy;
using Clock = std::chrono::steady_clock;

struct Sample {
  double wall_us = 0;  // per execution
  double cpu_us = 0;   // per execution, self + children
};

double CpuUs() {
  rusage self{}, kids{};
  getrusage(RUSAGE_SELF, &self);
  getrusage(RUSAGE_CHILDREN, &kids);
  auto us = [](const timeval& t) { return t.tv_sec * 1e6 + t.tv_usec; };
  return us(self.ru_utime) + us(self.ru_stime) + us(kids.ru_utime) + us(kids.ru_stime);
}

std::vector<std::vector<std::string>> Commands(const std::string& dir) {
  return {{"/bin/cat", "/proc/loadavg"},
          {"/usr/bin/touch", dir + "/touched"},
          {"/usr/bin/test", "-f", dir + "/touched"}};
}

bool SpawnWait(const std::vector<std::string>& argv) {
  std::vector<char*> a;
  for (const std::string& s : argv) a.push_back(const_cast<char*>(s.c_str()));
  a.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, a[0], &fa, nullptr, a.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return false;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

Sample RunFloor(const std::string& dir, int iterations) {
  auto cmds = Commands(dir);
  int fd = open((dir + "/floor.log").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) {
    std::perror("open");
    std::exit(1);
  }
  double cpu0 = CpuUs();
  auto t0 = Clock::now();
  for (int i = 0; i < iterations; ++i) {
    for (const auto& c : cmds) {
      if (!SpawnWait(c)) {
        std::fprintf(stderr, "floor: %s failed\n", c[0].c_str());
        std::exit(1);
      }
    }
    const char rec[] = "execution record\n";
    if (write(fd, rec, sizeof rec - 1) < 0 || fsync(fd) != 0) {
      std::perror("write/fsync");
      std::exit(1);
    }
  }
  auto t1 = Clock::now();
  double cpu1 = CpuUs();
  close(fd);
  return {std::chrono::duration<double, std::micro>(t1 - t0).count() / iterations,
          (cpu1 - cpu0) / iterations};
}

Sample RunEngine(RemediationEngine& engine, int iterations) {
  Alert alert;
  double cpu0 = CpuUs();
  auto t0 = Clock::now();
  for (int i = 0; i < iterations; ++i) {
    Result<ExecutionOutcome> o = engine.Execute("bench", alert, "bench");
    if (!o.ok() || o->state != ExecutionState::kSucceeded) {
      std::fprintf(stderr, "engine: %s %s\n", o.ok() ? o->detail.c_str() : "",
                   o.ok() ? "" : o.status().ToString().c_str());
      std::exit(1);
    }
  }
  auto t1 = Clock::now();
  double cpu1 = CpuUs();
  return {std::chrono::duration<double, std::micro>(t1 - t0).count() / iterations,
          (cpu1 - cpu0) / iterations};
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = 7, iterations = 40;
  std::string dir;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--rounds")
      rounds = std::atoi(argv[i + 1]);
    else if (a == "--iterations")
      iterations = std::atoi(argv[i + 1]);
    else if (a == "--dir")
      dir = argv[i + 1];
  }
  bool own_dir = dir.empty();
  if (own_dir) {
    char tmpl[] = "/tmp/stopgap-engine-bench-XXXXXX";
    if (!mkdtemp(tmpl)) return 1;
    dir = tmpl;
  }
  SetLogLevel(LogLevel::kError);

  Workaround w;
  w.id = "bench";
  w.issue = *ParseIssueRef("acme/infra#1");
  w.cause = Cause::kHardware;
  auto cmds = Commands(dir);
  auto step = [](std::vector<std::string> argv) {
    Step s;
    s.body = RunStep{std::move(argv)};
    s.timeout = std::chrono::seconds(10);
    return s;
  };
  w.diagnostics = {step(cmds[0])};
  w.action = {step(cmds[1])};
  w.verify = {step(cmds[2])};
  w.limits.concurrency = 1;
  auto catalog = std::make_shared<Catalog>();
  catalog->bundles = dir + "/bundles";
  catalog->policy.max_runs_per_hour = 1000000;
  catalog->workarounds = {w};
  Result<std::unique_ptr<ExecutionLedger>> ledger =
      OpenSqliteLedger(dir + "/ledger.db", SystemClock::Instance());
  if (!ledger.ok()) {
    std::fprintf(stderr, "%s\n", ledger.status().ToString().c_str());
    return 1;
  }
  PosixProcessRunner runner;
  RemediationEngine engine(catalog, **ledger, runner, SystemClock::Instance());

  // Warm-up: page cache, SQLite schema, dynamic loader.
  RunFloor(dir, 5);
  RunEngine(engine, 5);

  std::vector<double> fw, fc, ew, ec, rw, rc;
  std::printf("%-6s %14s %14s %14s %14s\n", "round", "floor wall us", "engine wall us",
              "floor cpu us", "engine cpu us");
  for (int r = 0; r < rounds; ++r) {
    Sample f = RunFloor(dir, iterations);
    Sample e = RunEngine(engine, iterations);
    fw.push_back(f.wall_us);
    fc.push_back(f.cpu_us);
    ew.push_back(e.wall_us);
    ec.push_back(e.cpu_us);
    rw.push_back(e.wall_us / f.wall_us);
    rc.push_back(e.cpu_us / f.cpu_us);
    std::printf("%-6d %14.0f %14.0f %14.0f %14.0f\n", r + 1, f.wall_us, e.wall_us, f.cpu_us,
                e.cpu_us);
  }
  std::printf("\nper execution (3 processes), median of %d rounds x %d executions:\n", rounds,
              iterations);
  std::printf("  floor  (posix_spawn x3 + 1 fsync): wall %8.0f us   cpu %8.0f us\n", Median(fw),
              Median(fc));
  std::printf("  engine (Execute, SQLite, bundle):   wall %8.0f us   cpu %8.0f us\n", Median(ew),
              Median(ec));
  std::printf("  ratio engine/floor: wall %.2fx   cpu %.2fx   (target <= 1.5x)\n", Median(rw),
              Median(rc));
  std::printf("  engine overhead: wall %+.0f us   cpu %+.0f us per execution\n",
              Median(ew) - Median(fw), Median(ec) - Median(fc));
  ledger->reset();
  if (own_dir) std::filesystem::remove_all(dir);
  return 0;
}
