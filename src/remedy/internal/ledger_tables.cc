// LedgerTables on SQLite (SqliteDb) and PostgreSQL (PgConn); see
// ledger_tables.h. Names come from the database's own catalog; a name from
// an import file is used only after it was found there, and always quoted.
#include "remedy/internal/ledger_tables.h"

#include <map>
#include <set>

#include "remedy/internal/pg_db.h"
#include "remedy/internal/sqlite_db.h"

namespace stopgap::remedy::internal {
namespace {

std::string ColumnList(const std::vector<std::string>& columns) {
  std::string out;
  for (const std::string& c : columns) out += (out.empty() ? "" : ", ") + QuoteIdent(c);
  return out;
}

// ---- SQLite ----

class SqliteTables final : public LedgerTables {
 public:
  Status Open(const std::string& path, bool read_only) {
    path_ = path;
    STOPGAP_RETURN_IF_ERROR(db_.Open(path, read_only));
    STOPGAP_RETURN_IF_ERROR(db_.Exec("PRAGMA busy_timeout=5000"));
    // Steps and transitions must name an imported execution, as on PostgreSQL.
    return db_.Exec("PRAGMA foreign_keys=ON");
  }
  ~SqliteTables() override { Rollback(); }

  std::string Backend() const override { return "sqlite"; }
  std::string Where() const override { return "sqlite://" + path_; }

  Result<int64_t> SchemaVersion() override {
    STOPGAP_SQL(q, db_, "SELECT COALESCE(MAX(version), 0) FROM schema_version");
    Result<bool> row = q.Step();
    if (!row.ok()) return row.status();
    return q.Int(0);
  }

  Result<std::vector<TableColumns>> Tables() override {
    std::vector<TableColumns> out;
    {
      STOPGAP_SQL(q, db_,
                  "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE "
                  "'sqlite\\_%' ESCAPE '\\' AND name != 'schema_version' ORDER BY name");
      for (;;) {
        Result<bool> row = q.Step();
        if (!row.ok()) return row.status();
        if (!*row) break;
        out.push_back({.table = q.Text(0), .columns = {}});
      }
    }
    for (TableColumns& t : out) {
      const std::string sql = "PRAGMA table_info(" + QuoteIdent(t.table) + ")";
      STOPGAP_SQL(q, db_, sql.c_str());
      for (;;) {
        Result<bool> row = q.Step();
        if (!row.ok()) return row.status();
        if (!*row) break;
        t.columns.push_back(q.Text(1));
      }
    }
    return out;
  }

  Status BeginRead() override { return Begin("BEGIN"); }
  Status BeginWrite() override { return Begin("BEGIN IMMEDIATE"); }
  Status Commit() override {
    STOPGAP_RETURN_IF_ERROR(db_.Exec("COMMIT"));
    open_ = false;
    return Status::Ok();
  }
  void Rollback() override {
    if (open_) (void)db_.Exec("ROLLBACK");
    open_ = false;
  }

  Status Scan(const TableColumns& t,
              const std::function<Status(std::vector<LedgerValue>&)>& f) override {
    const std::string sql =
        "SELECT " + ColumnList(t.columns) + " FROM " + QuoteIdent(t.table) + " ORDER BY rowid";
    STOPGAP_SQL(q, db_, sql.c_str());
    std::vector<LedgerValue> values(t.columns.size());
    for (;;) {
      Result<bool> row = q.Step();
      if (!row.ok()) return row.status();
      if (!*row) return Status::Ok();
      for (size_t i = 0; i < t.columns.size(); ++i) {
        const int col = static_cast<int>(i);
        switch (q.Type(col)) {
          case SQLITE_NULL:
            values[i] = std::monostate{};
            break;
          case SQLITE_INTEGER:
            values[i] = q.Int(col);
            break;
          case SQLITE_TEXT:
          case SQLITE_BLOB:  // bytes; the ledger writes none, but keep them
            values[i] = q.Text(col);
            break;
          default:
            return DataLoss("table " + t.table + ", column " + t.columns[i] +
                            ": a floating-point value, which the ledger never writes; the "
                            "export does not carry it");
        }
      }
      STOPGAP_RETURN_IF_ERROR(f(values));
    }
  }

  Result<int64_t> Count(const std::string& table) override {
    const std::string sql = "SELECT COUNT(*) FROM " + QuoteIdent(table);
    STOPGAP_SQL(q, db_, sql.c_str());
    Result<bool> row = q.Step();
    if (!row.ok()) return row.status();
    return q.Int(0);
  }

