// Read access to one execution's bundle directory for the API and the UI:
// the list of its regular files, one file by relative path, and a packed
// .tar.zst. A path from a request is checked (relative, no "..", no empty or
// "." component, no NUL or backslash) and opened one component at a time with
// O_NOFOLLOW from the bundle's directory fd, so neither ".." nor a symlink
// (inside the bundle, pointing anywhere) can reach a file outside it.
//
//   auto files = ListBundleFiles(dir);                 // sorted by path
//   auto f = ReadBundleFile(dir, "process-42/stacks.txt", 16 << 20);
//
// Thread safety: stateless functions; they only read under `dir`.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace stopgap::server {

struct BundleFile {
  std::string path;  // relative to the bundle directory, '/'-separated
  int64_t size = 0;
  bool text = false;  // valid UTF-8 without NUL in its first 8 KiB
};

// kInvalidArgument naming what is wrong with `rel` as a bundle path.
Status CheckBundlePath(std::string_view rel);

// Every regular file under `dir` (symlinks, devices and FIFOs are left out;
// at most `max_files`), sorted by path. kNotFound when `dir` is missing.
Result<std::vector<BundleFile>> ListBundleFiles(const std::string& dir, size_t max_files = 10000);

// The file `rel` under `dir`: kInvalidArgument for a bad path, kNotFound when
// missing, kFailedPrecondition for a symlink or anything not a regular file
// on the way, kResourceExhausted over `max_bytes`.
Result<std::string> ReadBundleFile(const std::string& dir, std::string_view rel, size_t max_bytes);

// True when `head` is valid UTF-8 without NUL bytes (a cut last character is
// allowed: `head` may be a prefix).
bool LooksLikeText(std::string_view head);

// The bundle packed as <basename(dir)>/... in a zstd tar (diag::PackBundle),
// read back into memory; kResourceExhausted over `max_bytes`.
Result<std::string> PackBundleToMemory(const std::string& dir, size_t max_bytes);

}  // namespace stopgap::server
