// Small, careful file helpers: whole-file reads with a cap, atomic replace
// (write temp, fsync, rename, fsync dir), directory creation with a mode.
// State files are created 0600 by default.
//
// Thread safety: stateless; concurrent writers to one path get last-wins.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "core/status.h"

namespace stopgap {

// Reads a whole file; fails with ResourceExhausted past max_bytes.
Result<std::string> ReadFile(const std::string& path, size_t max_bytes = 64 << 20);
// Replaces `path` atomically with `data` (mode applies to the new file) and
// makes the rename durable.
Status WriteFileAtomic(const std::string& path, std::string_view data, mode_t mode = 0600);
// write(2) all of `data` to `fd`, retrying on EINTR and short writes. `what`
// names the file in the error.
Status WriteAll(int fd, std::string_view data, const std::string& what);
// fsync(2) on a file or directory path.
Status FsyncPath(const std::string& path);
// mkdir -p with `mode` for created directories.
Status MakeDirs(const std::string& path, mode_t mode = 0700);
// The directory part of a path ("." when none).
std::string DirName(const std::string& path);

}  // namespace stopgap
