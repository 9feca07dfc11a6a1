// PosixProcessRunner: posix_spawn into a new process group, poll(2) over the
// two output pipes, a pidfd and the call's wake-up eventfd (StopAll, Fence),
// timeout -> SIGTERM to the group -> SIGKILL.
// Thread safety: the flags are atomics and the set of wake-up fds has its
// mutex; every fd is O_CLOEXEC so concurrent spawns from other threads never
// inherit another child's pipes.
#include "core/process.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>

#include "core/file.h"

namespace stopgap {
namespace {

using namespace std::chrono_literals;

// After the direct child exits, how long to keep reading output that a
// straggler in its group may still hold open.
constexpr Duration kDrainAfterExit = std::chrono::milliseconds(500);

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& o) noexcept : fd_(o.release()) {}
  Fd& operator=(Fd&& o) noexcept {
    reset(o.release());
    return *this;
  }
  ~Fd() { reset(); }
  int get() const { return fd_; }
  int release() {
    int f = fd_;
    fd_ = -1;
    return f;
  }
  void reset(int f = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = f;
  }

 private:
  int fd_ = -1;
};

bool IsExecutable(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(p.c_str(), X_OK) == 0;
}

// One captured stream: memory up to the cap, the same bytes to a file if asked.
struct Stream {
  Fd pipe;
  std::string* data = nullptr;
  bool* truncated = nullptr;
  uint64_t* total = nullptr;
  std::string file_path;
  Fd file;
  size_t cap = 0;
  bool open = true;
  Status file_error;

  void Append(const char* buf, size_t n) {
    *total += n;
    size_t room = data->size() < cap ? cap - data->size() : 0;
    size_t keep = std::min(room, n);
    if (keep < n) *truncated = true;
    if (keep == 0) return;
    data->append(buf, keep);
    if (file_path.empty() || !file_error.ok()) return;
    if (file.get() < 0) {
      // A new file only: a symlink or file planted at the path is refused.
      Result<int> fd = CreateNewFile(file_path, 0600);
      if (!fd.ok()) {
        file_error = fd.status();
        return;
      }
      file.reset(*fd);
    }
    size_t off = 0;
    while (off < keep) {
      ssize_t w = ::write(file.get(), buf + off, keep - off);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) {
        file_error = ErrnoStatus("write " + file_path, errno);
        return;
      }
      off += static_cast<size_t>(w);
    }
  }

  // Reads what is available; closes the pipe at EOF or error.
  void ReadSome() {
    char buf[16384];
    for (;;) {
      ssize_t n = ::read(pipe.get(), buf, sizeof buf);
      if (n > 0) {
        Append(buf, static_cast<size_t>(n));
        if (static_cast<size_t>(n) < sizeof buf) return;
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      open = false;  // EOF or error
      pipe.reset();
      return;
    }
  }
};

int PidfdOpen(pid_t pid) {
#ifdef SYS_pidfd_open
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
#else
  errno = ENOSYS;
  return -1;
#endif
}

// The minimal environment plus the spec's extras (an extra NAME replaces a
// default NAME).
std::vector<std::string> BuildEnv(const std::vector<std::string>& extra) {
  std::vector<std::string> env = {std::string("PATH=") + std::string(kFixedPath), "LANG=C",
                                  "LC_ALL=C", "HOME=/"};
  for (const std::string& e : extra) {
    std::string name = e.substr(0, e.find('='));
    std::erase_if(env, [&](const std::string& d) { return d.substr(0, d.find('=')) == name; });
    env.push_back(e);
  }
  return env;
}

}  // namespace

std::string ProcessResult::Describe() const {
  const char* why = timed_out ? " (timed out)" : stopped ? " (stopped)" : fenced ? " (fenced)" : "";
  if (term_signal != 0) return "signal " + std::to_string(term_signal) + why;
  return "exit " + std::to_string(exit_code) + why;
}

Result<std::string> ResolveProgram(std::string_view name, std::string_view path) {
  if (name.empty()) return InvalidArgument("empty program name");
  if (name.find('\0') != std::string_view::npos) return InvalidArgument("NUL in program name");
  if (name.find('/') != std::string_view::npos) {
    std::string p(name);
    if (!IsExecutable(p)) return NotFound("program '" + p + "' is not an executable file");
    return p;
  }
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find(':', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view dir = path.substr(start, end - start);
    if (!dir.empty()) {
      std::string p = std::string(dir) + "/" + std::string(name);
      if (IsExecutable(p)) return p;
    }
    start = end + 1;
  }
  return NotFound("program '" + std::string(name) + "' not found in " + std::string(path));
}

PosixProcessRunner::PosixProcessRunner(const Clock& clock) : clock_(clock) {}

