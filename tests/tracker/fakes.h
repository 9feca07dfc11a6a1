// In-memory fakes for TrackerSync tests: the two ledger roles TrackerSync
// uses (ExecutionQueries, TrackerOutbox) over executions and an outbox that
// outlive TrackerSync instances (like the SQLite file across restarts), and
// an IssueTracker with issues, comments, labels and an outage switch.
// Thread safety: internally locked (observer calls come from any thread).
#pragma once

#include <algorithm>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "remedy/ledger.h"
#include "remedy/tracker/tracker.h"

namespace stopgap::testing {

using namespace stopgap::remedy;

class FakeLedger final : public ExecutionQueries, public TrackerOutbox {
 public:
  // Records a finished execution (state succeeded/failed/refused).
  ExecutionId AddExecution(const std::string& wid, const std::string& issue, ExecutionState st,
                           WallTime at, std::string refusal = "", std::string bundle = "") {
    std::lock_guard<std::mutex> l(mu_);
    ExecutionRecord e;
    e.id = ++next_exec_;
    e.workaround_id = wid;
    e.issue = issue;
    e.state = st;
    e.refusal_reason = std::move(refusal);
    e.created_at = e.updated_at = at;
    e.finished_at = at;
    e.bundle_dir = std::move(bundle);
    execs_.push_back(e);
    return e.id;
  }
  std::vector<OutboxItem> outbox() const {
    std::lock_guard<std::mutex> l(mu_);
    return outbox_;
  }
  size_t pending() const {
    std::lock_guard<std::mutex> l(mu_);
    return std::count_if(outbox_.begin(), outbox_.end(),
                         [](const OutboxItem& i) { return !i.done_at; });
  }

  Result<std::vector<ExecutionRecord>> ListExecutions(const ExecutionFilter& f) override {
    std::lock_guard<std::mutex> l(mu_);
    std::vector<ExecutionRecord> out;
    for (auto it = execs_.rbegin(); it != execs_.rend(); ++it) {
      if (!f.workaround_id.empty() && it->workaround_id != f.workaround_id) continue;
      if (!f.issue.empty() && it->issue != f.issue) continue;
      out.push_back(*it);
      if (static_cast<int>(out.size()) == f.limit) break;
    }
    return out;
  }
  Result<ExecutionRecord> GetExecution(ExecutionId) override { return Unsupported(); }
  Result<std::vector<IssueCounts>> CountByIssue(WallTime) override { return Unsupported(); }
  Result<std::vector<WorkaroundCounts>> CountByWorkaround(WallTime now) override {
    std::lock_guard<std::mutex> l(mu_);
    std::map<std::string, WorkaroundCounts> m;
    for (const auto& e : execs_) {
      auto& c = m[e.workaround_id];
      c.workaround_id = e.workaround_id;
      c.issue = e.issue;
      if (e.state == ExecutionState::kRefused) {
        ++c.refusals_total;
        continue;
      }
      ++c.runs_total;
      if (e.created_at >= now - std::chrono::hours(24)) ++c.runs_24h;
      if (e.created_at >= now - std::chrono::hours(24 * 7)) ++c.runs_7d;
      c.last_at = e.created_at;
      c.last_result = std::string(ExecutionStateName(e.state));
    }
    std::vector<WorkaroundCounts> out;
    for (auto& [k, v] : m) out.push_back(v);
    return out;
  }

  Result<int64_t> Enqueue(const OutboxItem& item) override {
    std::lock_guard<std::mutex> l(mu_);
    OutboxItem i = item;
    i.id = ++next_outbox_;
    outbox_.push_back(i);
    return i.id;
  }
  Result<std::vector<OutboxItem>> ListDue(WallTime now, int limit) override {
    std::lock_guard<std::mutex> l(mu_);
    std::vector<OutboxItem> out;
    for (const auto& i : outbox_) {
      if (!i.done_at && i.next_attempt_at <= now) out.push_back(i);
      if (static_cast<int>(out.size()) == limit) break;
    }
    return out;
  }
  Status MarkDone(int64_t id, WallTime at) override {
    std::lock_guard<std::mutex> l(mu_);
    for (auto& i : outbox_)
      if (i.id == id) i.done_at = at;
    return Status::Ok();
  }
  Status MarkAttempt(int64_t id, WallTime next, std::string_view error) override {
    std::lock_guard<std::mutex> l(mu_);
    for (auto& i : outbox_) {
      if (i.id == id) {
        ++i.attempts;
        i.next_attempt_at = next;
        i.last_error = std::string(error);
      }
    }
    return Status::Ok();
  }

