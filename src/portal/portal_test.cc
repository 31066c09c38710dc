#include "portal/portal.h"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <fstream>
#include <functional>

#include "portal/attack_testing.h"
#include "storage/testing.h"

namespace zengen::portal {
namespace {

using nlohmann::json;

using testing::AddProgress;
using testing::AddReleaseAggregates;
using testing::Breaches;
using testing::ReaderSystem;

struct Lcg {
  uint64_t seed;
  uint64_t Next() {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return seed >> 33;
  }
  int64_t Below(int64_t n) { return static_cast<int64_t>(Next() % static_cast<uint64_t>(n)); }
};

// A cohort like the demo's: ~240 participants over two years, six cancer and four rare-disease
// categories, three hospitals; the funnel thins out stage by stage; one public release.
struct DemoLike {
  std::vector<ParticipantProgress> participants;
  std::map<std::string, std::string> facilities;
  std::vector<ReleaseCounts> releases;
};

DemoLike MakeDemoLike(uint64_t seed, int people) {
  Lcg rng{seed};
  DemoLike d;
  d.facilities = {{"kanto", "関東大学病院 (Kanto University Hospital)"},
                  {"kansai", "関西がんセンター (Kansai Cancer Center)"},
                  {"tohoku", "東北こども病院 (Tohoku Children's Hospital)"},
                  {"kyushu", "九州医療センター (Kyushu Medical Center)"}};
  const std::vector<std::string> cancers = {"lung", "colorectal", "breast", "gastric",
                                            "pancreatic", "sarcoma"};
  const std::vector<std::string> rare = {"rd_neuromuscular", "rd_epilepsy", "rd_cardiomyopathy",
                                         "rd_skeletal_dysplasia"};
  const std::vector<std::string> hospitals = {"kanto", "kansai", "tohoku"};
  ReleaseCounts rel{"REL-1", 0, {}, {}};
  auto& sex = rel.by_field["case_basics.sex"];
  sex = {{"female", 0}, {"male", 0}, {"other", 0}, {"not_recorded", 0}};
  for (int i = 0; i < people; ++i) {
    const bool is_rare = rng.Below(4) == 0;
    const std::string category =
        is_rare ? rare[rng.Below(static_cast<int64_t>(rare.size()))]
                : cancers[rng.Below(static_cast<int64_t>(cancers.size()))];
    const int month = static_cast<int>(rng.Below(24));
    ParticipantProgress p{fmt::format("{:04}-{:02}", 2024 + month / 12, month % 12 + 1),
                          is_rare ? "rare_disease" : "cancer", category,
                          hospitals[rng.Below(3)], std::vector<bool>(Stages().size(), false)};
    p.reached[0] = true;
    for (size_t s = 1; s < 6; ++s) p.reached[s] = p.reached[s - 1] && rng.Below(10) < 8;
    p.reached[6] = p.reached[5] && rng.Below(3) == 0;
    if (p.reached[6] && !is_rare && rng.Below(2) == 0) {
      ++rel.participants;
      ++rel.by_disease[category];
      ++sex[rng.Below(5) == 0 ? "not_recorded" : rng.Below(2) == 0 ? "female" : "male"];
    }
    d.participants.push_back(std::move(p));
  }
  d.releases.push_back(std::move(rel));
  return d;
}

// Every figure a client can fetch at the same time, read back as a client reads it.
ReaderSystem ReadAsAClient(const PublicFigures& figures) {
  ReaderSystem sys;
  AddProgress(sys, figures.progress, {});
  for (const auto& [id, release] : figures.releases) {
    std::vector<json> docs;
    auto whole = ReleaseAggregatesJson(figures, id, "");
    EXPECT_TRUE(whole.ok());
    docs.push_back(*whole);
    for (const auto& [field, values] : release["by_field"].items()) {
      auto doc = ReleaseAggregatesJson(figures, id, field);
      EXPECT_TRUE(doc.ok());
      docs.push_back(*doc);
    }
    AddReleaseAggregates(sys, docs);
  }
  return sys;
}

// Issue 12, finding 5: from all figures published together (portal progress and release
// aggregates), a reader derives the range of every count; none breaks the promise.
TEST(PublishTest, NoCountFromOneToNineCanBeDerived) {
  for (uint64_t seed : {1u, 2u, 3u, 4u}) {
    const DemoLike d = MakeDemoLike(seed, seed == 4 ? 60 : 240);
    const PublicFigures figures =
        Publish(d.participants, d.facilities, d.releases, "2026-01-01T00:00:00Z");
    ReaderSystem sys = ReadAsAClient(figures);
    const auto ranges = Propagate(sys.start, sys.sums);
    for (const auto& b : Breaches(sys, ranges)) {
      ADD_FAILURE() << "seed " << seed << ": " << b.name << " in " << b.range.lo << ".."
                    << b.range.hi;
    }
  }
}

// The cohort `zengen demo` seeds (240 participants; its inputs to Publish were read from a
// seeded demo: testdata/demo240_inputs.json). Its released total was withheld ("x") by the
// audit: a count far above 9 (those consented by a month but not released) was bounded below
// by 2 once neighbouring cells were withheld, and the audit gave up the headline total to mend
// it. The total is published now, and the whole publication still keeps the promise.
TEST(PublishTest, TheDemoPublishesItsReleasedTotal) {
  std::ifstream in(std::string(ZENGEN_PORTAL_TESTDATA) + "/demo240_inputs.json");
  ASSERT_TRUE(in.good());
  const json inputs = json::parse(in);
  std::vector<ParticipantProgress> participants;
  int64_t released = 0;
  for (const auto& row : inputs["participants"]) {
    ParticipantProgress p{row[0], row[1], row[2], row[3], {}};
    for (const auto& b : row[4]) p.reached.push_back(b.get<int>() != 0);
    released += p.reached.back() ? 1 : 0;
    participants.push_back(std::move(p));
  }
  ASSERT_EQ(participants.size(), 240u);
  std::vector<ReleaseCounts> releases;
  for (const auto& r : inputs["releases"]) {
    releases.push_back({r["release_id"], r["participants"],
                        r["by_disease"].get<std::map<std::string, int64_t>>(),
                        r["by_field"].get<std::map<std::string, std::map<std::string, int64_t>>>()});
  }
  const auto facilities = inputs["facilities"].get<std::map<std::string, std::string>>();
  const PublicFigures figures = Publish(participants, facilities, releases, "t");
  EXPECT_EQ(figures.progress["totals"]["released"], ShownJson(Round(released)))
      << figures.progress["totals"];
  ReaderSystem sys = ReadAsAClient(figures);
  const auto ranges = Propagate(sys.start, sys.sums);
  for (const auto& b : Breaches(sys, ranges)) {
    ADD_FAILURE() << b.name << " in " << b.range.lo << ".." << b.range.hi;
  }
}

// The attack is able to fail: the same figures published exactly, with "<10" for 1..9 and the
// totals exact (the rule before issue 12), give small counts away.
TEST(PublishTest, TheAttackBreaksExactPublication) {
  const DemoLike d = MakeDemoLike(1, 240);
  PublicFigures figures = Publish(d.participants, d.facilities, d.releases, "t");
  // Rebuild the document with exact counts where the published ones stand.
  auto exact = [](int64_t v) { return v > 0 && v < 10 ? json("<10") : json(v); };
  json doc = figures.progress;
  doc.erase("suppression");
  doc.erase("nesting");
  std::vector<int64_t> totals(Stages().size(), 0);
  for (const auto& p : d.participants) {
    for (size_t s = 0; s < totals.size(); ++s) totals[s] += p.reached[s];
  }
  for (size_t s = 0; s < totals.size(); ++s) doc["totals"][Stages()[s]] = exact(totals[s]);
  std::map<std::string, std::vector<int64_t>> by_program;
  for (const auto& p : d.participants) {
    auto& row = by_program[p.program];
    row.resize(totals.size(), 0);
    for (size_t s = 0; s < totals.size(); ++s) row[s] += p.reached[s];
  }
  for (auto& row : doc["by_program"]) {
    for (size_t s = 0; s < totals.size(); ++s) {
      row["counts"][Stages()[s]] = exact(by_program[row["key"]][s]);
    }
  }
  for (const std::string t : {"by_month", "by_quarter", "cumulative_by_month",
                              "by_disease_category", "by_facility"}) {
    doc.erase(t);
  }
  ReaderSystem sys;
  AddProgress(sys, doc, {});
  EXPECT_FALSE(Breaches(sys, Propagate(sys.start, sys.sums)).empty());
}

// The attack fails on today's main: its outputs over HTTPS from `zengen demo` (fixture), read
// with the rule they were published under (exact numbers, "<10" for 1..9), give exact small
// counts away — e.g. a category's enrolled minus consented.
TEST(PublishTest, TheAttackBreaksTheOutputsOfMainBeforeIssue12) {
  std::ifstream in(std::string(ZENGEN_PORTAL_TESTDATA) + "/main_demo_outputs.json");
  ASSERT_TRUE(in) << "fixture missing";
  const json fixture = json::parse(in);
  std::map<std::string, std::string> program_of;
  for (const auto& row : fixture["progress"]["by_disease_category"]) {
    const std::string key = row["key"];
    program_of[key] = key.starts_with("rd_") ? "rare_disease" : "cancer";
  }
  ReaderSystem sys;
  AddProgress(sys, fixture["progress"], program_of);
  AddReleaseAggregates(sys, fixture["release_aggregates"].get<std::vector<json>>());
  const auto ranges = Propagate(sys.start, sys.sums);
  const auto breaches = Breaches(sys, ranges);
  EXPECT_GT(breaches.size(), 10u);
  const size_t colorectal = sys.Find("by_disease_category.colorectal.enrolled - "
                                     "by_disease_category.colorectal.consented");
  ASSERT_LT(colorectal, sys.names.size());
  EXPECT_EQ(ranges[colorectal], (Range{5, 5})) << "33 enrolled, 28 consented: exactly 5";
  // Issue 14: the calendar lists released datasets while the released stage says 0.
  EXPECT_EQ(fixture["progress"]["totals"]["released"], 0);
  EXPECT_FALSE(fixture["calendar"]["items"].empty());
}

TEST(PublishTest, FiguresAreBandsAndTheStagesNest) {
  const DemoLike d = MakeDemoLike(7, 240);
  const PublicFigures figures = Publish(d.participants, d.facilities, d.releases, "t");
  const json& doc = figures.progress;
  EXPECT_EQ(doc["suppression"], MethodJson());
  EXPECT_EQ(doc["nesting"][5], json({"consented", "released"}));
  // No number that is not a multiple of ten, anywhere.
  std::function<void(const json&)> check = [&](const json& j) {
    if (j.is_number_integer()) {
      EXPECT_EQ(j.get<int64_t>() % kBase, 0) << j;
    }
    if (j.is_structured()) {
      for (const auto& child : j) check(child);
    }
  };
  json figures_only = doc;
  figures_only.erase("suppression");
  check(figures_only);
  for (const auto& [id, r] : figures.releases) check(r);
  // Every hospital is listed, also one without participants; months run without gaps.
  EXPECT_EQ(doc["by_facility"].size(), 4u);
  EXPECT_EQ(doc["by_month"].size(), 24u);
  EXPECT_EQ(doc["by_quarter"].size(), 8u);
  EXPECT_EQ(doc["by_quarter"][0]["key"], "2024-Q1");
  EXPECT_EQ(doc["by_disease_category"][0]["program"], "cancer");
  // The released stage is counted (issue 14: it was always 0).
  EXPECT_NE(doc["totals"]["released"], "<10");
  EXPECT_NE(doc["totals"]["released"], 0);
  auto release = ReleaseAggregatesJson(figures, "REL-1", "case_basics.sex");
  ASSERT_TRUE(release.ok());
  EXPECT_EQ((*release)["by_value"].size(), 4u);
  EXPECT_EQ(ReleaseAggregatesJson(figures, "REL-2", "").error().code, "release_not_found");
  EXPECT_EQ(ReleaseAggregatesJson(figures, "REL-1", "case_basics.nothing").error().field,
            "field");
}

class ReadProgressTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ReadProgressTest, CountsStagesFromTheTables) {
  auto db = storage::ScratchDatabase::Create(GetParam());
  ASSERT_TRUE(db.ok()) << db.error().message;
  auto store = storage::OpenStore({.location = db->location(), .pool_size = 2});
  ASSERT_TRUE(store.ok()) << store.error().message;
  {
    auto tx = (*store)->Begin(storage::TxMode::kWrite);
    ASSERT_TRUE(tx.ok());
    const std::vector<std::string> sql = {
        "INSERT INTO organisations VALUES ('h', 'H', 'hospital', 'JP', 't')",
        "INSERT INTO organisations VALUES ('s', 'S', 'sequencing_facility', 'JP', 't')",
        "INSERT INTO participants VALUES ('ZG-1', 'h', 'm1', 'cancer', 'lung', '2025-03-04', 'u', 't')",
        "INSERT INTO participants VALUES ('ZG-2', 'h', 'm2', 'rare_disease', 'rd_epilepsy', "
        "'2025-04-01', 'u', 't')",
        "INSERT INTO participants VALUES ('ZG-3', 'h', 'm3', 'cancer', 'lung', '2025-04-09', 'u', 't')",
        "INSERT INTO consent_records VALUES ('c1', 'ZG-1', 1, 'initial', '', '1.0', 'ja', '{}', "
        "'{}', '2025-03-04', NULL, 'u', 't')",
        "INSERT INTO consent_records VALUES ('c2', 'ZG-2', 1, 'initial', '', '1.0', 'ja', '{}', "
        "'{}', '2025-04-01', NULL, 'u', 't')",
        "INSERT INTO consent_records VALUES ('c3', 'ZG-2', 2, 'withdrawal', 'full', '1.0', 'ja', "
        "'{}', '{}', '2025-05-01', 'c2', 'u', 't')",
        "INSERT INTO specimens VALUES ('SP-1', 'ZG-1', 'tumour', 'solid_tissue', 'FFPE', "
        "'2025-03-04', 'qc_failed', 's', 'u', 't')",
        "INSERT INTO custody_events VALUES ('SP-1', 1, 'shipped', 'received', 's', 'u', 't', '')",
        "INSERT INTO custody_events VALUES ('SP-1', 2, 'library_prepared', 'sequenced', 's', 'u', "
        "'t', '')",
        "INSERT INTO custody_events VALUES ('SP-1', 3, 'sequenced', 'qc_failed', 's', 'u', 't', '')",
        // ZG-3 has no consent: its received specimen is outside the funnel.
        "INSERT INTO specimens VALUES ('SP-3', 'ZG-3', 'normal', 'blood', 'EDTA', "
        "'2025-04-09', 'received', 's', 'u', 't')",
        "INSERT INTO custody_events VALUES ('SP-3', 1, 'shipped', 'received', 's', 'u', 't', '')",
    };
    for (const auto& s : sql) ASSERT_TRUE((*tx)->Exec(s).ok()) << s;
    ASSERT_TRUE((*tx)->Commit().ok());
  }
  // The sharing module says ZG-1 and ZG-2 are in released datasets; ZG-2 withdrew.
  auto progress = ReadProgress(**store, {"ZG-1", "ZG-2"});
  ASSERT_TRUE(progress.ok()) << progress.error().message;
  ASSERT_EQ(progress->size(), 3u);
  std::map<std::string, std::vector<bool>> by_category_month;
  for (const auto& p : *progress) by_category_month[p.disease_category + p.month] = p.reached;
  using V = std::vector<bool>;
  // enrolled, consented, received, sequenced, qc_passed, analysed, released
  EXPECT_EQ(by_category_month["lung2025-03"], (V{true, true, true, true, false, false, true}))
      << "released comes from the sharing module (issue 14: it was always false)";
  EXPECT_EQ(by_category_month["rd_epilepsy2025-04"],
            (V{true, false, false, false, false, false, false}))
      << "a full withdrawal no longer counts as consented";
  EXPECT_EQ(by_category_month["lung2025-04"], (V{true, false, false, false, false, false, false}))
      << "stages form a funnel: no specimen stage without consent";
  store->reset();
}

INSTANTIATE_TEST_SUITE_P(Backends, ReadProgressTest,
                         ::testing::ValuesIn(storage::TestBackends()));

}  // namespace
}  // namespace zengen::portal
