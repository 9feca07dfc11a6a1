// The archive as a catalog of logs: lists objects named
// "<host>/<dir>/<live name><date>[.gz]" (or "<YYYY>/<MM>/<DD>/<host>/..."
// with the date layout) and filters them by host, log and day (ls), and
// fetches them to a directory or stdout, optionally decompressing
// .gz/.xz/.zst on the fly (get). A rotation's day comes from the key (date
// layout), else its name (the given --dateformat, else the common dateext
// forms), else the object's metadata (a HEAD); an object whose day stays
// unknown is kept by every date filter, never dropped.
//
// Thread safety: functions are stateless; the store is thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/time.h"
#include "logship/archive.h"
#include "logship/dateext.h"
#include "logship/store/object_store.h"

namespace stopgap::logship {

struct ArchivedLog {
  ObjectInfo object;
  std::string host;
  std::string path;  // "/var/log/app.log-20261125.gz" as it was on the host
  std::optional<Rotation> rotation;
  std::optional<CivilDay> day;  // nullopt: unknown (listed with "-", kept by date filters)
  std::optional<uint64_t> uncompressed_size;  // from the metadata, when read
};

struct ArchiveFilter {
  std::string host;  // "" = any
  std::string log;   // "" = any; a path ("/var/log/app.log") or a live name ("app.log")
  std::optional<CivilDay> since, until;  // inclusive; objects without a known day are kept
  // The dateformat the names were written with; nullopt = recognise the
  // common forms (RecogniseRotation).
  std::optional<DateFormat> dateformat;
  Layout layout = Layout::kHost;
  // Read every listed object's metadata (a HEAD each), not only for the
  // objects whose day the key and name do not tell.
  bool read_meta = false;
};

// Splits an object key into host, path and the day its key or name tells;
// nullopt when it is not an archive key.
std::optional<ArchivedLog> ParseObjectKey(const ObjectInfo& object,
                                          const std::optional<DateFormat>& format,
                                          Layout layout = Layout::kHost);

Result<std::vector<ArchivedLog>> ListArchive(ObjectStore& store, const ArchiveFilter& filter);

// Ok when every '/'-separated component of `key` is a plain name: no "..",
// ".", empty component, NUL byte or leading '/'. kInvalidArgument naming the
// key otherwise. Keys come from the store, which is outside input.
Status ValidateObjectKey(std::string_view key);

// Writes one object to `out_dir/<host>/<file name>` (never overwriting, never
// through a symlink, 0600; "-" = stdout), decompressing when asked. Refuses a
// key that fails ValidateObjectKey before writing anything. Returns the path
// written.
Result<std::string> FetchLog(ObjectStore& store, const ArchivedLog& log, const std::string& out_dir,
                             bool decompress);

}  // namespace stopgap::logship
