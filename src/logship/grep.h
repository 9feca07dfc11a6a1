// `logship grep`: searches archived logs without fetching them to disk. Each
// object streams from the store through its decompressor (.gz/.xz/.zst) and
// a POSIX regex, `parallel` objects at a time; matching lines are printed
// as "<host> <path>:<line>" (like zgrep -H, with the host first), objects in
// listing order (an object still ahead of the printed one buffers at most
// kGrepBufferBytes of matches, then waits). No temporary files.
//
// Thread safety: GrepArchive runs its own workers (one regex_t each, as
// glibc's regexec serializes callers of a shared one); the store is
// thread-safe.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "core/status.h"
#include "logship/catalog.h"
#include "logship/store/object_store.h"

namespace stopgap::logship {

inline constexpr size_t kGrepBufferBytes = 8u << 20;

struct GrepOptions {
  std::string pattern;
  bool extended = false;     // -E: POSIX extended regex (default: basic, like grep)
  bool ignore_case = false;  // -i
  int64_t max_count = -1;    // -m N: stop after N matching lines in all (< 0: no limit)
  int parallel = 4;          // objects searched at once
};

struct GrepReport {
  uint64_t objects = 0;           // searched to the end (or to -m)
  uint64_t matches = 0;           // lines printed
  uint64_t compressed_bytes = 0;  // read from the store
  int failed = 0;                 // objects that could not be searched (each logged)
};

// kInvalidArgument when the pattern does not compile.
Result<GrepReport> GrepArchive(ObjectStore& store, const std::vector<ArchivedLog>& logs,
                               const GrepOptions& options, std::FILE* out);

}  // namespace stopgap::logship
