#include "portal/suppression.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "portal/attack_testing.h"

namespace zengen::portal {
namespace {

using nlohmann::json;
using testing::ExactRanges;
using testing::ReaderSystem;

// A small deterministic generator (tests must not depend on the standard library's engines).
struct Lcg {
  uint64_t seed;
  uint64_t Next() {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return seed >> 33;
  }
  int64_t Below(int64_t n) { return static_cast<int64_t>(Next() % static_cast<uint64_t>(n)); }
};

TEST(RoundTest, BandsOfTenWithSmallCountsMarked) {
  const std::vector<std::pair<int64_t, json>> cases = {
      {0, "<10"}, {1, "<10"}, {9, "<10"}, {10, 10}, {19, 10}, {20, 20}, {245, 240}};
  for (const auto& [count, want] : cases) EXPECT_EQ(ShownJson(Round(count)), want) << count;
  EXPECT_EQ(ShownJson({30, true}), "x");
  EXPECT_EQ(RangeOf(Round(3)), (Range{0, 9}));
  EXPECT_EQ(RangeOf(Round(27)), (Range{20, 29}));
  EXPECT_EQ(RangeOf({20, true}), (Range{0, kUnbounded}));
}

TEST(KeepsPromiseTest, ClearOfOneToNineOrCoveringIt) {
  const std::vector<std::pair<Range, bool>> cases = {
      {{0, 9}, true},   {{1, 9}, true},  {{0, kUnbounded}, true}, {{10, 19}, true},
      {{0, 0}, true},   {{1, 19}, true}, {{0, 4}, false},         {{1, 1}, false},
      {{8, 9}, false},  {{9, 99}, false}, {{2, 30}, false},       {{5, 5}, false}};
  for (const auto& [r, want] : cases) {
    EXPECT_EQ(KeepsPromise(r), want) << r.lo << ".." << r.hi;
  }
}

// Issue 12, finding 5, as published before: {"lung":12,"sarcoma":"<10"}, "participants":13.
// Exact figures and "<10" meaning 1..9: the hidden cell is a subtraction away.
TEST(PropagateTest, ExactTotalsGiveAHiddenCellAway) {
  ReaderSystem sys;
  const size_t total = sys.Count("participants", {13, 13});
  const size_t lung = sys.Count("lung", {12, 12});
  const size_t sarcoma = sys.Count("sarcoma", {1, 9});
  sys.sums.push_back({total, {lung, sarcoma}});
  EXPECT_EQ(Propagate(sys.start, sys.sums)[sarcoma], (Range{1, 1}));
  EXPECT_EQ(ExactRanges(sys.start, sys.sums)[sarcoma], (Range{1, 1}));
}

TEST(PropagateTest, RoundingAloneFailsWhenAPopulationIsCutTwoWays) {
  // Ten months of 9 people each; the same 90 people are one disease category. No total is
  // published, yet each month is pinned to exactly 9.
  ReaderSystem sys;
  const size_t all = sys.Count("everyone", {0, kUnbounded});
  std::vector<size_t> months;
  for (int m = 0; m < 10; ++m) months.push_back(sys.Count("month", RangeOf(Round(9))));
  const size_t disease = sys.Count("disease", RangeOf(Round(90)));
  sys.sums.push_back({all, months});
  sys.sums.push_back({all, {disease}});
  EXPECT_EQ(Propagate(sys.start, sys.sums)[months[3]], (Range{9, 9}));
}

TEST(PropagateTest, FixedPointThroughAChain) {
  // a = b + c, c = d + e, with a and b, d known: e follows through two relations.
  const std::vector<Range> start = {{20, 20}, {15, 15}, {0, kUnbounded}, {2, 2}, {0, kUnbounded}};
  const std::vector<SumRelation> sums = {{0, {1, 2}}, {2, {3, 4}}};
  const auto r = Propagate(start, sums);
  EXPECT_EQ(r[2], (Range{5, 5}));
  EXPECT_EQ(r[4], (Range{3, 3}));
}

// Random true systems: whatever the ranges and relations, propagation never excludes the truth
// (soundness), and the exact LP range lies inside the propagated one (the LP can only know more).
TEST(PropagateTest, SoundAndNoTighterThanTheExactLp) {
  Lcg rng{7};
  for (int trial = 0; trial < 150; ++trial) {
    const size_t n = 3 + static_cast<size_t>(rng.Below(8));
    std::vector<int64_t> truth(n);
    for (auto& v : truth) v = rng.Below(4) == 0 ? rng.Below(10) : rng.Below(60);
    std::vector<SumRelation> sums;
    std::vector<Range> start(n);
    // A few true relations: a new whole made of random parts.
    for (int k = 0; k < 3; ++k) {
      SumRelation s;
      int64_t total = 0;
      for (size_t i = 0; i < n; ++i) {
        if (rng.Below(3) == 0) {
          s.parts.push_back(i);
          total += truth[i];
        }
      }
      if (s.parts.empty()) continue;
      truth.push_back(total);
      start.push_back({});
      s.whole = truth.size() - 1;
      sums.push_back(s);
    }
    for (size_t i = 0; i < truth.size(); ++i) {
      switch (rng.Below(3)) {
        case 0: start[i] = {truth[i], truth[i]}; break;
        case 1: start[i] = RangeOf(Round(truth[i])); break;
        default: start[i] = {0, kUnbounded};
      }
    }
    const auto p = Propagate(start, sums);
    const auto exact = ExactRanges(start, sums);
    ASSERT_EQ(exact.size(), truth.size()) << "trial " << trial;
    for (size_t i = 0; i < truth.size(); ++i) {
      EXPECT_LE(p[i].lo, truth[i]) << "trial " << trial << " count " << i;
      EXPECT_GE(p[i].hi, truth[i]) << "trial " << trial << " count " << i;
      EXPECT_LE(p[i].lo, exact[i].lo) << "trial " << trial << " count " << i;
      EXPECT_GE(p[i].hi, exact[i].hi) << "trial " << trial << " count " << i;
      EXPECT_LE(exact[i].lo, truth[i]) << "trial " << trial << " count " << i;
      EXPECT_GE(exact[i].hi, truth[i]) << "trial " << trial << " count " << i;
    }
  }
}

TEST(ProtectTest, WithholdsUntilNoMonthIsPinned) {
  Publication pub;
  const size_t total = pub.Add("total", 90);
  std::vector<size_t> months;
  for (int m = 0; m < 10; ++m) months.push_back(pub.Add("month", 9));
  const size_t disease = pub.Add("disease", 90);
  pub.Sum(total, months);
  pub.Sum(total, {disease});
  const auto shown = pub.Protect();
  std::vector<Range> start;
  for (const Shown& s : shown) start.push_back(RangeOf(s));
  for (const Range& r : Propagate(start, pub.relations())) EXPECT_TRUE(KeepsPromise(r));
  // Two months withheld protect each other; the others stay "<10".
  EXPECT_EQ(std::count_if(shown.begin(), shown.end(), [](const Shown& s) { return s.withheld; }),
            2);
  EXPECT_FALSE(shown[total].withheld);
  EXPECT_EQ(ShownJson(shown[total]), 90);
}

TEST(ProtectTest, RemembersTheLastAnswerForTheSameBands) {
  Publication pub;
  const size_t total = pub.Add("total", 90);
  std::vector<size_t> months;
  for (int m = 0; m < 10; ++m) months.push_back(pub.Add("month", 9));
  pub.Sum(total, months);
  const auto first = pub.Protect();
  EXPECT_EQ(pub.Protect(), first);
  Publication other;
  other.Add("a", 5);
  EXPECT_EQ(other.Protect(), std::vector<Shown>{Round(5)});
  EXPECT_EQ(pub.Protect(), first);
}

TEST(ProtectTest, HeadlineFiguresAreWithheldLast) {
  // 20 = 9 + 9 + 2: each part is at least 2. Withholding the total mends everything at once,
  // but when it is a headline, parts go instead.
  auto build = [](bool headline) {
    Publication pub;
    const size_t total = pub.Add("total", 20);
    pub.Sum(total, {pub.Add("a", 9), pub.Add("b", 9), pub.Add("c", 2)});
    if (headline) pub.Headline(total);
    const auto shown = pub.Protect();
    for (const Range& r : Propagate(pub.ReaderRanges(shown), pub.relations())) {
      EXPECT_TRUE(KeepsPromise(r)) << r.lo << ".." << r.hi;
    }
    return shown;
  };
  EXPECT_TRUE(build(false)[0].withheld);
  const auto kept = build(true);
  EXPECT_FALSE(kept[0].withheld);
  EXPECT_EQ(ShownJson(kept[0]), 20);
}

TEST(ProtectTest, ImpliedCountsAreNeverPublished) {
  Publication pub;
  const size_t enrolled = pub.Add("enrolled", 13);
  const size_t consented = pub.Add("consented", 12);
  const size_t diff = pub.Subset(enrolled, consented);
  EXPECT_EQ(pub.name(diff), "enrolled - consented");
  EXPECT_EQ(pub.value(diff), 1);
  const auto shown = pub.Protect();
  EXPECT_TRUE(shown[diff].withheld);
  EXPECT_EQ(ShownJson(shown[enrolled]), 10);
  EXPECT_EQ(ShownJson(shown[consented]), 10);
}

// A random cohort published the way the portal publishes it (totals per stage; rows by month,
// by category and by programme, categories nested in programmes; nested stages), in small
// sizes so that the exact LP attack is cheap. After Protect, neither propagation nor the exact
// LP finds any count whose range breaks the promise; with rounding alone the attack succeeds
// on some tables, so the attack can fail.
struct Cohort {
  Publication pub;
};

Publication RandomCohort(Lcg& rng) {
  const int months = 2 + static_cast<int>(rng.Below(3)), categories = 3, stages = 3;
  const int people = static_cast<int>(rng.Below(70));
  // counts[month][category][furthest stage]
  std::vector<std::vector<std::vector<int64_t>>> n(
      months, std::vector<std::vector<int64_t>>(categories, std::vector<int64_t>(stages, 0)));
  for (int p = 0; p < people; ++p) {
    ++n[rng.Below(months)][rng.Below(categories)][rng.Below(stages)];
  }
  auto reached = [&](int m, int c, int s) {  // m or c < 0: all
    int64_t v = 0;
    for (int mm = 0; mm < months; ++mm) {
      for (int cc = 0; cc < categories; ++cc) {
        for (int ss = s; ss < stages; ++ss) {
          if ((m < 0 || m == mm) && (c < 0 || c == cc)) v += n[mm][cc][ss];
        }
      }
    }
    return v;
  };
  Publication pub;
  const int program_of[] = {0, 0, 1};
  std::vector<size_t> total(stages);
  std::vector<std::vector<size_t>> by_month(months), by_category(categories), by_program(2);
  for (int s = 0; s < stages; ++s) {
    total[s] = pub.Add("total." + std::to_string(s), reached(-1, -1, s));
    for (int m = 0; m < months; ++m) {
      by_month[m].push_back(pub.Add("month" + std::to_string(m) + "." + std::to_string(s),
                                    reached(m, -1, s)));
    }
    for (int c = 0; c < categories; ++c) {
      by_category[c].push_back(pub.Add("cat" + std::to_string(c) + "." + std::to_string(s),
                                       reached(-1, c, s)));
    }
    for (int g = 0; g < 2; ++g) {
      int64_t v = 0;
      for (int c = 0; c < categories; ++c) v += program_of[c] == g ? reached(-1, c, s) : 0;
      by_program[g].push_back(pub.Add("prog" + std::to_string(g) + "." + std::to_string(s), v));
    }
    std::vector<size_t> ms, cs, gs;
    for (int m = 0; m < months; ++m) ms.push_back(by_month[m][s]);
    for (int c = 0; c < categories; ++c) cs.push_back(by_category[c][s]);
    for (int g = 0; g < 2; ++g) gs.push_back(by_program[g][s]);
    pub.Sum(total[s], ms);
    pub.Sum(total[s], cs);
    pub.Sum(total[s], gs);
    pub.Sum(by_program[0][s], {by_category[0][s], by_category[1][s]});
    pub.Sum(by_program[1][s], {by_category[2][s]});
  }
  // The differences between stages add up like the stages: the total's difference is the sum
  // of the rows' differences (a reader knows it, so the publisher must too).
  for (int s = 0; s + 1 < stages; ++s) {
    const size_t total_diff = pub.Subset(total[s], total[s + 1]);
    std::vector<size_t> program_diff;
    for (auto& row : by_program) program_diff.push_back(pub.Subset(row[s], row[s + 1]));
    for (auto* rows : {&by_month, &by_category}) {
      std::vector<size_t> diffs;
      for (auto& row : *rows) diffs.push_back(pub.Subset(row[s], row[s + 1]));
      pub.Sum(total_diff, diffs);
      if (rows == &by_category) {
        pub.Sum(program_diff[0], {diffs[0], diffs[1]});
        pub.Sum(program_diff[1], {diffs[2]});
      }
    }
    pub.Sum(total_diff, program_diff);
  }
  return pub;
}

std::vector<Range> StartOf(const std::vector<Shown>& shown) {
  std::vector<Range> start;
  for (const Shown& s : shown) start.push_back(RangeOf(s));
  return start;
}

TEST(ProtectTest, RandomCohortsWithstandTheExactLpAttack) {
  Lcg rng{2026};
  int rounding_alone_broken = 0;
  for (int trial = 0; trial < 25; ++trial) {
    const Publication pub = RandomCohort(rng);
    ReaderSystem names;
    for (size_t i = 0; i < pub.size(); ++i) names.Count(pub.name(i), {});
    std::vector<Shown> rounded(pub.size());
    for (size_t i = 0; i < pub.size(); ++i) {
      rounded[i] = pub.published(i) ? Round(pub.value(i)) : Shown{0, true};
    }
    rounding_alone_broken +=
        !testing::Breaches(names, ExactRanges(StartOf(rounded), pub.relations())).empty();
    const auto shown = pub.Protect();
    for (size_t i = 0; i < pub.size(); ++i) {
      ASSERT_TRUE(shown[i].withheld || pub.published(i));
      if (!shown[i].withheld) {
        ASSERT_EQ(shown[i], Round(pub.value(i)));
      }
    }
    const auto exact = ExactRanges(StartOf(shown), pub.relations());
    ASSERT_EQ(exact.size(), pub.size());
    for (const auto& b : testing::Breaches(names, exact)) {
      ADD_FAILURE() << "trial " << trial << ": " << b.name << " in " << b.range.lo << ".."
                    << b.range.hi;
    }
    for (size_t i = 0; i < pub.size(); ++i) {
      EXPECT_LE(exact[i].lo, pub.value(i));
      EXPECT_GE(exact[i].hi, pub.value(i));
    }
  }
  EXPECT_GT(rounding_alone_broken, 0) << "the attack never succeeds: it cannot fail";
}

// The property over many larger random cohorts, attacked by propagation (cheap).
TEST(ProtectTest, RandomCohortsWithstandPropagation) {
  Lcg rng{99};
  for (int trial = 0; trial < 200; ++trial) {
    const Publication pub = RandomCohort(rng);
    ReaderSystem names;
    for (size_t i = 0; i < pub.size(); ++i) names.Count(pub.name(i), {});
    const auto ranges = Propagate(StartOf(pub.Protect()), pub.relations());
    for (const auto& b : testing::Breaches(names, ranges)) {
      ADD_FAILURE() << "trial " << trial << ": " << b.name;
    }
  }
}

TEST(ProtectTest, DependsOnlyOnTheBands) {
  // The same publication with every count moved elsewhere inside its band: the same answer.
  Lcg rng{5};
  for (int trial = 0; trial < 50; ++trial) {
    const Publication pub = RandomCohort(rng);
    Publication moved;
    for (size_t i = 0; i < pub.size(); ++i) {
      const int64_t v = pub.value(i) / kBase * kBase + rng.Below(kBase);
      if (pub.published(i)) {
        moved.Add(pub.name(i), v);
      } else {
        moved.Implied(pub.name(i), v);
      }
    }
    for (const SumRelation& s : pub.relations()) moved.Sum(s.whole, s.parts);
    const auto first = pub.Protect();
    (void)Publication().Protect();  // so that the second answer is computed, not remembered
    EXPECT_EQ(first, moved.Protect()) << "trial " << trial;
  }
}

}  // namespace
}  // namespace zengen::portal
