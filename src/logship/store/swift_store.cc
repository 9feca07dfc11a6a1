// Swift backend: auth (TempAuth v1 / Keystone v3) with a cached token, object
// PUT/HEAD/GET, JSON listings, SLO uploads. Thread safety: the token is under
// mu_; requests use leased clients from a pool.
#include "logship/store/swift_store.h"

#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>

#include "core/log.h"
#include "core/time.h"
#include "logship/archive.h"
#include "logship/internal/http_store.h"
#include "logship/internal/md5.h"
#include "logship/store/swift_json.h"

namespace stopgap::logship {
namespace {

using Clock = std::chrono::steady_clock;

// Names per listing page (Swift's default and maximum is 10,000).
constexpr size_t kListLimit = 10000;

class SwiftStore final : public ObjectStore {
 public:
  SwiftStore(std::string container, std::string prefix, StoreOptions options)
      : container_(std::move(container)),
        prefix_(std::move(prefix)),
        options_(std::move(options)),
        pool_(options_.http) {}

  Result<UploadResult> Upload(const std::string& local_path, uint64_t size, const std::string& key,
                              const ObjectMeta& meta) override {
    if (size > options_.multipart_threshold) return UploadSlo(local_path, size, key, meta);
    internal::Md5Hasher::Ticket md5 = hasher_.Take({local_path, 0, size});
    Result<std::string> etag = PutFile(
        container_, Full(key), local_path, 0, size, [&] { return internal::Md5Hasher::Wait(md5); },
        ObjectHeaders(key, meta));
    if (!etag.ok()) return etag.status();
    return UploadResult{*etag, 1};
  }

  void Prefetch(const std::string& local_path, uint64_t size) override {
    if (size <= options_.multipart_threshold) {
      hasher_.Prefetch({local_path, 0, size});
      return;
    }
    std::vector<internal::Part> parts = internal::PlanParts(size, options_.part_size, 1000);
    for (size_t i = 0; i < parts.size() && i < static_cast<size_t>(hasher_.lanes()); ++i) {
      hasher_.Prefetch({local_path, parts[i].offset, parts[i].length});
    }
  }

  Result<std::optional<ObjectInfo>> Stat(const std::string& key) override {
    Count(&StoreStats::head_requests);
    Result<net::HttpResponse> r = Request("HEAD", ObjectPath(container_, Full(key)), {});
    if (!r.ok()) return r.status();
    if (r->status == 404) return std::optional<ObjectInfo>();
    if (!r->ok()) return HttpError(*r, Describe(key));
    Result<ObjectInfo> info = internal::ObjectInfoFromHead(key, *r, "x-object-meta-");
    if (!info.ok()) return info.status();
    return std::optional<ObjectInfo>(std::move(*info));
  }

  Result<std::vector<ObjectInfo>> List(const std::string& key_prefix) override {
    std::vector<ObjectInfo> out;
    std::string marker;
    for (int page = 0; page < 1'000'000; ++page) {
      // An explicit limit: a shorter page is the last one, so a listing
      // costs no extra request for an empty page after it.
      std::string path = "/" + net::UrlEncode(container_) +
                         "?format=json&limit=" + std::to_string(kListLimit) +
                         "&prefix=" + net::UrlEncode(Full(key_prefix)) +
                         (marker.empty() ? "" : "&marker=" + net::UrlEncode(marker));
      Count(&StoreStats::list_requests);
      Result<net::HttpResponse> r = Request("GET", path, {});
      if (!r.ok()) return r.status();
      if (r->status == 404) return out;  // no container yet: nothing archived
      if (!r->ok()) return HttpError(*r, "swift://" + container_);
      Result<SwiftListPage> listed = ParseSwiftListing(r->body, prefix_);
      if (!listed.ok()) return listed.status();
      if (listed->last_name.empty()) break;
      marker = listed->last_name;
      for (ObjectInfo& o : listed->objects) out.push_back(std::move(o));
      if (listed->entries < kListLimit) break;
    }
    return out;
  }

