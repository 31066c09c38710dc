#include "portal/portal.h"

#include <gtest/gtest.h>

#include "storage/testing.h"

namespace zengen::portal {
namespace {

using nlohmann::json;

// 'S' marks a suppressed small cell, 'X' one withheld by secondary suppression, otherwise the
// published number.
std::vector<std::string> Render(const std::vector<std::vector<Cell>>& cells) {
  std::vector<std::string> out;
  for (const auto& row : cells) {
    std::string line;
    for (const auto& c : row) {
      if (!line.empty()) line += ' ';
      line += c.secondary ? "X" : c.suppressed ? "S" : std::to_string(c.value);
    }
    out.push_back(line);
  }
  return out;
}

struct SuppressionCase {
  std::string name;
  std::vector<std::vector<int64_t>> counts;
  Margins margins;
  std::vector<std::string> want;
};

TEST(SuppressTest, PrimaryAndSecondaryTableDriven) {
  const std::vector<SuppressionCase> cases = {
      {"nothing small", {{10, 20}, {30, 40}}, {true, true}, {"10 20", "30 40"}},
      {"zeros are published", {{0, 12}, {15, 0}}, {true, true}, {"0 12", "15 0"}},
      {"1 and 9 suppressed, 10 not", {{1, 9, 10}}, {false, false}, {"S S 10"}},
      {"a suppressed total protects nothing", {{4}, {0}}, {true, false}, {"S", "0"}},
      {"no margins: primary only", {{5, 100}, {50, 60}}, {false, false}, {"S 100", "50 60"}},
      // Column total 55 minus 50 would give the 5 away: the next-smallest (50) goes too.
      {"lone cell in a column", {{5}, {50}}, {true, false}, {"S", "X"}},
      {"next-smallest, not the largest", {{3}, {40}, {20}, {100}}, {true, false},
       {"S", "40", "X", "100"}},
      {"two small cells protect each other", {{3}, {4}, {100}}, {true, false},
       {"S", "S", "100"}},
      {"zeros are chosen last", {{0}, {7}, {0}, {30}}, {true, false}, {"0", "S", "0", "X"}},
      {"a zero when nothing else is left", {{5, 50}, {0, 60}}, {true, true},
       {"S X", "X X"}},
      {"ties pick the first", {{2}, {25}, {25}}, {true, false}, {"S", "X", "25"}},
      // A total below the threshold is suppressed itself: nothing to subtract from.
      {"small cells in a small total", {{4}, {0}, {3}}, {true, false}, {"S", "0", "S"}},
      {"row totals", {{8, 30, 40}}, {false, true}, {"S X 40"}},
      // The column pass suppresses (1,0); its row then holds one suppressed cell, so (1,1) goes.
      {"cascades across rows and columns", {{5, 50}, {20, 30}}, {true, true},
       {"S X", "X X"}},
      {"cascade stops when lines hold two", {{5, 15, 100}, {12, 40, 100}, {200, 200, 200}},
       {true, true}, {"S X 100", "X X 100", "200 200 200"}},
      {"empty table", {}, {true, true}, {}},
  };
  for (const auto& tc : cases) {
    EXPECT_EQ(Render(Suppress(tc.counts, tc.margins)), tc.want) << tc.name;
  }
}

// Whatever the table, no line with a published total holds exactly one suppressed cell, and
// no count from 1 to 9 is published.
TEST(SuppressTest, NoLineLeavesOneCellDerivable) {
  uint64_t seed = 12345;
  auto next = [&seed] {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return seed >> 33;
  };
  for (int trial = 0; trial < 500; ++trial) {
    const size_t rows = 1 + next() % 6, cols = 1 + next() % 6;
    std::vector<std::vector<int64_t>> counts(rows, std::vector<int64_t>(cols));
    for (auto& row : counts) {
      for (auto& v : row) v = next() % 3 == 0 ? static_cast<int64_t>(next() % 10) : next() % 60;
    }
    const auto table = SuppressTable(counts, {true, true});
    const auto& cells = table.cells;
    for (size_t r = 0; r < rows; ++r) {
      int64_t total = 0;
      int n = 0;
      for (size_t c = 0; c < cols; ++c) {
        total += counts[r][c];
        n += cells[r][c].suppressed;
        if (counts[r][c] > 0 && counts[r][c] < 10) {
          EXPECT_TRUE(cells[r][c].suppressed);
        }
      }
      if (total >= 10 && !table.row_total_withheld[r]) {
        EXPECT_NE(n, 1) << "row " << r << " of trial " << trial << ":\n"
                        << ::testing::PrintToString(counts) << "\n"
                        << ::testing::PrintToString(Render(cells));
      }
    }
    for (size_t c = 0; c < cols; ++c) {
      int64_t total = 0;
      int n = 0;
      for (size_t r = 0; r < rows; ++r) {
        total += counts[r][c];
        n += cells[r][c].suppressed;
      }
      if (total >= 10 && !table.column_total_withheld[c]) {
        EXPECT_NE(n, 1) << "column " << c << " of trial " << trial;
      }
    }
  }
}

TEST(SuppressTest, WithholdsATotalThatWouldEqualTheCell) {
  // Column 0's 6 forces the 10 to be withheld; row 1 then has no other cell, so its total goes.
  const auto t = SuppressTable({{6}, {10}}, {true, true});
  EXPECT_EQ(Render(t.cells), (std::vector<std::string>{"S", "X"}));
  EXPECT_EQ(t.row_total_withheld, (std::vector<bool>{false, true}));
  EXPECT_EQ(t.column_total_withheld, (std::vector<bool>{false}));
}

TEST(SuppressTest, PublishedFormNeverCarriesTheSmallNumber) {
  EXPECT_EQ(CellJson(SuppressOne(3)), json("<10"));
  EXPECT_EQ(CellJson(SuppressOne(0)), json(0));
  EXPECT_EQ(CellJson(SuppressOne(10)), json(10));
}

ParticipantProgress P(std::string month, std::string program, std::string category,
                      std::string facility, int stages_reached) {
  ParticipantProgress p{std::move(month), std::move(program), std::move(category),
                        std::move(facility), std::vector<bool>(Stages().size(), false)};
  for (int s = 0; s < stages_reached; ++s) p.reached[s] = true;
  return p;
}

TEST(ProgressJsonTest, TablesAreSuppressedAndLabelled) {
  std::vector<ParticipantProgress> ps;
  for (int i = 0; i < 30; ++i) ps.push_back(P("2025-01", "cancer", "lung", "hosp-a", 6));
  for (int i = 0; i < 3; ++i) ps.push_back(P("2025-02", "rare_disease", "rd_epilepsy", "hosp-b", 2));
  for (int i = 0; i < 12; ++i) ps.push_back(P("2025-02", "cancer", "breast", "hosp-b", 1));
  const json doc = ProgressJson(ps, {{"hosp-a", "Hospital A"}}, "2026-01-01T00:00:00Z");
  EXPECT_EQ(doc["totals"]["enrolled"], 45);
  EXPECT_EQ(doc["totals"]["consented"], 33);
  EXPECT_EQ(doc["totals"]["released"], 0);
  const json& programs = doc["by_program"];
  ASSERT_EQ(programs.size(), 2u);
  EXPECT_EQ(programs[0]["key"], "cancer");
  // rare_disease: 3 enrolled and consented → "<10"; the totals (45, 33) would give them away
  // from cancer's 42 and 30, so those are withheld ("x"); stages with no small cell are shown.
  EXPECT_EQ(programs[1]["counts"]["enrolled"], "<10");
  EXPECT_EQ(programs[1]["counts"]["consented"], "<10");
  EXPECT_EQ(programs[0]["counts"]["enrolled"], "x");
  EXPECT_EQ(programs[0]["counts"]["consented"], "x");
  EXPECT_EQ(programs[0]["counts"]["specimens_received"], 30);
  EXPECT_EQ(programs[1]["counts"]["sequenced"], 0);
  EXPECT_EQ(doc["by_facility"][0]["label"], "Hospital A");
  EXPECT_EQ(doc["by_facility"][1]["label"], "hosp-b");
  EXPECT_EQ(doc["suppression"]["marker"], "<10");
  // No number from 1 to 9 anywhere in the document.
  std::function<void(const json&)> check = [&](const json& j) {
    if (j.is_number_integer()) {
      const auto v = j.get<int64_t>();
      EXPECT_TRUE(v == 0 || v >= kMinPublished) << v;
    }
    if (j.is_structured()) {
      for (const auto& child : j) check(child);
    }
  };
  json without_threshold = doc;
  without_threshold.erase("suppression");
  check(without_threshold);
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
    };
    for (const auto& s : sql) ASSERT_TRUE((*tx)->Exec(s).ok()) << s;
    ASSERT_TRUE((*tx)->Commit().ok());
  }
  auto progress = ReadProgress(**store);
  ASSERT_TRUE(progress.ok()) << progress.error().message;
  ASSERT_EQ(progress->size(), 3u);
  std::map<std::string, std::vector<bool>> by_category_month;
  for (const auto& p : *progress) by_category_month[p.disease_category + p.month] = p.reached;
  using V = std::vector<bool>;
  // enrolled, consented, received, sequenced, qc_passed, analysed, released
  EXPECT_EQ(by_category_month["lung2025-03"], (V{true, true, true, true, false, false, false}));
  EXPECT_EQ(by_category_month["rd_epilepsy2025-04"],
            (V{true, false, false, false, false, false, false}))
      << "a full withdrawal no longer counts as consented";
  EXPECT_EQ(by_category_month["lung2025-04"], (V{true, false, false, false, false, false, false}));
  store->reset();
}

INSTANTIATE_TEST_SUITE_P(Backends, ReadProgressTest,
                         ::testing::ValuesIn(storage::TestBackends()));

}  // namespace
}  // namespace zengen::portal
