// DiagnosticsCollector over src/diag; see diag_collector.h.
#include "remedy/diag_collector.h"

#include "diag/diag.h"

namespace stopgap::remedy {
namespace {

DiagnosticsOutcome Summarise(const std::vector<diag::CollectorOutcome>& outcomes) {
  DiagnosticsOutcome o;
  o.ok = !outcomes.empty();
  for (const diag::CollectorOutcome& c : outcomes) {
    o.ok = o.ok && c.ok;
    o.timed_out = o.timed_out || c.timed_out;
    o.truncated = o.truncated || c.truncated;
    if (!c.error.empty()) o.error += (o.error.empty() ? "" : "; ") + c.name + ": " + c.error;
    o.files.insert(o.files.end(), c.files.begin(), c.files.end());
    o.duration = std::max(o.duration, c.duration);  // collectors run concurrently
  }
  o.collectors = outcomes;
  return o;
}

class DiagLibraryCollector final : public DiagnosticsCollector {
 public:
  DiagLibraryCollector(std::vector<std::string> redact, const Clock& clock)
      : redact_(std::move(redact)), clock_(clock) {}

  DiagnosticsOutcome Collect(const CollectStep& step, Duration timeout,
                             const std::string& bundle_dir) override {
    diag::CollectRequest req;
    req.collectors = step.collectors;
    if (step.pid) req.pid = static_cast<pid_t>(*step.pid);
    req.pidfile = step.pidfile;
    req.exe = step.exe;
    req.stacks = step.stacks;
    req.timeout = timeout;
    req.redact_patterns = redact_;
    if (Status v = diag::ValidateCollectRequest(req); !v.ok()) {
      DiagnosticsOutcome o;
      o.error = v.message();
      return o;
    }
    return Summarise(diag::RunCollectors(req, bundle_dir, clock_));
  }

  DiagnosticsOutcome Guru(const GuruStep& step, Duration timeout,
                          const std::string& bundle_dir) override {
    diag::GuruRequest req;
    if (step.pid) req.pid = static_cast<pid_t>(*step.pid);
    req.pidfile = step.pidfile;
    req.exe = step.exe;
    Result<int> sig = diag::ParseSignal(step.signal);
    if (!sig.ok()) {
      DiagnosticsOutcome o;
      o.error = sig.status().message();
      return o;
    }
    req.signal = *sig;
    req.report_glob = step.report_glob;
    req.timeout = timeout;
    return Summarise({diag::RunGuru(req, bundle_dir, clock_)});
  }

 private:
  std::vector<std::string> redact_;
  const Clock& clock_;
};

}  // namespace

std::unique_ptr<DiagnosticsCollector> MakeDiagnosticsCollector(const Catalog& catalog,
                                                               const Clock& clock) {
  return std::make_unique<DiagLibraryCollector>(catalog.policy.redact, clock);
}

}  // namespace stopgap::remedy
