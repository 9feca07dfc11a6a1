// S3 backend over HttpClient + SigV4 + pugixml. Thread safety: requests use
// leased clients from a pool; no other mutable state after construction.
#include "logship/store/s3_store.h"

#include <cctype>
#include <charconv>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>

#include "core/file.h"
#include "core/log.h"
#include "logship/internal/http_store.h"
#include "logship/internal/md5.h"
#include "logship/store/s3_xml.h"

namespace stopgap::logship {
namespace {

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\r' || s.back() == '\t')) s.pop_back();
  size_t i = s.find_first_not_of(" \t");
  return i == std::string::npos ? "" : s.substr(i);
}

class S3Store final : public ObjectStore {
 public:
  S3Store(std::string bucket, std::string prefix, StoreOptions options, AwsCredentials creds)
      : bucket_(std::move(bucket)),
        prefix_(std::move(prefix)),
        options_(std::move(options)),
        creds_(std::move(creds)),
        pool_(options_.http) {
    region_ = options_.region;
    if (region_.empty()) region_ = options_.getenv("AWS_REGION");
    if (region_.empty()) region_ = options_.getenv("AWS_DEFAULT_REGION");
    if (region_.empty()) region_ = "us-east-1";
    std::string ep = options_.endpoint;
    if (ep.empty()) ep = options_.getenv("AWS_ENDPOINT_URL");
    if (ep.empty()) ep = "https://s3." + region_ + ".amazonaws.com";
    while (ep.ends_with("/")) ep.pop_back();
    size_t scheme_end = ep.find("://");
    scheme_ = scheme_end == std::string::npos ? "https" : ep.substr(0, scheme_end);
    host_ = scheme_end == std::string::npos ? ep : ep.substr(scheme_end + 3);
    // IP addresses and localhost cannot carry a bucket subdomain.
    bool ip_host = !host_.empty() && (std::isdigit(static_cast<unsigned char>(host_[0])) ||
                                      host_.starts_with("localhost") || host_.starts_with("["));
    if (ip_host) options_.path_style = true;
    if (!options_.path_style) host_ = bucket_ + "." + host_;
    // Test-only: the 5 GiB CopyObject limit, lowered so the multipart copy
    // can be tested against a real store without a 5 GiB object.
    max_single_copy_ = options_.max_single_copy;
    std::string test_max = options_.getenv("STOPGAP_TEST_S3_MAX_SINGLE_COPY");
    uint64_t v = 0;
    if (auto [p, ec] = std::from_chars(test_max.data(), test_max.data() + test_max.size(), v);
        !test_max.empty() && ec == std::errc() && p == test_max.data() + test_max.size()) {
      max_single_copy_ = v;
    }
  }

  Result<UploadResult> Upload(const std::string& local_path, uint64_t size, const std::string& key,
                              const ObjectMeta& meta) override {
    if (size > options_.multipart_threshold) return UploadMultipart(local_path, size, key, meta);
    // The MD5 goes out as Content-MD5, so the store itself refuses a body
    // corrupted on the way (BadDigest); the hasher has usually read the
    // file already (the shipper prefetches a window ahead).
    internal::Md5Hasher::Ticket md5 = hasher_.Take({local_path, 0, size});
    Result<std::string> raw = internal::Md5Hasher::Wait(md5);
    if (!raw.ok()) return raw.status().WithContext(Describe(key));
    auto put = [&] {
      net::HttpHeaders h = ObjectHeaders(key, meta);
      h.emplace_back("Content-MD5", internal::Base64(*raw));
      net::HttpRequest req = Build("PUT", key, {}, "UNSIGNED-PAYLOAD", h);
      req.body_file = local_path;
      req.body_length = size;
      req.body_observer = internal::CountProgress(options_.progress_bytes);
      return req;
    };
    auto http = pool_.Get();
    Result<net::HttpResponse> r = http->Send(put());
    if (r.ok() && NoSuchBucket(*r)) {
      STOPGAP_RETURN_IF_ERROR(CreateBucket());
      r = http->Send(put());
    }
    // A body damaged on the way is refused by the store: send it again.
    for (int i = 0; i < 2 && r.ok() && BadDigest(*r); ++i) r = http->Send(put());
    if (!r.ok()) return r.status().WithContext(Describe(key));
    if (!r->ok()) return HttpError(*r, key);
    std::string want = internal::Hex(*raw);
    std::string got = internal::Unquote(r->Header("etag"));
    if (got != want && !AcceptedByChecksum(*r, got)) {
      return DataLoss(Describe(key) + ": store answered ETag " + got + ", local MD5 is " + want);
    }
    return UploadResult{got, 1};
  }

