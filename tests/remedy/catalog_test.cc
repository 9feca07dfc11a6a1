// The catalog's accountability rules: each rule has a failing case here, and
// each violation names file, line and workaround id.
#include "remedy/catalog.h"

#include <algorithm>

#include "gtest/gtest.h"

namespace stopgap::remedy {
namespace {

const CivilDay kToday{2026, 11, 25};

// A valid catalog; tests break one thing at a time. Line numbers matter.
constexpr const char* kBase = R"(server: {listen: 127.0.0.1:9470, token_file: /etc/stopgap/token}
ledger: sqlite:///var/lib/stopgap/ledger.db
bundles: /var/lib/stopgap/bundles
policy: {max_ttl: 90d, max_ttl_undiagnosed: 30d, max_runs_per_hour: 60}
workarounds:
  - id: nova-rpc
    issue: acme/infra#123
    cause: in-house
    diagnosed: false
    root_cause: ""
    expires: 2026-12-20
    match: {alertname: NovaRPC, labels: {severity: critical}}
    diagnostics:
      - collect: [system, tcp]
      - collect: process
        pidfile: /run/nova.pid
      - guru: {pidfile: /run/nova.pid, signal: USR2, report: "/var/log/nova/guru-*.txt", timeout: 5s}
      - run: [ss, -tanp]
    action:
      - run: [systemctl, restart, "{{labels.service}}"]
        timeout: 60s
    verify:
      - run: [systemctl, is-active, nova-compute]
    limits: {cooldown: 10m, max_runs: {count: 5, per: 24h}, concurrency: 1}
  - id: disk-fan
    issue: "#42"
    cause: hardware
    diagnosed: true
    root_cause: "fan bearing worn on rack 7"
    diagnostics:
      - run: [sensors]
    action:
      - run: [fanctl, max]
)";

std::string Replace(std::string text, std::string_view from, std::string_view to) {
  size_t pos = text.find(from);
  EXPECT_NE(pos, std::string::npos) << "test bug: '" << from << "' not in base";
  if (pos != std::string::npos) text.replace(pos, from.size(), to);
  return text;
}

struct Loaded {
  Result<Catalog> catalog;
  std::vector<Violation> violations;
};

Loaded Parse(const std::string& text, CivilDay today = kToday) {
  std::vector<Violation> v;
  Result<Catalog> c = ParseCatalog(text, "stopgap.yaml", today, &v);
  return {std::move(c), std::move(v)};
}

// The single error violation with `rule`; fails the test when there is not
// exactly one.
const Violation* Only(const Loaded& l, std::string_view rule) {
  std::vector<const Violation*> errors;
  for (const Violation& v : l.violations)
    if (v.severity == Severity::kError) errors.push_back(&v);
  std::string all;
  for (const Violation& v : l.violations) all += v.ToString() + "\n";
  EXPECT_EQ(errors.size(), 1u) << all;
  if (errors.size() != 1) return nullptr;
  EXPECT_EQ(errors[0]->rule, rule) << all;
  return errors[0];
}

TEST(CatalogTest, BaseIsValid) {
  Loaded l = Parse(kBase);
  ASSERT_TRUE(l.catalog.ok()) << l.catalog.status().ToString();
  for (const Violation& v : l.violations) EXPECT_NE(v.severity, Severity::kError) << v.ToString();
  const Catalog& c = *l.catalog;
  ASSERT_EQ(c.workarounds.size(), 2u);
  const Workaround& w = c.workarounds[0];
  EXPECT_EQ(w.id, "nova-rpc");
  EXPECT_EQ(w.line, 6);
  EXPECT_EQ(w.issue.project, "acme/infra");
  EXPECT_EQ(w.issue.number, 123u);
  EXPECT_EQ(w.cause, Cause::kInHouse);
  EXPECT_FALSE(w.diagnosed);
  EXPECT_EQ(w.expires, (CivilDay{2026, 12, 20}));
  ASSERT_TRUE(w.match.has_value());
  EXPECT_EQ(w.match->alertname, "NovaRPC");
  EXPECT_EQ(w.match->labels.at("severity"), "critical");
  ASSERT_EQ(w.diagnostics.size(), 4u);
  EXPECT_EQ(w.diagnostics[0].kind(), StepKind::kCollect);
  EXPECT_EQ(std::get<CollectStep>(w.diagnostics[1].body).pidfile, "/run/nova.pid");
  EXPECT_EQ(std::get<GuruStep>(w.diagnostics[2].body).report_glob, "/var/log/nova/guru-*.txt");
  EXPECT_EQ(w.diagnostics[2].timeout, std::chrono::seconds(5));
  EXPECT_EQ(std::get<RunStep>(w.diagnostics[3].body).argv,
            (std::vector<std::string>{"ss", "-tanp"}));
  EXPECT_EQ(w.diagnostics[3].line, 18);
  EXPECT_EQ(w.action[0].timeout, std::chrono::seconds(60));
  EXPECT_EQ(w.limits.cooldown, std::chrono::minutes(10));
  ASSERT_TRUE(w.limits.max_runs.has_value());
  EXPECT_EQ(w.limits.max_runs->count, 5);
  EXPECT_EQ(w.limits.max_runs->per, std::chrono::hours(24));
  EXPECT_EQ(c.workarounds[1].cause, Cause::kHardware);
  EXPECT_FALSE(c.workarounds[1].expires.has_value());
  EXPECT_EQ(c.ledger.kind, LedgerConfig::Kind::kSqlite);
  EXPECT_EQ(c.ledger.path, "/var/lib/stopgap/ledger.db");
  EXPECT_EQ(c.policy.max_runs_per_hour, 60);
  EXPECT_EQ(c.server.listen, "127.0.0.1:9470");
}

TEST(CatalogTest, LabelWithoutSchemaIsAWarningWithItsLine) {
  Loaded l = Parse(kBase);
  ASSERT_TRUE(l.catalog.ok());
  const Violation* warn = nullptr;
  for (const Violation& v : l.violations)
    if (v.rule == "label-without-schema") warn = &v;
  ASSERT_NE(warn, nullptr);
  EXPECT_EQ(warn->severity, Severity::kWarning);
  EXPECT_EQ(warn->line, 20);  // the action's run step
  EXPECT_EQ(warn->workaround_id, "nova-rpc");
  EXPECT_NE(warn->message.find("{{labels.service}}"), std::string::npos);
}

TEST(CatalogTest, LabelSchemas) {
  Loaded l = Parse(Replace(kBase, "    action:\n      - run: [systemctl",
                           "    labels:\n      service: {pattern: \"nova-[a-z-]+\"}\n"
                           "      sig: {values: [HUP, USR1]}\n"
                           "    action:\n      - run: [systemctl"));
  ASSERT_TRUE(l.catalog.ok()) << l.catalog.status().ToString();
  for (const Violation& v : l.violations) EXPECT_NE(v.rule, "label-without-schema");
  const Workaround& w = l.catalog->workarounds[0];
  ASSERT_EQ(w.labels.size(), 2u);
  EXPECT_TRUE(w.labels.at("service").Allows("nova-compute"));
  EXPECT_FALSE(w.labels.at("service").Allows("--output=/etc/x"));
  EXPECT_TRUE(w.labels.at("sig").Allows("HUP"));
  EXPECT_FALSE(w.labels.at("sig").Allows("KILL"));
}

TEST(CatalogTest, BadLabelSchemas) {
  auto with = [](std::string schema) {
    return Parse(
        Replace(kBase, "    action:\n      - run: [systemctl",
                "    labels:\n      " + schema + "\n    action:\n      - run: [systemctl"));
  };
  EXPECT_NE(Only(with("service: {pattern: \"(\"}"), "bad-schema"), nullptr);
  EXPECT_NE(Only(with("service: {pattern: a, values: [a]}"), "bad-schema"), nullptr);
  EXPECT_NE(Only(with("service: {}"), "bad-schema"), nullptr);
  EXPECT_NE(Only(with("service: {values: []}"), "bad-schema"), nullptr);
  EXPECT_NE(Only(with("service: {regex: a}"), "unknown-key"), nullptr);
  EXPECT_NE(Only(with("bad-name: {values: [a]}"), "bad-label"), nullptr);
}

TEST(CatalogTest, ModeAndApprovalTimeout) {
  Loaded l = Parse(kBase);
  ASSERT_TRUE(l.catalog.ok());
  EXPECT_EQ(l.catalog->workarounds[0].mode, Mode::kAuto);  // the default
  EXPECT_EQ(l.catalog->workarounds[0].approval_timeout, std::chrono::minutes(15));
  l = Parse(Replace(kBase, "    issue: acme/infra#123\n",
                    "    issue: acme/infra#123\n    mode: approve\n    approval_timeout: 2m\n"));
  ASSERT_TRUE(l.catalog.ok()) << l.catalog.status().ToString();
  EXPECT_EQ(l.catalog->workarounds[0].mode, Mode::kApprove);
  EXPECT_EQ(l.catalog->workarounds[0].approval_timeout, std::chrono::minutes(2));
  l = Parse(Replace(kBase, "    issue: acme/infra#123\n",
                    "    issue: acme/infra#123\n    mode: shadow\n"));
  ASSERT_FALSE(l.catalog.ok());
  bool explained = false;
  for (const Violation& v : l.violations) {
    if (v.field == "mode" && v.rule == "bad-value" &&
        v.message.find("observe (run the diagnostics") != std::string::npos) {
      explained = true;
    }
  }
  EXPECT_TRUE(explained);
  // approval_timeout without mode: approve loads, with a warning.
  l = Parse(Replace(kBase, "    issue: acme/infra#123\n",
                    "    issue: acme/infra#123\n    mode: observe\n    approval_timeout: 2m\n"));
  ASSERT_TRUE(l.catalog.ok());
  EXPECT_EQ(l.catalog->workarounds[0].mode, Mode::kObserve);
  bool warned = false;
  for (const Violation& v : l.violations) {
    if (v.field == "approval_timeout" && v.severity == Severity::kWarning) warned = true;
  }
  EXPECT_TRUE(warned);
}

TEST(CatalogTest, Resume) {
  Loaded l = Parse(kBase);
  ASSERT_TRUE(l.catalog.ok());
  EXPECT_EQ(l.catalog->workarounds[0].resume, Resume::kEscalate);  // the default
  l = Parse(Replace(kBase, "    issue: acme/infra#123\n",
                    "    issue: acme/infra#123\n    resume: rerun\n"));
  ASSERT_TRUE(l.catalog.ok()) << l.catalog.status().ToString();
  EXPECT_EQ(l.catalog->workarounds[0].resume, Resume::kRerun);
  l = Parse(Replace(kBase, "    issue: acme/infra#123\n",
                    "    issue: acme/infra#123\n    resume: escalate\n"));
  ASSERT_TRUE(l.catalog.ok());
  EXPECT_EQ(l.catalog->workarounds[0].resume, Resume::kEscalate);
  for (const char* bad : {"retry", "true", "[rerun]"}) {
    l = Parse(Replace(kBase, "    issue: acme/infra#123\n",
                      std::string("    issue: acme/infra#123\n    resume: ") + bad + "\n"));
    ASSERT_FALSE(l.catalog.ok()) << bad;
    bool named = false;
    for (const Violation& v : l.violations) {
      if (v.field == "resume" && v.line > 0 && v.severity == Severity::kError) named = true;
    }
    EXPECT_TRUE(named) << bad;
  }
  // Rerunning an observe-mode workaround reruns diagnostics only: a warning.
  l = Parse(Replace(kBase, "    issue: acme/infra#123\n",
                    "    issue: acme/infra#123\n    mode: observe\n    resume: rerun\n"));
  ASSERT_TRUE(l.catalog.ok());
  bool warned = false;
  for (const Violation& v : l.violations) {
    if (v.field == "resume" && v.severity == Severity::kWarning) warned = true;
  }
  EXPECT_TRUE(warned);
}

TEST(CatalogTest, ServerTokensScopesAndHosts) {
  Loaded l = Parse(Replace(
      kBase, "server: {listen: 127.0.0.1:9470, token_file: /etc/stopgap/token}",
      "server: {listen: 127.0.0.1:9470, metrics_auth: true, allowed_hosts: [stopgap.lan:9470],\n"
      "  tokens: [{name: am, file: /etc/stopgap/am.token, scopes: [alerts]},\n"
      "           {name: ops, file: /etc/stopgap/ops.token, scopes: [read, run]}]}"));
  ASSERT_TRUE(l.catalog.ok()) << l.catalog.status().ToString();
  const ServerConfig& s = l.catalog->server;
  ASSERT_EQ(s.tokens.size(), 2u);
  EXPECT_EQ(s.tokens[0].name, "am");
  EXPECT_EQ(s.tokens[1].scopes, (std::vector<std::string>{"read", "run"}));
  EXPECT_TRUE(s.read_auth);  // reads are closed by default
  EXPECT_TRUE(s.metrics_auth);
  EXPECT_EQ(s.allowed_hosts, (std::vector<std::string>{"stopgap.lan:9470"}));
  auto bad = [](std::string tokens) {
    return Parse(Replace(kBase, "token_file: /etc/stopgap/token}", "tokens: " + tokens + "}"));
  };
  EXPECT_NE(Only(bad("[{name: a, file: /x, scopes: [root]}]"), "bad-value"), nullptr);
  EXPECT_NE(Only(bad("[{name: a, file: /x, scopes: []}]"), "bad-value"), nullptr);
  EXPECT_NE(Only(bad("[{name: a, file: /x, scopes: [read], secret: y}]"), "unknown-key"), nullptr);
  EXPECT_NE(Only(bad("[{name: a, file: /x, scopes: [read]}, {name: a, file: /y, scopes: [run]}]"),
                 "duplicate-key"),
            nullptr);
}

TEST(CatalogTest, BadRedactPatternIsRefused) {
  Loaded l =
      Parse(Replace(kBase, "max_runs_per_hour: 60}", "max_runs_per_hour: 60, redact: [\"re:(\"]}"));
  EXPECT_NE(Only(l, "bad-pattern"), nullptr);
}

TEST(CatalogTest, MissingIssue) {
  Loaded l = Parse(Replace(kBase, "    issue: acme/infra#123\n", ""));
  EXPECT_FALSE(l.catalog.ok());
  const Violation* v = Only(l, "missing-issue");
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->file, "stopgap.yaml");
  EXPECT_EQ(v->line, 6);
  EXPECT_EQ(v->workaround_id, "nova-rpc");
  EXPECT_EQ(v->field, "issue");
}

