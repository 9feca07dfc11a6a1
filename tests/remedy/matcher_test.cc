// Alert -> workaround matching and its precedence.
#include "remedy/matcher.h"

#include "gtest/gtest.h"

namespace stopgap::remedy {
namespace {

Workaround W(std::string id, std::string alertname, std::map<std::string, std::string> labels) {
  Workaround w;
  w.id = std::move(id);
  w.match = MatchRule{std::move(alertname), std::move(labels)};
  return w;
}

Alert A(std::string name, std::map<std::string, std::string> labels) {
  Alert a;
  a.name = std::move(name);
  a.labels = std::move(labels);
  return a;
}

TEST(MatcherTest, NameAndLabelsMustMatch) {
  Workaround w = W("x", "NovaRPC", {{"severity", "critical"}});
  EXPECT_TRUE(Matches(w, A("NovaRPC", {{"severity", "critical"}, {"host", "a"}})));
  EXPECT_FALSE(Matches(w, A("NovaRPC", {{"severity", "warning"}})));
  EXPECT_FALSE(Matches(w, A("NovaRPC", {})));
  EXPECT_FALSE(Matches(w, A("Other", {{"severity", "critical"}})));
  // Name from the alertname label when the alert has none.
  EXPECT_TRUE(Matches(w, A("", {{"alertname", "NovaRPC"}, {"severity", "critical"}})));
}

TEST(MatcherTest, NoMatchSectionMeansManualOnly) {
  Workaround w;
  w.id = "manual";
  EXPECT_FALSE(Matches(w, A("", {})));
}

TEST(MatcherTest, MostSpecificFirstThenCatalogOrder) {
  Catalog c;
  c.workarounds = {W("generic", "Disk", {}), W("specific", "Disk", {{"dev", "sda"}}),
                   W("generic2", "Disk", {}), W("other", "Net", {})};
  Alert a = A("Disk", {{"dev", "sda"}});
  std::vector<const Workaround*> m = MatchWorkarounds(c, a);
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[0]->id, "specific");
  EXPECT_EQ(m[1]->id, "generic");
  EXPECT_EQ(m[2]->id, "generic2");
  EXPECT_EQ(BestMatch(c, a)->id, "specific");
  EXPECT_EQ(BestMatch(c, A("Cpu", {})), nullptr);
}

}  // namespace
}  // namespace stopgap::remedy
