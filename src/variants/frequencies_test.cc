// The portal's allele frequencies per public release and consent class (frequencies.h): the
// job's counts over the released samples of each class, atomic replacement, the next answer
// after a withdrawal, and the differencing attack on the published cells.
#include "variants/frequencies.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "blobs/local_store.h"
#include "common/clock.h"
#include "crypto/crypt4gh.h"
#include "crypto/crypto.h"
#include "portal/attack_testing.h"
#include "portal/suppression.h"
#include "storage/testing.h"
#include "variants/cohort_test_support.h"

namespace zengen::variants {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using portal::Range;
using portal::testing::ReaderSystem;
using portal::testing::Reading;

class FrequenciesTest : public CohortFixture {
 protected:
  void SetUp() override {
    CohortFixture::SetUp();
    if (HasFatalFailure()) return;
    FrequencySources sources{
        .public_releases =
            [this]() -> Result<std::map<std::string, std::vector<std::pair<std::string, std::string>>>> {
          return releases_;
        },
        .classes = [this](const std::string& p) -> Result<ClassMembership> {
          auto it = classes_.find(p);
          return it == classes_.end() ? ClassMembership{} : it->second;
        },
        .consent_changes = [this]() { return Result<int64_t>(consent_changes_); }};
    frequencies_ = std::make_unique<PublicFrequencies>(*store_, *cohort_, clock_, audit_,
                                                       std::move(sources),
                                                       PublicFrequencies::Options{.window = 60000});
  }
  void TearDown() override {
    frequencies_.reset();
    CohortFixture::TearDown();
  }

  // Participant P<i> with file FL-<i>: het at chrT:100 A>G, hom at chrT:200 C>T when `hom`.
  void Sample(int i, bool hom = false) {
    const std::string pid = fmt::format("P{}", i);
    AddParticipant(pid);
    const fs::path path = dir_ / (pid + ".vcf");
    std::ofstream out(path);
    out << "##fileformat=VCFv4.2\n##contig=<ID=chrT,length=1000>\n"
           "##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">\n"
           "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS\n"
           "chrT\t100\t.\tA\tG\t.\tPASS\t.\tGT\t0/1\n";
    if (hom) out << "chrT\t200\t.\tC\tT\t.\tPASS\t.\tGT\t1/1\n";
    out.close();
    auto r = cohort_->Ingest({.file_id = fmt::format("FL-{}", i), .path = path,
                              .participants = {{"S", pid}}, .reference = {}},
                             actor_);
    ASSERT_TRUE(r.ok()) << r.error().message;
  }

  // The stored true counts of one cell at chrT:pos.
  std::pair<int64_t, int64_t> Stored(int64_t pos, const std::string& release,
                                     const std::string& klass) {
    auto tx = store_->Begin(storage::TxMode::kRead);
    EXPECT_TRUE(tx.ok());
    auto rows = (*tx)->Query("SELECT ac, an FROM variant_public_af WHERE pos = $1 AND "
                             "release_id = $2 AND consent_class = $3",
                             {storage::Int(pos), storage::Text(release), storage::Text(klass)});
    EXPECT_TRUE(rows.ok());
    if (rows->empty()) return {-1, -1};
    return {rows->rows[0].Int(0), rows->rows[0].Int(1)};
  }

  // The published cell of (release, class) at chrT:pos in an answer.
  static json Cell(const json& answer, int64_t pos, const std::string& release,
                   const std::string& klass) {
    for (const auto& s : answer["sites"]) {
      if (s["pos"] != pos) continue;
      for (const auto& c : s["cells"]) {
        if (c["release"] == release && c["class"] == klass) return c;
      }
    }
    return nullptr;
  }

  Result<json> Answer() {
    return frequencies_->Published("chrT", 1, 1000, 1, 50, json{{"chrom", "chrT"}});
  }