  Result<int> AbortStaleUploads(const std::vector<std::string>& keys) override {
    if (keys.empty()) return 0;
    std::set<std::string> owned;
    std::string common = Full(keys[0]);
    for (const std::string& k : keys) {
      owned.insert(Full(k));
      std::string f = Full(k);
      size_t n = 0;
      while (n < common.size() && n < f.size() && common[n] == f[n]) ++n;
      common.resize(n);
    }
    std::vector<S3MultipartUpload> stale;
    std::string key_marker, id_marker;
    auto http = pool_.Get();
    for (int page = 0; page < 100'000; ++page) {
      std::vector<std::pair<std::string, std::string>> q = {{"uploads", ""}, {"prefix", common}};
      if (!key_marker.empty()) q.emplace_back("key-marker", key_marker);
      if (!id_marker.empty()) q.emplace_back("upload-id-marker", id_marker);
      Count(&StoreStats::list_requests);
      Result<net::HttpResponse> r = http->Send(BuildRaw("GET", "", q, Sha256Hex("")));
      if (!r.ok()) return r.status().WithContext("s3://" + bucket_ + " list multipart uploads");
      if (r->status == 404) return 0;  // no bucket yet: nothing to abort
      if (!r->ok()) return HttpError(*r, "");
      Result<S3UploadsPage> p = ParseListMultipartUploads(r->body);
      if (!p.ok()) return p.status();
      for (S3MultipartUpload& u : p->uploads) {
        if (owned.count(u.key) != 0) stale.push_back(std::move(u));
      }
      if (!p->truncated) break;
      key_marker = p->next_key_marker;
      id_marker = p->next_upload_id_marker;
    }
    int aborted = 0;
    for (const S3MultipartUpload& u : stale) {
      Result<net::HttpResponse> r =
          http->Send(BuildRaw("DELETE", u.key, {{"uploadId", u.upload_id}}, Sha256Hex("")));
      if (!r.ok()) return r.status().WithContext("abort multipart upload of " + u.key);
      if (!r->ok() && r->status != 404) return HttpError(*r, "");
      ++aborted;
    }
    return aborted;
  }

  void Prefetch(const std::string& local_path, uint64_t size) override {
    if (size <= options_.multipart_threshold) {
      hasher_.Prefetch({local_path, 0, size});
      return;
    }
    std::vector<internal::Part> parts = internal::PlanParts(size, options_.part_size);
    for (size_t i = 0; i < parts.size() && i < static_cast<size_t>(hasher_.lanes()); ++i) {
      hasher_.Prefetch({local_path, parts[i].offset, parts[i].length});
    }
  }

  Result<std::optional<ObjectInfo>> Stat(const std::string& key) override {
    net::HttpRequest req = Build("HEAD", key, {}, Sha256Hex(""));
    auto http = pool_.Get();
    Count(&StoreStats::head_requests);
    Result<net::HttpResponse> r = http->Send(req);
    if (!r.ok()) return r.status().WithContext(Describe(key));
    if (r->status == 404) return std::optional<ObjectInfo>();
    if (!r->ok()) return HttpError(*r, key);
    Result<ObjectInfo> info = internal::ObjectInfoFromHead(key, *r, "x-amz-meta-");
    if (!info.ok()) return info.status();
    return std::optional<ObjectInfo>(std::move(*info));
  }

  Result<std::vector<ObjectInfo>> List(const std::string& key_prefix) override {
    std::vector<ObjectInfo> out;
    std::string marker;
    std::string full_prefix = Full(key_prefix);
    auto http = pool_.Get();
    for (int page = 0; page < 1'000'000; ++page) {
      std::vector<std::pair<std::string, std::string>> q = {{"prefix", full_prefix}};
      if (!marker.empty()) q.emplace_back("marker", marker);
      net::HttpRequest req = BuildRaw("GET", "", q, Sha256Hex(""));
      Count(&StoreStats::list_requests);
      Result<net::HttpResponse> r = http->Send(req);
      if (!r.ok()) return r.status().WithContext("s3://" + bucket_);
      if (!r->ok()) return HttpError(*r, "");
      Result<S3ListPage> p = ParseListBucket(r->body);
      if (!p.ok()) return p.status();
      for (ObjectInfo& o : p->objects) {
        if (!prefix_.empty()) {
          // The listing is outside input: a key outside the prefix is skipped.
          if (o.key.size() <= prefix_.size() + 1 || !o.key.starts_with(prefix_ + "/")) continue;
          o.key = o.key.substr(prefix_.size() + 1);
        }
        out.push_back(std::move(o));
      }
      if (!p->truncated) break;
      marker = p->next_marker;
    }
    return out;
  }

