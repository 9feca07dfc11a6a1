// TrackerSync: refresh of issue states, debounced summaries and one-shot
// events queued in the ledger's outbox, and delivery of the outbox.
#include "remedy/tracker/sync.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "core/file.h"
#include "core/log.h"

namespace stopgap::remedy::tracker {
namespace {

using nlohmann::json;

constexpr std::string_view kKindSummary = "summary";
constexpr std::string_view kKindEvent = "event";
constexpr auto kWeek = std::chrono::hours(24 * 7);

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string_view StateName(IssueState s) {
  switch (s) {
    case IssueState::kOpen:
      return "open";
    case IssueState::kClosed:
      return "closed";
    case IssueState::kMissing:
      return "missing";
  }
  return "open";
}

std::vector<std::string> Strings(const json& j, const char* key) {
  std::vector<std::string> out;
  auto it = j.find(key);
  if (it == j.end() || !it->is_array()) return out;
  for (const auto& v : *it)
    if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}

// Errors after which retrying the same item can't help.
bool Permanent(const Status& st) {
  return st.code() == StatusCode::kNotFound || st.code() == StatusCode::kInvalidArgument;
}

// Errors that say the tracker as a whole is unusable right now.
bool TrackerDown(const Status& st) {
  return st.code() == StatusCode::kUnavailable || st.code() == StatusCode::kResourceExhausted ||
         st.code() == StatusCode::kPermissionDenied || st.code() == StatusCode::kDeadlineExceeded;
}

}  // namespace

TrackerSync::TrackerSync(std::shared_ptr<const Catalog> catalog, IssueTracker& tracker,
                         ExecutionQueries& executions, TrackerOutbox& outbox, const Clock& clock,
                         TrackerSyncOptions options)
    : tracker_(tracker),
      executions_(executions),
      outbox_(outbox),
      clock_(clock),
      options_(std::move(options)),
      catalog_(std::move(catalog)) {}

TrackerSync::~TrackerSync() { Stop(); }

void TrackerSync::SetCatalog(std::shared_ptr<const Catalog> catalog) {
  std::lock_guard<std::mutex> l(mu_);
  catalog_ = std::move(catalog);
  for (const auto& w : catalog_->workarounds) dirty_.insert(w.issue.text);
  force_refresh_ = true;
}

void TrackerSync::RequestRefresh() {
  std::lock_guard<std::mutex> l(mu_);
  force_refresh_ = true;
}

std::set<std::string> TrackerSync::ClosedIssues() const {
  std::lock_guard<std::mutex> l(mu_);
  return known_.Closed();
}

std::set<std::string> TrackerSync::UnknownIssues() const {
  std::lock_guard<std::mutex> l(mu_);
  return known_.Missing();
}

TrackerSyncStats TrackerSync::stats() const {
  std::lock_guard<std::mutex> l(mu_);
  return stats_;
}

void TrackerSync::OnRefused(ExecutionId, const Workaround& w, const Refusal& r) {
  std::lock_guard<std::mutex> l(mu_);
  dirty_.insert(w.issue.text);
  const CivilDay today = CivilDayOf(clock_.Now());
  if (r.reason == RefusalReason::kBudget) {
    pending_events_.push_back({w.issue.text, w.id, EventKind::kBudget, today});
  } else if (r.reason == RefusalReason::kExpired && w.expires) {
    pending_events_.push_back({w.issue.text, w.id, EventKind::kExpired, *w.expires});
  }
}

void TrackerSync::OnStillFiring(const Workaround& w, ExecutionId failed) {
  std::lock_guard<std::mutex> l(mu_);
  dirty_.insert(w.issue.text);
  pending_events_.push_back(
      {w.issue.text, w.id, EventKind::kStillFiring, CivilDayOf(clock_.Now()), failed});
}

void TrackerSync::OnBreakerTripped(const Workaround& w, const BreakerState& b) {
  std::lock_guard<std::mutex> l(mu_);
  dirty_.insert(w.issue.text);
  const WallTime at = b.tripped_at.value_or(clock_.Now());
  PendingEvent e{w.issue.text, w.id, EventKind::kBreaker, CivilDayOf(at)};
  e.execution =
      std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count();
  e.reason = b.reason;
  pending_events_.push_back(std::move(e));
}

void TrackerSync::OnExecutionFinished(const Workaround& w, const ExecutionOutcome&) {
  std::lock_guard<std::mutex> l(mu_);
  dirty_.insert(w.issue.text);
}

void TrackerSync::NoteError(const std::string& what, const Status& st) {
  Log(LogLevel::kWarn, "tracker." + what,
      {{"tracker", std::string(tracker_.kind())}, {"error", st.ToString()}});
  std::lock_guard<std::mutex> l(mu_);
  stats_.last_error = what + ": " + st.ToString();
}

// ---- state file ----------------------------------------------------------------

std::string DefaultStateFile(const Catalog& catalog) {
  if (catalog.ledger.kind != LedgerConfig::Kind::kSqlite || catalog.ledger.path.empty()) return "";
  return DirName(catalog.ledger.path) + "/tracker-state.json";
}

Result<KnownIssues> ReadTrackerState(const std::string& path) {
  auto text = ReadFile(path, 16 << 20);
  if (!text.ok()) return text.status();
  json j = json::parse(*text, nullptr, false);
  auto issues = j.is_object() ? j.find("issues") : j.end();
  if (j.is_discarded() || !j.is_object() || issues == j.end() || !issues->is_object()) {
    return DataLoss(path + ": not a tracker state file");
  }
  KnownIssues known;
  for (const auto& [issue, v] : issues->items()) {
    if (!v.is_string()) continue;
    std::string s = v.get<std::string>();
    if (s == "closed") known.state[issue] = IssueState::kClosed;
    if (s == "missing") known.state[issue] = IssueState::kMissing;
    if (s == "open") known.state[issue] = IssueState::kOpen;
  }
  return known;
}

void TrackerSync::LoadStateFile() {
  if (options_.state_file.empty()) return;
  auto known = ReadTrackerState(options_.state_file);
  if (!known.ok()) {
    if (known.status().code() != StatusCode::kNotFound) NoteError("state_file", known.status());
    return;
  }
  std::lock_guard<std::mutex> l(mu_);
  known_ = std::move(*known);
}

void TrackerSync::SaveStateFile(const KnownIssues& known) {
  if (options_.state_file.empty()) return;
  json j;
  j["version"] = 1;
  j["saved_at"] = FormatRfc3339(clock_.Now());
  j["issues"] = json::object();
  for (const auto& [issue, st] : known.state) j["issues"][issue] = std::string(StateName(st));
  Status st = WriteFileAtomic(options_.state_file, Dump(j) + "\n", 0600);
  if (!st.ok()) NoteError("state_file", st);
}

// ---- the loop --------------------------------------------------------------------

void TrackerSync::Tick() {
  std::lock_guard<std::mutex> tick(tick_mu_);
  const WallTime now = clock_.Now();
  std::shared_ptr<const Catalog> catalog;
  bool refresh = false;
  if (!started_) {
    LoadStateFile();
    started_ = true;
    std::set<std::string> closed, unknown;
    {
      std::lock_guard<std::mutex> l(mu_);
      for (const auto& w : catalog_->workarounds) dirty_.insert(w.issue.text);
      closed = known_.Closed();
      unknown = known_.Missing();
    }
    // The last known state stands until the tracker answers.
    if (options_.on_issue_states) options_.on_issue_states(closed, unknown);
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    catalog = catalog_;
    refresh = force_refresh_ || !next_refresh_ || now >= *next_refresh_;
    force_refresh_ = false;
  }
  if (!catalog) return;
  if (refresh) {
    Refresh(now, *catalog);
    Duration every = catalog->tracker ? catalog->tracker->refresh : Duration(300'000);
    next_refresh_ = now + std::max(every, Duration(1000));
  }
  if (options_.is_singleton && !options_.is_singleton()) return;
  QueueEvents(now, *catalog);
  QueueSummaries(now, *catalog);
  Drain(now, *catalog);
}

void TrackerSync::Start() {
  std::lock_guard<std::mutex> l(run_mu_);
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] {
    std::unique_lock<std::mutex> lk(run_mu_);
    while (!stop_) {
      lk.unlock();
      Tick();
      lk.lock();
      run_cv_.wait_for(lk, options_.tick_interval, [this] { return stop_; });
    }
  });
}

