// Fencing: a node of a PostgreSQL cluster that cannot renew the leases on its
// running executions stops acting before another node may take them over.
//
// Another node marks an execution interrupted (and, with `resume: rerun`,
// runs it again) once its lease has lapsed. A node cut off from the database
// for longer than the lease would otherwise still be acting when that
// happens: two actors at once. LeaseFence watches the time since the last
// lease renewal that committed (ClusterHealth::last_renewal); past half the
// lease it fences the node: ProcessRunner::Fence stops every running step
// (SIGTERM, SIGKILL at most a quarter lease later) and refuses new ones, so
// the steps are gone by three quarters of the lease, before any other node
// can see it lapse. The engine records those steps `fenced` and their
// executions interrupted (ExecutionUpdate::fenced: written once, when the
// database answers again). Once a renewal commits again, it unfences.
//
//   LeaseFence fence(*AsClusterLedger(ledger), runner, clock);
//   fence.Start();  // checks every lease/20 on its own thread
//
// The check reads memory only (no database call), so it runs on time
// however long a database call hangs. Thread safety: Check(), fenced() and
// fences() from any thread; Start() and Stop() from the owner.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <thread>

#include "core/process.h"
#include "core/time.h"
#include "remedy/ledger.h"

namespace stopgap::remedy {

enum class FenceAction { kNone, kFence, kUnfence };

// What to do at `now` (pure): fence when nothing renewed within lease/2 of
// `now` while not fenced, unfence when a renewal did while fenced.
// `last_renewal` is the start of the last renewal that committed.
FenceAction DecideFence(bool fenced, MonoTime last_renewal, MonoTime now, Duration lease);

class LeaseFence {
 public:
  // `ledger`, `runner` and `clock` must outlive the fence.
  LeaseFence(const ClusterLedger& ledger, ProcessRunner& runner, const Clock& clock);
  ~LeaseFence();  // Stop()
  LeaseFence(const LeaseFence&) = delete;
  LeaseFence& operator=(const LeaseFence&) = delete;

  // A thread running Check() every lease/20 (at least every 50 ms).
  void Start();
  // Ends the thread; a fenced runner stays fenced. Idempotent.
  void Stop();

  // One round at clock.Monotonic(): fences or unfences the runner as
  // DecideFence says, logs it, and returns what it did.
  FenceAction Check();

  bool fenced() const { return fenced_.load(); }
  int64_t fences() const { return fences_.load(); }  // times this node was fenced

 private:
  const ClusterLedger& ledger_;
  ProcessRunner& runner_;
  const Clock& clock_;
  const MonoTime created_;  // the baseline before the ledger reports a renewal
  std::atomic<bool> fenced_{false};
  std::atomic<int64_t> fences_{0};
  std::mutex check_mu_;  // one Check() at a time
  std::mutex mu_;        // guards stop_
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace stopgap::remedy
