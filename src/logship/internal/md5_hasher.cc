// Md5Hasher: a job queue and one worker thread that keeps up to 16 SIMD
// lanes busy. Thread safety: queue_, stop_ and prefetched_ under mu_; a Job's
// result under its own mutex; lanes are the worker's alone.
#include "logship/internal/md5_hasher.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "logship/internal/md5.h"

namespace stopgap::logship::internal {

class Md5Hasher::Job {
 public:
  explicit Job(FileRange r) : range(std::move(r)) {}
  void Finish(Result<std::string> r) {
    std::lock_guard<std::mutex> lock(mu);
    result = std::move(r);
    done = true;
    cv.notify_all();
  }
  const FileRange range;
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  Result<std::string> result = Internal("not hashed");
};

struct Md5Hasher::Lane {
  Ticket job;
  int fd = -1;
  uint64_t next = 0;  // file offset of the next read
  uint64_t left = 0;  // bytes not read yet
  std::unique_ptr<unsigned char[]> buf;
  size_t pos = 0, len = 0;  // unhashed bytes are buf[pos, len)

  void Close() {
    if (fd >= 0) ::close(fd);
    fd = -1;
    job.reset();
  }
};

namespace {

Status ReadFully(int fd, unsigned char* buf, size_t want, uint64_t off, const std::string& path) {
  size_t got = 0;
  while (got < want) {
    ssize_t n = ::pread(fd, buf + got, want - got, static_cast<off_t>(off + got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Internal("read " + path + ": " + std::strerror(errno));
    if (n == 0) return DataLoss(path + " shrank while it was hashed");
    got += static_cast<size_t>(n);
  }
  return Status::Ok();
}

// The no-SIMD path: one range with OpenSSL, streamed.
Result<std::string> HashWithOpenSsl(const FileRange& r, unsigned char* buf, size_t chunk) {
  int fd = ::open(r.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Internal("open " + r.path + ": " + std::strerror(errno));
  ::posix_fadvise(fd, static_cast<off_t>(r.offset), static_cast<off_t>(r.length),
                  POSIX_FADV_SEQUENTIAL);
  Md5 md5;
  for (uint64_t done = 0; done < r.length;) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(chunk, r.length - done));
    Status st = ReadFully(fd, buf, want, r.offset + done, r.path);
    if (!st.ok()) {
      ::close(fd);
      return st;
    }
    md5.Update(std::string_view(reinterpret_cast<char*>(buf), want));
    done += want;
  }
  ::close(fd);
  return md5.Digest();
}

}  // namespace

Md5Hasher::Md5Hasher() : Md5Hasher(Options{}) {}

Md5Hasher::Md5Hasher(Options options) : options_(std::move(options)) {
  if (!Md5IsaSupported(options_.isa)) options_.isa = Md5Isa::kScalar;
  options_.chunk_bytes = std::max<size_t>(64, options_.chunk_bytes / 64 * 64);
}

Md5Hasher::~Md5Hasher() {
  std::deque<Ticket> left;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    left.swap(queue_);
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  for (Ticket& t : left) t->Finish(Unavailable("hasher stopped"));
}

void Md5Hasher::EnsureThread() {
  // Called under mu_.
  if (!thread_.joinable()) thread_ = std::thread([this] { Loop(); });
}

Md5Hasher::Ticket Md5Hasher::Submit(const FileRange& range) {
  auto t = std::make_shared<Job>(range);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) {
      t->Finish(Unavailable("hasher stopped"));
      return t;
    }
    queue_.push_back(t);
    EnsureThread();
  }
  cv_.notify_one();
  return t;
}

Result<std::string> Md5Hasher::Wait(const Ticket& ticket) {
  std::unique_lock<std::mutex> lock(ticket->mu);
  ticket->cv.wait(lock, [&] { return ticket->done; });
  return ticket->result;
}

std::string Md5Hasher::PrefetchKey(const FileRange& r) {
  struct stat sb;
  if (::stat(r.path.c_str(), &sb) != 0) return "";
  return r.path + '\0' + std::to_string(r.offset) + ':' + std::to_string(r.length) + ':' +
         std::to_string(sb.st_dev) + ':' + std::to_string(sb.st_ino) + ':' +
         std::to_string(sb.st_size) + ':' + std::to_string(sb.st_mtim.tv_sec) + '.' +
         std::to_string(sb.st_mtim.tv_nsec);
}

void Md5Hasher::Prefetch(const FileRange& range) {
  std::string key = PrefetchKey(range);
  if (key.empty()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (prefetched_.size() >= options_.max_prefetched || prefetched_.count(key) != 0) return;
  }
  Ticket t = Submit(range);
  std::lock_guard<std::mutex> lock(mu_);
  prefetched_.emplace(std::move(key), std::move(t));
}

Md5Hasher::Ticket Md5Hasher::Take(const FileRange& range) {
  std::string key = PrefetchKey(range);
  if (!key.empty()) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = prefetched_.find(key);
    if (it != prefetched_.end()) {
      Ticket t = std::move(it->second);
      prefetched_.erase(it);
      return t;
    }
  }
  return Submit(range);
}

