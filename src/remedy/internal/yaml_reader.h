// Typed, violation-collecting access to yaml-cpp nodes for the catalog
// loader: every read names its field and line, unknown and duplicate keys are
// reported, and no yaml-cpp exception escapes. A visit budget bounds the work
// an alias-heavy document can cause.
//
// Thread safety: one YamlReader per load; not shared.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/time.h"
#include "remedy/catalog.h"

namespace stopgap::remedy::internal {

class YamlReader {
 public:
  YamlReader(std::string file, std::vector<Violation>* out) : file_(std::move(file)), out_(out) {}

  // The workaround id that new violations are attributed to.
  void SetWorkaround(std::string id) { workaround_ = std::move(id); }

  static int LineOf(const YAML::Node& n);  // 1-based; 0 when unknown

  void Error(const YAML::Node& at, std::string_view field, std::string_view rule,
             std::string message);
  void ErrorAtLine(int line, std::string_view field, std::string_view rule, std::string message);
  void Warn(const YAML::Node& at, std::string_view field, std::string_view rule,
            std::string message);
  void WarnAtLine(int line, std::string_view field, std::string_view rule, std::string message);

  // Checks `map` is a mapping whose keys are scalars from `allowed`, each
  // present once. False (violations recorded) when it is not a mapping.
  bool CheckMap(const YAML::Node& map, std::string_view field,
                std::initializer_list<std::string_view> allowed);

  // Scalar readers: nullopt (and a violation) when present but of the wrong
  // type; nullopt without violation when absent or null.
  std::optional<std::string> String(const YAML::Node& parent, std::string_view key,
                                    std::string_view field);
  std::optional<bool> Bool(const YAML::Node& parent, std::string_view key, std::string_view field);
  std::optional<int64_t> Int(const YAML::Node& parent, std::string_view key, std::string_view field,
                             int64_t min, int64_t max);
  std::optional<Duration> DurationField(const YAML::Node& parent, std::string_view key,
                                        std::string_view field);
  // A sequence of scalars (or, if `allow_scalar`, one scalar).
  std::optional<std::vector<std::string>> Strings(const YAML::Node& parent, std::string_view key,
                                                  std::string_view field, bool allow_scalar);

  // Counts node visits; false once the budget is spent (one violation).
  bool Visit(const YAML::Node& at);

  bool HasErrors() const;

 private:
  std::string file_;
  std::vector<Violation>* out_;
  std::string workaround_;
  int64_t budget_ = 200000;
  bool budget_reported_ = false;
};

// The value under `key` of a mapping (Undefined when absent or not a map).
// Never throws, never inserts.
YAML::Node ChildOf(const YAML::Node& parent, std::string_view key);
// Absent or null.
bool IsAbsent(const YAML::Node& n);
std::string TypeName(const YAML::Node& n);

// Joins "a" and "b" into "a.b" (or "b" when a is empty).
std::string Field(std::string_view prefix, std::string_view name);

}  // namespace stopgap::remedy::internal
