// Md5Hasher, the hash manager: computes the MD5 of many file ranges (the
// parts of a large file, the files of a sweep) on one background thread, up
// to 16 at a time in SIMD lanes (md5_mb.h), refilling a lane as soon as its
// range ends. Uploads run beside it and compare each answered ETag with the
// digest when they finish. Without SIMD it hashes each range with OpenSSL.
// Memory: one chunk buffer per lane (16 x 64 KiB), whatever the sizes.
// Thread safety: every method may be called from any thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"
#include "logship/internal/md5_mb.h"

namespace stopgap::logship::internal {

struct FileRange {
  std::string path;
  uint64_t offset = 0;
  uint64_t length = 0;
};

class Md5Hasher {
 public:
  struct Options {
    Md5Isa isa = Md5BestIsa();
    // Per lane read; a multiple of 64. 16 x 64 KiB stays in a 1 MiB L2.
    size_t chunk_bytes = 64 * 1024;
    size_t max_prefetched = 1024;  // Prefetch() beyond this many untaken is ignored
  };
  class Job;
  using Ticket = std::shared_ptr<Job>;

  Md5Hasher();
  explicit Md5Hasher(Options options);
  ~Md5Hasher();  // queued jobs end with an error; the thread is joined
  Md5Hasher(const Md5Hasher&) = delete;
  Md5Hasher& operator=(const Md5Hasher&) = delete;

  // Queues a range; returns at once.
  Ticket Submit(const FileRange& range);
  // The 16 raw digest bytes, or why the range could not be read. Blocks.
  static Result<std::string> Wait(const Ticket& ticket);

  // Queues a range that a later Take() of the same range of the same file
  // (same inode, size and mtime) will pick up.
  void Prefetch(const FileRange& range);
  // The prefetched ticket for exactly this range, else a new Submit().
  Ticket Take(const FileRange& range);

  // Hashes all ranges (in lanes) and waits for them.
  std::vector<Result<std::string>> HashAll(const std::vector<FileRange>& ranges);

  Md5Isa isa() const { return options_.isa; }
  int lanes() const { return Md5LaneCount(options_.isa); }

 private:
  struct Lane;
  void Loop();
  void EnsureThread();
  static std::string PrefetchKey(const FileRange& range);

  Options options_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Ticket> queue_;
  bool stop_ = false;
  std::thread thread_;
  std::map<std::string, Ticket> prefetched_;
};

}  // namespace stopgap::logship::internal
