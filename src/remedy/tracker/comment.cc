// Comment bodies and wanted labels (pure).
#include "remedy/tracker/comment.h"

#include <algorithm>

namespace stopgap::remedy::tracker {
namespace {

std::string Plural(int64_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

// "2026-11-25 14:00 UTC"
std::string Minute(WallTime t) {
  std::string s = FormatRfc3339(t);  // 2026-11-25T14:00:00.000Z
  return s.substr(0, 10) + " " + s.substr(11, 5) + " UTC";
}

std::string TtlText(const WorkaroundSummary& w) {
  if (!w.expires) return "no expiry (" + w.cause + ")";
  std::string s = "expires " + FormatCivilDay(*w.expires);
  if (w.days_left) {
    if (*w.days_left > 0) {
      s += " (" + Plural(*w.days_left, "day", "days") + " left)";
    } else {
      s += " (expired)";
    }
  }
  return s;
}

std::string RunsLine(const WorkaroundSummary& w) {
  return Plural(w.runs_total, "run", "runs") + " in total (" + std::to_string(w.runs_7d) +
         " in the last 7 days, " + std::to_string(w.runs_24h) + " in the last 24 hours)";
}

}  // namespace

std::string SummaryBody(const IssueSummary& s) {
  std::string out = "stopgap: automated workarounds for " + s.issue + "\n\n";
  out +=
      "stopgap ran the workaround(s) below instead of a human. Each run papers over this issue; "
      "the counts are kept up to date here.\n";
  for (const WorkaroundSummary& w : s.workarounds) {
    out += "\nWorkaround " + w.id + " (" + w.cause + ", " +
           (w.diagnosed ? "diagnosed" : "undiagnosed") + "): " + w.state + ", " + TtlText(w) + "\n";
    out += "* runs: " + std::to_string(w.runs_24h) + " in 24 h, " + std::to_string(w.runs_7d) +
           " in 7 d, " + std::to_string(w.runs_total) + " in total\n";
    if (w.last_run_at) {
      out += "* last run: " + Minute(*w.last_run_at) +
             (w.last_result.empty() ? std::string() : ", " + w.last_result) + "\n";
    } else {
      out += "* last run: never\n";
    }
    out += "* failures in 7 d: " + std::to_string(w.failures_7d) + "\n";
    if (w.refusals_7d.empty()) {
      out += "* refusals in 7 d: none\n";
    } else {
      out += "* refusals in 7 d:";
      bool first = true;
      for (const auto& [reason, n] : w.refusals_7d) {
        out += (first ? " " : ", ") + reason + " " + std::to_string(n);
        first = false;
      }
      out += "\n";
    }
    if (!w.bundle_links.empty()) {
      out += "* last diagnostics bundles:";
      for (size_t i = 0; i < w.bundle_links.size(); ++i) {
        out += (i ? ", " : " ") + w.bundle_links[i];
      }
      out += "\n";
    }
  }
  out +=
      "\nUndiagnosed workarounds that run often are where root-cause work pays. This comment "
      "is edited in place at most every " +
      FormatDuration(s.update_interval) + ".\n";
  return out;
}

std::string EventMarker(std::string_view key) { return "stopgap:event:" + std::string(key); }
std::string RetiredEventKey(std::string_view id) { return "retired:" + std::string(id); }
std::string ExpiredEventKey(std::string_view id, CivilDay expires) {
  return "expired:" + std::string(id) + ":" + FormatCivilDay(expires);
}
std::string BudgetEventKey(std::string_view id, CivilDay day) {
  return "budget:" + std::string(id) + ":" + FormatCivilDay(day);
}

std::string StillFiringEventKey(std::string_view id, int64_t execution) {
  return "still-firing:" + std::string(id) + ":" + std::to_string(execution);
}

std::string BreakerEventKey(std::string_view id, int64_t tripped_at_ms) {
  return "breaker:" + std::string(id) + ":" + std::to_string(tripped_at_ms);
}

std::string RetirementBody(const WorkaroundSummary& w, std::string_view issue) {
  std::string out = "stopgap: workaround " + w.id + " has stopped. " + std::string(issue) +
                    " is closed, so the workaround is retired and will not run again.\n\n";
  out += "It ran " + RunsLine(w) + ".";
  if (w.last_run_at) out += " Last run: " + Minute(*w.last_run_at) + ", " + w.last_result + ".";
  out +=
      "\nIf the fault comes back, reopen this issue (the workaround resumes on the next "
      "refresh) and keep its root cause in view.\n\n" +
      EventMarker(RetiredEventKey(w.id)) + "\n";
  return out;
}

std::string ExpiredBody(const WorkaroundSummary& w, std::string_view issue) {
  std::string day = w.expires ? FormatCivilDay(*w.expires) : "?";
  std::string out = "stopgap: workaround " + w.id + " for " + std::string(issue) +
                    " reached its TTL (expired " + day +
                    ") and no longer runs: alerts it handled now need a human.\n\n";
  out += "It ran " + RunsLine(w) +
         ". Fix the root cause, or renew the workaround in the "
         "catalog with a new expiry if it must keep running" +
         std::string(w.diagnosed ? "." : " (it is still undiagnosed).") + "\n\n" +
         EventMarker(ExpiredEventKey(w.id, w.expires.value_or(CivilDay{}))) + "\n";
  return out;
}

std::string BudgetBody(const WorkaroundSummary& w, std::string_view issue, CivilDay day) {
  std::string out = "stopgap: workaround " + w.id + " for " + std::string(issue) +
                    " hit its run budget" + (w.budget.empty() ? "" : " (" + w.budget + ")") +
                    " on " + FormatCivilDay(day) +
                    " and refused to run: the fault recurs faster than the workaround may paper "
                    "over it, and needs a human.\n\n";
  out += "It ran " + RunsLine(w) + ".\n\n" + EventMarker(BudgetEventKey(w.id, day)) + "\n";
  return out;
}

std::string StillFiringBody(const WorkaroundSummary& w, std::string_view issue, int64_t execution) {
  std::string out = "stopgap: workaround " + w.id + " for " + std::string(issue) +
                    " failed (execution " + std::to_string(execution) +
                    ") and its alert is still firing. stopgap does not retry it (the workaround "
                    "has no repeat:), so the fault needs a human.\n\n";
  out +=
      "It ran " + RunsLine(w) + ".\n\n" + EventMarker(StillFiringEventKey(w.id, execution)) + "\n";
  return out;
}

std::string BreakerBody(const WorkaroundSummary& w, std::string_view issue, std::string_view reason,
                        int64_t tripped_at_ms) {
  const WallTime at = WallTime(std::chrono::milliseconds(tripped_at_ms));
  std::string out = "stopgap: the storm breaker tripped at " + Minute(at) + " on workaround " +
                    w.id + " for " + std::string(issue) + " (" + std::string(reason) +
                    "). No workaround runs until a person looks and resets it (stopgap reset, "
                    "or POST /api/v1/breaker/reset).\n\n";
  out +=
      "It ran " + RunsLine(w) + ".\n\n" + EventMarker(BreakerEventKey(w.id, tripped_at_ms)) + "\n";
  return out;
}

LabelChange WantedLabels(const IssueSummary& s) {
  bool undiagnosed = false, expired = false;
  for (const auto& w : s.workarounds) {
    if (!w.diagnosed && w.state != "retired") undiagnosed = true;
    if (w.state == "expired") expired = true;
  }
  LabelChange c;
  auto put = [&](bool want, std::string_view label) {
    (want ? c.add : c.remove).emplace_back(label);
  };
  // stopgap:workaround stays once set: the issue's history includes a bandaid.
  c.add.emplace_back(kLabelWorkaround);
  put(undiagnosed, kLabelUndiagnosed);
  put(expired, kLabelExpired);
  return c;
}

LabelChange LabelDelta(const LabelChange& wanted, const std::vector<std::string>& current) {
  auto has = [&](const std::string& l) {
    return std::find(current.begin(), current.end(), l) != current.end();
  };
  LabelChange d;
  for (const auto& l : wanted.add)
    if (!has(l)) d.add.push_back(l);
  for (const auto& l : wanted.remove)
    if (has(l)) d.remove.push_back(l);
  return d;
}

}  // namespace stopgap::remedy::tracker
