// TrackerHttp: the transport under every tracker adapter. The one real
// implementation delegates to net::HttpClient (libcurl: keep-alive, timeouts,
// retries of 5xx/transport errors with backoff); tests may pass their own to
// inject faults. Tracker-level retries (rate limits, outages) are the outbox's
// job, so the default client retries little.
//
// Thread safety: implementations need not be thread-safe (one per tracker).
#pragma once

#include <memory>

#include "core/status.h"
#include "net/http_client.h"

namespace stopgap::remedy::tracker {

class TrackerHttp {
 public:
  virtual ~TrackerHttp() = default;
  // Transport errors are a non-OK Status; every HTTP answer is a response.
  virtual Result<net::HttpResponse> Send(const net::HttpRequest& request) = 0;
};

// net::HttpClient with tracker-friendly defaults (10 s connect, 30 s total,
// 2 attempts) unless `options` are given.
std::unique_ptr<TrackerHttp> NewCurlTrackerHttp();
std::unique_ptr<TrackerHttp> NewCurlTrackerHttp(net::HttpClientOptions options);

}  // namespace stopgap::remedy::tracker
