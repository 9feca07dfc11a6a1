// `stopgap check -c FILE [--strict] [--offline] [--today YYYY-MM-DD]`: validates
// a catalog and prints every violation with file:line and workaround id. With a
// `tracker:` section it also looks every issue up (unless --offline).
// Exit: 2 on any error (expired or unknown issue included), 1 with --strict
// when there are warnings (expiring within 14 days, issue closed), 1 when the
// tracker cannot be reached, else 0. On success it also says how each matched
// workaround's limits count: per workaround, or per group (limits.group_by).
#include <cstdio>
#include <string>
#include <vector>

#include "cli/command.h"
#include "core/time.h"
#include "remedy/catalog.h"
#include "remedy/tracker/verify.h"

namespace stopgap::cli {

CommandMain SetupCheck(CLI::App& sub) {
  struct Opts {
    std::string catalog;
    bool strict = false;
    bool offline = false;
    std::string today;
  };
  auto o = std::make_shared<Opts>();
  sub.add_option("-c,--catalog", o->catalog, "Catalog file (YAML)")->required();
  sub.add_flag("--strict", o->strict, "Exit 1 when there are warnings (expiring soon)");
  sub.add_flag("--offline", o->offline, "Do not look the issues up in the tracker");
  sub.add_option("--today", o->today, "Check as if today were this day (YYYY-MM-DD, UTC)");
  return [o]() -> int {
    CivilDay today = CivilDayOf(SystemClock::Instance().Now());
    if (!o->today.empty()) {
      Result<CivilDay> d = ParseCivilDay(o->today);
      if (!d.ok()) {
        std::fprintf(stderr, "stopgap check: --today: %s\n", d.status().message().c_str());
        return kExitUsage;
      }
      today = *d;
    }
    std::vector<remedy::Violation> violations;
    Result<remedy::Catalog> catalog = remedy::LoadCatalog(o->catalog, today, &violations);
    if (catalog.ok() && !o->offline) {
      Status st =
          remedy::tracker::VerifyCatalogIssues(*catalog, SystemClock::Instance(), &violations);
      if (!st.ok()) {
        for (const remedy::Violation& v : violations)
          std::fprintf(stderr, "%s\n", v.ToString().c_str());
        std::fprintf(stderr, "stopgap check: %s\n", st.message().c_str());
        return kExitFailed;
      }
    }
    int errors = 0, warnings = 0;
    for (const remedy::Violation& v : violations) {
      std::fprintf(stderr, "%s\n", v.ToString().c_str());
      (v.severity == remedy::Severity::kError ? errors : warnings)++;
    }
    if (!catalog.ok() && violations.empty()) {
      std::fprintf(stderr, "stopgap check: %s\n", catalog.status().message().c_str());
      return kExitUsage;
    }
    if (errors > 0) {
      std::fprintf(stderr, "%s: %d error(s), %d warning(s)\n", o->catalog.c_str(), errors,
                   warnings);
      return kExitUsage;
    }
    std::printf("%s: ok, %zu workaround(s), %d warning(s)\n", o->catalog.c_str(),
                catalog->workarounds.size(), warnings);
    // How the limits count: per workaround unless limits.group_by says per
    // group of label values (the circuit breaker is always global).
    for (const remedy::Workaround& w : catalog->workarounds) {
      if (!w.match) continue;
      if (w.limits.group_by.empty()) {
        std::printf(
            "  %s: limits count per workaround (no limits.group_by): one alert's run "
            "holds back the same workaround for every other label value\n",
            w.id.c_str());
      } else {
        std::string labels;
        for (const std::string& l : w.limits.group_by) labels += (labels.empty() ? "" : ", ") + l;
        std::printf("  %s: limits count per group of %s (limits.group_by)\n", w.id.c_str(),
                    labels.c_str());
      }
    }
    // What each mode will do (the default, auto, acts alone).
    for (const remedy::Workaround& w : catalog->workarounds) {
      if (w.mode == remedy::Mode::kObserve) {
        std::printf(
            "  %s: mode observe: diagnostics run on real alerts; the action is only "
            "recorded as would-run, nothing changes\n",
            w.id.c_str());
      } else if (w.mode == remedy::Mode::kApprove) {
        std::printf(
            "  %s: mode approve: diagnostics run, then the action waits for a person "
            "with the approve scope (approval_timeout %s, then approval-expired)\n",
            w.id.c_str(), FormatDuration(w.approval_timeout).c_str());
      }
    }
    return warnings > 0 && o->strict ? kExitFailed : kExitOk;
  };
}

}  // namespace stopgap::cli