  Status Download(const std::string& key, net::ResponseSink& sink) override {
    net::HttpRequest req = Build("GET", key, {}, Sha256Hex(""));
    req.sink = &sink;
    auto http = pool_.Get();
    Count(&StoreStats::get_requests);
    Result<net::HttpResponse> r = http->Send(req);
    if (!r.ok()) return r.status().WithContext(Describe(key));
    if (r->status == 404) return NotFound(Describe(key) + ": no such object");
    if (!r->ok()) return HttpError(*r, key);
    return Status::Ok();
  }

  Status Copy(const ObjectInfo& source, const std::string& to) override {
    if (source.size > max_single_copy_) return CopyMultipart(source, to);
    // CopyObject keeps the metadata and Content-Type (directive COPY);
    // encryption and storage class are asked for again, as on upload.
    const std::string& from = source.key;
    net::HttpHeaders h = {{"x-amz-copy-source", CopySource(from)},
                          {"x-amz-metadata-directive", "COPY"}};
    for (auto& kv : ObjectHeaders(to, {})) {
      if (kv.first != "Content-Type") h.push_back(std::move(kv));
    }
    auto http = pool_.Get();
    Result<net::HttpResponse> r = http->Send(Build("PUT", to, {}, Sha256Hex(""), h));
    if (!r.ok()) return r.status().WithContext("copy " + Describe(from) + " to " + Describe(to));
    if (!r->ok()) return HttpError(*r, from).WithContext("copy to " + Describe(to));
    // S3 may answer 200 and still fail the copy: the body says which.
    if (S3Error e = ParseS3Error(r->body); !e.code.empty()) {
      return Unavailable("copy " + Describe(from) + " to " + Describe(to) + ": " + e.code + ": " +
                         e.message);
    }
    return Status::Ok();
  }

  Status Delete(const std::string& key) override {
    auto http = pool_.Get();
    Result<net::HttpResponse> r = http->Send(Build("DELETE", key, {}, Sha256Hex("")));
    if (!r.ok()) return r.status().WithContext("delete " + Describe(key));
    if (!r->ok() && r->status != 404) return HttpError(*r, key);
    return Status::Ok();
  }

  Result<std::string> LocalEtag(const std::string& local_path, uint64_t size) override {
    std::vector<internal::FileRange> ranges;
    if (size <= options_.multipart_threshold) {
      ranges.push_back({local_path, 0, size});
    } else {
      for (const internal::Part& p : internal::PlanParts(size, options_.part_size)) {
        ranges.push_back({local_path, p.offset, p.length});
      }
    }
    std::vector<std::string> digests;
    for (Result<std::string>& d : hasher_.HashAll(ranges)) {
      if (!d.ok()) return d.status();
      digests.push_back(std::move(*d));
    }
    if (size <= options_.multipart_threshold) return internal::Hex(digests[0]);
    return internal::MultipartEtag(digests);
  }

  std::string Describe(const std::string& key) const override {
    return "s3://" + bucket_ + "/" + Full(key);
  }

