// The `process` collector: status, cmdline and environ (secrets masked),
// limits, cgroup, namespaces, file descriptors and sockets, a memory-map
// summary, every thread's name/state/wait channel, and with `stacks` the
// user-space stack of every thread (stack_report.cc). Reading /proc never
// stops the target. Runs on its collector thread.
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <functional>
#include <future>
#include <map>
#include <set>
#include <thread>

#include "core/file.h"
#include "diag/internal/collector.h"
#include "diag/internal/proc_parse.h"
#include "diag/internal/text_table.h"

namespace stopgap::diag::internal {

// Captures and writes the stacks; calls `names` (thread names by tid) only
// once the stacks are unwound, so the caller can produce them meanwhile.
Status CollectStacks(CollectorContext& ctx, pid_t pid,
                     const std::function<const std::map<pid_t, std::string>&()>& names);

namespace {

std::string ReadLink(const std::string& path) {
  char buf[4096];
  ssize_t n = ::readlink(path.c_str(), buf, sizeof buf - 1);
  return n < 0 ? std::string() : std::string(buf, static_cast<size_t>(n));
}

std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return out;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') out.emplace_back(e->d_name);
  }
  ::closedir(d);
  return out;
}

std::vector<std::string> ListNumeric(const std::string& dir) {
  auto v = ListDir(dir);
  v.erase(std::remove_if(v.begin(), v.end(),
                         [](const std::string& s) {
                           return s.find_first_not_of("0123456789") != std::string::npos;
                         }),
          v.end());
  std::sort(v.begin(), v.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() < b.size() : a < b;
  });
  return v;
}

// Copies a /proc file as is, noting why when it cannot be read.
Status CopyProc(CollectorContext& ctx, const std::string& src, const std::string& file) {
  auto t = ReadFile(src, 16 << 20);
  return ctx.WriteFile(file, t.ok() ? *t : "unavailable: " + t.status().message() + "\n");
}

Status Cmdline(CollectorContext& ctx, const std::string& base) {
  std::string out;
  if (auto t = ReadFile(base + "/cmdline", 1 << 20); t.ok()) {
    for (const std::string& a : ctx.redactor().MaskArgv(SplitNul(*t))) out += a + "\n";
  } else {
    out = "unavailable: " + t.status().message() + "\n";
  }
  STOPGAP_RETURN_IF_ERROR(ctx.WriteFile("cmdline.txt", out));
  out.clear();
  if (auto t = ReadFile(base + "/environ", 4 << 20); t.ok()) {
    for (const std::string& e : SplitNul(*t)) out += ctx.redactor().MaskEnvEntry(e) + "\n";
  } else {
    out = "unavailable: " + t.status().message() + "\n";
  }
  return ctx.WriteFile("environ.txt", out);
}

Status Namespaces(CollectorContext& ctx, const std::string& base) {
  std::string out;
  auto names = ListDir(base + "/ns");
  std::sort(names.begin(), names.end());
  std::string self_base = "/proc/self/ns/";
  for (const std::string& n : names) {
    std::string target = ReadLink(base + "/ns/" + n);
    std::string mine = ReadLink(self_base + n);
    out += n + " " + target + (target == mine ? "" : "  (differs from stopgap's)") + "\n";
  }
  out += "root " + ReadLink(base + "/root") + "\ncwd " + ReadLink(base + "/cwd") + "\nexe " +
         ReadLink(base + "/exe") + "\n";
  return ctx.WriteFile("namespaces.txt", out);
}

