// BundleArchiveQueue: ships finished executions' diagnostics bundles to the
// catalog's `archive:` store off the engine's workers. It is an engine
// observer: OnExecutionFinished queues the bundle (bounded; a full queue
// drops the job, counted, and the bundle stays local) and returns at once; one
// thread uploads, retrying a failed upload with backoff. A slow or dead store
// therefore never delays remediation. The local bundle is kept either way
// (policy.retain_bundles prunes it later), so nothing is lost.
//
//   auto q = std::make_unique<BundleArchiveQueue>(std::move(archiver), options);
//   engine.AddObserver(q.get());          // q must outlive the engine
//   ...
//   q->Drain(std::chrono::seconds(10));   // shutdown / end of `stopgap run`
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "app/bundle_archiver.h"
#include "core/time.h"
#include "remedy/engine.h"

namespace stopgap::app {

struct ArchiveResult {
  remedy::ExecutionId execution = 0;
  std::string bundle_dir;
  bool ok = false;
  std::string key;    // ok: the object key
  std::string error;  // !ok: the last attempt's error
  int attempts = 0;
};

struct ArchiveQueueOptions {
  size_t capacity = 1000;  // bundles waiting; beyond: dropped (counted)
  int max_attempts = 4;    // per bundle, the first included
  Duration first_retry{2'000};
  Duration max_retry{60'000};  // the backoff doubles up to this
  // Called on the shipping thread after each bundle's last attempt.
  std::function<void(const ArchiveResult&)> on_done;
};

struct ArchiveQueueStats {
  int64_t shipped = 0;
  int64_t failed = 0;   // gave up after max_attempts
  int64_t retries = 0;  // attempts after a failure
  int64_t dropped = 0;  // queue full, or still queued when Drain's time ran out
  size_t depth = 0;
};

class BundleArchiveQueue final : public remedy::EngineObserver {
 public:
  BundleArchiveQueue(std::unique_ptr<BundleArchiver> archiver, ArchiveQueueOptions options);
  ~BundleArchiveQueue() override;  // Drain(0)
  BundleArchiveQueue(const BundleArchiveQueue&) = delete;
  BundleArchiveQueue& operator=(const BundleArchiveQueue&) = delete;

  void OnExecutionFinished(const remedy::Workaround& w,
                           const remedy::ExecutionOutcome& outcome) override;
  void Enqueue(remedy::ExecutionId id, const std::string& bundle_dir);

  // Waits up to `timeout` for the queue to empty (retry waits are cut short),
  // then stops the thread; bundles not shipped by then are counted dropped
  // and logged (they stay local). Idempotent.
  void Drain(Duration timeout);

  ArchiveQueueStats stats() const;

 private:
  struct Job {
    remedy::ExecutionId id = 0;
    std::string bundle_dir;
  };
  void Loop();
  ArchiveResult ShipWithRetries(const Job& job);

  std::unique_ptr<BundleArchiver> archiver_;
  ArchiveQueueOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> jobs_;     // guarded by mu_
  bool busy_ = false;        // a job is being shipped (guarded by mu_)
  bool draining_ = false;    // guarded by mu_: retries stop waiting
  bool stop_ = false;        // guarded by mu_
  ArchiveQueueStats stats_;  // guarded by mu_
  std::thread thread_;
};

}  // namespace stopgap::app
