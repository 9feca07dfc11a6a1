// AlertIntake: record, classify (resolved / unmatched / duplicate / new),
// admit and queue. See intake.h for the order of operations.
//
// Threading: per-fingerprint striped mutex around classify+admit; the ledger
// and engine are thread-safe themselves.
#include "server/intake.h"

#include <functional>

#include "core/log.h"
#include "remedy/matcher.h"

namespace stopgap::server {

using remedy::AlertDisposition;
using remedy::AlertStatus;
using remedy::ExecutionState;

namespace {
constexpr const char* kReceived = "stopgap_alerts_received_total";
constexpr const char* kRejected = "stopgap_alerts_rejected_total";
constexpr const char* kDeduplicated = "stopgap_alerts_deduplicated_total";
constexpr const char* kUnmatched = "stopgap_alerts_unmatched_total";
constexpr const char* kResolved = "stopgap_alerts_resolved_total";
}  // namespace

void AlertIntake::DescribeMetrics(MetricsRegistry& m) {
  m.Describe(kReceived, MetricType::kCounter, "Alerts received, by source and status.");
  m.Describe(kRejected, MetricType::kCounter,
             "Alerts or bodies rejected, by source and reason (bad-request, queue-full).");
  m.Describe(kDeduplicated, MetricType::kCounter,
             "Firing alerts recorded as duplicates of an execution (in-flight, cooldown).");
  m.Describe(kUnmatched, MetricType::kCounter, "Firing alerts no workaround matches.");
  m.Describe(kResolved, MetricType::kCounter, "Resolved notifications recorded (never act).");
}

AlertIntake::AlertIntake(const CatalogHolder& catalog, remedy::ExecutionLedger& ledger,
                         remedy::RemediationEngine& engine, ExecutionQueue& queue,
                         MetricsRegistry& metrics, const Clock& clock)
    : catalog_(catalog),
      ledger_(ledger),
      engine_(engine),
      queue_(queue),
      metrics_(metrics),
      clock_(clock) {}

std::mutex& AlertIntake::StripeFor(const std::string& fingerprint) {
  return stripes_[std::hash<std::string>{}(fingerprint) % stripes_.size()];
}

IntakeResult AlertIntake::Accept(const std::vector<remedy::Alert>& alerts) {
  IntakeResult out;
  for (const remedy::Alert& a : alerts) {
    Status s = AcceptOne(a, &out);
    if (!s.ok()) {
      Log(LogLevel::kError, "alert intake failed",
          {{"fingerprint", a.fingerprint}, {"error", s.ToString()}});
      out.error = s;
      break;
    }
  }
  return out;
}

void AlertIntake::RecordRejectedBody(std::string_view source, std::string_view reason) {
  metrics_.Add(kRejected, {{"source", std::string(source)}, {"reason", "bad-request"}});
  remedy::Alert a;
  a.source = std::string(source);
  auto id = ledger_.RecordAlert(a, clock_.Now(), AlertDisposition::kRejected, reason);
  if (!id.ok()) {
    Log(LogLevel::kError, "cannot record rejected alert", {{"error", id.status().ToString()}});
  }
}

Status AlertIntake::AcceptResolved(const remedy::Alert& alert, remedy::AlertId alert_id,
                                   IntakeResult* out) {
  std::optional<remedy::ExecutionId> exec;
  auto inflight = ledger_.FindInFlightByFingerprint(alert.fingerprint);
  if (!inflight.ok()) return inflight.status();
  exec = *inflight;
  if (!exec) {
    auto catalog = catalog_.Get();
    if (const remedy::Workaround* w = remedy::BestMatch(*catalog, alert)) {
      auto last = ledger_.LastExecutionFor(w->id, alert.fingerprint);
      if (!last.ok()) return last.status();
      if (*last) exec = (*last)->id;
    }
  }
  STOPGAP_RETURN_IF_ERROR(ledger_.RecordResolved(alert_id, exec));
  metrics_.Add(kResolved);
  out->resolved.push_back({alert.fingerprint, exec});
  return Status::Ok();
}

Status AlertIntake::AcceptOne(const remedy::Alert& alert, IntakeResult* out) {
  const bool firing = alert.status == AlertStatus::kFiring;
  metrics_.Add(kReceived, {{"source", alert.source}, {"status", firing ? "firing" : "resolved"}});
  std::lock_guard<std::mutex> stripe(StripeFor(alert.fingerprint));
  WallTime now = clock_.Now();
  auto alert_id = ledger_.RecordAlert(alert, now);
  if (!alert_id.ok()) return alert_id.status();
  out->alert_ids.push_back(*alert_id);
  if (!firing) return AcceptResolved(alert, *alert_id, out);

  auto catalog = catalog_.Get();
  const remedy::Workaround* w = remedy::BestMatch(*catalog, alert);
  if (!w) {
    metrics_.Add(kUnmatched);
    out->unmatched.push_back(alert.fingerprint);
    return ledger_.SetAlertDisposition(*alert_id, AlertDisposition::kUnmatched, std::nullopt);
  }

  auto inflight = ledger_.FindInFlightByFingerprint(alert.fingerprint);
  if (!inflight.ok()) return inflight.status();
  std::optional<remedy::ExecutionId> dup;
  std::string why;
  if (*inflight) {
    dup = *inflight;
    why = "in-flight";
  } else if (w->limits.cooldown > Duration{0}) {
    auto last = ledger_.LastExecutionFor(w->id, alert.fingerprint);
    if (!last.ok()) return last.status();
    if (*last && (*last)->state != ExecutionState::kRefused) {
      WallTime ref = (*last)->finished_at.value_or((*last)->updated_at);
      if (now - ref < w->limits.cooldown) {
        dup = (*last)->id;
        why = "cooldown";
      }
    }
  }
  if (dup) {
    metrics_.Add(kDeduplicated, {{"reason", why}});
    out->duplicates.push_back({alert.fingerprint, *dup, why});
    return ledger_.RecordDuplicate(*alert_id, *dup);
  }

  std::optional<ExecutionQueue::Slot> slot = queue_.Reserve();
  if (!slot) {
    metrics_.Add(kRejected, {{"source", alert.source}, {"reason", "queue-full"}});
    out->rejected.push_back(alert.fingerprint);
    return ledger_.SetAlertDisposition(*alert_id, AlertDisposition::kRejected, std::nullopt,
                                       "queue full");
  }
  auto admission = engine_.Begin(w->id, alert, alert.source, *alert_id);
  if (!admission.ok()) return admission.status();
  IntakeResult::Execution e;
  e.id = admission->id;
  e.workaround = w->id;
  e.fingerprint = alert.fingerprint;
  if (admission->refusal) {
    e.state = "refused";
    e.reason = std::string(remedy::RefusalReasonName(admission->refusal->reason));
    e.detail = admission->refusal->detail;
  } else {
    e.state = "matched";
    queue_.Commit(std::move(*slot), admission->id);
  }
  out->executions.push_back(std::move(e));
  return ledger_.SetAlertDisposition(*alert_id, AlertDisposition::kMatched, admission->id);
}

}  // namespace stopgap::server
