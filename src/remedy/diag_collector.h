// The one place where `collect:` and `guru:` steps meet the diagnostics
// library (src/diag): MakeDiagnosticsCollector returns a collector backed by
// diag::RunCollectors / diag::RunGuru. Every build has it: the engine uses it
// unless a test injects another collector.
//
//   auto diagnostics = MakeDiagnosticsCollector(catalog);   // keep alive
//   EngineOptions options;  options.diagnostics = diagnostics.get();
//
// Thread safety: the returned collector may be called from many threads.
#pragma once

#include <memory>

#include "core/time.h"
#include "remedy/catalog.h"
#include "remedy/diagnostics.h"

namespace stopgap::remedy {

// policy.redact from `catalog` is applied to process collectors.
std::unique_ptr<DiagnosticsCollector> MakeDiagnosticsCollector(
    const Catalog& catalog, const Clock& clock = SystemClock::Instance());

}  // namespace stopgap::remedy
