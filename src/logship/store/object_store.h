// ObjectStore: the one interface the log shipper talks to, with three
// backends chosen by URL: s3://bucket/prefix (SigV4), swift://container/prefix
// (TempAuth v1 or Keystone v3) and file:///dir (a local directory).
//
//   Result<std::unique_ptr<ObjectStore>> s = OpenStore("s3://logs/prod", options);
//   Result<UploadResult> u = (*s)->Upload("/var/log/app.log-20261125.gz", size, key);
//
// Keys are relative to the URL's prefix ("web1/var/log/app.log-20261125.gz").
// Upload() streams the file (bounded memory), splits it into parallel parts
// above options.multipart_threshold (S3 multipart / Swift SLO), and returns
// only after the store's answer was checked against the file's MD5s (computed
// by a multi-buffer hasher beside the upload): an OK result means the object
// is there and verified.
//
// Thread safety: every method may be called from several threads at once.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "net/http_client.h"

namespace stopgap::logship {

struct ObjectInfo {
  std::string key;  // relative to the store prefix
  uint64_t size = 0;
  std::string etag;  // unquoted
  std::string last_modified;
};

struct UploadResult {
  std::string etag;  // as the store reported it, checked against local checksums
  int parts = 1;     // 1 = single PUT
};

struct StoreOptions {
  // S3: "http://127.0.0.1:8080" (default https://s3.<region>.amazonaws.com).
  std::string endpoint;
  std::string region;  // S3 (default AWS_REGION / AWS_DEFAULT_REGION / us-east-1)
  bool path_style = false;
  uint64_t multipart_threshold = 128ull << 20;
  uint64_t part_size = 64ull << 20;
  int parallel = 2;  // concurrent part uploads per file
  net::HttpClientOptions http;
  // Environment lookup (credentials); tests inject their own.
  std::function<std::string(const std::string&)> getenv = [](const std::string& k) {
    const char* v = std::getenv(k.c_str());
    return std::string(v ? v : "");
  };
  // Incremented with every byte sent or received (progress display); may be null.
  std::atomic<uint64_t>* progress_bytes = nullptr;
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;
  // Uploads [0, size) of local_path as `key` and verifies it.
  virtual Result<UploadResult> Upload(const std::string& local_path, uint64_t size,
                                      const std::string& key) = 0;
  // The object's size and ETag, or nullopt when absent.
  virtual Result<std::optional<ObjectInfo>> Stat(const std::string& key) = 0;
  // Every object whose key starts with key_prefix, in key order.
  virtual Result<std::vector<ObjectInfo>> List(const std::string& key_prefix) = 0;
  // Streams the object's bytes into sink.
  virtual Status Download(const std::string& key, net::ResponseSink& sink) = 0;
  // A hint that Upload() or LocalEtag() of this file follows soon: start
  // checksumming it now (beside other uploads). Never required.
  virtual void Prefetch(const std::string& /*local_path*/, uint64_t /*size*/) {}
  // The ETag this store would report for this local file (reads the file):
  // lets a lost state file be rebuilt by comparing with Stat().
  virtual Result<std::string> LocalEtag(const std::string& local_path, uint64_t size) = 0;
  // "s3://bucket/prefix/key", for messages.
  virtual std::string Describe(const std::string& key) const = 0;
};

// Parses the URL and builds its backend (checking credentials are present,
// not yet that they are right).
Result<std::unique_ptr<ObjectStore>> OpenStore(const std::string& url, const StoreOptions& options);

}  // namespace stopgap::logship