  Status Download(const std::string& key, net::ResponseSink& sink) override {
    Count(&StoreStats::get_requests);
    Result<net::HttpResponse> r = Request("GET", ObjectPath(container_, Full(key)), {}, &sink);
    if (!r.ok()) return r.status();
    if (r->status == 404) return NotFound(Describe(key) + ": no such object");
    if (!r->ok()) return HttpError(*r, Describe(key));
    return Status::Ok();
  }

  Status Copy(const ObjectInfo& source, const std::string& to) override {
    // multipart-manifest=get: an SLO's manifest is copied (its segments are
    // then shared), not its whole content (which Swift caps at 5 GiB); a
    // plain object is copied as is. Metadata and Content-Type come along;
    // X-Delete-At does not (Swift's copy drops it): it is set again.
    const std::string& from = source.key;
    net::HttpHeaders h = {
        {"X-Copy-From", "/" + net::UrlEncode(container_) + "/" + net::UrlEncode(Full(from), true)},
        {"Content-Length", "0"}};
    if (!source.delete_at.empty()) h.emplace_back("X-Delete-At", source.delete_at);
    Result<net::HttpResponse> r =
        Request("PUT", ObjectPath(container_, Full(to)) + "?multipart-manifest=get", h);
    if (!r.ok()) return r.status().WithContext("copy " + Describe(from) + " to " + Describe(to));
    if (r->status == 404) return NotFound(Describe(from) + ": no such object");
    if (!r->ok()) return HttpError(*r, "copy " + Describe(from) + " to " + Describe(to));
    return Status::Ok();
  }

  Status Delete(const std::string& key) override {
    // Without multipart-manifest=delete: only an SLO's manifest goes, its
    // segments stay for the copy that shares them.
    Result<net::HttpResponse> r = Request("DELETE", ObjectPath(container_, Full(key)), {});
    if (!r.ok()) return r.status().WithContext("delete " + Describe(key));
    if (!r->ok() && r->status != 404) return HttpError(*r, "delete " + Describe(key));
    return Status::Ok();
  }

  Result<std::string> LocalEtag(const std::string& local_path, uint64_t size) override {
    std::vector<internal::FileRange> ranges;
    if (size <= options_.multipart_threshold) {
      ranges.push_back({local_path, 0, size});
    } else {
      for (const internal::Part& p : internal::PlanParts(size, options_.part_size, 1000)) {
        ranges.push_back({local_path, p.offset, p.length});
      }
    }
    internal::Md5 all;  // SLO: MD5 of the segments' hex ETags
    for (Result<std::string>& d : hasher_.HashAll(ranges)) {
      if (!d.ok()) return d.status();
      if (size <= options_.multipart_threshold) return internal::Hex(*d);
      all.Update(internal::Hex(*d));
    }
    return internal::Hex(all.Digest());
  }

  std::string Describe(const std::string& key) const override {
    return "swift://" + container_ + "/" + Full(key);
  }

 private:
  struct Token {
    std::string token;
    std::string storage_url;
    Clock::time_point expires;
  };

  std::string Full(const std::string& key) const {
    return prefix_.empty() ? key : prefix_ + "/" + key;
  }

  void Count(std::atomic<uint64_t> StoreStats::*counter) const {
    if (options_.stats != nullptr) ++(options_.stats->*counter);
  }

  // The headers an archived object is created with: Content-Type, metadata,
  // and its expiry (X-Delete-At) under remote_keep_days.
  net::HttpHeaders ObjectHeaders(const std::string& key, const ObjectMeta& meta) const {
    net::HttpHeaders h = {{"Content-Type", ContentTypeFor(key)}};
    for (const auto& [k, v] : meta) h.emplace_back("X-Object-Meta-" + k, v);
    if (std::string at = DeleteAt(meta); !at.empty()) h.emplace_back("X-Delete-At", at);
    return h;
  }

