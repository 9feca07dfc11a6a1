// The pure decisions of TrackerSync: what a round of issue lookups means for
// the retired / unknown-issue sets (a tracker that can't be reached changes
// nothing), when a debounced summary is due, and how long a failed outbox item
// waits. Kept apart from I/O so each rule has a unit test.
//
// Thread safety: pure functions and value types.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/time.h"

namespace stopgap::remedy::tracker {

enum class IssueState { kOpen, kClosed, kMissing };

// The outcome of one GetIssue for one catalog issue (IssueRef::text).
struct IssueLookup {
  enum class Outcome { kOpen, kClosed, kMissing, kWrongTracker, kFailed };
  std::string issue;
  Outcome outcome = Outcome::kFailed;
  std::string error;  // kFailed, kWrongTracker
};

struct KnownIssues {
  std::map<std::string, IssueState> state;  // issues never looked up are absent
  std::set<std::string> Closed() const;
  std::set<std::string> Missing() const;
  bool operator==(const KnownIssues&) const = default;
};

struct RefreshResult {
  KnownIssues next;
  std::vector<std::string> newly_closed;  // closed now and not known closed before
  std::vector<std::string> reopened;      // known closed before, open now
  int failures = 0;                       // lookups that failed (last state kept)
  bool changed = false;                   // Closed() or Missing() differ from before
};

// Applies one round of lookups (one per catalog issue). Issues not in `lookups`
// are forgotten (no longer in the catalog); a failed lookup keeps the previous
// state (none if never known); a reference for another tracker counts as
// missing (the workaround refuses with unknown-issue).
RefreshResult ApplyLookups(const KnownIssues& prev, const std::vector<IssueLookup>& lookups);

// Debounce: the first summary goes out at once, the next after `interval`.
bool SummaryDue(std::optional<WallTime> last_enqueued, WallTime now, Duration interval);

// Wait after the n-th failed attempt (n >= 1): 30 s doubling, at most `cap`.
Duration RetryDelay(int attempts, Duration cap);

}  // namespace stopgap::remedy::tracker
