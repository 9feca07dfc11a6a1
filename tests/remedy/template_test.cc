// Label templates: whole-argument only, safe values only.
#include "remedy/template.h"

#include <fstream>

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

TEST(TemplateTest, OptionInjectionRefusedWithoutSchema) {
  // Each of these passed the character check before, and reached argv:
  // ssh "{{labels.host}}", kill -TERM "{{labels.pid}}", rm -r "{{labels.dir}}".
  for (const char* bad : {"--force", "-1", "--output=/etc/x", "-oProxyCommand=x", "-", "..",
                          "../..", "a/../b", "/var/../etc", "x/.."}) {
    Result<std::vector<std::string>> r = SubstituteLabels({"x", "{{labels.a}}"}, {{"a", bad}});
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
    if (std::string_view(bad).size() > 2) {  // "-" and ".." are in the rule's text
      EXPECT_EQ(r.status().message().find(bad), std::string::npos) << "value echoed";
    }
  }
  // Dots that are not a ".." segment stay allowed.
  for (const char* ok : {"a..b", "v1..2", "./x", "...", "host.example.org", "a-b"}) {
    EXPECT_TRUE(IsSafeLabelValue(ok)) << ok;
  }
}

TEST(TemplateTest, SchemaPatternIsAnchoredAndDecides) {
  Result<LabelSchema> s = LabelSchema::FromPattern("nova-[a-z]+");
  ASSERT_TRUE(s.ok());
  LabelSchemas schemas{{"svc", *s}};
  EXPECT_TRUE(SubstituteLabels({"{{labels.svc}}"}, {{"svc", "nova-compute"}}, schemas).ok());
  // Anchored: a match inside the value is not enough.
  EXPECT_FALSE(SubstituteLabels({"{{labels.svc}}"}, {{"svc", "xnova-compute"}}, schemas).ok());
  EXPECT_FALSE(SubstituteLabels({"{{labels.svc}}"}, {{"svc", "nova-computeX"}}, schemas).ok());
  // A schema may allow what the default rule refuses, on purpose...
  Result<LabelSchema> pid = LabelSchema::FromPattern("-?[0-9]{1,7}");
  ASSERT_TRUE(pid.ok());
  EXPECT_TRUE(SubstituteLabels({"{{labels.p}}"}, {{"p", "-1"}}, {{"p", *pid}}).ok());
  // ...but never NUL, CR, LF, empty or over 256 bytes.
  Result<LabelSchema> any = LabelSchema::FromPattern("[^]*");
  ASSERT_TRUE(any.ok());
  EXPECT_TRUE(any->Allows("a b"));
  for (std::string bad : {std::string("a\nb"), std::string("a\rb"), std::string("a\0b", 3),
                          std::string(), std::string(257, 'a')}) {
    EXPECT_FALSE(any->Allows(bad)) << bad;
  }
  EXPECT_FALSE(LabelSchema::FromPattern("(").ok());
}

TEST(TemplateTest, SchemaValues) {
  LabelSchemas schemas{{"sig", LabelSchema::FromValues({"HUP", "USR1"})}};
  EXPECT_TRUE(SubstituteLabels({"{{labels.sig}}"}, {{"sig", "HUP"}}, schemas).ok());
  Result<std::vector<std::string>> r =
      SubstituteLabels({"{{labels.sig}}"}, {{"sig", "KILL"}}, schemas);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("schema"), std::string::npos) << r.status().message();
}

TEST(TemplateTest, RecordedArgvUsesMaskedLabels) {
  EXPECT_EQ(RecordedArgv({"curl", "-H", "{{labels.api_token}}", "{{labels.host}}"},
                         {{"api_token", "***"}, {"host", "db1"}}),
            (std::vector<std::string>{"curl", "-H", "***", "db1"}));
}

// The shared corpus of hostile values (tests/security/labels/payloads.txt):
// every one is refused by a label without a schema.
std::string Unescape(const std::string& line) {
  std::string out;
  for (size_t i = 0; i < line.size(); ++i) {
    if (line[i] != '\\' || i + 1 == line.size()) {
      out += line[i];
      continue;
    }
    char c = line[++i];
    if (c == 'n') {
      out += '\n';
    } else if (c == 'r') {
      out += '\r';
    } else if (c == 't') {
      out += '\t';
    } else if (c == 'x' && i + 2 < line.size() + 1) {
      out += static_cast<char>(std::stoi(line.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

TEST(TemplateTest, LabelCorpusAllRefused) {
  std::ifstream in(STOPGAP_LABEL_CORPUS);
  ASSERT_TRUE(in) << STOPGAP_LABEL_CORPUS;
  int n = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::string value = Unescape(line);
    ++n;
    EXPECT_FALSE(IsSafeLabelValue(value)) << "line: " << line;
    Result<std::vector<std::string>> r =
        SubstituteLabels({"kill", "-TERM", "{{labels.pid}}"}, {{"pid", value}});
    EXPECT_FALSE(r.ok()) << "line: " << line;
  }
  EXPECT_GE(n, 50);
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
