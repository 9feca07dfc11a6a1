// Shipper: finds logrotate dateext rotations (sweep) or takes given files
// (upload), uploads each one not archived yet to an ObjectStore, records it
// in the StateFile once verified, and only then may delete the local file.
//
//   Shipper s(store, state, SystemClock::Instance(), options);
//   ShipReport r = s.Sweep({"/var/log/app/*.log "});   // logrotate's $1
//
// Invariants: nothing local is deleted unless the state file holds a
// verified record for it with the same size and mtime; a failed upload
// leaves the file and its (absent) record as they were.
// Thread safety: a Shipper runs its uploads on `parallel_files` threads of
// its own; the object itself is used from one thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "core/time.h"
#include "logship/archive.h"
#include "logship/dateext.h"
#include "logship/state_file.h"
#include "logship/store/object_store.h"

namespace stopgap::logship {

struct ShipOptions {
  std::string store_url;  // recorded in the state file
  std::string hostname;   // first component of every object name
  DateFormat dateformat = DateFormat::Default();
  Layout layout = Layout::kHost;      // object names (archive.h)
  std::string olddir;                 // also searched for rotations (relative = to the log's dir)
  bool include_uncompressed = false;  // upload rotations without .gz/.xz/.zst/.bz2
  bool delete_after_upload = false;
  int keep_days = -1;  // >= 0: delete only archived rotations older than this many days
  int parallel_files = 2;
  bool dry_run = false;
  bool quiet = false;
  // When set, Sweep/Upload add the size of every file they will try to
  // upload (not archived per the state file), before uploading (progress bar).
  std::atomic<uint64_t>* pending_bytes = nullptr;
};

struct ShipReport {
  int uploaded = 0;
  int already = 0;  // archived before: no-op
  int skipped = 0;  // not eligible (uncompressed, being compressed)
  int failed = 0;
  int deleted = 0;
  int stale_aborted = 0;  // unfinished multipart uploads of this run's keys, aborted
  uint64_t bytes = 0;
};

// A file the shipper considered, with why.
struct Candidate {
  std::string path;  // absolute
  std::optional<Rotation> rotation;
  std::string skip_reason;  // non-empty: not uploaded
};

class Shipper {
 public:
  Shipper(ObjectStore& store, StateFile& state, const Clock& clock, ShipOptions options);

  // For each pattern (whitespace-separated globs, trailing space allowed),
  // the rotations of every live log it names.
  ShipReport Sweep(const std::vector<std::string>& patterns);
  // Exactly these files.
  ShipReport Upload(const std::vector<std::string>& files);

  // The rotations of one live log path or glob ("/var/log/app/*.log"); the
  // live logs need not exist any more (logrotate without `create`).
  std::vector<Candidate> FindRotations(const std::string& pattern) const;

  // "<host>/<absolute dir without leading slash>/<file name>".
  static std::string ObjectKey(const std::string& host, const std::string& abs_path);
  // The key of a candidate under options.layout (the date layout takes the
  // rotation's day, else the file's modification day, UTC).
  std::string KeyOf(const Candidate& c) const;

 private:
  ShipReport Run(const std::vector<Candidate>& candidates);
  // One file: already archived? upload + verify + record; maybe delete.
  void ShipOne(const Candidate& c, ShipReport* report);
  void Say(const std::string& line) const;
  void Fail(const std::string& path, const std::string& key, const Status& st);

  ObjectStore& store_;
  StateFile& state_;
  const Clock& clock_;
  ShipOptions options_;
  std::atomic<int> orphans_aborted_{0};  // open uploads of completed keys, aborted
  std::atomic<bool> stop_{false};        // set on an auth failure: the rest would fail too
};

// Splits logrotate's $1 into patterns and expands globs (sorted, unique).
// A pattern without glob characters is kept even when nothing exists there.
std::vector<std::string> ExpandLogPatterns(const std::vector<std::string>& args);
// Absolute path without resolving the final component's symlink.
std::string AbsolutePath(const std::string& path);

}  // namespace stopgap::logship
