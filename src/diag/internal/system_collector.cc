// The `system` collector: kernel and uptime, load, meminfo, pressure, vmstat
// and per-process CPU deltas over the collector's own run time (no idle
// sleep), disk and inode use per mount, top processes, recent kernel messages.
// Runs on its collector thread; reads only /proc and statvfs.
#include <dirent.h>
#include <sys/klog.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <set>
#include <thread>

#include "core/file.h"
#include "diag/internal/collector.h"
#include "diag/internal/proc_parse.h"
#include "diag/internal/text_table.h"

namespace stopgap::diag::internal {
namespace {

struct ProcSample {
  std::string comm;
  uint64_t ticks = 0;
  int64_t rss_pages = 0;
};

std::map<pid_t, ProcSample> SampleProcesses() {
  std::map<pid_t, ProcSample> out;
  DIR* d = ::opendir("/proc");
  if (d == nullptr) return out;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    auto text = ReadFile(std::string("/proc/") + e->d_name + "/stat", 4096);
    if (!text.ok()) continue;  // exited meanwhile
    auto st = ParseTaskStat(*text);
    if (!st.ok()) continue;
    out[st->pid] = {st->comm, st->utime + st->stime, st->rss_pages};
  }
  ::closedir(d);
  return out;
}

std::map<std::string, uint64_t> ReadVmstat() {
  std::map<std::string, uint64_t> out;
  auto text = ReadFile("/proc/vmstat", 1 << 20);
  if (!text.ok()) return out;
  for (auto& [k, v] : ParseKeyValueLines(*text, ' ')) {
    if (auto n = ParseLeadingU64(v)) out[std::string(k)] = *n;
  }
  return out;
}

std::string Summary() {
  std::string s;
  utsname u{};
  if (::uname(&u) == 0) {
    s += std::string("kernel: ") + u.sysname + " " + u.release + " " + u.version + " " + u.machine +
         "\n";
    s += std::string("host: ") + u.nodename + "\n";
  }
  s += "collected: " + FormatRfc3339(std::chrono::system_clock::now()) + "\n";
  if (auto up = ReadFile("/proc/uptime", 4096); up.ok()) s += "uptime_seconds: " + *up;
  if (auto la = ReadFile("/proc/loadavg", 4096); la.ok()) s += "loadavg: " + *la;
  s += "cpus_online: " + std::to_string(::sysconf(_SC_NPROCESSORS_ONLN)) + "\n";
  return s;
}

std::string Pressure() {
  std::string s;
  for (const char* r : {"cpu", "memory", "io"}) {
    auto t = ReadFile(std::string("/proc/pressure/") + r, 4096);
    s += std::string("[") + r + "]\n" +
         (t.ok() ? *t : "unavailable: " + t.status().message() + "\n");
  }
  return s;
}

bool PseudoFs(const std::string& type) {
  static const std::set<std::string> kPseudo = {
      "proc",        "sysfs",  "devpts",     "cgroup", "cgroup2",   "securityfs", "debugfs",
      "tracefs",     "pstore", "bpf",        "mqueue", "hugetlbfs", "configfs",   "fusectl",
      "binfmt_misc", "autofs", "rpc_pipefs", "nsfs",   "selinuxfs", "efivarfs"};
  return kPseudo.count(type) > 0;
}

Status DiskUsage(CollectorContext& ctx) {
  auto mounts = ReadFile("/proc/self/mounts", 4 << 20);
  if (!mounts.ok()) return mounts.status();
  TextTable t({"mount", "fstype", "size_mb", "used_mb", "avail_mb", "use%", "inodes", "iuse%"});
  std::set<std::string> seen;
  for (const MountEntry& m : ParseMounts(*mounts)) {
    if (ctx.Expired()) break;
    if (PseudoFs(m.fstype) || !seen.insert(m.mountpoint).second) continue;
    struct statvfs v {};
    // statvfs on a dead network mount can hang: the collector's budget covers it.
    if (::statvfs(m.mountpoint.c_str(), &v) != 0 || v.f_blocks == 0) continue;
    uint64_t bs = v.f_frsize, size = v.f_blocks * bs, avail = v.f_bavail * bs;
    uint64_t used = (v.f_blocks - v.f_bfree) * bs;
    uint64_t iused = v.f_files - v.f_ffree;
    auto pct = [](uint64_t a, uint64_t b) {
      return b == 0 ? std::string("-") : std::to_string(a * 100 / b);
    };
    t.Add({m.mountpoint, m.fstype, std::to_string(size >> 20), std::to_string(used >> 20),
           std::to_string(avail >> 20), pct(used, used + avail), std::to_string(v.f_files),
           pct(iused, v.f_files)});
  }
  return ctx.WriteFile("disk.txt", t.Render());
}

Status KernelMessages(CollectorContext& ctx) {
  int size = ::klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, nullptr, 0);
  if (size <= 0) return ctx.WriteFile("dmesg.txt", "unavailable: cannot size the kernel log\n");
  std::string buf(static_cast<size_t>(size), '\0');
  int n = ::klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf.data(), size);
  if (n < 0) {
    return ctx.WriteFile("dmesg.txt", std::string("unavailable: ") + std::strerror(errno) + "\n");
  }
  buf.resize(static_cast<size_t>(n));
  // Keep the last 200 lines.
  size_t pos = buf.size();
  for (int lines = 0; lines <= 200 && pos > 0; ++lines) {
    pos = buf.rfind('\n', pos - 1);
    if (pos == std::string::npos) {
      pos = 0;
      break;
    }
  }
  return ctx.WriteFile("dmesg.txt", buf.substr(pos == 0 ? 0 : pos + 1));
}

}  // namespace