  std::unique_ptr<PublicFrequencies> frequencies_;
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> releases_;
  std::map<std::string, ClassMembership> classes_;
  int64_t consent_changes_ = 0;
};

// Per release and class: the samples of the release's files whose participants are in the
// class; a participant outside every public release never counts; commercial ⊆ research.
// Then a withdrawal: the very next answer excludes the participant (the published band of the
// release's research AC drops from 10 to "<10") and the stored counts are the new ones.
TEST_P(FrequenciesTest, CountsEachPublicReleaseAndClassAndTheNextAnswerAfterAWithdrawalExcludesIt) {
  for (int i = 0; i < 12; ++i) Sample(i, /*hom=*/i == 0);
  for (int i = 0; i < 12; ++i) {
    // P8 and P9 refused commercial use; P11 has no consent in force.
    classes_[fmt::format("P{}", i)] = {.research = i != 11, .commercial = i != 8 && i != 9 && i != 11};
  }
  // RL-1 covers P0..P4; RL-2 (a later release of the same dataset) P0..P9 and P11; P10 is in
  // no public release.
  for (int i = 0; i < 12; ++i) {
    const auto f = std::pair{fmt::format("FL-{}", i), fmt::format("P{}", i)};
    if (i < 5) releases_["RL-1"].push_back(f);
    if (i != 10) releases_["RL-2"].push_back(f);
  }
  // A file of the release whose sample is another participant's does not count it.
  releases_["RL-1"].push_back({"FL-7", "P4"});

  auto first = frequencies_->Refresh(actor_);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_TRUE(first->computed);
  EXPECT_EQ(first->sites, 2);
  EXPECT_EQ(Stored(100, "RL-2", "research"), (std::pair<int64_t, int64_t>{10, 20}));
  EXPECT_EQ(Stored(100, "RL-2", "commercial"), (std::pair<int64_t, int64_t>{8, 16}));
  EXPECT_EQ(Stored(100, "RL-1", "research"), (std::pair<int64_t, int64_t>{5, 10}));
  EXPECT_EQ(Stored(200, "RL-1", "research"), (std::pair<int64_t, int64_t>{2, 10}));
  // Unchanged inputs: nothing is computed again.
  auto again = frequencies_->Refresh(actor_);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->computed);
  EXPECT_EQ(again->id, first->id);

  auto before = Answer();
  ASSERT_TRUE(before.ok()) << before.error().message;
  EXPECT_EQ(Cell(*before, 100, "RL-2", "research")["ac"], 10);
  EXPECT_EQ(Cell(*before, 100, "RL-2", "research")["an"], 20);
  EXPECT_EQ(Cell(*before, 100, "RL-2", "commercial")["ac"], "<10");
  EXPECT_EQ(Cell(*before, 100, "RL-1", "research")["ac"], "<10");

  // P3 withdraws fully: the ledger records a change.
  classes_["P3"] = {};
  ++consent_changes_;
  auto after = Answer();
  ASSERT_TRUE(after.ok()) << after.error().message;
  EXPECT_EQ(Cell(*after, 100, "RL-2", "research")["ac"], "<10");
  EXPECT_EQ(Stored(100, "RL-2", "research"), (std::pair<int64_t, int64_t>{9, 18}));
  EXPECT_EQ(Stored(100, "RL-1", "research"), (std::pair<int64_t, int64_t>{4, 8}));
  auto current = frequencies_->Current();
  ASSERT_TRUE(current.ok());
  EXPECT_NE(current->id, first->id) << "the computation made before the withdrawal was served";
  // One computation at a time: the old one's rows are gone.
  auto tx = store_->Begin(storage::TxMode::kRead);
  ASSERT_TRUE(tx.ok());
  auto rows = (*tx)->Query("SELECT COUNT(*) FROM variant_public_af WHERE computation_id <> $1",
                           {storage::Text(current->id)});
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->rows[0].Int(0), 0);
  int audited = 0;
  for (const auto& e : audit_.events()) audited += e.action == "variants.frequencies";
  EXPECT_EQ(audited, 2);
}

