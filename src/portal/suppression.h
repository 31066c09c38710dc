// Disclosure control for every public figure (R4.9; issue 12, finding 5): the one place that
// decides how a count of people is published. The portal's progress tables, the release
// aggregates and any future public figure go through Publication::Protect.
//
// The rule: no count from 1 to 9 can be derived from any combination of the numbers published
// at the same time — rows, totals, linked tables, stages that are subsets of each other.
//
// The method (docs/security.md, "Public figures"):
//  1. Every published count, totals included, is rounded down to its band of width kBase: 0..9
//     is published as kSmallMarker ("<10", zero included, so a reader never learns that a cell
//     is non-empty), 10..19 as 10, 20..29 as 20, and so on. Rounding is deterministic: asking
//     again gives the same answer, so nothing averages out.
//  2. Rounding alone is not enough once a population is cut two ways: ten months of 9 people
//     each beside a total of 90 pin every month to exactly 9. So the whole publication — every
//     figure of every public endpoint, with the linear relations a reader knows (a total is the
//     sum of its rows, a disease category is part of its programme, a later stage is a subset of
//     an earlier one) — is audited: interval propagation computes the range every count is
//     confined to, and while some count's range reaches into 1..9 without covering all of 1..9,
//     one more figure is withheld (kWithheldMarker, "x"). The audit reads only the published
//     bands, never the exact counts, so which figures are withheld depends on nothing a reader
//     could not compute from the bands themselves.
//
// The promise (what the attack tests check): for every count — published, withheld or implied
// (a total minus its rows, one stage minus the next) — the range a reader can derive from all
// published figures either stays clear of 1..9 or contains every value from 1 to 9 (from the
// least value the mere listing of rows already implies, when that is more than 1).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace zengen::portal {

// Published counts are multiples of this; smaller counts are shown as kSmallMarker.
inline constexpr int64_t kBase = 10;
inline constexpr const char* kSmallMarker = "<10";
// A figure withheld so that another cannot be narrowed down.
inline constexpr const char* kWithheldMarker = "x";
// "No upper bound known" in a Range.
inline constexpr int64_t kUnbounded = std::numeric_limits<int64_t>::max() / 4;

// The values a count may take as far as a reader can tell: lo ≤ count ≤ hi.
struct Range {
  int64_t lo = 0;
  int64_t hi = kUnbounded;
  bool operator==(const Range&) const = default;
};

// Whether a derived range keeps the promise: it stays clear of 1..9, or it covers every value
// from 1 to 9 that `baseline` allows. The baseline is what a reader knows without any figure
// (a row is listed only because someone is in it, so its count is at least 1; four categories
// listed under a programme make the programme at least 4): publishing may not narrow a small
// count beyond it.
bool KeepsPromise(Range r, Range baseline = {});

// How a count is published.
struct Shown {
  int64_t band = 0;       // lower end of the band (a multiple of kBase); meaningless if withheld
  bool withheld = false;  // published as kWithheldMarker
  bool operator==(const Shown&) const = default;
};

// Rounds a count (≥ 0) down to its band.
Shown Round(int64_t count);
// The published JSON form: kWithheldMarker, kSmallMarker for band 0, otherwise the band's lower
// end as a number.
nlohmann::json ShownJson(const Shown& s);
// What a reader knows from a published form: [band, band + kBase - 1], or [0, kUnbounded] when
// withheld.
Range RangeOf(const Shown& s);
// The JSON description of the method published beside the figures:
// {"base":10,"rounding":"down","marker":"<10","withheld":"x"}.
nlohmann::json MethodJson();

// A linear relation a reader knows: the count `whole` is exactly the sum of `parts`.
struct SumRelation {
  size_t whole = 0;
  std::vector<size_t> parts;
  bool operator==(const SumRelation&) const = default;
};

// Interval propagation to a fixed point over counts that are integers ≥ 0: starting from
// `start`, repeatedly tightens every count from every relation (a whole lies between the sums of
// its parts' bounds; a part lies between the whole's bounds minus the other parts' bounds)
// until nothing changes. Sound: every bound it returns is implied by the start ranges and the
// relations, so every assignment satisfying them lies inside the result. Terminates because
// bounds only tighten and are integers between finite limits (an unbounded hi tightens to a
// finite one at most once). If the ranges contradict the relations (never for true data), some
// range ends with lo > hi. `causes`, when given, receives per count the index of the relation
// that last raised its lo (first) and lowered its hi (second), or SIZE_MAX.
std::vector<Range> Propagate(std::vector<Range> start, const std::vector<SumRelation>& sums,
                             std::vector<std::pair<size_t, size_t>>* causes = nullptr);

// The set of counts published together, with the relations between them.
class Publication {
 public:
  // A count that is published. Returns its id (0, 1, 2, … in order of addition). REQUIRES:
  // value ≥ 0.
  size_t Add(std::string name, int64_t value);
  // A count that is not published but is implied by the published ones and must be protected
  // as well (e.g. those enrolled but not consented).
  size_t Implied(std::string name, int64_t value);
  // whole = Σ parts. REQUIRES: the ids exist and the values add up (the relation is true).
  void Sum(size_t whole, std::vector<size_t> parts);
  // Tells the audit that a reader knows the count is at least 1 (its row is shown only
  // because someone is in it).
  void AtLeastOne(size_t id) { at_least_one_[id] = true; }
  // A headline figure (e.g. a stage total): withheld only when no other figures — one, or all
  // those the offending bound rests on, round after round — mend the count at hand.
  void Headline(size_t id) { headline_[id] = true; }
  // part ⊆ whole: adds the implied count whole − part (named "<whole> - <part>") and the
  // relation whole = part + difference. Returns the difference's id. REQUIRES: whole ≥ part.
  size_t Subset(size_t whole, size_t part);

  // The published form of every count (implied ones: withheld), such that every range derived
  // by Propagate from the published forms and the relations keeps the promise. Deterministic;
  // depends only on the bands of the counts, never on the exact values. The last answer is
  // kept (keyed by the bands and relations), so that the endpoints sharing one publication do
  // not each repeat the audit. Thread-safe.
  std::vector<Shown> Protect() const;

  size_t size() const { return names_.size(); }
  const std::string& name(size_t id) const { return names_[id]; }
  int64_t value(size_t id) const { return values_[id]; }
  bool published(size_t id) const { return published_[id]; }
  const std::vector<SumRelation>& relations() const { return sums_; }
  // What a reader knows of each count from the published forms alone (RangeOf, raised to 1
  // where AtLeastOne was called): the start of every attack.
  std::vector<Range> ReaderRanges(const std::vector<Shown>& shown) const;

 private:
  // Protect without the memo: withholds figures of `shown` (the rounded forms) until the
  // promise holds.
  std::vector<Shown> Audit(std::vector<Shown> shown) const;
  // The non-headline figures to withhold, besides those withheld in `shown`, so that the
  // count `violated` keeps the promise: the published figures its offending bound rests on,
  // round after round. Empty when headline figures would have to go as well.
  std::vector<size_t> MendWithoutHeadlines(const std::vector<Shown>& shown, size_t violated,
                                           const std::vector<Range>& baseline) const;

  std::vector<std::string> names_;
  std::vector<int64_t> values_;
  std::vector<bool> published_;
  std::vector<bool> at_least_one_;
  std::vector<bool> headline_;
  std::vector<SumRelation> sums_;
};

}  // namespace zengen::portal
