// Loading the step lists of a workaround (diagnostics, action, verify):
// run / collect / guru steps, their fields, templates and timeouts.
// Thread safety: as YamlReader (one per load).
#pragma once

#include <yaml-cpp/yaml.h>

#include <string_view>
#include <vector>

#include "remedy/catalog.h"
#include "remedy/internal/yaml_reader.h"

namespace stopgap::remedy::internal {

// Reads the list under `workaround[key]` into `out` (left empty when absent;
// violations recorded for every bad step).
void LoadSteps(YamlReader& r, const YAML::Node& workaround, std::string_view key,
               std::vector<Step>* out);

// The collectors a `collect:` step may name.
inline constexpr std::string_view kCollectorNames[] = {"system", "tcp", "process"};

// "USR2", "SIGUSR2" -> a signal number; 0 when unknown or a bare number.
int SignalNumber(std::string_view name);
// USR1, USR2 and HUP: the signals a guru step sends without allow_any_signal.
bool GuruSignalIsSafe(std::string_view name);

}  // namespace stopgap::remedy::internal