TEST(CatalogTest, EmptyIssue) {
  Loaded l = Parse(Replace(kBase, "issue: acme/infra#123", "issue: \"\""));
  EXPECT_FALSE(l.catalog.ok());
  Only(l, "missing-issue");
}

TEST(CatalogTest, UnrecognisableIssue) {
  Loaded l = Parse(Replace(kBase, "issue: acme/infra#123", "issue: \"fix it later\""));
  EXPECT_FALSE(l.catalog.ok());
  const Violation* v = Only(l, "bad-issue");
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->line, 7);
}

TEST(CatalogTest, IssueFormsAccepted) {
  for (const char* issue :
       {"OPS-123", "\"#7\"", "https://redmine.example.org/issues/9", "grp/sub/repo#1"}) {
    Loaded l = Parse(Replace(kBase, "acme/infra#123", issue));
    EXPECT_TRUE(l.catalog.ok()) << issue << ": " << l.catalog.status().ToString();
  }
}

TEST(CatalogTest, BadCause) {
  Loaded l = Parse(Replace(kBase, "cause: in-house", "cause: software"));
  EXPECT_FALSE(l.catalog.ok());
  const Violation* v = Only(l, "bad-cause");
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->line, 8);
}

TEST(CatalogTest, MissingCause) {
  Loaded l = Parse(Replace(kBase, "    cause: in-house\n", ""));
  EXPECT_FALSE(l.catalog.ok());
  Only(l, "bad-cause");
}

