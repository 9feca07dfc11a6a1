// Admission checks; see limits.h.
#include "remedy/internal/limits.h"

namespace stopgap::remedy::internal {
namespace {

std::string Ago(WallTime now, WallTime then) {
  auto d = std::chrono::duration_cast<Duration>(now - then);
  if (d.count() < 0) d = Duration(0);
  // Whole seconds read better than "3m12s345ms".
  return FormatDuration(std::chrono::duration_cast<std::chrono::seconds>(d)) + " ago";
}

// The per-workaround limit look-ups, narrowed to one group with group_by.
class GroupView {
 public:
  GroupView(const Workaround& w, const std::map<std::string, std::string>& group,
            LimitQueries& ledger)
      : w_(w), group_(group), ledger_(ledger), role_(GroupLimitsOf(ledger)) {}
  Status Usable() const {
    if (w_.limits.group_by.empty() || role_) return Status::Ok();
    return FailedPrecondition("workaround " + w_.id +
                              ": limits.group_by needs a ledger that counts per group");
  }
  bool grouped() const { return !w_.limits.group_by.empty(); }
  Result<int64_t> InFlight() {
    return grouped() ? role_->CountGroupInFlight(w_.id, group_) : ledger_.CountInFlight(w_.id);
  }
  Result<std::optional<WallTime>> LastRunAt() {
    return grouped() ? role_->GroupLastRunAt(w_.id, group_) : ledger_.LastRunAt(w_.id);
  }
  Result<int64_t> RunsSince(WallTime since) {
    return grouped() ? role_->CountGroupRunsSince(w_.id, group_, since)
                     : ledger_.CountRunsSince(w_.id, since);
  }
  // " for host=db1" with group_by, else "".
  std::string For() const { return grouped() ? " for " + GroupText(group_) : ""; }

