// libstopgap_guru's C API: installs the trigger signal handler (it only
// writes a byte to a self-pipe), runs the reporter thread (waits on the pipe,
// polls the trigger file, writes reports) and keeps the registrations.
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <ctime>
#include <thread>

#include "guru/guru_internal.h"

namespace stopgap::guru {

Registry& GetRegistry() {
  static Registry* r = new Registry();  // never destroyed: handlers may outlive statics
  return *r;
}

namespace {

std::mutex g_install_mu;
bool g_installed = false;
Options g_opts;
int g_pipe[2] = {-1, -1};
std::thread g_reporter;
struct sigaction g_old_trigger;

void TriggerHandler(int) {
  int saved = errno;
  char b = 'r';
  ssize_t ignored = ::write(g_pipe[1], &b, 1);  // non-blocking; a full pipe already means "report"
  (void)ignored;
  errno = saved;
}

int64_t MtimeNs(const std::string& path) {
  struct stat st {};
  if (path.empty() || ::stat(path.c_str(), &st) != 0) return -1;
  return st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
}

void Emit(const Options& opts) {
  if (opts.report_dir.empty()) {
    WriteReport(opts, stderr);
    return;
  }
  char ts[32];
  time_t now = ::time(nullptr);
  tm tm{};
  ::gmtime_r(&now, &tm);
  std::strftime(ts, sizeof ts, "%Y%m%d%H%M%S", &tm);
  std::string name = opts.service + "_gurumeditation_" + ts;
  // The temp file is created by mkostemp (O_EXCL, an unguessable name) and
  // published with link(2), which never follows or replaces what is at the
  // final name: a symlink planted in a shared report directory redirects
  // nothing. (This library does not link stopgap_core, whose CreateTempFile
  // does the same.)
  std::string tmp = opts.report_dir + "/." + name + ".tmp.XXXXXX";
  int fd = ::mkostemp(tmp.data(), O_CLOEXEC);
  if (fd < 0) {
    std::fprintf(stderr, "stopgap_guru: cannot create a report in %s: %s; writing to stderr\n",
                 opts.report_dir.c_str(), std::strerror(errno));
    WriteReport(opts, stderr);
    return;
  }
  FILE* f = ::fdopen(fd, "w");
  WriteReport(opts, f);
  std::fflush(f);
  ::fsync(fd);
  std::fclose(f);
  // Two reports within one second keep both: name, name.1, name.2, ...
  std::string final_path = opts.report_dir + "/" + name;
  for (int i = 1; i < 100; ++i) {
    if (::link(tmp.c_str(), final_path.c_str()) == 0) break;
    if (errno != EEXIST) {  // no hard links here: rename (replaces a name, never follows it)
      if (::rename(tmp.c_str(), final_path.c_str()) == 0) return;
      break;
    }
    final_path = opts.report_dir + "/" + name + "." + std::to_string(i);
  }
  ::unlink(tmp.c_str());
}

// `seen_mtime` is read by the installing thread, so a trigger file touched
// right after stopgap_guru_install() returns is never taken as the baseline.
void ReporterLoop(Options opts, int read_fd, int64_t seen_mtime) {
  // Neither the trigger nor the sampling signal may land on this thread.
  sigset_t all;
  ::sigfillset(&all);
  ::pthread_sigmask(SIG_BLOCK, &all, nullptr);
  ::pthread_setname_np(::pthread_self(), "guru-reporter");
  while (true) {
    pollfd p{read_fd, POLLIN, 0};
    int timeout = opts.trigger_file.empty() ? -1 : opts.trigger_poll_ms;
    int r = ::poll(&p, 1, timeout);
    if (r < 0 && errno != EINTR) return;
    bool report = false;
    if (r > 0) {
      char buf[64];
      ssize_t n = ::read(read_fd, buf, sizeof buf);
      if (n == 0) return;  // write end closed: uninstall
      for (ssize_t i = 0; i < n; ++i) {
        if (buf[i] == 'q') return;
      }
      report = n > 0;
    }
    int64_t m = MtimeNs(opts.trigger_file);
    if (m != seen_mtime) {
      report |= m >= 0;  // touched (or created); a removal only resets
      seen_mtime = m;
    }
    if (report) Emit(opts);
  }
}

}  // namespace
}  // namespace stopgap::guru