TEST(CatalogTest, MissingExpiresInHouse) {
  Loaded l = Parse(Replace(kBase, "    expires: 2026-12-20\n", ""));
  EXPECT_FALSE(l.catalog.ok());
  const Violation* v = Only(l, "missing-expires");
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->workaround_id, "nova-rpc");
}

TEST(CatalogTest, MissingExpiresVendor) {
  std::string text = Replace(kBase, "cause: in-house", "cause: vendor");
  Loaded l = Parse(Replace(text, "    expires: 2026-12-20\n", ""));
  EXPECT_FALSE(l.catalog.ok());
  Only(l, "missing-expires");
}

TEST(CatalogTest, HardwareMayGoWithoutExpires) {
  Loaded l = Parse(kBase);  // disk-fan has none
  EXPECT_TRUE(l.catalog.ok());
}

TEST(CatalogTest, ExpiresBeyondMaxTtlUndiagnosed) {
  // 40 days out: beyond max_ttl_undiagnosed (30d), within max_ttl (90d).
  Loaded l = Parse(Replace(kBase, "2026-12-20", "2027-01-04"));
  EXPECT_FALSE(l.catalog.ok());
  const Violation* v = Only(l, "expires-beyond-ttl");
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->line, 11);
  EXPECT_NE(v->message.find("max_ttl_undiagnosed"), std::string::npos);
}

