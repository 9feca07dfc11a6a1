// Parsing of issue references (pure).
#include "remedy/issue_ref.h"

#include <cctype>
#include <charconv>

namespace stopgap::remedy {
namespace {

bool ParseNumber(std::string_view s, uint64_t* out) {
  if (s.empty() || s.size() > 18) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && *out > 0;
}

bool IsRepoChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
}

// "owner/repo" or "group/sub/repo": segments of [A-Za-z0-9._-], no empty one.
bool IsRepoPath(std::string_view s) {
  if (s.find('/') == std::string_view::npos) return false;
  size_t seg = 0;
  for (char c : s) {
    if (c == '/') {
      if (seg == 0) return false;
      seg = 0;
    } else if (IsRepoChar(c)) {
      ++seg;
    } else {
      return false;
    }
  }
  return seg > 0;
}

bool IsJiraKey(std::string_view s) {
  if (s.empty() || !std::isupper(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s) {
    if (!std::isupper(static_cast<unsigned char>(c)) &&
        !std::isdigit(static_cast<unsigned char>(c)) && c != '_') {
      return false;
    }
  }
  return true;
}

Status Bad(std::string_view text) {
  return InvalidArgument("'" + std::string(text) +
                         "' is not an issue reference: use owner/repo#N (GitHub, GitLab), "
                         "KEY-N (Jira), #N (Redmine) or an http(s) URL of the issue");
}

}  // namespace

Result<IssueRef> ParseIssueRef(std::string_view text) {
  IssueRef ref;
  ref.text = std::string(text);
  if (text.empty()) return InvalidArgument("empty issue reference");
  if (text.starts_with("http://") || text.starts_with("https://")) {
    std::string_view rest = text.substr(text.find("//") + 2);
    size_t slash = rest.find('/');
    std::string_view host = rest.substr(0, slash);
    if (host.empty() || host.find_first_of(" \t\"<>") != std::string_view::npos) return Bad(text);
    ref.kind = IssueRefKind::kUrl;
    ref.url = std::string(text);
    ref.url_host = std::string(host.substr(0, host.find(':')));
    std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash);
    // The issue number is the last path segment when numeric, or KEY-N after /browse/.
    size_t last = path.find_last_of('/');
    if (last != std::string_view::npos) {
      std::string_view tail = path.substr(last + 1);
      tail = tail.substr(0, tail.find_first_of("?#"));
      uint64_t n = 0;
      size_t dash = tail.rfind('-');
      if (ParseNumber(tail, &n)) {
        ref.number = n;
      } else if (dash != std::string_view::npos && IsJiraKey(tail.substr(0, dash)) &&
                 ParseNumber(tail.substr(dash + 1), &n)) {
        ref.project = std::string(tail.substr(0, dash));
        ref.number = n;
      }
    }
    return ref;
  }
  if (text[0] == '#') {
    if (!ParseNumber(text.substr(1), &ref.number)) return Bad(text);
    ref.kind = IssueRefKind::kRedmine;
    return ref;
  }
  size_t hash = text.rfind('#');
  if (hash != std::string_view::npos) {
    if (!IsRepoPath(text.substr(0, hash)) || !ParseNumber(text.substr(hash + 1), &ref.number)) {
      return Bad(text);
    }
    ref.kind = IssueRefKind::kRepo;
    ref.project = std::string(text.substr(0, hash));
    return ref;
  }
  size_t dash = text.rfind('-');
  if (dash != std::string_view::npos && IsJiraKey(text.substr(0, dash)) &&
      ParseNumber(text.substr(dash + 1), &ref.number)) {
    ref.kind = IssueRefKind::kJira;
    ref.project = std::string(text.substr(0, dash));
    return ref;
  }
  return Bad(text);
}

std::string IssueRef::Slug() const {
  std::string raw;
  switch (kind) {
    case IssueRefKind::kRepo:
      raw = project + "-" + std::to_string(number);
      break;
    case IssueRefKind::kJira:
      raw = project + "-" + std::to_string(number);
      break;
    case IssueRefKind::kRedmine:
      raw = "redmine-" + std::to_string(number);
      break;
    case IssueRefKind::kUrl:
      raw = url_host + "-" + (number ? std::to_string(number) : std::string("issue"));
      break;
  }
  std::string out;
  for (char c : raw) {
    out.push_back(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ? c : '-');
  }
  return out;
}

}  // namespace stopgap::remedy
