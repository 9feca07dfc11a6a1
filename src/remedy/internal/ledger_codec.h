// What the ledger backends share to store records: times as milliseconds
// since the epoch, label maps and string lists as JSON text.
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/time.h"
#include "remedy/ledger.h"

namespace stopgap::remedy::internal {

inline int64_t Ms(WallTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
inline WallTime FromMs(int64_t ms) { return WallTime(std::chrono::milliseconds(ms)); }

inline std::string MapJson(const std::map<std::string, std::string>& m) {
  using json = nlohmann::json;
  return json(m).dump(-1, ' ', false, json::error_handler_t::replace);
}

inline std::map<std::string, std::string> JsonMap(const std::string& s) {
  std::map<std::string, std::string> out;
  nlohmann::json j = nlohmann::json::parse(s, nullptr, false);
  if (!j.is_object()) return out;
  for (auto it = j.begin(); it != j.end(); ++it)
    if (it->is_string()) out[it.key()] = it->get<std::string>();
  return out;
}

// The values an aggregate query joined with '\n' (group_concat / string_agg
// of workaround ids), in order; "" gives none.
inline std::vector<std::string> SplitNewlines(const std::string& joined) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < joined.size()) {
    size_t nl = joined.find('\n', start);
    if (nl == std::string::npos) nl = joined.size();
    out.push_back(joined.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

inline std::string ListJson(const std::vector<std::string>& v) {
  using json = nlohmann::json;
  return json(v).dump(-1, ' ', false, json::error_handler_t::replace);
}

inline std::vector<std::string> JsonList(const std::string& s) {
  std::vector<std::string> out;
  nlohmann::json j = nlohmann::json::parse(s, nullptr, false);
  if (!j.is_array()) return out;
  for (const nlohmann::json& e : j)
    if (e.is_string()) out.push_back(e.get<std::string>());
  return out;
}

// The approval columns (approval_decision, _by, _comment, _at) as a record;
// none while undecided.
inline std::optional<ApprovalRecord> ApprovalFromColumns(const std::string& decision,
                                                         std::string by, std::string comment,
                                                         std::optional<int64_t> at) {
  for (ApprovalDecision d :
       {ApprovalDecision::kApproved, ApprovalDecision::kDenied, ApprovalDecision::kExpired}) {
    if (decision == ApprovalDecisionName(d)) {
      return ApprovalRecord{d, std::move(by), std::move(comment), FromMs(at.value_or(0))};
    }
  }
  return std::nullopt;
}

// Where a decision moves an execution awaiting approval, and the detail it
// records ("approved by ops: looks right").
inline ExecutionState StateAfter(ApprovalDecision d) {
  return d == ApprovalDecision::kApproved ? ExecutionState::kActing
         : d == ApprovalDecision::kDenied ? ExecutionState::kDenied
                                          : ExecutionState::kApprovalExpired;
}
inline std::string DecisionDetail(const ApprovalRecord& d) {
  return std::string(ApprovalDecisionName(d.decision)) + " by " + d.by +
         (d.comment.empty() ? "" : ": " + d.comment);
}

}  // namespace stopgap::remedy::internal
