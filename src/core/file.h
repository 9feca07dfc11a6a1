// Small, careful file helpers: whole-file reads with a cap, atomic replace
// (write temp, fsync, rename, fsync dir), directory creation with a mode, and
// the one way stopgap creates a file: O_CREAT|O_EXCL|O_NOFOLLOW, so a symlink
// or file planted at the path by another user is refused, never written
// through. State files are created 0600 by default.
//
// Thread safety: stateless; concurrent writers to one path get last-wins.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "core/status.h"

namespace stopgap {

// Reads a whole file; fails with ResourceExhausted past max_bytes.
Result<std::string> ReadFile(const std::string& path, size_t max_bytes = 64 << 20);
// Reads a file that holds a secret (a token): it must be a regular file
// that neither group nor others can read or write (kPermissionDenied naming
// the fix otherwise); mode and contents come from the same open file.
Result<std::string> ReadSecretFile(const std::string& path, size_t max_bytes = 64 << 10);
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

// Creates a new file (O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC, write-only) and
// sets `mode` whatever the umask. kAlreadyExists when anything, a symlink
// included, is at the path. Returns the fd; the caller closes it.
Result<int> CreateNewFile(const std::string& path, mode_t mode = 0600);
// The same relative to an open directory (`name` is one path component).
Result<int> CreateNewFileAt(int dir_fd, const std::string& name, mode_t mode = 0600);

// A new file with a unique, unpredictable name: `prefix` + 6 random
// characters (prefix may hold a directory), created as CreateNewFile does.
struct NewTempFile {
  int fd = -1;
  std::string path;
};
Result<NewTempFile> CreateTempFile(const std::string& prefix, mode_t mode = 0600);
// The same inside an open directory; `path` in the result is the name only.
Result<NewTempFile> CreateTempFileAt(int dir_fd, const std::string& prefix, mode_t mode = 0600);

// A new 0700 directory `prefix` + 6 random characters (mkdtemp).
Result<std::string> MakeTempDir(const std::string& prefix);

// Opens a directory without following a symlink in its last component
// (O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC). Returns the fd; the caller closes it.
Result<int> OpenDirNoFollow(const std::string& path);

// Opens an existing regular file for reading without following a symlink in
// its last component, and fstat()s the opened file into *st. A FIFO, device,
// directory or symlink is refused (kFailedPrecondition) before any read.
Result<int> OpenRegularNoFollow(const std::string& path, struct stat* st);

}  // namespace stopgap
