// CaptureThreads: per-thread PTRACE_SEIZE + PTRACE_INTERRUPT, registers and one
// process_vm_readv of the stack, PTRACE_DETACH — one thread at a time, so the
// target never stops as a whole. Runs on the calling (collector) thread.
#include <dirent.h>
#include <pthread.h>
#include <sched.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <thread>

#include "core/file.h"
#include "diag/internal/proc_parse.h"
#include "diag/internal/stacks.h"

namespace stopgap::diag::internal {
namespace {

std::vector<pid_t> ListTasks(pid_t pid) {
  std::vector<pid_t> out;
  std::string dir = "/proc/" + std::to_string(pid) + "/task";
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return out;
  while (dirent* e = ::readdir(d)) {
    pid_t tid = 0;
    const char* end = e->d_name + std::strlen(e->d_name);
    auto r = std::from_chars(e->d_name, end, tid);
    if (r.ec == std::errc() && r.ptr == end && tid > 0) out.push_back(tid);
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

void FillDwarfRegs(const user_regs_struct& r, uint64_t* d) {
  const uint64_t v[17] = {r.rax, r.rdx, r.rcx, r.rbx, r.rsi, r.rdi, r.rbp, r.rsp, r.r8,
                          r.r9,  r.r10, r.r11, r.r12, r.r13, r.r14, r.r15, r.rip};
  std::memcpy(d, v, sizeof v);
}

// End of the mapping holding `addr`, or 0.
uint64_t MappingEnd(const std::vector<MapEntry>& maps, uint64_t addr) {
  auto it = std::upper_bound(maps.begin(), maps.end(), addr,
                             [](uint64_t a, const MapEntry& m) { return a < m.start; });
  if (it == maps.begin()) return 0;
  --it;
  return addr < it->end ? it->end : 0;
}

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Phase 1: attach to one thread and ask it to stop. False when it could not
// be attached (exited meanwhile, or traced by someone else).
bool StartCapture(ThreadCapture* c, int64_t* t_interrupt) {
  pid_t tid = c->tid;
  if (::ptrace(PTRACE_SEIZE, tid, nullptr, nullptr) != 0) {
    c->error = std::string("ptrace seize: ") + std::strerror(errno);
    return false;
  }
  *t_interrupt = NowNs();
  if (::ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr) != 0) {
    c->error = std::string("ptrace interrupt: ") + std::strerror(errno);
    ::ptrace(PTRACE_DETACH, tid, nullptr, nullptr);
    return false;
  }
  return true;
}

// The thread's scheduler state letter and kernel wait channel, for the
// report of a thread that would not stop ("D in kernel_clone").
std::string ThreadState(pid_t pid, pid_t tid) {
  std::string base = "/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid);
  std::string out = "state ?";
  if (auto stat = ReadFile(base + "/stat", 4096); stat.ok()) {
    size_t paren = stat->rfind(')');
    if (paren != std::string::npos && paren + 2 < stat->size()) {
      out = std::string("state ") + (*stat)[paren + 2];
    }
  }
  if (auto wchan = ReadFile(base + "/wchan", 256); wchan.ok() && !wchan->empty() && *wchan != "0") {
    out += " in " + *wchan;
  }
  return out;
}

// Waits for `tid`'s stop without blocking past `until`: waitpid(WNOHANG)
// polled with a growing sleep (10 us to 1 ms). A stop is usually reported
// already (the window asked for it earlier), so the first poll returns it.
// Returns the waitpid result: tid, 0 (not yet), or -1.
pid_t WaitForStop(pid_t tid, int* status, std::chrono::steady_clock::time_point until) {
  auto nap = std::chrono::microseconds(10);
  while (true) {
    pid_t w = ::waitpid(tid, status, __WALL | WNOHANG);
    if (w < 0 && errno == EINTR) continue;
    if (w != 0) return w;
    auto now = std::chrono::steady_clock::now();
    if (now >= until) return 0;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(nap, until - now));
    nap = std::min<std::chrono::microseconds>(nap * 2, std::chrono::milliseconds(1));
  }
}

// A signal-delivery stop (not our interrupt) must hand its signal back.
int SignalToInject(int status) {
  int inject = (status >> 16) == PTRACE_EVENT_STOP ? 0 : WSTOPSIG(status);
  return inject == SIGTRAP ? 0 : inject;
}

void Detach(pid_t tid, int status) {
  ::ptrace(PTRACE_DETACH, tid, nullptr,
           reinterpret_cast<void*>(static_cast<intptr_t>(SignalToInject(status))));
}

// Phase 2: wait (bounded by `until`) for the stop, take the registers and
// one copy of the live stack, detach. `scratch` is a pre-faulted buffer of
// the cap's size: nothing is allocated while the thread is stopped; the copy
// out happens after PTRACE_DETACH. Returns false when the thread did not
// stop in time: it stays attached (interrupt pending) and the caller must
// detach it later (SweepLate) or exit.
bool FinishCapture(pid_t pid, const std::vector<MapEntry>& maps, std::vector<char>& scratch,
                   int64_t t_interrupt, std::chrono::steady_clock::time_point until,
                   ThreadCapture* c) {
  size_t max_stack = scratch.size();
  ssize_t n = 0;
  pid_t tid = c->tid;
  int status = 0;
  pid_t w = WaitForStop(tid, &status, until);
  int64_t t_stopped = NowNs();
  c->stop_latency_ns = t_stopped - t_interrupt;
  if (w == 0) return false;
  if (w != tid || !WIFSTOPPED(status)) {
    c->error = w != tid ? std::string("waitpid: ") + std::strerror(errno) : "thread exited";
    c->skipped = true;
    if (w == tid && WIFSTOPPED(status)) Detach(tid, status);
    return true;
  }
  user_regs_struct regs{};
  bool have_regs = ::ptrace(PTRACE_GETREGS, tid, nullptr, &regs) == 0;
  if (have_regs) {
    FillDwarfRegs(regs, c->regs);
    uint64_t sp = regs.rsp;
    uint64_t end = MappingEnd(maps, sp);
    size_t want = end > sp ? std::min<uint64_t>(end - sp, max_stack) : max_stack;
    iovec local{scratch.data(), want};
    iovec remote{reinterpret_cast<void*>(sp), want};
    n = ::process_vm_readv(pid, &local, 1, &remote, 1, 0);
    c->stack_base = sp;
  } else {
    c->error = std::string("ptrace getregs: ") + std::strerror(errno);
    c->skipped = true;
  }
  Detach(tid, status);
  c->pause_ns = NowNs() - t_stopped;
  c->ok = have_regs;
  if (n > 0) c->stack.assign(scratch.data(), static_cast<size_t>(n));
  return true;
}

// Threads that did not stop in time but may have since: detach those that
// did (their stop would otherwise last until this tracer thread exits).
void SweepLate(std::vector<pid_t>* late) {
  std::erase_if(*late, [](pid_t tid) {
    int status = 0;
    pid_t w = ::waitpid(tid, &status, __WALL | WNOHANG);
    if (w == 0) return false;
    if (w == tid && WIFSTOPPED(status)) Detach(tid, status);
    return true;
  });
}

// Captures out[first], out[first + stride], ... on the calling thread (ptrace
// binds each tracee to the thread that attached it). The calling thread must
// exit afterwards: threads that never stopped are detached by that exit.
void CaptureShard(pid_t pid, const std::vector<MapEntry>& maps, const CaptureOptions& opts,
                  size_t first, size_t stride, std::vector<ThreadCapture>* all) {
  // With opts.realtime, run this thread at a real-time priority while
  // capturing (when allowed): a stopped target thread then waits only for our
  // few syscalls, never for the scheduler to give us the CPU back.
  if (opts.realtime) {
    sched_param rt{};
    rt.sched_priority = 1;
    (void)::pthread_setschedparam(::pthread_self(), SCHED_FIFO, &rt);
  }
  std::vector<char> scratch(opts.max_stack_bytes, 1);  // touched: no page faults later
  std::vector<ThreadCapture*> mine;
  for (size_t i = first; i < all->size(); i += stride) mine.push_back(&(*all)[i]);
  // A small window of threads is asked to stop ahead of the one being read,
  // so their scheduling latencies overlap; at most `window` threads per
  // tracer are ever stopped at once, never the process as a whole. Waits
  // name the thread (never waitpid(-1): other children of this process,
  // e.g. `run:` steps, must not be reaped here).
  size_t window = std::max<size_t>(1, opts.window);
  std::vector<int64_t> t_interrupt(mine.size(), 0);
  std::vector<bool> started(mine.size(), false);
  std::vector<pid_t> late;  // attached, interrupt pending, not stopped yet
  size_t next = 0;
  for (size_t i = 0; i < mine.size(); ++i) {
    while (next < mine.size() && next < i + window) {
      if (std::chrono::steady_clock::now() >= opts.deadline) break;
      started[next] = StartCapture(mine[next], &t_interrupt[next]);
      if (!started[next]) mine[next]->skipped = true;
      ++next;
    }
    ThreadCapture* c = mine[i];
    if (started[i]) {
      // Per thread: at most stop_wait, and not past the deadline (but a
      // thread already interrupted is always given one look).
      auto wait_from = std::chrono::steady_clock::now();
      auto until = std::min(wait_from + opts.stop_wait, opts.deadline);
      if (!FinishCapture(pid, maps, scratch, t_interrupt[i], until, c)) {
        auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(
            std::max(until, wait_from) - wait_from);
        c->skipped = true;
        c->error = "did not stop within " + std::to_string(waited.count()) + " ms (" +
                   ThreadState(pid, c->tid) + "); not captured, left running";
        late.push_back(c->tid);
      }
      if (!late.empty()) SweepLate(&late);
    } else if (c->error.empty()) {
      c->error = "not captured: time budget spent";
      c->skipped = true;
    }
  }
  SweepLate(&late);
}

}  // namespace

Result<std::vector<ThreadCapture>> CaptureThreads(pid_t pid, const CaptureOptions& opts) {
  auto maps_text = ReadFile("/proc/" + std::to_string(pid) + "/maps", 64 << 20);
  if (!maps_text.ok()) return maps_text.status();
  std::vector<MapEntry> maps = ParseMaps(*maps_text);
  std::sort(maps.begin(), maps.end(),
            [](const MapEntry& a, const MapEntry& b) { return a.start < b.start; });
  std::vector<pid_t> tids = ListTasks(pid);
  if (tids.empty()) return NotFound("pid " + std::to_string(pid) + ": no threads (exited?)");
  std::vector<ThreadCapture> out(tids.size());
  for (size_t i = 0; i < tids.size(); ++i) out[i].tid = tids[i];
  size_t tracers = std::max<size_t>(1, std::min<size_t>(opts.tracers, tids.size() / 64 + 1));
  // Every shard on a thread of its own, even with one tracer: a thread that
  // never stopped can only be detached by its tracer thread's exit. Each
  // shard returns by its deadline (or one stop_wait past it), so the joins
  // are bounded.
  std::vector<std::thread> tracer_threads;
  for (size_t k = 0; k < tracers; ++k) {
    tracer_threads.emplace_back(CaptureShard, pid, std::cref(maps), std::cref(opts), k, tracers,
                                &out);
  }
  for (std::thread& t : tracer_threads) t.join();
  return out;
}

}  // namespace stopgap::diag::internal