  // The end of (the object's day + remote_keep_days), as epoch seconds; "" = never.
  std::string DeleteAt(const ObjectMeta& meta) const {
    if (options_.remote_keep_days <= 0) return "";
    std::optional<CivilDay> day = ReadArchiveMeta(meta).day;
    int64_t days = day ? DaysSinceEpoch(*day)
                       : std::chrono::duration_cast<std::chrono::hours>(
                             std::chrono::system_clock::now().time_since_epoch())
                                 .count() /
                             24;
    return std::to_string((days + options_.remote_keep_days + 1) * 86400);
  }

  Result<std::string> Lifecycle(int keep_days, bool apply) override {
    std::string what =
        "swift://" + container_ + (prefix_.empty() ? "" : "/" + prefix_) +
        ": Swift has no bucket rules; each object expires by its own X-Delete-At. Upload with "
        "--remote-keep " +
        std::to_string(keep_days) +
        "d (sweep/upload) and every object (and SLO segment) gets X-Delete-At = its day + " +
        std::to_string(keep_days) + " days. Swift has no multipart uploads to abort.";
    if (apply) return FailedPrecondition(what);
    return what;
  }
  static std::string ObjectPath(const std::string& container, const std::string& name) {
    return "/" + net::UrlEncode(container) + "/" + net::UrlEncode(name, true);
  }

  Status HttpError(const net::HttpResponse& r, const std::string& what) const {
    std::string msg = what + ": HTTP " + std::to_string(r.status);
    std::string body = r.body.substr(0, 300);
    if (!body.empty()) msg += ": " + body;
    if (r.status == 401 || r.status == 403) return PermissionDenied(msg);
    // Throttled after all retries: retried next run, the run goes on.
    if (r.status == 429) return Unavailable(msg);
    if (r.status >= 400 && r.status < 500) return FailedPrecondition(msg);
    return Unavailable(msg);
  }

  // The cached token, authenticating when absent, expired, or `force`.
  Result<Token> GetToken(bool force) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!force && token_ && Clock::now() + std::chrono::seconds(30) < token_->expires) {
      return *token_;
    }
    Result<Token> t = options_.getenv("OS_AUTH_URL").empty() || !options_.getenv("ST_AUTH").empty()
                          ? AuthV1()
                          : AuthV3();
    if (!t.ok()) return t.status();
    token_ = *t;
    return *t;
  }

  Result<Token> AuthV1() {
    std::string url = options_.getenv("ST_AUTH"), user = options_.getenv("ST_USER"),
                key = options_.getenv("ST_KEY");
    if (url.empty() || user.empty() || key.empty()) {
      return FailedPrecondition(
          "no Swift credentials: set ST_AUTH, ST_USER and ST_KEY (TempAuth v1) or OS_AUTH_URL, "
          "OS_USERNAME, OS_PASSWORD, OS_PROJECT_NAME (Keystone v3)");
    }
    auto http = pool_.Get();
    Result<net::HttpResponse> r = http->Get(url, {{"X-Auth-User", user}, {"X-Auth-Key", key}});
    if (!r.ok()) return r.status().WithContext("swift auth " + url);
    if (r->status == 401 || r->status == 403) {
      return PermissionDenied("swift auth " + url + ": HTTP " + std::to_string(r->status) +
                              " (check ST_USER/ST_KEY)");
    }
    if (!r->ok()) return HttpError(*r, "swift auth " + url);
    Token t;
    t.token = r->Header("x-auth-token");
    t.storage_url = r->Header("x-storage-url");
    if (t.token.empty() || t.storage_url.empty()) {
      return DataLoss("swift auth " + url + ": no X-Auth-Token/X-Storage-Url in the answer");
    }
    std::string ttl_text = r->Header("x-auth-token-expires");
    int64_t ttl = 0;
    auto [end, ec] = std::from_chars(ttl_text.data(), ttl_text.data() + ttl_text.size(), ttl);
    if (ec != std::errc() || end != ttl_text.data() + ttl_text.size() || ttl <= 0 ||
        ttl > 366 * 86400) {
      ttl = 3600;  // absent or not a sane number of seconds: renew within the hour
    }
    t.expires = Clock::now() + std::chrono::seconds(ttl);
    return t;
  }

