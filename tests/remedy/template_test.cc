// Label templates: whole-argument only, safe values only.
#include "remedy/template.h"

#include "gtest/gtest.h"

namespace stopgap::remedy {
namespace {

TEST(TemplateTest, SafeValues) {
  for (const char* ok :
       {"nova-compute", "a", "host.example.org:8080", "user@host", "a/b+c=d", "v1.2_3"}) {
    EXPECT_TRUE(IsSafeLabelValue(ok)) << ok;
  }
  EXPECT_TRUE(IsSafeLabelValue(std::string(256, 'a')));
  EXPECT_FALSE(IsSafeLabelValue(std::string(257, 'a')));
  for (const char* bad : {"", "a b", "$(touch /tmp/x)", "`id`", "a;b", "a|b", "a&b", "'q'", "\"q\"",
                          "a\nb", "a\tb", "*", "~root", "a>b", "{x}", "%s"}) {
    EXPECT_FALSE(IsSafeLabelValue(bad)) << bad;
  }
}

TEST(TemplateTest, Substitutes) {
  Result<std::vector<std::string>> r =
      SubstituteLabels({"systemctl", "restart", "{{labels.service}}", "{{ labels.x }}"},
                       {{"service", "nova-compute"}, {"x", "y"}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, (std::vector<std::string>{"systemctl", "restart", "nova-compute", "y"}));
}

TEST(TemplateTest, UnsafeValueRefused) {
  Result<std::vector<std::string>> r =
      SubstituteLabels({"echo", "{{labels.service}}"}, {{"service", "$(touch /tmp/x)"}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(r.status().message().find("touch"), std::string::npos) << "value echoed";
}

TEST(TemplateTest, OptionInjectionAsOneArgumentOnly) {
  // "--force" passes the character check, but stays one argument.
  Result<std::vector<std::string>> r = SubstituteLabels({"x", "{{labels.a}}"}, {{"a", "--force"}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->size(), 2u);
}

TEST(TemplateTest, MissingLabelRefused) {
  EXPECT_FALSE(SubstituteLabels({"{{labels.a}}"}, {}).ok());
}

TEST(TemplateTest, NonTemplatesUntouched) {
  Result<std::vector<std::string>> r = SubstituteLabels({"{labels.a}", "labels.a"}, {{"a", "b"}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, (std::vector<std::string>{"{labels.a}", "labels.a"}));
}

TEST(TemplateTest, Validate) {
  EXPECT_TRUE(ValidateTemplateArg("plain").ok());
  EXPECT_TRUE(ValidateTemplateArg("{{labels.service}}").ok());
  EXPECT_FALSE(ValidateTemplateArg("{{alert.name}}").ok());
  EXPECT_FALSE(ValidateTemplateArg("x{{labels.a}}").ok());
  EXPECT_FALSE(ValidateTemplateArg("{{labels.a}}{{labels.b}}").ok());
  EXPECT_FALSE(ValidateTemplateArg("{{labels.}}").ok());
  EXPECT_FALSE(ValidateTemplateArg("{{labels.a-b}}").ok());
  EXPECT_FALSE(ValidateTemplateArg("}}").ok());
}

}  // namespace
}  // namespace stopgap::remedy
