// The archive as a catalog of logs: lists objects named
// "<host>/<dir>/<live name><date>[.gz]" and filters them by host, log and
// day (ls), and fetches them to a directory or stdout, optionally
// decompressing .gz/.xz/.zst on the fly (get).
//
// Thread safety: functions are stateless; the store is thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/time.h"
#include "logship/dateext.h"
#include "logship/store/object_store.h"

namespace stopgap::logship {

struct ArchivedLog {
  ObjectInfo object;
  std::string host;
  std::string path;  // "/var/log/app.log-20261125.gz" as it was on the host
  std::optional<Rotation> rotation;
};

struct ArchiveFilter {
  std::string host;  // "" = any
  std::string log;   // "" = any; a path ("/var/log/app.log") or a live name ("app.log")
  std::optional<CivilDay> since, until;  // inclusive; objects without a date are excluded
  DateFormat dateformat = DateFormat::Default();
};

// Splits an object key into host and path; nullopt when it has no '/'.
std::optional<ArchivedLog> ParseObjectKey(const ObjectInfo& object, const DateFormat& format);

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
