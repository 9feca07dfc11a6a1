// CollectorContext: what a collector body gets — where to write, its deadline,
// its size cap, the redactor — and the registry of built-in collectors.
// Writes go through the context so the cap and the cut-off are enforced in
// one place: once the orchestrator abandons a collector (budget expired),
// every later write is refused.
//
// Thread safety: one collector thread writes; the orchestrator may call
// Abandon()/Snapshot() from another thread (internally locked).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "diag/diag.h"
#include "diag/internal/redact.h"

namespace stopgap::diag {

class CollectorContext {
 public:
  // Files go to "<bundle_dir>/<subdir>/".
  CollectorContext(std::string bundle_dir, std::string name, std::string subdir, MonoTime deadline,
                   size_t size_cap, internal::Redactor redactor, CollectRequest req);

  const std::string& name() const { return name_; }
  const CollectRequest& request() const { return req_; }
  const internal::Redactor& redactor() const { return redactor_; }
  std::optional<pid_t> pid;  // resolved target for `process`

  // Deadlines are on the steady clock: budgets are real time, whatever Clock
  // the caller injected for timestamps.
  // True once the deadline passed or the orchestrator abandoned this run.
  bool Expired() const;
  MonoTime deadline() const { return deadline_; }

  // Writes `data` to "<bundle>/<subdir>/<file>" (0600). Past the size cap the
  // data is cut and the outcome marked truncated. Refused once abandoned.
  Status WriteFile(const std::string& file, std::string_view data);
  // Copies a file's bytes (up to the remaining cap) into the bundle.
  Status CopyFile(const std::string& src, const std::string& file);
  void Metric(std::string key, int64_t value);
  // Records something left out, and why (CollectorOutcome::skipped).
  void Skip(std::string what);
  size_t remaining_cap() const;

  // Orchestrator side.
  void Abandon();
  CollectorOutcome Snapshot() const;

 private:
  std::string bundle_dir_;
  std::string name_;
  std::string subdir_;
  MonoTime deadline_;
  size_t size_cap_;
  internal::Redactor redactor_;
  CollectRequest req_;  // a copy: an abandoned collector may outlive the caller's
  std::atomic<bool> abandoned_{false};
  mutable std::mutex mu_;
  bool dir_made_ = false;
  CollectorOutcome out_;
};

namespace internal {
// Built-in collector bodies.
Status CollectSystem(CollectorContext& ctx);
Status CollectTcp(CollectorContext& ctx);
Status CollectProcess(CollectorContext& ctx);
}  // namespace internal

}  // namespace stopgap::diag
