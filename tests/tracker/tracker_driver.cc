// tracker_driver: drives the real tracker adapters from shell integration tests
// (tests/tracker/redmine_integration.sh) against a real Redmine.
//
//   tracker_driver --kind redmine --url URL --token-file F get REF
//   tracker_driver ... upsert REF BODY [COMMENT_ID]     prints the comment id
//   tracker_driver ... comments REF                     prints "<n> <n with marker>"
//   tracker_driver ... add-comment REF BODY             prints the comment id
//
// Catalog-driven (a real SQLite ledger; each invocation is one daemon
// lifetime, so consecutive calls also exercise restarts):
//   tracker_driver --catalog F --ledger DB [--state FILE] [--advance 20m]
//                  sync [--ticks N] [--step 1m]   TrackerSync ticks; prints
//                  "closed=A,B unknown=C pending=N sent=N failures=N"
//   tracker_driver --catalog F --ledger DB record WORKAROUND STATE [REASON]
//   tracker_driver --catalog F verify             VerifyIssues, as `check` does
//
// Exit: 0 ok, 1 the call failed (message on stderr), 2 bad usage.
// Thread safety: single-threaded program.
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include "core/time.h"
#include "remedy/catalog.h"
#include "remedy/issue_ref.h"
#include "remedy/ledger.h"
#include "remedy/tracker/sync.h"
#include "remedy/tracker/tracker.h"
#include "remedy/tracker/verify.h"

using namespace stopgap;
using namespace stopgap::remedy;

