// Internal state of libstopgap_guru shared by the installer (guru.cc) and the
// report writer (report.cc). The reporter thread is the only reader of
// Config/Options while writing a report; registration takes the mutex.
#pragma once

#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

#include "guru/stopgap_guru.h"

namespace stopgap::guru {

struct ConfigEntry {
  std::string key, value;
  bool secret = false;
};
struct Section {
  std::string name;
  stopgap_guru_section_fn fn = nullptr;
  void* user = nullptr;
};
struct Options {
  std::string service, package, version, report_dir, trigger_file;
  int signal = 0;
  int trigger_poll_ms = 1000;
  int stack_signal = 0;
};

struct Registry {
  std::mutex mu;
  std::vector<ConfigEntry> config;
  std::vector<Section> sections;
};
Registry& GetRegistry();

// Writes one complete report for `opts` to `out`. Reporter thread only.
void WriteReport(const Options& opts, FILE* out);
// Installs the per-thread stack sampling handler for `sig`.
bool InstallStackSampler(int sig);
void UninstallStackSampler(int sig);

}  // namespace stopgap::guru
