// The workaround catalog (YAML, format in docs/catalog.md) and the
// accountability rules enforced while loading it: every workaround names an
// issue, has a cause, expires within policy (unless hardware), is diagnosed
// with a root cause or marked undiagnosed, gathers diagnostics first, and has
// an action. Unknown keys are refused at every level.
//
//   std::vector<Violation> v;
//   Result<Catalog> c = LoadCatalog("stopgap.yaml", CivilDayOf(clock.Now()), &v);
//   for (const Violation& x : v) fprintf(stderr, "%s\n", x.ToString().c_str());
//
// Thread safety: loading is a pure function of (text, today); a Catalog is an
// immutable value once loaded (share it as std::shared_ptr<const Catalog>).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "remedy/issue_ref.h"
#include "remedy/template.h"

namespace stopgap::remedy {

using namespace std::chrono_literals;

// ---- Steps -----------------------------------------------------------------

// `run: [prog, arg, "{{labels.X}}"]`: an argv array, never a shell.
struct RunStep {
  std::vector<std::string> argv;
};
// `collect: [system, tcp]` or `collect: process` with pid/pidfile/stacks.
struct CollectStep {
  std::vector<std::string> collectors;
  std::optional<int64_t> pid;
  std::string pidfile;
  bool stacks = false;
  std::string exe;  // optional: the target's /proc/PID/exe must resolve to it
};
// `guru: {pidfile: …, signal: USR2, report: "/var/log/x/guru-*.txt"}`.
// The signal is USR1, USR2 or HUP unless `allow_any_signal: true`.
struct GuruStep {
  std::optional<int64_t> pid;
  std::string pidfile;
  std::string exe;  // optional: the target's /proc/PID/exe must resolve to it
  std::string signal = "USR2";
  std::string report_glob;
};

enum class StepKind { kRun, kCollect, kGuru };
std::string_view StepKindName(StepKind kind);  // "run", "collect", "guru"

struct Step {
  std::variant<RunStep, CollectStep, GuruStep> body;
  Duration timeout = 60s;  // run: 60s, collect/guru: 5s unless set
  int line = 0;            // 1-based line in the catalog

  StepKind kind() const { return static_cast<StepKind>(body.index()); }
  // One line for plans and logs: "run: ss -tanp", "collect: system, tcp".
  std::string Describe() const;
};

// ---- Workarounds -------------------------------------------------------------

enum class Cause { kInHouse, kVendor, kHardware };
std::string_view CauseName(Cause cause);  // "in-house", "vendor", "hardware"

struct MatchRule {
  std::string alertname;                      // required when `match:` is present
  std::map<std::string, std::string> labels;  // exact equality, all must hold
};

// What `stopgap serve` does with a firing instance that finds all of its
// workaround's concurrency slots taken: wait for one (up to queue_timeout),
// or refuse it (`concurrency`; a later notification of the same instance may
// then act).
enum class OnBusy { kQueue, kRefuse };
std::string_view OnBusyName(OnBusy b);  // "queue", "refuse"

struct Limits {
  Duration cooldown{0};  // 0: none
  struct MaxRuns {
    int count = 0;
    Duration per{0};
  };
  std::optional<MaxRuns> max_runs;
  int concurrency = 1;  // executions of this workaround in flight at once
  OnBusy on_busy = OnBusy::kQueue;
  Duration queue_timeout = 10min;  // on_busy: queue: the longest wait for a slot
  // `group_by: [host]`: cooldown, max_runs and concurrency count per group of
  // these label values (an alert without the label is in the group with "").
  // Empty (the default): one group for all the workaround's executions.
  std::vector<std::string> group_by;
};

// The group an alert's labels put an execution in: {label: value} for each
// of limits.group_by (a missing label reads ""); {} without group_by.
std::map<std::string, std::string> GroupOf(const Limits& limits,
                                           const std::map<std::string, std::string>& labels);

// `repeat: {every: 30m, max: 3}`: a firing instance whose action or verify
// failed may run again while it still fires, at most `max` attempts in all,
// `every` apart. Without it, a failed instance escalates on its issue instead.
struct Repeat {
  Duration every{0};
  int max = 1;
};

// `mode:` — how far a workaround is trusted to act alone. auto: diagnostics,
// action, verify. observe (shadow mode): diagnostics run on real alerts, the
// action is only recorded as "would run" with its argv. approve: diagnostics
// run, then the execution waits (awaiting-approval) until a person with the
// `approve` scope approves or denies it, or approval_timeout passes.
enum class Mode { kAuto, kObserve, kApprove };
std::string_view ModeName(Mode m);  // "auto", "observe", "approve"

// `resume:` — what becomes of an execution that was cut short (its node
// died and its lease lapsed, its process was killed, a shutdown stopped it)
// and so reads `interrupted`. escalate (the default): it stays recorded, and a
// re-notification of its still-firing alert escalates on the issue. rerun: a
// `stopgap serve` runs the workaround once more for it, as a new execution
// linked to it (rerun_of), claimed in the ledger so that one node only does.
// A rerun that is itself interrupted escalates: it is never rerun again.
enum class Resume { kEscalate, kRerun };
std::string_view ResumeName(Resume r);  // "escalate", "rerun"

struct Workaround {
  std::string id;
  IssueRef issue;
  Cause cause = Cause::kInHouse;
  bool diagnosed = false;
  std::string root_cause;
  std::string description;          // optional free text
  std::optional<CivilDay> expires;  // absent only for hardware
  std::optional<MatchRule> match;   // absent: runs only by hand
  // `labels: {service: {pattern: "nova-[a-z-]+"}, sig: {values: [HUP, USR1]}}`:
  // what each {{labels.X}} may hold; without one, IsSafeLabelValue decides.
  LabelSchemas labels;
  std::vector<Step> diagnostics;  // never empty
  std::vector<Step> action;       // never empty
  std::vector<Step> verify;       // may be empty
  Limits limits;
  std::optional<Repeat> repeat;
  Mode mode = Mode::kAuto;
  Duration approval_timeout = 15min;  // mode: approve: the longest wait for a decision
  Resume resume = Resume::kEscalate;
  int line = 0;  // line of the `- id:` entry
};

// ---- Top-level sections --------------------------------------------------------

// `server.tokens: [{name: alertmanager, file: /etc/stopgap/am.token, scopes: [alerts]}]`.
struct TokenConfig {
  std::string name;                 // recorded in the ledger with each write
  std::string file;                 // one line, mode 0600
  std::vector<std::string> scopes;  // read, alerts, run, approve, admin
  int line = 0;
};

struct ServerConfig {
  std::string listen = "127.0.0.1:9470";
  std::string token_file;           // legacy: one token "default" with every scope
  std::vector<TokenConfig> tokens;  // named tokens with scopes
  bool read_auth = true;            // GETs of the API need a token with `read`
  bool metrics_auth = false;        // /metrics needs a token with `read`
  // Host headers accepted ("host:port", or "host" for any port; "*": any);
  // empty: the listen address, localhost, 127.0.0.1 and [::1] with its port.
  std::vector<std::string> allowed_hosts;
  std::string tls_cert;
  std::string tls_key;
};

struct LedgerConfig {
  enum class Kind { kSqlite, kPostgres };
  Kind kind = Kind::kSqlite;
  std::string url = "sqlite:///var/lib/stopgap/ledger.db";
  std::string path;  // kSqlite: the file (relative to the working directory unless absolute)
  std::vector<std::string> redact;  // policy.redact, copied by the loader: the ledger masks with it
};

struct ArchiveConfig {
  std::string url;  // s3://bucket/prefix, swift://container/prefix, file:///dir
  std::string endpoint;
  std::string region;
  bool path_style = false;
};

struct TrackerConfig {
  std::string kind;  // github | gitlab | jira | redmine
  std::string url;
  std::string token_file;
  std::string project;
  Duration refresh = 5min;           // how often issue states are read
  Duration update_interval = 15min;  // how often run counts are posted
};

struct Policy {
  Duration max_ttl = 90 * 24h;
  Duration max_ttl_undiagnosed = 30 * 24h;
  int max_runs_per_hour = 60;          // across all workarounds: the circuit breaker
  Duration retain = 400 * 24h;         // ledger rows
  Duration retain_bundles = 90 * 24h;  // bundle directories
  std::vector<std::string> redact;     // extra secret-name patterns for bundles
};

struct Catalog {
  std::string path;  // the file it was loaded from
  ServerConfig server;
  LedgerConfig ledger;
  std::string bundles = "/var/lib/stopgap/bundles";
  std::optional<ArchiveConfig> archive;
  std::string statsd;  // "host:port", empty when unset
  std::optional<TrackerConfig> tracker;
  Policy policy;
  std::vector<Workaround> workarounds;

