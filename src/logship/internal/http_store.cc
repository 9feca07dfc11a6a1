// ClientPool, PlanParts, RunParts, PartDigests. Thread safety: see header.
#include "logship/internal/http_store.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <thread>

#include "logship/internal/md5.h"

namespace stopgap::logship::internal {

ObjectMeta MetaFromHeaders(const net::HttpHeaders& headers, std::string_view meta_prefix) {
  ObjectMeta meta;
  for (const auto& [name, value] : headers) {
    if (name.size() <= meta_prefix.size() || !name.starts_with(meta_prefix)) continue;
    std::string k = name.substr(meta_prefix.size());
    bool ok = k.size() <= 128;
    for (char& c : k) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_');
    }
    for (char c : value) ok = ok && static_cast<unsigned char>(c) >= 0x20 && c != 0x7f;
    if (ok && value.size() <= 4096) meta.emplace_back(std::move(k), value);
  }
  return meta;
}

Result<ObjectInfo> ObjectInfoFromHead(const std::string& key, const net::HttpResponse& head,
                                      std::string_view meta_prefix) {
  ObjectInfo o;
  o.key = key;
  std::string length = head.Header("content-length");
  if (!length.empty()) {
    auto [p, ec] = std::from_chars(length.data(), length.data() + length.size(), o.size);
    if (ec != std::errc() || p != length.data() + length.size()) {
      return DataLoss(key + ": the store answered a Content-Length that is not a size: '" +
                      length.substr(0, 32) + "'");
    }
  }
  o.etag = Unquote(head.Header("etag"));
  o.last_modified = head.Header("last-modified");
  o.content_type = head.Header("content-type");
  o.meta = MetaFromHeaders(head.headers, meta_prefix);
  // Kept only when it is a time: it goes back out as a header on a copy.
  std::string at = head.Header("x-delete-at");
  if (!at.empty() && at.size() <= 20 && at.find_first_not_of("0123456789") == std::string::npos) {
    o.delete_at = at;
  }
  return o;
}

ClientPool::Lease ClientPool::Get() {
  std::unique_ptr<net::HttpClient> c;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      c = std::move(idle_.back());
      idle_.pop_back();
    }
  }
  if (!c) c = std::make_unique<net::HttpClient>(options_);
  return Lease(this, std::move(c));
}

void ClientPool::Return(std::unique_ptr<net::HttpClient> c) {
  if (!c) return;
  std::lock_guard<std::mutex> lock(mu_);
  idle_.push_back(std::move(c));
}

std::vector<Part> PlanParts(uint64_t size, uint64_t part_size, int max_parts) {
  if (part_size == 0) part_size = 1;
  while (size / part_size >= static_cast<uint64_t>(max_parts)) part_size *= 2;
  std::vector<Part> parts;
  uint64_t off = 0;
  int n = 1;
  do {
    uint64_t len = std::min(part_size, size - off);
    parts.push_back(Part{n++, off, len});
    off += len;
  } while (off < size);
  return parts;
}

Status RunParts(const std::vector<Part>& parts, int parallel,
                const std::function<Status(const Part&)>& fn) {
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mu;
  Status first;
  auto worker = [&] {
    for (size_t i = next++; i < parts.size() && !failed; i = next++) {
      Status st = fn(parts[i]);
      if (!st.ok()) {
        std::lock_guard<std::mutex> lock(mu);
        if (first.ok()) first = st;
        failed = true;
      }
    }
  };
  int n = std::clamp<int>(parallel, 1, static_cast<int>(parts.size()));
  std::vector<std::thread> threads;
  for (int i = 1; i < n; ++i) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
  return first;
}

PartDigests::PartDigests(Md5Hasher& hasher, std::string path, const std::vector<Part>& parts)
    : hasher_(hasher),
      path_(std::move(path)),
      parts_(parts),
      ahead_(static_cast<size_t>(std::max(hasher.lanes(), 1))) {}

void PartDigests::Start(size_t index) {
  std::lock_guard<std::mutex> lock(mu_);
  // Batches of `ahead_` parts, so the hasher's lanes fill up together.
  if (tickets_.size() > index + ahead_) return;
  size_t until = std::min(parts_.size(), index + 2 * ahead_);
  while (tickets_.size() < until) {
    const Part& p = parts_[tickets_.size()];
    tickets_.push_back(hasher_.Take(FileRange{path_, p.offset, p.length}));
  }
}

Result<std::string> PartDigests::Get(size_t index) {
  Start(index);
  Md5Hasher::Ticket t;
  {
    std::lock_guard<std::mutex> lock(mu_);
    t = tickets_[index];
  }
  return Md5Hasher::Wait(t);
}

std::function<void(std::string_view)> CountProgress(std::atomic<uint64_t>* progress) {
  if (progress == nullptr) return {};
  return [progress](std::string_view s) { *progress += s.size(); };
}

}  // namespace stopgap::logship::internal
