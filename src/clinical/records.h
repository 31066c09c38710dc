// Clinical records (R2.1–R2.3, R2.5): versioned per participant and category in the table
// clinical_records; drafts, submission with full validation, history, completeness, bulk CSV
// import and export, and the operator's code lists for licensed terminologies.
//
// Every write adds a version row (who, when, why) and reports an AuditSink event
// (action clinical.write, resource participant/<id>; a bulk import reports one event for the
// file, resource clinical/<category>, because each of its rows already carries who/when/why).
//
// Thread safety: ClinicalStore is thread-safe.
#pragma once

#include <functional>

#include <chrono>
#include <functional>
#include <istream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "clinical/dictionary.h"
#include "clinical/validate.h"
#include "common/audit_event.h"
#include "common/clock.h"
#include "common/result.h"
#include "storage/store.h"

namespace zengen::clinical {

struct Record {
  std::string participant_id;
  std::string category;
  int64_t version = 0;
  std::string status;  // draft | submitted
  std::string dictionary_version;
  json data;
  std::string changed_by;
  std::string changed_at;
  std::string reason;
};
json RecordJson(const Record& r);

struct Actor {
  std::string id;          // user or token id, or "cli"
  std::string source;      // IP address or "cli"
  std::string request_id;  // empty outside requests
};

struct ParticipantInfo {
  std::string id;
  std::string hospital;
  std::string program;
  std::string index_date;
};

// One problem of one CSV row. row is the line of the file where the row starts (the header is
// line 1); field is the column's field path ("" for the row as a whole).
struct RowProblem {
  int64_t row = 0;
  std::string participant_id;
  std::string field;
  std::string code;
  Text message;
};
json RowProblemsJson(const std::vector<RowProblem>& ps);

struct ImportOptions {
  // When non-empty, every row's participant must belong to this hospital (a clinician imports
  // for their own hospital only).
  std::string hospital;
  std::string reason = "bulk import";
  Actor actor;
};

struct ImportReport {
  int64_t rows = 0;  // versions written
  double seconds_validate = 0;
  double seconds_write = 0;
};

// Status of one category of one participant, for the overview route.
struct CategoryStatus {
  std::string category;
  std::optional<Record> current;  // absent when nothing was saved yet
  Completeness completeness;
  size_t problems = 0;  // submit-mode problems of the current data
};

// Replaces the code list of system (a code system of the built-in dictionary) with the codes
// read from in, one per line (text after a tab is ignored, so "code<TAB>title" files from a
// licensed release work and titles are never stored; blank lines and lines starting with #
// are skipped), in one transaction. Every code must have the system's format. Returns the
// number of distinct codes. Errors: kInvalidArgument "unknown_system", "invalid_code" (field
// "line N"), "empty_code_list". before_commit, when given, runs inside that transaction with
// the number of codes just before it commits (e.g. to append the audit record there); its
// error abandons the transaction.
Result<int64_t> LoadCodeList(
    storage::Store& store, std::string_view system, std::istream& in,
    const std::function<Status(storage::Transaction&, int64_t codes)>& before_commit = {});

// The code lists in the store.
Result<CodeLists> ReadCodeLists(storage::Store& store);

class ClinicalStore {
 public:
  // dictionary must outlive the store.
  ClinicalStore(storage::Store& store, const Clock& clock, AuditSink& audit,
                const Dictionary& dictionary = BuiltinDictionary());

  const Dictionary& dictionary() const { return dict_; }
  storage::Store& store() { return store_; }

  // Errors: kNotFound "participant_not_found".
  Result<ParticipantInfo> Participant(std::string_view participant_id);

