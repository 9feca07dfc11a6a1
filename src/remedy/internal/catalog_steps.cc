// Step loading for the catalog; see catalog_steps.h.
#include "remedy/internal/catalog_steps.h"

#include <csignal>
#include <string>

#include "remedy/template.h"

namespace stopgap::remedy::internal {
namespace {

constexpr Duration kMaxStepTimeout = std::chrono::hours(24);

std::string Idx(std::string_view key, size_t i) {
  return std::string(key) + "[" + std::to_string(i) + "]";
}

// Templates belong in run arguments only.
void NoTemplate(YamlReader& r, const YAML::Node& at, const std::string& field,
                const std::string& value) {
  if (value.find("{{") != std::string::npos || value.find("}}") != std::string::npos) {
    r.Error(at, field, "bad-template", "templates are allowed only as run: arguments");
  }
}

void LoadRun(YamlReader& r, const YAML::Node& n, const std::string& field, Step* step) {
  RunStep run;
  auto argv = r.Strings(n, "run", field + ".run", false);
  if (!argv) {
    step->body = run;
    return;
  }
  if (argv->empty() || (*argv)[0].empty()) {
    r.Error(ChildOf(n, "run"), field + ".run", "bad-step",
            "run needs a program and its arguments, e.g. run: [systemctl, restart, nginx]");
  } else if (LabelTemplateName((*argv)[0])) {
    r.Error(ChildOf(n, "run"), field + ".run[0]", "bad-template",
            "the program itself cannot come from an alert label");
  }
  for (size_t i = 0; i < argv->size(); ++i) {
    Status st = ValidateTemplateArg((*argv)[i]);
    if (!st.ok()) {
      r.Error(ChildOf(n, "run"), field + ".run[" + std::to_string(i) + "]", "bad-template",
              st.message());
    }
  }
  run.argv = std::move(*argv);
  step->body = std::move(run);
}

// `exe: /usr/bin/nova-api`: the target's /proc/PID/exe must resolve to it.
void LoadExe(YamlReader& r, const YAML::Node& n, const std::string& field, std::string* exe) {
  if (auto v = r.String(n, "exe", field + ".exe")) {
    NoTemplate(r, ChildOf(n, "exe"), field + ".exe", *v);
    if (!v->starts_with("/")) {
      r.Error(ChildOf(n, "exe"), field + ".exe", "bad-value",
              "exe is an absolute path, e.g. /usr/bin/nova-api");
    }
    *exe = *v;
  }
}

void LoadCollect(YamlReader& r, const YAML::Node& n, const std::string& field, Step* step) {
  CollectStep c;
  if (auto names = r.Strings(n, "collect", field + ".collect", true)) c.collectors = *names;
  if (c.collectors.empty()) {
    r.Error(n, field + ".collect", "bad-step", "name at least one collector: system, tcp, process");
  }
  bool process = false;
  for (const std::string& name : c.collectors) {
    bool known = false;
    for (std::string_view k : kCollectorNames) known = known || k == name;
    if (!known) {
      r.Error(ChildOf(n, "collect"), field + ".collect", "bad-collector",
              "unknown collector '" + name + "' (known: system, tcp, process)");
    }
    process = process || name == "process";
  }
  if (auto v = r.Int(n, "pid", field + ".pid", 1, 1 << 30)) c.pid = *v;
  if (auto v = r.String(n, "pidfile", field + ".pidfile")) {
    NoTemplate(r, ChildOf(n, "pidfile"), field + ".pidfile", *v);
    c.pidfile = *v;
  }
  if (auto v = r.Bool(n, "stacks", field + ".stacks")) c.stacks = *v;
  LoadExe(r, n, field, &c.exe);
  if (!c.exe.empty() && !process) {
    r.Error(ChildOf(n, "exe"), field + ".exe", "bad-step",
            "exe checks the process collector's target");
  }
  if (process && !c.pid && c.pidfile.empty()) {
    r.Error(n, field + ".collect", "bad-step", "the process collector needs pid or pidfile");
  }
  step->body = std::move(c);
}

void LoadGuru(YamlReader& r, const YAML::Node& n, const std::string& field, Step* step) {
  GuruStep g;
  YAML::Node body = ChildOf(n, "guru");
  std::string f = field + ".guru";
  if (r.CheckMap(body, f,
                 {"pid", "pidfile", "exe", "signal", "allow_any_signal", "report", "timeout"})) {
    if (auto v = r.Int(body, "pid", f + ".pid", 1, 1 << 30)) g.pid = *v;
    if (auto v = r.String(body, "pidfile", f + ".pidfile")) {
      NoTemplate(r, ChildOf(body, "pidfile"), f + ".pidfile", *v);
      g.pidfile = *v;
    }
    if (!g.pid && g.pidfile.empty()) {
      r.Error(body, f, "bad-step", "guru needs pid or pidfile");
    }
    LoadExe(r, body, f, &g.exe);
    bool any_signal = false;
    if (auto v = r.Bool(body, "allow_any_signal", f + ".allow_any_signal")) any_signal = *v;
    if (auto v = r.String(body, "signal", f + ".signal")) {
      // A name, never a number: `signal: 9` would kill the service the
      // workaround is meant to diagnose.
      if (SignalNumber(*v) == 0) {
        r.Error(ChildOf(body, "signal"), f + ".signal", "bad-value",
                "unknown signal '" + *v + "' (use a name: USR1, USR2 or HUP)");
      } else if (!any_signal && !GuruSignalIsSafe(*v)) {
        r.Error(ChildOf(body, "signal"), f + ".signal", "bad-value",
                "signal '" + *v +
                    "' may stop the process; guru takes USR1, USR2 or HUP (set "
                    "allow_any_signal: true to send another named signal on purpose)");
      }
      g.signal = *v;
    }
    if (auto v = r.String(body, "report", f + ".report")) {
      NoTemplate(r, ChildOf(body, "report"), f + ".report", *v);
      g.report_glob = *v;
    }
    if (g.report_glob.empty()) {
      r.Error(body, f + ".report", "bad-step",
              "guru needs report: the glob where the process writes its report");
    }
    if (auto v = r.DurationField(body, "timeout", f + ".timeout")) step->timeout = *v;
  }
  step->body = std::move(g);
}

}  // namespace

int SignalNumber(std::string_view name) {
  if (name.starts_with("SIG")) name.remove_prefix(3);
  static constexpr std::pair<std::string_view, int> kSignals[] = {
      {"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT}, {"USR1", SIGUSR1},
      {"USR2", SIGUSR2}, {"TERM", SIGTERM}, {"CONT", SIGCONT}, {"WINCH", SIGWINCH},
  };
  for (const auto& [n, v] : kSignals)
    if (n == name) return v;
  return 0;  // numbers are refused: a name says what is sent
}

bool GuruSignalIsSafe(std::string_view name) {
  if (name.starts_with("SIG")) name.remove_prefix(3);
  return name == "USR1" || name == "USR2" || name == "HUP";
}

void LoadSteps(YamlReader& r, const YAML::Node& workaround, std::string_view key,
               std::vector<Step>* out) {
  YAML::Node list = ChildOf(workaround, key);
  if (IsAbsent(list)) return;
  if (!list.IsSequence()) {
    r.Error(list, key, "bad-type", "expected a list of steps (- run: [...])");
    return;
  }
  size_t i = 0;
  for (auto it = list.begin(); it != list.end(); ++it, ++i) {
    const YAML::Node n = *it;
    if (!r.Visit(n)) return;
    std::string field = Idx(key, i);
    Step step;
    step.line = YamlReader::LineOf(n);
    if (!r.CheckMap(n, field,
                    {"run", "collect", "guru", "timeout", "pid", "pidfile", "stacks", "exe"})) {
      continue;
    }
    int kinds = !IsAbsent(ChildOf(n, "run")) + !IsAbsent(ChildOf(n, "collect")) +
                !IsAbsent(ChildOf(n, "guru"));
    if (kinds != 1) {
      r.Error(n, field, "bad-step", "a step is exactly one of run:, collect: or guru:");
      continue;
    }
    bool is_collect = !IsAbsent(ChildOf(n, "collect"));
    for (std::string_view k : {"pid", "pidfile", "stacks", "exe"}) {
      if (!is_collect && !IsAbsent(ChildOf(n, k))) {
        r.Error(ChildOf(n, k), field + "." + std::string(k), "unknown-key",
                "'" + std::string(k) + "' belongs to a collect: step (or inside guru: {…})");
      }
    }
    if (!IsAbsent(ChildOf(n, "run"))) {
      LoadRun(r, n, field, &step);
    } else if (is_collect) {
      step.timeout = std::chrono::seconds(5);
      LoadCollect(r, n, field, &step);
    } else {
      step.timeout = std::chrono::seconds(5);
      LoadGuru(r, n, field, &step);
    }
    if (auto t = r.DurationField(n, "timeout", field + ".timeout")) step.timeout = *t;
    if (step.timeout.count() <= 0 || step.timeout > kMaxStepTimeout) {
      r.Error(ChildOf(n, "timeout"), field + ".timeout", "bad-duration",
              "a step timeout is between 1ms and 24h");
    }
    out->push_back(std::move(step));
  }
}

}  // namespace stopgap::remedy::internal
