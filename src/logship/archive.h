// How the archive names and describes a rotation: the two key layouts
// ("<host>/<path>" and "<YYYY>/<MM>/<DD>/<host>/<path>") and the metadata
// stored with every object (date, host, original path, uncompressed size),
// so a later question need not guess the dateformat again.
// Pure functions over strings (keys and metadata come from the store:
// fuzzed, fuzz/logship.cmake); thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "core/time.h"
#include "logship/dateext.h"
#include "logship/store/object_store.h"

namespace stopgap::logship {

enum class Layout {
  kHost,  // <host>/<absolute path>: today's default, one prefix per host
  kDate,  // <YYYY>/<MM>/<DD>/<host>/<absolute path>: one prefix per day
};
Result<Layout> ParseLayout(std::string_view text);  // "host" | "date"

// The object key of an absolute local path. `day` is used by kDate.
std::string ArchiveKey(Layout layout, const std::string& host, const std::string& abs_path,
                       CivilDay day);
// The key prefix holding one day's objects under kDate ("2026/11/25/"),
// narrowed to one host when host is not empty.
std::string DayPrefix(CivilDay day, const std::string& host);

struct KeyParts {
  std::string host;
  std::string path;             // "/var/log/app.log-20261125.gz"
  std::optional<CivilDay> day;  // kDate keys carry the day
};
// Splits a key of the given layout; nullopt when it is not one.
std::optional<KeyParts> SplitArchiveKey(Layout layout, std::string_view key);

// Metadata names (without the store's prefix).
inline constexpr const char* kMetaDate = "stopgap-date";  // "2026-11-25T13:00:00[Z]"
inline constexpr const char* kMetaHost = "stopgap-host";
inline constexpr const char* kMetaPath = "stopgap-path";  // percent-encoded
inline constexpr const char* kMetaUncompressed = "stopgap-uncompressed-size";

// The metadata of a rotation: date (the calendar time its name carries;
// UTC with a "Z" when the name held %s), host, path, uncompressed size.
ObjectMeta ArchiveMeta(const std::string& host, const std::string& abs_path,
                       const std::optional<Rotation>& rotation,
                       std::optional<uint64_t> uncompressed_size);
// What an object's metadata says, each field only when present and sane.
struct MetaFacts {
  std::optional<CivilDay> day;
  std::string host, path;
  std::optional<uint64_t> uncompressed_size;
};
MetaFacts ReadArchiveMeta(const ObjectMeta& meta);

}  // namespace stopgap::logship
