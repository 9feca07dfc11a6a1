// Diagnostics collectors: the `collect:` and `guru:` steps of a workaround and
// `stopgap diag`. Each collector writes files into a bundle directory within a
// time budget and a size cap; an overrun or failure is reported in its
// CollectorOutcome (and, through BundleManifest, in manifest.json) and the
// other collectors go on.
//
//   stopgap::diag::CollectRequest req;
//   req.collectors = {"system", "tcp", "process"};
//   req.pid = 1234;
//   req.stacks = true;
//   auto outcomes = stopgap::diag::RunCollectors(req, "/var/lib/stopgap/bundles/x",
//                                                stopgap::SystemClock::Instance());
//
// Collectors: system, tcp, process (needs pid or pidfile). Reading /proc never
// stops the target; stack capture pauses one thread at a time (ptrace) and
// reports each pause.
//
// Thread safety: RunCollectors and RunGuru may be called from any thread; each
// call runs its collectors on threads of its own and returns when all have
// finished or their budgets have expired (a collector that overran is
// abandoned: it can no longer write into the bundle).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/time.h"

namespace stopgap::diag {

inline constexpr size_t kDefaultSizeCap = 64u << 20;  // per collector

struct CollectorOutcome {
  std::string name;        // "system", "process", "guru", ...
  bool ok = false;         // finished without error (truncated may still be true)
  bool timed_out = false;  // cut off at its time budget
  bool truncated = false;  // some output was cut at the size cap
  std::string error;       // empty when ok
  Duration duration{0};
  std::vector<std::string> files;  // relative to the bundle directory
  uint64_t bytes = 0;              // bytes written into the bundle
  // Collector-specific numbers for the manifest (e.g. "threads",
  // "max_pause_us" for stacks).
  std::vector<std::pair<std::string, int64_t>> metrics;
  // What it left out and why, one line each ("thread 812: did not stop
  // within 200 ms (state D in kernel_clone); not captured, left running").
  // The collector may still be ok: the rest was collected.
  std::vector<std::string> skipped;
};

// A collector body for tests and extensions: writes through the context.
class CollectorContext;
using CollectorFn = std::function<Status(CollectorContext&)>;

struct CollectRequest {
  std::vector<std::string> collectors;         // system, tcp, process
  std::optional<pid_t> pid;                    // for process
  std::string pidfile;                         // for process, when pid is unset
  std::string exe;                             // optional: /proc/PID/exe must resolve to this path
  bool stacks = false;                         // process: user-space stacks of all threads
  Duration timeout = std::chrono::seconds(5);  // per collector
  size_t size_cap = kDefaultSizeCap;           // per collector, bytes
  // Extra secret-name patterns (policy.redact): globs matched case-insensitively
  // against env var / flag names, or "re:<ECMAScript regex>".
  std::vector<std::string> redact_patterns;
  // Extra collectors by name (tests inject slow or failing ones here).
  std::vector<std::pair<std::string, CollectorFn>> extra;
};

// The names RunCollectors understands.
const std::vector<std::string>& CollectorNames();

// Checks names, the pid/pidfile (the process must exist) and the patterns.
// kInvalidArgument with a message naming what is wrong.
Status ValidateCollectRequest(const CollectRequest& req);

// Resolves pid or pidfile to a live pid (kInvalidArgument when none). A
// pidfile must be a regular file (a symlink is not followed) owned by root or
// by the effective user; its contents never appear in an error. When `exe` is
// set, /proc/PID/exe must resolve to exactly that path.
Result<pid_t> ResolvePid(std::optional<pid_t> pid, const std::string& pidfile,
                         const std::string& exe = "");
// kInvalidArgument unless /proc/PID/exe resolves to `exe` (Ok when empty).
Status CheckProcessExe(pid_t pid, const std::string& exe);

// Runs the requested collectors concurrently, writing into `bundle_dir` (which
// must exist). One outcome per requested collector, in request order. Budgets
// and durations use the steady clock (real time, whatever `clock` is);
// `clock` is kept for wall timestamps.
std::vector<CollectorOutcome> RunCollectors(const CollectRequest& req,
                                            const std::string& bundle_dir, const Clock& clock);

struct GuruRequest {
  std::optional<pid_t> pid;
  std::string pidfile;
  std::string exe;  // optional: /proc/PID/exe must resolve to this path
  int signal = SIGUSR2;
  std::string report_glob;  // e.g. "/var/log/nova/guru-*.txt"
  Duration timeout = std::chrono::seconds(5);
  size_t size_cap = kDefaultSizeCap;
};

// Sends the signal and waits up to `timeout` for a report file matching
// `report_glob` that is new or changed since the signal, then copies it into
// the bundle as guru/<basename>. Outcome name "guru".
CollectorOutcome RunGuru(const GuruRequest& req, const std::string& bundle_dir, const Clock& clock);

// Parses "USR2", "SIGUSR2", "12" into a signal number.
Result<int> ParseSignal(std::string_view text);

}  // namespace stopgap::diag