  Result<Token> AuthV3() {
    std::string url = options_.getenv("OS_AUTH_URL");
    while (url.ends_with("/")) url.pop_back();
    if (!url.ends_with("/v3")) url += "/v3";
    auto env = [&](const char* k, const char* def) {
      std::string v = options_.getenv(k);
      return v.empty() ? std::string(def) : v;
    };
    if (options_.getenv("OS_USERNAME").empty() || options_.getenv("OS_PASSWORD").empty()) {
      return FailedPrecondition("Keystone v3 needs OS_USERNAME and OS_PASSWORD");
    }
    nlohmann::json body = {
        {"auth",
         {{"identity",
           {{"methods", {"password"}},
            {"password",
             {{"user",
               {{"name", env("OS_USERNAME", "")},
                {"domain", {{"name", env("OS_USER_DOMAIN_NAME", "Default")}}},
                {"password", env("OS_PASSWORD", "")}}}}}}},
          {"scope",
           {{"project",
             {{"name", env("OS_PROJECT_NAME", "")},
              {"domain", {{"name", env("OS_PROJECT_DOMAIN_NAME", "Default")}}}}}}}}}};
    auto http = pool_.Get();
    Result<net::HttpResponse> r =
        http->Post(url + "/auth/tokens", body.dump(), {{"Content-Type", "application/json"}});
    if (!r.ok()) return r.status().WithContext("keystone " + url);
    if (r->status == 401 || r->status == 403) {
      return PermissionDenied("keystone " + url + ": HTTP " + std::to_string(r->status) +
                              " (check OS_USERNAME/OS_PASSWORD/OS_PROJECT_NAME)");
    }
    if (!r->ok()) return HttpError(*r, "keystone " + url);
    Token t;
    t.token = r->Header("x-subject-token");
    Result<std::string> ep = FindObjectStoreEndpoint(r->body, options_.getenv("OS_REGION_NAME"),
                                                     env("OS_INTERFACE", "public"));
    if (!ep.ok()) return ep.status().WithContext("keystone " + url);
    t.storage_url = *ep;
    t.expires = Clock::now() + std::chrono::hours(1);
    try {
      std::string exp = nlohmann::json::parse(r->body)["token"].value("expires_at", "");
      if (Result<WallTime> w = ParseRfc3339(exp); w.ok()) {
        t.expires = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                       *w - std::chrono::system_clock::now());
      }
    } catch (const std::exception&) {
    }
    if (t.token.empty()) return DataLoss("keystone " + url + ": no X-Subject-Token");
    return t;
  }

  // Sends method on storage_url + path with the token; renews it once on 401.
  Result<net::HttpResponse> Request(const std::string& method, const std::string& path,
                                    net::HttpHeaders headers, net::ResponseSink* sink = nullptr,
                                    net::HttpRequest* base = nullptr) {
    bool force = false;
    for (int i = 0; i < 2; ++i) {
      Result<Token> t = GetToken(force);
      if (!t.ok()) return t.status();
      net::HttpRequest req = base ? *base : net::HttpRequest{};
      req.method = method;
      req.url = t->storage_url + path;
      req.headers = headers;
      req.headers.emplace_back("X-Auth-Token", t->token);
      req.sink = sink;
      auto http = pool_.Get();
      Result<net::HttpResponse> r = http->Send(req);
      if (!r.ok()) return r.status();  // the client's message names the method and URL
      if (r->status != 401 || i == 1) return r;
      force = true;
    }
    return Internal("unreachable");
  }

  Status EnsureContainer(const std::string& container) {
    Result<net::HttpResponse> r = Request("PUT", "/" + net::UrlEncode(container), {});
    if (!r.ok()) return r.status();
    if (!r->ok()) return HttpError(*r, "swift://" + container);
    return Status::Ok();
  }

  // PUTs a file range as one object with its MD5 (`digest`, raw, from the
  // hasher) in the ETag request header, so Swift refuses a body damaged on
  // the way (422, sent again), then checks the answered ETag. Creates the
  // container on a 404.
  Result<std::string> PutFile(const std::string& container, const std::string& name,
                              const std::string& local_path, uint64_t offset, uint64_t length,
                              const std::function<Result<std::string>()>& digest,
                              net::HttpHeaders headers = {}) {
    const std::string what = "swift://" + container + "/" + name;
    Result<std::string> raw = digest();
    if (!raw.ok()) return raw.status().WithContext(what);
    const std::string want = internal::Hex(*raw);
    headers.emplace_back("ETag", want);
    int unprocessable = 0;
    for (int i = 0; i < 4; ++i) {
      net::HttpRequest base;
      base.body_file = local_path;
      base.body_offset = offset;
      base.body_length = length;
      base.body_observer = internal::CountProgress(options_.progress_bytes);
      Result<net::HttpResponse> r =
          Request("PUT", ObjectPath(container, name), headers, nullptr, &base);
      if (!r.ok()) return r.status();
      if (r->status == 404 && i == 0) {
        STOPGAP_RETURN_IF_ERROR(EnsureContainer(container));
        continue;
      }
      if (r->status == 422 && ++unprocessable < 3) continue;  // body damaged on the way
      if (!r->ok()) return HttpError(*r, what);
      std::string got = internal::Unquote(r->Header("etag"));
      if (got != want) {
        return DataLoss(what + ": store answered ETag " + got + ", local MD5 is " + want);
      }
      return got;
    }
    return Internal("unreachable");
  }

  Result<UploadResult> UploadSlo(const std::string& local_path, uint64_t size,
                                 const std::string& key, const ObjectMeta& meta) {
    const std::string seg_container = container_ + "_segments";
    std::vector<internal::Part> parts = internal::PlanParts(size, options_.part_size, 1000);
    std::vector<std::string> etags(parts.size());
    char dir[64];
    std::snprintf(dir, sizeof dir, "/slo/%llu/%llu/", static_cast<unsigned long long>(size),
                  static_cast<unsigned long long>(parts[0].length));
    const std::string seg_prefix = Full(key) + dir;
    auto seg_name = [&](int n) {
      char buf[16];
      std::snprintf(buf, sizeof buf, "%08d", n);
      return seg_prefix + buf;
    };
    internal::PartDigests md5s(hasher_, local_path, parts);
    Status st = internal::RunParts(parts, options_.parallel, [&](const internal::Part& p) {
      const size_t i = static_cast<size_t>(p.number - 1);
      md5s.Start(i);
      net::HttpHeaders seg_headers;
      if (std::string at = DeleteAt(meta); !at.empty()) seg_headers.emplace_back("X-Delete-At", at);
      Result<std::string> e = PutFile(
          seg_container, seg_name(p.number), local_path, p.offset, p.length,
          [&] { return md5s.Get(i); }, seg_headers);
      if (!e.ok()) return e.status();
      etags[i] = *e;
      return Status::Ok();
    });
    if (!st.ok()) return st;
    nlohmann::json manifest = nlohmann::json::array();
    internal::Md5 slo;
    for (const internal::Part& p : parts) {
      const std::string& e = etags[static_cast<size_t>(p.number - 1)];
      slo.Update(e);
      manifest.push_back({{"path", "/" + seg_container + "/" + seg_name(p.number)},
                          {"etag", e},
                          {"size_bytes", p.length}});
    }
    std::string want = internal::Hex(slo.Digest());
    net::HttpRequest base;
    base.body = manifest.dump();
    Result<net::HttpResponse> r =
        Request("PUT", ObjectPath(container_, Full(key)) + "?multipart-manifest=put",
                ObjectHeaders(key, meta), nullptr, &base);
    if (r.ok() && r->status == 404) {
      STOPGAP_RETURN_IF_ERROR(EnsureContainer(container_));
      r = Request("PUT", ObjectPath(container_, Full(key)) + "?multipart-manifest=put",
                  ObjectHeaders(key, meta), nullptr, &base);
    }
    if (!r.ok()) return r.status();
    if (!r->ok()) return HttpError(*r, Describe(key) + " (SLO manifest)");
    // The manifest PUT answers the SLO ETag; HEAD confirms what readers see.
    Result<std::optional<ObjectInfo>> head = Stat(key);
    if (!head.ok()) return head.status();
    if (!head->has_value() || (*head)->etag != want || (*head)->size != size) {
      return DataLoss(Describe(key) + ": SLO ETag " + (head->has_value() ? (*head)->etag : "none") +
                      " != local " + want);
    }
    DeleteStaleSegments(seg_container, Full(key) + "/slo/", seg_prefix);
    return UploadResult{want, static_cast<int>(parts.size())};
  }

  // After a verified SLO upload: an earlier upload of this key with another
  // size or segment size left segments the new manifest does not name.
  // Deletes them (best effort: the new object is already complete).
  void DeleteStaleSegments(const std::string& seg_container, const std::string& key_prefix,
                           const std::string& keep_prefix) {
    std::vector<std::string> stale;
    std::string marker;
    for (int page = 0; page < 100'000; ++page) {
      std::string path = "/" + net::UrlEncode(seg_container) +
                         "?format=json&prefix=" + net::UrlEncode(key_prefix) +
                         (marker.empty() ? "" : "&marker=" + net::UrlEncode(marker));
      Result<net::HttpResponse> r = Request("GET", path, {});
      if (!r.ok() || !r->ok()) return;
      Result<SwiftListPage> listed = ParseSwiftListing(r->body, "");
      if (!listed.ok()) return;  // an unreadable listing: delete nothing
      if (listed->last_name.empty()) break;
      marker = listed->last_name;
      for (const ObjectInfo& o : listed->objects) {
        if (!o.key.starts_with(keep_prefix)) stale.push_back(o.key);
      }
    }
    for (const std::string& name : stale) {
      Result<net::HttpResponse> r = Request("DELETE", ObjectPath(seg_container, name), {});
      if (!r.ok() || (!r->ok() && r->status != 404)) {
        Log(LogLevel::kWarn, "could not delete a stale SLO segment",
            {{"object", "swift://" + seg_container + "/" + name},
             {"error", r.ok() ? "HTTP " + std::to_string(r->status) : r.status().ToString()}});
      }
    }
  }

  std::string container_, prefix_;
  StoreOptions options_;
  internal::ClientPool pool_;
  internal::Md5Hasher hasher_;
  std::mutex mu_;
  std::optional<Token> token_;
};

}  // namespace