void TrackerSync::Stop() {
  {
    std::lock_guard<std::mutex> l(run_mu_);
    stop_ = true;
  }
  run_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

// ---- refresh ------------------------------------------------------------------------

void TrackerSync::Refresh(WallTime now, const Catalog& catalog) {
  std::map<std::string, const IssueRef*> issues;
  for (const auto& w : catalog.workarounds) issues.emplace(w.issue.text, &w.issue);
  std::vector<IssueLookup> lookups;
  int64_t failures = 0;
  Status down;  // once the tracker is unreachable, the rest of the round is skipped
  for (const auto& [text, ref] : issues) {
    IssueLookup l{text, IssueLookup::Outcome::kFailed, ""};
    if (!down.ok()) {
      ++failures;
      l.error = down.ToString();
      lookups.push_back(std::move(l));
      continue;
    }
    auto info = tracker_.GetIssue(*ref);
    if (info.ok()) {
      if (!info->exists) {
        l.outcome = IssueLookup::Outcome::kMissing;
      } else {
        l.outcome = info->closed ? IssueLookup::Outcome::kClosed : IssueLookup::Outcome::kOpen;
        labels_[text] = info->labels;
      }
    } else if (info.status().code() == StatusCode::kInvalidArgument) {
      l.outcome = IssueLookup::Outcome::kWrongTracker;
      l.error = info.status().message();
      Log(LogLevel::kError, "tracker.wrong_tracker", {{"issue", text}, {"error", l.error}});
    } else {
      ++failures;
      l.error = info.status().ToString();
      if (TrackerDown(info.status())) down = info.status();
      Log(LogLevel::kWarn, "tracker.lookup_failed",
          {{"tracker", std::string(tracker_.kind())}, {"issue", text}, {"error", l.error}});
    }
    lookups.push_back(std::move(l));
  }
  KnownIssues prev;
  {
    std::lock_guard<std::mutex> l(mu_);
    prev = known_;
  }
  RefreshResult r = ApplyLookups(prev, lookups);
  {
    std::lock_guard<std::mutex> l(mu_);
    known_ = r.next;
    ++stats_.refreshes;
    stats_.lookup_failures += failures;
    if (failures == 0) stats_.last_refresh = now;
    for (const auto& issue : r.newly_closed) dirty_.insert(issue);
    for (const auto& issue : r.reopened) dirty_.insert(issue);
    // Retirement notices: one per workaround of a newly closed issue.
    for (const auto& issue : r.newly_closed) {
      for (const auto& w : catalog.workarounds) {
        if (w.issue.text == issue) {
          pending_events_.push_back({issue, w.id, EventKind::kRetired, CivilDayOf(now)});
        }
      }
    }
    // TTL escalation for expired workarounds whose issue is still open.
    const CivilDay today = CivilDayOf(now);
    for (const auto& w : catalog.workarounds) {
      auto left = DaysLeft(w, today);
      if (left && *left <= 0 && w.expires && r.next.Closed().count(w.issue.text) == 0) {
        pending_events_.push_back({w.issue.text, w.id, EventKind::kExpired, *w.expires});
      }
    }
  }
  for (const auto& issue : r.newly_closed) {
    Log(LogLevel::kInfo, "tracker.issue_closed", {{"issue", issue}});
  }
  if (r.changed || prev.state.empty()) {
    if (options_.on_issue_states) options_.on_issue_states(r.next.Closed(), r.next.Missing());
  }
  if (!(r.next == prev)) SaveStateFile(r.next);
}

// ---- summaries and events -----------------------------------------------------------

Result<WorkaroundSummary> TrackerSync::Summarize(
    const Workaround& w, const Catalog& catalog, WallTime now,
    const std::map<std::string, WorkaroundCounts>& counts) {
  WorkaroundSummary s;
  s.id = w.id;
  s.cause = std::string(CauseName(w.cause));
  s.diagnosed = w.diagnosed;
  s.expires = w.expires;
  const CivilDay today = CivilDayOf(now);
  s.days_left = DaysLeft(w, today);
  s.state = std::string(WorkaroundStateName(StateOf(w, today, ClosedIssues())));
  if (w.limits.max_runs) {
    s.budget =
        std::to_string(w.limits.max_runs->count) + " per " + FormatDuration(w.limits.max_runs->per);
  }
  if (auto it = counts.find(w.id); it != counts.end()) {
    s.runs_24h = it->second.runs_24h;
    s.runs_7d = it->second.runs_7d;
    s.runs_total = it->second.runs_total;
  }
  ExecutionFilter f;
  f.workaround_id = w.id;
  f.limit = 500;
  auto execs = executions_.ListExecutions(f);
  if (!execs.ok()) return execs.status();
  for (const ExecutionRecord& e : *execs) {  // newest first
    const bool recent = e.created_at >= now - kWeek;
    if (e.state == ExecutionState::kRefused) {
      if (recent) ++s.refusals_7d[e.refusal_reason.empty() ? "other" : e.refusal_reason];
      continue;
    }
    if (!s.last_run_at) {
      s.last_run_at = e.finished_at.value_or(e.created_at);
      s.last_result = std::string(ExecutionStateName(e.state));
    }
    if (recent && (e.state == ExecutionState::kFailed || e.state == ExecutionState::kInterrupted)) {
      ++s.failures_7d;
    }
    if (!e.bundle_dir.empty() && s.bundle_links.size() < 3) {
      s.bundle_links.push_back(options_.bundle_link ? options_.bundle_link(e)
                                                    : "/api/v1/executions/" + std::to_string(e.id));
    }
  }
  (void)catalog;
  return s;
}

Status TrackerSync::EnqueueEvent(WallTime now, const std::string& issue, const std::string& key,
                                 const std::string& body) {
  OutboxItem item;
  item.issue = issue;
  item.kind = std::string(kKindEvent);
  item.payload_json = Dump(json{{"key", key}, {"body", body}});
  item.created_at = now;
  item.next_attempt_at = now;
  auto id = outbox_.Enqueue(item);
  if (!id.ok()) return id.status();
  queued_events_.insert(key);
  Log(LogLevel::kInfo, "tracker.event_queued", {{"issue", issue}, {"event", key}});
  return Status::Ok();
}

void TrackerSync::QueueEvents(WallTime now, const Catalog& catalog) {
  std::vector<PendingEvent> events;
  {
    std::lock_guard<std::mutex> l(mu_);
    events.swap(pending_events_);
  }
  if (events.empty()) return;
  auto counts_list = executions_.CountByWorkaround(now);
  std::map<std::string, WorkaroundCounts> counts;
  if (counts_list.ok()) {
    for (auto& c : *counts_list) counts[c.workaround_id] = c;
  }
  std::vector<PendingEvent> retry;
  for (const PendingEvent& e : events) {
    const Workaround* w = catalog.Find(e.workaround_id);
    std::string key, body;
    switch (e.kind) {
      case EventKind::kRetired:
        key = RetiredEventKey(e.workaround_id);
        break;
      case EventKind::kExpired:
        key = ExpiredEventKey(e.workaround_id, e.day);
        break;
      case EventKind::kBudget:
        key = BudgetEventKey(e.workaround_id, e.day);
        break;
      case EventKind::kStillFiring:
        key = StillFiringEventKey(e.workaround_id, e.execution);
        break;
      case EventKind::kBreaker:
        key = BreakerEventKey(e.workaround_id, e.execution);
        break;
    }
    if (queued_events_.count(key) || w == nullptr) continue;
    auto s = Summarize(*w, catalog, now, counts);
    if (!s.ok() || !counts_list.ok()) {
      NoteError("summarize", s.ok() ? counts_list.status() : s.status());
      retry.push_back(e);
      continue;
    }
    switch (e.kind) {
      case EventKind::kRetired:
        body = RetirementBody(*s, e.issue);
        break;
      case EventKind::kExpired:
        body = ExpiredBody(*s, e.issue);
        break;
      case EventKind::kBudget:
        body = BudgetBody(*s, e.issue, e.day);
        break;
      case EventKind::kStillFiring:
        body = StillFiringBody(*s, e.issue, e.execution);
        break;
      case EventKind::kBreaker:
        body = BreakerBody(*s, e.issue, e.reason, e.execution);
        break;
    }
    Status st = EnqueueEvent(now, e.issue, key, body);
    if (!st.ok()) {
      NoteError("enqueue", st);
      retry.push_back(e);
    }
  }
  if (!retry.empty()) {
    std::lock_guard<std::mutex> l(mu_);
    pending_events_.insert(pending_events_.end(), retry.begin(), retry.end());
  }
}

void TrackerSync::QueueSummaries(WallTime now, const Catalog& catalog) {
  const Duration interval =
      catalog.tracker ? catalog.tracker->update_interval : Duration(15 * 60'000);
  std::vector<std::string> due;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (const auto& issue : dirty_) {
      auto last = last_summary_.find(issue);
      if (SummaryDue(
              last == last_summary_.end() ? std::nullopt : std::optional<WallTime>(last->second),
              now, interval)) {
        due.push_back(issue);
      }
    }
  }
  if (due.empty()) return;
  auto counts_list = executions_.CountByWorkaround(now);
  if (!counts_list.ok()) return NoteError("summarize", counts_list.status());
  std::map<std::string, WorkaroundCounts> counts;
  for (auto& c : *counts_list) counts[c.workaround_id] = c;
  std::set<std::string> missing = UnknownIssues();
  for (const std::string& issue : due) {
    IssueSummary sum;
    sum.issue = issue;
    sum.update_interval = interval;
    bool failed = false;
    for (const auto& w : catalog.workarounds) {
      if (w.issue.text != issue) continue;
      auto s = Summarize(w, catalog, now, counts);
      if (!s.ok()) {
        NoteError("summarize", s.status());
        failed = true;
        break;
      }
      sum.workarounds.push_back(std::move(*s));
    }
    if (failed) continue;  // stays dirty: next Tick tries again
    bool activity = false;
    for (const auto& w : sum.workarounds) {
      activity |= w.runs_total > 0 || !w.refusals_7d.empty() || w.last_run_at.has_value();
    }
    std::string body = SummaryBody(sum);
    const bool unchanged = last_body_.count(issue) && last_body_[issue] == body;
    if (sum.workarounds.empty() || !activity || unchanged || missing.count(issue)) {
      std::lock_guard<std::mutex> l(mu_);
      dirty_.erase(issue);  // nothing (new) to say
      continue;
    }
    LabelChange labels = WantedLabels(sum);
    OutboxItem item;
    item.issue = issue;
    item.kind = std::string(kKindSummary);
    item.payload_json =
        Dump(json{{"body", body}, {"labels_add", labels.add}, {"labels_remove", labels.remove}});
    item.created_at = now;
    item.next_attempt_at = now;
    auto id = outbox_.Enqueue(item);
    if (!id.ok()) {
      NoteError("enqueue", id.status());
      continue;
    }
    last_body_[issue] = body;
    std::lock_guard<std::mutex> l(mu_);
    last_summary_[issue] = now;
    dirty_.erase(issue);
  }
}

// ---- delivery ------------------------------------------------------------------------

Status TrackerSync::Deliver(const OutboxItem& item) {
  auto ref = ParseIssueRef(item.issue);
  if (!ref.ok()) return ref.status();
  json p = json::parse(item.payload_json, nullptr, false);
  if (p.is_discarded() || !p.is_object() || !p.contains("body") || !p["body"].is_string()) {
    return InvalidArgument("outbox item " + std::to_string(item.id) + ": bad payload");
  }
  const std::string body = p["body"].get<std::string>();
  if (item.kind == kKindSummary) {
    auto id = tracker_.UpsertStopgapComment(*ref, comment_ids_[item.issue], body);
    if (!id.ok()) return id.status();
    comment_ids_[item.issue] = *id;
    if (tracker_.SupportsLabels()) {
      LabelChange wanted{Strings(p, "labels_add"), Strings(p, "labels_remove")};
      auto known = labels_.find(item.issue);
      LabelChange delta = known == labels_.end() ? wanted : LabelDelta(wanted, known->second);
      if (!delta.empty()) {
        STOPGAP_RETURN_IF_ERROR(tracker_.SetLabels(*ref, delta.add, delta.remove));
        auto& cur = labels_[item.issue];
        for (const auto& l : delta.add) cur.push_back(l);
        for (const auto& l : delta.remove) std::erase(cur, l);
      }
    }
    return Status::Ok();
  }
  if (item.kind == kKindEvent) {
    std::string key = p.value("key", "");
    if (key.empty()) return InvalidArgument("outbox event without a key");
    // Idempotent across restarts and several daemons: look for the event first.
    auto comments = tracker_.ListComments(*ref);
    if (!comments.ok()) return comments.status();
    const std::string marker = EventMarker(key);
    for (const auto& c : *comments) {
      if (c.body.find(marker) != std::string::npos) return Status::Ok();
    }
    return tracker_.AddComment(*ref, body).status();
  }
  return InvalidArgument("outbox item kind '" + item.kind + "' is not the tracker's");
}

void TrackerSync::Drain(WallTime now, const Catalog& catalog) {
  if (drain_paused_until_ && now < *drain_paused_until_) return;
  if (auto until = tracker_.RateLimitedUntil(); until && now < *until) return;
  auto items = outbox_.ListDue(now, options_.drain_batch);
  if (!items.ok()) return NoteError("outbox", items.status());
  // Only the newest summary of an issue is worth sending.
  std::map<std::string, int64_t> newest;
  for (const auto& it : *items) {
    if (it.kind == kKindSummary) newest[it.issue] = std::max(newest[it.issue], it.id);
  }
  const Duration cap = catalog.tracker ? catalog.tracker->update_interval : Duration(900'000);
  for (const OutboxItem& it : *items) {
    if (it.kind == kKindSummary && newest[it.issue] != it.id) {
      Status st = outbox_.MarkDone(it.id, now);
      if (!st.ok()) return NoteError("outbox", st);
      std::lock_guard<std::mutex> l(mu_);
      ++stats_.outbox_superseded;
      continue;
    }
    Status st = Deliver(it);
    if (st.ok() || Permanent(st)) {
      if (!st.ok()) {
        Log(LogLevel::kError, "tracker.update_dropped",
            {{"issue", it.issue}, {"kind", it.kind}, {"error", st.ToString()}});
      }
      Status done = outbox_.MarkDone(it.id, now);
      if (!done.ok()) return NoteError("outbox", done);
      drain_failures_in_a_row_ = 0;
      std::lock_guard<std::mutex> l(mu_);
      ++(st.ok() ? stats_.outbox_sent : stats_.outbox_dropped);
      if (!st.ok()) stats_.last_error = "dropped update for " + it.issue + ": " + st.ToString();
      continue;
    }
    WallTime next = now + RetryDelay(it.attempts + 1, cap);
    if (auto until = tracker_.RateLimitedUntil(); until && *until > next) next = *until;
    Status marked = outbox_.MarkAttempt(it.id, next, st.ToString());
    NoteError("update_failed", st);
    {
      std::lock_guard<std::mutex> l(mu_);
      ++stats_.outbox_failures;
    }
    if (!marked.ok()) return NoteError("outbox", marked);
    if (TrackerDown(st)) {
      // Don't hammer a tracker that is down: pause the whole outbox.
      ++drain_failures_in_a_row_;
      drain_paused_until_ = now + RetryDelay(drain_failures_in_a_row_, cap);
      if (auto until = tracker_.RateLimitedUntil(); until && *until > *drain_paused_until_) {
        drain_paused_until_ = until;
      }
      return;
    }
  }
}

}  // namespace stopgap::remedy::tracker
