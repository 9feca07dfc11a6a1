// libFuzzer target for the ledger export's line parser (ParseExportLine, the
// input of `stopgap ledger import`). Seeds: fuzz/corpus/ledger_export/. Must
// never crash, hang or leak; errors are fine. A row it accepts must come back
// the same through FormatExportRow (nothing is altered on the way).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "remedy/ledger_export_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace stopgap::remedy;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  stopgap::Result<ExportLine> line = ParseExportLine(text);
  if (!line.ok()) return 0;
  if (const ExportRow* row = std::get_if<ExportRow>(&*line)) {
    stopgap::Result<ExportLine> again = ParseExportLine(FormatExportRow(*row));
    if (!again.ok()) std::abort();
    const ExportRow* back = std::get_if<ExportRow>(&*again);
    if (!back || back->table != row->table || back->columns != row->columns) {
      std::abort();
    }
  } else if (const ExportEnd* end = std::get_if<ExportEnd>(&*line)) {
    stopgap::Result<ExportLine> again = ParseExportLine(FormatExportEnd(*end));
    if (!again.ok() || std::get<ExportEnd>(*again).rows != end->rows) std::abort();
  } else {
    (void)FormatExportHeader(std::get<ExportHeader>(*line));
  }
  return 0;
}
