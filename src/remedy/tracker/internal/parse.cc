// Parsers of tracker API responses (pure; nlohmann::json in no-throw mode and
// type-checked accessors, so hostile input is an error value, never a throw).
#include "remedy/tracker/internal/parse.h"

#include <charconv>
#include <ctime>

#include <nlohmann/json.hpp>

namespace stopgap::remedy::tracker::internal {
namespace {

using nlohmann::json;

Result<json> ParseJson(std::string_view body, std::string_view what) {
  json j = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidArgument(std::string(what) + ": response is not JSON");
  return j;
}

const json* Field(const json& j, std::string_view key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  return it == j.end() ? nullptr : &*it;
}

std::string Str(const json& j, std::string_view key) {
  const json* f = Field(j, key);
  return f != nullptr && f->is_string() ? f->get<std::string>() : std::string();
}

// Ids come as numbers (GitHub, GitLab, Redmine) or strings (Jira).
std::string IdOf(const json& j, std::string_view key) {
  const json* f = Field(j, key);
  if (f == nullptr) return "";
  if (f->is_string()) return f->get<std::string>();
  if (f->is_number_unsigned()) return std::to_string(f->get<uint64_t>());
  if (f->is_number_integer()) return std::to_string(f->get<int64_t>());
  return "";
}

int64_t IntOf(const json& j, std::string_view key) {
  const json* f = Field(j, key);
  if (f == nullptr || !f->is_number_integer()) return 0;
  return f->get<int64_t>();
}

bool BoolOf(const json& j, std::string_view key) {
  const json* f = Field(j, key);
  return f != nullptr && f->is_boolean() && f->get<bool>();
}

Status NotAn(std::string_view what, std::string_view expected) {
  return InvalidArgument(std::string(what) + ": expected " + std::string(expected));
}

}  // namespace

Result<IssueInfo> ParseRedmineIssue(std::string_view body) {
  auto j = ParseJson(body, "redmine issue");
  if (!j.ok()) return j.status();
  const json* issue = Field(*j, "issue");
  if (issue == nullptr || !issue->is_object()) return NotAn("redmine issue", "{\"issue\": {...}}");
  IssueInfo info;
  info.exists = true;
  info.title = Str(*issue, "subject");
  const json* st = Field(*issue, "status");
  if (st == nullptr || !st->is_object()) return NotAn("redmine issue", "a status object");
  info.state = Str(*st, "name");
  if (const json* c = Field(*st, "is_closed"); c != nullptr && c->is_boolean()) {
    info.closed = c->get<bool>();
  } else {
    // Redmine < 5.0 has no is_closed: closed_on is set while the issue is closed.
    info.closed = !Str(*issue, "closed_on").empty();
  }
  return info;
}

Result<CommentPage> ParseRedmineJournals(std::string_view body) {
  auto j = ParseJson(body, "redmine journals");
  if (!j.ok()) return j.status();
  const json* issue = Field(*j, "issue");
  if (issue == nullptr) return NotAn("redmine journals", "{\"issue\": {...}}");
  CommentPage page;
  const json* journals = Field(*issue, "journals");
  if (journals == nullptr) return page;
  if (!journals->is_array()) return NotAn("redmine journals", "an array of journals");
  for (const json& e : *journals) {
    std::string notes = Str(e, "notes");
    if (notes.empty()) continue;
    page.comments.push_back({IdOf(e, "id"), std::move(notes)});
  }
  page.total = static_cast<int64_t>(page.comments.size());
  return page;
}

Result<IssueInfo> ParseGithubIssue(std::string_view body) {
  auto j = ParseJson(body, "github issue");
  if (!j.ok()) return j.status();
  if (!j->is_object()) return NotAn("github issue", "an object");
  IssueInfo info;
  info.exists = true;
  info.state = Str(*j, "state");
  if (info.state != "open" && info.state != "closed") {
    return NotAn("github issue", "state \"open\" or \"closed\"");
  }
  info.closed = info.state == "closed";
  info.title = Str(*j, "title");
  info.url = Str(*j, "html_url");
  if (const json* labels = Field(*j, "labels"); labels != nullptr && labels->is_array()) {
    for (const json& l : *labels) {
      if (l.is_string()) {
        info.labels.push_back(l.get<std::string>());
      } else {
        std::string name = Str(l, "name");
        if (!name.empty()) info.labels.push_back(std::move(name));
      }
    }
  }
  return info;
}

Result<CommentPage> ParseGithubComments(std::string_view body) {
  auto j = ParseJson(body, "github comments");
  if (!j.ok()) return j.status();
  if (!j->is_array()) return NotAn("github comments", "an array");
  CommentPage page;
  for (const json& c : *j) page.comments.push_back({IdOf(c, "id"), Str(c, "body")});
  return page;
}

Result<IssueInfo> ParseGitlabIssue(std::string_view body) {
  auto j = ParseJson(body, "gitlab issue");
  if (!j.ok()) return j.status();
  if (!j->is_object()) return NotAn("gitlab issue", "an object");
  IssueInfo info;
  info.exists = true;
  info.state = Str(*j, "state");
  if (info.state != "opened" && info.state != "closed" && info.state != "locked") {
    return NotAn("gitlab issue", "state \"opened\", \"closed\" or \"locked\"");
  }
  info.closed = info.state == "closed";
  info.title = Str(*j, "title");
  info.url = Str(*j, "web_url");
  if (const json* labels = Field(*j, "labels"); labels != nullptr && labels->is_array()) {
    for (const json& l : *labels) {
      if (l.is_string()) {
        info.labels.push_back(l.get<std::string>());
      } else {
        std::string name = Str(l, "name");  // with_labels_details=true
        if (!name.empty()) info.labels.push_back(std::move(name));
      }
    }
  }
  return info;
}

Result<CommentPage> ParseGitlabNotes(std::string_view body) {
  auto j = ParseJson(body, "gitlab notes");
  if (!j.ok()) return j.status();
  if (!j->is_array()) return NotAn("gitlab notes", "an array");
  CommentPage page;
  for (const json& n : *j) {
    if (BoolOf(n, "system")) continue;  // "changed the description", label events, ...
    page.comments.push_back({IdOf(n, "id"), Str(n, "body")});
  }
  return page;
}

Result<IssueInfo> ParseJiraIssue(std::string_view body) {
  auto j = ParseJson(body, "jira issue");
  if (!j.ok()) return j.status();
  const json* fields = Field(*j, "fields");
  if (fields == nullptr || !fields->is_object()) return NotAn("jira issue", "a fields object");
  IssueInfo info;
  info.exists = true;
  info.title = Str(*fields, "summary");
  const json* status = Field(*fields, "status");
  if (status == nullptr || !status->is_object()) return NotAn("jira issue", "fields.status");
  info.state = Str(*status, "name");
  const json* cat = Field(*status, "statusCategory");
  info.closed = cat != nullptr && Str(*cat, "key") == "done";
  if (const json* labels = Field(*fields, "labels"); labels != nullptr && labels->is_array()) {
    for (const json& l : *labels) {
      if (l.is_string()) info.labels.push_back(l.get<std::string>());
    }
  }
  return info;
}

Result<CommentPage> ParseJiraComments(std::string_view body) {
  auto j = ParseJson(body, "jira comments");
  if (!j.ok()) return j.status();
  const json* comments = Field(*j, "comments");
  if (comments == nullptr || !comments->is_array()) {
    return NotAn("jira comments", "{\"comments\": [...]}");
  }
  CommentPage page;
  for (const json& c : *comments) page.comments.push_back({IdOf(c, "id"), Str(c, "body")});
  page.start_at = IntOf(*j, "startAt");
  page.max_results = IntOf(*j, "maxResults");
  page.total = IntOf(*j, "total");
  return page;
}

Result<std::string> ParseCreatedId(std::string_view body) {
  auto j = ParseJson(body, "created object");
  if (!j.ok()) return j.status();
  std::string id = IdOf(*j, "id");
  if (id.empty()) return NotAn("created object", "an \"id\"");
  return id;
}

std::string ParseLinkNext(std::string_view link) {
  // <https://api.github.com/...&page=2>; rel="next", <...>; rel="last"
  size_t pos = 0;
  while (true) {
    size_t lt = link.find('<', pos);
    if (lt == std::string_view::npos) return "";
    size_t gt = link.find('>', lt);
    if (gt == std::string_view::npos) return "";
    size_t next_lt = link.find('<', gt);
    std::string_view params = link.substr(
        gt + 1, next_lt == std::string_view::npos ? std::string_view::npos : next_lt - gt - 1);
    if (params.find("rel=\"next\"") != std::string_view::npos ||
        params.find("rel=next") != std::string_view::npos) {
      return std::string(link.substr(lt + 1, gt - lt - 1));
    }
    if (next_lt == std::string_view::npos) return "";
    pos = next_lt;
  }
}

std::optional<int64_t> ParseCount(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  if (v.empty() || v.size() > 18) return std::nullopt;
  int64_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || p != v.data() + v.size() || n < 0) return std::nullopt;
  return n;
}

