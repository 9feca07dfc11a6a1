// Export, import and migrate of a ledger; see ledger_transfer.h and
// docs/ledger-schema.md ("Export format").
#include "remedy/ledger_transfer.h"

#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <set>
#include <vector>

#include "remedy/internal/ledger_codec.h"
#include "remedy/internal/ledger_tables.h"
#include "remedy/internal/pg_db.h"
#include "remedy/ledger.h"
#include "remedy/ledger_export_format.h"

namespace stopgap::remedy {
namespace {

using internal::LedgerTables;
using internal::TableColumns;

// What is not history, one row per table or column (column "" = the whole
// table), and what becomes of it.
struct NotHistory {
  const char* table;
  const char* column;
  const char* why;
};
// Never exported: which node runs the cluster's housekeeping right now.
constexpr NotHistory kNotExported[] = {
    {"singleton_leases", "", "the nodes of the new ledger elect their singletons again"},
};
// Exported, and dropped on import when the target's schema has no place for
// them: they only mean something on several PostgreSQL nodes.
constexpr NotHistory kTargetMayLack[] = {
    {"claims", "", "one claim per alert and firing window, for several nodes; SQLite has one"},
    {"transitions", "id", "a surrogate key; transitions keep their order by insertion"},
    {"executions", "lease_until", "a node's lease on a running execution"},
};

template <size_t N>
bool Listed(const NotHistory (&list)[N], std::string_view table, std::string_view column) {
  return std::any_of(std::begin(list), std::end(list),
                     [&](const NotHistory& n) { return n.table == table && n.column == column; });
}

// Executions first: steps, transitions and claims refer to them.
void OrderForImport(std::vector<TableColumns>* tables) {
  std::stable_sort(tables->begin(), tables->end(),
                   [](const TableColumns& a, const TableColumns& b) {
                     return (a.table == "executions") > (b.table == "executions");
                   });
}

Status SameLedger(const LedgerConfig& a, const LedgerConfig& b) {
  if (a.kind != b.kind) return Status::Ok();
  if (a.kind == LedgerConfig::Kind::kPostgres ? a.url == b.url : a.path == b.path) {
    return InvalidArgument("--from and --to name the same ledger");
  }
  if (a.kind == LedgerConfig::Kind::kSqlite) {
    char ra[PATH_MAX], rb[PATH_MAX];
    if (::realpath(a.path.c_str(), ra) && ::realpath(b.path.c_str(), rb) &&
        std::string_view(ra) == std::string_view(rb)) {
      return InvalidArgument("--from and --to name the same ledger file");
    }
  }
  return Status::Ok();
}

std::string Describe(LedgerTables& t, int64_t version) {
  return t.Backend() + " ledger " + t.Where() + " (schema version " + std::to_string(version) + ")";
}

// ---- the comparison after a migration ----

using Section = std::pair<std::string, std::vector<std::string>>;

std::string OptMs(const std::optional<WallTime>& t) {
  return t ? std::to_string(internal::Ms(*t)) : "-";
}

// `acting` only where the query fills it (ListRunsSince, the cost's input).
std::string ExecutionLine(const ExecutionRecord& r, bool acting) {
  std::string s =
      std::to_string(r.id) + " " + r.workaround_id + " " + r.issue + " " + r.fingerprint + " " +
      (r.alert_id ? std::to_string(*r.alert_id) : std::string("-")) + " " + r.source + " " +
      r.token + " " + internal::MapJson(r.labels) + " " + std::string(ExecutionStateName(r.state)) +
      " " + r.refusal_reason + " " + r.detail + " " + std::to_string(internal::Ms(r.created_at)) +
      " " + std::to_string(internal::Ms(r.updated_at)) + " " + OptMs(r.finished_at) + " " +
      r.bundle_dir + " " + OptMs(r.instance_start) + " " + std::to_string(r.attempt) + " " +
      internal::MapJson(r.group) + " " + OptMs(r.degraded_end) + " " +
      (acting ? std::to_string(r.acting.count()) : std::string("-")) + " " + r.mode + " " +
      OptMs(r.approval_deadline);
  if (r.approval) {
    s += " " + std::string(ApprovalDecisionName(r.approval->decision)) + " " + r.approval->by +
         " " + r.approval->comment + " " + std::to_string(internal::Ms(r.approval->at));
  }
  return s;
}

// What `report` and the API read from a ledger, as text lines per section.
Result<std::vector<Section>> Digest(ExecutionLedger& l, WallTime now) {
  std::vector<Section> out;
  Result<std::vector<IssueCounts>> issues = l.CountByIssue(now);
  if (!issues.ok()) return issues.status();
  Section& is = out.emplace_back("counts by issue", std::vector<std::string>{});
  for (const IssueCounts& c : *issues) {
    std::string ids;
    for (const std::string& w : c.workarounds) ids += " " + w;
    is.second.push_back(c.issue + " " + std::to_string(c.runs_24h) + " " +
                        std::to_string(c.runs_7d) + " " + std::to_string(c.runs_total) + " " +
                        std::to_string(c.refusals_total) + ids);
  }
  Result<std::vector<WorkaroundCounts>> was = l.CountByWorkaround(now);
  if (!was.ok()) return was.status();
  Section& ws = out.emplace_back("counts by workaround", std::vector<std::string>{});
  for (const WorkaroundCounts& c : *was) {
    ws.second.push_back(c.workaround_id + " " + c.issue + " " + std::to_string(c.runs_24h) + " " +
                        std::to_string(c.runs_7d) + " " + std::to_string(c.runs_total) + " " +
                        std::to_string(c.refusals_total) + " " + c.last_result + " " +
                        c.last_refusal_reason + " " + OptMs(c.last_at));
  }
  Section& es = out.emplace_back("executions", std::vector<std::string>{});
  ExecutionFilter f;
  f.limit = 1000;
  for (;;) {
    Result<std::vector<ExecutionRecord>> page = l.ListExecutions(f);
    if (!page.ok()) return page.status();
    for (const ExecutionRecord& r : *page) es.second.push_back(ExecutionLine(r, false));
    if (page->size() < 1000) break;
    f.before_id = page->back().id;
  }
  Result<std::vector<AlertRecord>> alerts = l.ListAlerts(1000);
  if (!alerts.ok()) return alerts.status();
  Section& as = out.emplace_back("alerts (the newest 1000)", std::vector<std::string>{});
  for (const AlertRecord& a : *alerts) {
    as.second.push_back(std::to_string(a.id) + " " + std::to_string(internal::Ms(a.received_at)) +
                        " " + a.source + " " + a.fingerprint + " " + a.status + " " +
                        std::string(AlertDispositionName(a.disposition)) + " " +
                        (a.execution_id ? std::to_string(*a.execution_id) : "-") + " " + a.reason +
                        " " + a.token + " " + a.labels_json + " " + a.annotations_json);
  }
  if (GroupLimitsLedger* g = GroupLimitsOf(l)) {
    Result<std::vector<ExecutionRecord>> runs = g->ListRunsSince(WallTime{}, 100000);
    if (!runs.ok()) return runs.status();
    Section& rs = out.emplace_back("runs (the cost's input)", std::vector<std::string>{});
    for (const ExecutionRecord& r : *runs) rs.second.push_back(ExecutionLine(r, true));
  }
  if (ApprovalLedger* a = AsApprovalLedger(l)) {
    Result<std::vector<ApprovalCounts>> counts = a->CountApprovals();
    if (!counts.ok()) return counts.status();
    Section& ps = out.emplace_back("approvals", std::vector<std::string>{});
    for (const ApprovalCounts& c : *counts) {
      ps.second.push_back(c.workaround_id + " " + std::to_string(c.approved) + " " +
                          std::to_string(c.denied) + " " + std::to_string(c.expired) + " " +
                          std::to_string(c.pending) + " " + std::to_string(c.succeeded) + " " +
                          std::to_string(c.failed));
    }
  }
  if (BreakerLedger* b = AsBreakerLedger(l)) {
    Result<BreakerState> st = b->GetBreaker();
    if (!st.ok()) return st.status();
    std::string line =
        std::string(st->tripped ? "tripped " : "clear ") + st->reason + " " + OptMs(st->tripped_at);
    if (st->last_reset) {
      line += " reset " + st->last_reset->by + " " + st->last_reset->comment + " " +
              std::to_string(internal::Ms(st->last_reset->at));
    }
    out.emplace_back("breaker", std::vector<std::string>{line});
  }
  return out;
}

std::string LedgerName(const LedgerConfig& c) {
  return c.kind == LedgerConfig::Kind::kPostgres ? internal::RedactedUrl(c.url) : c.path;
}

std::string Clip(const std::string& s) { return s.size() > 300 ? s.substr(0, 300) + "..." : s; }

}  // namespace

Result<LedgerConfig> ParseLedgerArg(std::string_view arg) {
  LedgerConfig c;
  if (arg.starts_with("postgresql://") || arg.starts_with("postgres://")) {
    c.kind = LedgerConfig::Kind::kPostgres;
    c.url = std::string(arg);
    return c;
  }
  std::string_view path = arg;
  if (arg.starts_with("sqlite://")) {
    path = arg.substr(9);
  } else if (arg.starts_with("sqlite:")) {
    path = arg.substr(7);
  } else if (arg.find("://") != std::string_view::npos) {
    return InvalidArgument("ledger \"" + std::string(arg) +
                           "\": expected sqlite:PATH, a PATH, or postgresql://...");
  }
  if (path.empty()) return InvalidArgument("ledger \"" + std::string(arg) + "\": no path");
  c.kind = LedgerConfig::Kind::kSqlite;
  c.path = std::string(path);
  c.url = "sqlite://" + c.path;
  return c;
}

Result<TransferCounts> ExportLedger(const LedgerConfig& source, const Clock& clock,
                                    const std::function<Status(std::string_view)>& sink) {
  if (source.kind == LedgerConfig::Kind::kSqlite && ::access(source.path.c_str(), F_OK) != 0) {
    return NotFound("no ledger at " + source.path);
  }
  {
    // Migrated to this build's schema (and unfinished executions of dead
    // processes marked), as `report` opens it.
    Result<std::unique_ptr<ExecutionLedger>> l = OpenLedger(source, clock);
    if (!l.ok()) return l.status();
  }
  // Read-write (a read-only SQLite connection cannot always open a WAL
  // file); only a read transaction is taken.
  Result<std::unique_ptr<LedgerTables>> t = internal::OpenLedgerTables(source, false);
  if (!t.ok()) return t.status();
  LedgerTables& tables = **t;
  STOPGAP_RETURN_IF_ERROR(tables.BeginRead());
  Result<int64_t> version = tables.SchemaVersion();
  if (!version.ok()) return version.status();
  Result<std::vector<TableColumns>> list = tables.Tables();
  if (!list.ok()) return list.status();
  OrderForImport(&*list);
  STOPGAP_RETURN_IF_ERROR(sink(FormatExportHeader({.backend = tables.Backend(),
                                                   .schema_version = *version,
                                                   .source = tables.Where(),
                                                   .exported_at = FormatRfc3339(clock.Now())})));
  TransferCounts counts;
  for (const TableColumns& tc : *list) {
    if (Listed(kNotExported, tc.table, "")) continue;
    ExportRow row{.table = tc.table, .columns = {}};
    for (const std::string& c : tc.columns) row.columns.emplace_back(c, LedgerValue{});
    int64_t& n = counts.rows[tc.table];
    STOPGAP_RETURN_IF_ERROR(tables.Scan(tc, [&](std::vector<LedgerValue>& values) -> Status {
      for (size_t i = 0; i < values.size(); ++i) row.columns[i].second = std::move(values[i]);
      ++n;
      return sink(FormatExportRow(row));
    }));
  }
  STOPGAP_RETURN_IF_ERROR(sink(FormatExportEnd({.rows = counts.rows})));
  STOPGAP_RETURN_IF_ERROR(tables.Commit());
  return counts;
}

// ---- import ----

struct LedgerImport::State {
  std::unique_ptr<LedgerTables> tables;
  std::string target;                                                 // Describe(): for messages
  std::map<std::string, std::set<std::string>, std::less<>> columns;  // the target's
  enum class Phase { kHeader, kRows, kEnded } phase = Phase::kHeader;
  int64_t line = 0;
  Status error;
  TransferCounts counts;
  std::map<std::string, int64_t> seen;  // rows per table in the input
  bool source_has_claims = false;       // its end line lists the claims table

