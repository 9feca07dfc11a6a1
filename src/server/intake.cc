// AlertIntake: classify (resolved / unmatched / duplicate / new), record,
// admit and queue. See intake.h for the order of operations.
//
// Threading: per-fingerprint striped mutex around classify+admit; the ledger
// and engine are thread-safe themselves.
#include "server/intake.h"

#include <functional>

#include "core/log.h"
#include "remedy/firing.h"
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
             "Firing alerts recorded as duplicates of an execution, by reason (in-flight, "
             "same-instance, still-firing, repeat-wait, refused, cooldown, denied, "
             "approval-expired, claimed: another node sharing the ledger claimed the firing "
             "window).");
  m.Describe(kUnmatched, MetricType::kCounter, "Firing alerts no workaround matches.");
  m.Describe(kResolved, MetricType::kCounter, "Resolved notifications recorded (never act).");
}

AlertIntake::AlertIntake(const CatalogHolder& catalog, remedy::AlertLog& ledger,
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

// One ledger write per alert on every path but a new execution: the lookups
// come first and the alert is inserted with its disposition (and the
// execution it is recorded against), one commit instead of an insert and an
// update. Nothing is acknowledged before the caller's group fsync, so
// recording after the lookups loses nothing; a failed lookup still records
// the alert (rejected, with the error) before the 500.
Status AlertIntake::Record(const remedy::Alert& alert, WallTime now, AlertDisposition d,
                           std::optional<remedy::ExecutionId> exec, IntakeResult* out,
                           std::string_view reason) {
  auto id = ledger_.RecordAlert(alert, now, d, reason, exec);
  if (!id.ok()) return id.status();
  out->alert_ids.push_back(*id);
  return Status::Ok();
}

Status AlertIntake::RecordDuplicate(const remedy::Alert& alert, WallTime now,
                                    remedy::ExecutionId of, const std::string& why,
                                    IntakeResult* out) {
  metrics_.Add(kDeduplicated, {{"reason", why}});
  out->duplicates.push_back({alert.fingerprint, of, why});
  return Record(alert, now, AlertDisposition::kDuplicate, of, out, why);
}

Status AlertIntake::RecordLookupFailure(const remedy::Alert& alert, WallTime now,
                                        const Status& error, IntakeResult* out) {
  Status s = Record(alert, now, AlertDisposition::kRejected, std::nullopt, out,
                    "ledger error: " + error.message());
  if (!s.ok()) {
    Log(LogLevel::kError, "cannot record alert", {{"error", s.ToString()}});
  }
  return error;
}

Status AlertIntake::AcceptResolved(const remedy::Alert& alert, WallTime now, IntakeResult* out) {
  std::optional<remedy::ExecutionId> exec;
  auto inflight = ledger_.FindInFlightByFingerprint(alert.fingerprint);
  if (!inflight.ok()) return RecordLookupFailure(alert, now, inflight.status(), out);
  exec = *inflight;
  if (!exec) {
    auto catalog = catalog_.Get();
    if (const remedy::Workaround* w = remedy::BestMatch(*catalog, alert)) {
      auto last = ledger_.LastExecutionFor(w->id, alert.fingerprint);
      if (!last.ok()) return RecordLookupFailure(alert, now, last.status(), out);
      if (*last) exec = (*last)->id;
    }
  }
  STOPGAP_RETURN_IF_ERROR(Record(alert, now, AlertDisposition::kResolved, exec, out));
  // The degradation ends: at Alertmanager's endsAt when it is a sane time,
  // else now. Counted in the cost of the executions it ends (remedy/cost.h).
  if (remedy::GroupLimitsLedger* role = remedy::GroupLimitsOf(ledger_)) {
    WallTime end = now;
    if (alert.ends_at != WallTime{} && alert.ends_at <= now && alert.ends_at >= alert.starts_at) {
      end = alert.ends_at;
    }
    auto ended = role->RecordResolve(alert.fingerprint, end);
    if (!ended.ok()) return ended.status();
  }
  metrics_.Add(kResolved);
  out->resolved.push_back({alert.fingerprint, exec});
  return Status::Ok();
}

Status AlertIntake::AcceptOne(const remedy::Alert& alert, IntakeResult* out) {
  const bool firing = alert.status == AlertStatus::kFiring;
  metrics_.Add(kReceived, {{"source", alert.source}, {"status", firing ? "firing" : "resolved"}});
  std::lock_guard<std::mutex> stripe(StripeFor(alert.fingerprint));
  WallTime now = clock_.Now();
  if (!firing) return AcceptResolved(alert, now, out);

  auto catalog = catalog_.Get();
  const remedy::Workaround* w = remedy::BestMatch(*catalog, alert);
  if (!w) {
    metrics_.Add(kUnmatched);
    out->unmatched.push_back(alert.fingerprint);
    return Record(alert, now, AlertDisposition::kUnmatched, std::nullopt, out);
  }

  auto inflight = ledger_.FindInFlightByFingerprint(alert.fingerprint);
  if (!inflight.ok()) return RecordLookupFailure(alert, now, inflight.status(), out);
  if (*inflight) return RecordDuplicate(alert, now, **inflight, "in-flight", out);

  // One firing instance acts once: a re-notification of an instance that
  // acted is a duplicate of its execution, whatever the cooldown says.
  auto last = ledger_.LastExecutionFor(w->id, alert.fingerprint);
  if (!last.ok()) return RecordLookupFailure(alert, now, last.status(), out);
  bool same_instance = false;
  if (*last) {
    std::optional<WallTime> resolved;
    if (alert.starts_at == WallTime{}) {
      auto r = ledger_.LastResolvedAt(alert.fingerprint);
      if (!r.ok()) return RecordLookupFailure(alert, now, r.status(), out);
      resolved = *r;
    }
    same_instance = remedy::SameInstance(**last, alert, resolved);
  }
  const remedy::FiringDecision d = remedy::DecideFiring(*w, *last, same_instance, now);
  switch (d.verdict) {
    case remedy::FiringVerdict::kDuplicate:
      return RecordDuplicate(alert, now, d.of, d.why, out);
    case remedy::FiringVerdict::kEscalate:
      STOPGAP_RETURN_IF_ERROR(RecordDuplicate(alert, now, d.of, d.why, out));
      engine_.NoteStillFiring(w->id, d.of);
      return Status::Ok();
    case remedy::FiringVerdict::kAct:
    case remedy::FiringVerdict::kRepeat:
      break;
  }
  // A new instance within the cooldown of the last run for this fingerprint
  // is recorded against that run (it has not acted; a later notification is
  // checked again).
  if (d.verdict == remedy::FiringVerdict::kAct && w->limits.cooldown > Duration{0} && *last &&
      (*last)->state != ExecutionState::kRefused) {
    WallTime ref = (*last)->finished_at.value_or((*last)->updated_at);
    if (engine_.Elapsed(ref) < w->limits.cooldown)  // monotonic when this process wrote ref
      return RecordDuplicate(alert, now, (*last)->id, "cooldown", out);
  }

  std::optional<ExecutionQueue::Slot> slot = queue_.Reserve();
  if (!slot) {
    metrics_.Add(kRejected, {{"source", alert.source}, {"reason", "queue-full"}});
    out->rejected.push_back(alert.fingerprint);
    return Record(alert, now, AlertDisposition::kRejected, std::nullopt, out, "queue full");
  }
  // A new execution refers to its alert: insert the alert first, then admit.
  STOPGAP_RETURN_IF_ERROR(Record(alert, now, AlertDisposition::kReceived, std::nullopt, out));
  const remedy::AlertId alert_id = out->alert_ids.back();
  auto admission = engine_.Begin(w->id, alert, alert.source, alert_id, d.attempt);
  if (!admission.ok() && admission.status().code() == StatusCode::kAlreadyExists) {
    // A shared ledger: another node claimed this firing window first (its
    // claim row won the unique key), or this refusal found the window's
    // refusal recorded already (a refusal claims its window too). The alert
    // is a duplicate of that execution, the newest of this workaround for
    // the fingerprint.
    auto claimed = ledger_.LastExecutionFor(w->id, alert.fingerprint);
    if (!claimed.ok()) return claimed.status();
    const remedy::ExecutionId of = *claimed ? (*claimed)->id : 0;
    const bool refused = *claimed && (*claimed)->state == ExecutionState::kRefused;
    metrics_.Add(kDeduplicated, {{"reason", "claimed"}});
    out->duplicates.push_back({alert.fingerprint, of, "claimed"});
    return ledger_.SetAlertDisposition(
        alert_id, AlertDisposition::kDuplicate,
        *claimed ? std::optional<remedy::ExecutionId>(of) : std::nullopt,
        refused ? "refused in this firing window already" : "claimed by another node");
  }
  if (!admission.ok()) {
    // Not acknowledged (503/500): the alert reads rejected with the reason,
    // not "received" for ever (best effort: a full disk may refuse this too).
    (void)ledger_.SetAlertDisposition(alert_id, AlertDisposition::kRejected, std::nullopt,
                                      "not admitted: " + admission.status().message());
    return admission.status();
  }
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
  return ledger_.SetAlertDisposition(alert_id, AlertDisposition::kMatched, admission->id);
}

}  // namespace stopgap::server
