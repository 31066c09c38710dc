// The public data portal's aggregates (R4.9): the program's progress — enrolled, consented,
// specimens received, sequenced, QC passed, analysed, released — counted per participant and
// broken down by month of enrolment, program, disease category and facility.
//
// Small counts never leave the server: every count from 1 to kMinPublished - 1 is replaced by
// the marker "<10" here (primary suppression), and where a published total would let a
// suppressed cell be derived by subtraction, the next-smallest cell of that line is suppressed
// too (secondary suppression). The browser only ever sees the suppressed tables.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/result.h"
#include "http/http.h"
#include "storage/store.h"

namespace zengen::portal {

// Counts below this (and above zero) are not published.
inline constexpr int64_t kMinPublished = 10;
// How a suppressed count from 1 to 9 is published.
inline constexpr const char* kSuppressedMarker = "<10";
// How a count withheld by secondary suppression (it may be 10 or more) is published.
inline constexpr const char* kWithheldMarker = "x";

// A count as published: its value, unless suppressed.
struct Cell {
  int64_t value = 0;
  bool suppressed = false;
  bool secondary = false;  // suppressed only so that another cell cannot be derived
  bool operator==(const Cell&) const = default;
};

// Which margins of a table are published beside it: the sums over rows (one total per
// column) and/or the sums over columns (one total per row).
struct Margins {
  bool column_totals = false;
  bool row_totals = false;
};

// A suppressed table: the cells, and which published totals must be withheld as well.
struct SuppressedTable {
  std::vector<std::vector<Cell>> cells;
  std::vector<bool> column_total_withheld;  // per column (only with Margins::column_totals)
  std::vector<bool> row_total_withheld;     // per row (only with Margins::row_totals)
};

// Suppresses a table of counts (counts[row][column], all ≥ 0; rows of equal length).
// Primary: every count in [1, kMinPublished) is suppressed. Secondary: for every line (a
// column when column totals are published, a row when row totals are) whose total is itself
// published and which holds exactly one suppressed cell, the unsuppressed non-zero cell with
// the smallest count (the first of equals) is suppressed as well — a zero cell when no other
// is left, and the line's total when the line has no other cell at all; repeated until no line
// changes, so a suppression made for a column is then checked along its row. Other zeros are
// published: they disclose no one.
SuppressedTable SuppressTable(const std::vector<std::vector<int64_t>>& counts, Margins margins);

// SuppressTable's cells alone, for tables whose totals cannot be withheld by the caller.
std::vector<std::vector<Cell>> Suppress(const std::vector<std::vector<int64_t>>& counts,
                                        Margins margins);

// Primary suppression of one count.
Cell SuppressOne(int64_t count);

// The published JSON form of a cell: the number, kSuppressedMarker or kWithheldMarker.
nlohmann::json CellJson(const Cell& c);

// The stages of progress, in program order.
const std::vector<std::string>& Stages();

// One participant's attributes and how far it has come (index i of reached ↔ Stages()[i]).
struct ParticipantProgress {
  std::string month;             // YYYY-MM of the index (enrolment) date
  std::string program;           // cancer | rare_disease
  std::string disease_category;  // e.g. lung, rd_epilepsy
  std::string facility;          // the registering hospital's organisation id
  std::vector<bool> reached;
};

// Reads every participant's progress from the participants, consent and specimen tables.
Result<std::vector<ParticipantProgress>> ReadProgress(storage::Store& store);

// The published progress document (see docs/api.md, GET /api/v1/portal/progress): totals per
// stage and one suppressed table per breakdown. facility_names maps organisation id → name.
nlohmann::json ProgressJson(const std::vector<ParticipantProgress>& participants,
                            const std::map<std::string, std::string>& facility_names,
                            const std::string& generated_at);

// The public release calendar: {"tiers":[…],"items":[{id, dataset_id, title{ja,en}, program,
// tier, release_date, embargo_months, embargo_until, public_aggregates_date}]} (the sharing
// module provides it; the portal does not depend on sharing).
using ReleaseCalendar = std::function<Result<nlohmann::json>()>;

// Registers GET /api/v1/portal/progress and GET /api/v1/portal/releases (action portal.read,
// public). store, clock and releases must outlive the router; without releases the calendar
// is empty.
Status AddPortalRoutes(http::Router& router, storage::Store& store, const Clock& clock,
                       ReleaseCalendar releases = nullptr);

}  // namespace zengen::portal
