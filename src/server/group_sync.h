// GroupSync: group commit for acknowledgements. The ledger commits intake
// writes cheaply (SQLite WAL); before stopgap answers 202, the request waits
// for one fsync that *started after* its writes committed. Concurrent
// requests share that fsync: one sync thread takes every request queued so
// far, syncs once and completes them all, so with 5 ms fsyncs 32 waiting
// requests cost one fsync, not 32, and no handler thread sleeps meanwhile.
//
//   GroupSync sync([&ledger] { return ledger.Sync(); });
//   ... ledger writes of this request ...
//   sync.AfterDurable([respond](Status s) { respond(s.ok() ? 202 : 500); });
//   // or, blocking: if (Status s = sync.WaitDurable(); !s.ok()) return 500;
//
// Thread safety: AfterDurable() and WaitDurable() may be called from any
// number of threads. Callbacks run on the sync thread, in order, and must be
// quick (post the answer elsewhere). The destructor completes what is queued
// (one last sync), then joins the thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "core/status.h"

namespace stopgap::server {

class GroupSync {
 public:
  explicit GroupSync(std::function<Status()> sync) : sync_(std::move(sync)) {}
  ~GroupSync();
  GroupSync(const GroupSync&) = delete;
  GroupSync& operator=(const GroupSync&) = delete;

  // Calls `done` once a sync that began after this call has completed, with
  // that sync's status.
  void AfterDurable(std::function<void(Status)> done);
  // The same, blocking the caller until then.
  Status WaitDurable();

  uint64_t syncs() const;  // how many sync calls were made (for tests/metrics)

 private:
  void Loop();

  std::function<Status()> sync_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::function<void(Status)>> pending_;
  bool stop_ = false;
  uint64_t syncs_ = 0;
  std::thread thread_;  // started by the first AfterDurable
};

}  // namespace stopgap::server
