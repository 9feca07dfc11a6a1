// The one manifest reader: a stopgap.bundle/2 manifest read back field for
// field, old bundles of both replaced schemas (fixtures in testdata/, as the
// old writers wrote them) read into the same model, and bad input refused
// with the field named.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/file.h"
#include "diag/bundle.h"

namespace stopgap::diag {
namespace {

WallTime At(const char* rfc3339) { return *ParseRfc3339(rfc3339); }

std::string Fixture(const char* name) {
  Result<std::string> text = ReadFile(std::string(DIAG_TESTDATA) + "/" + name);
  EXPECT_TRUE(text.ok()) << text.status().ToString();
  return text.ok() ? *text : "";
}

TEST(ManifestReader, V2RoundTripsEveryField) {
  Manifest m;
  m.host = "node-1";
  m.created_at = At("2027-01-15T08:00:00Z");
  m.finished_at = At("2027-01-15T08:00:09Z");
  m.complete = true;
  m.labels = {{"command", "stopgap run"}};
  ManifestExecution& e = m.execution.emplace();
  e.id = 41;
  e.workaround = "nova-rpc";
  e.issue = "acme/nova#1";
  e.fingerprint = "f00d";
  e.labels = {{"host", "h1"}, {"api_token", "***"}};
  e.state = "succeeded";
  e.diagnostics_finished_at = At("2027-01-15T08:00:02Z");
  m.steps.resize(2);
  ManifestStep& s = m.steps[0];
  s.kind = "collect";
  s.argv = {"collect: [process] stacks"};
  s.outcome = "ok";
  s.started_at = At("2027-01-15T08:00:00Z");
  s.finished_at = At("2027-01-15T08:00:02Z");
  s.duration = std::chrono::milliseconds(2000);
  s.files = {"process-9/stacks.txt"};
  CollectorOutcome& c = s.collectors.emplace_back();
  c.name = "process";
  c.ok = true;
  c.duration = std::chrono::milliseconds(1990);
  c.bytes = 4096;
  c.files = {"process-9/stacks.txt"};
  c.metrics = {{"stack_threads", 41}, {"stack_skipped", 1}};
  c.skipped = {"thread 12: did not stop within 200 ms (state D); not captured, left running"};
  ManifestStep& a = m.steps[1];
  a.phase = "action";
  a.kind = "run";
  a.argv = {"/bin/restart", "nova"};
  a.outcome = "failed";
  a.exit_code = 3;
  a.error = "exit 3";

  Result<Manifest> r = ParseManifest(ManifestToJson(m));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->schema, kManifestSchema);
  EXPECT_EQ(r->version, 2);
  EXPECT_EQ(r->host, "node-1");
  EXPECT_EQ(r->created_at, m.created_at);
  EXPECT_EQ(r->finished_at, m.finished_at);
  EXPECT_TRUE(r->complete);
  EXPECT_EQ(r->labels, m.labels);
  ASSERT_TRUE(r->execution.has_value());
  EXPECT_EQ(r->execution->id, 41);
  EXPECT_EQ(r->execution->workaround, "nova-rpc");
  EXPECT_EQ(r->execution->issue, "acme/nova#1");
  EXPECT_EQ(r->execution->fingerprint, "f00d");
  EXPECT_EQ(r->execution->labels, e.labels);
  EXPECT_EQ(r->execution->state, "succeeded");
  EXPECT_EQ(r->execution->diagnostics_finished_at, e.diagnostics_finished_at);
  ASSERT_EQ(r->steps.size(), 2u);
  const ManifestStep& rs = r->steps[0];
  EXPECT_EQ(rs.phase, "diagnostics");
  EXPECT_EQ(rs.kind, "collect");
  EXPECT_EQ(rs.argv, s.argv);
  EXPECT_EQ(rs.started_at, s.started_at);
  EXPECT_EQ(rs.finished_at, s.finished_at);
  EXPECT_EQ(rs.duration, s.duration);
  EXPECT_EQ(rs.files, s.files);
  EXPECT_FALSE(rs.exit_code.has_value());
  ASSERT_EQ(rs.collectors.size(), 1u);
  EXPECT_EQ(rs.collectors[0].name, "process");
  EXPECT_TRUE(rs.collectors[0].ok);
  EXPECT_EQ(rs.collectors[0].duration, c.duration);
  EXPECT_EQ(rs.collectors[0].bytes, 4096u);
  EXPECT_EQ(rs.collectors[0].metrics, c.metrics);
  EXPECT_EQ(rs.collectors[0].skipped, c.skipped);
  const ManifestStep& ra = r->steps[1];
  EXPECT_EQ(ra.phase, "action");
  EXPECT_EQ(ra.argv, a.argv);
  EXPECT_EQ(ra.outcome, "failed");
  EXPECT_EQ(ra.exit_code, 3);
  EXPECT_EQ(ra.error, "exit 3");
  EXPECT_TRUE(ra.collectors.empty());
  // Written again, the same text: nothing is lost or invented on the way.
  EXPECT_EQ(ManifestToJson(*r), ManifestToJson(m));
}

TEST(ManifestReader, ReadsOldDiagBundles) {
  Result<Manifest> r = ParseManifest(Fixture("manifest-bundle-1.json"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->schema, kManifestSchemaDiagV1);
  EXPECT_EQ(r->version, 1);
  EXPECT_EQ(r->host, "node-7");
  EXPECT_EQ(r->created_at, At("2026-11-02T03:14:07Z"));
  EXPECT_EQ(r->finished_at, At("2026-11-02T03:14:09Z"));
  EXPECT_TRUE(r->complete);
  EXPECT_EQ(r->labels.at("command"), "stopgap diag");
  EXPECT_FALSE(r->execution.has_value());
  // The top-level collectors become the bundle's one collect step.
  ASSERT_EQ(r->steps.size(), 1u);
  const ManifestStep& s = r->steps[0];
  EXPECT_EQ(s.kind, "collect");
  EXPECT_EQ(s.argv, std::vector<std::string>{"collect: [system, process]"});
  EXPECT_EQ(s.outcome, "timeout");
  EXPECT_EQ(s.duration, std::chrono::milliseconds(2000));
  EXPECT_EQ(s.files.size(), 3u);
  ASSERT_EQ(s.collectors.size(), 2u);
  EXPECT_EQ(s.collectors[0].name, "system");
  EXPECT_EQ(s.collectors[0].bytes, 18220u);
  EXPECT_EQ(s.collectors[1].error, "cut off at its time budget of 2s");
  EXPECT_TRUE(s.collectors[1].timed_out);
  EXPECT_EQ(s.collectors[1].metrics.size(), 2u);
}

TEST(ManifestReader, ReadsOldExecutionBundles) {
  Result<Manifest> r = ParseManifest(Fixture("manifest-execution-1.json"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->schema, kManifestSchemaExecutionV1);
  ASSERT_TRUE(r->execution.has_value());
  EXPECT_EQ(r->execution->id, 12);
  EXPECT_EQ(r->execution->workaround, "");
  EXPECT_EQ(r->execution->issue, "acme/nova#4821");
  EXPECT_EQ(r->execution->fingerprint, "a1b2c3d4e5f60718");
  EXPECT_EQ(r->execution->labels.at("api_token"), "***");
  EXPECT_EQ(r->execution->state, "succeeded");
  EXPECT_EQ(r->execution->diagnostics_finished_at, At("2026-11-02T03:20:01Z"));
  EXPECT_EQ(r->created_at, At("2026-11-02T03:20:00Z"));
  EXPECT_EQ(r->finished_at, At("2026-11-02T03:20:03Z"));
  EXPECT_TRUE(r->complete);
  ASSERT_EQ(r->steps.size(), 3u);
  EXPECT_EQ(r->steps[0].kind, "collect");
  EXPECT_TRUE(r->steps[0].collectors.empty());  // execution/1 had no per-collector detail
  EXPECT_EQ(r->steps[1].phase, "action");
  EXPECT_EQ(r->steps[1].exit_code, 0);
  EXPECT_EQ(r->steps[1].argv[0], "/usr/local/bin/restart-conductor");
  EXPECT_EQ(r->steps[2].phase, "verify");
  EXPECT_EQ(r->steps[2].outcome, "failed");
  EXPECT_EQ(r->steps[2].error, "exit 1");
  // Read old, written new: the same content in schema 2.
  Result<Manifest> again = ParseManifest(ManifestToJson(*r));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->schema, kManifestSchema);
  EXPECT_EQ(again->steps.size(), 3u);
  EXPECT_EQ(again->execution->issue, "acme/nova#4821");
}

TEST(ManifestReader, BadInputIsRefusedWithTheFieldNamed) {
  auto error = [](std::string_view text) {
    Result<Manifest> r = ParseManifest(text);
    return r.ok() ? std::string("(accepted)") : r.status().message();
  };
  EXPECT_EQ(error("{"), "manifest: not JSON");
  EXPECT_EQ(error("[]"), "manifest: expected a JSON object");
  EXPECT_NE(error(R"({"schema": "stopgap.bundle/9"})").find("unknown"), std::string::npos);
  EXPECT_NE(error(R"({"schema": "stopgap.bundle/2"})").find("created_at: missing"),
            std::string::npos);
  EXPECT_EQ(error(R"({"schema": "stopgap.bundle/2", "created_at": "2027-01-15T08:00:00Z",
                      "steps": [{"collectors": [{"name": "p", "skipped": [1]}]}]})"),
            "manifest: steps[0].collectors[0].skipped: expected a list of strings");
  EXPECT_EQ(error(R"({"schema": "stopgap.bundle/2", "created_at": "yesterday"})"),
            "manifest: created_at: expected an RFC 3339 time");
  EXPECT_EQ(error(R"({"schema": "stopgap.execution/1", "created_at": "2027-01-15T08:00:00Z",
                      "execution_id": "12"})"),
            "manifest: execution_id: expected an integer");
}

TEST(ManifestReader, ReadManifestNamesTheFile) {
  std::string dir =
      std::filesystem::temp_directory_path() / ("manifest-reader-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  ASSERT_TRUE(WriteFileAtomic(dir + "/manifest.json", "{}", 0600).ok());
  Result<Manifest> r = ReadManifest(dir);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().ToString().find(dir + "/manifest.json"), std::string::npos);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace stopgap::diag