TEST(CatalogTest, DiagnosedUsesMaxTtl) {
  std::string text = Replace(kBase, "diagnosed: false\n    root_cause: \"\"",
                             "diagnosed: true\n    root_cause: \"leaked connections\"");
  EXPECT_TRUE(Parse(Replace(text, "2026-12-20", "2027-01-04")).catalog.ok());
  // 91 days: beyond max_ttl.
  Loaded l = Parse(Replace(text, "2026-12-20", "2027-02-24"));
  EXPECT_FALSE(l.catalog.ok());
  const Violation* v = Only(l, "expires-beyond-ttl");
  ASSERT_NE(v, nullptr);
  EXPECT_NE(v->message.find("policy.max_ttl ("), std::string::npos);
  // 90 days exactly is allowed.
  EXPECT_TRUE(Parse(Replace(text, "2026-12-20", "2027-02-23")).catalog.ok());
}

TEST(CatalogTest, ExpiredIsReportedButLoads) {
  Loaded l = Parse(Replace(kBase, "2026-12-20", "2026-11-01"));
  // The catalog still loads (the daemon keeps running); the workaround refuses.
  ASSERT_TRUE(l.catalog.ok()) << l.catalog.status().ToString();
  const Violation* v = Only(l, kRuleExpired);
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->severity, Severity::kError);
  EXPECT_EQ(v->line, 11);
  EXPECT_EQ(StateOf(l.catalog->workarounds[0], kToday), WorkaroundState::kExpired);
}