 private:
  const Workaround& w_;
  const std::map<std::string, std::string>& group_;
  LimitQueries& ledger_;
  GroupLimitsLedger* role_;
};

Refusal Make(RefusalReason r, std::string detail) {
  Refusal out;
  out.reason = r;
  out.detail = std::move(detail);
  return out;
}

std::string JoinLabels(const std::vector<std::string>& labels) {
  std::string out;
  for (const std::string& l : labels) out += (out.empty() ? "" : ", ") + l;
  return out;
}

}  // namespace

Result<std::optional<Refusal>> CheckLimits(const Catalog& catalog, const Workaround& w,
                                           const LimitInputs& in, LimitQueries& ledger) {
  using R = std::optional<Refusal>;
  static const std::set<std::string> kNone;
  const std::set<std::string>& closed = in.closed ? *in.closed : kNone;
  const std::set<std::string>& unknown = in.unknown ? *in.unknown : kNone;

  WorkaroundState state = StateOf(w, in.today, {});
  if (state == WorkaroundState::kExpired) {
    return R(Make(RefusalReason::kExpired,
                  "expired on " + FormatCivilDay(*w.expires) + ": escalate to a human"));
  }
  if (closed.count(w.issue.text)) {
    return R(Make(RefusalReason::kRetired,
                  "issue " + w.issue.text + " is closed: the workaround has retired"));
  }
  if (unknown.count(w.issue.text)) {
    return R(Make(RefusalReason::kUnknownIssue,
                  "issue " + w.issue.text + " does not exist in the tracker"));
  }
  if (!in.label_status.ok()) {
    return R(Make(RefusalReason::kUnsafeLabel, in.label_status.message()));
  }
  if (in.breaker && in.breaker->tripped) {
    return R(Make(RefusalReason::kCircuitBreaker,
                  "storm breaker tripped" +
                      (in.breaker->tripped_at ? " at " + FormatRfc3339(*in.breaker->tripped_at)
                                              : std::string()) +
                      " (" + in.breaker->reason +
                      "); it stays tripped until a person resets it: stopgap reset, or POST "
                      "/api/v1/breaker/reset"));
  }

  GroupView g(w, in.group, ledger);
  STOPGAP_RETURN_IF_ERROR(g.Usable());
  Result<int64_t> in_flight = in.wait_when_busy ? Result<int64_t>(int64_t{0}) : g.InFlight();
  if (!in_flight.ok()) return in_flight.status();
  if (*in_flight >= w.limits.concurrency) {
    return R(Make(RefusalReason::kConcurrency,
                  std::to_string(*in_flight) + " execution(s) already in flight" + g.For() +
                      " (concurrency " + std::to_string(w.limits.concurrency) + ")"));
  }
  if (w.limits.cooldown.count() > 0 && !in.rerun) {
    Result<std::optional<WallTime>> last = g.LastRunAt();
    if (!last.ok()) return last.status();
    if (*last &&
        (in.elapsed ? in.elapsed(**last) : std::chrono::duration_cast<Duration>(in.now - **last)) <
            w.limits.cooldown) {
      return R(Make(RefusalReason::kCooldown, "cooldown " + FormatDuration(w.limits.cooldown) +
                                                  g.For() + ": last run " + Ago(in.now, **last)));
    }
  }
  if (w.limits.max_runs) {
    Result<int64_t> n = g.RunsSince(in.now - w.limits.max_runs->per);
    if (!n.ok()) return n.status();
    if (*n >= w.limits.max_runs->count) {
      return R(
          Make(RefusalReason::kBudget, std::to_string(*n) + " run(s)" + g.For() + " in the last " +
                                           FormatDuration(w.limits.max_runs->per) + " (max_runs " +
                                           std::to_string(w.limits.max_runs->count) + ")"));
    }
  }
  Result<int64_t> all = ledger.CountRunsSince("", in.now - std::chrono::hours(1));
  if (!all.ok()) return all.status();
  if (*all >= catalog.policy.max_runs_per_hour) {
    return R(Make(RefusalReason::kCircuitBreaker,
                  std::to_string(*all) + " run(s) of all workarounds in the last hour " +
                      "(policy.max_runs_per_hour " +
                      std::to_string(catalog.policy.max_runs_per_hour) + ")"));
  }
  return R();
}

std::string GroupText(const std::map<std::string, std::string>& group) {
  std::string out;
  for (const auto& [k, v] : group) {
    if (!out.empty()) out += ",";
    out += k + "=" + v;
  }
  return out;
}

Result<std::vector<std::string>> DescribeLimits(const Catalog& catalog, const Workaround& w,
                                                const std::map<std::string, std::string>& group,
                                                WallTime now, LimitQueries& ledger) {
  std::vector<std::string> out;
  GroupView g(w, group, ledger);
  STOPGAP_RETURN_IF_ERROR(g.Usable());
  Result<int64_t> in_flight = g.InFlight();
  if (!in_flight.ok()) return in_flight.status();
  out.push_back("concurrency " + std::to_string(w.limits.concurrency) +
                " (in flight now: " + std::to_string(*in_flight) + ")");
  Result<std::optional<WallTime>> last = g.LastRunAt();
  if (!last.ok()) return last.status();
  std::string last_text = *last ? Ago(now, **last) : "never";
  if (w.limits.cooldown.count() > 0) {
    out.push_back("cooldown " + FormatDuration(w.limits.cooldown) + " (last run: " + last_text +
                  ")");
  } else {
    out.push_back("cooldown none (last run: " + last_text + ")");
  }
  if (w.limits.max_runs) {
    Result<int64_t> n = g.RunsSince(now - w.limits.max_runs->per);
    if (!n.ok()) return n.status();
    out.push_back("max_runs " + std::to_string(w.limits.max_runs->count) + " per " +
                  FormatDuration(w.limits.max_runs->per) + " (used: " + std::to_string(*n) + ")");
  } else {
    out.push_back("max_runs none");
  }
  Result<int64_t> all = ledger.CountRunsSince("", now - std::chrono::hours(1));
  if (!all.ok()) return all.status();
  out.push_back("circuit breaker " + std::to_string(catalog.policy.max_runs_per_hour) +
                " runs/hour across all workarounds (last hour: " + std::to_string(*all) + ")");
  if (g.grouped()) {
    out.push_back("concurrency, cooldown and max_runs count per group of " +
                  JoinLabels(w.limits.group_by) + " (this alert: " + GroupText(group) + ")");
  }
  return out;
}

}  // namespace stopgap::remedy::internal