// Beyond this (2200-01-01) a time no longer fits system_clock's nanoseconds safely.
constexpr int64_t kMaxEpochSeconds = 7258118400;

std::optional<WallTime> ParseEpochSeconds(std::string_view value) {
  auto n = ParseCount(value);
  if (!n || *n > kMaxEpochSeconds) return std::nullopt;
  return WallTime(std::chrono::seconds(*n));
}

std::optional<WallTime> ParseRetryAfter(std::string_view value, WallTime now) {
  if (auto secs = ParseCount(value)) {
    // Cap absurd values at a day: the outbox retries anyway.
    int64_t s = std::min<int64_t>(*secs, 86400);
    return now + std::chrono::seconds(s);
  }
  // IMF-fixdate: "Wed, 21 Oct 2015 07:28:00 GMT".
  static constexpr std::string_view kMonths = "JanFebMarAprMayJunJulAugSepOctNovDec";
  if (value.size() != 29 || value.substr(25) != " GMT") return std::nullopt;
  auto num = [&](size_t at, size_t len) -> std::optional<int64_t> {
    return ParseCount(value.substr(at, len));
  };
  auto day = num(5, 2), year = num(12, 4), hh = num(17, 2), mm = num(20, 2), ss = num(23, 2);
  size_t mon = kMonths.find(value.substr(8, 3));
  if (!day || !year || !hh || !mm || !ss || mon == std::string_view::npos || mon % 3 != 0) {
    return std::nullopt;
  }
  if (*day < 1 || *day > 31 || *hh > 23 || *mm > 59 || *ss > 60 || *year < 1970 || *year >= 2200) {
    return std::nullopt;
  }
  CivilDay cd{static_cast<int>(*year), static_cast<int>(mon / 3 + 1), static_cast<int>(*day)};
  int64_t days = DaysSinceEpoch(cd);
  return WallTime(std::chrono::seconds(days * 86400 + *hh * 3600 + *mm * 60 + *ss));
}

}  // namespace stopgap::remedy::tracker::internal
