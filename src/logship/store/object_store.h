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
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "net/http_client.h"

namespace stopgap::logship {

// User metadata kept with an object: names lower-case, without the store's
// prefix (x-amz-meta- on S3, X-Object-Meta- on Swift, a sidecar on file://);
// values printable ASCII (callers percent-encode anything else).
using ObjectMeta = std::vector<std::pair<std::string, std::string>>;

struct ObjectInfo {
  std::string key;  // relative to the store prefix
  uint64_t size = 0;
  std::string etag;  // unquoted
  std::string last_modified;
  std::string content_type;  // Stat() only
  ObjectMeta meta;           // Stat() only (listings carry no metadata)
  std::string delete_at;     // Stat() only: Swift's X-Delete-At (epoch seconds), "" = none
};

// The first value of `name` in meta, or "".
std::string MetaValue(const ObjectMeta& meta, std::string_view name);

// The Content-Type an archived file is stored with, from its name:
// application/gzip (.gz), application/zstd (.zst), application/x-xz (.xz),
// application/x-bzip2 (.bz2), text/plain for a rotation without compression
// suffix or a .log/.txt name, else application/octet-stream.
std::string ContentTypeFor(std::string_view file_name);

// Requests a store made, for --stats (listing pages, HEADs, GETs, PUTs).
struct StoreStats {
  std::atomic<uint64_t> list_requests{0};
  std::atomic<uint64_t> head_requests{0};
  std::atomic<uint64_t> get_requests{0};
};

struct UploadResult {
  std::string etag;  // as the store reported it, checked against local checksums
  int parts = 1;     // 1 = single PUT
  // S3: other open multipart uploads of the key (orphans of a lost answer or
  // a killed run), aborted once this one was complete.
  int orphans_aborted = 0;
};

struct StoreOptions {
  // S3: "http://127.0.0.1:8080" (default https://s3.<region>.amazonaws.com).
  std::string endpoint;
  std::string region;  // S3 (default AWS_REGION / AWS_DEFAULT_REGION / us-east-1)
  bool path_style = false;
  uint64_t multipart_threshold = 128ull << 20;
  uint64_t part_size = 64ull << 20;
  int parallel = 2;  // concurrent part uploads per file
  // Stores throttle with 429 (Swift's ratelimit, S3 compatibles): retried.
  net::HttpClientOptions http = [] {
    net::HttpClientOptions h;
    h.retry_throttled = true;
    return h;
  }();
  // Environment lookup (credentials); tests inject their own.
  std::function<std::string(const std::string&)> getenv = [](const std::string& k) {
    const char* v = std::getenv(k.c_str());
    return std::string(v ? v : "");
  };
  // Incremented with every byte sent or received (progress display); may be null.
  std::atomic<uint64_t>* progress_bytes = nullptr;
  // Counts the requests made; may be null.
  StoreStats* stats = nullptr;
  // S3 only: server-side encryption ("AES256", "aws:kms"; "" = the bucket's
  // default), its KMS key id, and a storage class ("" = STANDARD).
  std::string sse, sse_kms_key_id, storage_class;
  // Swift: objects expire (X-Delete-At, set at upload, segments too) this
  // many days after the day in their stopgap-date metadata (else after
  // today); 0 = never. S3 expires by a bucket rule instead (Lifecycle()).
  int remote_keep_days = 0;
  // S3: Copy() of a larger source goes as a multipart copy (UploadPartCopy
  // of part_size ranges), since CopyObject stops at 5 GiB. Tests lower it
  // through the environment (STOPGAP_TEST_S3_MAX_SINGLE_COPY=bytes).
  uint64_t max_single_copy = 5ull << 30;
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;
  // Uploads [0, size) of local_path as `key` with `meta`, and verifies it.
  // The object's Content-Type is ContentTypeFor(key).
  virtual Result<UploadResult> Upload(const std::string& local_path, uint64_t size,
                                      const std::string& key, const ObjectMeta& meta) = 0;
  Result<UploadResult> Upload(const std::string& local_path, uint64_t size,
                              const std::string& key) {
    return Upload(local_path, size, key, {});
  }
  // The object's size and ETag, or nullopt when absent.
  virtual Result<std::optional<ObjectInfo>> Stat(const std::string& key) = 0;
  // Every object whose key starts with key_prefix, in key order.
  virtual Result<std::vector<ObjectInfo>> List(const std::string& key_prefix) = 0;
  // Aborts unfinished multipart uploads (left by a run that was cut off) of
  // exactly these keys; returns how many were aborted. Stores without
  // multipart uploads have none.
  virtual Result<int> AbortStaleUploads(const std::vector<std::string>& /*keys*/) { return 0; }
  // The store-side retention for this store's prefix: objects expire
  // keep_days after upload and incomplete multipart uploads are aborted
  // after 2 days. Returns what it is (the S3 rule, or how Swift does it);
  // with apply, installs it (S3: only into a bucket without a lifecycle
  // configuration, which a PUT would replace). kFailedPrecondition when the
  // store has no such thing.
  virtual Result<std::string> Lifecycle(int /*keep_days*/, bool /*apply*/) {
    return FailedPrecondition(
        "this store has no lifecycle rules; delete old archives with your own tools");
  }
  // Streams the object's bytes into sink.
  virtual Status Download(const std::string& key, net::ResponseSink& sink) = 0;
  // A server-side copy of `from` (as Stat() described it just before) to
  // `to` (no bytes through this host), with its metadata and Content-Type:
  // S3 CopyObject, or above max_single_copy a multipart copy
  // (UploadPartCopy, its ETag then "<md5>-N"); Swift PUT with X-Copy-From
  // (an SLO's manifest is copied, its segments are shared) and the source's
  // X-Delete-At, which Swift's copy drops; file:// a hard link and the
  // sidecar. Overwrites `to`. Callers verify the copy with Stat() before
  // relying on it.
  virtual Status Copy(const ObjectInfo& from, const std::string& /*to*/) {
    return FailedPrecondition(Describe(from.key) + ": this store cannot copy objects");
  }
  // Deletes one object (an SLO's manifest only: its segments may be shared
  // by a copy). Deleting an absent object is Ok.
  virtual Status Delete(const std::string& key) {
    return FailedPrecondition(Describe(key) + ": this store cannot delete objects");
  }
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
