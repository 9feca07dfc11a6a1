// The one place where `collect:` and `guru:` steps meet the diagnostics
// library (src/diag): MakeDiagnosticsCollector returns a collector backed by
// diag::RunCollectors / diag::RunGuru when this build has src/diag, else
// UnsupportedDiagnostics. `stopgap run` and `stopgap serve` both use it.
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

// True when this build runs collect/guru steps for real.
bool DiagnosticsSupported();

}  // namespace stopgap::remedy