  Result<std::string> Lifecycle(int keep_days, bool apply) override {
    std::string rule = BuildLifecycle(prefix_.empty() ? "" : prefix_ + "/", keep_days, 2);
    if (!apply) return rule;
    auto http = pool_.Get();
    Result<net::HttpResponse> got =
        http->Send(BuildRaw("GET", "", {{"lifecycle", ""}}, Sha256Hex("")));
    if (!got.ok()) return got.status().WithContext("s3://" + bucket_ + "?lifecycle");
    if (got->ok()) {
      return FailedPrecondition("s3://" + bucket_ +
                                " already has a lifecycle configuration, which a PUT would "
                                "replace: add this rule to it yourself:\n" +
                                rule);
    }
    if (ParseS3Error(got->body).code != "NoSuchLifecycleConfiguration") return HttpError(*got, "");
    internal::Md5 md5;
    md5.Update(rule);
    net::HttpRequest put = BuildRaw(
        "PUT", "", {{"lifecycle", ""}}, Sha256Hex(rule),
        {{"Content-MD5", internal::Base64(md5.Digest())}, {"Content-Type", "application/xml"}});
    put.body = rule;
    Result<net::HttpResponse> r = http->Send(put);
    if (!r.ok()) return r.status().WithContext("s3://" + bucket_ + "?lifecycle");
    if (!r->ok()) return HttpError(*r, "");
    return rule;
  }

 private:
  std::string Full(const std::string& key) const {
    if (prefix_.empty()) return key;
    return prefix_ + "/" + key;
  }

  void Count(std::atomic<uint64_t> StoreStats::*counter) const {
    if (options_.stats != nullptr) ++(options_.stats->*counter);
  }

  std::string CopySource(const std::string& key) const {
    return "/" + bucket_ + "/" + net::UrlEncode(Full(key), true);
  }

  // Initiates a multipart upload of key with these headers (creating the
  // bucket on first use); returns its UploadId.
  Result<std::string> StartMultipart(const std::string& key, const net::HttpHeaders& h) {
    auto http = pool_.Get();
    Result<net::HttpResponse> r =
        http->Send(Build("POST", key, {{"uploads", ""}}, Sha256Hex(""), h));
    if (r.ok() && NoSuchBucket(*r)) {
      STOPGAP_RETURN_IF_ERROR(CreateBucket());
      r = http->Send(Build("POST", key, {{"uploads", ""}}, Sha256Hex(""), h));
    }
    if (!r.ok()) return r.status().WithContext(Describe(key));
    if (!r->ok()) return HttpError(*r, key);
    Result<std::string> id = ParseInitiateMultipart(r->body);
    if (!id.ok()) return id.status().WithContext(Describe(key));
    return *id;
  }

  Result<net::HttpResponse> SendComplete(const std::string& key, const std::string& upload_id,
                                         const std::vector<CompletedPart>& done) {
    std::string body = BuildCompleteMultipart(done);
    net::HttpRequest req = Build("POST", key, {{"uploadId", upload_id}}, Sha256Hex(body));
    req.body = body;
    req.headers.emplace_back("Content-Type", "application/xml");
    auto http = pool_.Get();
    return http->Send(req);
  }

  // Aborts so the store frees the parts; best effort.
  void AbortUpload(const std::string& key, const std::string& upload_id) {
    auto http = pool_.Get();
    (void)http->Send(Build("DELETE", key, {{"uploadId", upload_id}}, Sha256Hex("")));
  }

  // A copy above CopyObject's 5 GiB: a multipart upload of `to` whose parts
  // are byte ranges of the source (UploadPartCopy), part_size each, parallel.
  // The metadata and Content-Type are the source's (as Stat() read them),
  // encryption and storage class asked for as on upload. The result's ETag
  // is the parts' "<md5>-N": callers verify by size and metadata.
  Status CopyMultipart(const ObjectInfo& source, const std::string& to) {
    const std::string what = "copy " + Describe(source.key) + " to " + Describe(to);
    net::HttpHeaders h = ObjectHeaders(to, source.meta);
    if (!source.content_type.empty()) h.front().second = source.content_type;
    Result<std::string> upload_id = StartMultipart(to, h);
    if (!upload_id.ok()) return upload_id.status().WithContext(what);
    std::vector<internal::Part> parts = internal::PlanParts(source.size, options_.part_size);
    std::vector<CompletedPart> done(parts.size());
    Status st = internal::RunParts(parts, options_.parallel, [&](const internal::Part& p) {
      const std::string range =
          "bytes=" + std::to_string(p.offset) + "-" + std::to_string(p.offset + p.length - 1);
      net::HttpHeaders ph = {{"x-amz-copy-source", CopySource(source.key)},
                             {"x-amz-copy-source-range", range}};
      // A source replaced meanwhile fails the part. Only for an MD5 ETag:
      // Swift's s3api matches a multipart source's "<md5>-N" against its
      // SLO ETag and refuses every part (412).
      if (!source.etag.empty() && source.etag.find('-') == std::string::npos) {
        ph.emplace_back("x-amz-copy-source-if-match", "\"" + source.etag + "\"");
      }
      net::HttpRequest req =
          Build("PUT", to, {{"partNumber", std::to_string(p.number)}, {"uploadId", *upload_id}},
                Sha256Hex(""), ph);
      auto http = pool_.Get();
      Result<net::HttpResponse> r = http->Send(req);
      const std::string part = what + " part " + std::to_string(p.number);
      if (!r.ok()) return r.status().WithContext(part);
      if (!r->ok()) return HttpError(*r, source.key).WithContext(part);
      Result<std::string> etag = ParseCopyPartResult(r->body);
      if (!etag.ok()) return etag.status().WithContext(part);
      done[static_cast<size_t>(p.number - 1)] = CompletedPart{p.number, *etag};
      return Status::Ok();
    });
    if (st.ok()) {
      Result<net::HttpResponse> r = SendComplete(to, *upload_id, done);
      if (!r.ok()) {
        st = r.status().WithContext(what);
      } else if (!r->ok()) {
        st = HttpError(*r, to).WithContext(what);
      } else if (Result<std::string> etag = ParseCompleteMultipart(r->body);
                 !etag.ok() && etag.status().code() == StatusCode::kUnavailable) {
        st = etag.status().WithContext(what);
      } else {
        return Status::Ok();  // the caller's Stat() judges the copy
      }
    }
    AbortUpload(to, *upload_id);
    return st;
  }

