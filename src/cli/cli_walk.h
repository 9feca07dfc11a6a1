// Reading the CLI11 command tree back: `stopgap man` and `stopgap completion`
// generate man pages and shell completion from the same definitions --help
// prints, so they cannot drift from it.
//
// Threading: call after every Setup* ran, from main's thread.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace stopgap::cli {

// The visible subcommands of `app`, in definition order.
inline std::vector<const CLI::App*> Subcommands(const CLI::App& app) {
  return app.get_subcommands([](const CLI::App* s) { return !s->get_group().empty(); });
}

// The options a user can type, positionals excluded: "-c", "--catalog".
inline std::vector<std::string> FlagNames(const CLI::Option& o) {
  std::vector<std::string> out;
  for (const std::string& s : o.get_snames()) out.push_back("-" + s);
  for (const std::string& l : o.get_lnames()) out.push_back("--" + l);
  return out;
}

inline std::vector<const CLI::Option*> Flags(const CLI::App& app) {
  return app.get_options([](const CLI::Option* o) { return o->nonpositional(); });
}

inline std::vector<const CLI::Option*> Positionals(const CLI::App& app) {
  return app.get_options([](const CLI::Option* o) { return o->get_positional(); });
}

// Whether the option takes a value (TEXT, INT...) rather than being a flag
// (what --help checks before printing the type: flags have no type name).
inline bool TakesValue(const CLI::Option& o) {
  return o.get_type_size() != 0 && !o.get_type_name().empty();
}

}  // namespace stopgap::cli
