// User-space stacks of every thread of another process, without stopping it
// as a whole: each thread in turn is seized, interrupted, its registers and
// the live part of its stack copied (one process_vm_readv), and detached at
// once; the pause of each is measured. Unwinding (libdw CFI, frame pointers
// as the fallback) and symbolization then run offline on the copies while
// the target runs on.
//
// Thread safety: CaptureThreads must be called from one thread for a given
// target (ptrace ties a tracee to the tracing thread); the results are values.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace stopgap::diag::internal {

struct ThreadCapture {
  pid_t tid = 0;
  bool ok = false;
  std::string error;        // why no registers/stack, when !ok
  uint64_t regs[17] = {};   // DWARF x86_64 order: rax rdx rcx rbx rsi rdi rbp rsp r8-r15 rip
  uint64_t stack_base = 0;  // address of stack[0] (the stack pointer at the stop)
  std::string stack;        // bytes copied from stack_base upwards
  // The pause we impose: from the stop being reported (waitpid) to
  // PTRACE_DETACH returning. Before that, from PTRACE_INTERRUPT, the thread
  // runs on (or sleeps on) until it reaches the stop: stop_latency_ns.
  int64_t pause_ns = 0;
  int64_t stop_latency_ns = 0;
  // Not captured, and why (in `error`): it did not reach its stop within
  // CaptureOptions::stop_wait (e.g. state D, in the kernel), the budget ran
  // out before its turn, it exited, or it could not be attached. Such a
  // thread is never left stopped or attached by us.
  bool skipped = false;
};

struct CaptureOptions {
  size_t max_stack_bytes = 256 << 10;  // per thread
  // Threads doing the capture, each with its own window. 2 and 3 gave no gain
  // on the 2-CPU benchmark machine; more may help on many-core hosts.
  size_t tracers = 1;
  size_t window = 16;  // threads asked to stop ahead of the one being read
  // SCHED_FIFO 1 for the capturing thread while capturing. Off: on the
  // 2-CPU benchmark machine it raised the target's ticker gap (median 10.8 ms
  // vs 5.1 ms over 14 interleaved runs each) by taking a CPU from the
  // target's other threads; the pause it saves is microseconds.
  bool realtime = false;
  // The longest we wait for one thread to reach its stop after
  // PTRACE_INTERRUPT (less when the deadline is nearer). A thread in the
  // kernel (state D: vfork, a hung NFS read) cannot stop; it is skipped, and
  // the threads asked to stop after it are not kept waiting behind it.
  std::chrono::milliseconds stop_wait{200};
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
};

// Captures every thread listed in /proc/PID/task (threads that exit meanwhile
// are reported with an error). Stops early at the deadline (kDeadlineExceeded
// is then not returned: the partial result is, with the rest marked skipped).
// Bounded: returns by about max(deadline, now + stop_wait) whatever the target
// does. Every thread it attached is detached on return: those that stopped by
// PTRACE_DETACH, those that never stopped by the exit of the tracing thread
// (the kernel detaches a tracer thread's tracees when it exits; PTRACE_DETACH
// needs a stopped tracee), so the capture always runs on threads of its own.
Result<std::vector<ThreadCapture>> CaptureThreads(pid_t pid, const CaptureOptions& opts);

struct Frame {
  uint64_t pc = 0;
  bool is_activation = false;
};
struct ThreadStack {
  pid_t tid = 0;
  std::vector<Frame> frames;
  std::string error;  // unwinding stopped early, and why
};

// Unwinds each capture offline against the modules mapped in `pid` and
// returns symbolized text lines via the callback-free result below.
struct UnwoundStacks {
  std::vector<ThreadStack> threads;
  std::vector<std::vector<std::string>> symbols;  // per thread, per frame
  int64_t setup_us = 0;                           // module reporting, attach
  int64_t unwind_us = 0;                          // walking the frames
  int64_t symbolize_us = 0;                       // names for the pcs
};
Result<UnwoundStacks> UnwindOffline(pid_t pid, const std::vector<ThreadCapture>& captures,
                                    size_t max_frames = 128);

// True when the `width` bytes at `addr` lie inside a copied stack of `size`
// bytes that starts at `base`; written so no sum can wrap, whatever addr,
// base (a tiny one included) and size are.
inline bool InCopiedStack(uint64_t addr, uint64_t base, uint64_t size, uint64_t width) {
  return addr >= base && size >= width && addr - base <= size - width;
}

}  // namespace stopgap::diag::internal
