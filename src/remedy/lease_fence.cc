// LeaseFence: the watchdog that fences a node which cannot renew its leases
// (see lease_fence.h). Threading: one thread of its own; Check() under a mutex.
#include "remedy/lease_fence.h"

#include <pthread.h>

#include <algorithm>

#include "core/log.h"

namespace stopgap::remedy {

FenceAction DecideFence(bool fenced, MonoTime last_renewal, MonoTime now, Duration lease) {
  const bool stale = now - last_renewal > lease / 2;
  if (stale && !fenced) return FenceAction::kFence;
  if (!stale && fenced) return FenceAction::kUnfence;
  return FenceAction::kNone;
}

LeaseFence::LeaseFence(const ClusterLedger& ledger, ProcessRunner& runner, const Clock& clock)
    : ledger_(ledger), runner_(runner), clock_(clock), created_(clock.Monotonic()) {}

LeaseFence::~LeaseFence() { Stop(); }

void LeaseFence::Start() {
  if (thread_.joinable()) return;
  const Duration lease = ledger_.Health(clock_.Now()).lease;
  const Duration tick = std::max(Duration(std::chrono::milliseconds(50)), lease / 20);
  thread_ = std::thread([this, tick] {
    ::pthread_setname_np(::pthread_self(), "sg-fence");
    std::unique_lock lock(mu_);
    while (!cv_.wait_for(lock, tick, [&] { return stop_; })) {
      lock.unlock();
      (void)Check();
      lock.lock();
    }
  });
}

void LeaseFence::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

FenceAction LeaseFence::Check() {
  std::lock_guard lock(check_mu_);
  const ClusterHealth h = ledger_.Health(clock_.Now());
  const MonoTime now = clock_.Monotonic();
  const MonoTime last = h.last_renewal.value_or(created_);
  const FenceAction action = DecideFence(fenced_.load(), last, now, h.lease);
  const auto since = std::chrono::duration_cast<Duration>(now - last);
  switch (action) {
    case FenceAction::kFence:
      // Killed by three quarters of the lease: before any node sees it lapse.
      runner_.Fence(h.lease / 4);
      fenced_.store(true);
      ++fences_;
      Log(LogLevel::kError,
          "fenced: no lease renewal for over half the lease; running steps stopped, no new ones "
          "until the database answers",
          {{"since_renewal", FormatDuration(since)},
           {"lease", FormatDuration(h.lease)},
           {"error", h.error}});
      break;
    case FenceAction::kUnfence:
      runner_.Unfence();
      fenced_.store(false);
      Log(LogLevel::kWarn, "unfenced: lease renewals commit again",
          {{"since_renewal", FormatDuration(since)}});
      break;
    case FenceAction::kNone:
      break;
  }
  return action;
}

}  // namespace stopgap::remedy
