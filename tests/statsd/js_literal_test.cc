// ParseJsLiteral: the JavaScript literal subset of reference config files,
// and errors with line and column for everything else.
#include "statsd/js_literal.h"

#include <gtest/gtest.h>

#include <cmath>

namespace stopgap::statsd {
namespace {

JsValue Parse(std::string_view text) {
  Result<JsValue> v = ParseJsLiteral(text);
  EXPECT_TRUE(v.ok()) << v.status().ToString() << "\n" << text;
  return v.ok() ? *v : JsValue{};
}

std::string Error(std::string_view text) {
  Result<JsValue> v = ParseJsLiteral(text);
  EXPECT_FALSE(v.ok()) << text;
  return v.ok() ? "" : v.status().message();
}

TEST(JsLiteralTest, CommentsKeysQuotesCommas) {
  JsValue v = Parse(
      "/* a block\n comment */\n"
      "// a line comment\n"
      "{\n"
      "  graphitePort: 2003   // trailing comment\n"
      ", 'single': 'it\\'s'\n"
      ", \"double\": \"a\\tb\\u00e9\\x41\\u{1F600}\"\n"
      ", $id_1: `back`,\n"
      "  nested: { list: [1, 'two', [3], {four: 4},], },\n"
      "  t: true, f: false, n: null, u: undefined,\n"
      "}\n;\n");
  ASSERT_EQ(v.type, JsValue::Type::kObject);
  EXPECT_EQ(v.Get("graphitePort")->number, 2003);
  EXPECT_EQ(v.Get("single")->string, "it's");
  EXPECT_EQ(v.Get("double")->string,
            "a\tb\xC3\xA9"
            "A\xF0\x9F\x98\x80");
  EXPECT_EQ(v.Get("$id_1")->string, "back");
  const JsValue* list = v.Get("nested")->Get("list");
  ASSERT_EQ(list->items.size(), 4u);  // the trailing comma adds nothing
  EXPECT_EQ(list->items[1].string, "two");
  EXPECT_EQ(list->items[2].items[0].number, 3);
  EXPECT_EQ(list->items[3].Get("four")->number, 4);
  EXPECT_TRUE(v.Get("t")->boolean);
  EXPECT_EQ(v.Get("f")->type, JsValue::Type::kBool);
  EXPECT_EQ(v.Get("n")->type, JsValue::Type::kNull);
  EXPECT_EQ(v.Get("u")->type, JsValue::Type::kUndefined);
  EXPECT_EQ(v.Get("graphitePort")->line, 5);
  EXPECT_EQ(v.Get("graphitePort")->column, 17);
}

TEST(JsLiteralTest, NumbersAsJavaScriptWritesThem) {
  JsValue v = Parse(
      "{a: 1e3, b: .5, c: 5., d: 0x1F, e: 0o17, f: 0b101, g: 017, h: 019, i: 1_000,"
      " j: -10, k: +2.5, l: -Infinity, m: NaN, n: 99.9, o: 1E-2, p: - 3}");
  EXPECT_EQ(v.Get("a")->number, 1000);
  EXPECT_EQ(v.Get("b")->number, 0.5);
  EXPECT_EQ(v.Get("c")->number, 5);
  EXPECT_EQ(v.Get("d")->number, 31);
  EXPECT_EQ(v.Get("e")->number, 15);
  EXPECT_EQ(v.Get("f")->number, 5);
  EXPECT_EQ(v.Get("g")->number, 15);  // legacy octal (the reference evals in sloppy mode)
  EXPECT_EQ(v.Get("h")->number, 19);  // not octal: has a 9
  EXPECT_EQ(v.Get("i")->number, 1000);
  EXPECT_EQ(v.Get("j")->number, -10);
  EXPECT_EQ(v.Get("k")->number, 2.5);
  EXPECT_TRUE(std::isinf(v.Get("l")->number) && v.Get("l")->number < 0);
  EXPECT_TRUE(std::isnan(v.Get("m")->number));
  EXPECT_EQ(v.Get("n")->number, 99.9);
  EXPECT_EQ(v.Get("o")->number, 0.01);
  EXPECT_EQ(v.Get("p")->number, -3);
}

TEST(JsLiteralTest, LaxCommaStyleAndDuplicateKeys) {
  // exampleConfig.js's style: commas first. A repeated key keeps the last value.
  JsValue v = Parse("{\n  port: 8125\n, port: 9125\n, backends: [ \"./backends/graphite\" ]\n}");
  EXPECT_EQ(v.members.size(), 2u);
  EXPECT_EQ(v.Get("port")->number, 9125);
  EXPECT_EQ(Parse("({a: 1})").Get("a")->number, 1);
}

TEST(JsLiteralTest, ErrorsNameLineAndColumn) {
  EXPECT_EQ(Error("{\n  globalSuffix: require('os').hostname()\n}"),
            "line 2, column 17: `require` is JavaScript code, not a value; stopgap reads "
            "literal values only (write the value it computes)");
  EXPECT_EQ(Error("{ a: 1\n  b: 2 }"), "line 2, column 3: expected `,` or `}`, found `b`");
  EXPECT_EQ(Error("{ a: 'x }"), "line 1, column 6: string is never closed");
  EXPECT_EQ(Error("{ a: [1, 2 }"), "line 1, column 12: expected `,` or `]`, found `}`");
  EXPECT_EQ(Error("{ a: 1 "), "line 1, column 1: object `{` is never closed");
  EXPECT_EQ(Error("/* x"), "line 1, column 1: comment `/*` is never closed");
  EXPECT_EQ(Error("[1]"), "line 1, column 1: expected the configuration object `{ ... }`");
  EXPECT_EQ(Error("{} x"), "line 1, column 4: unexpected text after the configuration object");
  EXPECT_EQ(Error("{a: 10px}"), "line 1, column 5: `10px` is not a number");
  EXPECT_EQ(Error("{a: `${x}`}"),
            "line 1, column 6: `${...}` is JavaScript code; write the value it computes");
  EXPECT_EQ(Error("{a: 1 + 2}"), "line 1, column 7: expected `,` or `}`, found `+`");
  EXPECT_EQ(Error("{a: 'x\ny'}"), "line 1, column 7: line break inside a string");
  EXPECT_EQ(Error("{a b}"), "line 1, column 4: expected `:` after the key \"a\"");
}

TEST(JsLiteralTest, DeepNestingIsAnErrorNotACrash) {
  std::string deep = "{a: " + std::string(1000, '[') + std::string(1000, ']') + "}";
  EXPECT_NE(Error(deep).find("nested more than 64 levels"), std::string::npos);
}

}  // namespace
}  // namespace stopgap::statsd
