// Diagnostics bundles: a directory per execution (or per `stopgap diag`)
// holding manifest.json and the steps' and collectors' files; packing one
// into a .tar.zst, and pruning old ones. One manifest format for every
// writer (`stopgap diag`, `run`, `serve`): Manifest, schema
// "stopgap.bundle/2", docs/bundle-format.md. ParseManifest/ReadManifest are
// the one reader; they also read the older "stopgap.bundle/1" (diag) and
// "stopgap.execution/1" (engine) manifests.
//
//   auto m = BundleManifest::Create(dir, clock, {{"workaround", id}});  // fsynced
//   m->Add(outcome);  m->Finish();                                      // fsynced
//   Result<Manifest> read = ReadManifest(dir);
//
// Thread safety: a BundleManifest is not thread-safe (one owner per bundle);
// the free functions are stateless.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "diag/diag.h"

namespace stopgap::diag {

inline constexpr int kManifestVersion = 2;
inline constexpr const char* kManifestSchema = "stopgap.bundle/2";
// Older schemas ParseManifest still reads.
inline constexpr const char* kManifestSchemaDiagV1 = "stopgap.bundle/1";
inline constexpr const char* kManifestSchemaExecutionV1 = "stopgap.execution/1";

// The execution a bundle belongs to (absent for `stopgap diag`).
struct ManifestExecution {
  int64_t id = 0;
  std::string workaround;
  std::string issue;
  std::string fingerprint;
  std::map<std::string, std::string> labels;  // the alert's, secret-looking values masked
  std::string state;                          // ExecutionState name: "acting", "succeeded"...
  std::optional<WallTime> diagnostics_finished_at;
};

// One step: a catalog step of an execution, or the collection `stopgap diag`
// made. `collectors` holds one outcome per collector of a collect: step (and
// the one "guru" outcome of a guru: step); empty for run: steps.
struct ManifestStep {
  std::string phase = "diagnostics";  // diagnostics | action | verify
  int index = 0;                      // within its phase, from 0
  std::string kind;                   // run | collect | guru
  std::vector<std::string> argv;      // run: the argv run; else a description
  std::string outcome;                // StepOutcome name: ok, failed, timeout, ...
  std::optional<int> exit_code;
  int signal = 0;
  bool timed_out = false;
  bool truncated = false;
  std::optional<WallTime> started_at;
  std::optional<WallTime> finished_at;
  Duration duration{0};
  std::vector<std::string> files;  // relative to the bundle directory
  std::string error;
  std::vector<CollectorOutcome> collectors;
};

struct Manifest {
  std::string schema = kManifestSchema;  // as read; written as kManifestSchema
  int version = kManifestVersion;
  std::string host;
  WallTime created_at{};
  std::optional<WallTime> finished_at;
  bool complete = false;
  std::map<std::string, std::string> labels;  // free-form ("command": "stopgap diag")
  std::optional<ManifestExecution> execution;
  std::vector<ManifestStep> steps;
};

// manifest.json text for `m` (schema stopgap.bundle/2, whatever m.schema says).
std::string ManifestToJson(const Manifest& m);
// Parses any of the three schemas into the current model. Outside input (a
// bundle may come back from an object store): never throws, bounded work,
// kInvalidArgument naming the bad field.
Result<Manifest> ParseManifest(std::string_view json);
// ParseManifest of <dir>/manifest.json.
Result<Manifest> ReadManifest(const std::string& dir);
// The host name recorded in new manifests.
std::string ManifestHostName();

class BundleManifest {
 public:
  // Creates `dir` (0700) if missing and writes a first manifest.json
  // ("complete": false) with fsync before returning: it exists before any
  // action starts. `labels` are free-form (workaround, execution, issue...).
  static Result<std::unique_ptr<BundleManifest>> Create(
      const std::string& dir, const Clock& clock, std::map<std::string, std::string> labels = {});

  // Records an outcome (in the bundle's one collect step) and rewrites
  // manifest.json (fsynced).
  Status Add(const CollectorOutcome& outcome);
  // Marks the bundle complete with its finish time and rewrites it (fsynced).
  Status Finish();

  const std::string& dir() const { return dir_; }
  // The manifest as JSON text (what is on disk after the last write).
  std::string ToJson() const;

 private:
  BundleManifest(std::string dir, const Clock& clock) : dir_(std::move(dir)), clock_(clock) {}
  Status Write() const;

  std::string dir_;
  const Clock& clock_;
  Manifest m_;
};

// A new bundle directory name under `root`: "<UTC YYYYmmddTHHMMSSZ>-<host>-<6 hex>".
std::string NewBundleDirName(const Clock& clock);

// Packs a bundle directory into a zstd-compressed tar (pax) at `out_path`
// (written to a temp name, fsynced, renamed). Entries are "<basename(dir)>/...".
Status PackBundle(const std::string& dir, const std::string& out_path);

// Removes bundles (directories holding manifest.json, or *.tar.zst files)
// directly under `root` whose modification time is older than now-older_than.
// Returns the paths removed.
Result<std::vector<std::string>> PruneBundles(const std::string& root, Duration older_than,
                                              const Clock& clock);

}  // namespace stopgap::diag