std::vector<Result<std::string>> Md5Hasher::HashAll(const std::vector<FileRange>& ranges) {
  std::vector<Ticket> tickets;
  tickets.reserve(ranges.size());
  for (const FileRange& r : ranges) tickets.push_back(Take(r));
  std::vector<Result<std::string>> out;
  out.reserve(ranges.size());
  for (const Ticket& t : tickets) out.push_back(Wait(t));
  return out;
}

void Md5Hasher::Loop() {
  const int nlanes = lanes();
  const size_t chunk = options_.chunk_bytes;
  std::vector<Lane> lanes(static_cast<size_t>(nlanes));
  for (Lane& l : lanes) l.buf.reset(new unsigned char[chunk]);
  Md5Lanes state{};
  const unsigned char* data[kMd5MaxLanes] = {};

  for (;;) {
    // Settle: give free lanes a job, refill drained buffers, finish ended
    // ranges, until every busy lane holds at least one whole block.
    bool changed = true;
    while (changed) {
      changed = false;
      for (int i = 0; i < nlanes; ++i) {
        Lane& l = lanes[static_cast<size_t>(i)];
        if (!l.job) {
          {
            std::unique_lock<std::mutex> lock(mu_);
            if (queue_.empty() || stop_) continue;
            l.job = std::move(queue_.front());
            queue_.pop_front();
          }
          changed = true;
          const FileRange& r = l.job->range;
          if (options_.isa == Md5Isa::kScalar) {
            l.job->Finish(HashWithOpenSsl(r, l.buf.get(), chunk));
            l.Close();
            continue;
          }
          l.fd = ::open(r.path.c_str(), O_RDONLY | O_CLOEXEC);
          if (l.fd < 0) {
            l.job->Finish(Internal("open " + r.path + ": " + std::strerror(errno)));
            l.Close();
            continue;
          }
          ::posix_fadvise(l.fd, static_cast<off_t>(r.offset), static_cast<off_t>(r.length),
                          POSIX_FADV_SEQUENTIAL);
          l.next = r.offset;
          l.left = r.length;
          l.pos = l.len = 0;
          Md5InitLane(&state, i);
        }
        if (l.len - l.pos >= 64) continue;
        if (l.left > 0 && l.pos == l.len) {
          size_t want = static_cast<size_t>(std::min<uint64_t>(chunk, l.left));
          Status st = ReadFully(l.fd, l.buf.get(), want, l.next, l.job->range.path);
          if (!st.ok()) {
            l.job->Finish(st);
            l.Close();
          } else {
            l.next += want;
            l.left -= want;
            l.pos = 0;
            l.len = want;
          }
          changed = true;
          continue;
        }
        if (l.left == 0) {  // fewer than 64 bytes left: the padded tail
          l.job->Finish(
              Md5LaneFinish(&state, i, l.buf.get() + l.pos, l.len - l.pos, l.job->range.length));
          l.Close();
          changed = true;
        }
      }
    }
    size_t nblocks = SIZE_MAX;
    const unsigned char* any = nullptr;
    for (const Lane& l : lanes) {
      if (!l.job) continue;
      nblocks = std::min(nblocks, (l.len - l.pos) / 64);
      any = l.buf.get() + l.pos;
    }
    if (any == nullptr) {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      continue;
    }
    int active[kMd5MaxLanes];
    int nactive = 0;
    for (int i = 0; i < nlanes; ++i) {
      const Lane& l = lanes[static_cast<size_t>(i)];
      data[i] = l.job ? l.buf.get() + l.pos : any;  // idle lanes hash anything, unused
      if (l.job) active[nactive++] = i;
    }
    // A SIMD pass costs the same however few lanes are busy: one stream runs
    // faster on scalar code, up to 8 on the 8-lane kernel (compacted).
    if (nactive == 1) {
      Md5LaneBlocks(&state, active[0], data[active[0]], nblocks);
    } else if (nactive <= 8 && options_.isa == Md5Isa::kAvx512) {
      Md5Lanes packed;
      const unsigned char* packed_data[kMd5MaxLanes];
      for (int j = 0; j < 8; ++j) {
        const int i = active[std::min(j, nactive - 1)];
        packed.a[j] = state.a[i];
        packed.b[j] = state.b[i];
        packed.c[j] = state.c[i];
        packed.d[j] = state.d[i];
        packed_data[j] = data[i];
      }
      Md5MbBlocks(Md5Isa::kAvx2, &packed, packed_data, nblocks);
      for (int j = 0; j < nactive; ++j) {
        state.a[active[j]] = packed.a[j];
        state.b[active[j]] = packed.b[j];
        state.c[active[j]] = packed.c[j];
        state.d[active[j]] = packed.d[j];
      }
    } else {
      Md5MbBlocks(options_.isa, &state, data, nblocks);
    }
    for (Lane& l : lanes) {
      if (l.job) l.pos += nblocks * 64;
    }
  }
}

}  // namespace stopgap::logship::internal
