// Moving a ledger between backends (SQLite <-> PostgreSQL, or the same):
// `stopgap ledger export|import|migrate`. Every table's rows, history
// included, go through the JSON lines of ledger_export_format.h, mapped by
// table and column name, ids and times as they were.
//
//   Result<TransferCounts> n = MigrateLedger(*ParseLedgerArg("sqlite:/var/lib/stopgap/ledger.db"),
//                                            *ParseLedgerArg("postgresql://db/stopgap"), clock);
//
// Import is all or nothing: one transaction into an empty ledger, committed
// only after the end line came and every table's count matched. A row for a
// table or column the target's schema lacks fails the import (nothing is
// dropped silently), except the few listed in ledger_transfer.cc that only
// mean something on the source's backend (PostgreSQL's claims and leases).
//
// Thread safety: none; each call opens its own connections.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "core/time.h"
#include "remedy/catalog.h"

namespace stopgap::remedy {

namespace internal {
class LedgerTables;
}

// A ledger on the command line: sqlite:PATH, sqlite://PATH, postgresql://...
// (postgres://...), or a bare PATH (SQLite).
Result<LedgerConfig> ParseLedgerArg(std::string_view arg);

struct TransferCounts {
  std::map<std::string, int64_t> rows;     // per table: rows exported or imported
  std::map<std::string, int64_t> dropped;  // per table: rows the target has no use for
  // Import: rows the target made from the imported ones (claims, after a
  // source without them: LedgerTables::DeriveClaims).
  std::map<std::string, int64_t> derived;
};

// Opens the ledger (migrating it, as `report` does; a missing SQLite file
// is an error, not created) and writes its export to `sink`, one line per
// call, without newlines, from one read snapshot.
Result<TransferCounts> ExportLedger(const LedgerConfig& source, const Clock& clock,
                                    const std::function<Status(std::string_view)>& sink);

// An import in progress: one open write transaction on the target.
class LedgerImport {
 public:
  // Opens (creating and migrating) the target and begins; kFailedPrecondition
  // when it already holds history.
  static Result<std::unique_ptr<LedgerImport>> Begin(const LedgerConfig& target,
                                                     const Clock& clock);
  ~LedgerImport();

  // The next line of the export (numbered from 1). Errors say "line N: ...";
  // after one, nothing more is taken and nothing is committed.
  Status Line(std::string_view line);
  // After the last line: checks the end line came and the counts, advances
  // the ids, commits.
  Result<TransferCounts> Finish();

 private:
  struct State;
  explicit LedgerImport(std::unique_ptr<State> s);
  std::unique_ptr<State> s_;
};

// Export piped into import, then verified: every table's row count, and
// what `report` and the API read (counts by issue and workaround, every
// execution, the cost inputs, approvals, the breaker) compared between the
// two ledgers. `from` and `to` must differ.
Result<TransferCounts> MigrateLedger(const LedgerConfig& from, const LedgerConfig& to,
                                     const Clock& clock);

// The comparison MigrateLedger ends with (also for tests): OK when both
// ledgers answer the report's and the API's queries alike at `now`.
Status CompareLedgers(const LedgerConfig& a, const LedgerConfig& b, const Clock& clock,
                      WallTime now);

}  // namespace stopgap::remedy