TEST(CatalogTest, ExpiresTodayIsExpired) {
  Loaded l = Parse(Replace(kBase, "2026-12-20", "2026-11-25"));
  ASSERT_TRUE(l.catalog.ok());
  Only(l, kRuleExpired);
}

TEST(CatalogTest, ExpiringSoonIsAWarning) {
  Loaded l = Parse(Replace(kBase, "2026-12-20", "2026-12-05"));  // 10 days
  ASSERT_TRUE(l.catalog.ok());
  std::erase_if(l.violations, [](const Violation& v) { return v.rule == "label-without-schema"; });
  ASSERT_EQ(l.violations.size(), 1u);
  EXPECT_EQ(l.violations[0].severity, Severity::kWarning);
  EXPECT_EQ(l.violations[0].rule, "expiring");
  EXPECT_EQ(StateOf(l.catalog->workarounds[0], kToday), WorkaroundState::kExpiring);
  // 25 days: no expiry warning (the one left is the label's missing schema).
  Loaded later = Parse(kBase);
  ASSERT_EQ(later.violations.size(), 1u);
  EXPECT_EQ(later.violations[0].rule, "label-without-schema");
}

TEST(CatalogTest, BadDate) {
  Loaded l = Parse(Replace(kBase, "2026-12-20", "2026-13-40"));
  EXPECT_FALSE(l.catalog.ok());
  Only(l, "bad-date");
}

TEST(CatalogTest, DiagnosedWithoutRootCause) {
  Loaded l = Parse(Replace(kBase, "diagnosed: false", "diagnosed: true"));
  EXPECT_FALSE(l.catalog.ok());
  const Violation* v = Only(l, "missing-root-cause");
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->line, 10);
}

TEST(CatalogTest, DiagnosedMustBeSaid) {
  Loaded l = Parse(Replace(kBase, "    diagnosed: false\n", ""));
  EXPECT_FALSE(l.catalog.ok());
  Only(l, "missing-diagnosed");
}

TEST(CatalogTest, MissingDiagnostics) {
  std::string text = Replace(kBase,
                             "    diagnostics:\n      - collect: [system, tcp]\n"
                             "      - collect: process\n        pidfile: /run/nova.pid\n",
                             "");
  text = Replace(text,
                 "      - guru: {pidfile: /run/nova.pid, signal: USR2, report: "
                 "\"/var/log/nova/guru-*.txt\", timeout: 5s}\n      - run: [ss, -tanp]\n",
                 "");
  Loaded l = Parse(text);
  EXPECT_FALSE(l.catalog.ok());
  Only(l, "missing-diagnostics");
}

TEST(CatalogTest, EmptyDiagnostics) {
  std::string text =
      Replace(kBase, "    diagnostics:\n      - run: [sensors]\n", "    diagnostics: []\n");
  Loaded l = Parse(text);
  EXPECT_FALSE(l.catalog.ok());
  const Violation* v = Only(l, "missing-diagnostics");
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->workaround_id, "disk-fan");
}

