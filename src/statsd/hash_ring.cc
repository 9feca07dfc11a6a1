// ProxyHashRing: hashring 3.2.0's continuum() and find(), step for step.
#include "statsd/hash_ring.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cmath>

namespace stopgap::statsd {
namespace {

void Md5(std::string_view data, unsigned char out[16]) {
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out, &len, EVP_md5(), nullptr);
}

uint32_t FirstWordLittleEndian(const unsigned char* x) {
  return (static_cast<uint32_t>(x[3]) << 24) | (static_cast<uint32_t>(x[2]) << 16) |
         (static_cast<uint32_t>(x[1]) << 8) | static_cast<uint32_t>(x[0]);
}

}  // namespace

uint32_t ProxyHashValue(std::string_view key) {
  unsigned char d[16];
  Md5(key, d);
  return FirstWordLittleEndian(d);
}

ProxyHashRing::ProxyHashRing(std::vector<std::string> nodes) : nodes_(std::move(nodes)) { Build(); }

void ProxyHashRing::Build() {
  ring_.clear();
  if (nodes_.empty()) return;
  // Every node has weight 100 in proxy.js: percentage = 100 / total, and
  // floor(percentage * 40 * n) points (computed in doubles, as JS does).
  const double total = 100.0 * static_cast<double>(nodes_.size());
  const double percentage = 100.0 / total;
  const auto length =
      static_cast<size_t>(std::floor(percentage * 40.0 * static_cast<double>(nodes_.size())));
  unsigned char d[16];
  for (size_t n = 0; n < nodes_.size(); ++n) {
    for (size_t i = 0; i < length; ++i) {
      Md5(nodes_[n] + "-" + std::to_string(i), d);
      ring_.push_back(Point{FirstWordLittleEndian(d), static_cast<uint32_t>(n)});  // replicas: 1
    }
  }
  // Array.prototype.sort is stable (node >= 11): equal values keep node order.
  std::stable_sort(ring_.begin(), ring_.end(),
                   [](const Point& a, const Point& b) { return a.value < b.value; });
}

size_t ProxyHashRing::Find(uint32_t hash) const {
  // hashring's find(), including its quirks (high = mid - 1; 0 when lost).
  const long size = static_cast<long>(ring_.size());
  long high = size, low = 0;
  while (true) {
    long mid = (low + high) >> 1;
    if (mid == size) return 0;
    uint32_t middle = ring_[static_cast<size_t>(mid)].value;
    uint32_t prev = mid == 0 ? 0 : ring_[static_cast<size_t>(mid - 1)].value;
    if (hash <= middle && hash > prev) return static_cast<size_t>(mid);
    if (middle < hash) {
      low = mid + 1;
    } else {
      high = mid - 1;
    }
    if (low > high) return 0;
  }
}

const std::string* ProxyHashRing::Get(std::string_view key) const {
  if (ring_.empty()) return nullptr;
  return &nodes_[ring_[Find(ProxyHashValue(key))].node];
}

void ProxyHashRing::Remove(std::string_view node) {
  auto it = std::find(nodes_.begin(), nodes_.end(), node);
  if (it == nodes_.end()) return;
  nodes_.erase(it);
  Build();
}

void ProxyHashRing::Add(const std::string& node) {
  if (std::find(nodes_.begin(), nodes_.end(), node) != nodes_.end()) return;
  nodes_.push_back(node);
  Build();
}

}  // namespace stopgap::statsd
