// Diagnostics bundles: a directory per execution holding manifest.json (see
// docs/bundle-format.md, schema "stopgap.bundle/1") and the collectors' files;
// packing one into a .tar.zst, and pruning old ones.
//
//   auto m = BundleManifest::Create(dir, clock, {{"workaround", id}});  // fsynced
//   m->Add(outcome);  m->Finish();                                      // fsynced
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

inline constexpr int kManifestVersion = 1;
inline constexpr const char* kManifestSchema = "stopgap.bundle/1";

class BundleManifest {
 public:
  // Creates `dir` (0700) if missing and writes a first manifest.json
  // ("complete": false) with fsync before returning: it exists before any
  // action starts. `labels` are free-form (workaround, execution, issue...).
  static Result<std::unique_ptr<BundleManifest>> Create(
      const std::string& dir, const Clock& clock, std::map<std::string, std::string> labels = {});

  // Records an outcome and rewrites manifest.json (fsynced).
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
  std::string host_;
  WallTime created_;
  std::optional<WallTime> finished_;
  std::map<std::string, std::string> labels_;
  std::vector<CollectorOutcome> outcomes_;
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
