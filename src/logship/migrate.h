// migrate-layout: rewrites an archive from one key layout to the other
// (host <-> date) with server-side copies, verified, and resumable by
// construction: an object is deleted under its old key only after its copy
// under the new key was seen with the same size and ETag, and every step is
// idempotent, so a run killed anywhere is finished by running it again.
//
//   MigrateOptions o{.from = Layout::kHost, .to = Layout::kDate};
//   Result<MigrateReport> r = MigrateLayout(store, o);
//
// Thread safety: runs o.parallel workers over the store (thread-safe);
// o.progress is called from them, one call at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "logship/archive.h"
#include "logship/dateext.h"
#include "logship/store/object_store.h"

namespace stopgap::logship {

struct MigrateOptions {
  Layout from = Layout::kHost;
  Layout to = Layout::kDate;
  // The dateformat the names were written with; nullopt = recognise the
  // common forms, then the object's metadata.
  std::optional<DateFormat> dateformat;
  int parallel = 4;
  bool dry_run = false;
  // One line per object handled ("moved K -> K'", "undated K", "failed K: why").
  std::function<void(const std::string&)> progress;
};

struct MigrateReport {
  uint64_t moved = 0;      // copied, verified, old key deleted (or would be: dry run)
  uint64_t resumed = 0;    // of those, the copy was already there (an earlier run cut off)
  uint64_t in_target = 0;  // already under the target layout
  uint64_t undated = 0;    // to the date layout, but the day is unknown: left in place
  uint64_t foreign = 0;    // keys of neither layout: left alone
  uint64_t failed = 0;     // errors (and conflicts: a different object at the new key)
};

// Whether `copy` is a faithful copy of `source`: same size, and the same
// ETag, or (a multipart S3 source or copy, whose ETag is not the MD5 of the
// whole) the same stopgap metadata. An expiry (Swift's X-Delete-At) is
// compared by MigrateLayout, not here.
bool SameObject(const ObjectInfo& source, const ObjectInfo& copy);

Result<MigrateReport> MigrateLayout(ObjectStore& store, const MigrateOptions& options);

}  // namespace stopgap::logship