TEST(CatalogTest, EmptyAction) {
  Loaded l = Parse(Replace(kBase, "    action:\n      - run: [fanctl, max]\n", "    action: []\n"));
  EXPECT_FALSE(l.catalog.ok());
  const Violation* v = Only(l, "empty-action");
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->workaround_id, "disk-fan");
}

TEST(CatalogTest, MissingAction) {
  Loaded l = Parse(Replace(kBase, "    action:\n      - run: [fanctl, max]\n", ""));
  EXPECT_FALSE(l.catalog.ok());
  Only(l, "empty-action");
}

TEST(CatalogTest, DuplicateIds) {
  Loaded l = Parse(Replace(kBase, "id: disk-fan", "id: nova-rpc"));
  EXPECT_FALSE(l.catalog.ok());
  const Violation* v = Only(l, "duplicate-id");
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->line, 25);
  EXPECT_NE(v->message.find("line 6"), std::string::npos);
}

TEST(CatalogTest, UnknownKeyTopLevel) {
  Loaded l = Parse(Replace(kBase, "bundles:", "bundels: /x\nbundles:"));
  EXPECT_FALSE(l.catalog.ok());
  const Violation* v = Only(l, "unknown-key");
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->line, 3);
  EXPECT_EQ(v->field, "bundels");
}

TEST(CatalogTest, UnknownKeyInWorkaround) {
  // A typo must not silently disable a safety rule.
  Loaded l = Parse(Replace(kBase, "    limits: {cooldown", "    limit: {cooldown"));
  EXPECT_FALSE(l.catalog.ok());
  const Violation* v = Only(l, "unknown-key");
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->workaround_id, "nova-rpc");
  EXPECT_EQ(v->line, 24);
  EXPECT_EQ(v->field, "limit");
}

TEST(CatalogTest, UnknownKeyInLimits) {
  Loaded l = Parse(Replace(kBase, "cooldown: 10m", "cooldwn: 10m"));
  EXPECT_FALSE(l.catalog.ok());
  const Violation* v = Only(l, "unknown-key");
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->field, "limits.cooldwn");
}

TEST(CatalogTest, UnknownKeyInStep) {
  Loaded l = Parse(Replace(kBase, "        timeout: 60s", "        timout: 60s"));
  EXPECT_FALSE(l.catalog.ok());
  const Violation* v = Only(l, "unknown-key");
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->field, "action[0].timout");
  EXPECT_EQ(v->line, 21);
}

TEST(CatalogTest, UnknownKeyInGuru) {
  Loaded l = Parse(Replace(kBase, "signal: USR2", "sig: USR2"));
  EXPECT_FALSE(l.catalog.ok());
  Only(l, "unknown-key");
}

TEST(CatalogTest, UnknownKeyInMatchPolicyServer) {
  EXPECT_FALSE(Parse(Replace(kBase, "labels: {severity", "label: {severity")).catalog.ok());
  EXPECT_FALSE(Parse(Replace(kBase, "max_runs_per_hour", "max_run_per_hour")).catalog.ok());
  EXPECT_FALSE(Parse(Replace(kBase, "token_file:", "tokenfile:")).catalog.ok());
}

TEST(CatalogTest, DuplicateKey) {
  Loaded l =
      Parse(Replace(kBase, "    cause: in-house\n", "    cause: in-house\n    cause: vendor\n"));
  EXPECT_FALSE(l.catalog.ok());
  Only(l, "duplicate-key");
}

TEST(CatalogTest, BadDurationCooldown) {
  Loaded l = Parse(Replace(kBase, "cooldown: 10m", "cooldown: 10 minutes"));
  EXPECT_FALSE(l.catalog.ok());
  const Violation* v = Only(l, "bad-duration");
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->field, "limits.cooldown");
  EXPECT_EQ(v->line, 24);
}

TEST(CatalogTest, BadDurationStepTimeout) {
  Loaded l = Parse(Replace(kBase, "timeout: 60s", "timeout: 60"));
  EXPECT_FALSE(l.catalog.ok());
  Only(l, "bad-duration");
}

TEST(CatalogTest, BadDurationPolicy) {
  Loaded l = Parse(Replace(kBase, "max_ttl: 90d", "max_ttl: ninety"));
  EXPECT_FALSE(l.catalog.ok());
  const Violation* v = Only(l, "bad-duration");
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->line, 4);
  EXPECT_EQ(v->workaround_id, "");
}

