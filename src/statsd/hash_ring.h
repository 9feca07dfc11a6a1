// ProxyHashRing: the consistent-hash ring of the reference's proxy.js (the
// npm `hashring` 3.2.0 package as proxy.js configures it: every node weight
// 100, 40 virtual points per node, one point per MD5 digest, keys hashed with
// MD5 of their UTF-8 bytes, hashring's own binary search), so that a stopgap
// proxy and proxy.js send each metric name to the same StatsD node, before
// and after a node leaves or rejoins the ring. The first brick of
// `stopgap statsd proxy` (not built yet: docs/statsd.md).
//
//   ProxyHashRing ring({"127.0.0.1:8127", "127.0.0.1:8129"});
//   const std::string* node = ring.Get("api.requests");   // nullptr: empty ring
//
// Thread safety: const methods may run concurrently; Add/Remove need exclusive use.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace stopgap::statsd {

class ProxyHashRing {
 public:
  // nodes: "host:port", as proxy.js names them; order as in its config.
  explicit ProxyHashRing(std::vector<std::string> nodes);

  // The node for a metric name (the text before the line's first ':').
  const std::string* Get(std::string_view key) const;
  // Health checks take a node out and put it back (appended, as hashring's add()).
  void Remove(std::string_view node);
  void Add(const std::string& node);
  const std::vector<std::string>& nodes() const { return nodes_; }
  size_t points() const { return ring_.size(); }

 private:
  struct Point {
    uint32_t value;
    uint32_t node;  // index into nodes_
  };
  void Build();
  size_t Find(uint32_t hash) const;

  std::vector<std::string> nodes_;
  std::vector<Point> ring_;
};

// hashring's hashValue(): the first four MD5 bytes, little-endian.
uint32_t ProxyHashValue(std::string_view key);

}  // namespace stopgap::statsd