namespace {

int Usage() {
  std::fprintf(stderr,
               "usage: tracker_driver --kind K --url U --token-file F "
               "(get REF | upsert REF BODY [ID] | comments REF | add-comment REF BODY)\n");
  return 2;
}

int Fail(const Status& s) {
  std::fprintf(stderr, "tracker_driver: %s\n", s.ToString().c_str());
  return 1;
}

std::string Join(const std::set<std::string>& s) {
  std::string out;
  for (const auto& x : s) out += (out.empty() ? "" : ",") + x;
  return out.empty() ? "-" : out;
}

struct CatalogArgs {
  std::string catalog, ledger, state;
  Duration advance{0};
  int ticks = 1;
  Duration step{0};
};

int CatalogMain(const CatalogArgs& a, const std::vector<std::string>& rest) {
  ManualClock clock(SystemClock::Instance().Now() + a.advance);
  std::vector<Violation> violations;
  auto cat = LoadCatalog(a.catalog, CivilDayOf(clock.Now()), &violations);
  if (!cat.ok()) {
    for (const auto& v : violations) std::fprintf(stderr, "%s\n", v.ToString().c_str());
    return Fail(cat.status());
  }
  auto catalog = std::make_shared<const Catalog>(std::move(*cat));
  if (rest[0] == "verify") {
    std::vector<Violation> found;
    Status st = tracker::VerifyCatalogIssues(*catalog, clock, &found);
    int errors = 0;
    for (const auto& v : found) {
      std::printf("%s\n", v.ToString().c_str());
      errors += v.severity == Severity::kError;
    }
    if (!st.ok()) return Fail(st);
    return errors ? 1 : 0;
  }
  auto ledger = OpenSqliteLedger(a.ledger, clock);
  if (!ledger.ok()) return Fail(ledger.status());
  if (rest[0] == "record" && rest.size() >= 3) {
    const Workaround* w = catalog->Find(rest[1]);
    if (w == nullptr) return Fail(NotFound("no workaround " + rest[1]));
    auto state = ParseExecutionState(rest[2]);
    if (!state.ok()) return Fail(state.status());
    NewExecution e;
    e.workaround_id = w->id;
    e.issue = w->issue.text;
    e.source = "manual";
    e.at = clock.Now();
    e.state =
        *state == ExecutionState::kRefused ? ExecutionState::kRefused : ExecutionState::kMatched;
    if (rest.size() > 3) e.refusal_reason = rest[3];
    auto id = (*ledger)->CreateExecution(e);
    if (!id.ok()) return Fail(id.status());
    if (*state != ExecutionState::kRefused) {
      ExecutionUpdate u;
      u.state = *state;
      u.at = clock.Now();
      Status st = (*ledger)->Update(*id, u);
      if (!st.ok()) return Fail(st);
    }
    std::printf("%lld\n", static_cast<long long>(*id));
    return 0;
  }
  if (rest[0] != "sync" || !catalog->tracker) return Usage();
  auto t = tracker::NewIssueTracker(*catalog->tracker, clock);
  if (!t.ok()) return Fail(t.status());
  std::set<std::string> closed, unknown;
  tracker::TrackerSyncOptions o;
  o.state_file = a.state;
  o.on_issue_states = [&](const std::set<std::string>& c, const std::set<std::string>& u) {
    closed = c;
    unknown = u;
  };
  tracker::TrackerSync sync(catalog, **t, **ledger, **ledger, clock, o);
  for (int i = 0; i < a.ticks; ++i) {
    if (i) clock.Advance(a.step);
    sync.Tick();
  }
  auto due = (*ledger)->ListDue(clock.Now() + std::chrono::hours(24 * 365), 10000);
  if (!due.ok()) return Fail(due.status());
  auto st = sync.stats();
  std::printf("closed=%s unknown=%s pending=%zu sent=%lld failures=%lld\n", Join(closed).c_str(),
              Join(unknown).c_str(), due->size(), static_cast<long long>(st.outbox_sent),
              static_cast<long long>(st.outbox_failures + st.lookup_failures));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  tracker::TrackerConfig cfg;
  CatalogArgs ca;
  std::vector<std::string> rest;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--kind") {
      cfg.kind = next();
    } else if (a == "--url") {
      cfg.url = next();
    } else if (a == "--token-file") {
      cfg.token_file = next();
    } else if (a == "--project") {
      cfg.project = next();
    } else if (a == "--catalog") {
      ca.catalog = next();
    } else if (a == "--ledger") {
      ca.ledger = next();
    } else if (a == "--state") {
      ca.state = next();
    } else if (a == "--advance" || a == "--step") {
      auto d = ParseDuration(next());
      if (!d.ok()) return Usage();
      (a == "--advance" ? ca.advance : ca.step) = *d;
    } else if (a == "--ticks") {
      ca.ticks = std::atoi(next().c_str());
    } else {
      rest.push_back(a);
    }
  }
  if (!ca.catalog.empty() && !rest.empty()) return CatalogMain(ca, rest);
  if (rest.size() < 2) return Usage();
  auto ref = ParseIssueRef(rest[1]);
  if (!ref.ok()) return Fail(ref.status());
  auto t = tracker::NewIssueTracker(cfg, SystemClock::Instance());
  if (!t.ok()) return Fail(t.status());
  tracker::IssueTracker& tr = **t;
  const std::string& verb = rest[0];
  if (verb == "get") {
    auto info = tr.GetIssue(*ref);
    if (!info.ok()) return Fail(info.status());
    std::printf("exists=%d closed=%d state=%s title=%s\n", info->exists, info->closed,
                info->state.c_str(), info->title.c_str());
    return 0;
  }
  if (verb == "upsert" && (rest.size() == 3 || rest.size() == 4)) {
    auto id = tr.UpsertStopgapComment(*ref, rest.size() == 4 ? rest[3] : "", rest[2]);
    if (!id.ok()) return Fail(id.status());
    std::printf("%s\n", id->c_str());
    return 0;
  }
  if (verb == "add-comment" && rest.size() == 3) {
    auto id = tr.AddComment(*ref, rest[2]);
    if (!id.ok()) return Fail(id.status());
    std::printf("%s\n", id->c_str());
    return 0;
  }
  if (verb == "comments") {
    auto cs = tr.ListComments(*ref);
    if (!cs.ok()) return Fail(cs.status());
    size_t marked = 0;
    for (const auto& c : *cs) marked += c.body.find(tracker::kSummaryMarker) != std::string::npos;
    std::printf("%zu %zu\n", cs->size(), marked);
    return 0;
  }
  return Usage();
}
