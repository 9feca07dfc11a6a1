// HttpClient over one libcurl easy handle (kept between requests so the
// connection is reused). Retries with exponential backoff and full jitter.
// Thread safety: one client per thread; curl_global_init runs once.
#include "net/http_client.h"
#include "core/strings.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <random>
#include <thread>

namespace stopgap::net {
namespace {

constexpr size_t kErrorBodyCap = 1 << 20;

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool RetryableCurlCode(CURLcode c) {
  switch (c) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
  }
}

// Per-attempt transfer state shared with the curl callbacks.
struct Transfer {
  const HttpRequest* req = nullptr;
  HttpResponse* resp = nullptr;
  int fd = -1;
  uint64_t remaining = 0;     // body_file bytes left
  std::string_view mem_body;  // string body left (PUT/other uploads)
  Status sink_error;
  uint64_t max_body = 0;  // in-memory body cap (HttpClientOptions::max_response_bytes)
  bool to_sink = false;
  bool status_seen = false;
};

size_t ReadCallback(char* buf, size_t size, size_t n, void* userdata) {
  auto* t = static_cast<Transfer*>(userdata);
  size_t cap = size * n;
  if (t->fd >= 0) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(cap, t->remaining));
    if (want == 0) return 0;
    ssize_t got;
    do {
      got = ::read(t->fd, buf, want);
    } while (got < 0 && errno == EINTR);
    if (got <= 0) return CURL_READFUNC_ABORT;  // file shrank or I/O error
    t->remaining -= static_cast<uint64_t>(got);
    if (t->req->body_observer) t->req->body_observer(std::string_view(buf, got));
    return static_cast<size_t>(got);
  }
  size_t k = std::min(cap, t->mem_body.size());
  std::memcpy(buf, t->mem_body.data(), k);
  t->mem_body.remove_prefix(k);
  return k;
}

// curl rewinds the body itself when it re-sends a request inside one
// attempt (a kept-alive connection found dead mid-upload, a 100-continue
// refused): without this it gives up with "rewinding of the data stream
// failed", which is not retried.
int SeekCallback(void* userdata, curl_off_t offset, int origin) {
  auto* t = static_cast<Transfer*>(userdata);
  if (origin != SEEK_SET || offset < 0) return CURL_SEEKFUNC_CANTSEEK;
  const auto off = static_cast<uint64_t>(offset);
  if (t->fd >= 0) {
    if (off > t->req->body_length) return CURL_SEEKFUNC_FAIL;
    if (::lseek(t->fd, static_cast<off_t>(t->req->body_offset + off), SEEK_SET) < 0) {
      return CURL_SEEKFUNC_FAIL;
    }
    t->remaining = t->req->body_length - off;
    return CURL_SEEKFUNC_OK;
  }
  if (off > t->req->body.size()) return CURL_SEEKFUNC_FAIL;
  t->mem_body = std::string_view(t->req->body).substr(off);
  return CURL_SEEKFUNC_OK;
}

// Seconds of a Retry-After header (delta-seconds only), -1 when absent.
int64_t RetryAfterMs(const HttpResponse& r) {
  std::string v = r.Header("retry-after");
  if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos || v.size() > 6) {
    return -1;
  }
  return std::stoll(v) * 1000;
}

size_t HeaderCallback(char* buf, size_t size, size_t n, void* userdata) {
  auto* t = static_cast<Transfer*>(userdata);
  size_t len = size * n;
  std::string_view line(buf, len);
  if (line.starts_with("HTTP/")) {
    // A new response (after 100 Continue or a redirect): start its headers over.
    t->resp->headers.clear();
    size_t sp = line.find(' ');
    t->resp->status =
        sp == std::string_view::npos ? 0 : std::atoi(std::string(line.substr(sp + 1, 3)).c_str());
    t->status_seen = true;
    return len;
  }
  size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    t->resp->headers.emplace_back(Lower(TrimWhitespace(line.substr(0, colon))),
                                  std::string(TrimWhitespace(line.substr(colon + 1))));
  }
  return len;
}

size_t WriteCallback(char* buf, size_t size, size_t n, void* userdata) {
  auto* t = static_cast<Transfer*>(userdata);
  size_t len = size * n;
  int st = t->resp->status;
  if (t->req->sink != nullptr && st >= 200 && st < 300) {
    t->to_sink = true;
    Status s = t->req->sink->Write(std::string_view(buf, len));
    if (!s.ok()) {
      t->sink_error = s;
      return 0;  // aborts the transfer
    }
    return len;
  }
  if (t->req->sink == nullptr) {
    if (t->resp->body.size() + len > t->max_body) {
      t->sink_error =
          ResourceExhausted(t->req->method + " " + t->req->url + ": response body larger than " +
                            std::to_string(t->max_body) + " bytes; refused");
      return 0;  // aborts the transfer
    }
    t->resp->body.append(buf, len);
  } else if (t->resp->body.size() < kErrorBodyCap) {
    t->resp->body.append(buf, len);
  }
  return len;
}

}  // namespace

