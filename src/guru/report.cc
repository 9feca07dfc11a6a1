// The Guru Meditation report: title block, package, every thread's stack
// (sampled by a per-thread signal whose handler calls backtrace(3), then
// symbolized with libdw), process info, configuration (secrets masked) and the
// service's own sections. Runs on the reporter thread only.
#include <dirent.h>
#include <elfutils/libdwfl.h>
#include <execinfo.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstring>
#include <fstream>
#include <sstream>

#include "diag/internal/symbolizer.h"
#include "guru/guru_internal.h"

namespace stopgap::guru {
namespace {

constexpr int kMaxFrames = 64;

// The one sampling request in flight (the reporter asks one thread at a time).
struct Slot {
  std::atomic<pid_t> tid{0};
  void* frames[kMaxFrames];
  std::atomic<int> n{0};
  sem_t done;
};
Slot g_slot;
struct sigaction g_old_action;

pid_t GetTid() { return static_cast<pid_t>(::syscall(SYS_gettid)); }

void SampleHandler(int) {
  int saved = errno;
  if (g_slot.tid.load(std::memory_order_acquire) == GetTid()) {
    // backtrace() was called once at install, so libgcc is loaded already:
    // no allocation happens here.
    g_slot.n.store(::backtrace(g_slot.frames, kMaxFrames), std::memory_order_release);
    ::sem_post(&g_slot.done);  // async-signal-safe
  }
  errno = saved;
}

std::string ReadSmall(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

void Banner(FILE* out, const std::string& title) {
  std::string bar(72, '=');
  std::string line =
      "====" + std::string((64 - std::min<size_t>(title.size(), 62)) / 2, ' ') + title;
  line.resize(68, ' ');
  std::fprintf(out, "%s\n%s====\n%s\n", bar.c_str(), line.c_str(), bar.c_str());
}

bool LooksSecret(const std::string& key) {
  std::string up;
  for (char c : key) up.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  for (const char* w : {"PASSWORD", "PASSWD", "SECRET", "TOKEN", "KEY", "CREDENTIAL", "AUTH"}) {
    if (up.find(w) != std::string::npos) return true;
  }
  return false;
}

std::vector<pid_t> Threads() {
  std::vector<pid_t> out;
  DIR* d = ::opendir("/proc/self/task");
  if (d == nullptr) return out;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] >= '0' && e->d_name[0] <= '9') out.push_back(std::atoi(e->d_name));
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

// Frames of a sampled thread: drop the handler and the signal trampoline; the
// frame after the trampoline is where the thread was (an activation).
void PrintFrames(FILE* out, diag::internal::Symbolizer& sym, void* const* frames, int n,
                 bool from_signal) {
  int first = 0;
  if (from_signal) {
    for (int i = 0; i < n && i < 4; ++i) {
      if (sym.Describe(reinterpret_cast<uint64_t>(frames[i]), true).rfind("__restore_rt", 0) == 0) {
        first = i + 1;
        break;
      }
    }
  }
  for (int i = first; i < n; ++i) {
    auto pc = reinterpret_cast<uint64_t>(frames[i]);
    std::fprintf(out, "#%-2d 0x%016llx %s\n", i - first, static_cast<unsigned long long>(pc),
                 sym.Describe(pc, i == first && from_signal).c_str());
  }
}

void ThreadsSection(const Options& opts, FILE* out) {
  Banner(out, "Threads");
  static char* debuginfo_path = nullptr;
  static const Dwfl_Callbacks callbacks = {dwfl_linux_proc_find_elf, dwfl_standard_find_debuginfo,
                                           nullptr, &debuginfo_path};
  Dwfl* dwfl = dwfl_begin(&callbacks);
  if (dwfl == nullptr) {
    std::fprintf(out, "(libdw unavailable: %s)\n", dwfl_errmsg(-1));
    return;
  }
  dwfl_report_begin(dwfl);
  dwfl_linux_proc_report(dwfl, ::getpid());
  dwfl_report_end(dwfl, nullptr, nullptr);
  diag::internal::Symbolizer sym(dwfl);
  pid_t self = GetTid();
  for (pid_t tid : Threads()) {
    std::string base = "/proc/self/task/" + std::to_string(tid);
    std::string wchan = ReadSmall(base + "/wchan");
    std::fprintf(
        out, "------ Thread %d \"%s\" wchan=%s%s ------\n", tid, ReadSmall(base + "/comm").c_str(),
        wchan.empty() || wchan == "0" ? "-" : wchan.c_str(), tid == self ? " (the reporter)" : "");
    if (tid == self) {
      void* frames[kMaxFrames];
      int n = ::backtrace(frames, kMaxFrames);
      PrintFrames(out, sym, frames, n, false);
    } else {
      g_slot.n.store(0);
      g_slot.tid.store(tid, std::memory_order_release);
      bool got = false;
      if (::syscall(SYS_tgkill, ::getpid(), tid, opts.stack_signal) == 0) {
        timespec deadline{};
        ::clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_nsec += 200 * 1000000L;
        if (deadline.tv_nsec >= 1000000000L) {
          deadline.tv_sec += 1;
          deadline.tv_nsec -= 1000000000L;
        }
        while (::sem_timedwait(&g_slot.done, &deadline) != 0) {
          if (errno != EINTR) break;
        }
        got = g_slot.n.load(std::memory_order_acquire) > 0;
      }
      g_slot.tid.store(0, std::memory_order_release);
      if (got) {
        PrintFrames(out, sym, g_slot.frames, g_slot.n.load(), true);
      } else {
        std::fprintf(out,
                     "(no stack: the thread did not answer signal %d within 200 ms;"
                     " it may block it)\n",
                     opts.stack_signal);
      }
      while (::sem_trywait(&g_slot.done) == 0) {
      }
    }
    std::fprintf(out, "\n");
  }
  dwfl_end(dwfl);
}

void ProcessSection(FILE* out) {
  Banner(out, "Process");
  std::fprintf(out, "pid = %d\nppid = %d\nuid = %d\n", ::getpid(), ::getppid(), ::getuid());
  std::string status = ReadSmall("/proc/self/status");
  std::istringstream ss(status);
  std::string line;
  while (std::getline(ss, line)) {
    for (const char* k : {"Name:", "State:", "Threads:", "VmRSS:", "VmSize:", "voluntary_ctxt",
                          "nonvoluntary_ctxt"}) {
      if (line.rfind(k, 0) == 0) std::fprintf(out, "%s\n", line.c_str());
    }
  }
  int fds = 0;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (dirent* e = ::readdir(d)) fds += e->d_name[0] != '.';
    ::closedir(d);
    --fds;  // the directory stream itself
  }
  std::fprintf(out, "open_fds = %d\n", fds);
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  std::fprintf(out, "cpu_user_s = %ld.%06ld\ncpu_system_s = %ld.%06ld\nmax_rss_kb = %ld\n",
               ru.ru_utime.tv_sec, ru.ru_utime.tv_usec, ru.ru_stime.tv_sec, ru.ru_stime.tv_usec,
               ru.ru_maxrss);
  char exe[4096];
  ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
  std::fprintf(out, "exe = %s\n\n", n > 0 ? std::string(exe, static_cast<size_t>(n)).c_str() : "?");
}

}  // namespace

