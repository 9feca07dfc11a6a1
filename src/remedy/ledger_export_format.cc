// The ledger export format's lines; see ledger_export_format.h.
#include "remedy/ledger_export_format.h"

#include <limits>
#include <nlohmann/json.hpp>

#include "core/strings.h"

namespace stopgap::remedy {
namespace {

using json = nlohmann::ordered_json;

constexpr char kHexDigits[] = "0123456789abcdef";

json ValueJson(const LedgerValue& v) {
  if (std::holds_alternative<int64_t>(v)) return std::get<int64_t>(v);
  if (!std::holds_alternative<std::string>(v)) return nullptr;
  const std::string& s = std::get<std::string>(v);
  if (SanitizeUtf8(s) == s) return s;
  std::string hex;
  hex.reserve(s.size() * 2);
  for (unsigned char c : s) {
    hex += kHexDigits[c >> 4];
    hex += kHexDigits[c & 15];
  }
  return json{{"hex", hex}};
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

Result<LedgerValue> ParseValue(const json& j, const std::string& column) {
  if (j.is_null()) return LedgerValue{};
  if (j.is_string()) return LedgerValue{j.get<std::string>()};
  if (j.is_number_integer() && !j.is_number_unsigned()) return LedgerValue{j.get<int64_t>()};
  if (j.is_number_unsigned()) {
    const uint64_t u = j.get<uint64_t>();
    if (u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return LedgerValue{static_cast<int64_t>(u)};
    }
  }
  if (j.is_object() && j.size() == 1 && j.contains("hex") && j["hex"].is_string()) {
    const std::string& hex = j["hex"].get_ref<const std::string&>();
    std::string bytes;
    if (hex.size() % 2 == 0) {
      for (size_t i = 0; i < hex.size(); i += 2) {
        const int hi = HexDigit(hex[i]), lo = HexDigit(hex[i + 1]);
        if (hi < 0 || lo < 0) break;
        bytes += static_cast<char>(hi * 16 + lo);
      }
      if (bytes.size() * 2 == hex.size()) return LedgerValue{std::move(bytes)};
    }
    return InvalidArgument("column " + column + ": \"hex\" wants an even number of 0-9a-f digits");
  }
  return InvalidArgument("column " + column +
                         ": a value is null, a 64-bit integer, a string or {\"hex\":...}");
}

// Table and column names: what SQL identifiers the ledger uses.
bool IsName(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return !(s[0] >= '0' && s[0] <= '9');
}

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::strict); }

Result<ExportLine> ParseHeader(const json& j) {
  if (!j["format"].is_string() || j["format"].get<std::string>() != kExportFormatName) {
    return InvalidArgument("not a stopgap ledger export (\"format\" is not \"stopgap-ledger\")");
  }
  if (!j.contains("version") || !j["version"].is_number_integer() ||
      j["version"].get<int64_t>() != kExportFormatVersion) {
    return InvalidArgument("export format version " +
                           (j.contains("version") ? j["version"].dump() : std::string("missing")) +
                           "; this stopgap reads version " + std::to_string(kExportFormatVersion));
  }
  ExportHeader h;
  for (const char* key : {"backend", "source", "exported_at"}) {
    if (!j.contains(key) || !j[key].is_string()) {
      return InvalidArgument(std::string("header: \"") + key + "\" wants a string");
    }
  }
  if (!j.contains("schema_version") || !j["schema_version"].is_number_integer()) {
    return InvalidArgument("header: \"schema_version\" wants an integer");
  }
  h.backend = j["backend"].get<std::string>();
  h.source = j["source"].get<std::string>();
  h.exported_at = j["exported_at"].get<std::string>();
  h.schema_version = j["schema_version"].get<int64_t>();
  return ExportLine{std::move(h)};
}

Result<ExportLine> ParseRow(const json& j) {
  if (j.size() != 2 || !j["table"].is_string() || !j.contains("row") || !j["row"].is_object()) {
    return InvalidArgument("a row line is {\"table\":NAME,\"row\":{COLUMN:VALUE,...}}");
  }
  ExportRow r;
  r.table = j["table"].get<std::string>();
  if (!IsName(r.table)) return InvalidArgument("bad table name \"" + r.table + "\"");
  const json& row = j["row"];
  if (row.empty()) return InvalidArgument("table " + r.table + ": a row without columns");
  for (auto it = row.begin(); it != row.end(); ++it) {
    if (!IsName(it.key())) return InvalidArgument("bad column name \"" + it.key() + "\"");
    Result<LedgerValue> v = ParseValue(it.value(), r.table + "." + it.key());
    if (!v.ok()) return v.status();
    r.columns.emplace_back(it.key(), std::move(*v));
  }
  return ExportLine{std::move(r)};
}

Result<ExportLine> ParseEnd(const json& j) {
  const json& end = j["end"];
  if (j.size() != 1 || !end.is_object() || end.size() != 1 || !end.contains("rows") ||
      !end["rows"].is_object()) {
    return InvalidArgument("the end line is {\"end\":{\"rows\":{TABLE:COUNT,...}}}");
  }
  ExportEnd e;
  for (auto it = end["rows"].begin(); it != end["rows"].end(); ++it) {
    if (!IsName(it.key())) return InvalidArgument("bad table name \"" + it.key() + "\"");
    if (!it.value().is_number_integer() || it.value().get<int64_t>() < 0) {
      return InvalidArgument("end: the count of " + it.key() + " is not a count");
    }
    e.rows[it.key()] = it.value().get<int64_t>();
  }
  return ExportLine{std::move(e)};
}

}  // namespace

std::string FormatExportHeader(const ExportHeader& h) {
  json j;
  j["format"] = kExportFormatName;
  j["version"] = kExportFormatVersion;
  j["backend"] = SanitizeUtf8(h.backend);
  j["schema_version"] = h.schema_version;
  j["source"] = SanitizeUtf8(h.source);
  j["exported_at"] = SanitizeUtf8(h.exported_at);
  return Dump(j);
}

std::string FormatExportRow(const ExportRow& r) {
  json row = json::object();
  for (const auto& [name, value] : r.columns) row[name] = ValueJson(value);
  json j;
  j["table"] = r.table;
  j["row"] = std::move(row);
  return Dump(j);
}

std::string FormatExportEnd(const ExportEnd& e) {
  json rows = json::object();
  for (const auto& [table, n] : e.rows) rows[table] = n;
  return Dump(json{{"end", {{"rows", rows}}}});
}

Result<ExportLine> ParseExportLine(std::string_view line) {
  json j = json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidArgument("not a JSON document (cut short or damaged?)");
  if (!j.is_object()) return InvalidArgument("a line is a JSON object");
  if (j.contains("format")) return ParseHeader(j);
  if (j.contains("table")) return ParseRow(j);
  if (j.contains("end")) return ParseEnd(j);
  return InvalidArgument("a line is a header (\"format\"), a row (\"table\") or the end (\"end\")");
}

}  // namespace stopgap::remedy