// fds.txt (counts by kind, then each fd) and sockets.txt.
Status Fds(CollectorContext& ctx, const std::string& base) {
  std::map<std::string, int> kinds;
  std::string list;
  std::set<uint64_t> socket_inodes;
  auto fds = ListNumeric(base + "/fd");
  for (const std::string& fd : fds) {
    std::string t = ReadLink(base + "/fd/" + fd);
    std::string kind = "file";
    if (t.rfind("socket:[", 0) == 0) {
      kind = "socket";
      uint64_t ino = 0;
      std::from_chars(t.data() + 8, t.data() + t.size() - 1, ino);
      socket_inodes.insert(ino);
    } else if (t.rfind("pipe:[", 0) == 0) {
      kind = "pipe";
    } else if (t.rfind("anon_inode:", 0) == 0) {
      kind = t.substr(11);
    } else if (t.rfind("/dev/", 0) == 0) {
      kind = "device";
    } else if (t.empty()) {
      kind = "unreadable";
    }
    ++kinds[kind];
    list += fd + " " + t + "\n";
  }
  std::string head = "open_fds: " + std::to_string(fds.size()) + "\n";
  for (const auto& [k, n] : kinds) head += "  " + k + ": " + std::to_string(n) + "\n";
  ctx.Metric("fds", static_cast<int64_t>(fds.size()));
  STOPGAP_RETURN_IF_ERROR(ctx.WriteFile("fds.txt", head + "\n" + list));

  TextTable t({"proto", "local", "remote", "state", "send_q", "recv_q", "inode"});
  size_t found = 0;
  // The tables list the whole network namespace: skip them when there is no socket.
  for (const char* proto : {"tcp", "tcp6", "udp", "udp6"}) {
    if (socket_inodes.empty()) break;
    auto text = ReadFile(base + "/net/" + proto, 64 << 20);
    if (!text.ok()) continue;
    bool tcp = proto[0] == 't';
    for (const SocketEntry& e : ParseSocketTable(*text)) {
      if (socket_inodes.count(e.inode) == 0) continue;
      ++found;
      t.Add({proto, e.local, e.remote, tcp ? std::string(TcpStateName(e.state)) : "-",
             std::to_string(e.tx_queue), std::to_string(e.rx_queue), std::to_string(e.inode)});
    }
  }
  std::string out = "sockets: " + std::to_string(socket_inodes.size()) + " (" +
                    std::to_string(found) + " TCP/UDP; the rest unix/netlink/other)\n" + t.Render();
  return ctx.WriteFile("sockets.txt", out);
}

Status Maps(CollectorContext& ctx, const std::string& base) {
  auto text = ReadFile(base + "/maps", 64 << 20);
  if (!text.ok())
    return ctx.WriteFile("maps-summary.txt", "unavailable: " + text.status().message() + "\n");
  auto maps = ParseMaps(*text);
  std::map<std::string, uint64_t> by_path;
  uint64_t total = 0;
  for (const MapEntry& m : maps) {
    uint64_t sz = m.end - m.start;
    total += sz;
    by_path[m.path.empty() ? "[anon]" : m.path] += sz;
  }
  std::vector<std::pair<std::string, uint64_t>> v(by_path.begin(), by_path.end());
  std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  std::string out = "mappings: " + std::to_string(maps.size()) +
                    "\nvirtual_kb: " + std::to_string(total >> 10) + "\n";
  if (auto r = ReadFile(base + "/smaps_rollup", 1 << 20); r.ok()) out += "\n# smaps_rollup\n" + *r;
  TextTable t({"virtual_kb", "mapping"});
  for (size_t i = 0; i < v.size() && i < 30; ++i)
    t.Add({std::to_string(v[i].second >> 10), v[i].first});
  out += "\n# largest by virtual size\n" + t.Render();
  return ctx.WriteFile("maps-summary.txt", out);
}