  Status Insert(const std::string& table, const std::vector<std::string>& columns,
                const std::vector<LedgerValue>& values) override {
    std::string marks;
    for (size_t i = 0; i < columns.size(); ++i) marks += i ? ",?" : "?";
    const std::string sql = "INSERT INTO " + QuoteIdent(table) + " (" + ColumnList(columns) +
                            ") VALUES (" + marks + ")";
    STOPGAP_SQL(ins, db_, sql.c_str());
    for (size_t i = 0; i < values.size(); ++i) {
      const int at = static_cast<int>(i) + 1;
      if (const auto* n = std::get_if<int64_t>(&values[i])) {
        ins.Bind(at, *n);
      } else if (const auto* s = std::get_if<std::string>(&values[i])) {
        ins.Bind(at, std::string_view(*s));
      } else {
        ins.BindNull(at);
      }
    }
    return ins.Run();
  }

  Status AdvanceIds() override { return Status::Ok(); }           // AUTOINCREMENT follows max(id)
  Result<int64_t> DeriveClaims() override { return int64_t{0}; }  // one node: no claims

 private:
  Status Begin(const char* sql) {
    STOPGAP_RETURN_IF_ERROR(db_.Exec(sql));
    open_ = true;
    return Status::Ok();
  }

  std::string path_;
  SqliteDb db_;
  bool open_ = false;
};

// ---- PostgreSQL ----

class PgTables final : public LedgerTables {
 public:
  Status Open(const std::string& url) {
    where_ = RedactedUrl(url);
    Result<std::string> conninfo = PgConninfo(url);
    if (!conninfo.ok()) return conninfo.status();
    return c_.Connect(*conninfo);
  }
  ~PgTables() override { Rollback(); }

  std::string Backend() const override { return "postgresql"; }
  std::string Where() const override { return where_; }

  Result<int64_t> SchemaVersion() override {
    Result<PgResult> q = c_.Exec("SELECT COALESCE(MAX(version), 0) FROM schema_version");
    if (!q.ok()) return q.status();
    return q->Int(0, 0);
  }

  Result<std::vector<TableColumns>> Tables() override {
    Result<PgResult> q = c_.Exec(
        "SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c "
        "JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = "
        "c.table_name WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' "
        "AND c.table_name != 'schema_version' ORDER BY c.table_name, c.ordinal_position");
    if (!q.ok()) return q.status();
    std::vector<TableColumns> out;
    for (int i = 0; i < q->Rows(); ++i) {
      const std::string table = q->Text(i, 0);
      if (out.empty() || out.back().table != table) out.push_back({.table = table, .columns = {}});
      out.back().columns.push_back(q->Text(i, 1));
      const std::string type = q->Text(i, 2);
      if (type == "bigint" || type == "integer" || type == "smallint") {
        integer_.insert(table + "." + q->Text(i, 1));
      }
    }
    return out;
  }

  Status BeginRead() override { return Begin("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"); }
  Status BeginWrite() override { return Begin("BEGIN"); }
  Status Commit() override {
    open_ = false;
    Result<PgResult> r = c_.Exec("COMMIT");
    return r.ok() ? Status::Ok() : r.status();
  }
  void Rollback() override {
    if (open_ && !c_.Broken()) (void)c_.Exec("ROLLBACK");
    open_ = false;
  }

  Status Scan(const TableColumns& t,
              const std::function<Status(std::vector<LedgerValue>&)>& f) override {
    bool has_id = false;
    for (const std::string& c : t.columns) has_id = has_id || c == "id";
    // A cursor: a large table is read 1,000 rows at a time, not all at once.
    Result<PgResult> d = c_.Exec(
        "DECLARE stopgap_export NO SCROLL CURSOR FOR SELECT " + ColumnList(t.columns) + " FROM " +
        QuoteIdent(t.table) + " ORDER BY " + (has_id ? std::string("id") : ColumnList(t.columns)));
    if (!d.ok()) return d.status();
    std::vector<bool> integer;
    for (const std::string& c : t.columns) integer.push_back(integer_.count(t.table + "." + c) > 0);
    std::vector<LedgerValue> values(t.columns.size());
    for (;;) {
      Result<PgResult> q = c_.Exec("FETCH 1000 FROM stopgap_export");
      if (!q.ok()) return q.status();
      if (q->Rows() == 0) break;
      for (int r = 0; r < q->Rows(); ++r) {
        for (size_t i = 0; i < t.columns.size(); ++i) {
          const int col = static_cast<int>(i);
          if (q->IsNull(r, col)) {
            values[i] = std::monostate{};
          } else if (integer[i]) {
            values[i] = q->Int(r, col);
          } else {
            values[i] = q->Text(r, col);
          }
        }
        STOPGAP_RETURN_IF_ERROR(f(values));
      }
    }
    Result<PgResult> cl = c_.Exec("CLOSE stopgap_export");
    return cl.ok() ? Status::Ok() : cl.status();
  }

  Result<int64_t> Count(const std::string& table) override {
    Result<PgResult> q = c_.Exec("SELECT COUNT(*) FROM " + QuoteIdent(table));
    if (!q.ok()) return q.status();
    return q->Int(0, 0);
  }

