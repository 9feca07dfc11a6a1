// Alert -> workaround matching (pure).
#include "remedy/matcher.h"

#include <algorithm>

namespace stopgap::remedy {

bool Matches(const Workaround& w, const Alert& alert) {
  if (!w.match) return false;
  std::string name = alert.name;
  if (name.empty()) {
    auto it = alert.labels.find("alertname");
    if (it != alert.labels.end()) name = it->second;
  }
  if (name != w.match->alertname) return false;
  for (const auto& [k, v] : w.match->labels) {
    auto it = alert.labels.find(k);
    if (it == alert.labels.end() || it->second != v) return false;
  }
  return true;
}

std::vector<const Workaround*> MatchWorkarounds(const Catalog& catalog, const Alert& alert) {
  std::vector<const Workaround*> out;
  for (const Workaround& w : catalog.workarounds)
    if (Matches(w, alert)) out.push_back(&w);
  std::stable_sort(out.begin(), out.end(), [](const Workaround* a, const Workaround* b) {
    return a->match->labels.size() > b->match->labels.size();
  });
  return out;
}

const Workaround* BestMatch(const Catalog& catalog, const Alert& alert) {
  std::vector<const Workaround*> all = MatchWorkarounds(catalog, alert);
  return all.empty() ? nullptr : all.front();
}

}  // namespace stopgap::remedy