 private:
  static Status Unsupported() { return Internal("not used by TrackerSync"); }
  mutable std::mutex mu_;
  std::vector<ExecutionRecord> execs_;
  std::vector<OutboxItem> outbox_;
  int64_t next_exec_ = 0;
  int64_t next_outbox_ = 0;
};

class FakeTracker final : public remedy::tracker::IssueTracker {
 public:
  struct Issue {
    bool closed = false;
    std::vector<std::string> labels;
    std::vector<remedy::tracker::TrackerComment> comments;
  };
  std::map<std::string, Issue> issues;  // by IssueRef::text
  bool down = false;
  bool labels_supported = true;
  int gets = 0, creates = 0, edits = 0, label_calls = 0;

  std::string_view kind() const override { return "fake"; }
  Status Accepts(const IssueRef& ref) const override {
    return ref.kind == IssueRefKind::kJira ? InvalidArgument("fake takes no Jira keys")
                                           : Status::Ok();
  }
  Result<remedy::tracker::IssueInfo> GetIssue(const IssueRef& ref) override {
    STOPGAP_RETURN_IF_ERROR(Accepts(ref));
    ++gets;
    if (down) return Unavailable("fake tracker is down");
    remedy::tracker::IssueInfo info;
    auto it = issues.find(ref.text);
    if (it == issues.end()) return info;
    info.exists = true;
    info.closed = it->second.closed;
    info.labels = it->second.labels;
    return info;
  }
  Result<std::string> UpsertStopgapComment(const IssueRef& ref, std::string_view id,
                                           std::string_view body) override {
    if (down) return Unavailable("fake tracker is down");
    auto it = issues.find(ref.text);
    if (it == issues.end()) return NotFound("no issue " + ref.text);
    std::string full = std::string(body) + "\n" + std::string(remedy::tracker::kSummaryMarker);
    for (auto& c : it->second.comments) {
      if ((id.empty() || c.id == id) &&
          c.body.find(remedy::tracker::kSummaryMarker) != std::string::npos) {
        ++edits;
        c.body = full;
        return c.id;
      }
    }
    return Create(it->second, full);
  }
  Result<std::string> AddComment(const IssueRef& ref, std::string_view body) override {
    if (down) return Unavailable("fake tracker is down");
    auto it = issues.find(ref.text);
    if (it == issues.end()) return NotFound("no issue " + ref.text);
    return Create(it->second, std::string(body));
  }
  bool SupportsLabels() const override { return labels_supported; }
  Status SetLabels(const IssueRef& ref, const std::vector<std::string>& add,
                   const std::vector<std::string>& remove) override {
    if (down) return Unavailable("fake tracker is down");
    ++label_calls;
    auto& l = issues[ref.text].labels;
    for (const auto& a : add)
      if (std::find(l.begin(), l.end(), a) == l.end()) l.push_back(a);
    for (const auto& r : remove) std::erase(l, r);
    return Status::Ok();
  }
  Result<std::vector<remedy::tracker::TrackerComment>> ListComments(const IssueRef& ref) override {
    if (down) return Unavailable("fake tracker is down");
    auto it = issues.find(ref.text);
    if (it == issues.end()) return NotFound("no issue " + ref.text);
    return it->second.comments;
  }
  std::optional<WallTime> RateLimitedUntil() const override { return std::nullopt; }

  // Comments containing `text`.
  int Count(const std::string& issue, const std::string& text) {
    int n = 0;
    for (const auto& c : issues[issue].comments) n += c.body.find(text) != std::string::npos;
    return n;
  }

 private:
  Result<std::string> Create(Issue& issue, std::string body) {
    ++creates;
    std::string id = std::to_string(++next_id_);
    issue.comments.push_back({id, std::move(body)});
    return id;
  }
  int next_id_ = 0;
};

}  // namespace stopgap::testing
