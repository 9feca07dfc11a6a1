// HttpClient: a small blocking HTTP/1.1 client over libcurl, shared by every
// stopgap feature that talks HTTP (issue trackers, object stores, webhooks).
//
//   net::HttpClient http;                               // one per thread
//   Result<net::HttpResponse> r = http.Get("http://127.0.0.1:8080/x",
//                                          {{"Accept", "application/json"}});
//   if (!r.ok()) return r.status();                     // transport failure
//   if (r->status != 200) ...                           // HTTP errors are responses
//
// What it does for you: keeps connections alive between requests (one curl
// handle per client), applies connect/total/low-speed timeouts, and retries
// with exponential backoff and full jitter on transport errors, timeouts and
// 5xx answers (never on 4xx). Request bodies come from a string or stream from
// a file range (never loaded whole); response bodies land in a string or
// stream into a sink. Response header names are lower-cased.
//
// Thread safety: an HttpClient is NOT thread-safe; use one per thread (they
// are cheap). Distinct clients may be used concurrently.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "core/time.h"

namespace stopgap::net {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// Where a streamed response body goes. Write() is called with each chunk of a
// 2xx answer; a non-OK status aborts the transfer. Reset() is called before a
// retry so the sink can start over (truncate its file, reset its hash).
class ResponseSink {
 public:
  virtual ~ResponseSink() = default;
  virtual Status Write(std::string_view chunk) = 0;
  virtual Status Reset() = 0;
};

struct HttpRequest {
  std::string method = "GET";  // GET, HEAD, PUT, POST, DELETE, or any token
  std::string url;
  HttpHeaders headers;  // sent as given; "Name:" with an empty value removes a default
  std::string body;     // used unless body_file is set

  // Streams the body from [body_offset, body_offset + body_length) of a file.
  std::string body_file;
  uint64_t body_offset = 0;
  uint64_t body_length = 0;
  // Called with every chunk of body_file as it is sent (e.g. to hash it while
  // reading the file once); body_restart is called before each (re)try.
  std::function<void(std::string_view)> body_observer;
  std::function<void()> body_restart;

  // When set, a 2xx response body streams here instead of HttpResponse::body
  // (other answers still fill body, capped at 1 MiB, for error messages).
  ResponseSink* sink = nullptr;

  // Whether this request may be retried (false for non-idempotent POSTs).
  bool retry = true;
  // Overrides HttpClientOptions::timeout for this request when > 0.
  Duration timeout{0};
};

struct HttpResponse {
  int status = 0;
  HttpHeaders headers;  // names lower-cased, values trimmed, in order
  std::string body;
  int attempts = 0;  // how many tries it took

  // First header named `name` (case-insensitive), or "".
  std::string Header(std::string_view name) const;
  bool ok() const { return status >= 200 && status < 300; }
};

struct HttpClientOptions {
  Duration connect_timeout{10'000};
  Duration timeout{300'000};  // whole request; 0 = none
  // Abort when slower than low_speed_bytes/s for low_speed_time (stalled peer).
  long low_speed_bytes = 1024;
  Duration low_speed_time{30'000};
  int max_attempts = 4;  // 1 = no retries
  // Also retry 429 Too Many Requests (after its Retry-After when that is at
  // most max_backoff). Off by default: the tracker paces itself on 429s.
  bool retry_throttled = false;
  Duration initial_backoff{200};
  Duration max_backoff{10'000};
  uint64_t max_send_bytes_per_sec = 0;  // 0 = unlimited (--bwlimit)
  uint64_t max_recv_bytes_per_sec = 0;
  bool verify_tls = true;
  std::string ca_file;  // extra CA bundle (e.g. AWS_CA_BUNDLE); "" = system
  std::string user_agent = "stopgap/0.1";
  // A response body kept in memory (no sink, or a non-2xx answer) larger
  // than this ends the request with kResourceExhausted: a hostile or broken
  // server cannot make the client hold an unbounded body.
  uint64_t max_response_bytes = 64ull << 20;
  // Sleeps between retries; tests inject a recorder. Defaults to a real sleep.
  std::function<void(Duration)> sleep;
};

class HttpClient {
 public:
  explicit HttpClient(HttpClientOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends `request`, retrying per the options. An error Status means no HTTP
  // answer arrived (connection refused, timeout, a sink error) after all
  // attempts; any HTTP answer, 4xx/5xx included, is a response.
  Result<HttpResponse> Send(const HttpRequest& request);

  Result<HttpResponse> Get(std::string url, HttpHeaders headers = {});
  Result<HttpResponse> Post(std::string url, std::string body, HttpHeaders headers = {});
  Result<HttpResponse> Put(std::string url, std::string body, HttpHeaders headers = {});
  Result<HttpResponse> Delete(std::string url, HttpHeaders headers = {});

  const HttpClientOptions& options() const { return options_; }

 private:
  struct Impl;
  HttpClientOptions options_;
  std::unique_ptr<Impl> impl_;
};

// Percent-encodes everything except RFC 3986 unreserved characters, and '/'
// too unless keep_slash.
std::string UrlEncode(std::string_view s, bool keep_slash = false);

}  // namespace stopgap::net
