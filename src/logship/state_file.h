// The local record of what was archived, so re-running is a no-op and local
// deletion can rely on it. One JSON document (format in docs/logship.md,
// "version": 1), replaced atomically (temp + fsync + rename), mode 0600.
// A run holds an exclusive flock on "<path>.lock" for its whole duration so
// concurrent sweeps (several logrotate stanzas) never interleave.
//
// Thread safety: StateFile is internally locked; Record() may be called from
// several upload threads.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "core/status.h"

namespace stopgap::logship {

struct ArchivedFile {
  std::string store;       // the store URL ("s3://bucket/prefix")
  std::string key;         // object key relative to it
  std::string local_path;  // absolute path when uploaded
  uint64_t size = 0;
  int64_t mtime_ns = 0;     // local mtime when uploaded
  std::string etag;         // verified ETag as the store reported it
  std::string uploaded_at;  // RFC 3339
};

class StateFile {
 public:
  // Loads `path` (missing = empty). Corrupt JSON is DataLoss naming the file.
  static Result<std::unique_ptr<StateFile>> Load(const std::string& path);

  // The record for (store, key), copied out; false when none.
  bool Find(const std::string& store, const std::string& key, ArchivedFile* out) const;
  // Adds or replaces a record and durably rewrites the file.
  Status Record(const ArchivedFile& entry);
  size_t size() const;
  const std::string& path() const { return path_; }

 private:
  explicit StateFile(std::string path) : path_(std::move(path)) {}
  Status WriteLocked() const;

  std::string path_;
  mutable std::mutex mu_;
  std::map<std::string, ArchivedFile> entries_;  // "<store>\n<key>"
};

// Holds an exclusive flock on "<state path>.lock" (created 0600) until destroyed.
class StateLock {
 public:
  static Result<std::unique_ptr<StateLock>> Acquire(const std::string& state_path);
  ~StateLock();

 private:
  explicit StateLock(int fd) : fd_(fd) {}
  int fd_;
};

// Default state path: $STOPGAP_LOGSHIP_STATE, else /var/lib/stopgap/logship.state
// for root, else $XDG_STATE_HOME (or ~/.local/state)/stopgap/logship.state.
std::string DefaultStatePath();

}  // namespace stopgap::logship
