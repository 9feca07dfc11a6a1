// UnwindOffline: libdw's unwinder (CFI from .eh_frame/.debug_frame, frame
// pointers as its fallback) run over the register and stack copies taken by
// CaptureThreads — the target is not paused while this runs. Memory outside a
// copied stack is read from the live process (process_vm_readv never stops
// it). Runs on the calling thread.
#include <elfutils/libdwfl.h>
#include <sys/uio.h>

#include <chrono>
#include <cstring>
#include <unordered_map>

#include "diag/internal/stacks.h"
#include "diag/internal/symbolizer.h"

namespace stopgap::diag::internal {
namespace {

struct UnwindState {
  pid_t pid = 0;
  const std::vector<ThreadCapture>* captures = nullptr;
  std::unordered_map<pid_t, const ThreadCapture*> by_tid;
  const ThreadCapture* current = nullptr;
  size_t next = 0;
};

pid_t NextThread(Dwfl*, void* arg, void** thread_argp) {
  auto* s = static_cast<UnwindState*>(arg);
  while (s->next < s->captures->size()) {
    const ThreadCapture& c = (*s->captures)[s->next++];
    if (!c.ok) continue;
    *thread_argp = const_cast<ThreadCapture*>(&c);
    return c.tid;
  }
  return 0;
}

bool GetThread(Dwfl*, pid_t tid, void* arg, void** thread_argp) {
  auto* s = static_cast<UnwindState*>(arg);
  auto it = s->by_tid.find(tid);
  if (it == s->by_tid.end()) return false;
  *thread_argp = const_cast<ThreadCapture*>(it->second);
  s->current = it->second;
  return true;
}

bool MemoryRead(Dwfl*, Dwarf_Addr addr, Dwarf_Word* result, void* arg) {
  auto* s = static_cast<UnwindState*>(arg);
  const ThreadCapture* c = s->current;
  if (c != nullptr && InCopiedStack(addr, c->stack_base, c->stack.size(), sizeof *result)) {
    std::memcpy(result, c->stack.data() + (addr - c->stack_base), sizeof *result);
    return true;
  }
  iovec local{result, sizeof *result};
  iovec remote{reinterpret_cast<void*>(addr), sizeof *result};
  return ::process_vm_readv(s->pid, &local, 1, &remote, 1, 0) == sizeof *result;
}

bool SetInitialRegisters(Dwfl_Thread* thread, void* thread_arg) {
  const auto* c = static_cast<const ThreadCapture*>(thread_arg);
  Dwarf_Word regs[17];
  std::memcpy(regs, c->regs, sizeof regs);
  return dwfl_thread_state_registers(thread, 0, 17, regs);
}

const Dwfl_Thread_Callbacks kThreadCallbacks = {
    NextThread, GetThread, MemoryRead, SetInitialRegisters, nullptr, nullptr,
};

char* g_debuginfo_path = nullptr;
const Dwfl_Callbacks kProcCallbacks = {
    dwfl_linux_proc_find_elf,
    dwfl_standard_find_debuginfo,
    nullptr,
    &g_debuginfo_path,
};

struct FrameCollector {
  ThreadStack* stack;
  size_t max_frames;
};

int OnFrame(Dwfl_Frame* frame, void* arg) {
  auto* fc = static_cast<FrameCollector*>(arg);
  Dwarf_Addr pc = 0;
  bool activation = false;
  if (!dwfl_frame_pc(frame, &pc, &activation)) {
    fc->stack->error = dwfl_errmsg(-1);
    return DWARF_CB_ABORT;
  }
  fc->stack->frames.push_back({pc, activation});
  return fc->stack->frames.size() >= fc->max_frames ? DWARF_CB_ABORT : DWARF_CB_OK;
}

}  // namespace

Result<UnwoundStacks> UnwindOffline(pid_t pid, const std::vector<ThreadCapture>& captures,
                                    size_t max_frames) {
#if !defined(__x86_64__)
  return FailedPrecondition("stack unwinding is implemented for x86_64 only");
#endif
  auto t_setup = std::chrono::steady_clock::now();
  Dwfl* dwfl = dwfl_begin(&kProcCallbacks);
  if (dwfl == nullptr) return Internal(std::string("dwfl_begin: ") + dwfl_errmsg(-1));
  struct Closer {
    Dwfl* d;
    ~Closer() { dwfl_end(d); }
  } closer{dwfl};
  dwfl_report_begin(dwfl);
  int rc = dwfl_linux_proc_report(dwfl, pid);
  if (rc != 0) {
    return Internal("reading the modules of pid " + std::to_string(pid) + ": " +
                    (rc > 0 ? std::strerror(rc) : dwfl_errmsg(-1)));
  }
  if (dwfl_report_end(dwfl, nullptr, nullptr) != 0) {
    return Internal(std::string("dwfl_report_end: ") + dwfl_errmsg(-1));
  }
  UnwindState state;
  state.pid = pid;
  state.captures = &captures;
  for (const ThreadCapture& c : captures) {
    if (c.ok) state.by_tid[c.tid] = &c;
  }
  if (!dwfl_attach_state(dwfl, nullptr, pid, &kThreadCallbacks, &state)) {
    return Internal(std::string("dwfl_attach_state: ") + dwfl_errmsg(-1));
  }
  UnwoundStacks out;
  Symbolizer symbols(dwfl);
  auto us_since = [](std::chrono::steady_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                                 t)
        .count();
  };
  out.setup_us = us_since(t_setup);
  for (const ThreadCapture& c : captures) {
    ThreadStack ts;
    ts.tid = c.tid;
    if (!c.ok) {
      ts.error = c.error;
    } else {
      state.current = &c;
      FrameCollector fc{&ts, max_frames};
      int r = dwfl_getthread_frames(dwfl, c.tid, OnFrame, &fc);
      if (r == -1 && ts.error.empty()) {
        // The usual end: no CFI/frame pointer for the outermost frame.
        const char* msg = dwfl_errmsg(-1);
        if (ts.frames.size() < 2 && msg != nullptr) ts.error = msg;
      }
    }
    out.threads.push_back(std::move(ts));
  }
  out.unwind_us = us_since(t_setup) - out.setup_us;
  auto t_sym = std::chrono::steady_clock::now();
  for (const ThreadStack& ts : out.threads) {
    std::vector<std::string> names;
    names.reserve(ts.frames.size());
    for (const Frame& f : ts.frames) names.push_back(symbols.Describe(f.pc, f.is_activation));
    out.symbols.push_back(std::move(names));
  }
  out.symbolize_us = us_since(t_sym);
  return out;
}

}  // namespace stopgap::diag::internal