std::string HttpResponse::Header(std::string_view name) const {
  std::string want = Lower(name);
  for (const auto& [k, v] : headers) {
    if (k == want) return v;
  }
  return "";
}

std::string UrlEncode(std::string_view s, bool keep_slash) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() * 3 / 2);
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' ||
        (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

struct HttpClient::Impl {
  CURL* curl = nullptr;
  std::mt19937_64 rng{std::random_device{}()};
};

HttpClient::HttpClient(HttpClientOptions options)
    : options_(std::move(options)), impl_(std::make_unique<Impl>()) {
  GlobalInit();
  impl_->curl = curl_easy_init();
  if (!options_.sleep) {
    options_.sleep = [](Duration d) { std::this_thread::sleep_for(d); };
  }
  if (options_.max_attempts < 1) options_.max_attempts = 1;
}

HttpClient::~HttpClient() {
  if (impl_->curl != nullptr) curl_easy_cleanup(impl_->curl);
}

Result<HttpResponse> HttpClient::Send(const HttpRequest& req) {
  CURL* c = impl_->curl;
  if (c == nullptr) return Internal("curl_easy_init failed");
  const int attempts = req.retry ? options_.max_attempts : 1;
  Status last_error;
  Duration wait_hint{-1};  // the last answer's Retry-After, when it had one
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    if (attempt > 1 && wait_hint.count() >= 0) {
      options_.sleep(wait_hint);
      wait_hint = Duration(-1);
    } else if (attempt > 1) {
      // Full jitter: sleep uniformly in [0, min(max, initial * 2^(n-2))].
      int64_t cap = options_.initial_backoff.count() << std::min(attempt - 2, 20);
      cap = std::min<int64_t>(cap, options_.max_backoff.count());
      std::uniform_int_distribution<int64_t> dist(cap / 2, std::max<int64_t>(cap, 1));
      options_.sleep(Duration(dist(impl_->rng)));
    }
    HttpResponse resp;
    resp.attempts = attempt;
    Transfer t;
    t.req = &req;
    t.resp = &resp;
    t.max_body = options_.max_response_bytes;
    if (req.sink != nullptr && attempt > 1) {
      Status s = req.sink->Reset();
      if (!s.ok()) return s;
    }
    if (req.body_restart) req.body_restart();
    if (!req.body_file.empty()) {
      t.fd = ::open(req.body_file.c_str(), O_RDONLY | O_CLOEXEC);
      if (t.fd < 0) return ErrnoStatus("open " + req.body_file, errno);
      if (req.body_offset != 0 &&
          ::lseek(t.fd, static_cast<off_t>(req.body_offset), SEEK_SET) < 0) {
        int e = errno;
        ::close(t.fd);
        return ErrnoStatus("seek " + req.body_file, e);
      }
      ::posix_fadvise(t.fd, static_cast<off_t>(req.body_offset),
                      static_cast<off_t>(req.body_length), POSIX_FADV_SEQUENTIAL);
      t.remaining = req.body_length;
    } else {
      t.mem_body = req.body;
    }

    curl_easy_reset(c);  // keeps the connection cache
    curl_easy_setopt(c, CURLOPT_URL, req.url.c_str());
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, options_.user_agent.c_str());
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(options_.connect_timeout.count()));
    Duration total = req.timeout.count() > 0 ? req.timeout : options_.timeout;
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(total.count()));
    if (options_.low_speed_bytes > 0) {
      curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, options_.low_speed_bytes);
      curl_easy_setopt(
          c, CURLOPT_LOW_SPEED_TIME,
          static_cast<long>(std::max<int64_t>(1, options_.low_speed_time.count() / 1000)));
    }
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, options_.verify_tls ? 1L : 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, options_.verify_tls ? 2L : 0L);
    if (!options_.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, options_.ca_file.c_str());
    if (options_.max_send_bytes_per_sec > 0) {
      curl_easy_setopt(c, CURLOPT_MAX_SEND_SPEED_LARGE,
                       static_cast<curl_off_t>(options_.max_send_bytes_per_sec));
    }
    if (options_.max_recv_bytes_per_sec > 0) {
      curl_easy_setopt(c, CURLOPT_MAX_RECV_SPEED_LARGE,
                       static_cast<curl_off_t>(options_.max_recv_bytes_per_sec));
    }
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, HeaderCallback);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, WriteCallback);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(c, CURLOPT_BUFFERSIZE, 256L * 1024);

    const bool has_body = !req.body_file.empty() || !req.body.empty();
    const bool upload =
        !req.body_file.empty() || (req.method != "POST" && has_body) || req.method == "PUT";
    if (req.method == "HEAD") {
      curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (req.method == "POST" && req.body_file.empty()) {
      curl_easy_setopt(c, CURLOPT_POST, 1L);
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, req.body.data());
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
    } else if (upload) {
      curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
      curl_easy_setopt(c, CURLOPT_READFUNCTION, ReadCallback);
      curl_easy_setopt(c, CURLOPT_READDATA, &t);
      curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, SeekCallback);
      curl_easy_setopt(c, CURLOPT_SEEKDATA, &t);
      curl_easy_setopt(c, CURLOPT_UPLOAD_BUFFERSIZE, 2L * 1024 * 1024);
      curl_off_t len = !req.body_file.empty() ? static_cast<curl_off_t>(req.body_length)
                                              : static_cast<curl_off_t>(req.body.size());
      curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, len);
      if (req.method != "PUT") curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req.method.c_str());
    } else if (req.method != "GET") {
      curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req.method.c_str());
    }

    curl_slist* hdrs = nullptr;
    bool has_expect = false;
    for (const auto& [k, v] : req.headers) {
      if (Lower(k) == "expect") has_expect = true;
      std::string line = v.empty() ? k + ";" : k + ": " + v;
      hdrs = curl_slist_append(hdrs, line.c_str());
    }
    // No 100-continue round trip for small bodies; big ones keep it so an auth
    // failure is answered before the body is sent.
    if (!has_expect && upload &&
        (!req.body_file.empty() ? req.body_length : req.body.size()) < (1u << 20)) {
      hdrs = curl_slist_append(hdrs, "Expect:");
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_EXPECT_100_TIMEOUT_MS, 1000L);

    CURLcode rc = curl_easy_perform(c);
    curl_slist_free_all(hdrs);
    if (t.fd >= 0) ::close(t.fd);

    if (!t.sink_error.ok()) return t.sink_error;
    if (rc != CURLE_OK) {
      std::string what = std::string(req.method) + " " + req.url + ": " + curl_easy_strerror(rc);
      last_error = rc == CURLE_OPERATION_TIMEDOUT ? DeadlineExceeded(what) : Unavailable(what);
      if (RetryableCurlCode(rc) || rc == CURLE_ABORTED_BY_CALLBACK) {
        if (rc == CURLE_ABORTED_BY_CALLBACK) return Internal(what + " (body source failed)");
        continue;
      }
      return last_error;
    }
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    resp.status = static_cast<int>(code);
    if (resp.status >= 500 && attempt < attempts) {
      last_error = Unavailable(req.method + " " + req.url + ": HTTP " + std::to_string(code));
      continue;
    }
    // Throttled (429): retried like a 5xx when the caller says so, after the
    // answer's Retry-After if it gives one within max_backoff; a longer one
    // is the caller's to honour.
    if (resp.status == 429 && options_.retry_throttled && attempt < attempts) {
      int64_t hint = RetryAfterMs(resp);
      if (hint <= options_.max_backoff.count()) {
        if (hint >= 0) wait_hint = Duration(hint);
        continue;
      }
    }
    return resp;
  }
  return last_error;
}

Result<HttpResponse> HttpClient::Get(std::string url, HttpHeaders headers) {
  HttpRequest r;
  r.url = std::move(url);
  r.headers = std::move(headers);
  return Send(r);
}

Result<HttpResponse> HttpClient::Post(std::string url, std::string body, HttpHeaders headers) {
  HttpRequest r;
  r.method = "POST";
  r.url = std::move(url);
  r.body = std::move(body);
  r.headers = std::move(headers);
  r.retry = false;
  return Send(r);
}

Result<HttpResponse> HttpClient::Put(std::string url, std::string body, HttpHeaders headers) {
  HttpRequest r;
  r.method = "PUT";
  r.url = std::move(url);
  r.body = std::move(body);
  r.headers = std::move(headers);
  return Send(r);
}

Result<HttpResponse> HttpClient::Delete(std::string url, HttpHeaders headers) {
  HttpRequest r;
  r.method = "DELETE";
  r.url = std::move(url);
  r.headers = std::move(headers);
  return Send(r);
}

}  // namespace stopgap::net