  // The headers an object is created with (PUT, multipart initiate): its
  // Content-Type, metadata, encryption and storage class.
  net::HttpHeaders ObjectHeaders(const std::string& key, const ObjectMeta& meta) const {
    net::HttpHeaders h = {{"Content-Type", ContentTypeFor(key)}};
    for (const auto& [k, v] : meta) h.emplace_back("x-amz-meta-" + k, v);
    if (!options_.sse.empty()) h.emplace_back("x-amz-server-side-encryption", options_.sse);
    if (!options_.sse_kms_key_id.empty()) {
      h.emplace_back("x-amz-server-side-encryption-aws-kms-key-id", options_.sse_kms_key_id);
    }
    if (!options_.storage_class.empty())
      h.emplace_back("x-amz-storage-class", options_.storage_class);
    return h;
  }

  // An ETag that is not the body's MD5 (SSE-KMS, SSE-C) still proves nothing
  // is wrong when the store accepted our Content-MD5: it checked the body.
  bool AcceptedByChecksum(const net::HttpResponse& r, const std::string& etag) const {
    std::string sse = r.Header("x-amz-server-side-encryption");
    bool opaque = sse == "aws:kms" || sse == "aws:kms:dsse" ||
                  !r.Header("x-amz-server-side-encryption-customer-algorithm").empty() ||
                  options_.sse == "aws:kms";
    return opaque && !etag.empty();
  }

  static bool BadDigest(const net::HttpResponse& r) {
    return r.status == 400 && ParseS3Error(r.body).code == "BadDigest";
  }

  net::HttpRequest Build(const std::string& method, const std::string& key,
                         std::vector<std::pair<std::string, std::string>> query,
                         const std::string& payload_hash, const net::HttpHeaders& extra = {}) {
    return BuildRaw(method, Full(key), std::move(query), payload_hash, extra);
  }

  // full_key "" addresses the bucket itself. `extra` headers are signed and sent.
  net::HttpRequest BuildRaw(const std::string& method, const std::string& full_key,
                            std::vector<std::pair<std::string, std::string>> query,
                            const std::string& payload_hash, const net::HttpHeaders& extra = {}) {
    std::string path = options_.path_style ? "/" + net::UrlEncode(bucket_) : "";
    if (!full_key.empty() || !options_.path_style) path += "/" + net::UrlEncode(full_key, true);
    SigV4Request s{method, host_, path, query, extra, payload_hash};
    net::HttpRequest req;
    req.method = method;
    std::string qs = CanonicalQuery(query);
    req.url = scheme_ + "://" + host_ + path + (qs.empty() ? "" : "?" + qs);
    req.headers = extra;
    for (auto& h : SignV4(s, creds_, region_, "s3", AmzDateNow())) req.headers.push_back(h);
    return req;
  }

