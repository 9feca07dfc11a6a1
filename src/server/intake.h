// AlertIntake: what happens to an alert between "parsed" and "acknowledged".
// Per alert, in this order (every alert ends up recorded in the ledger with
// its disposition, in one write except for a new execution, before the
// caller's group fsync and acknowledgement):
//   1. looked up, under the fingerprint's stripe lock; a failed lookup
//      records the alert as rejected with the error (the caller answers 500);
//   2. resolved -> recorded against its execution (in flight, else the last
//      one for its fingerprint), and the time degraded of that fingerprint's
//      open executions ends (GroupLimitsLedger::RecordResolve); never starts
//      anything;
//   3. firing, no workaround matches -> recorded unmatched;
//   4. an execution for this fingerprint is in flight (or awaiting approval)
//      -> a duplicate of it;
//      else the firing instance (remedy/firing.h: fingerprint + startsAt)
//      already acted -> a duplicate of its execution (Alertmanager re-sends
//      groups on every update and repeat, and retries on 5xx); its run
//      failed and it still fires -> a duplicate, and the issue is escalated
//      (or, with `repeat:`, another attempt); a new instance within the
//      workaround's cooldown -> a duplicate of the last run ("cooldown");
//   5. else a queue slot is reserved (none free: recorded rejected, and the
//      caller answers 503 + Retry-After), the engine admits the execution
//      (matched or refused, durable) and it is queued for the worker pool.
// Alerts with the same fingerprint are processed one at a time (striped
// locks), so concurrent re-sends cannot both start a run.
//
// Thread safety: Accept() may be called from many threads at once.
#pragma once

#include <array>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "remedy/alert.h"
#include "remedy/engine.h"
#include "remedy/ledger.h"
#include "server/catalog_holder.h"
#include "server/metrics.h"
#include "server/work_queue.h"

namespace stopgap::server {

struct IntakeResult {
  struct Execution {
    remedy::ExecutionId id = 0;
    std::string workaround;
    std::string fingerprint;
    std::string state;   // "matched" | "refused"
    std::string reason;  // refusal reason
    std::string detail;
  };
  struct Duplicate {
    std::string fingerprint;
    remedy::ExecutionId execution = 0;
    std::string why;  // "in-flight", "same-instance", "still-firing", "cooldown", ...
  };
  struct Resolved {
    std::string fingerprint;
    std::optional<remedy::ExecutionId> execution;
  };
  std::vector<remedy::AlertId> alert_ids;
  std::vector<Execution> executions;
  std::vector<Duplicate> duplicates;
  std::vector<Resolved> resolved;
  std::vector<std::string> unmatched;  // fingerprints
  std::vector<std::string> rejected;   // fingerprints refused for a full queue
  Status error;                        // a ledger failure: the caller answers 500

  bool queue_full() const { return !rejected.empty(); }
};

class AlertIntake {
 public:
  // All references must outlive the intake.
  AlertIntake(const CatalogHolder& catalog, remedy::AlertLog& ledger,
              remedy::RemediationEngine& engine, ExecutionQueue& queue, MetricsRegistry& metrics,
              const Clock& clock);

  IntakeResult Accept(const std::vector<remedy::Alert>& alerts);

  // A body that failed to parse: recorded (disposition rejected, with the
  // reason) and counted.
  void RecordRejectedBody(std::string_view source, std::string_view reason);

  // Declares the intake's metric families on `metrics`.
  static void DescribeMetrics(MetricsRegistry& metrics);

 private:
  Status AcceptOne(const remedy::Alert& alert, IntakeResult* out);
  Status AcceptResolved(const remedy::Alert& alert, WallTime now, IntakeResult* out);
  Status Record(const remedy::Alert& alert, WallTime now, remedy::AlertDisposition d,
                std::optional<remedy::ExecutionId> exec, IntakeResult* out,
                std::string_view reason = {});
  Status RecordDuplicate(const remedy::Alert& alert, WallTime now, remedy::ExecutionId of,
                         const std::string& why, IntakeResult* out);
  Status RecordLookupFailure(const remedy::Alert& alert, WallTime now, const Status& error,
                             IntakeResult* out);
  std::mutex& StripeFor(const std::string& fingerprint);

  const CatalogHolder& catalog_;
  remedy::AlertLog& ledger_;
  remedy::RemediationEngine& engine_;
  ExecutionQueue& queue_;
  MetricsRegistry& metrics_;
  const Clock& clock_;
  std::array<std::mutex, 64> stripes_;
};

}  // namespace stopgap::server
