// The ledger's tables as tables, for export and import (ledger_transfer.h):
// which tables and columns a database has, its rows in insertion order, and
// inserts by column name. One implementation per backend, on the same
// connection wrappers the ledgers use; the schema is the ledger's own
// (numbered migrations), read from the database, not from a list here.
//
// Thread safety: none; one caller at a time.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "remedy/catalog.h"
#include "remedy/ledger_export_format.h"

namespace stopgap::remedy::internal {

struct TableColumns {
  std::string table;
  std::vector<std::string> columns;  // in the table's order
};

class LedgerTables {
 public:
  virtual ~LedgerTables() = default;

  virtual std::string Backend() const = 0;  // "sqlite" or "postgresql"
  // Where it is, for messages (a PostgreSQL password redacted).
  virtual std::string Where() const = 0;
  // The schema_version this database is at.
  virtual Result<int64_t> SchemaVersion() = 0;
  // Every table of the ledger but schema_version (and the backend's own), by name.
  virtual Result<std::vector<TableColumns>> Tables() = 0;

  // A read snapshot (Scan, Count) or a write transaction (Insert), ended by
  // Commit or, when the object goes or Rollback is called, rolled back.
  virtual Status BeginRead() = 0;
  virtual Status BeginWrite() = 0;
  virtual Status Commit() = 0;
  virtual void Rollback() = 0;

  // The rows of `t` in insertion order (rowid, or id), `t.columns` each.
  virtual Status Scan(const TableColumns& t,
                      const std::function<Status(std::vector<LedgerValue>&)>& row) = 0;
  virtual Result<int64_t> Count(const std::string& table) = 0;
  virtual Status Insert(const std::string& table, const std::vector<std::string>& columns,
                        const std::vector<LedgerValue>& values) = 0;
  // After an import with explicit ids: the next id of every table goes past
  // the largest imported (PostgreSQL sequences; SQLite does it by itself).
  virtual Status AdvanceIds() = 0;
  // After an import from a ledger without claims (SQLite): the claim of
  // each alert's firing window, derived from the executions, so an alert
  // delivered again after the move is a duplicate, not a second run
  // (docs/ledger-schema.md, "Export format"). Returns how many it made; a
  // backend without claims makes none.
  virtual Result<int64_t> DeriveClaims() = 0;
};

// The ledger `config` names. It must exist and be migrated (open it with
// OpenLedger first); nothing here creates or migrates.
Result<std::unique_ptr<LedgerTables>> OpenLedgerTables(const LedgerConfig& config, bool read_only);

// "name" quoted as an SQL identifier (both backends).
std::string QuoteIdent(const std::string& name);

}  // namespace stopgap::remedy::internal
