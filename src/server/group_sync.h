// GroupSync: group commit for acknowledgements. The ledger commits intake
// writes cheaply (SQLite WAL); before stopgap answers 202, the request waits
// for one fsync that *started after* its writes committed. Concurrent
// requests share that fsync (leader/follower): with 5 ms fsyncs, 32 waiting
// requests cost one fsync, not 32.
//
//   GroupSync sync([&ledger] { return ledger.Sync(); });
//   ... ledger writes of this request ...
//   if (Status s = sync.WaitDurable(); !s.ok()) return 500;
//
// Thread safety: WaitDurable() may be called from any number of threads.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>

#include "core/status.h"

namespace stopgap::server {

class GroupSync {
 public:
  explicit GroupSync(std::function<Status()> sync) : sync_(std::move(sync)) {}

  // Returns once a sync that began after this call has completed (OK), or
  // with that sync's error.
  Status WaitDurable();

  uint64_t syncs() const;  // how many sync calls were made (for tests/metrics)

 private:
  std::function<Status()> sync_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  uint64_t requested_ = 0;  // tickets handed out
  uint64_t completed_ = 0;  // every ticket <= completed_ is durable
  uint64_t failed_upto_ = 0;
  Status failure_;
  bool running_ = false;
  uint64_t syncs_ = 0;
};

}  // namespace stopgap::server
