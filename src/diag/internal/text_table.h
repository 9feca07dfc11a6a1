// TextTable: left-aligned columns for the human-readable files in a bundle.
// Thread safety: a value; not shared.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

namespace stopgap::diag::internal {

class TextTable {
 public:
  explicit TextTable(std::vector<std::string> header) { rows_.push_back(std::move(header)); }
  void Add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  std::string Render() const {
    std::vector<size_t> w;
    for (const auto& r : rows_) {
      if (w.size() < r.size()) w.resize(r.size(), 0);
      for (size_t i = 0; i < r.size(); ++i) w[i] = std::max(w[i], r[i].size());
    }
    std::string out;
    for (const auto& r : rows_) {
      for (size_t i = 0; i < r.size(); ++i) {
        out += r[i];
        if (i + 1 < r.size()) out.append(w[i] - r[i].size() + 2, ' ');
      }
      out += '\n';
    }
    return out;
  }

 private:
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace stopgap::diag::internal
