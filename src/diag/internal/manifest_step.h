// Shared by the manifest writer and reader: the one collect step of a
// `stopgap diag` bundle, summarised from its collectors. Stateless.
#pragma once

#include "diag/bundle.h"

namespace stopgap::diag::internal {

// Sets kind, argv ("collect: [system, tcp]"), outcome, timed_out, truncated,
// files, error and duration (the longest: collectors run concurrently) of
// `s` from s->collectors.
void SummariseCollectStep(ManifestStep* s);

}  // namespace stopgap::diag::internal