  Status HttpError(const net::HttpResponse& r, const std::string& key) const {
    S3Error e = ParseS3Error(r.body);
    std::string what = (key.empty() ? "s3://" + bucket_ : Describe(key)) + ": HTTP " +
                       std::to_string(r.status) + (e.code.empty() ? "" : " " + e.code) +
                       (e.message.empty() ? "" : ": " + e.message);
    if (r.status == 401 || r.status == 403) {
      return PermissionDenied(what +
                              " (check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY and --region)");
    }
    if (r.status == 404) return NotFound(what);
    // Throttled after all retries: this file waits for the next run; the run
    // goes on (a refusal would stop it).
    if (r.status == 429) return Unavailable(what);
    if (r.status == 400 && e.code.empty()) {
      return FailedPrecondition(what + " (a wrong --region gives this)");
    }
    if (r.status >= 400 && r.status < 500) return FailedPrecondition(what);
    return Unavailable(what);
  }

  static bool NoSuchBucket(const net::HttpResponse& r) {
    return r.status == 404 && ParseS3Error(r.body).code == "NoSuchBucket";
  }

  // Creates the bucket (first upload into a new bucket, like Swift's containers).
  Status CreateBucket() {
    std::string body;
    if (region_ != "us-east-1") {
      body = "<CreateBucketConfiguration><LocationConstraint>" + region_ +
             "</LocationConstraint></CreateBucketConfiguration>";
    }
    net::HttpRequest req = BuildRaw("PUT", "", {}, Sha256Hex(body));
    req.body = body;
    auto http = pool_.Get();
    Result<net::HttpResponse> r = http->Send(req);
    if (!r.ok()) return r.status().WithContext("create bucket " + bucket_);
    if (r->ok() || ParseS3Error(r->body).code == "BucketAlreadyOwnedByYou") return Status::Ok();
    return HttpError(*r, "");
  }

  // After `key` is complete, before anything local changes: an initiating
  // POST whose answer was lost (a reset after the store acted) was sent
  // again and left an upload open that no later run would own once the file
  // is deleted. Ours is complete, so every open upload of the key is such an
  // orphan. Best effort: the end-of-run clean-up and the lifecycle rule stay.
  int AbortOrphans(const std::string& key) {
    Result<int> n = AbortStaleUploads({key});
    if (!n.ok()) {
      Log(LogLevel::kWarn, "could not abort orphaned multipart uploads",
          {{"object", Describe(key)}, {"error", n.status().ToString()}});
      return 0;
    }
    return *n;
  }