  // Saves data as a new draft version. Draft-mode validation (everything but "required").
  // reason may be empty until the category has been submitted once, then it is required.
  // Errors: kInvalidArgument "validation_failed" (field: the first problem's path; *problems
  // receives all of them), "reason_required"; kNotFound "participant_not_found",
  // "unknown_category".
  Result<Record> SaveDraft(std::string_view participant_id, std::string_view category,
                           const json& data, std::string_view reason, const Actor& actor,
                           std::vector<Problem>* problems = nullptr);
  // Submits data (or, when data is nullopt, the current version's data) as a new submitted
  // version after full validation; on any problem nothing is written. Errors as SaveDraft,
  // plus kNotFound "no_record" when data is nullopt and nothing was saved.
  Result<Record> Submit(std::string_view participant_id, std::string_view category,
                        const std::optional<json>& data, std::string_view reason,
                        const Actor& actor, std::vector<Problem>* problems = nullptr);
  // The highest version, or nullopt when none.
  Result<std::optional<Record>> Current(std::string_view participant_id,
                                        std::string_view category);
  // All versions, oldest first.
  Result<std::vector<Record>> History(std::string_view participant_id, std::string_view category);
  // One entry per dictionary category.
  Result<std::vector<CategoryStatus>> Summary(std::string_view participant_id);
  // Submit-mode problems of data for this participant (for the UI: what is still missing).
  Result<std::vector<Problem>> Check(std::string_view participant_id, std::string_view category,
                                     const json& data);

  // Imports a CSV file for one category: header "participant_id,<field codes…>" (any subset
  // of the category's top-level fields, in any order); list fields hold a JSON array in one
  // cell; an empty cell is an absent value. The whole file is validated first (CSV syntax,
  // ragged rows, unknown or duplicate participants, hospital, submit-mode validation of each
  // row); if any row has a problem NOTHING is written and the error is kInvalidArgument
  // "import_rejected" with every problem in *problems. Otherwise every row becomes a new
  // submitted version, all in ONE transaction.
  Result<ImportReport> Import(std::string_view category, std::string_view csv,
                              const ImportOptions& options,
                              std::vector<RowProblem>* problems = nullptr);
  // The latest submitted version of each participant (of hospital, or all when empty) as CSV
  // in the import format, every top-level field of the category as a column, ordered by
  // participant id. Import(ExportCsv(c)) reproduces the same data. Participants for whom
  // `leave_out` answers true (fully withdrawn ones, for exports that leave the data centre's
  // reach) are not exported; its error ends the export.
  Result<std::string> ExportCsv(
      std::string_view category, std::string_view hospital,
      const std::function<Result<bool>(std::string_view participant_id)>& leave_out = nullptr);

  // The current record of every category of a participant (for FHIR export).
  Result<std::vector<Record>> CurrentRecords(std::string_view participant_id);

  // Replaces a code list (LoadCodeList) and makes validation use it at once.
  Result<int64_t> LoadCodes(std::string_view system, std::istream& in, const Actor& actor);
  // The loaded code lists (cached; reloaded after LoadCodes or a minute).
  Result<std::shared_ptr<const CodeLists>> Lists();

 private:
  Result<Record> Write(std::string_view participant_id, std::string_view category,
                       const std::optional<json>& data, std::string_view reason,
                       const Actor& actor, Mode mode, std::vector<Problem>* problems);

  storage::Store& store_;
  const Clock& clock_;
  AuditSink& audit_;
  const Dictionary& dict_;
  std::mutex mu_;
  std::shared_ptr<const CodeLists> lists_;
  std::chrono::steady_clock::time_point lists_loaded_;
};

// CLI helpers for the lead to wire:
//   zengen codes load --data DIR --system S FILE      → LoadCodeListFile
//   zengen import clinical --data DIR [--category C] FILE.csv → ImportCsvFile
// The category defaults to the file's stem when it names one ("diagnosis.csv").
Result<int64_t> LoadCodeListFile(ClinicalStore& clinical, std::string_view system,
                                 const std::string& path);
Result<ImportReport> ImportCsvFile(ClinicalStore& clinical, std::string category,
                                   const std::string& path, std::vector<RowProblem>* problems);

// Problems as text lines for the CLI ("line 12 P00011 hsct_day: required — …"), at most max
// lines plus a line saying how many more there were.
std::string FormatRowProblems(const std::vector<RowProblem>& problems, size_t max = 100);

// RFC 4180 CSV, as used by import and export.
struct CsvRow {
  int64_t line = 0;  // line where the row starts, 1-based
  std::vector<std::string> cells;
};
// Errors: kInvalidArgument "malformed_csv" with field "line N" (an unterminated quote, a quote
// inside an unquoted cell, text after a closing quote).
Result<std::vector<CsvRow>> ParseCsv(std::string_view text);
void AppendCsvCell(std::string& out, std::string_view cell);

}  // namespace zengen::clinical
