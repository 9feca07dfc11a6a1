// RunGuru: the `guru:` step. Signals the target (default SIGUSR2), then polls
// `report_glob` every 10 ms until a report appears that is new or changed
// since the signal and whose size has settled, and copies it into the bundle
// as guru/<basename>. The wait and the file system calls (glob, stat, the
// copy: any of them can block on a hung mount) run as a collector of
// RunCollectors, on a thread of its own that is abandoned at req.timeout: the
// caller's thread returns by then whatever the file system does.
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
  auto refuse = [&](Status st) {
    CollectorOutcome o;
    o.name = "guru";
    o.error = st.message();
    o.duration = std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now() - start);
    return o;
  };
  if (req.report_glob.empty()) return refuse(InvalidArgument("guru: no report pattern"));
  auto pid = ResolvePid(req.pid, req.pidfile, req.exe);
  if (!pid.ok()) return refuse(pid.status());
  CollectRequest run;
  run.collectors = {"guru"};
  run.timeout = req.timeout;
  run.size_cap = req.size_cap;
  // The collector holds copies of what it needs: it may outlive this call.
  run.extra.push_back({"guru",
                       [glob = req.report_glob, signal = req.signal, timeout = req.timeout,
                        target = *pid](CollectorContext& ctx) -> Status {
                         auto before = Matches(glob);
                         if (::kill(target, signal) != 0) {
                           return ErrnoStatus("guru: kill " + std::to_string(target), errno);
                         }
                         std::map<std::string, FileStamp> last_seen;
                         while (true) {
                           for (const auto& [path, stamp] : Matches(glob)) {
                             auto b = before.find(path);
                             if (b != before.end() && b->second == stamp) continue;  // not new
                             auto l = last_seen.find(path);
                             if (l != last_seen.end() && l->second == stamp && stamp.size > 0) {
                               // Same size and time on two polls: the writer is done.
                               std::string base = path.substr(path.rfind('/') + 1);
                               Status st = ctx.CopyFile(path, base);
                               if (st.ok()) ctx.Metric("report_bytes", stamp.size);
                               return st;
                             }
                             last_seen[path] = stamp;
                           }
                           if (ctx.Expired()) {
                             return DeadlineExceeded("guru: no new report matching " + glob +
                                                     " within " + FormatDuration(timeout) +
                                                     " of signal " + std::to_string(signal) +
                                                     " to pid " + std::to_string(target));
                           }
                           std::this_thread::sleep_for(std::chrono::milliseconds(10));
                         }
                       }});
  std::vector<CollectorOutcome> out = RunCollectors(run, bundle_dir, clock);
  if (out.empty()) return refuse(Internal("guru: not run"));
  if (out.front().timed_out) {
    // Whether the poll saw its deadline or the collector was abandoned in a
    // file system call, the user-facing fact is the same.
    out.front().error = "guru: no new report matching " + req.report_glob + " within " +
                        FormatDuration(req.timeout) + " of signal " + std::to_string(req.signal) +
                        " to pid " + std::to_string(*pid);
  }
  return out.front();
}

}  // namespace stopgap::diag