// No public release: nothing is listed, and an answer says so rather than failing.
TEST_P(FrequenciesTest, WithoutAPublicReleaseNothingIsListed) {
  Sample(0);
  auto answer = Answer();
  ASSERT_TRUE(answer.ok()) << answer.error().message;
  EXPECT_TRUE((*answer)["sites"].empty());
  EXPECT_EQ((*answer)["total_sites"], 0);
}

INSTANTIATE_TEST_SUITE_P(Backends, FrequenciesTest, ::testing::ValuesIn(storage::TestBackends()));

// The reader's system for one published site: every cell's AC and AN, research ⊇ commercial
// in each release, and the later release ⊇ the earlier in each class.
ReaderSystem Reader(const json& cells, const std::vector<std::string>& releases,
                    const std::vector<std::pair<std::string, std::string>>& nested,
                    Reading reading) {
  ReaderSystem sys;
  for (const auto& c : cells) {
    const std::string name = c["release"].get<std::string>() + "." + c["class"].get<std::string>();
    sys.Count(name + ".ac", portal::testing::Read(c["ac"], reading));
    sys.Count(name + ".an", portal::testing::Read(c["an"], reading));
  }
  for (const auto& r : releases) {
    for (const char* f : {".ac", ".an"}) {
      sys.Subset(sys.Find(r + ".research" + f), sys.Find(r + ".commercial" + f));
    }
  }
  for (const auto& [outer, inner] : nested) {
    for (const char* k : {".research", ".commercial"}) {
      for (const char* f : {".ac", ".an"}) sys.Subset(sys.Find(outer + k + f), sys.Find(inner + k + f));
    }
  }
  return sys;
}

// True counts for a random site: releases nested (each the one before plus more samples),
// commercial ⊆ research; AN ≥ AC.
SiteCells RandomSite(std::mt19937& rng, const std::vector<std::string>& releases) {
  SiteCells site;
  int64_t ac_c = 0, ac_r = 0, an_c = 0, an_r = 0;
  std::uniform_int_distribution<int64_t> small(0, 12);
  // Carriers: every allele a het carrier, or as many homozygous as can be (the same choice for
  // every cell of the site keeps the people nested as the alleles are).
  const bool homozygous = std::uniform_int_distribution<int>(0, 1)(rng) == 1;
  auto people = [&](int64_t ac) { return homozygous ? (ac + 1) / 2 : ac; };
  for (const auto& r : releases) {
    ac_c += small(rng);
    ac_r = std::max(ac_r, ac_c) + small(rng);
    an_c = std::max(an_c + small(rng) * 2, ac_c);
    an_r = std::max(an_r + small(rng) * 2, std::max(an_c, ac_r));
    site.cells[{r, "commercial"}] = {ac_c, an_c};
    site.cells[{r, "research"}] = {ac_r, an_r};
    site.carriers[{r, "commercial"}] = people(ac_c);
    site.carriers[{r, "research"}] = people(ac_r);
  }
  return site;
}

// The differencing attack (issue 15, small-cell rule): for random sites over two or three
// nested releases, a reader who subtracts commercial from research, or one release from the
// next, in AC and in AN, with the exact linear-programming ranges, cannot confine any count or
// difference to a part of 1..9. Seed: ZENGEN_FREQ_SEED (default 15).
TEST(PublishSiteTest, NoDifferencingOfClassesOrReleasesRevealsASmallCount) {
  const char* seed_env = std::getenv("ZENGEN_FREQ_SEED");
  std::mt19937 rng(seed_env ? static_cast<uint32_t>(std::stoul(seed_env)) : 15);
  for (int trial = 0; trial < 300; ++trial) {
    std::vector<std::string> releases = {"RL-1", "RL-2"};
    if (trial % 2 == 1) releases.push_back("RL-3");
    std::vector<std::pair<std::string, std::string>> nested;
    for (size_t i = 0; i < releases.size(); ++i) {
      for (size_t j = i + 1; j < releases.size(); ++j) nested.emplace_back(releases[j], releases[i]);
    }
    const SiteCells site = RandomSite(rng, releases);
    const json cells = PublishSite(site, releases, nested);
    ReaderSystem sys = Reader(cells, releases, nested, Reading::kBands);
    const auto ranges = portal::testing::ExactRanges(sys.start, sys.sums);
    const auto breaches = portal::testing::Breaches(sys, ranges);
    ASSERT_TRUE(breaches.empty()) << "trial " << trial << ": " << breaches[0].name << " in ["
                                  << breaches[0].range.lo << ", " << breaches[0].range.hi
                                  << "] from " << cells.dump();
    // AF is a function of the published bands alone.
    for (const auto& c : cells) {
      if (c["ac"].is_number() && c["an"].is_number()) {
        EXPECT_TRUE(c["af"].is_number());
      } else {
        EXPECT_TRUE(c["af"].is_null()) << c.dump();
      }
    }
  }
}

