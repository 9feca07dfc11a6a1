// tracker_driver: drives the real tracker adapters from shell integration tests
// (tests/tracker/redmine_integration.sh) against a real Redmine.
//
//   tracker_driver --kind redmine --url URL --token-file F get REF
//   tracker_driver ... upsert REF BODY [COMMENT_ID]     prints the comment id
//   tracker_driver ... comments REF                     prints "<n> <n with marker>"
//   tracker_driver ... add-comment REF BODY             prints the comment id
//
// Exit: 0 ok, 1 the call failed (message on stderr), 2 bad usage.
// Thread safety: single-threaded program.
#include <cstdio>
#include <string>
#include <vector>

#include "core/time.h"
#include "remedy/issue_ref.h"
#include "remedy/tracker/tracker.h"

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

}  // namespace

int main(int argc, char** argv) {
  tracker::TrackerConfig cfg;
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
    } else {
      rest.push_back(a);
    }
  }
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
