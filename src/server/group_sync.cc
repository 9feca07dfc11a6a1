// GroupSync: leader/follower fsync batching; SqliteWalSync: fsync of the WAL.
//
// Threading: one mutex; the leader runs the sync without holding it.
#include "server/group_sync.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

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

std::function<Status()> SqliteWalSync(const std::string& db_path) {
  return [db_path]() -> Status {
    std::string wal = db_path + "-wal";
    int fd = ::open(wal.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) fd = ::open(db_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus("open " + wal, errno);
    int rc = ::fdatasync(fd);
    int err = errno;
    ::close(fd);
    if (rc != 0) return ErrnoStatus("fdatasync " + wal, err);
    return Status::Ok();
  };
}

}  // namespace stopgap::server