bool InstallStackSampler(int sig) {
  ::sem_init(&g_slot.done, 0, 0);
  void* warm[4];
  ::backtrace(warm, 4);  // loads libgcc's unwinder now, outside any handler
  struct sigaction sa {};
  sa.sa_handler = SampleHandler;
  sa.sa_flags = SA_RESTART;
  ::sigemptyset(&sa.sa_mask);
  return ::sigaction(sig, &sa, &g_old_action) == 0;
}

void UninstallStackSampler(int sig) { ::sigaction(sig, &g_old_action, nullptr); }

void WriteReport(const Options& opts, FILE* out) {
  Banner(out, "Guru Meditation");
  char ts[64];
  time_t now = ::time(nullptr);
  tm tm{};
  ::gmtime_r(&now, &tm);
  std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
  std::fprintf(out, "%s\n\n", std::string(72, '|').c_str());
  Banner(out, "Package");
  std::fprintf(out, "service = %s\npackage = %s\nversion = %s\ngenerated = %s\n\n",
               opts.service.c_str(), opts.package.empty() ? "-" : opts.package.c_str(),
               opts.version.empty() ? "-" : opts.version.c_str(), ts);
  ThreadsSection(opts, out);
  ProcessSection(out);
  Registry& reg = GetRegistry();
  std::vector<ConfigEntry> config;
  std::vector<Section> sections;
  {
    std::lock_guard<std::mutex> lock(reg.mu);
    config = reg.config;
    sections = reg.sections;
  }
  Banner(out, "Configuration");
  for (const ConfigEntry& c : config) {
    bool mask = c.secret || LooksSecret(c.key);
    std::fprintf(out, "%s = %s\n", c.key.c_str(), mask ? "***" : c.value.c_str());
  }
  std::fprintf(out, "\n");
  for (const Section& s : sections) {
    Banner(out, s.name);
    std::fflush(out);
    s.fn(out, s.user);
    std::fprintf(out, "\n");
  }
  std::fflush(out);
}

}  // namespace stopgap::guru
