// Shared machinery of the HTTP object stores: a pool of HttpClients (one per
// concurrent transfer, connections kept alive), part planning, running part
// uploads on a few threads with the first error winning, and the parts'
// MD5s queued on the Md5Hasher a window ahead of the uploads.
// Thread safety: ClientPool and PartDigests are internally locked; RunParts
// spawns threads.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "logship/internal/md5_hasher.h"
#include "logship/store/object_store.h"
#include "net/http_client.h"

namespace stopgap::logship::internal {

class ClientPool {
 public:
  explicit ClientPool(net::HttpClientOptions options) : options_(std::move(options)) {}
  class Lease {
   public:
    Lease(ClientPool* pool, std::unique_ptr<net::HttpClient> c) : pool_(pool), c_(std::move(c)) {}
    ~Lease() { pool_->Return(std::move(c_)); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    net::HttpClient& operator*() { return *c_; }
    net::HttpClient* operator->() { return c_.get(); }

   private:
    ClientPool* pool_;
    std::unique_ptr<net::HttpClient> c_;
  };
  Lease Get();

 private:
  void Return(std::unique_ptr<net::HttpClient> c);
  net::HttpClientOptions options_;
  std::mutex mu_;
  std::vector<std::unique_ptr<net::HttpClient>> idle_;
};

// The object a successful HEAD describes (S3 and Swift answer alike); its
// user metadata from the headers named meta_prefix + name ("x-amz-meta-",
// "x-object-meta-"). Outside input: fuzzed (logship_object_meta).
Result<ObjectInfo> ObjectInfoFromHead(const std::string& key, const net::HttpResponse& head,
                                      std::string_view meta_prefix);
// The user metadata among response headers (names lower-cased, the prefix
// removed); names that are empty or not [a-z0-9-_] and values with control
// bytes are skipped.
ObjectMeta MetaFromHeaders(const net::HttpHeaders& headers, std::string_view meta_prefix);

struct Part {
  int number = 0;  // 1-based
  uint64_t offset = 0;
  uint64_t length = 0;
};
// Splits size into parts of part_size (grown so there are at most max_parts).
std::vector<Part> PlanParts(uint64_t size, uint64_t part_size, int max_parts = 10000);
// Runs fn on every part with up to `parallel` threads; stops handing out
// parts after the first error, which is returned.
Status RunParts(const std::vector<Part>& parts, int parallel,
                const std::function<Status(const Part&)>& fn);

// The MD5s of a file's parts, computed by the hasher beside the uploads:
// Start(i) makes sure more than `lanes` parts after i are queued, adding
// them `lanes` at a time (so the hasher has enough independent streams to
// fill its lanes together, yet does not read a huge file far ahead of its
// upload); Get(i) waits for part i's raw digest.
class PartDigests {
 public:
  PartDigests(Md5Hasher& hasher, std::string path, const std::vector<Part>& parts);
  void Start(size_t index);
  Result<std::string> Get(size_t index);

 private:
  Md5Hasher& hasher_;
  const std::string path_;
  const std::vector<Part>& parts_;
  const size_t ahead_;
  std::mutex mu_;
  std::vector<Md5Hasher::Ticket> tickets_;
};

// The body observer that counts sent bytes for the progress display (empty
// when there is no display).
std::function<void(std::string_view)> CountProgress(std::atomic<uint64_t>* progress);

}  // namespace stopgap::logship::internal
