// BundleArchiveQueue: a bounded queue and one shipping thread with retries.
// See archive_queue.h.
#include "app/archive_queue.h"

#include <algorithm>

#include "core/log.h"

namespace stopgap::app {

BundleArchiveQueue::BundleArchiveQueue(std::unique_ptr<BundleArchiver> archiver,
                                       ArchiveQueueOptions options)
    : archiver_(std::move(archiver)), options_(std::move(options)) {
  thread_ = std::thread([this] { Loop(); });
}

BundleArchiveQueue::~BundleArchiveQueue() { Drain(Duration{0}); }

void BundleArchiveQueue::OnExecutionFinished(const remedy::Workaround&,
                                             const remedy::ExecutionOutcome& outcome) {
  if (!outcome.bundle_dir.empty()) Enqueue(outcome.id, outcome.bundle_dir);
}

void BundleArchiveQueue::Enqueue(remedy::ExecutionId id, const std::string& bundle_dir) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!stop_ && jobs_.size() < options_.capacity) {
      jobs_.push_back({id, bundle_dir});
      stats_.depth = jobs_.size();
      cv_.notify_all();
      return;
    }
    ++stats_.dropped;
  }
  Log(LogLevel::kError, "bundle not archived: archive queue full; kept locally",
      {{"execution", std::to_string(id)}, {"bundle", bundle_dir}});
}

void BundleArchiveQueue::Loop() {
  std::unique_lock<std::mutex> l(mu_);
  for (;;) {
    cv_.wait(l, [&] { return stop_ || !jobs_.empty(); });
    if (stop_) return;
    Job job = std::move(jobs_.front());
    jobs_.pop_front();
    busy_ = true;
    l.unlock();
    ArchiveResult r = ShipWithRetries(job);
    if (r.ok) {
      // "object", not "key": the log masks fields whose name looks secret.
      Log(LogLevel::kInfo, "bundle archived",
          {{"execution", std::to_string(r.execution)}, {"object", r.key}});
    } else {
      Log(LogLevel::kError, "bundle not archived; kept locally",
          {{"execution", std::to_string(r.execution)},
           {"attempts", std::to_string(r.attempts)},
           {"error", r.error}});
    }
    if (options_.on_done) options_.on_done(r);
    l.lock();
    busy_ = false;
    ++(r.ok ? stats_.shipped : stats_.failed);
    stats_.depth = jobs_.size();
    cv_.notify_all();
  }
}

ArchiveResult BundleArchiveQueue::ShipWithRetries(const Job& job) {
  ArchiveResult r;
  r.execution = job.id;
  r.bundle_dir = job.bundle_dir;
  Duration wait = options_.first_retry;
  for (;;) {
    ++r.attempts;
    Result<std::string> key = archiver_->Ship(job.bundle_dir);
    if (key.ok()) {
      r.ok = true;
      r.key = *key;
      return r;
    }
    r.error = key.status().ToString();
    if (r.attempts >= options_.max_attempts) return r;
    std::unique_lock<std::mutex> l(mu_);
    ++stats_.retries;
    // A drain stops the waits between attempts, not the attempt itself.
    if (cv_.wait_for(l, wait, [&] { return draining_ || stop_; })) return r;
    wait = std::min(wait * 2, options_.max_retry);
  }
}

void BundleArchiveQueue::Drain(Duration timeout) {
  std::unique_lock<std::mutex> l(mu_);
  if (stop_) return;  // drained already
  draining_ = true;
  cv_.notify_all();
  cv_.wait_for(l, timeout, [&] { return jobs_.empty() && !busy_; });
  const size_t left = jobs_.size();
  stats_.dropped += static_cast<int64_t>(left);
  for (const Job& j : jobs_) {
    Log(LogLevel::kWarn, "bundle not archived before stop; kept locally",
        {{"execution", std::to_string(j.id)}, {"bundle", j.bundle_dir}});
  }
  jobs_.clear();
  stats_.depth = 0;
  stop_ = true;
  cv_.notify_all();
  l.unlock();
  thread_.join();
}

ArchiveQueueStats BundleArchiveQueue::stats() const {
  std::lock_guard<std::mutex> l(mu_);
  return stats_;
}

}  // namespace stopgap::app
