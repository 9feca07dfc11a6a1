// RunCollectors: one thread per requested collector, each with its own
// deadline; the caller's thread waits for all of them and abandons (detaches)
// any that overrun, recording it as timed out. Also request validation and
// pid/pidfile resolution.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <thread>

#include "core/file.h"
#include "diag/diag.h"
#include "diag/internal/collector.h"

namespace stopgap::diag {
namespace {

struct Builtin {
  const char* name;
  Status (*fn)(CollectorContext&);
};
constexpr Builtin kBuiltins[] = {
    {"system", internal::CollectSystem},
    {"tcp", internal::CollectTcp},
    {"process", internal::CollectProcess},
};

// Completion state shared by a collector thread and the waiting caller.
struct RunState {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  Status status;
  MonoTime finished;
};

bool ProcessExists(pid_t pid) { return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM); }

}  // namespace

const std::vector<std::string>& CollectorNames() {
  static const std::vector<std::string> kNames = {"system", "tcp", "process"};
  return kNames;
}

namespace {

// The pidfile is read by root on behalf of a catalog: it must be a regular
// file (not a symlink, FIFO or device) owned by root or by the user stopgap
// runs as, so another user cannot point a collector or a signal at any
// process, nor make stopgap read a file of theirs choosing. What it holds is
// never echoed: an error names the path and the rule, not the bytes.
Result<pid_t> ReadPidfile(const std::string& pidfile) {
  struct stat st {};
  Result<int> fd = OpenRegularNoFollow(pidfile, &st);
  if (!fd.ok()) return InvalidArgument("pidfile " + pidfile + ": " + fd.status().message());
  if (st.st_uid != 0 && st.st_uid != ::geteuid()) {
    ::close(*fd);
    return InvalidArgument("pidfile " + pidfile + ": owned by uid " + std::to_string(st.st_uid) +
                           ", not by root or uid " + std::to_string(::geteuid()) + "; not trusted");
  }
  char buf[64];
  ssize_t n;
  do {
    n = ::read(*fd, buf, sizeof buf);
  } while (n < 0 && errno == EINTR);
  ::close(*fd);
  if (n < 0) return InvalidArgument("pidfile " + pidfile + ": read failed");
  std::string_view s(buf, static_cast<size_t>(n));
  if (auto nl = s.find('\n'); nl != std::string_view::npos) s = s.substr(0, nl);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\r')) s.remove_suffix(1);
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  pid_t p = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), p);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size() || p <= 0) {
    return InvalidArgument("pidfile " + pidfile + ": line 1 is not a pid (contents not shown)");
  }
  return p;
}

}  // namespace

Status CheckProcessExe(pid_t pid, const std::string& exe) {
  if (exe.empty()) return Status::Ok();
  std::string link = "/proc/" + std::to_string(pid) + "/exe";
  char buf[4096];
  ssize_t n = ::readlink(link.c_str(), buf, sizeof buf - 1);
  if (n < 0) {
    return InvalidArgument("pid " + std::to_string(pid) + ": cannot read its executable (" +
                           std::strerror(errno) + "); exe " + exe + " not confirmed");
  }
  std::string_view got(buf, static_cast<size_t>(n));
  if (got != exe) {
    return InvalidArgument("pid " + std::to_string(pid) + " runs " + std::string(got) + ", not " +
                           exe + "; refused");
  }
  return Status::Ok();
}

Result<pid_t> ResolvePid(std::optional<pid_t> pid, const std::string& pidfile,
                         const std::string& exe) {
  pid_t p = 0;
  if (pid.has_value()) {
    p = *pid;
    if (!ProcessExists(p)) return InvalidArgument("pid " + std::to_string(p) + ": no such process");
  } else {
    if (pidfile.empty()) return InvalidArgument("process collector needs --pid or --pidfile");
    Result<pid_t> r = ReadPidfile(pidfile);
    if (!r.ok()) return r.status();
    p = *r;
    if (!ProcessExists(p)) {
      return InvalidArgument("pidfile " + pidfile + ": pid " + std::to_string(p) +
                             ": no such process");
    }
  }
  STOPGAP_RETURN_IF_ERROR(CheckProcessExe(p, exe));
  return p;
}