// One small /proc file relative to an open directory: openat + one read +
// close (these files are produced whole by one read).
std::string ReadSmallAt(int dirfd, const char* name) {
  int fd = ::openat(dirfd, name, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  char buf[1024];
  ssize_t n = ::read(fd, buf, sizeof buf);
  ::close(fd);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

struct ThreadRow {
  TaskStat stat;
  std::string wchan;
  bool ok = false;
};

// Reads stat and wchan of tids[begin, end) (by striding, so two workers share
// the list evenly).
void ReadThreadRows(const CollectorContext& ctx, int taskfd, const std::vector<std::string>& tids,
                    size_t first, size_t stride, std::vector<ThreadRow>* rows) {
  for (size_t i = first; i < tids.size(); i += stride) {
    if (ctx.Expired()) return;
    int dfd = ::openat(taskfd, tids[i].c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) continue;  // exited
    auto st = ParseTaskStat(ReadSmallAt(dfd, "stat"));
    if (st.ok()) {
      std::string w = ReadSmallAt(dfd, "wchan");
      (*rows)[i] = {std::move(*st), w.empty() || w == "0" ? "-" : w, true};
    }
    ::close(dfd);
  }
}

Status Threads(CollectorContext& ctx, const std::string& base,
               std::map<pid_t, std::string>* names) {
  auto t0 = std::chrono::steady_clock::now();
  auto tids = ListNumeric(base + "/task");
  int taskfd = ::open((base + "/task").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (taskfd < 0) return ErrnoStatus("open " + base + "/task", errno);
  std::vector<ThreadRow> rows(tids.size());
  // Each thread costs the kernel two /proc lookups; with many threads, two
  // readers halve the wall time.
  if (tids.size() >= 256) {
    std::thread helper(ReadThreadRows, std::cref(ctx), taskfd, std::cref(tids), 1, 2, &rows);
    ReadThreadRows(ctx, taskfd, tids, 0, 2, &rows);
    helper.join();
  } else {
    ReadThreadRows(ctx, taskfd, tids, 0, 1, &rows);
  }
  ::close(taskfd);
  if (ctx.Expired()) return DeadlineExceeded("process: budget spent listing threads");
  TextTable t({"tid", "name", "state", "wchan", "utime", "stime", "cpu"});
  std::map<char, int> states;
  for (const ThreadRow& r : rows) {
    if (!r.ok) continue;
    (*names)[r.stat.pid] = r.stat.comm;
    ++states[r.stat.state];
    t.Add({std::to_string(r.stat.pid), r.stat.comm, std::string(1, r.stat.state), r.wchan,
           std::to_string(r.stat.utime), std::to_string(r.stat.stime),
           std::to_string(r.stat.processor)});
  }
  std::string head = "threads: " + std::to_string(names->size()) + "\nstates:";
  for (const auto& [c, n] : states) head += std::string(" ") + c + "=" + std::to_string(n);
  ctx.Metric("threads", static_cast<int64_t>(names->size()));
  ctx.Metric("threads_list_us", std::chrono::duration_cast<std::chrono::microseconds>(
                                    std::chrono::steady_clock::now() - t0)
                                    .count());
  return ctx.WriteFile("threads.txt", head + "\n\n" + t.Render());
}

}  // namespace

// Everything but threads and stacks.
Status ProcFiles(CollectorContext& ctx, const std::string& base) {
  STOPGAP_RETURN_IF_ERROR(CopyProc(ctx, base + "/status", "status.txt"));
  STOPGAP_RETURN_IF_ERROR(Cmdline(ctx, base));
  STOPGAP_RETURN_IF_ERROR(CopyProc(ctx, base + "/limits", "limits.txt"));
  STOPGAP_RETURN_IF_ERROR(CopyProc(ctx, base + "/cgroup", "cgroup.txt"));
  STOPGAP_RETURN_IF_ERROR(Namespaces(ctx, base));
  if (ctx.Expired()) return DeadlineExceeded("process: budget spent");
  STOPGAP_RETURN_IF_ERROR(Fds(ctx, base));
  return Maps(ctx, base);
}

Status CollectProcess(CollectorContext& ctx) {
  if (!ctx.pid) return InvalidArgument("process: no pid");
  pid_t pid = *ctx.pid;
  std::string base = "/proc/" + std::to_string(pid);
  if (ctx.request().stacks) {
    // The /proc reads (threads first, then the rest) run on a second thread
    // beside the stack capture (ptrace on this one): on a process with many
    // threads each takes tens of milliseconds.
    std::map<pid_t, std::string> listed;
    Status listing, files;
    std::promise<void> listed_ready;
    std::thread reader([&] {
      listing = Threads(ctx, base, &listed);
      listed_ready.set_value();
      if (listing.ok()) files = ProcFiles(ctx, base);
    });
    std::future<void> names_ready = listed_ready.get_future();
    Status stacks = CollectStacks(ctx, pid, [&]() -> const std::map<pid_t, std::string>& {
      names_ready.wait();
      return listed;
    });
    reader.join();
    STOPGAP_RETURN_IF_ERROR(listing);
    STOPGAP_RETURN_IF_ERROR(stacks);
    STOPGAP_RETURN_IF_ERROR(files);
  } else {
    std::map<pid_t, std::string> names;
    STOPGAP_RETURN_IF_ERROR(Threads(ctx, base, &names));
    STOPGAP_RETURN_IF_ERROR(ProcFiles(ctx, base));
  }
  if (::access(base.c_str(), F_OK) != 0) {
    return NotFound("pid " + std::to_string(pid) + " exited during collection");
  }
  return Status::Ok();
}

}  // namespace stopgap::diag::internal