// The attack finds what exact publication (counts of 10 or more as they are, "<10" below)
// would reveal: research AC 12 beside commercial AC 10 pins the non-commercial carriers'
// alleles to 2. The same site published by PublishSite reveals nothing.
TEST(PublishSiteTest, TheAttackFindsTheSmallDifferenceOfExactPublication) {
  const std::vector<std::string> releases = {"RL-1"};
  SiteCells site;
  site.cells[{"RL-1", "research"}] = {12, 40};
  site.cells[{"RL-1", "commercial"}] = {10, 36};
  site.carriers[{"RL-1", "research"}] = 12;
  site.carriers[{"RL-1", "commercial"}] = 10;
  json exact = json::array();
  for (const auto& [key, counts] : site.cells) {
    auto shown = [](int64_t n) { return n < portal::kBase ? json(portal::kSmallMarker) : json(n); };
    exact.push_back({{"release", key.first}, {"class", key.second}, {"ac", shown(counts.first)},
                     {"an", shown(counts.second)}});
  }
  ReaderSystem naive = Reader(exact, releases, {}, Reading::kExact);
  EXPECT_FALSE(portal::testing::Breaches(naive, portal::testing::ExactRanges(naive.start, naive.sums))
                   .empty());
  const json cells = PublishSite(site, releases, {});
  ReaderSystem sys = Reader(cells, releases, {}, Reading::kBands);
  EXPECT_TRUE(portal::testing::Breaches(sys, portal::testing::ExactRanges(sys.start, sys.sums))
                  .empty())
      << cells.dump();
}

// Ten alleles carried by five homozygous people are not shown as "10": the allele count is
// withheld while the people carrying it are fewer than ten; the same ten alleles carried by
// ten heterozygous people are shown. A count below ten stays "<10" either way.
TEST(PublishSiteTest, AnAlleleCountIsShownOnlyWhenTenOrMorePeopleCarryIt) {
  const std::vector<std::string> releases = {"RL-1"};
  auto publish = [&](int64_t ac, int64_t carriers) {
    SiteCells site;
    site.cells[{"RL-1", "research"}] = {ac, 400};
    site.cells[{"RL-1", "commercial"}] = {ac, 400};
    site.carriers[{"RL-1", "research"}] = carriers;
    site.carriers[{"RL-1", "commercial"}] = carriers;
    return PublishSite(site, releases, {});
  };
  for (const auto& c : publish(10, 5)) {
    EXPECT_EQ(c["ac"], portal::kWithheldMarker) << c.dump();
    EXPECT_TRUE(c["af"].is_null()) << c.dump();
  }
  for (const auto& c : publish(18, 9)) EXPECT_EQ(c["ac"], portal::kWithheldMarker) << c.dump();
  for (const auto& c : publish(10, 10)) {
    EXPECT_EQ(c["ac"], 10) << c.dump();
    EXPECT_TRUE(c["af"].is_number()) << c.dump();
  }
  for (const auto& c : publish(6, 3)) EXPECT_EQ(c["ac"], portal::kSmallMarker) << c.dump();
}

}  // namespace
}  // namespace zengen::variants
