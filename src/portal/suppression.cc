#include "portal/suppression.h"

#include <algorithm>
#include <deque>
#include <tuple>

namespace zengen::portal {
namespace {

constexpr size_t kNoCause = static_cast<size_t>(-1);

// Both operands are at most kUnbounded (a quarter of the int64 range), so the sum cannot
// overflow before it is clamped.
int64_t AddClamped(int64_t a, int64_t b) { return std::min(a + b, kUnbounded); }

}  // namespace

bool KeepsPromise(Range r) {
  if (r.hi < 1 || r.lo > kBase - 1) return true;
  return r.lo <= 1 && r.hi >= kBase - 1;
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

std::vector<Shown> Publication::Protect() const {
  const size_t n = size();
  std::vector<Shown> shown(n);
  for (size_t i = 0; i < n; ++i) {
    shown[i] = published_[i] ? Round(values_[i]) : Shown{0, true};
  }
  std::vector<std::vector<size_t>> relations_of(n);
  for (size_t i = 0; i < sums_.size(); ++i) {
    relations_of[sums_[i].whole].push_back(i);
    for (size_t p : sums_[i].parts) relations_of[p].push_back(i);
  }
  auto members = [this](size_t rel) {
    std::vector<size_t> m = sums_[rel].parts;
    m.push_back(sums_[rel].whole);
    return m;
  };
  // Each round withholds one more published figure, so there are at most n rounds; with
  // everything withheld every range is [0, kUnbounded], which keeps the promise.
  for (;;) {
    std::vector<Range> start(n);
    for (size_t i = 0; i < n; ++i) start[i] = RangeOf(shown[i]);
    std::vector<std::pair<size_t, size_t>> causes;
    const std::vector<Range> ranges = Propagate(start, sums_, &causes);
    size_t violated = n;
    for (size_t i = 0; i < n && violated == n; ++i) {
      if (!KeepsPromise(ranges[i])) violated = i;
    }
    if (violated == n) return shown;
    // Widen nearest the violation: the relations that produced its bounds first, then every
    // relation around it, moving outwards one relation at a time. Among the published figures
    // found at the nearest distance, the smallest band goes (a "<10" is the cheapest to lose).
    std::vector<size_t> layer;
    std::vector<bool> relation_seen(sums_.size(), false), count_seen(n, false);
    count_seen[violated] = true;
    for (size_t c : {causes[violated].first, causes[violated].second}) {
      if (c != kNoCause && !relation_seen[c]) {
        relation_seen[c] = true;
        layer.push_back(c);
      }
    }
    for (size_t rel : relations_of[violated]) {
      if (!relation_seen[rel]) {
        relation_seen[rel] = true;
        layer.push_back(rel);
      }
    }
    size_t pick = n;
    while (!layer.empty() && pick == n) {
      std::vector<size_t> next;
      for (size_t rel : layer) {
        for (size_t u : members(rel)) {
          if (u != violated && published_[u] && !shown[u].withheld &&
              (pick == n || std::tie(shown[u].band, u) < std::tie(shown[pick].band, pick))) {
            pick = u;
          }
          if (count_seen[u]) continue;
          count_seen[u] = true;
          for (size_t r2 : relations_of[u]) {
            if (!relation_seen[r2]) {
              relation_seen[r2] = true;
              next.push_back(r2);
            }
          }
        }
      }
      layer = std::move(next);
    }
    if (pick == n) {
      // Nothing published is connected to the violated count except the count itself.
      if (!published_[violated] || shown[violated].withheld) {
        for (size_t i = 0; i < n; ++i) shown[i].withheld = true;
        return shown;
      }
      pick = violated;
    }
    shown[pick].withheld = true;
  }
}

}  // namespace zengen::portal