PosixProcessRunner::~PosixProcessRunner() = default;

void PosixProcessRunner::WakeAll() {
  std::lock_guard lock(wake_mu_);
  uint64_t one = 1;
  for (int fd : wake_fds_) (void)!::write(fd, &one, sizeof one);  // stays readable
}

void PosixProcessRunner::StopAll() {
  stopping_.store(true);
  WakeAll();
}

void PosixProcessRunner::Fence(Duration grace) {
  fence_grace_ms_.store(grace.count());
  // fenced_ before the epoch: a Run() that read the old epoch either sees
  // fenced_ and refuses, or runs and is stopped for the new epoch.
  fenced_.store(true);
  fence_epoch_.fetch_add(1);
  WakeAll();
}

void PosixProcessRunner::Unfence() { fenced_.store(false); }

Result<ProcessResult> PosixProcessRunner::Run(const ProcessSpec& spec) {
  if (stopping_.load()) return Unavailable("stopping: no new steps are started");
  const uint64_t epoch = fence_epoch_.load();  // before fenced_: see Fence()
  if (fenced_.load()) {
    return Unavailable("fenced: this node lost its cluster lease; no new steps are started");
  }
  if (spec.argv.empty()) return InvalidArgument("empty argv");
  for (const std::string& a : spec.argv) {
    if (a.find('\0') != std::string::npos) return InvalidArgument("NUL byte in an argument");
  }
  Result<std::string> program = ResolveProgram(spec.argv[0]);
  if (!program.ok()) return program.status();

  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC | O_NONBLOCK) != 0) return ErrnoStatus("pipe2", errno);
  Fd out_r(out_pipe[0]), out_w(out_pipe[1]);
  if (::pipe2(err_pipe, O_CLOEXEC | O_NONBLOCK) != 0) return ErrnoStatus("pipe2", errno);
  Fd err_r(err_pipe[0]), err_w(err_pipe[1]);
  // The child's ends must block like ordinary stdout/stderr.
  ::fcntl(out_w.get(), F_SETFL, 0);
  ::fcntl(err_w.get(), F_SETFL, 0);

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, out_w.get(), 1);
  posix_spawn_file_actions_adddup2(&fa, err_w.get(), 2);
  if (!spec.cwd.empty()) posix_spawn_file_actions_addchdir_np(&fa, spec.cwd.c_str());
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
  posix_spawn_file_actions_addclosefrom_np(&fa, 3);