  Status Insert(const std::string& table, const std::vector<std::string>& columns,
                const std::vector<LedgerValue>& values) override {
    std::string marks;
    for (size_t i = 0; i < columns.size(); ++i) marks += (i ? ",$" : "$") + std::to_string(i + 1);
    const std::string sql = "INSERT INTO " + QuoteIdent(table) + " (" + ColumnList(columns) +
                            ") VALUES (" + marks + ")";
    auto [it, added] =
        statements_.try_emplace(sql, "ledger_import_" + std::to_string(statements_.size()));
    std::vector<PgParam> params;
    params.reserve(values.size());
    for (size_t i = 0; i < values.size(); ++i) {
      if (const auto* n = std::get_if<int64_t>(&values[i])) {
        params.push_back(P(*n));
      } else if (const auto* s = std::get_if<std::string>(&values[i])) {
        if (s->find('\0') != std::string::npos) {
          return InvalidArgument("column " + columns[i] +
                                 ": PostgreSQL text cannot hold a NUL byte");
        }
        params.push_back(*s);
      } else {
        params.push_back(std::nullopt);
      }
    }
    Result<PgResult> r = c_.Run(it->second.c_str(), sql, params);
    return r.ok() ? Status::Ok() : r.status();
  }

  // The window key is the one PgLedger's ClaimWindow computes at insert:
  // the alert's start, else the last resolve of the fingerprint before the
  // execution. A window's claim goes to a run (the newest) before a
  // refusal: history may hold a refusal beside the run of its window (one
  // SQLite node recorded both). Claims already there (none after SQLite)
  // stay: ON CONFLICT DO NOTHING.
  Result<int64_t> DeriveClaims() override {
    Result<PgResult> r = c_.Exec(
        "INSERT INTO claims(fingerprint, window_key, attempt, execution_id) "
        "SELECT fingerprint, window_key, attempt, id FROM (SELECT DISTINCT ON (fingerprint, "
        "window_key, attempt) fingerprint, window_key, attempt, id, state FROM (SELECT "
        "e.fingerprint, e.attempt, e.id, e.state, CASE WHEN e.instance_start IS NOT NULL THEN "
        "'s:' || e.instance_start ELSE 'r:' || COALESCE((SELECT MAX(a.received_at) FROM alerts a "
        "WHERE a.fingerprint = e.fingerprint AND a.status = 'resolved' AND a.received_at <= "
        "e.created_at), 0) END AS window_key FROM executions e WHERE e.fingerprint != '' AND "
        "e.rerun_of IS NULL) w ORDER BY fingerprint, window_key, attempt, state = 'refused', id "
        "DESC) holders ON CONFLICT DO NOTHING");
    if (!r.ok()) return r.status();
    return r->Changes();
  }

  Status AdvanceIds() override {
    Result<std::vector<TableColumns>> tables = Tables();
    if (!tables.ok()) return tables.status();
    for (const TableColumns& t : *tables) {
      bool has_id = false;
      for (const std::string& c : t.columns) has_id = has_id || c == "id";
      if (!has_id) continue;
      // The sequence behind a BIGSERIAL id continues after the largest id.
      Result<PgResult> r = c_.Run(
          ("advance_ids_" + t.table).c_str(),
          "SELECT setval(pg_get_serial_sequence($1, 'id'), m) FROM (SELECT MAX(id) AS m FROM " +
              QuoteIdent(t.table) +
              ") x WHERE m IS NOT NULL AND pg_get_serial_sequence($1, 'id') "
              "IS NOT NULL",
          {P(QuoteIdent(t.table))});
      if (!r.ok()) return r.status().WithContext("table " + t.table);
    }
    return Status::Ok();
  }

 private:
  Status Begin(const std::string& sql) {
    Result<PgResult> r = c_.Exec(sql);
    if (!r.ok()) return r.status();
    open_ = true;
    return Status::Ok();
  }

  std::string where_;
  PgConn c_;
  bool open_ = false;
  std::set<std::string> integer_;                  // "table.column" of integer type
  std::map<std::string, std::string> statements_;  // SQL -> prepared name
};

}  // namespace

std::string QuoteIdent(const std::string& name) {
  std::string out = "\"";
  for (char c : name) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

Result<std::unique_ptr<LedgerTables>> OpenLedgerTables(const LedgerConfig& config, bool read_only) {
  if (config.kind == LedgerConfig::Kind::kPostgres) {
    auto t = std::make_unique<PgTables>();
    STOPGAP_RETURN_IF_ERROR(t->Open(config.url));
    return std::unique_ptr<LedgerTables>(std::move(t));
  }
  auto t = std::make_unique<SqliteTables>();
  STOPGAP_RETURN_IF_ERROR(t->Open(config.path, read_only));
  return std::unique_ptr<LedgerTables>(std::move(t));
}

}  // namespace stopgap::remedy::internal