Result<std::string> FindObjectStoreEndpoint(std::string_view token_json, const std::string& region,
                                            const std::string& interface) {
  try {
    nlohmann::json j = nlohmann::json::parse(token_json);
    for (const auto& svc : j.at("token").at("catalog")) {
      if (svc.value("type", "") != "object-store") continue;
      for (const auto& ep : svc.at("endpoints")) {
        if (ep.value("interface", "") != interface) continue;
        if (!region.empty() && ep.value("region", ep.value("region_id", "")) != region) continue;
        std::string url = ep.value("url", "");
        while (url.ends_with("/")) url.pop_back();
        if (!url.empty()) return url;
      }
    }
  } catch (const std::exception& e) {
    return DataLoss(std::string("token catalog: ") + e.what());
  }
  return NotFound("no " + interface + " object-store endpoint" +
                  (region.empty() ? "" : " in region " + region) + " in the token's catalog");
}

Result<std::unique_ptr<ObjectStore>> NewSwiftStore(const std::string& container,
                                                   const std::string& prefix,
                                                   const StoreOptions& options) {
  if (options.getenv("ST_AUTH").empty() && options.getenv("OS_AUTH_URL").empty()) {
    return FailedPrecondition(
        "no Swift credentials: set ST_AUTH, ST_USER and ST_KEY (TempAuth v1) or OS_AUTH_URL, "
        "OS_USERNAME, OS_PASSWORD, OS_PROJECT_NAME (Keystone v3)");
  }
  return std::unique_ptr<ObjectStore>(new SwiftStore(container, prefix, options));
}

}  // namespace stopgap::logship
