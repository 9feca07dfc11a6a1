// Which workarounds an alert triggers. A workaround matches when it has a
// `match:` section, its alertname equals the alert's name, and every label in
// `match.labels` is present in the alert with the same value (exact string
// equality; extra alert labels are ignored). Workarounds without `match:` run
// only by hand.
//
// Precedence when several match: the one with the most `match.labels` wins
// (the most specific); ties go to the one written first in the catalog.
// MatchWorkarounds returns all of them in that order; the daemon runs only
// the first (one remediation per alert), and may log the others.
//
// Thread safety: pure functions over an immutable Catalog.
#pragma once

#include <vector>

#include "remedy/alert.h"
#include "remedy/catalog.h"

namespace stopgap::remedy {

bool Matches(const Workaround& w, const Alert& alert);

// All matching workarounds, best first (see precedence above). Pointers are
// into `catalog` and live as long as it does.
std::vector<const Workaround*> MatchWorkarounds(const Catalog& catalog, const Alert& alert);

// The first of MatchWorkarounds, or nullptr.
const Workaround* BestMatch(const Catalog& catalog, const Alert& alert);

}  // namespace stopgap::remedy