using namespace stopgap::guru;

extern "C" {

int stopgap_guru_install(const stopgap_guru_options* o) {
  std::lock_guard<std::mutex> lock(g_install_mu);
  if (o == nullptr || o->service == nullptr || o->service[0] == '\0' ||
      std::strchr(o->service, '/') != nullptr) {
    errno = EINVAL;
    return -1;
  }
  if (g_installed) {
    errno = EALREADY;
    return -1;
  }
  Options opts;
  opts.service = o->service;
  opts.package = o->package != nullptr ? o->package : "";
  opts.version = o->version != nullptr ? o->version : "";
  opts.report_dir = o->report_dir != nullptr ? o->report_dir : "";
  opts.trigger_file = o->trigger_file != nullptr ? o->trigger_file : "";
  opts.signal = o->signal == 0 ? SIGUSR2 : o->signal;
  opts.trigger_poll_ms = o->trigger_poll_ms > 0 ? o->trigger_poll_ms : 1000;
  opts.stack_signal = o->stack_signal > 0 ? o->stack_signal : SIGRTMIN + 7;
  if (::pipe2(g_pipe, O_CLOEXEC | O_NONBLOCK) != 0) return -1;
  // The reader blocks in poll(); only the write end must never block.
  ::fcntl(g_pipe[0], F_SETFL, 0);
  if (!InstallStackSampler(opts.stack_signal)) {
    int e = errno;
    ::close(g_pipe[0]);
    ::close(g_pipe[1]);
    errno = e;
    return -1;
  }
  if (opts.signal > 0) {
    struct sigaction sa {};
    sa.sa_handler = TriggerHandler;
    sa.sa_flags = SA_RESTART;
    ::sigemptyset(&sa.sa_mask);
    if (::sigaction(opts.signal, &sa, &g_old_trigger) != 0) {
      int e = errno;
      UninstallStackSampler(opts.stack_signal);
      ::close(g_pipe[0]);
      ::close(g_pipe[1]);
      errno = e;
      return -1;
    }
  }
  g_opts = opts;
  g_reporter = std::thread(ReporterLoop, opts, g_pipe[0], MtimeNs(opts.trigger_file));
  g_installed = true;
  return 0;
}

void stopgap_guru_uninstall(void) {
  std::lock_guard<std::mutex> lock(g_install_mu);
  if (!g_installed) return;
  if (g_opts.signal > 0) ::sigaction(g_opts.signal, &g_old_trigger, nullptr);
  char q = 'q';
  ssize_t ignored = ::write(g_pipe[1], &q, 1);
  (void)ignored;
  g_reporter.join();
  UninstallStackSampler(g_opts.stack_signal);
  ::close(g_pipe[0]);
  ::close(g_pipe[1]);
  g_installed = false;
}

int stopgap_guru_register_config(const char* key, const char* value, int secret) {
  if (key == nullptr) return -1;
  Registry& r = GetRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  for (ConfigEntry& c : r.config) {
    if (c.key == key) {
      c.value = value != nullptr ? value : "";
      c.secret = secret != 0;
      return 0;
    }
  }
  r.config.push_back({key, value != nullptr ? value : "", secret != 0});
  return 0;
}

int stopgap_guru_register_section(const char* name, stopgap_guru_section_fn fn, void* user) {
  if (name == nullptr || fn == nullptr) return -1;
  Registry& r = GetRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  r.sections.push_back({name, fn, user});
  return 0;
}

int stopgap_guru_trigger(void) {
  std::lock_guard<std::mutex> lock(g_install_mu);
  if (!g_installed) {
    errno = ENOTCONN;
    return -1;
  }
  char b = 'r';
  return ::write(g_pipe[1], &b, 1) == 1 || errno == EAGAIN ? 0 : -1;
}

}  // extern "C"
