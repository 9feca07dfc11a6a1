// Catalog YAML loading: the top-level sections and the per-workaround
// accountability rules (steps are in internal/catalog_steps.cc). Pure: the
// only input besides the text is `today`.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <map>
#include <set>

#include "core/file.h"
#include "remedy/catalog.h"
#include "remedy/internal/catalog_steps.h"
#include "remedy/internal/yaml_reader.h"
#include "remedy/secrets.h"
#include "remedy/template.h"

namespace stopgap::remedy {
namespace {

using internal::ChildOf;
using internal::Field;
using internal::IsAbsent;
using internal::YamlReader;

constexpr size_t kMaxCatalogBytes = 4u << 20;
constexpr int kMaxNesting = 64;

// yaml-cpp recurses per nesting level: refuse absurd flow nesting before it
// parses (a stack overflow is not an error message).
bool NestingTooDeep(std::string_view text) {
  int depth = 0;
  for (char c : text) {
    if (c == '[' || c == '{') {
      if (++depth > kMaxNesting) return true;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  // Block nesting: leading indentation beyond a few hundred columns is not a catalog.
  size_t col = 0;
  bool leading = true;
  for (char c : text) {
    if (c == '\n') {
      col = 0;
      leading = true;
    } else if (leading && (c == ' ' || c == '-')) {
      if (++col > 4 * kMaxNesting) return true;
    } else {
      leading = false;
    }
  }
  return false;
}

bool IsIdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.';
}

// "host:port" with a port in 1..65535.
bool IsHostPort(std::string_view s) {
  size_t colon = s.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 >= s.size()) return false;
  int port = 0;
  for (char c : s.substr(colon + 1)) {
    if (c < '0' || c > '9') return false;
    port = port * 10 + (c - '0');
    if (port > 65535) return false;
  }
  return port > 0;
}

constexpr std::string_view kScopeNames[] = {"read", "alerts", "run", "approve", "admin"};

void LoadTokens(YamlReader& r, const YAML::Node& list, std::vector<TokenConfig>* out) {
  if (!list.IsSequence()) {
    r.Error(list, "server.tokens", "bad-type",
            "expected a list of {name: …, file: …, scopes: [read, alerts, run, approve, admin]}");
    return;
  }
  std::set<std::string> names;
  size_t i = 0;
  for (auto it = list.begin(); it != list.end(); ++it, ++i) {
    const YAML::Node n = *it;
    if (!r.Visit(n)) return;
    const std::string field = "server.tokens[" + std::to_string(i) + "]";
    if (!r.CheckMap(n, field, {"name", "file", "scopes"})) continue;
    TokenConfig t;
    t.line = YamlReader::LineOf(n);
    if (auto v = r.String(n, "name", field + ".name")) t.name = *v;
    if (t.name.empty() || t.name.size() > 64 ||
        !std::all_of(t.name.begin(), t.name.end(), IsIdChar)) {
      r.Error(n, field + ".name", "bad-value",
              "a token needs a name of letters, digits, '.', '_' and '-' (at most 64)");
    } else if (!names.insert(t.name).second) {
      r.Error(n, field + ".name", "duplicate-key", "token name '" + t.name + "' is used twice");
    }
    if (auto v = r.String(n, "file", field + ".file")) t.file = *v;
    if (t.file.empty()) r.Error(n, field + ".file", "bad-value", "a token needs its file");
    if (auto v = r.Strings(n, "scopes", field + ".scopes", false)) t.scopes = *v;
    if (t.scopes.empty()) {
      r.Error(n, field + ".scopes", "bad-value",
              "a token needs scopes: read, alerts, run, approve and/or admin");
    }
    for (const std::string& s : t.scopes) {
      if (std::find(std::begin(kScopeNames), std::end(kScopeNames), s) == std::end(kScopeNames)) {
        r.Error(ChildOf(n, "scopes"), field + ".scopes", "bad-value",
                "unknown scope '" + s + "' (read, alerts, run, approve, admin)");
      }
    }
    out->push_back(std::move(t));
  }
}

void LoadServer(YamlReader& r, const YAML::Node& n, ServerConfig* out) {
  if (!r.CheckMap(n, "server",
                  {"listen", "token_file", "tokens", "read_auth", "metrics_auth", "allowed_hosts",
                   "tls_cert", "tls_key"})) {
    return;
  }
  if (auto v = r.String(n, "listen", "server.listen")) {
    if (!IsHostPort(*v)) {
      r.Error(ChildOf(n, "listen"), "server.listen", "bad-value",
              "expected host:port, e.g. 127.0.0.1:9470");
    }
    out->listen = *v;
  }
  if (auto v = r.String(n, "token_file", "server.token_file")) out->token_file = *v;
  if (auto v = r.Bool(n, "read_auth", "server.read_auth")) out->read_auth = *v;
  if (auto v = r.Bool(n, "metrics_auth", "server.metrics_auth")) out->metrics_auth = *v;
  if (auto v = r.Strings(n, "allowed_hosts", "server.allowed_hosts", false)) {
    out->allowed_hosts = *v;
  }
  YAML::Node tokens = ChildOf(n, "tokens");
  if (!IsAbsent(tokens)) LoadTokens(r, tokens, &out->tokens);
  if (auto v = r.String(n, "tls_cert", "server.tls_cert")) out->tls_cert = *v;
  if (auto v = r.String(n, "tls_key", "server.tls_key")) out->tls_key = *v;
  if (out->tls_cert.empty() != out->tls_key.empty()) {
    r.Error(n, "server.tls_cert", "bad-value", "tls_cert and tls_key go together");
  }
}

void LoadLedger(YamlReader& r, const YAML::Node& root, LedgerConfig* out) {
  auto v = r.String(root, "ledger", "ledger");
  if (!v) return;
  out->url = *v;
  if (v->starts_with("sqlite://") && v->size() > 9) {
    out->kind = LedgerConfig::Kind::kSqlite;
    out->path = v->substr(9);
  } else if (v->starts_with("postgresql://") || v->starts_with("postgres://")) {
    out->kind = LedgerConfig::Kind::kPostgres;
  } else {
    r.Error(ChildOf(root, "ledger"), "ledger", "bad-ledger",
            "expected sqlite://PATH (sqlite:///abs/path or sqlite://relative/path) or "
            "postgresql://…");
  }
}

void LoadArchive(YamlReader& r, const YAML::Node& n, std::optional<ArchiveConfig>* out) {
  if (!r.CheckMap(n, "archive", {"url", "endpoint", "region", "path_style"})) return;
  ArchiveConfig a;
  if (auto v = r.String(n, "url", "archive.url")) a.url = *v;
  if (!(a.url.starts_with("s3://") || a.url.starts_with("swift://") ||
        a.url.starts_with("file://"))) {
    r.Error(IsAbsent(ChildOf(n, "url")) ? n : ChildOf(n, "url"), "archive.url", "bad-value",
            "expected s3://bucket/prefix, swift://container/prefix or file:///dir");
  }
  if (auto v = r.String(n, "endpoint", "archive.endpoint")) a.endpoint = *v;
  if (auto v = r.String(n, "region", "archive.region")) a.region = *v;
  if (auto v = r.Bool(n, "path_style", "archive.path_style")) a.path_style = *v;
  *out = a;
}

void LoadTracker(YamlReader& r, const YAML::Node& n, std::optional<TrackerConfig>* out) {
  if (!r.CheckMap(n, "tracker",
                  {"kind", "url", "token_file", "project", "refresh", "update_interval"})) {
    return;
  }
  TrackerConfig t;
  if (auto v = r.String(n, "kind", "tracker.kind")) t.kind = *v;
  if (t.kind != "github" && t.kind != "gitlab" && t.kind != "jira" && t.kind != "redmine") {
    r.Error(IsAbsent(ChildOf(n, "kind")) ? n : ChildOf(n, "kind"), "tracker.kind", "bad-value",
            "expected github, gitlab, jira or redmine");
  }
  if (auto v = r.String(n, "url", "tracker.url")) t.url = *v;
  if (auto v = r.String(n, "token_file", "tracker.token_file")) t.token_file = *v;
  if (auto v = r.String(n, "project", "tracker.project")) t.project = *v;
  if (auto v = r.DurationField(n, "refresh", "tracker.refresh")) t.refresh = *v;
  if (auto v = r.DurationField(n, "update_interval", "tracker.update_interval")) {
    t.update_interval = *v;
  }
  *out = t;
}

void LoadPolicy(YamlReader& r, const YAML::Node& n, Policy* out) {
  if (!r.CheckMap(n, "policy",
                  {"max_ttl", "max_ttl_undiagnosed", "max_runs_per_hour", "retain",
                   "retain_bundles", "redact"})) {
    return;
  }
  if (auto v = r.DurationField(n, "max_ttl", "policy.max_ttl")) out->max_ttl = *v;
  if (auto v = r.DurationField(n, "max_ttl_undiagnosed", "policy.max_ttl_undiagnosed")) {
    out->max_ttl_undiagnosed = *v;
  }
  if (auto v = r.Int(n, "max_runs_per_hour", "policy.max_runs_per_hour", 1, 1000000)) {
    out->max_runs_per_hour = static_cast<int>(*v);
  }
  if (auto v = r.DurationField(n, "retain", "policy.retain")) out->retain = *v;
  if (auto v = r.DurationField(n, "retain_bundles", "policy.retain_bundles")) {
    out->retain_bundles = *v;
  }
  if (auto v = r.Strings(n, "redact", "policy.redact", false)) {
    out->redact = *v;
    if (Result<SecretMasker> m = SecretMasker::Create(*v); !m.ok()) {
      r.Error(ChildOf(n, "redact"), "policy.redact", "bad-pattern", m.status().message());
    }
  }
}

void LoadMatch(YamlReader& r, const YAML::Node& n, std::optional<MatchRule>* out) {
  if (!r.CheckMap(n, "match", {"alertname", "labels"})) return;
  MatchRule m;
  auto name = r.String(n, "alertname", "match.alertname");
  if (!name || name->empty()) {
    r.Error(n, "match.alertname", "missing-alertname", "match needs an alertname");
  } else {
    m.alertname = *name;
  }
  YAML::Node labels = ChildOf(n, "labels");
  if (!IsAbsent(labels)) {
    if (!labels.IsMap()) {
      r.Error(labels, "match.labels", "bad-type", "expected a mapping of label: value");
    } else {
      for (auto it = labels.begin(); it != labels.end(); ++it) {
        if (!r.Visit(it->first)) break;
        if (!it->first.IsScalar() || !it->second.IsScalar()) {
          r.Error(it->first, "match.labels", "bad-type", "labels are name: value strings");
          continue;
        }
        if (!m.labels.emplace(it->first.Scalar(), it->second.Scalar()).second) {
          r.Error(it->first, "match.labels." + it->first.Scalar(), "duplicate-key",
                  "label appears twice");
        }
      }
    }
  }
  *out = m;
}

void LoadRepeat(YamlReader& r, const YAML::Node& n, std::optional<Repeat>* out) {
  if (!r.CheckMap(n, "repeat", {"every", "max"})) return;
  auto every = r.DurationField(n, "every", "repeat.every");
  auto max = r.Int(n, "max", "repeat.max", 2, 100);
  if (IsAbsent(ChildOf(n, "every")) || IsAbsent(ChildOf(n, "max"))) {
    r.Error(n, "repeat", "bad-value",
            "repeat needs both every and max (attempts in all, at least 2)");
    return;
  }
  if (every && every->count() <= 0) {
    r.Error(ChildOf(n, "every"), "repeat.every", "bad-duration", "must be positive");
    return;
  }
  if (!every || !max) return;
  *out = Repeat{*every, static_cast<int>(*max)};
}

void LoadMode(YamlReader& r, const YAML::Node& n, Workaround* w) {
  if (auto v = r.String(n, "mode", "mode")) {
    bool known = false;
    for (Mode m : {Mode::kAuto, Mode::kObserve, Mode::kApprove}) {
      if (*v == ModeName(m)) {
        w->mode = m;
        known = true;
      }
    }
    if (!known) {
      r.Error(ChildOf(n, "mode"), "mode", "bad-value",
              "mode is auto (the default: act alone), observe (run the diagnostics, record the "
              "action as would-run) or approve (run the diagnostics, then wait for a person), "
              "not '" +
                  *v + "'");
    }
  }
  if (auto v = r.DurationField(n, "approval_timeout", "approval_timeout")) {
    if (v->count() <= 0) {
      r.Error(ChildOf(n, "approval_timeout"), "approval_timeout", "bad-duration",
              "must be positive");
    } else {
      w->approval_timeout = *v;
    }
    if (w->mode != Mode::kApprove) {
      r.Warn(ChildOf(n, "approval_timeout"), "approval_timeout", "unused",
             "approval_timeout applies only to mode: approve");
    }
  }
}

void LoadResume(YamlReader& r, const YAML::Node& n, Workaround* w) {
  auto v = r.String(n, "resume", "resume");
  if (!v) return;
  if (*v == ResumeName(Resume::kRerun)) {
    w->resume = Resume::kRerun;
  } else if (*v != ResumeName(Resume::kEscalate)) {
    r.Error(ChildOf(n, "resume"), "resume", "bad-value",
            "resume is escalate (the default: an interrupted execution is recorded and its "
            "still-firing alert escalates) or rerun (run the workaround once more), not '" +
                *v + "'");
    return;
  }
  if (w->resume == Resume::kRerun && w->mode == Mode::kObserve) {
    r.Warn(ChildOf(n, "resume"), "resume", "unused",
           "resume: rerun reruns the diagnostics only in mode: observe (nothing acts)");
  }
}

void LoadLimits(YamlReader& r, const YAML::Node& n, Limits* out) {
  if (!r.CheckMap(
          n, "limits",
          {"cooldown", "max_runs", "concurrency", "on_busy", "queue_timeout", "group_by"})) {
    return;
  }
  if (auto v = r.DurationField(n, "cooldown", "limits.cooldown")) out->cooldown = *v;
  if (auto v = r.Int(n, "concurrency", "limits.concurrency", 1, 1000)) {
    out->concurrency = static_cast<int>(*v);
  }
  if (auto v = r.String(n, "on_busy", "limits.on_busy")) {
    if (*v == OnBusyName(OnBusy::kQueue)) {
      out->on_busy = OnBusy::kQueue;
    } else if (*v == OnBusyName(OnBusy::kRefuse)) {
      out->on_busy = OnBusy::kRefuse;
    } else {
      r.Error(ChildOf(n, "on_busy"), "limits.on_busy", "bad-value",
              "on_busy is queue or refuse, not '" + *v + "'");
    }
  }
  if (auto v = r.DurationField(n, "queue_timeout", "limits.queue_timeout")) {
    if (v->count() <= 0) {
      r.Error(ChildOf(n, "queue_timeout"), "limits.queue_timeout", "bad-duration",
              "must be positive");
    } else {
      out->queue_timeout = *v;
    }
  }
  if (auto v = r.Strings(n, "group_by", "limits.group_by", false)) {
    for (const std::string& label : *v) {
      if (!LabelTemplateName("{{labels." + label + "}}")) {
        r.Error(ChildOf(n, "group_by"), "limits.group_by", "bad-value",
                "'" + label + "' is not a label name ([a-zA-Z_][a-zA-Z0-9_]*)");
      } else if (std::find(out->group_by.begin(), out->group_by.end(), label) !=
                 out->group_by.end()) {
        r.Error(ChildOf(n, "group_by"), "limits.group_by", "duplicate-key",
                "label '" + label + "' is listed twice");
      } else {
        out->group_by.push_back(label);
      }
    }
  }
  YAML::Node mr = ChildOf(n, "max_runs");
  if (IsAbsent(mr)) return;
  if (!r.CheckMap(mr, "limits.max_runs", {"count", "per"})) return;
  Limits::MaxRuns m;
  auto count = r.Int(mr, "count", "limits.max_runs.count", 1, 1000000);
  auto per = r.DurationField(mr, "per", "limits.max_runs.per");
  if (IsAbsent(ChildOf(mr, "count")) || IsAbsent(ChildOf(mr, "per"))) {
    r.Error(mr, "limits.max_runs", "bad-value", "max_runs needs both count and per");
    return;
  }
  if (per && per->count() <= 0) {
    r.Error(ChildOf(mr, "per"), "limits.max_runs.per", "bad-duration", "must be positive");
    return;
  }
  if (!count || !per) return;
  m.count = static_cast<int>(*count);
  m.per = *per;
  out->max_runs = m;
}

void LoadLabelSchemas(YamlReader& r, const YAML::Node& n, LabelSchemas* out) {
  if (!n.IsMap()) {
    r.Error(n, "labels", "bad-type",
            "expected a mapping of label: {pattern: REGEX} or label: {values: [...]}");
    return;
  }
  for (auto it = n.begin(); it != n.end(); ++it) {
    if (!r.Visit(it->first)) return;
    if (!it->first.IsScalar()) {
      r.Error(it->first, "labels", "bad-type", "label names are strings");
      continue;
    }
    const std::string name = it->first.Scalar();
    const std::string field = "labels." + name;
    if (!LabelTemplateName("{{labels." + name + "}}")) {
      r.Error(it->first, field, "bad-label", "'" + name + "' is not a label name");
      continue;
    }
    const YAML::Node body = it->second;
    if (!r.CheckMap(body, field, {"pattern", "values"})) continue;
    const bool has_pattern = !IsAbsent(ChildOf(body, "pattern"));
    const bool has_values = !IsAbsent(ChildOf(body, "values"));
    if (body.size() > size_t{has_pattern} + size_t{has_values}) continue;  // unknown key reported
    if (has_pattern == has_values) {
      r.Error(body, field, "bad-schema", "give exactly one of pattern: or values:");
      continue;
    }
    std::optional<LabelSchema> schema;
    if (has_pattern) {
      auto pattern = r.String(body, "pattern", field + ".pattern");
      if (!pattern) continue;
      if (pattern->empty()) {
        r.Error(ChildOf(body, "pattern"), field + ".pattern", "bad-schema", "empty pattern");
        continue;
      }
      Result<LabelSchema> s = LabelSchema::FromPattern(*pattern);
      if (!s.ok()) {
        r.Error(ChildOf(body, "pattern"), field + ".pattern", "bad-schema", s.status().message());
        continue;
      }
      schema = std::move(*s);
    } else {
      auto values = r.Strings(body, "values", field + ".values", false);
      if (!values) continue;
      if (values->empty()) {
        r.Error(ChildOf(body, "values"), field + ".values", "bad-schema", "empty list of values");
        continue;
      }
      schema = LabelSchema::FromValues(std::move(*values));
    }
    schema->line = YamlReader::LineOf(body);
    (*out)[name] = std::move(*schema);
  }
}

// `check` warns about each {{labels.X}} whose label has no schema: it then
// runs with the default rule only (IsSafeLabelValue).
void WarnUnschemedTemplates(YamlReader& r, const Workaround& w) {
  std::set<std::string> warned;
  auto visit = [&](const std::vector<Step>& steps, std::string_view phase) {
    for (size_t i = 0; i < steps.size(); ++i) {
      const auto* run = std::get_if<RunStep>(&steps[i].body);
      if (!run) continue;
      for (const std::string& arg : run->argv) {
        std::optional<std::string> name = LabelTemplateName(arg);
        if (!name || w.labels.count(*name) || !warned.insert(*name).second) continue;
        r.WarnAtLine(steps[i].line, std::string(phase) + "[" + std::to_string(i) + "].run",
                     "label-without-schema",
                     "{{labels." + *name + "}} has no schema: add labels: {" + *name +
                         ": {pattern: ...}} (or values: [...]); until then only the default rule "
                         "applies (1-256 of A-Z a-z 0-9 . _ : / @ + = -, no leading '-', no '..')");
      }
    }
  };
  visit(w.diagnostics, "diagnostics");
  visit(w.action, "action");
  visit(w.verify, "verify");
}

void CheckExpiry(YamlReader& r, const YAML::Node& n, const Policy& policy, CivilDay today,
                 Workaround* w) {
  YAML::Node expires = ChildOf(n, "expires");
  if (IsAbsent(expires)) {
    if (w->cause != Cause::kHardware) {
      r.Error(n, "expires", "missing-expires",
              std::string("a ") + std::string(CauseName(w->cause)) +
                  " workaround needs an expiry date (expires: YYYY-MM-DD); only hardware "
                  "workarounds may go without");
    }
    return;
  }
  auto text = r.String(n, "expires", "expires");
  if (!text) return;
  Result<CivilDay> day = ParseCivilDay(*text);
  if (!day.ok()) {
    r.Error(expires, "expires", "bad-date", day.status().message());
    return;
  }
  w->expires = *day;
  int64_t left = DaysSinceEpoch(*day) - DaysSinceEpoch(today);
  const Duration& ttl = w->diagnosed ? policy.max_ttl : policy.max_ttl_undiagnosed;
  int64_t ttl_days = std::chrono::duration_cast<std::chrono::hours>(ttl).count() / 24;
  const char* which = w->diagnosed ? "policy.max_ttl" : "policy.max_ttl_undiagnosed";
  if (left <= 0) {
    r.Error(expires, "expires", kRuleExpired,
            "expired on " + FormatCivilDay(*day) + " (" + std::to_string(-left) +
                " day(s) ago): it will not run; fix the issue, or renew it consciously");
  } else if (left > ttl_days) {
    r.Error(expires, "expires", "expires-beyond-ttl",
            FormatCivilDay(*day) + " is " + std::to_string(left) + " days from today, beyond " +
                which + " (" + std::to_string(ttl_days) + " days)");
  } else if (left <= kExpiringWithinDays) {
    r.Warn(expires, "expires", "expiring",
           "expires in " + std::to_string(left) + " day(s), on " + FormatCivilDay(*day));
  }
}

std::optional<Workaround> LoadWorkaround(YamlReader& r, const YAML::Node& n, const Policy& policy,
                                         CivilDay today) {
  r.SetWorkaround("");
  // Attribute everything, unknown keys included, to the id when there is one.
  if (n.IsMap()) {
    const YAML::Node id_node = ChildOf(n, "id");
    if (id_node.IsScalar()) r.SetWorkaround(id_node.Scalar());
  }
  if (!r.CheckMap(n, "",
                  {"id", "issue", "cause", "diagnosed", "root_cause", "description", "expires",
                   "match", "labels", "diagnostics", "action", "verify", "limits", "repeat", "mode",
                   "approval_timeout", "resume"})) {
    return std::nullopt;
  }
  Workaround w;
  w.line = YamlReader::LineOf(n);
  auto id = r.String(n, "id", "id");
  if (!id || id->empty()) {
    r.Error(n, "id", "missing-id", "every workaround needs an id");
  } else {
    w.id = *id;
    r.SetWorkaround(w.id);
    if (w.id.size() > 100 || !std::all_of(w.id.begin(), w.id.end(), IsIdChar)) {
      r.Error(ChildOf(n, "id"), "id", "bad-id",
              "ids use only letters, digits, '.', '_' and '-' (at most 100)");
    }
  }

  // No issue, no workaround.
  auto issue = r.String(n, "issue", "issue");
  if (!issue || issue->empty()) {
    r.Error(n, "issue", "missing-issue",
            "every workaround must name its issue (owner/repo#N, KEY-N, #N or the issue URL): "
            "no issue tracker, no automated remediation");
  } else {
    Result<IssueRef> ref = ParseIssueRef(*issue);
    if (!ref.ok()) {
      r.Error(ChildOf(n, "issue"), "issue", "bad-issue", ref.status().message());
    } else {
      w.issue = *ref;
    }
  }

  auto cause = r.String(n, "cause", "cause");
  if (!cause) {
    r.Error(n, "cause", "bad-cause", "missing cause: in-house, vendor or hardware");
  } else if (*cause == "in-house") {
    w.cause = Cause::kInHouse;
  } else if (*cause == "vendor") {
    w.cause = Cause::kVendor;
  } else if (*cause == "hardware") {
    w.cause = Cause::kHardware;
  } else {
    r.Error(ChildOf(n, "cause"), "cause", "bad-cause",
            "'" + *cause + "' is not a cause: use in-house, vendor or hardware");
  }

  auto diagnosed = r.Bool(n, "diagnosed", "diagnosed");
  if (!diagnosed) {
    if (IsAbsent(ChildOf(n, "diagnosed"))) {
      r.Error(n, "diagnosed", "missing-diagnosed",
              "say whether the root cause is known: diagnosed: true | false");
    }
  } else {
    w.diagnosed = *diagnosed;
  }
  if (auto v = r.String(n, "root_cause", "root_cause")) w.root_cause = *v;
  if (w.diagnosed && w.root_cause.find_first_not_of(" \t\n") == std::string::npos) {
    r.Error(IsAbsent(ChildOf(n, "root_cause")) ? n : ChildOf(n, "root_cause"), "root_cause",
            "missing-root-cause", "diagnosed: true needs the root cause written down");
  }
  if (auto v = r.String(n, "description", "description")) w.description = *v;

  CheckExpiry(r, n, policy, today, &w);

  YAML::Node match = ChildOf(n, "match");
  if (!IsAbsent(match)) LoadMatch(r, match, &w.match);

  internal::LoadSteps(r, n, "diagnostics", &w.diagnostics);
  if (w.diagnostics.empty()) {
    r.Error(IsAbsent(ChildOf(n, "diagnostics")) ? n : ChildOf(n, "diagnostics"), "diagnostics",
            "missing-diagnostics",
            "diagnostics are required and run first: gather evidence before changing anything");
  }
  internal::LoadSteps(r, n, "action", &w.action);
  if (w.action.empty()) {
    r.Error(IsAbsent(ChildOf(n, "action")) ? n : ChildOf(n, "action"), "action", "empty-action",
            "a workaround needs at least one action step");
  }
  internal::LoadSteps(r, n, "verify", &w.verify);

  YAML::Node labels = ChildOf(n, "labels");
  if (!IsAbsent(labels)) LoadLabelSchemas(r, labels, &w.labels);
  WarnUnschemedTemplates(r, w);

  YAML::Node limits = ChildOf(n, "limits");
  if (!IsAbsent(limits)) LoadLimits(r, limits, &w.limits);
  YAML::Node repeat = ChildOf(n, "repeat");
  if (!IsAbsent(repeat)) LoadRepeat(r, repeat, &w.repeat);
  LoadMode(r, n, &w);
  LoadResume(r, n, &w);
  return w;
}

Status Summarise(const std::vector<Violation>& v, std::string_view file) {
  int errors = 0;
  const Violation* first = nullptr;
  for (const Violation& x : v) {
    if (x.severity != Severity::kError || x.rule == kRuleExpired) continue;
    ++errors;
    if (!first) first = &x;
  }
  if (errors == 0) return Status::Ok();
  return InvalidArgument(std::string(file) + ": " + std::to_string(errors) +
                         " catalog violation(s), first: " + first->ToString());
}

}  // namespace

Result<Catalog> ParseCatalog(std::string_view yaml, std::string_view file, CivilDay today,
                             std::vector<Violation>* violations) {
  std::vector<Violation> local;
  std::vector<Violation>* out = violations ? violations : &local;
  size_t first_new = out->size();
  YamlReader r(std::string(file), out);
  if (yaml.size() > kMaxCatalogBytes) {
    r.ErrorAtLine(0, "", "too-large", "the catalog is larger than 4 MiB");
    return Summarise({out->begin() + first_new, out->end()}, file);
  }
  if (NestingTooDeep(yaml)) {
    r.ErrorAtLine(0, "", "too-deep", "the catalog nests deeper than any catalog should");
    return Summarise({out->begin() + first_new, out->end()}, file);
  }
  Catalog c;
  c.path = std::string(file);
  try {
    YAML::Node root = YAML::Load(std::string(yaml));
    if (IsAbsent(root)) {
      r.ErrorAtLine(1, "", "bad-type", "the catalog is empty");
    } else if (r.CheckMap(root, "",
                          {"server", "ledger", "bundles", "archive", "statsd", "tracker", "policy",
                           "workarounds"})) {
      YAML::Node policy = ChildOf(root, "policy");
      if (!IsAbsent(policy)) LoadPolicy(r, policy, &c.policy);
      YAML::Node server = ChildOf(root, "server");
      if (!IsAbsent(server)) LoadServer(r, server, &c.server);
      LoadLedger(r, root, &c.ledger);
      c.ledger.redact = c.policy.redact;
      if (auto v = r.String(root, "bundles", "bundles")) {
        if (v->empty()) r.Error(ChildOf(root, "bundles"), "bundles", "bad-value", "empty path");
        c.bundles = *v;
      }
      YAML::Node archive = ChildOf(root, "archive");
      if (!IsAbsent(archive)) LoadArchive(r, archive, &c.archive);
      if (auto v = r.String(root, "statsd", "statsd")) {
        if (!IsHostPort(*v)) {
          r.Error(ChildOf(root, "statsd"), "statsd", "bad-value", "expected host:port");
        }
        c.statsd = *v;
      }
      YAML::Node tracker = ChildOf(root, "tracker");
      if (!IsAbsent(tracker)) LoadTracker(r, tracker, &c.tracker);

      YAML::Node list = ChildOf(root, "workarounds");
      if (!IsAbsent(list) && !list.IsSequence()) {
        r.Error(list, "workarounds", "bad-type", "expected a list of workarounds");
      } else if (!IsAbsent(list)) {
        std::map<std::string, int> seen;  // id -> line
        for (auto it = list.begin(); it != list.end(); ++it) {
          const YAML::Node n = *it;
          if (!r.Visit(n)) break;
          std::optional<Workaround> w = LoadWorkaround(r, n, c.policy, today);
          if (!w) continue;
          if (!w->id.empty()) {
            auto [pos, inserted] = seen.emplace(w->id, w->line);
            if (!inserted) {
              r.Error(ChildOf(n, "id"), "id", "duplicate-id",
                      "id '" + w->id + "' is already used at line " + std::to_string(pos->second));
            }
          }
          c.workarounds.push_back(std::move(*w));
        }
      }
    }
  } catch (const YAML::Exception& e) {
    r.SetWorkaround("");
    r.ErrorAtLine(e.mark.is_null() ? 0 : e.mark.line + 1, "", "yaml-syntax", e.msg);
  } catch (const std::exception& e) {
    r.SetWorkaround("");
    r.ErrorAtLine(0, "", "yaml-syntax", e.what());
  }
  STOPGAP_RETURN_IF_ERROR(Summarise({out->begin() + first_new, out->end()}, file));
  return c;
}

Result<Catalog> LoadCatalog(const std::string& path, CivilDay today,
                            std::vector<Violation>* violations) {
  Result<std::string> text = ReadFile(path, kMaxCatalogBytes + 1);
  if (!text.ok()) return text.status().WithContext("catalog " + path);
  return ParseCatalog(*text, path, today, violations);
}

}  // namespace stopgap::remedy
