// TrackerSync's pure decisions.
#include "remedy/tracker/sync_state.h"

#include <algorithm>

namespace stopgap::remedy::tracker {

std::set<std::string> KnownIssues::Closed() const {
  std::set<std::string> out;
  for (const auto& [issue, st] : state)
    if (st == IssueState::kClosed) out.insert(issue);
  return out;
}

std::set<std::string> KnownIssues::Missing() const {
  std::set<std::string> out;
  for (const auto& [issue, st] : state)
    if (st == IssueState::kMissing) out.insert(issue);
  return out;
}

RefreshResult ApplyLookups(const KnownIssues& prev, const std::vector<IssueLookup>& lookups) {
  RefreshResult r;
  for (const IssueLookup& l : lookups) {
    auto old = prev.state.find(l.issue);
    std::optional<IssueState> was;
    if (old != prev.state.end()) was = old->second;
    std::optional<IssueState> now;
    switch (l.outcome) {
      case IssueLookup::Outcome::kOpen:
        now = IssueState::kOpen;
        break;
      case IssueLookup::Outcome::kClosed:
        now = IssueState::kClosed;
        break;
      case IssueLookup::Outcome::kMissing:
      case IssueLookup::Outcome::kWrongTracker:
        now = IssueState::kMissing;
        break;
      case IssueLookup::Outcome::kFailed:
        ++r.failures;
        now = was;  // the last known state stands
        break;
    }
    if (!now) continue;
    r.next.state[l.issue] = *now;
    if (*now == IssueState::kClosed && was != IssueState::kClosed) {
      r.newly_closed.push_back(l.issue);
    }
    if (was == IssueState::kClosed && *now == IssueState::kOpen) r.reopened.push_back(l.issue);
  }
  r.changed = r.next.Closed() != prev.Closed() || r.next.Missing() != prev.Missing();
  return r;
}

bool SummaryDue(std::optional<WallTime> last, WallTime now, Duration interval) {
  return !last || now - *last >= interval;
}

Duration RetryDelay(int attempts, Duration cap) {
  int shift = std::clamp(attempts - 1, 0, 16);
  Duration d = Duration(30'000) * (int64_t{1} << shift);
  return std::min(d, std::max(cap, Duration(30'000)));
}

}  // namespace stopgap::remedy::tracker