TEST(CatalogTest, BadDurationMaxRunsPer) {
  EXPECT_FALSE(Parse(Replace(kBase, "per: 24h", "per: 24 hours")).catalog.ok());
}

TEST(CatalogTest, TemplateOtherThanLabels) {
  Loaded l = Parse(Replace(kBase, "\"{{labels.service}}\"", "\"{{alert.name}}\""));
  EXPECT_FALSE(l.catalog.ok());
  const Violation* v = Only(l, "bad-template");
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->field, "action[0].run[2]");
}

TEST(CatalogTest, TemplateMustBeWholeArgument) {
  Loaded l = Parse(Replace(kBase, "\"{{labels.service}}\"", "\"--unit={{labels.service}}\""));
  EXPECT_FALSE(l.catalog.ok());
  Only(l, "bad-template");
}

TEST(CatalogTest, TemplateCannotBeTheProgram) {
  Loaded l = Parse(Replace(kBase, "[systemctl, restart, \"{{labels.service}}\"]",
                           "[\"{{labels.prog}}\", restart]"));
  EXPECT_FALSE(l.catalog.ok());
  Only(l, "bad-template");
}

TEST(CatalogTest, TemplateOutsideRun) {
  Loaded l = Parse(Replace(kBase, "pidfile: /run/nova.pid\n", "pidfile: \"{{labels.pidfile}}\"\n"));
  EXPECT_FALSE(l.catalog.ok());
  Only(l, "bad-template");
}

TEST(CatalogTest, StepMustBeOneKind) {
  Loaded l = Parse(
      Replace(kBase, "      - run: [ss, -tanp]", "      - run: [ss]\n        collect: [tcp]"));
  EXPECT_FALSE(l.catalog.ok());
  Only(l, "bad-step");
}

TEST(CatalogTest, ProcessCollectorNeedsPid) {
  Loaded l = Parse(Replace(kBase, "        pidfile: /run/nova.pid\n", ""));
  EXPECT_FALSE(l.catalog.ok());
  Only(l, "bad-step");
}

TEST(CatalogTest, UnknownCollector) {
  Loaded l = Parse(Replace(kBase, "[system, tcp]", "[system, tpc]"));
  EXPECT_FALSE(l.catalog.ok());
  Only(l, "bad-collector");
}

TEST(CatalogTest, GuruNeedsReportAndKnownSignal) {
  EXPECT_FALSE(Parse(Replace(kBase, ", report: \"/var/log/nova/guru-*.txt\"", "")).catalog.ok());
  EXPECT_FALSE(Parse(Replace(kBase, "signal: USR2", "signal: USR9")).catalog.ok());
}

// A guru step signals a live service: 9 (or any number) and lethal names are
// refused at check time with the line; another named signal needs an explicit
// allow_any_signal.
TEST(CatalogTest, GuruSignalIsNamedAndNonLethal) {
  for (const char* bad : {"signal: 9", "signal: KILL", "signal: TERM", "signal: SIGINT"}) {
    Loaded l = Parse(Replace(kBase, "signal: USR2", bad));
    EXPECT_FALSE(l.catalog.ok()) << bad;
    const Violation* v = Only(l, "bad-value");
    ASSERT_NE(v, nullptr) << bad;
    EXPECT_EQ(v->line, 17) << bad;
  }
  for (const char* good :
       {"signal: USR1", "signal: HUP", "signal: SIGUSR2", "signal: TERM, allow_any_signal: true"}) {
    Loaded l = Parse(Replace(kBase, "signal: USR2", good));
    EXPECT_TRUE(l.catalog.ok()) << good << ": " << l.catalog.status().ToString();
  }
  EXPECT_FALSE(
      Parse(Replace(kBase, "signal: USR2", "signal: 9, allow_any_signal: true")).catalog.ok());
}

