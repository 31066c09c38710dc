#include "common/config.h"

#include <gtest/gtest.h>

namespace zengen {
namespace {

TEST(ConfigTest, DefaultTextParsesToDefaults) {
  auto c = ParseConfig(DefaultConfigText("zengen.db", "127.0.0.1:0"), "/data");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->listen, "127.0.0.1:0");
  EXPECT_FALSE(c->UsesPostgres());
  EXPECT_EQ(c->SqlitePath(), "/data/zengen.db");
  EXPECT_EQ(c->Resolve("tls/server.crt"), "/data/tls/server.crt");
  EXPECT_EQ(c->max_header_bytes, 16384);
  // The written limits against hostile clients are the built-in ones (issue 13).
  const Config defaults;
  EXPECT_EQ(c->max_connections_per_address, defaults.max_connections_per_address);
  EXPECT_EQ(c->reserved_connections, defaults.reserved_connections);
  EXPECT_EQ(c->body_memory_budget_bytes, defaults.body_memory_budget_bytes);
  EXPECT_EQ(c->handshake_timeout_ms, 5000);
  EXPECT_EQ(c->header_timeout_ms, 5000);
  EXPECT_EQ(c->refusals_per_second_per_address, defaults.refusals_per_second_per_address);
  EXPECT_EQ(c->refusal_burst_per_address, defaults.refusal_burst_per_address);
  EXPECT_EQ(c->refusal_record_interval_ms, defaults.refusal_record_interval_ms);
}

TEST(ConfigTest, RecognisesPostgresUrls) {
  auto c = ParseConfig("database = postgres://u@127.0.0.1:5432/db\n", "/d");
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->UsesPostgres());
}

TEST(ConfigTest, UnknownKeyIsRefusedWithLineAndField) {
  auto c = ParseConfig("listen = 1.2.3.4:1\nlisen = x\n", "/d");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, "config_unknown_key");
  EXPECT_EQ(c.error().field, "lisen");
  EXPECT_NE(c.error().message.find("line 2"), std::string::npos);
}

TEST(ConfigTest, OutOfRangeIntegerIsRefused) {
  auto c = ParseConfig("threads = 0\n", "/d");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().field, "threads");
  EXPECT_FALSE(ParseConfig("max_connections = 12x\n", "/d").ok());
  EXPECT_FALSE(ParseConfig("no equals sign\n", "/d").ok());
}

// Issue 16: the analysis executor is one of the three adapters; anything else names the field.
TEST(ConfigTest, AnalysisExecutorTakesTheSlurmAllocationMode) {
  auto c = ParseConfig("analysis_executor = slurm_allocation\n", "/d");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->analysis_executor, "slurm_allocation");
  auto bad = ParseConfig("analysis_executor = slurm_per_node\n", "/d");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field, "analysis_executor");
}

// Issue 15: region rebuilds run in the server or on the analysis executor; a crowding of 0
// turns the automatic rebuild off; anything else names the field.
TEST(ConfigTest, RegionRebuildsRunInProcessOrOnTheAnalysisExecutor) {
  auto d = ParseConfig("", "/d");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->variants_rebuild_executor, "in_process");
  EXPECT_EQ(d->variants_rebuild_chunks, 16);
  auto c = ParseConfig("variants_rebuild_executor = analysis\nvariants_rebuild_chunks = 0\n", "/d");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->variants_rebuild_executor, "analysis");
  EXPECT_EQ(c->variants_rebuild_chunks, 0);
  for (const char* text : {"variants_rebuild_executor = slurm\n", "variants_rebuild_executor =\n"}) {
    auto bad = ParseConfig(text, "/d");
    ASSERT_FALSE(bad.ok()) << text;
    EXPECT_EQ(bad.error().field, "variants_rebuild_executor");
  }
  auto negative = ParseConfig("variants_rebuild_chunks = -1\n", "/d");
  ASSERT_FALSE(negative.ok());
  EXPECT_EQ(negative.error().field, "variants_rebuild_chunks");
}

// Issue 12 finding 6: ticket URLs come from configuration, never from the Host header.
TEST(ConfigTest, PublicUrlIsConfiguredOrDerivedFromTheListenAddress) {
  auto c = ParseConfig("listen = 0.0.0.0:0\npublic_url = https://zengen.example.jp/\n", "/d");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(PublicBaseUrl(*c, 8443), "https://zengen.example.jp");
  auto d = ParseConfig("listen = 10.0.0.5:0\n", "/d");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(PublicBaseUrl(*d, 9443), "https://10.0.0.5:9443");
  auto e = ParseConfig("listen = [::]:0\n", "/d");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(PublicBaseUrl(*e, 1), "https://localhost:1");
  for (const char* bad : {"http://x", "https://", "https://x?y", "https://u@x", "https://a b"}) {
    auto r = ParseConfig(std::string("public_url = ") + bad + "\n", "/d");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().field, "public_url");
  }
}

TEST(ConfigTest, CommentsAndBlankLinesAreIgnored) {
  auto c = ParseConfig("# comment\n\n  threads = 4   # trailing\n", "/d");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->threads, 4);
}

}  // namespace
}  // namespace zengen
