// Firing instances: what a firing notification of an alert does, given what
// its workaround already did for the same alert. Alertmanager re-sends every
// firing alert of a group on each group update and every repeat_interval;
// one firing instance must act once, however often it is notified.
//
// An instance is the fingerprint plus Alertmanager's startsAt; for an alert
// without a start (generic alerts may omit `starts_at`), the span from the
// first firing to the next resolve of that fingerprint.
//
//   bool same = SameInstance(*last, alert, last_resolved_at);
//   FiringDecision d = DecideFiring(w, last, same, now);
//   switch (d.verdict) { case FiringVerdict::kAct: ... }
//
// Thread safety: pure functions.
#pragma once

#include <optional>
#include <string>

#include "core/time.h"
#include "remedy/alert.h"
#include "remedy/catalog.h"
#include "remedy/ledger.h"

namespace stopgap::remedy {

enum class FiringVerdict {
  kAct,        // a new instance, or one that has not acted yet: admit (limits apply)
  kDuplicate,  // the instance acted (or was refused for good): record, never act
  kEscalate,   // the instance's run failed and it still fires: record, tell a person
  kRepeat,     // the instance's run failed and `repeat:` allows another attempt
};
std::string_view FiringVerdictName(FiringVerdict v);  // "act", "duplicate", ...

struct FiringDecision {
  FiringVerdict verdict = FiringVerdict::kAct;
  ExecutionId of = 0;  // the instance's execution (duplicate, escalate, repeat)
  int attempt = 1;     // the attempt an admitted execution records
  std::string why;     // duplicates: "same-instance", "refused", "repeat-wait", "still-firing",
                       // "denied", "approval-expired", "rerun-pending"
};

// Whether `alert` belongs to the firing instance of `last` (an execution of
// the same workaround and fingerprint). With a start: the same startsAt.
// Without: no resolve of the fingerprint arrived since `last` was created.
bool SameInstance(const ExecutionRecord& last, const Alert& alert,
                  std::optional<WallTime> last_resolved_at);

// `last` is the newest execution of `w` for the alert's fingerprint (none:
// nothing ran yet), `same_instance` what SameInstance says of it.
//  - another instance, or none: act (attempt 1);
//  - refused for a passing reason (concurrency, cooldown, budget, breaker):
//    the instance has not acted; act again (same attempt number);
//  - refused for good (expired, retired, unknown-issue, unsafe-label):
//    duplicate: the next instance is checked afresh;
//  - still running or awaiting approval: duplicate; succeeded or observed:
//    duplicate; denied or approval-expired: duplicate (a person said no, or
//    nobody said yes: the next instance asks again);
//  - failed or interrupted: with `repeat:` and a failed attempt below
//    repeat.max, repeat once repeat.every has passed since it finished
//    (duplicate "repeat-wait" before); else escalate (an interrupted run is
//    never repeated by itself; one created with resume: rerun that is not
//    itself a rerun is a duplicate "rerun-pending": a node reruns it).
FiringDecision DecideFiring(const Workaround& w, const std::optional<ExecutionRecord>& last,
                            bool same_instance, WallTime now);

}  // namespace stopgap::remedy