Status ValidateCollectRequest(const CollectRequest& req) {
  if (req.collectors.empty()) return InvalidArgument("collect: no collectors named");
  bool wants_process = false;
  for (const std::string& n : req.collectors) {
    bool extra = std::any_of(req.extra.begin(), req.extra.end(),
                             [&](const auto& e) { return e.first == n; });
    if (!extra &&
        std::find(CollectorNames().begin(), CollectorNames().end(), n) == CollectorNames().end()) {
      return InvalidArgument("collect: unknown collector \"" + n +
                             "\" (known: system, tcp, process)");
    }
    wants_process |= n == "process";
  }
  if (req.timeout.count() <= 0) return InvalidArgument("collect: timeout must be positive");
  if (req.size_cap == 0) return InvalidArgument("collect: size cap must be positive");
  if (req.stacks && !wants_process)
    return InvalidArgument("collect: stacks needs the process collector");
  if (wants_process) {
    auto pid = ResolvePid(req.pid, req.pidfile, req.exe);
    if (!pid.ok()) return pid.status();
  }
  auto red = internal::Redactor::Create(req.redact_patterns);
  if (!red.ok()) return red.status();
  return Status::Ok();
}

std::vector<CollectorOutcome> RunCollectors(const CollectRequest& req,
                                            const std::string& bundle_dir, const Clock& clock) {
  std::vector<CollectorOutcome> outcomes(req.collectors.size());
  auto red = internal::Redactor::Create(req.redact_patterns);
  struct Launched {
    size_t index;
    std::shared_ptr<CollectorContext> ctx;
    std::shared_ptr<RunState> state;
    std::thread thread;
    MonoTime start;
  };
  std::vector<Launched> runs;
  for (size_t i = 0; i < req.collectors.size(); ++i) {
    const std::string& name = req.collectors[i];
    outcomes[i].name = name;
    if (!red.ok()) {
      outcomes[i].error = red.status().message();
      continue;
    }
    CollectorFn fn;
    for (const auto& e : req.extra) {
      if (e.first == name) fn = e.second;
    }
    for (const Builtin& b : kBuiltins) {
      if (!fn && name == b.name) fn = b.fn;
    }
    if (!fn) {
      outcomes[i].error = "unknown collector \"" + name + "\"";
      continue;
    }
    std::string subdir = name;
    std::optional<pid_t> pid;
    if (name == "process") {
      auto p = ResolvePid(req.pid, req.pidfile, req.exe);
      if (!p.ok()) {
        outcomes[i].error = p.status().message();
        continue;
      }
      pid = *p;
      subdir = "process-" + std::to_string(*p);
    }
    MonoTime start = std::chrono::steady_clock::now();
    auto ctx = std::make_shared<CollectorContext>(bundle_dir, name, subdir, start + req.timeout,
                                                  req.size_cap, *red, req);
    ctx->pid = pid;
    auto state = std::make_shared<RunState>();
    std::thread t([ctx, state, fn] {
      Status st;
      try {
        st = fn(*ctx);
      } catch (const std::exception& e) {
        st = Internal(std::string("collector threw: ") + e.what());
      }
      std::lock_guard<std::mutex> lock(state->mu);
      state->status = st;
      state->finished = std::chrono::steady_clock::now();
      state->done = true;
      state->cv.notify_all();
    });
    runs.push_back({i, ctx, state, std::move(t), start});
  }
  for (Launched& r : runs) {
    CollectorOutcome& out = outcomes[r.index];
    bool done;
    Status st;
    MonoTime finished;
    {
      std::unique_lock<std::mutex> lock(r.state->mu);
      done = r.state->cv.wait_until(lock, r.ctx->deadline(), [&] { return r.state->done; });
      st = r.state->status;
      finished = r.state->finished;
    }
    if (done) {
      r.thread.join();
    } else {
      // Overran: no more writes from it; it finishes (or not) on its own.
      r.ctx->Abandon();
      r.thread.detach();
      finished = std::chrono::steady_clock::now();
    }
    out = r.ctx->Snapshot();
    out.duration = std::chrono::duration_cast<Duration>(finished - r.start);
    if (!done || st.code() == StatusCode::kDeadlineExceeded) {
      out.timed_out = true;
      out.ok = false;
      out.error = "cut off at its time budget of " + FormatDuration(req.timeout) +
                  (st.ok() || done == false ? "" : ": " + st.message());
    } else if (!st.ok()) {
      out.ok = false;
      out.error = st.message();
    } else {
      out.ok = true;
    }
  }
  (void)clock;
  return outcomes;
}

Result<int> ParseSignal(std::string_view text) {
  std::string s(text);
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (s.rfind("SIG", 0) == 0) s = s.substr(3);
  int n = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), n);
  if (r.ec == std::errc() && r.ptr == s.data() + s.size()) {
    if (n > 0 && n < NSIG) return n;
    return InvalidArgument("signal " + std::string(text) + ": out of range");
  }
  for (int i = 1; i < NSIG; ++i) {
    const char* abbrev = sigabbrev_np(i);
    if (abbrev != nullptr && s == abbrev) return i;
  }
  return InvalidArgument("signal \"" + std::string(text) + "\": unknown (e.g. USR2, SIGTERM, 12)");
}

}  // namespace stopgap::diag
