// The ledger export format (JSON lines; docs/ledger-schema.md, "Export
// format"): what `stopgap ledger export` writes and `import` reads. Pure
// functions over one line each; the table/column mapping and the database
// work live in ledger_transfer.h.
//
//   {"format":"stopgap-ledger","version":1,"backend":"sqlite","schema_version":6,...}
//   {"table":"executions","row":{"id":1,"workaround_id":"nginx-reload",...}}
//   ...
//   {"end":{"rows":{"executions":1,...}}}
//
// A value is null, an integer (int64) or a string; a string that is not
// valid UTF-8 is written as {"hex":"..."} (its bytes), so nothing is altered.
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "core/status.h"

namespace stopgap::remedy {

inline constexpr std::string_view kExportFormatName = "stopgap-ledger";
inline constexpr int kExportFormatVersion = 1;

// One column value: NULL, INTEGER or TEXT (the only types the ledger stores).
using LedgerValue = std::variant<std::monostate, int64_t, std::string>;

struct ExportHeader {
  std::string backend;         // "sqlite" or "postgresql"
  int64_t schema_version = 0;  // the source backend's schema version
  std::string source;          // where it came from (a PostgreSQL password redacted)
  std::string exported_at;     // RFC 3339 UTC
};

struct ExportRow {
  std::string table;
  std::vector<std::pair<std::string, LedgerValue>> columns;  // in the source's order
};

// The last line: how many rows of each table precede it (a file cut at a
// line boundary is told apart from a complete one).
struct ExportEnd {
  std::map<std::string, int64_t> rows;
};

using ExportLine = std::variant<ExportHeader, ExportRow, ExportEnd>;

std::string FormatExportHeader(const ExportHeader& h);
std::string FormatExportRow(const ExportRow& r);
std::string FormatExportEnd(const ExportEnd& e);

// One line (without its newline). kInvalidArgument saying what is wrong:
// not JSON, not one of the three shapes, a bad name, a value of another type.
// A header of another format or version is refused here too.
Result<ExportLine> ParseExportLine(std::string_view line);

}  // namespace stopgap::remedy
