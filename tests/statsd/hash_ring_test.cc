// ProxyHashRing against the reference: the expected nodes below were printed
// by the npm hashring 3.2.0 package configured as proxy.js 0.9.0 configures it
// (node 20: `new HashRing({"127.0.0.1:8127":100, ...}, "md5",
// {"max cache size": 10000, replicas: 0})`, then `ring.get(key)`, and again
// after `ring.remove("127.0.0.1:8129")`).
#include "statsd/hash_ring.h"

#include <gtest/gtest.h>

namespace stopgap::statsd {
namespace {

const std::vector<std::string> kKeys = {"a",
                                        "foo.bar",
                                        "stats.x",
                                        "api.requests",
                                        "users.unique",
                                        "k0",
                                        "k1",
                                        "k2",
                                        "k3",
                                        "k4",
                                        "k5",
                                        "k6",
                                        "k7",
                                        "k8",
                                        "k9",
                                        "glob.\xC3\xA9t\xC3\xA9",
                                        "",
                                        "x;y=z",
                                        "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"};

std::vector<std::string> Route(const ProxyHashRing& ring) {
  std::vector<std::string> out;
  for (const std::string& k : kKeys) out.push_back(*ring.Get(k));
  return out;
}

TEST(ProxyHashRingTest, SameNodesAsProxyJs) {
  const std::string a = "127.0.0.1:8127", b = "127.0.0.1:8129", c = "127.0.0.1:8131";
  ProxyHashRing ring({a, b, c});
  EXPECT_EQ(ring.points(), 120u);
  EXPECT_EQ(Route(ring),
            (std::vector<std::string>{a, b, c, c, a, c, a, b, b, b, b, c, b, a, a, a, c, a, b}));
  ring.Remove(b);  // a failed health check
  EXPECT_EQ(Route(ring),
            (std::vector<std::string>{a, a, c, c, a, c, a, c, c, c, a, c, c, a, a, a, c, a, a}));
  ring.Add(b);  // healthy again: back to the first mapping
  EXPECT_EQ(*ring.Get("foo.bar"), b);
  EXPECT_EQ(ProxyHashRing({}).Get("x"), nullptr);
}

}  // namespace
}  // namespace stopgap::statsd