#endif

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attr, &all);  // undo SIG_IGN (SIGPIPE) from the parent
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setpgroup(&attr, 0);  // its own process group, id = its pid
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF |
                                      POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_USEVFORK);

  std::vector<char*> argv;
  for (const std::string& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<std::string> env_strings = BuildEnv(spec.env);
  std::vector<char*> envp;
  for (std::string& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);

  ProcessResult res;
  res.program = *program;
  res.started_at = clock_.Now();
  const auto mono_start = std::chrono::steady_clock::now();
  pid_t pid = 0;
  int rc = ::posix_spawn(&pid, program->c_str(), &fa, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return ErrnoStatus("posix_spawn " + *program, rc);
  res.pid = pid;
  out_w.reset();
  err_w.reset();

  std::array<Stream, 2> streams;
  streams[0].pipe = std::move(out_r);
  streams[0].data = &res.stdout_data;
  streams[0].truncated = &res.stdout_truncated;
  streams[0].total = &res.stdout_bytes;
  streams[0].file_path = spec.stdout_path;
  streams[1].pipe = std::move(err_r);
  streams[1].data = &res.stderr_data;
  streams[1].truncated = &res.stderr_truncated;
  streams[1].total = &res.stderr_bytes;
  streams[1].file_path = spec.stderr_path;
  for (Stream& s : streams) s.cap = spec.output_cap;

  Fd pidfd(PidfdOpen(pid));
  // Our wake-up: readable once StopAll() or Fence() was called. Registered
  // before the loop's first look at the flags, so no call is missed.
  Fd wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (wake.get() >= 0) {
    std::lock_guard lock(wake_mu_);
    wake_fds_.insert(wake.get());
  }
  struct Unregister {
    PosixProcessRunner* self;
    int fd;
    ~Unregister() {
      if (fd < 0) return;
      std::lock_guard lock(self->wake_mu_);
      self->wake_fds_.erase(fd);
    }
  } unregister{this, wake.get()};
  bool exited = false;
  int wstatus = 0;
  int signals_sent = 0;    // 0 none, 1 SIGTERM, 2 SIGKILL
  bool stop_seen = false;  // StopAll() or Fence(): the kill has begun
  auto deadline = mono_start + spec.timeout;
  std::optional<std::chrono::steady_clock::time_point> drain_until;

  auto try_reap = [&]() {
    if (exited) return;
    pid_t r;
    do {
      r = ::waitpid(pid, &wstatus, WNOHANG);
    } while (r < 0 && errno == EINTR);
    if (r == pid) {
      exited = true;
      drain_until = std::chrono::steady_clock::now() + kDrainAfterExit;
    }
  };

  auto group_gone = [&]() { return ::kill(-pid, 0) != 0 && errno == ESRCH; };
  for (;;) {
    bool streams_open = streams[0].open || streams[1].open;
    auto now = std::chrono::steady_clock::now();
    // A stop request from StopAll() or Fence() ends the step like a timeout does.
    if (!stop_seen && (stopping_.load() || fence_epoch_.load() != epoch)) {
      stop_seen = true;
      res.stopped = stopping_.load();
      res.fenced = !res.stopped;
      if (signals_sent == 0) deadline = now;
    }
    const bool killing = signals_sent > 0;
    if (exited && !killing) {
      if (!streams_open) break;
      if (drain_until && now >= *drain_until) break;
    }
    // Timed out: the group is stopped as a whole, even after its leader died.
    if (exited && killing && (signals_sent == 2 || group_gone())) break;
    if (now >= deadline) {
      if (signals_sent == 0) {
        res.timed_out = !stop_seen;
        ::kill(-pid, SIGTERM);
        signals_sent = 1;
        Duration grace = spec.kill_grace;
        // Fenced: another node may take over soon; its grace is the caller's bound.
        if (res.fenced) grace = std::min(grace, Duration(fence_grace_ms_.load()));
        deadline = now + grace;
      } else if (signals_sent == 1) {
        ::kill(-pid, SIGKILL);
        signals_sent = 2;
        // Nothing survives SIGKILL; the pipes close once the group is gone.
        deadline = now + std::chrono::seconds(5);
      } else {
        // A process stuck in the kernel (D state) keeps its pipes: give up on
        // output and wait for the direct child below.
        break;
      }
      continue;
    }
    std::array<pollfd, 4> fds{};
    nfds_t n = 0;
    int idx[2] = {-1, -1};
    for (int i = 0; i < 2; ++i) {
      if (streams[i].open) {
        idx[i] = static_cast<int>(n);
        fds[n++] = {streams[i].pipe.get(), POLLIN, 0};
      }
    }
    if (!stop_seen && wake.get() >= 0) fds[n++] = {wake.get(), POLLIN, 0};  // StopAll(), Fence()
    int pid_idx = -1;
    if (!exited && pidfd.get() >= 0) {
      pid_idx = static_cast<int>(n);
      fds[n++] = {pidfd.get(), POLLIN, 0};
    }
    auto until = deadline;
    if (exited && drain_until && !killing) until = std::min(until, *drain_until);
    // Timed out with the leader gone and nothing to read: check the group often.
    if (exited && killing && n == 0) until = std::min(until, now + 20ms);
    auto wait_ms = std::chrono::duration_cast<std::chrono::milliseconds>(until - now).count() + 1;
    // Without a pidfd, notice the child's exit by polling waitpid.
    if (!exited && pidfd.get() < 0) wait_ms = std::min<int64_t>(wait_ms, 10);
    // Without a wake-up fd (eventfd failed), notice StopAll() and Fence() by polling.
    if (!stop_seen && wake.get() < 0) wait_ms = std::min<int64_t>(wait_ms, 50);
    int pr = ::poll(fds.data(), n, static_cast<int>(std::min<int64_t>(wait_ms, 60000)));
    if (pr < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (idx[i] >= 0 && (fds[idx[i]].revents & (POLLIN | POLLHUP | POLLERR))) {
        streams[i].ReadSome();
      }
    }
    if (pid_idx >= 0 && (fds[pid_idx].revents & POLLIN)) try_reap();
    if (pidfd.get() < 0) try_reap();
  }
  if (!exited) {
    // Output gave up (or a straggler holds the pipes): wait for the child itself.
    if (signals_sent == 1) ::kill(-pid, SIGKILL);
    pid_t r;
    do {
      r = ::waitpid(pid, &wstatus, 0);
    } while (r < 0 && errno == EINTR);
  }
  res.duration =
      std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now() - mono_start);
  res.finished_at = clock_.Now();
  if (WIFEXITED(wstatus)) {
    res.exit_code = WEXITSTATUS(wstatus);
  } else if (WIFSIGNALED(wstatus)) {
    res.term_signal = WTERMSIG(wstatus);
  }
  for (Stream& s : streams) {
    s.file.reset();
    if (!s.file_error.ok() && res.output_error.empty()) res.output_error = s.file_error.message();
  }
  return res;
}

}  // namespace stopgap
