// GroupSync: leader/follower fsync batching.
//
// Threading: one mutex; the leader runs the sync without holding it.
#include "server/group_sync.h"

namespace stopgap::server {

Status GroupSync::WaitDurable() {
  std::unique_lock<std::mutex> l(mu_);
  const uint64_t ticket = ++requested_;
  for (;;) {
    if (completed_ >= ticket) return Status::Ok();
    if (failed_upto_ >= ticket) return failure_;
    if (running_) {
      cv_.wait(l);
      continue;
    }
    // Leader: this sync covers every ticket handed out so far.
    running_ = true;
    const uint64_t target = requested_;
    ++syncs_;
    l.unlock();
    Status s = sync_();
    l.lock();
    running_ = false;
    if (s.ok()) {
      if (target > completed_) completed_ = target;
    } else {
      failed_upto_ = target;
      failure_ = s;
    }
    cv_.notify_all();
  }
}

uint64_t GroupSync::syncs() const {
  std::lock_guard<std::mutex> l(mu_);
  return syncs_;
}

}  // namespace stopgap::server