TEST(CatalogTest, ExeIsAnAbsolutePathOnProcessTargets) {
  Loaded ok = Parse(Replace(kBase, "signal: USR2", "exe: /usr/bin/nova-api, signal: USR2"));
  ASSERT_TRUE(ok.catalog.ok()) << ok.catalog.status().ToString();
  EXPECT_EQ(std::get<GuruStep>(ok.catalog->workarounds[0].diagnostics[2].body).exe,
            "/usr/bin/nova-api");
  Loaded c = Parse(Replace(kBase, "        pidfile: /run/nova.pid\n",
                           "        pidfile: /run/nova.pid\n        exe: /usr/bin/nova\n"));
  ASSERT_TRUE(c.catalog.ok()) << c.catalog.status().ToString();
  EXPECT_EQ(std::get<CollectStep>(c.catalog->workarounds[0].diagnostics[1].body).exe,
            "/usr/bin/nova");
  EXPECT_FALSE(Parse(Replace(kBase, "signal: USR2", "exe: nova-api, signal: USR2")).catalog.ok());
}

TEST(CatalogTest, BadLimits) {
  EXPECT_FALSE(Parse(Replace(kBase, "concurrency: 1", "concurrency: 0")).catalog.ok());
  EXPECT_FALSE(Parse(Replace(kBase, "count: 5", "count: -1")).catalog.ok());
  EXPECT_FALSE(Parse(Replace(kBase, "{count: 5, per: 24h}", "{count: 5}")).catalog.ok());
}

TEST(CatalogTest, BadLedgerUrl) {
  Loaded l = Parse(Replace(kBase, "sqlite:///var", "mysql:///var"));
  EXPECT_FALSE(l.catalog.ok());
  Only(l, "bad-ledger");
  Loaded pg = Parse(Replace(kBase, "sqlite:///var/lib/stopgap/ledger.db", "postgresql://db/x"));
  ASSERT_TRUE(pg.catalog.ok());
  EXPECT_EQ(pg.catalog->ledger.kind, LedgerConfig::Kind::kPostgres);
}

TEST(CatalogTest, RelativeSqlitePath) {
  Loaded l = Parse(Replace(kBase, "sqlite:///var/lib/stopgap/ledger.db", "sqlite://.run/l.db"));
  ASSERT_TRUE(l.catalog.ok());
  EXPECT_EQ(l.catalog->ledger.path, ".run/l.db");
}

TEST(CatalogTest, YamlSyntaxErrorNamesTheLine) {
  Loaded l = Parse(Replace(kBase, "    cause: in-house\n", "    cause: [in-house\n"));
  EXPECT_FALSE(l.catalog.ok());
  ASSERT_FALSE(l.violations.empty());
  EXPECT_EQ(l.violations[0].rule, "yaml-syntax");
  EXPECT_GT(l.violations[0].line, 0);
}

TEST(CatalogTest, EveryViolationIsReported) {
  std::string text = Replace(kBase, "cause: in-house", "cause: software");
  text = Replace(text, "cooldown: 10m", "cooldown: soon");
  text = Replace(text, "id: disk-fan", "id: nova-rpc");
  Loaded l = Parse(text);
  EXPECT_FALSE(l.catalog.ok());
  std::vector<std::string> rules;
  for (const Violation& v : l.violations) rules.push_back(v.rule);
  std::sort(rules.begin(), rules.end());
  EXPECT_EQ(rules, (std::vector<std::string>{"bad-cause", "bad-duration", "duplicate-id",
                                             "label-without-schema"}));
  EXPECT_NE(l.catalog.status().message().find("3 catalog violation(s)"), std::string::npos);
}

TEST(CatalogTest, ViolationToString) {
  Loaded l = Parse(Replace(kBase, "    issue: acme/infra#123\n", ""));
  ASSERT_FALSE(l.violations.empty());
  EXPECT_EQ(l.violations[0].ToString().substr(0, 50),
            "stopgap.yaml:6: error: workaround 'nova-rpc': issu");
}

TEST(CatalogTest, DeepNestingRefused) {
  std::string deep = "workarounds: " + std::string(1000, '[');
  Loaded l = Parse(deep);
  EXPECT_FALSE(l.catalog.ok());
}

TEST(CatalogTest, StateOfRetired) {
  Loaded l = Parse(kBase);
  ASSERT_TRUE(l.catalog.ok());
  const Workaround& w = l.catalog->workarounds[0];
  EXPECT_EQ(StateOf(w, kToday), WorkaroundState::kActive);
  EXPECT_EQ(StateOf(w, kToday, {"acme/infra#123"}), WorkaroundState::kRetired);
  EXPECT_EQ(DaysLeft(w, kToday), 25);
  EXPECT_EQ(DaysLeft(l.catalog->workarounds[1], kToday), std::nullopt);
}

}  // namespace
}  // namespace stopgap::remedy
