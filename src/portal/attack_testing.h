// Test-only: the attacker of the disclosure-control tests. It reads published figures as a
// client would, writes down every linear relation a reader knows between them, and computes the
// range of values each count can still take — exactly, with a small dense simplex, for small
// systems, and by interval propagation (portal::Propagate, sound) for whole publications.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "portal/suppression.h"

namespace zengen::portal::testing {

// max c·x over {A x = b, x ≥ 0} by the two-phase simplex with Bland's rule (so it cannot
// cycle). nullopt when infeasible; kUnbounded as a double when unbounded.
std::optional<double> Maximise(const std::vector<std::vector<double>>& a,
                               const std::vector<double>& b, const std::vector<double>& c);

// The exact integer-rounded LP range of every count: for each i, [⌈min x_i⌉, ⌊max x_i⌋] over
// real x with start[i].lo ≤ x_i ≤ start[i].hi and every relation. The integer range a reader
// can derive lies inside it, and it lies inside the range Propagate returns.
std::vector<Range> ExactRanges(const std::vector<Range>& start,
                               const std::vector<SumRelation>& sums);

// A system of counts as a reader rebuilds it from published JSON.
struct ReaderSystem {
  std::vector<std::string> names;
  std::vector<Range> start;
  std::vector<SumRelation> sums;
  // What the reader knows without any figure: 1 where a row is listed only because someone is
  // in it, else 0.
  std::vector<int64_t> known_lo;
  size_t Count(std::string name, Range r);
  // The count is at least 1 (its row is listed only because someone is in it).
  void AtLeastOne(size_t id);
  size_t Find(const std::string& name) const;  // names.size() if absent
  // whole ⊇ part: adds the unpublished count whole − part ("whole - part").
  size_t Subset(size_t whole, size_t part);
};

// How a reader interprets a published value. kBands is today's rule (MethodJson): a number is
// the lower end of a band of width 10, "<10" is 0..9, "x" unknown. kExact is the rule of the
// publishing code before issue 12: a number is exact, "<10" is 1..9, "x" unknown.
enum class Reading { kExact, kBands };
Range Read(const nlohmann::json& v, Reading reading);
// The reading a document announces: kBands when its "suppression" object carries a "base".
Reading ReadingOf(const nlohmann::json& doc);

// Adds what GET /api/v1/portal/progress publishes: every stage total and breakdown row, every
// table adding up to the stage totals, disease categories adding up to their programme (the
// reader knows which category belongs to which programme: `program_of`), quarters adding up
// their months and cumulative months adding up month by month, and the stages nested as the
// document's "nesting" says (each [whole, part] pair of stage names, in every row and in the
// totals). Returns the id of the total of each stage by name, for linking release figures.
void AddProgress(ReaderSystem& sys, const nlohmann::json& progress,
                 const std::map<std::string, std::string>& program_of);
// Adds what GET /api/v1/releases/{id}/aggregates publishes for one release (one document per
// field queried, all for the same release): participants = Σ disease categories = Σ values of
// each field; and, when the progress document was added first, the release's participants are
// a subset of the released stage (in total and per disease category).
void AddReleaseAggregates(ReaderSystem& sys, const std::vector<nlohmann::json>& docs);

// A count whose derived range breaks the promise.
struct Breach {
  std::string name;
  Range range;
};
// The counts of `ranges` that do not keep the promise (KeepsPromise against the baseline the
// reader has from known_lo alone).
std::vector<Breach> Breaches(const ReaderSystem& sys, const std::vector<Range>& ranges);

}  // namespace zengen::portal::testing
