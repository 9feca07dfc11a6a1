// Reference → issue resolution per tracker (pure).
#include "remedy/tracker/internal/refs.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <vector>

#include "net/http_client.h"
#include "remedy/tracker/internal/adapters.h"

namespace stopgap::remedy::tracker::internal {
namespace {

std::vector<std::string_view> Segments(std::string_view path) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (pos < path.size()) {
    size_t slash = path.find('/', pos);
    if (slash == std::string_view::npos) slash = path.size();
    if (slash > pos) out.push_back(path.substr(pos, slash - pos));
    pos = slash + 1;
  }
  return out;
}

bool Number(std::string_view s, uint64_t* n) {
  if (s.empty() || s.size() > 18) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *n);
  return ec == std::errc() && p == s.data() + s.size() && *n > 0;
}

std::string_view KindName(IssueRefKind k) {
  switch (k) {
    case IssueRefKind::kRepo:
      return "a GitHub/GitLab reference";
    case IssueRefKind::kJira:
      return "a Jira key";
    case IssueRefKind::kRedmine:
      return "a Redmine reference";
    case IssueRefKind::kUrl:
      return "an URL";
  }
  return "a reference";
}

Status Wrong(const TrackerConfig& c, const IssueRef& ref, std::string_view why) {
  return InvalidArgument("issue '" + ref.text + "' can't be used with the configured " + c.kind +
                         " tracker (" + c.url + "): " + std::string(why));
}

Status WrongKind(const TrackerConfig& c, const IssueRef& ref) {
  return Wrong(c, ref, std::string("it is ") + std::string(KindName(ref.kind)));
}

Status WrongHost(const TrackerConfig& c, const IssueRef& ref, std::string_view want) {
  return Wrong(c, ref, "the URL names host " + UrlHost(ref.url) + ", not " + std::string(want));
}

}  // namespace

std::string UrlPath(std::string_view url) {
  size_t scheme = url.find("://");
  std::string_view rest = scheme == std::string_view::npos ? url : url.substr(scheme + 3);
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return "";
  std::string_view path = rest.substr(slash);
  return std::string(path.substr(0, path.find_first_of("?#")));
}

std::string UrlHost(std::string_view url) {
  size_t scheme = url.find("://");
  std::string_view rest = scheme == std::string_view::npos ? url : url.substr(scheme + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (size_t at = rest.rfind('@'); at != std::string_view::npos) rest = rest.substr(at + 1);
  rest = rest.substr(0, rest.find(':'));
  std::string out;
  for (char ch : rest)
    out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(ch))));
  return out;
}

Result<uint64_t> RedmineIssueOf(const TrackerConfig& c, const IssueRef& ref) {
  if (ref.kind == IssueRefKind::kRedmine) return ref.number;
  if (ref.kind != IssueRefKind::kUrl) return WrongKind(c, ref);
  if (UrlHost(ref.url) != UrlHost(c.url)) return WrongHost(c, ref, UrlHost(c.url));
  const std::string path = UrlPath(ref.url);
  auto seg = Segments(path);
  uint64_t n = 0;
  if (seg.size() < 2 || seg[seg.size() - 2] != "issues" || !Number(seg.back(), &n)) {
    return Wrong(c, ref, "a Redmine issue URL ends in /issues/N");
  }
  return n;
}

Result<RepoIssue> GithubIssueOf(const TrackerConfig& c, const IssueRef& ref) {
  if (ref.kind == IssueRefKind::kRepo) {
    if (std::count(ref.project.begin(), ref.project.end(), '/') != 1) {
      return Wrong(c, ref, "GitHub repositories are owner/repo");
    }
    return RepoIssue{ref.project, ref.number};
  }
  if (ref.kind == IssueRefKind::kRedmine && !c.project.empty()) {
    return RepoIssue{c.project, ref.number};  // "#N" in the configured repo
  }
  if (ref.kind != IssueRefKind::kUrl) return WrongKind(c, ref);
  std::string api_host = UrlHost(c.url);
  std::string web_host = api_host == "api.github.com" ? "github.com" : api_host;
  if (UrlHost(ref.url) != web_host && UrlHost(ref.url) != api_host) {
    return WrongHost(c, ref, web_host);
  }
  const std::string path = UrlPath(ref.url);
  auto seg = Segments(path);
  uint64_t n = 0;
  if (seg.size() == 4 && (seg[2] == "issues" || seg[2] == "pull") && Number(seg[3], &n)) {
    return RepoIssue{std::string(seg[0]) + "/" + std::string(seg[1]), n};
  }
  return Wrong(c, ref, "a GitHub issue URL is https://github.com/OWNER/REPO/issues/N");
}

