// Firing instances: SameInstance and DecideFiring (pure). See firing.h.
#include "remedy/firing.h"

#include "remedy/engine.h"

namespace stopgap::remedy {

std::string_view FiringVerdictName(FiringVerdict v) {
  switch (v) {
    case FiringVerdict::kAct:
      return "act";
    case FiringVerdict::kDuplicate:
      return "duplicate";
    case FiringVerdict::kEscalate:
      return "escalate";
    case FiringVerdict::kRepeat:
      return "repeat";
  }
  return "?";
}

bool SameInstance(const ExecutionRecord& last, const Alert& alert,
                  std::optional<WallTime> last_resolved_at) {
  if (alert.starts_at != WallTime{}) {
    // The ledger keeps milliseconds; Alertmanager sends nanoseconds.
    auto ms = [](WallTime t) { return std::chrono::floor<std::chrono::milliseconds>(t); };
    return last.instance_start && ms(*last.instance_start) == ms(alert.starts_at);
  }
  return !last_resolved_at || last.created_at > *last_resolved_at;
}

FiringDecision DecideFiring(const Workaround& w, const std::optional<ExecutionRecord>& last,
                            bool same_instance, WallTime now) {
  FiringDecision d;
  if (!last || !same_instance) return d;
  const ExecutionRecord& e = *last;
  d.of = e.id;
  d.attempt = e.attempt;
  auto duplicate = [&](const char* why) {
    d.verdict = FiringVerdict::kDuplicate;
    d.why = why;
    return d;
  };
  switch (e.state) {
    case ExecutionState::kRefused: {
      Result<RefusalReason> r = ParseRefusalReason(e.refusal_reason);
      if (r.ok() && IsPassingRefusal(*r)) {
        d.verdict = FiringVerdict::kAct;
        return d;
      }
      return duplicate("refused");
    }
    case ExecutionState::kSucceeded:
    case ExecutionState::kObserved:
      return duplicate("same-instance");
    case ExecutionState::kDenied:
      return duplicate("denied");
    case ExecutionState::kApprovalExpired:
      return duplicate("approval-expired");
    case ExecutionState::kFailed:
      if (w.repeat && e.attempt < w.repeat->max) {
        const WallTime finished = e.finished_at.value_or(e.updated_at);
        if (now - finished < w.repeat->every) return duplicate("repeat-wait");
        d.verdict = FiringVerdict::kRepeat;
        d.attempt = e.attempt + 1;
        return d;
      }
      break;
    case ExecutionState::kInterrupted:
      // resume: rerun: a node will run it once more (RerunLedger); a rerun
      // that was itself interrupted escalates.
      if (e.resume == ResumeName(Resume::kRerun) && !e.rerun_of) return duplicate("rerun-pending");
      break;
    default:
      return duplicate("in-flight");
  }
  d.verdict = FiringVerdict::kEscalate;
  d.why = "still-firing";
  return d;
}

}  // namespace stopgap::remedy
