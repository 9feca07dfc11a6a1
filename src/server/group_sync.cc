// GroupSync: one sync thread batches every waiter queued while the previous
// sync ran.
//
// Threading: one mutex over the queue; the sync and the callbacks run on the
// sync thread without holding it.
#include "server/group_sync.h"

#include <utility>

namespace stopgap::server {

GroupSync::~GroupSync() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void GroupSync::AfterDurable(std::function<void(Status)> done) {
  {
    std::lock_guard<std::mutex> l(mu_);
    pending_.push_back(std::move(done));
    if (!thread_.joinable()) thread_ = std::thread([this] { Loop(); });
  }
  cv_.notify_one();
}

Status GroupSync::WaitDurable() {
  std::mutex m;
  std::condition_variable cv;
  bool done = false;
  Status result;
  AfterDurable([&](Status s) {
    std::lock_guard<std::mutex> l(m);
    result = std::move(s);
    done = true;
    cv.notify_one();
  });
  std::unique_lock<std::mutex> l(m);
  cv.wait(l, [&] { return done; });
  return result;
}

void GroupSync::Loop() {
  std::vector<std::function<void(Status)>> batch;
  std::unique_lock<std::mutex> l(mu_);
  for (;;) {
    cv_.wait(l, [this] { return stop_ || !pending_.empty(); });
    if (pending_.empty()) return;  // stopping, nothing left to complete
    // Every request in this batch committed its writes before it was
    // queued, so before this sync starts: the sync covers them all.
    batch.swap(pending_);
    ++syncs_;
    l.unlock();
    Status s = sync_();
    for (auto& done : batch) done(s);
    batch.clear();
    l.lock();
  }
}

uint64_t GroupSync::syncs() const {
  std::lock_guard<std::mutex> l(mu_);
  return syncs_;
}

}  // namespace stopgap::server