Result<RepoIssue> GitlabIssueOf(const TrackerConfig& c, const IssueRef& ref) {
  if (ref.kind == IssueRefKind::kRepo) return RepoIssue{ref.project, ref.number};
  if (ref.kind == IssueRefKind::kRedmine && !c.project.empty()) {
    return RepoIssue{c.project, ref.number};
  }
  if (ref.kind != IssueRefKind::kUrl) return WrongKind(c, ref);
  if (UrlHost(ref.url) != UrlHost(c.url)) return WrongHost(c, ref, UrlHost(c.url));
  const std::string path = UrlPath(ref.url);
  auto seg = Segments(path);
  uint64_t n = 0;
  // /group/sub/repo/-/issues/N (current) or /group/repo/issues/N (old).
  if (seg.size() >= 4 && seg[seg.size() - 2] == "issues" && Number(seg.back(), &n)) {
    size_t end = seg.size() - 2;
    if (seg[end - 1] == "-") --end;
    if (end >= 2) {
      std::string project;
      for (size_t i = 0; i < end; ++i) {
        if (i) project.push_back('/');
        project.append(seg[i]);
      }
      return RepoIssue{project, n};
    }
  }
  return Wrong(c, ref, "a GitLab issue URL is https://HOST/GROUP/REPO/-/issues/N");
}

Result<std::string> JiraIssueOf(const TrackerConfig& c, const IssueRef& ref) {
  if (ref.kind == IssueRefKind::kJira) return ref.project + "-" + std::to_string(ref.number);
  if (ref.kind != IssueRefKind::kUrl) return WrongKind(c, ref);
  if (UrlHost(ref.url) != UrlHost(c.url)) return WrongHost(c, ref, UrlHost(c.url));
  if (ref.project.empty() || ref.number == 0 ||
      UrlPath(ref.url).find("/browse/") == std::string::npos) {
    return Wrong(c, ref, "a Jira issue URL is https://HOST/browse/KEY-N");
  }
  return ref.project + "-" + std::to_string(ref.number);
}

Result<std::string> IssueApiPath(const TrackerConfig& c, const IssueRef& ref) {
  if (c.kind == "redmine") {
    auto n = RedmineIssueOf(c, ref);
    if (!n.ok()) return n.status();
    return "/issues/" + std::to_string(*n) + ".json";
  }
  if (c.kind == "github") {
    auto r = GithubIssueOf(c, ref);
    if (!r.ok()) return r.status();
    return "/repos/" + r->project + "/issues/" + std::to_string(r->number);
  }
  if (c.kind == "gitlab") {
    auto r = GitlabIssueOf(c, ref);
    if (!r.ok()) return r.status();
    return "/projects/" + net::UrlEncode(r->project) + "/issues/" + std::to_string(r->number);
  }
  if (c.kind == "jira") {
    auto k = JiraIssueOf(c, ref);
    if (!k.ok()) return k.status();
    return "/rest/api/2/issue/" + *k;
  }
  return InvalidArgument("unknown tracker kind '" + c.kind +
                         "': use redmine, github, gitlab or jira");
}

std::string Base64(std::string_view in) {
  static constexpr char kTable[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v =
        (uint32_t(uint8_t(in[i])) << 16) | (uint32_t(uint8_t(in[i + 1])) << 8) | uint8_t(in[i + 2]);
    out += {kTable[v >> 18], kTable[(v >> 12) & 63], kTable[(v >> 6) & 63], kTable[v & 63]};
  }
  if (i + 1 == in.size()) {
    uint32_t v = uint32_t(uint8_t(in[i])) << 16;
    out += {kTable[v >> 18], kTable[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    uint32_t v = (uint32_t(uint8_t(in[i])) << 16) | (uint32_t(uint8_t(in[i + 1])) << 8);
    out += {kTable[v >> 18], kTable[(v >> 12) & 63], kTable[(v >> 6) & 63], '='};
  }
  return out;
}

}  // namespace stopgap::remedy::tracker::internal
