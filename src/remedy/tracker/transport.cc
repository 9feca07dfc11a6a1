// The libcurl transport: net::HttpClient behind TrackerHttp.
#include "remedy/tracker/transport.h"

namespace stopgap::remedy::tracker {
namespace {

class CurlTrackerHttp final : public TrackerHttp {
 public:
  explicit CurlTrackerHttp(net::HttpClientOptions options) : client_(std::move(options)) {}
  Result<net::HttpResponse> Send(const net::HttpRequest& request) override {
    return client_.Send(request);
  }

 private:
  net::HttpClient client_;
};

}  // namespace

std::unique_ptr<TrackerHttp> NewCurlTrackerHttp(net::HttpClientOptions options) {
  return std::make_unique<CurlTrackerHttp>(std::move(options));
}

std::unique_ptr<TrackerHttp> NewCurlTrackerHttp() {
  net::HttpClientOptions o;
  o.connect_timeout = Duration(10'000);
  o.timeout = Duration(30'000);
  o.max_attempts = 2;  // the outbox retries later; don't stall the sync loop
  o.initial_backoff = Duration(500);
  o.max_backoff = Duration(2'000);
  return NewCurlTrackerHttp(std::move(o));
}

}  // namespace stopgap::remedy::tracker