Status CollectSystem(CollectorContext& ctx) {
  auto t0 = std::chrono::steady_clock::now();
  auto vm0 = ReadVmstat();
  auto procs0 = SampleProcesses();

  STOPGAP_RETURN_IF_ERROR(ctx.WriteFile("summary.txt", Summary()));
  if (auto m = ReadFile("/proc/meminfo", 1 << 20); m.ok()) {
    STOPGAP_RETURN_IF_ERROR(ctx.WriteFile("meminfo.txt", *m));
  }
  STOPGAP_RETURN_IF_ERROR(ctx.WriteFile("pressure.txt", Pressure()));
  if (ctx.Expired()) return DeadlineExceeded("system: budget spent");
  STOPGAP_RETURN_IF_ERROR(DiskUsage(ctx));
  STOPGAP_RETURN_IF_ERROR(KernelMessages(ctx));
  if (ctx.Expired()) return DeadlineExceeded("system: budget spent");

  // Deltas need a window: at least 20 ms, usually the time the above took.
  auto min_window = std::chrono::milliseconds(20);
  auto spent = std::chrono::steady_clock::now() - t0;
  if (spent < min_window) std::this_thread::sleep_for(min_window - spent);
  auto vm1 = ReadVmstat();
  auto procs1 = SampleProcesses();
  double window_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  std::string vm = "window_ms: " + std::to_string(static_cast<int64_t>(window_s * 1000)) + "\n";
  for (const auto& [k, v1] : vm1) {
    auto it = vm0.find(k);
    if (it != vm0.end() && v1 != it->second) {
      vm += k + " " + std::to_string(static_cast<int64_t>(v1 - it->second)) + "\n";
    }
  }
  STOPGAP_RETURN_IF_ERROR(ctx.WriteFile("vmstat-delta.txt", vm));

  struct Row {
    pid_t pid;
    const ProcSample* s;
    uint64_t dticks;
  };
  std::vector<Row> rows;
  for (const auto& [pid, s] : procs1) {
    auto it = procs0.find(pid);
    uint64_t d = it != procs0.end() && s.ticks >= it->second.ticks ? s.ticks - it->second.ticks : 0;
    rows.push_back({pid, &s, d});
  }
  double hz = static_cast<double>(::sysconf(_SC_CLK_TCK));
  int64_t page_kb = ::sysconf(_SC_PAGESIZE) / 1024;
  auto render = [&](const char* title) {
    TextTable t({"pid", "comm", "cpu%", "rss_mb"});
    for (size_t i = 0; i < rows.size() && i < 15; ++i) {
      double pct = window_s > 0 ? 100.0 * static_cast<double>(rows[i].dticks) / hz / window_s : 0;
      char p[32];
      std::snprintf(p, sizeof p, "%.1f", pct);
      t.Add({std::to_string(rows[i].pid), rows[i].s->comm, p,
             std::to_string(rows[i].s->rss_pages * page_kb / 1024)});
    }
    return std::string(title) + "\n" + t.Render();
  };
  std::sort(rows.begin(), rows.end(),
            [](const Row& a, const Row& b) { return a.dticks > b.dticks; });
  std::string top = render("# top by CPU over the window");
  std::sort(rows.begin(), rows.end(),
            [](const Row& a, const Row& b) { return a.s->rss_pages > b.s->rss_pages; });
  top += "\n" + render("# top by resident memory");
  top += "\nprocesses: " + std::to_string(procs1.size()) + "\n";
  ctx.Metric("processes", static_cast<int64_t>(procs1.size()));
  return ctx.WriteFile("top.txt", top);
}

}  // namespace stopgap::diag::internal
