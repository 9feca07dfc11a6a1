// RunGuru: the `guru:` step. Signals the target (default SIGUSR2), then polls
// `report_glob` every 10 ms until a report appears that is new or changed
// since the signal and whose size has settled, and copies it into the bundle
// as guru/<basename>. Runs on the caller's thread; bounded by req.timeout.
#include <glob.h>
#include <signal.h>
#include <sys/stat.h>

#include <cstring>
#include <map>
#include <thread>

#include "diag/diag.h"
#include "diag/internal/collector.h"

namespace stopgap::diag {
namespace {

struct FileStamp {
  int64_t mtime_ns = 0;
  int64_t size = -1;
  bool operator==(const FileStamp&) const = default;
};

std::map<std::string, FileStamp> Matches(const std::string& pattern) {
  std::map<std::string, FileStamp> out;
  glob_t g{};
  if (::glob(pattern.c_str(), 0, nullptr, &g) == 0) {
    for (size_t i = 0; i < g.gl_pathc; ++i) {
      struct stat st {};
      if (::stat(g.gl_pathv[i], &st) == 0 && S_ISREG(st.st_mode)) {
        out[g.gl_pathv[i]] = {st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec, st.st_size};
      }
    }
  }
  ::globfree(&g);
  return out;
}

}  // namespace

CollectorOutcome RunGuru(const GuruRequest& req, const std::string& bundle_dir,
                         const Clock& clock) {
  auto start = std::chrono::steady_clock::now();
  CollectorContext ctx(bundle_dir, "guru", "guru", start + req.timeout, req.size_cap, {}, {});
  auto finish = [&](Status st, bool timed_out) {
    CollectorOutcome o = ctx.Snapshot();
    o.duration = std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now() - start);
    o.ok = st.ok();
    o.timed_out = timed_out;
    if (!st.ok()) o.error = st.message();
    return o;
  };
  if (req.report_glob.empty()) return finish(InvalidArgument("guru: no report pattern"), false);
  auto pid = ResolvePid(req.pid, req.pidfile, req.exe);
  if (!pid.ok()) return finish(pid.status(), false);
  auto before = Matches(req.report_glob);
  if (::kill(*pid, req.signal) != 0) {
    return finish(ErrnoStatus("guru: kill " + std::to_string(*pid), errno), false);
  }
  std::map<std::string, FileStamp> last_seen;
  while (true) {
    for (const auto& [path, stamp] : Matches(req.report_glob)) {
      auto b = before.find(path);
      if (b != before.end() && b->second == stamp) continue;  // not new
      auto l = last_seen.find(path);
      if (l != last_seen.end() && l->second == stamp && stamp.size > 0) {
        // Same size and time on two polls: the writer is done.
        std::string base = path.substr(path.rfind('/') + 1);
        Status st = ctx.CopyFile(path, base);
        if (st.ok()) ctx.Metric("report_bytes", stamp.size);
        return finish(st, false);
      }
      last_seen[path] = stamp;
    }
    if (ctx.Expired()) {
      return finish(
          DeadlineExceeded("guru: no new report matching " + req.report_glob + " within " +
                           FormatDuration(req.timeout) + " of signal " +
                           std::to_string(req.signal) + " to pid " + std::to_string(*pid)),
          true);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  (void)clock;
}

}  // namespace stopgap::diag
