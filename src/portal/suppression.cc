#include "portal/suppression.h"

#include <algorithm>
#include <deque>
#include <mutex>
#include <tuple>

namespace zengen::portal {
namespace {

constexpr size_t kNoCause = static_cast<size_t>(-1);

// Both operands are at most kUnbounded (a quarter of the int64 range), so the sum cannot
// overflow before it is clamped.
int64_t AddClamped(int64_t a, int64_t b) { return std::min(a + b, kUnbounded); }

}  // namespace

bool KeepsPromise(Range r, Range baseline) {
  if (r.hi < 1 || r.lo > kBase - 1) return true;
  return r.lo <= std::max<int64_t>(1, baseline.lo) && r.hi >= kBase - 1;
}

Shown Round(int64_t count) { return {std::max<int64_t>(count, 0) / kBase * kBase, false}; }

nlohmann::json ShownJson(const Shown& s) {
  if (s.withheld) return kWithheldMarker;
  if (s.band == 0) return kSmallMarker;
  return s.band;
}

Range RangeOf(const Shown& s) {
  if (s.withheld) return {0, kUnbounded};
  return {s.band, s.band + kBase - 1};
}

nlohmann::json MethodJson() {
  return {{"base", kBase}, {"rounding", "down"}, {"marker", kSmallMarker},
          {"withheld", kWithheldMarker}};
}

std::vector<Range> Propagate(std::vector<Range> r, const std::vector<SumRelation>& sums,
                             std::vector<std::pair<size_t, size_t>>* causes) {
  if (causes != nullptr) causes->assign(r.size(), {kNoCause, kNoCause});
  for (Range& x : r) x.lo = std::max<int64_t>(x.lo, 0);
  std::vector<std::vector<size_t>> relations_of(r.size());
  for (size_t i = 0; i < sums.size(); ++i) {
    relations_of[sums[i].whole].push_back(i);
    for (size_t p : sums[i].parts) relations_of[p].push_back(i);
  }
  std::deque<size_t> queue;
  std::vector<bool> queued(sums.size(), true);
  for (size_t i = 0; i < sums.size(); ++i) queue.push_back(i);
  bool contradiction = false;
  auto tighten = [&](size_t v, int64_t lo, int64_t hi, size_t relation) {
    bool changed = false;
    if (lo > r[v].lo) {
      r[v].lo = lo;
      if (causes != nullptr) (*causes)[v].first = relation;
      changed = true;
    }
    if (hi < r[v].hi) {
      r[v].hi = hi;
      if (causes != nullptr) (*causes)[v].second = relation;
      changed = true;
    }
    // Contradictory ranges could raise bounds forever; they never come from true data.
    if (r[v].lo > r[v].hi) contradiction = true;
    if (!changed) return;
    for (size_t rel : relations_of[v]) {
      if (!queued[rel]) {
        queued[rel] = true;
        queue.push_back(rel);
      }
    }
  };
  while (!queue.empty() && !contradiction) {
    const size_t rel = queue.front();
    queue.pop_front();
    queued[rel] = false;
    const SumRelation& s = sums[rel];
    int64_t parts_lo = 0, parts_hi = 0;
    size_t unbounded_parts = 0;
    for (size_t p : s.parts) {
      parts_lo = AddClamped(parts_lo, r[p].lo);
      if (r[p].hi >= kUnbounded) {
        ++unbounded_parts;
      } else {
        parts_hi = AddClamped(parts_hi, r[p].hi);
      }
    }
    tighten(s.whole, parts_lo, unbounded_parts > 0 ? kUnbounded : parts_hi, rel);
    const Range whole = r[s.whole];
    for (size_t p : s.parts) {
      const bool self_unbounded = r[p].hi >= kUnbounded;
      const size_t others_unbounded = unbounded_parts - (self_unbounded ? 1 : 0);
      const int64_t others_hi = parts_hi - (self_unbounded ? 0 : r[p].hi);
      const int64_t others_lo = parts_lo - r[p].lo;
      const int64_t lo = others_unbounded > 0 ? 0 : whole.lo - others_hi;
      const int64_t hi = whole.hi >= kUnbounded ? kUnbounded : whole.hi - others_lo;
      tighten(p, lo, hi, rel);
    }
  }
  return r;
}

size_t Publication::Add(std::string name, int64_t value) {
  names_.push_back(std::move(name));
  values_.push_back(value);
  published_.push_back(true);
  at_least_one_.push_back(false);
  headline_.push_back(false);
  return names_.size() - 1;
}

size_t Publication::Implied(std::string name, int64_t value) {
  const size_t id = Add(std::move(name), value);
  published_[id] = false;
  return id;
}

void Publication::Sum(size_t whole, std::vector<size_t> parts) {
  sums_.push_back({whole, std::move(parts)});
}

size_t Publication::Subset(size_t whole, size_t part) {
  const size_t diff =
      Implied(names_[whole] + " - " + names_[part], values_[whole] - values_[part]);
  Sum(whole, {part, diff});
  return diff;
}

std::vector<Range> Publication::ReaderRanges(const std::vector<Shown>& shown) const {
  std::vector<Range> out(shown.size());
  for (size_t i = 0; i < shown.size(); ++i) {
    out[i] = RangeOf(shown[i]);
    if (at_least_one_[i]) out[i].lo = std::max<int64_t>(out[i].lo, 1);
  }
  return out;
}

namespace {

// The published figures a derived bound rests on: follows the relation that last moved the
// bound (Propagate's causes) to the bounds it was computed from, down to counts whose bound is
// their own published band. `lo_side` picks the lower (true) or upper bound of `v`.
void Explain(size_t v, bool lo_side, const std::vector<Range>& ranges,
             const std::vector<std::pair<size_t, size_t>>& causes,
             const std::vector<SumRelation>& sums, std::vector<std::vector<bool>>& seen,
             std::vector<size_t>& leaves) {
  if (seen[lo_side ? 0 : 1][v]) return;
  seen[lo_side ? 0 : 1][v] = true;
  // A trivial bound (0, or none) narrows nothing.
  if (lo_side ? ranges[v].lo <= 0 : ranges[v].hi >= kUnbounded) return;
  const size_t rel = lo_side ? causes[v].first : causes[v].second;
  if (rel == kNoCause) {
    leaves.push_back(v);
    return;
  }
  const SumRelation& s = sums[rel];
  if (s.whole == v) {
    for (size_t p : s.parts) Explain(p, lo_side, ranges, causes, sums, seen, leaves);
    return;
  }
  Explain(s.whole, lo_side, ranges, causes, sums, seen, leaves);
  for (size_t p : s.parts) {
    if (p != v) Explain(p, !lo_side, ranges, causes, sums, seen, leaves);
  }
}

size_t CountBroken(const std::vector<Range>& ranges, const std::vector<Range>& baseline) {
  size_t broken = 0;
  for (size_t i = 0; i < ranges.size(); ++i) broken += KeepsPromise(ranges[i], baseline[i]) ? 0 : 1;
  return broken;
}

// How many candidate withholdings are tried per step (each costs one propagation).
constexpr size_t kTrials = 6;

}  // namespace

std::vector<Shown> Publication::Protect() const {
  const size_t n = size();
  std::vector<Shown> rounded(n);
  for (size_t i = 0; i < n; ++i) {
    rounded[i] = published_[i] ? Round(values_[i]) : Shown{0, true};
  }
  // One publication is read by several endpoints in turn; the audit is the same for the same
  // bands and relations.
  struct Memo {
    std::vector<Shown> rounded;
    std::vector<bool> at_least_one;
    std::vector<bool> headline;
    std::vector<SumRelation> sums;
    std::vector<Shown> result;
  };
  static std::mutex mu;
  static Memo memo;
  {
    std::lock_guard lock(mu);
    if (memo.rounded == rounded && memo.at_least_one == at_least_one_ &&
        memo.headline == headline_ && memo.sums == sums_) {
      return memo.result;
    }
  }
  std::vector<Shown> result = Audit(std::move(rounded));
  std::lock_guard lock(mu);
  memo = {std::vector<Shown>(), at_least_one_, headline_, sums_, result};
  memo.rounded.resize(n);
  for (size_t i = 0; i < n; ++i) {
    memo.rounded[i] = published_[i] ? Round(values_[i]) : Shown{0, true};
  }
  return result;
}

std::vector<size_t> Publication::MendWithoutHeadlines(const std::vector<Shown>& start,
                                                      size_t violated,
                                                      const std::vector<Range>& baseline) const {
  const size_t n = size();
  std::vector<Shown> trial = start;
  std::vector<size_t> group;
  // Each round withholds at least one more figure, so at most n rounds.
  for (;;) {
    std::vector<std::pair<size_t, size_t>> causes;
    const std::vector<Range> ranges = Propagate(ReaderRanges(trial), sums_, &causes);
    const Range r = ranges[violated];
    if (KeepsPromise(r, baseline[violated])) return group;
    std::vector<size_t> leaves;
    std::vector<std::vector<bool>> seen(2, std::vector<bool>(n, false));
    if (r.lo > std::max<int64_t>(1, baseline[violated].lo)) {
      Explain(violated, true, ranges, causes, sums_, seen, leaves);
    }
    if (r.hi < kBase - 1) Explain(violated, false, ranges, causes, sums_, seen, leaves);
    size_t added = 0;
    for (size_t u : leaves) {
      if (headline_[u] || !published_[u] || trial[u].withheld) continue;
      trial[u].withheld = true;
      group.push_back(u);
      ++added;
    }
    if (added == 0) return {};
  }
}

std::vector<Shown> Publication::Audit(std::vector<Shown> shown) const {
  const size_t n = size();
  auto withholdable = [&](size_t u) { return published_[u] && !shown[u].withheld; };
  std::vector<Shown> nothing(n, Shown{0, true});
  const std::vector<Range> baseline = Propagate(ReaderRanges(nothing), sums_);
  // Each round withholds one more published figure, so there are at most n rounds; with
  // everything withheld every range is [0, kUnbounded] (or [1, kUnbounded]), which keeps the
  // promise.
  std::vector<std::pair<size_t, size_t>> causes;
  std::vector<Range> ranges = Propagate(ReaderRanges(shown), sums_, &causes);
  for (;;) {
    size_t violated = n;
    for (size_t i = 0; i < n && violated == n; ++i) {
      if (!KeepsPromise(ranges[i], baseline[i])) violated = i;
    }
    if (violated == n) return shown;
    // The published figures the offending bound rests on are the candidates. A lower bound
    // that is too high (it excludes 1) or an upper bound too low (it excludes 9) is the fault.
    const Range r = ranges[violated];
    std::vector<size_t> leaves;
    std::vector<std::vector<bool>> seen(2, std::vector<bool>(n, false));
    if (r.lo > std::max<int64_t>(1, baseline[violated].lo)) Explain(violated, true, ranges, causes, sums_, seen, leaves);
    if (r.hi < kBase - 1) Explain(violated, false, ranges, causes, sums_, seen, leaves);
    std::vector<size_t> candidates;
    for (size_t u : leaves) {
      if (withholdable(u)) candidates.push_back(u);
    }
    std::sort(candidates.begin(), candidates.end(), [&](size_t a, size_t b) {
      const bool ha = headline_[a], hb = headline_[b];
      return std::tie(ha, shown[a].band, a) < std::tie(hb, shown[b].band, b);
    });
    candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
    if (candidates.empty()) {
      // Nothing published explains it (cannot happen for consistent data): widen everything.
      for (size_t i = 0; i < n; ++i) shown[i].withheld = true;
      return shown;
    }
    // Try the cheapest few (small bands lose least) and the largest; keep the one that mends
    // the offending count, then the one leaving fewest broken counts, then the smallest band.
    std::vector<size_t> trials(candidates.begin(),
                               candidates.begin() +
                                   static_cast<std::ptrdiff_t>(std::min(kTrials, candidates.size())));
    if (candidates.size() > kTrials) trials.push_back(candidates.back());
    // A headline figure (a stage total) goes only when nothing else mends the count: first a
    // single other figure that does; failing that, every other figure the offending bound
    // rests on, round after round on the bound that is left, until the count is mended. Only
    // when other figures cannot mend it does the headline go. (Before, a headline went as soon
    // as no single other figure mended the count: the demo's released total was withheld to
    // widen a count of about 20 whose derived lower bound was 2. Issue 12.)
    if (std::any_of(trials.begin(), trials.end(), [&](size_t u) { return headline_[u]; })) {
      std::vector<size_t> mending;
      for (size_t u : trials) {
        if (headline_[u]) continue;
        shown[u].withheld = true;
        if (KeepsPromise(Propagate(ReaderRanges(shown), sums_)[violated], baseline[violated])) {
          mending.push_back(u);
        }
        shown[u].withheld = false;
      }
      if (!mending.empty()) {
        trials = std::move(mending);
      } else if (std::vector<size_t> group = MendWithoutHeadlines(shown, violated, baseline);
                 !group.empty()) {
        for (size_t u : group) shown[u].withheld = true;
        ranges = Propagate(ReaderRanges(shown), sums_, &causes);
        continue;
      }
    }
    size_t best = n;
    std::tuple<bool, size_t> best_score{true, 0};
    std::vector<Range> best_ranges;
    std::vector<std::pair<size_t, size_t>> best_causes;
    for (size_t u : trials) {
      shown[u].withheld = true;
      std::vector<std::pair<size_t, size_t>> c;
      std::vector<Range> rr = Propagate(ReaderRanges(shown), sums_, &c);
      shown[u].withheld = false;
      const std::tuple<bool, size_t> score{!KeepsPromise(rr[violated], baseline[violated]),
                                           CountBroken(rr, baseline)};
      if (best == n || score < best_score) {
        best = u;
        best_score = score;
        best_ranges = std::move(rr);
        best_causes = std::move(c);
      }
    }
    shown[best].withheld = true;
    ranges = std::move(best_ranges);
    causes = std::move(best_causes);
  }
}

}  // namespace zengen::portal
