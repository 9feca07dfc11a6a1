// Stacks for the `process` collector: capture (one thread paused at a time),
// unwind offline, and write stacks.txt (every thread, with its pause) and
// stacks-summary.txt (identical stacks grouped, most common first). Runs on
// the collector thread.
#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <functional>
#include <map>

#include "diag/internal/collector.h"
#include "diag/internal/stacks.h"

namespace stopgap::diag::internal {

Status CollectStacks(CollectorContext& ctx, pid_t pid,
                     const std::function<const std::map<pid_t, std::string>&()>& get_names) {
  using Clock = std::chrono::steady_clock;
  auto t0 = Clock::now();
  CaptureOptions opts;
  opts.deadline = ctx.deadline();
  auto caps = CaptureThreads(pid, opts);
  if (!caps.ok()) return caps.status().WithContext("stacks");
  auto t1 = Clock::now();
  auto unwound = UnwindOffline(pid, *caps);
  auto t2 = Clock::now();
  if (!unwound.ok()) return unwound.status().WithContext("stacks");

  std::vector<int64_t> pauses;
  int64_t max_pause = 0, max_latency = 0;
  pid_t max_tid = 0;
  size_t skipped = 0;
  for (const ThreadCapture& c : *caps) {
    if (!c.ok) {
      ++skipped;
      ctx.Skip("thread " + std::to_string(c.tid) + ": " +
               (c.error.empty() ? std::string("not captured") : c.error));
      continue;
    }
    pauses.push_back(c.pause_ns);
    max_latency = std::max(max_latency, c.stop_latency_ns);
    if (c.pause_ns > max_pause) {
      max_pause = c.pause_ns;
      max_tid = c.tid;
    }
  }
  std::sort(pauses.begin(), pauses.end());
  int64_t median = pauses.empty() ? 0 : pauses[pauses.size() / 2];
  auto ms = [](auto d) {
    return std::chrono::duration_cast<std::chrono::microseconds>(d).count() / 1000.0;
  };
  char head[512];
  std::snprintf(
      head, sizeof head,
      "threads: %zu captured: %zu skipped: %zu\n"
      "pause per thread (us): median %" PRId64 " max %" PRId64
      " (tid %d); longest wait for a thread to reach its stop: %" PRId64
      " us\n"
      "capture_ms: %.1f unwind_and_symbolize_ms: %.1f (setup %.1f, unwind %.1f, symbolize %.1f)\n"
      "method: one thread at a time: PTRACE_SEIZE+INTERRUPT, registers and one stack copy,"
      " PTRACE_DETACH; unwound offline with libdw\n\n",
      caps->size(), pauses.size(), skipped, median / 1000, max_pause / 1000, max_tid,
      max_latency / 1000, ms(t1 - t0), ms(t2 - t1), unwound->setup_us / 1000.0,
      unwound->unwind_us / 1000.0, unwound->symbolize_us / 1000.0);
  ctx.Metric("stack_threads", static_cast<int64_t>(pauses.size()));
  ctx.Metric("stack_skipped", static_cast<int64_t>(skipped));
  ctx.Metric("stack_max_pause_us", max_pause / 1000);
  ctx.Metric("stack_median_pause_us", median / 1000);
  ctx.Metric("stack_max_stop_latency_us", max_latency / 1000);
  ctx.Metric("stack_capture_us",
             std::chrono::duration_cast<std::chrono::microseconds>(t1 - t0).count());
  ctx.Metric("stack_unwind_us",
             std::chrono::duration_cast<std::chrono::microseconds>(t2 - t1).count());

  const std::map<pid_t, std::string>* names = &get_names();
  std::string body = head;
  std::map<std::string, std::vector<pid_t>> groups;
  for (size_t i = 0; i < caps->size(); ++i) {
    const ThreadCapture& c = (*caps)[i];
    const ThreadStack& ts = unwound->threads[i];
    auto nit = names->find(c.tid);
    char line[256];
    std::snprintf(line, sizeof line, "Thread %d \"%s\" pause_us=%" PRId64 "\n", c.tid,
                  nit == names->end() ? "?" : nit->second.c_str(), c.pause_ns / 1000);
    body += line;
    if (!c.ok) body += "   (skipped: " + c.error + ")\n";
    std::string frames;
    for (size_t f = 0; f < ts.frames.size(); ++f) {
      std::snprintf(line, sizeof line, "#%-2zu 0x%016" PRIx64 " ", f, ts.frames[f].pc);
      frames += line + unwound->symbols[i][f] + "\n";
    }
    if (!ts.error.empty()) frames += "   (" + ts.error + ")\n";
    body += frames + "\n";
    groups[frames].push_back(c.tid);
  }
  STOPGAP_RETURN_IF_ERROR(ctx.WriteFile("stacks.txt", body));

  std::vector<std::pair<const std::string*, const std::vector<pid_t>*>> order;
  for (const auto& [frames, tids] : groups) order.emplace_back(&frames, &tids);
  std::sort(order.begin(), order.end(),
            [](const auto& a, const auto& b) { return a.second->size() > b.second->size(); });
  std::string summary = "distinct stacks: " + std::to_string(order.size()) + "\n\n";
  for (const auto& [frames, tids] : order) {
    summary += std::to_string(tids->size()) + " thread(s):";
    for (size_t i = 0; i < tids->size() && i < 16; ++i) summary += " " + std::to_string((*tids)[i]);
    summary += tids->size() > 16 ? " ...\n" : "\n";
    summary += *frames + "\n";
  }
  return ctx.WriteFile("stacks-summary.txt", summary);
}

}  // namespace stopgap::diag::internal
