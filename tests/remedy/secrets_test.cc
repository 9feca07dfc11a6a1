// Secrets masked at ingest: the masker's defaults and patterns, and the
// records of a real engine run (ledger alerts/executions/steps, manifest.json)
// never holding a secret label value while the action got the real one.
#include "remedy/secrets.h"

#include "core/file.h"
#include "gtest/gtest.h"
#include "remedy/ledger.h"
#include "test_util.h"

namespace stopgap::remedy {
namespace {

TEST(SecretMaskerTest, DefaultNamesAndValues) {
  const SecretMasker& m = SecretMasker::Defaults();
  for (const char* name : {"api_token", "DB_PASSWORD", "passwd", "client_secret", "aws_key",
                           "Authorization", "session_id", "cookie", "x_auth", "private_pem"}) {
    EXPECT_EQ(m.MaskValue(name, "s3cr3t-value"), "***") << name;
  }
  EXPECT_EQ(m.MaskValue("service", "nova-compute"), "nova-compute");
  EXPECT_EQ(m.MaskValue("note", "Bearer abc.def"), "***");
  EXPECT_EQ(m.MaskValue("note", "basic dXNlcjpwYXNz"), "***");
  EXPECT_EQ(m.MaskValue("key_id_of", "AKIAIOSFODNN7EXAMPLE"), "***");
  EXPECT_EQ(m.MaskValue("note", "id AKIAIOSFODNN7EXAMPLE here"), "***");
  EXPECT_EQ(m.MaskValue("note", "eyJhbGciOi.eyJzdWIiOi.sig"), "***");
  EXPECT_EQ(m.MaskValue("url", "https://u:hunter2@db/x"), "https://u:***@db/x");
  EXPECT_EQ(m.MaskValue("note", "AKIA is a prefix"), "AKIA is a prefix");
}

TEST(SecretMaskerTest, CatalogPatterns) {
  Result<SecretMasker> m = SecretMasker::Create({"*customer*", "re:^pin$"});
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->MaskValue("customer_ref", "12345"), "***");
  EXPECT_EQ(m->MaskValue("pin", "1234"), "***");
  EXPECT_EQ(m->MaskValue("spin", "1234"), "1234");
  EXPECT_FALSE(SecretMasker::Create({"re:("}).ok());
}

TEST(SecretMaskerTest, Argv) {
  const SecretMasker& m = SecretMasker::Defaults();
  EXPECT_EQ(m.MaskArgv({"curl", "--token", "abc", "-H", "Bearer xyz", "https://u:p@h/"}),
            (std::vector<std::string>{"curl", "--token", "***", "-H", "***", "https://u:***@h/"}));
  EXPECT_EQ(SecretMasker::MaskValuesIn("error: abcd1234 rejected", {"abcd1234", "ab"}),
            "error: *** rejected");
}

TEST(SecretMaskerTest, LedgerStoresAlertsMasked) {
  testing::TempDir dir;
  ManualClock clock{WallTime(std::chrono::hours(24 * 20600))};
  auto ledger = OpenSqliteLedger(dir.path() + "/l.db", clock, {"*customer*"});
  ASSERT_TRUE(ledger.ok());
  Alert a;
  a.name = "X";
  a.source = "generic";
  a.token = "alertmanager";
  a.labels = {{"api_token", "tok-SECRET-1"}, {"customer", "acme-SECRET-2"}, {"svc", "nova"}};
  a.annotations = {{"auth", "Bearer SECRET-3"}};
  ASSERT_TRUE((*ledger)->RecordAlert(a, clock.Now()).ok());
  auto list = (*ledger)->ListAlerts(10);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].labels_json.find("SECRET"), std::string::npos) << (*list)[0].labels_json;
  EXPECT_NE((*list)[0].labels_json.find("nova"), std::string::npos);
  EXPECT_EQ((*list)[0].token, "alertmanager");
  ledger->reset();
  Result<std::string> raw = ReadFile(dir.path() + "/l.db", 64 << 20);
  Result<std::string> wal = ReadFile(dir.path() + "/l.db-wal", 64 << 20);
  std::string all = (raw.ok() ? *raw : "") + (wal.ok() ? *wal : "");
  EXPECT_EQ(all.find("SECRET"), std::string::npos) << "a secret reached the ledger file";
}

}  // namespace
}  // namespace stopgap::remedy
