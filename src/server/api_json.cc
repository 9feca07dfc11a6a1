// JSON rendering for the HTTP API.
//
// Thread safety: pure functions.
#include "server/api_json.h"

#include "core/strings.h"

namespace stopgap::server {

using nlohmann::json;

namespace {
json Time(const WallTime& t) {
  if (t == WallTime{}) return nullptr;
  return FormatRfc3339(t);
}

double Seconds(Duration d) { return std::chrono::duration<double>(d).count(); }

json Opt(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

json FiguresJson(const remedy::CostFigures& f) {
  json weekly = json::array();
  for (const remedy::WeekCost& w : f.weekly) {
    weekly.push_back(
        {{"week", w.week}, {"runs", w.runs}, {"degraded_seconds", w.degraded_seconds}});
  }
  return {{"runs", f.runs},
          {"acting_seconds", f.acting_seconds},
          {"degraded_seconds", f.degraded_seconds},
          {"median_resolve_seconds", Opt(f.median_resolve_seconds)},
          {"weekly", std::move(weekly)}};
}

json WorkaroundCostJson(const remedy::WorkaroundCost& c) {
  json j = {{"id", c.id}, {"issue", c.issue}, {"diagnosed", c.diagnosed}, {"mode", c.mode}};
  j.update(FiguresJson(c.figures));
  return j;
}
}  // namespace

json StepJson(const remedy::StepRecord& s) {
  json j = {{"phase", remedy::StepPhaseName(s.phase)},
            {"index", s.index},
            {"kind", s.kind},
            {"argv", s.argv},
            {"outcome", remedy::StepOutcomeName(s.outcome)},
            {"exit_code", s.exit_code ? json(*s.exit_code) : json(nullptr)},
            {"signal", s.signal},
            {"timed_out", s.timed_out},
            {"truncated", s.truncated},
            {"started_at", Time(s.started_at)},
            {"finished_at", Time(s.finished_at)},
            {"duration_ms", s.duration.count()},
            {"files", s.files}};
  if (!s.error.empty()) j["error"] = SanitizeUtf8(s.error);
  return j;
}

json ExecutionJson(const remedy::ExecutionRecord& e, bool with_steps) {
  json j = {{"id", e.id},
            {"workaround", e.workaround_id},
            {"issue", e.issue},
            {"fingerprint", e.fingerprint},
            {"source", e.source},
            {"by_token", e.token},
            {"labels", e.labels},
            {"state", remedy::ExecutionStateName(e.state)},
            {"created_at", Time(e.created_at)},
            {"updated_at", Time(e.updated_at)},
            {"finished_at", e.finished_at ? Time(*e.finished_at) : json(nullptr)},
            {"bundle_dir", e.bundle_dir},
            {"detail", SanitizeUtf8(e.detail)}};
  j["group"] = e.group;
  std::optional<Duration> degraded = e.Degraded();
  j["degraded_seconds"] = degraded ? json(Seconds(*degraded)) : json(nullptr);
  j["acting_seconds"] = Seconds(e.acting);
  if (e.alert_id) j["alert_id"] = *e.alert_id;
  if (!e.refusal_reason.empty()) j["refusal_reason"] = SanitizeUtf8(e.refusal_reason);
  j["mode"] = e.mode.empty() ? "auto" : e.mode;
  j["approval"] = nullptr;
  if (e.approval) {
    j["approval"] = {{"decision", remedy::ApprovalDecisionName(e.approval->decision)},
                     {"by", SanitizeUtf8(e.approval->by)},
                     {"comment", SanitizeUtf8(e.approval->comment)},
                     {"at", Time(e.approval->at)}};
  }
  if (e.state == remedy::ExecutionState::kAwaitingApproval && e.approval_deadline) {
    j["approval_deadline"] = Time(*e.approval_deadline);
  }
  if (with_steps) {
    json steps = json::array();
    for (const auto& s : e.steps) steps.push_back(StepJson(s));
    j["steps"] = std::move(steps);
    json tr = json::array();
    for (const auto& t : e.transitions) {
      tr.push_back({{"state", remedy::ExecutionStateName(t.state)},
                    {"at", Time(t.at)},
                    {"detail", SanitizeUtf8(t.detail)}});
    }
    j["transitions"] = std::move(tr);
  }
  return j;
}

json BreakerJson(const remedy::BreakerState& b) {
  json j = {{"tripped", b.tripped},
            {"reason", SanitizeUtf8(b.reason)},
            {"tripped_at", b.tripped_at ? Time(*b.tripped_at) : json(nullptr)},
            {"last_reset", nullptr}};
  if (b.last_reset) {
    j["last_reset"] = {{"by", SanitizeUtf8(b.last_reset->by)},
                       {"comment", SanitizeUtf8(b.last_reset->comment)},
                       {"at", Time(b.last_reset->at)}};
  }
  return j;
}

json WorkaroundJson(const remedy::Workaround& w, CivilDay today, const remedy::WorkaroundCounts* c,
                    const std::set<std::string>& closed_issues) {
  auto days = remedy::DaysLeft(w, today);
  json j = {{"id", w.id},
            {"issue", w.issue.text},
            {"cause", remedy::CauseName(w.cause)},
            {"diagnosed", w.diagnosed},
            {"root_cause", w.root_cause},
            {"description", w.description},
            {"expires", w.expires ? json(FormatCivilDay(*w.expires)) : json(nullptr)},
            {"days_left", days ? json(*days) : json(nullptr)},
            {"state", remedy::WorkaroundStateName(remedy::StateOf(w, today, closed_issues))},
            {"matches", w.match ? json(w.match->alertname) : json(nullptr)},
            {"runs_24h", c ? c->runs_24h : 0},
            {"runs_7d", c ? c->runs_7d : 0},
            {"runs_total", c ? c->runs_total : 0},
            {"refusals_total", c ? c->refusals_total : 0},
            {"mode", remedy::ModeName(w.mode)},
            {"approval_timeout", std::chrono::duration<double>(w.approval_timeout).count()}};
  if (c && c->last_execution_id) {
    j["last"] = {{"execution", *c->last_execution_id},
                 {"result", c->last_result},
                 {"at", c->last_at ? Time(*c->last_at) : json(nullptr)}};
    if (!c->last_refusal_reason.empty()) j["last"]["refusal_reason"] = c->last_refusal_reason;
  }
  return j;
}

json IssueCountsJson(const remedy::IssueCounts& c) {
  return {{"issue", c.issue},
          {"runs_24h", c.runs_24h},
          {"runs_7d", c.runs_7d},
          {"runs_total", c.runs_total},
          {"refusals_total", c.refusals_total},
          {"workarounds", c.workarounds}};
}

json DispositionJson(const remedy::AlertRecord& a, const remedy::ExecutionRecord* exec) {
  using remedy::AlertDisposition;
  json d = {{"kind", remedy::AlertDispositionName(a.disposition)},
            {"execution_id", nullptr},
            {"duplicate_of", nullptr},
            {"reason", a.reason.empty() ? json(nullptr) : json(SanitizeUtf8(a.reason))},
            {"group", exec ? json(exec->group) : json::object()}};
  switch (a.disposition) {
    case AlertDisposition::kDuplicate:
      d["duplicate_of"] = a.execution_id ? json(*a.execution_id) : json(nullptr);
      break;
    case AlertDisposition::kMatched:
      d["execution_id"] = a.execution_id ? json(*a.execution_id) : json(nullptr);
      d["kind"] = "ran";
      if (exec) {
        std::string_view state = remedy::ExecutionStateName(exec->state);
        d["state"] = state;
        if (exec->state == remedy::ExecutionState::kRefused) {
          d["kind"] = "refused";
          d["reason"] = SanitizeUtf8(exec->refusal_reason);
          d["detail"] = SanitizeUtf8(exec->detail);
        } else if (state == "awaiting-approval") {
          d["kind"] = "awaiting-approval";
        }
      }
      break;
    case AlertDisposition::kResolved:
      d["execution_id"] = a.execution_id ? json(*a.execution_id) : json(nullptr);
      break;
    default:
      break;
  }
  return d;
}

json CostJson(const remedy::CostReport& c) {
  json workarounds = json::array();
  for (const auto& w : c.workarounds) workarounds.push_back(WorkaroundCostJson(w));
  json issues = json::array();
  for (const auto& i : c.issues) {
    json j = {{"issue", i.issue}};
    j.update(FiguresJson(i.figures));
    issues.push_back(std::move(j));
  }
  json invest = json::array();
  for (const auto& w : c.invest) invest.push_back(WorkaroundCostJson(w));
  return {{"workarounds", std::move(workarounds)},
          {"issues", std::move(issues)},
          {"invest", std::move(invest)}};
}

json AlertJson(const remedy::AlertRecord& a, const remedy::ExecutionRecord* exec) {
  json labels = json::parse(a.labels_json, nullptr, false);
  if (labels.is_discarded()) labels = json::object();
  json annotations = json::parse(a.annotations_json, nullptr, false);
  if (annotations.is_discarded() || !annotations.is_object()) annotations = json::object();
  // Text read back from the ledger may hold invalid UTF-8 (a reason cut
  // mid-character by an older version): repaired here, or dumping the whole
  // list would throw and the route would fail for good.
  return {{"id", a.id},
          {"received_at", Time(a.received_at)},
          {"source", SanitizeUtf8(a.source)},
          {"by_token", a.token},
          {"fingerprint", SanitizeUtf8(a.fingerprint)},
          {"name", SanitizeUtf8(a.name)},
          {"status", SanitizeUtf8(a.status)},
          {"labels", labels},
          {"annotations", annotations},
          {"disposition", DispositionJson(a, exec)},
          {"execution", a.execution_id ? json(*a.execution_id) : json(nullptr)},
          {"reason", SanitizeUtf8(a.reason)}};
}

json IntakeJson(const IntakeResult& r) {
  json ids = json::array();
  json refused = json::array();
  json details = json::array();
  for (const auto& e : r.executions) {
    json d = {{"id", e.id},
              {"workaround", e.workaround},
              {"fingerprint", e.fingerprint},
              {"state", e.state}};
    if (e.state == "refused") {
      d["reason"] = e.reason;
      d["detail"] = e.detail;
      refused.push_back(d);
    }
    ids.push_back(e.id);
    details.push_back(std::move(d));
  }
  json dups = json::array();
  for (const auto& d : r.duplicates) {
    dups.push_back({{"fingerprint", d.fingerprint}, {"execution", d.execution}, {"why", d.why}});
  }
  json resolved = json::array();
  for (const auto& x : r.resolved) {
    resolved.push_back({{"fingerprint", x.fingerprint},
                        {"execution", x.execution ? json(*x.execution) : json(nullptr)}});
  }
  return {{"executions", ids},      {"execution_details", details}, {"refused", refused},
          {"duplicates", dups},     {"resolved", resolved},         {"unmatched", r.unmatched},
          {"rejected", r.rejected}, {"alerts", r.alert_ids.size()}, {"alert_ids", r.alert_ids}};
}

std::string ErrorBody(std::string_view message) {
  return json({{"error", message}}).dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace stopgap::server