  Result<UploadResult> UploadMultipart(const std::string& local_path, uint64_t size,
                                       const std::string& key, const ObjectMeta& meta) {
    // The object's Content-Type is the initiating POST's: without one,
    // curl's form default would stick to the object.
    Result<std::string> started = StartMultipart(key, ObjectHeaders(key, meta));
    if (!started.ok()) return started.status();
    const std::string upload_id = *started;
    std::vector<internal::Part> parts = internal::PlanParts(size, options_.part_size);
    std::vector<std::string> digests(parts.size());
    std::vector<CompletedPart> done(parts.size());
    internal::PartDigests md5s(hasher_, local_path, parts);
    Status st = internal::RunParts(parts, options_.parallel, [&](const internal::Part& p) {
      const size_t i = static_cast<size_t>(p.number - 1);
      const std::string what = Describe(key) + " part " + std::to_string(p.number);
      md5s.Start(i);
      Result<std::string> raw = md5s.Get(i);
      if (!raw.ok()) return raw.status().WithContext(what);
      auto put = [&] {
        net::HttpRequest req =
            Build("PUT", key, {{"partNumber", std::to_string(p.number)}, {"uploadId", upload_id}},
                  "UNSIGNED-PAYLOAD", {{"Content-MD5", internal::Base64(*raw)}});
        req.body_file = local_path;
        req.body_offset = p.offset;
        req.body_length = p.length;
        req.body_observer = internal::CountProgress(options_.progress_bytes);
        return req;
      };
      auto http = pool_.Get();
      Result<net::HttpResponse> r = http->Send(put());
      for (int n = 0; n < 2 && r.ok() && BadDigest(*r); ++n) r = http->Send(put());
      if (!r.ok()) return r.status().WithContext(what);
      if (!r->ok()) return HttpError(*r, key);
      std::string got = internal::Unquote(r->Header("etag"));
      if (got != internal::Hex(*raw) && !AcceptedByChecksum(*r, got)) {
        return DataLoss(what + ": ETag " + got + " != local MD5 " + internal::Hex(*raw));
      }
      digests[i] = *raw;
      done[i] = CompletedPart{p.number, got};
      return Status::Ok();
    });
    if (st.ok()) {
      Result<net::HttpResponse> r = SendComplete(key, upload_id, done);
      if (!r.ok()) {
        st = r.status().WithContext(Describe(key));
      } else if (!r->ok()) {
        st = HttpError(*r, key);
      } else {
        // Judged by what the store holds (HEAD: size and the multipart
        // ETag), not by the answer's root element, which stores spell
        // differently; an <Error> answer (S3 may send one with 200) fails.
        Result<std::string> etag = ParseCompleteMultipart(r->body);
        std::string want = internal::MultipartEtag(digests);
        if (!etag.ok() && etag.status().code() == StatusCode::kUnavailable) {
          st = etag.status().WithContext(Describe(key));
        } else {
          Result<std::optional<ObjectInfo>> head = Stat(key);
          if (!head.ok()) {
            st = head.status();
          } else if (!head->has_value()) {
            st = DataLoss(Describe(key) + ": multipart upload completed but the object is absent");
          } else if ((*head)->size != size) {
            st = DataLoss(Describe(key) + ": completed object holds " +
                          std::to_string((*head)->size) + " bytes, the file " +
                          std::to_string(size));
          } else if ((*head)->etag == want) {
            return UploadResult{want, static_cast<int>(parts.size()), AbortOrphans(key)};
          } else if (AcceptedByChecksum(*r, (*head)->etag)) {
            // Every part went with its Content-MD5 and the size matches.
            return UploadResult{(*head)->etag, static_cast<int>(parts.size()), AbortOrphans(key)};
          } else {
            st =
                DataLoss(Describe(key) + ": multipart ETag " + (*head)->etag + " != local " + want);
          }
        }
      }
    }
    AbortUpload(key, upload_id);
    return st;
  }

  std::string bucket_, prefix_;
  StoreOptions options_;
  AwsCredentials creds_;
  internal::ClientPool pool_;
  internal::Md5Hasher hasher_;
  std::string region_, scheme_, host_;
  uint64_t max_single_copy_ = 5ull << 30;
};

}  // namespace

Result<AwsCredentials> LoadAwsCredentials(const StoreOptions& options) {
  AwsCredentials c;
  c.access_key = options.getenv("AWS_ACCESS_KEY_ID");
  c.secret_key = options.getenv("AWS_SECRET_ACCESS_KEY");
  c.session_token = options.getenv("AWS_SESSION_TOKEN");
  if (!c.access_key.empty() && !c.secret_key.empty()) return c;
  std::string file = options.getenv("AWS_SHARED_CREDENTIALS_FILE");
  if (file.empty()) file = options.getenv("HOME") + "/.aws/credentials";
  std::string profile = options.getenv("AWS_PROFILE");
  if (profile.empty()) profile = "default";
  Result<std::string> text = ReadFile(file, 1 << 20);
  if (!text.ok()) {
    return FailedPrecondition(
        "no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or write " + file);
  }
  std::istringstream in(*text);
  std::string line, section;
  c = AwsCredentials{};
  while (std::getline(in, line)) {
    line = Trim(line);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      section = Trim(line.substr(1, line.size() - 2));
      continue;
    }
    if (section != profile) continue;
    size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string k = Trim(line.substr(0, eq)), v = Trim(line.substr(eq + 1));
    if (k == "aws_access_key_id") c.access_key = v;
    if (k == "aws_secret_access_key") c.secret_key = v;
    if (k == "aws_session_token") c.session_token = v;
  }
  if (c.access_key.empty() || c.secret_key.empty()) {
    return FailedPrecondition("no S3 credentials for profile [" + profile + "] in " + file);
  }
  return c;
}

Result<std::unique_ptr<ObjectStore>> NewS3Store(const std::string& bucket,
                                                const std::string& prefix,
                                                const StoreOptions& options) {
  Result<AwsCredentials> creds = LoadAwsCredentials(options);
  if (!creds.ok()) return creds.status();
  return std::unique_ptr<ObjectStore>(new S3Store(bucket, prefix, options, *creds));
}

}  // namespace stopgap::logship