  const Workaround* Find(std::string_view id) const;
};

// ---- Violations ------------------------------------------------------------------

enum class Severity { kError, kWarning };

struct Violation {
  std::string file;
  int line = 0;
  std::string workaround_id;  // empty for top-level problems
  std::string field;          // "issue", "limits.cooldown", "diagnostics[0].run"
  std::string rule;           // short code: "missing-issue", "expired", "unknown-key", ...
  std::string message;
  Severity severity = Severity::kError;

  // "stopgap.yaml:12: error: workaround 'x': issue: <message> [missing-issue]"
  std::string ToString() const;
};

// The rule code of an expired workaround. It is an error for `check` (exit 2),
// but does not stop the catalog from loading: the workaround refuses to run.
inline constexpr std::string_view kRuleExpired = "expired";
// Warned about (not an error) when a workaround expires within this many days.
inline constexpr int kExpiringWithinDays = 14;

// Parses catalog text. `file` names it in violations. Every violation found is
// appended to `violations` (may be null). Fails (kInvalidArgument, message
// "N catalog violation(s), first: …") when any error other than kRuleExpired
// was found: a bad catalog is refused whole.
Result<Catalog> ParseCatalog(std::string_view yaml, std::string_view file, CivilDay today,
                             std::vector<Violation>* violations);
// Reads `path` and parses it.
Result<Catalog> LoadCatalog(const std::string& path, CivilDay today,
                            std::vector<Violation>* violations);

// ---- State -------------------------------------------------------------------------

enum class WorkaroundState { kActive, kExpiring, kExpired, kRetired };
std::string_view WorkaroundStateName(WorkaroundState state);

// Days until `expires` (0 on the day itself, negative after); nullopt when the
// workaround has no expiry (hardware).
std::optional<int64_t> DaysLeft(const Workaround& w, CivilDay today);
// Retired when its issue (IssueRef::text) is in `closed_issues`; expired when
// today >= expires (the expiry day itself no longer runs); expiring within
// kExpiringWithinDays; else active.
WorkaroundState StateOf(const Workaround& w, CivilDay today,
                        const std::set<std::string>& closed_issues = {});

}  // namespace stopgap::remedy
