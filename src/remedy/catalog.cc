// Catalog value helpers and the catalog state functions.
#include "remedy/catalog.h"

namespace stopgap::remedy {

std::string_view StepKindName(StepKind kind) {
  switch (kind) {
    case StepKind::kRun:
      return "run";
    case StepKind::kCollect:
      return "collect";
    case StepKind::kGuru:
      return "guru";
  }
  return "?";
}

std::string_view CauseName(Cause cause) {
  switch (cause) {
    case Cause::kInHouse:
      return "in-house";
    case Cause::kVendor:
      return "vendor";
    case Cause::kHardware:
      return "hardware";
  }
  return "?";
}

std::string_view OnBusyName(OnBusy b) {
  switch (b) {
    case OnBusy::kQueue:
      return "queue";
    case OnBusy::kRefuse:
      return "refuse";
  }
  return "?";
}

std::string_view ModeName(Mode m) {
  switch (m) {
    case Mode::kAuto:
      return "auto";
    case Mode::kObserve:
      return "observe";
    case Mode::kApprove:
      return "approve";
  }
  return "?";
}

std::string_view ResumeName(Resume r) { return r == Resume::kRerun ? "rerun" : "escalate"; }

std::string_view WorkaroundStateName(WorkaroundState state) {
  switch (state) {
    case WorkaroundState::kActive:
      return "active";
    case WorkaroundState::kExpiring:
      return "expiring";
    case WorkaroundState::kExpired:
      return "expired";
    case WorkaroundState::kRetired:
      return "retired";
  }
  return "?";
}

std::string Step::Describe() const {
  std::string out(StepKindName(kind()));
  out += ":";
  if (const auto* r = std::get_if<RunStep>(&body)) {
    for (const std::string& a : r->argv) out += " " + a;
  } else if (const auto* c = std::get_if<CollectStep>(&body)) {
    for (size_t i = 0; i < c->collectors.size(); ++i) out += (i ? ", " : " ") + c->collectors[i];
    if (c->pid) out += " pid=" + std::to_string(*c->pid);
    if (!c->pidfile.empty()) out += " pidfile=" + c->pidfile;
    if (c->stacks) out += " stacks";
  } else if (const auto* g = std::get_if<GuruStep>(&body)) {
    if (g->pid) out += " pid=" + std::to_string(*g->pid);
    if (!g->pidfile.empty()) out += " pidfile=" + g->pidfile;
    out += " signal=" + g->signal;
    if (!g->report_glob.empty()) out += " report=" + g->report_glob;
  }
  return out;
}

const Workaround* Catalog::Find(std::string_view id) const {
  for (const Workaround& w : workarounds)
    if (w.id == id) return &w;
  return nullptr;
}

std::string Violation::ToString() const {
  std::string out = file + ":" + std::to_string(line) + ": " +
                    (severity == Severity::kError ? "error" : "warning") + ": ";
  if (!workaround_id.empty()) out += "workaround '" + workaround_id + "': ";
  if (!field.empty()) out += field + ": ";
  out += message;
  if (!rule.empty()) out += " [" + rule + "]";
  return out;
}

std::map<std::string, std::string> GroupOf(const Limits& limits,
                                           const std::map<std::string, std::string>& labels) {
  std::map<std::string, std::string> out;
  for (const std::string& name : limits.group_by) {
    auto it = labels.find(name);
    out[name] = it == labels.end() ? "" : it->second;
  }
  return out;
}

std::optional<int64_t> DaysLeft(const Workaround& w, CivilDay today) {
  if (!w.expires) return std::nullopt;
  return DaysSinceEpoch(*w.expires) - DaysSinceEpoch(today);
}

WorkaroundState StateOf(const Workaround& w, CivilDay today,
                        const std::set<std::string>& closed_issues) {
  if (closed_issues.count(w.issue.text)) return WorkaroundState::kRetired;
  std::optional<int64_t> left = DaysLeft(w, today);
  if (!left) return WorkaroundState::kActive;
  if (*left <= 0) return WorkaroundState::kExpired;
  if (*left <= kExpiringWithinDays) return WorkaroundState::kExpiring;
  return WorkaroundState::kActive;
}

}  // namespace stopgap::remedy
