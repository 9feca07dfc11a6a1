// Running external commands safely: an argv array (never a shell), the
// program looked up in a fixed PATH, its own process group, a minimal
// environment, a timeout that stops the whole group (SIGTERM, then SIGKILL
// after a grace period), stdout/stderr captured up to a cap and optionally
// copied to files. ProcessRunner is an interface so tests and benchmarks can
// inject their own.
//
//   PosixProcessRunner runner;
//   ProcessSpec spec{.argv = {"ss", "-tan"}, .timeout = std::chrono::seconds(5)};
//   Result<ProcessResult> r = runner.Run(spec);   // error only when it could not start
//   if (r.ok() && r->Succeeded()) Use(r->stdout_data);
//
// Thread safety: Run() may be called from many threads at once (each call
// owns its child and pipes); StopAll(), Fence() and Unfence() from any thread.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/time.h"

namespace stopgap {

// The only directories a bare program name is looked up in.
inline constexpr std::string_view kFixedPath =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
inline constexpr size_t kDefaultOutputCap = 1u << 20;  // per stream

struct ProcessSpec {
  std::vector<std::string> argv;  // argv[0]: a bare name (looked up in kFixedPath) or a path
  Duration timeout = std::chrono::seconds(60);
  Duration kill_grace = std::chrono::seconds(5);  // SIGTERM -> SIGKILL
  size_t output_cap = kDefaultOutputCap;          // per stream, memory and file alike
  // When set, each stream is also written (mode 0600, created on first byte;
  // no file when the stream is empty) to this path.
  std::string stdout_path;
  std::string stderr_path;
  // Extra "NAME=value" entries on top of the minimal environment
  // (PATH=kFixedPath, LANG=C, LC_ALL=C, HOME=/).
  std::vector<std::string> env;
  std::string cwd;  // empty: inherit
};

struct ProcessResult {
  pid_t pid = 0;
  int exit_code = -1;   // -1 when killed by a signal
  int term_signal = 0;  // the signal that ended it, 0 when it exited
  bool timed_out = false;
  bool stopped = false;     // ended by PosixProcessRunner::StopAll (shutdown)
  bool fenced = false;      // ended by ProcessRunner::Fence (the node lost its cluster lease)
  std::string stdout_data;  // at most output_cap bytes
  std::string stderr_data;
  bool stdout_truncated = false;
  bool stderr_truncated = false;
  uint64_t stdout_bytes = 0;  // total seen, including what was cut
  uint64_t stderr_bytes = 0;
  std::string program;       // the resolved path that was executed
  std::string output_error;  // writing stdout_path/stderr_path failed (output kept in memory)
  WallTime started_at{};
  WallTime finished_at{};
  Duration duration{0};  // monotonic

  bool Succeeded() const { return !timed_out && term_signal == 0 && exit_code == 0; }
  bool Truncated() const { return stdout_truncated || stderr_truncated; }
  // "exit 0", "exit 3", "signal 9 (timed out)", "signal 15 (stopped)",
  // "signal 15 (fenced)".
  std::string Describe() const;
};

class ProcessRunner {
 public:
  virtual ~ProcessRunner() = default;
  // Runs to completion (or timeout). The error is for "could not start":
  // program not found, not executable, spawn failure (kNotFound /
  // kInvalidArgument / kInternal).
  virtual Result<ProcessResult> Run(const ProcessSpec& spec) = 0;
  // True once the runner stops steps for a shutdown (Run() then refuses).
  virtual bool stopping() const { return false; }

  // Fencing: this node can no longer prove to the other nodes of its
  // cluster that it is alive (remedy/lease_fence.h), so another node may
  // soon take its executions over. Every step running now is stopped as a
  // timeout stops it, with at most `grace` between SIGTERM and SIGKILL (the
  // result says `fenced`), and Run() refuses new steps (kUnavailable) until
  // Unfence(). A step running when Fence() is called is stopped even when
  // Unfence() follows at once. Runners that start nothing real (test
  // fakes) may ignore it.
  virtual void Fence(Duration grace) { (void)grace; }
  virtual void Unfence() {}
  virtual bool fenced() const { return false; }
};

class PosixProcessRunner final : public ProcessRunner {
 public:
  // `clock` stamps started_at/finished_at; timeouts always use real time.
  explicit PosixProcessRunner(const Clock& clock = SystemClock::Instance());
  ~PosixProcessRunner() override;
  PosixProcessRunner(const PosixProcessRunner&) = delete;
  PosixProcessRunner& operator=(const PosixProcessRunner&) = delete;
  Result<ProcessResult> Run(const ProcessSpec& spec) override;

  // For shutdown: every step running now is stopped as a timeout would stop
  // it (SIGTERM to its process group, SIGKILL after its kill_grace; the
  // result says `stopped`), and Run() refuses new steps (kUnavailable).
  // Returns at once; each Run() returns when its group is gone.
  // Thread-safe; may be called from a signal-handling thread.
  void StopAll();
  bool stopping() const override { return stopping_.load(); }

  void Fence(Duration grace) override;
  void Unfence() override;
  bool fenced() const override { return fenced_.load(); }

 private:
  // Wakes every Run() in progress (each polls an eventfd of its own).
  void WakeAll();

  const Clock& clock_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> fenced_{false};
  // +1 per Fence(): a Run() that started under another epoch is stopped.
  std::atomic<uint64_t> fence_epoch_{0};
  std::atomic<Duration::rep> fence_grace_ms_{0};
  std::mutex wake_mu_;
  std::set<int> wake_fds_;  // guarded by wake_mu_: the eventfds of the Run() calls in progress
};

// Resolves argv[0]: a name containing '/' is used as is (must be executable),
// a bare name is searched in `path` (colon-separated).
Result<std::string> ResolveProgram(std::string_view name, std::string_view path = kFixedPath);

}  // namespace stopgap