  Status Take(std::string_view text);
  Status TakeRow(ExportRow& row);
  Status TakeEnd(const ExportEnd& end);
};

LedgerImport::LedgerImport(std::unique_ptr<State> s) : s_(std::move(s)) {}
LedgerImport::~LedgerImport() = default;

Result<std::unique_ptr<LedgerImport>> LedgerImport::Begin(const LedgerConfig& target,
                                                          const Clock& clock) {
  {
    Result<std::unique_ptr<ExecutionLedger>> l = OpenLedger(target, clock);  // create, migrate
    if (!l.ok()) return l.status();
  }
  auto s = std::make_unique<State>();
  Result<std::unique_ptr<LedgerTables>> t = internal::OpenLedgerTables(target, false);
  if (!t.ok()) return t.status();
  s->tables = std::move(*t);
  STOPGAP_RETURN_IF_ERROR(s->tables->BeginWrite());
  Result<int64_t> version = s->tables->SchemaVersion();
  if (!version.ok()) return version.status();
  s->target = Describe(*s->tables, *version);
  Result<std::vector<TableColumns>> list = s->tables->Tables();
  if (!list.ok()) return list.status();
  std::string held;
  for (const TableColumns& tc : *list) {
    s->columns[tc.table].insert(tc.columns.begin(), tc.columns.end());
    if (Listed(kNotExported, tc.table, "")) continue;
    Result<int64_t> n = s->tables->Count(tc.table);
    if (!n.ok()) return n.status();
    if (*n > 0) held += (held.empty() ? "" : ", ") + tc.table + ": " + std::to_string(*n);
  }
  if (!held.empty()) {
    return FailedPrecondition("the " + s->target + " already holds history (" + held +
                              "); import only into an empty ledger (a new database or file); "
                              "nothing was imported");
  }
  return std::unique_ptr<LedgerImport>(new LedgerImport(std::move(s)));
}

Status LedgerImport::Line(std::string_view text) {
  ++s_->line;
  if (!s_->error.ok()) return s_->error;
  Status st = s_->Take(text);
  if (!st.ok()) {
    s_->error = st.WithContext("line " + std::to_string(s_->line));
    s_->tables->Rollback();
  }
  return s_->error;
}

Status LedgerImport::State::Take(std::string_view text) {
  if (text.ends_with('\r')) text.remove_suffix(1);
  Result<ExportLine> parsed = ParseExportLine(text);
  if (phase == Phase::kEnded) {
    return InvalidArgument("a line after the end line");
  }
  if (!parsed.ok()) return parsed.status();
  if (phase == Phase::kHeader) {
    if (!std::holds_alternative<ExportHeader>(*parsed)) {
      return InvalidArgument(
          "the first line is not an export header (not a stopgap ledger export?)");
    }
    phase = Phase::kRows;
    return Status::Ok();
  }
  if (std::holds_alternative<ExportHeader>(*parsed)) return InvalidArgument("a second header");
  if (auto* row = std::get_if<ExportRow>(&*parsed)) return TakeRow(*row);
  phase = Phase::kEnded;
  return TakeEnd(std::get<ExportEnd>(*parsed));
}

Status LedgerImport::State::TakeRow(ExportRow& row) {
  ++seen[row.table];
  auto table = columns.find(row.table);
  if (Listed(kNotExported, row.table, "") ||
      (table == columns.end() && Listed(kTargetMayLack, row.table, ""))) {
    ++counts.dropped[row.table];
    return Status::Ok();
  }
  if (table == columns.end()) {
    return FailedPrecondition("table " + row.table + ": the " + target +
                              " has no such table, so its rows would be lost; migrate into a "
                              "ledger whose schema has it (a newer stopgap); nothing was imported");
  }
  std::vector<std::string> names;
  std::vector<LedgerValue> values;
  for (auto& [name, value] : row.columns) {
    if (table->second.count(name) == 0) {
      if (Listed(kTargetMayLack, row.table, name)) continue;
      return FailedPrecondition("table " + row.table + ", column " + name + ": the " + target +
                                " has no such column, so its values would be lost; migrate into "
                                "a ledger whose schema has it (a newer stopgap); nothing was "
                                "imported");
    }
    names.push_back(name);
    values.push_back(std::move(value));
  }
  STOPGAP_RETURN_IF_ERROR(
      tables->Insert(row.table, names, values).WithContext("table " + row.table));
  ++counts.rows[row.table];
  return Status::Ok();
}

Status LedgerImport::State::TakeEnd(const ExportEnd& end) {
  source_has_claims = end.rows.count("claims") > 0;
  std::set<std::string> names;
  for (const auto& [t, n] : end.rows) names.insert(t);
  for (const auto& [t, n] : seen) names.insert(t);
  for (const std::string& t : names) {
    // Empty tables are listed too (those the target has).
    if (!counts.dropped.count(t) && columns.count(t)) counts.rows.try_emplace(t, 0);
    const int64_t want = end.rows.count(t) ? end.rows.at(t) : 0;
    const int64_t got = seen.count(t) ? seen.at(t) : 0;
    if (want != got) {
      return DataLoss("the end line counts " + std::to_string(want) + " row(s) of " + t +
                      ", the input held " + std::to_string(got) +
                      " (lines lost or added?); nothing was imported");
    }
  }
  return Status::Ok();
}

Result<TransferCounts> LedgerImport::Finish() {
  State& s = *s_;
  if (!s.error.ok()) return s.error;
  Status st = [&]() -> Status {
    if (s.phase == State::Phase::kHeader) {
      return InvalidArgument("empty input: not a stopgap ledger export; nothing was imported");
    }
    if (s.phase != State::Phase::kEnded) {
      return DataLoss("the input ends after line " + std::to_string(s.line) +
                      " without its end line: it was cut short; nothing was imported");
    }
    for (const auto& [table, n] : s.counts.rows) {
      Result<int64_t> have = s.tables->Count(table);
      if (!have.ok()) return have.status();
      if (*have != n) {
        return DataLoss("table " + table + " holds " + std::to_string(*have) + " rows after " +
                        std::to_string(n) + " were imported; nothing was imported");
      }
    }
    if (!s.source_has_claims) {
      // From SQLite: each firing window's claim, so that an alert delivered
      // again after the move is a duplicate, not a second run.
      Result<int64_t> claims = s.tables->DeriveClaims();
      if (!claims.ok()) return claims.status().WithContext("claims of the imported executions");
      if (*claims > 0) s.counts.derived["claims"] = *claims;
    }
    STOPGAP_RETURN_IF_ERROR(s.tables->AdvanceIds());
    return s.tables->Commit();
  }();
  if (!st.ok()) {
    s.error = st;
    s.tables->Rollback();
    return st;
  }
  return s.counts;
}

// ---- migrate ----

Result<TransferCounts> MigrateLedger(const LedgerConfig& from, const LedgerConfig& to,
                                     const Clock& clock) {
  STOPGAP_RETURN_IF_ERROR(SameLedger(from, to));
  if (from.kind == LedgerConfig::Kind::kSqlite && ::access(from.path.c_str(), F_OK) != 0) {
    return NotFound("no ledger at " + from.path);
  }
  // The target first: a non-empty one is refused before anything is read.
  Result<std::unique_ptr<LedgerImport>> imp = LedgerImport::Begin(to, clock);
  if (!imp.ok()) return imp.status();
  Result<TransferCounts> exported =
      ExportLedger(from, clock, [&](std::string_view line) { return (*imp)->Line(line); });
  if (!exported.ok()) return exported.status();
  Result<TransferCounts> imported = (*imp)->Finish();
  if (!imported.ok()) return imported.status();
  for (const auto& [table, n] : exported->rows) {
    const int64_t moved = (imported->rows.count(table) ? imported->rows.at(table) : 0) +
                          (imported->dropped.count(table) ? imported->dropped.at(table) : 0);
    if (moved != n) {
      return DataLoss("table " + table + ": " + std::to_string(n) + " row(s) exported, " +
                      std::to_string(moved) + " imported");
    }
  }
  Status same = CompareLedgers(from, to, clock, clock.Now());
  if (!same.ok()) {
    return same.WithContext(
        "copied (the new ledger keeps the copy: empty it before another attempt), but it does "
        "not read the same");
  }
  return imported;
}

Status CompareLedgers(const LedgerConfig& a, const LedgerConfig& b, const Clock& clock,
                      WallTime now) {
  std::vector<Section> digest[2];
  const LedgerConfig* configs[2] = {&a, &b};
  for (int i = 0; i < 2; ++i) {
    Result<std::unique_ptr<ExecutionLedger>> l = OpenLedgerForReading(*configs[i], clock);
    if (!l.ok()) return l.status();
    Result<std::vector<Section>> d = Digest(**l, now);
    if (!d.ok()) return d.status().WithContext(LedgerName(*configs[i]));
    digest[i] = std::move(*d);
  }
  std::map<std::string, const std::vector<std::string>*> theirs;
  for (const Section& s : digest[1]) theirs[s.first] = &s.second;
  for (const Section& s : digest[0]) {
    auto it = theirs.find(s.first);
    if (it == theirs.end()) {
      return FailedPrecondition("the new ledger cannot answer " + s.first +
                                " (its backend lacks that role), so `report` would differ");
    }
    const std::vector<std::string>& other = *it->second;
    for (size_t i = 0; i < std::max(s.second.size(), other.size()); ++i) {
      const std::string x = i < s.second.size() ? s.second[i] : "(nothing)";
      const std::string y = i < other.size() ? other[i] : "(nothing)";
      if (x != y) {
        return DataLoss("after the migration, " + s.first + " differ: the old ledger reads\n  " +
                        Clip(x) + "\nthe new one\n  " + Clip(y));
      }
    }
  }
  return Status::Ok();
}

}  // namespace stopgap::remedy
