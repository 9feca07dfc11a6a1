// BundleArchiver: ships an execution's diagnostics bundle to the archive store
// named by the catalog's `archive:` (s3://, swift://, file://) as
// "<prefix>/bundles/<host>/<bundle dir name>-<created-at>-<instance>.tar.zst"
// (created-at from the bundle manifest, instance random per archiver, so a
// recreated ledger's execution ids cannot collide; an existing key is never
// overwritten), verified by the store
// before Ship() returns OK. The local bundle is kept either way (pruned later
// by policy.retain_bundles), so a failed upload loses nothing.
//
// Thread safety: Ship() may be called from several workers at once.
#pragma once

#include <memory>
#include <string>

#include "core/status.h"
#include "logship/store/object_store.h"
#include "remedy/catalog.h"

namespace stopgap::app {

class BundleArchiver {
 public:
  // Opens the store; an error names the URL (credentials, bad URL).
  static Result<std::unique_ptr<BundleArchiver>> Open(const remedy::ArchiveConfig& archive);

  // Packs `bundle_dir` into a tar.zst next to it, uploads it, removes the
  // local archive file. Returns the object key.
  Result<std::string> Ship(const std::string& bundle_dir);

 private:
  BundleArchiver(std::unique_ptr<logship::ObjectStore> store, std::string host,
                 std::string instance)
      : store_(std::move(store)), host_(std::move(host)), instance_(std::move(instance)) {}
  std::unique_ptr<logship::ObjectStore> store_;
  std::string host_;
  std::string instance_;
};

}  // namespace stopgap::app
