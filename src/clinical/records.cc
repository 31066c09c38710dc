#include "clinical/records.h"

#include <charconv>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

namespace zengen::clinical {
namespace {

storage::Value SqlInt(int64_t v) { return storage::Int(v); }
storage::Value SqlText(std::string v) { return storage::Text(std::move(v)); }

constexpr const char* kRecordColumns =
    "participant_id, category, version, status, dictionary_version, data, changed_by, "
    "changed_at, reason";
// Ids per IN (…) lookup: SQLite's cost per parameter grows with their count (see InsertBatch),
// PostgreSQL pays per round trip (500 → 5000 took its 100k-row import from 22k to 35k rows/s).
size_t InBatch(storage::Backend b) { return b == storage::Backend::kSqlite ? 500 : 5000; }
// Rows per multi-row INSERT (9 parameters each). SQLite looks $N names up in a list, so its
// cost per parameter grows with the parameter count: 8 rows per statement was fastest there
// (bench/import: 8 → 36k rows/s, 32 → 29k, 128 → 16k, 250 → 10k); PostgreSQL gains from fewer
// round trips and is flat between 100 and 500.
size_t InsertBatch(storage::Backend b) { return b == storage::Backend::kSqlite ? 8 : 250; }
constexpr auto kListsTtl = std::chrono::seconds(60);

Record FromRow(const storage::Row& r) {
  Record out;
  out.participant_id = r.Text(0);
  out.category = r.Text(1);
  out.version = r.Int(2);
  out.status = r.Text(3);
  out.dictionary_version = r.Text(4);
  out.data = json::parse(r.Text(5), nullptr, false);
  out.changed_by = r.Text(6);
  out.changed_at = r.Text(7);
  out.reason = r.Text(8);
  return out;
}

std::string Placeholders(size_t first, size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s += fmt::format("{}${}", i ? "," : "", first + i);
  return s;
}

Error ValidationFailed(const std::vector<Problem>& ps) {
  return InvalidArgument(
      "validation_failed",
      fmt::format("{} problem{}; first: {} {}", ps.size(), ps.size() == 1 ? "" : "s",
                  ps.front().path.empty() ? "(record)" : ps.front().path, ps.front().message.en),
      ps.front().path);
}

// A CSV cell as the JSON value of a field of that type; text that does not parse stays a
// string so that validation reports it (wrong_type) with the field's own message.
json CellValue(const Field& f, const std::string& cell) {
  auto integer = [&](int64_t& out) {
    const char* b = cell.data();
    const char* e = b + cell.size();
    auto [p, ec] = std::from_chars(b, e, out);
    return ec == std::errc() && p == e;
  };
  switch (f.type) {
    case FieldType::kInt:
    case FieldType::kRelDay: {
      int64_t v = 0;
      if (integer(v)) return v;
      return cell;
    }
    case FieldType::kDecimal: {
      int64_t i = 0;
      if (integer(i)) return i;
      double v = 0;
      const char* b = cell.data();
      const char* e = b + cell.size();
      auto [p, ec] = std::from_chars(b, e, v);
      if (ec == std::errc() && p == e) return v;
      return cell;
    }
    case FieldType::kBool:
      if (cell == "true") return true;
      if (cell == "false") return false;
      return cell;
    case FieldType::kList: {
      json v = json::parse(cell, nullptr, false);
      if (v.is_discarded()) return cell;
      return v;
    }
    default:
      return cell;
  }
}

std::string CellText(const json& v) {
  if (v.is_null()) return "";
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

}  // namespace

json RecordJson(const Record& r) {
  return {{"participant_id", r.participant_id},
          {"category", r.category},
          {"version", r.version},
          {"status", r.status},
          {"dictionary_version", r.dictionary_version},
          {"data", r.data},
          {"changed_by", r.changed_by},
          {"changed_at", r.changed_at},
          {"reason", r.reason}};
}

json RowProblemsJson(const std::vector<RowProblem>& ps) {
  json out = json::array();
  for (const auto& p : ps) {
    out.push_back({{"row", p.row},
                   {"participant_id", p.participant_id},
                   {"field", p.field},
                   {"code", p.code},
                   {"message_key", "clinical.problem." + p.code},
                   {"message", {{"ja", p.message.ja}, {"en", p.message.en}}}});
  }
  return out;
}

std::string FormatRowProblems(const std::vector<RowProblem>& problems, size_t max) {
  std::string out;
  for (size_t i = 0; i < problems.size() && i < max; ++i) {
    const RowProblem& p = problems[i];
    out += fmt::format("line {}{}{}: {}: {}\n", p.row, p.participant_id.empty() ? "" : " ",
                       p.participant_id, p.field.empty() ? "(row)" : p.field,
                       p.code + " - " + p.message.en);
  }
  if (problems.size() > max) out += fmt::format("… and {} more\n", problems.size() - max);
  return out;
}

// ---- CSV

Result<std::vector<CsvRow>> ParseCsv(std::string_view t) {
  std::vector<CsvRow> rows;
  int64_t line = 1;
  size_t i = 0;
  const size_t n = t.size();
  if (n >= 3 && t.substr(0, 3) == "\xEF\xBB\xBF") i = 3;  // UTF-8 byte-order mark
  auto malformed = [&](int64_t at, const char* what) -> Error {
    return InvalidArgument("malformed_csv", fmt::format("line {}: {}", at, what),
                           fmt::format("line {}", at));
  };
  while (i < n) {
    CsvRow row;
    row.line = line;
    while (true) {
      std::string cell;
      if (i < n && t[i] == '"') {
        const int64_t start = line;
        ++i;
        while (true) {
          if (i >= n) return malformed(start, "a quoted cell is not closed");
          const char c = t[i];
          if (c == '"') {
            if (i + 1 < n && t[i + 1] == '"') {
              cell.push_back('"');
              i += 2;
              continue;
            }
            ++i;
            break;
          }
          if (c == '\n') ++line;
          cell.push_back(c);
          ++i;
        }
        if (i < n && t[i] != ',' && t[i] != '\n' && t[i] != '\r') {
          return malformed(line, "text after a closing quote");
        }
      } else {
        const size_t start = i;
        while (i < n && t[i] != ',' && t[i] != '\n' && t[i] != '\r') {
          if (t[i] == '"') return malformed(line, "a quote inside an unquoted cell");
          ++i;
        }
        cell.assign(t.substr(start, i - start));
      }
      row.cells.push_back(std::move(cell));
      if (i < n && t[i] == ',') {
        ++i;
        continue;
      }
      break;
    }
    if (i < n && t[i] == '\r') ++i;
    if (i < n && t[i] == '\n') ++i;
    ++line;
    // A blank line (one empty cell) is skipped.
    if (!(row.cells.size() == 1 && row.cells[0].empty())) rows.push_back(std::move(row));
  }
  return rows;
}

void AppendCsvCell(std::string& out, std::string_view cell) {
  // A cell that begins with a UTF-8 byte-order mark is quoted: unquoted at the start of the
  // text, ParseCsv would take the mark for the file's own and drop it.
  const bool quote = cell.find_first_of(",\"\r\n") != std::string_view::npos ||
                     (!cell.empty() && (cell.front() == ' ' || cell.back() == ' ')) ||
                     cell.starts_with("\xEF\xBB\xBF");
  if (!quote) {
    out.append(cell);
    return;
  }
  out.push_back('"');
  for (char c : cell) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

// ---- code lists

Result<int64_t> LoadCodeList(
    storage::Store& store, std::string_view system, std::istream& in,
    const std::function<Status(storage::Transaction&, int64_t codes)>& before_commit) {
  const CodeSystem* cs = BuiltinDictionary().FindSystem(system);
  if (!cs) {
    return InvalidArgument("unknown_system",
                           fmt::format("'{}' is not a code system of the data dictionary", system),
                           "system");
  }
  std::set<std::string> codes;
  std::string line;
  int64_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (const size_t tab = line.find('\t'); tab != std::string::npos) line.resize(tab);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    size_t s = 0;
    while (s < line.size() && line[s] == ' ') ++s;
    line.erase(0, s);
    if (n == 1 && line.starts_with("\xEF\xBB\xBF")) line.erase(0, 3);
    if (line.empty() || line.front() == '#') continue;
    if (!MatchesFormat(cs->format, line)) {
      return InvalidArgument("invalid_code",
                             fmt::format("line {}: '{}' is not {}", n, line.substr(0, 40),
                                         FormatHint(cs->format).en),
                             fmt::format("line {}", n));
    }
    codes.insert(line);
  }
  if (codes.empty()) return InvalidArgument("empty_code_list", "no codes in the file", "file");
  ZG_ASSIGN_OR_RETURN(auto tx, store.Begin(storage::TxMode::kWrite));
  ZG_RETURN_IF_ERROR(tx->Exec("DELETE FROM code_lists WHERE system = $1", {SqlText(std::string(system))}));
  std::vector<storage::Value> params;
  std::vector<std::string> batch;
  auto flush = [&]() -> Status {
    if (batch.empty()) return Status::Ok();
    params.clear();
    std::string sql = "INSERT INTO code_lists (system, code) VALUES ";
    for (size_t i = 0; i < batch.size(); ++i) {
      sql += fmt::format("{}(${}, ${})", i ? "," : "", 2 * i + 1, 2 * i + 2);
      params.push_back(SqlText(std::string(system)));
      params.push_back(SqlText(std::move(batch[i])));
    }
    batch.clear();
    return tx->Exec(sql, params).status();
  };
  for (const auto& c : codes) {
    batch.push_back(c);
    if (batch.size() == 500) ZG_RETURN_IF_ERROR(flush());
  }
  ZG_RETURN_IF_ERROR(flush());
  if (before_commit) {
    ZG_RETURN_IF_ERROR(before_commit(*tx, static_cast<int64_t>(codes.size())));
  }
  ZG_RETURN_IF_ERROR(tx->Commit());
  return static_cast<int64_t>(codes.size());
}

Result<CodeLists> ReadCodeLists(storage::Store& store) {
  ZG_ASSIGN_OR_RETURN(auto tx, store.Begin(storage::TxMode::kRead));
  ZG_ASSIGN_OR_RETURN(auto rows, tx->Query("SELECT system, code FROM code_lists ORDER BY system"));
  CodeLists out;
  std::string system;
  std::set<std::string, std::less<>> codes;
  for (const auto& r : rows.rows) {
    std::string s = r.Text(0);
    if (s != system) {
      if (!system.empty()) out.Set(system, std::move(codes));
      codes.clear();
      system = std::move(s);
    }
    codes.insert(r.Text(1));
  }
  if (!system.empty()) out.Set(system, std::move(codes));
  return out;
}

// ---- the store

ClinicalStore::ClinicalStore(storage::Store& store, const Clock& clock, AuditSink& audit,
                             const Dictionary& dictionary)
    : store_(store), clock_(clock), audit_(audit), dict_(dictionary) {}

Result<std::shared_ptr<const CodeLists>> ClinicalStore::Lists() {
  std::lock_guard lock(mu_);
  const auto now = std::chrono::steady_clock::now();
  if (!lists_ || now - lists_loaded_ > kListsTtl) {
    ZG_ASSIGN_OR_RETURN(CodeLists l, ReadCodeLists(store_));
    lists_ = std::make_shared<const CodeLists>(std::move(l));
    lists_loaded_ = now;
  }
  return lists_;
}

Result<int64_t> ClinicalStore::LoadCodes(std::string_view system, std::istream& in,
                                         const Actor& actor) {
  ZG_ASSIGN_OR_RETURN(
      int64_t n, LoadCodeList(store_, system, in, [&](storage::Transaction& tx, int64_t codes) {
        return audit_.AppendInTransaction(tx, {.actor = actor.id,
                                               .source = actor.source,
                                               .action = "codelist.write",
                                               .resource = "code_list/" + std::string(system),
                                               .reason = "code list replaced",
                                               .request_id = actor.request_id,
                                               .details = json{{"codes", codes}}.dump()});
      }));
  {
    std::lock_guard lock(mu_);
    lists_.reset();
  }
  return n;
}

Result<ParticipantInfo> ClinicalStore::Participant(std::string_view participant_id) {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
  ZG_ASSIGN_OR_RETURN(
      auto rows, tx->Query("SELECT id, hospital_id, program, index_date FROM participants "
                           "WHERE id = $1",
                           {SqlText(std::string(participant_id))}));
  if (rows.empty()) {
    return NotFound("participant_not_found", fmt::format("no participant '{}'", participant_id));
  }
  const auto& r = rows.rows[0];
  return ParticipantInfo{r.Text(0), r.Text(1), r.Text(2), r.Text(3)};
}

Result<Record> ClinicalStore::SaveDraft(std::string_view participant_id,
                                        std::string_view category, const json& data,
                                        std::string_view reason, const Actor& actor,
                                        std::vector<Problem>* problems) {
  return Write(participant_id, category, data, reason, actor, Mode::kDraft, problems);
}

Result<Record> ClinicalStore::Submit(std::string_view participant_id, std::string_view category,
                                     const std::optional<json>& data, std::string_view reason,
                                     const Actor& actor, std::vector<Problem>* problems) {
  return Write(participant_id, category, data, reason, actor, Mode::kSubmit, problems);
}

Result<Record> ClinicalStore::Write(std::string_view participant_id, std::string_view category,
                                    const std::optional<json>& data, std::string_view reason,
                                    const Actor& actor, Mode mode,
                                    std::vector<Problem>* problems) {
  if (problems) problems->clear();
  if (!dict_.FindCategory(category)) {
    return NotFound("unknown_category", fmt::format("no clinical category '{}'", category));
  }
  if (reason.size() > 2000) {
    return InvalidArgument("value_too_long", "a reason is at most 2000 bytes", "reason");
  }
  ZG_ASSIGN_OR_RETURN(auto lists, Lists());
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kWrite));
  ZG_ASSIGN_OR_RETURN(auto p,
                      tx->Query("SELECT program, index_date FROM participants WHERE id = $1",
                                {SqlText(std::string(participant_id))}));
  if (p.empty()) {
    return NotFound("participant_not_found", fmt::format("no participant '{}'", participant_id));
  }
  const std::string program = p.rows[0].Text(0);
  ZG_ASSIGN_OR_RETURN(
      auto prev,
      tx->Query(fmt::format("SELECT {} FROM clinical_records WHERE participant_id = $1 AND "
                            "category = $2 ORDER BY version DESC LIMIT 1",
                            kRecordColumns),
                {SqlText(std::string(participant_id)), SqlText(std::string(category))}));
  ZG_ASSIGN_OR_RETURN(
      auto submitted,
      tx->Query("SELECT COUNT(*) FROM clinical_records WHERE participant_id = $1 AND "
                "category = $2 AND status = 'submitted'",
                {SqlText(std::string(participant_id)), SqlText(std::string(category))}));
  json body;
  if (data) {
    body = *data;
  } else {
    if (prev.empty()) {
      return NotFound("no_record", "nothing saved yet for this category; send data to submit");
    }
    body = FromRow(prev.rows[0]).data;
  }
  std::vector<Problem> found = Validate(dict_, category, body, program, mode, *lists);
  if (found.empty()) {
    // The dictionary's plausibility checks, against the other categories' current data.
    ZG_ASSIGN_OR_RETURN(
        auto others,
        tx->Query("SELECT r.category, r.data FROM clinical_records r WHERE r.participant_id = $1 "
                  "AND r.version = (SELECT MAX(s.version) FROM clinical_records s WHERE "
                  "s.participant_id = r.participant_id AND s.category = r.category)",
                  {SqlText(std::string(participant_id))}));
    std::map<std::string, json, std::less<>> records;
    for (const auto& row : others.rows) records[row.Text(0)] = json::parse(row.Text(1), nullptr, false);
    records[std::string(category)] = body;
    const std::string today = FormatRfc3339(clock_.Now()).substr(0, 10);
    found = RunChecks(dict_, category, records, {p.rows[0].Text(1), today}, mode);
  }
  if (!found.empty()) {
    Error e = ValidationFailed(found);
    if (problems) *problems = std::move(found);
    return e;
  }
  if (submitted.rows[0].Int(0) > 0 && reason.empty()) {
    return InvalidArgument("reason_required",
                           "this category was submitted before; say why it changes", "reason");
  }
  Record r;
  r.participant_id = participant_id;
  r.category = category;
  r.version = prev.empty() ? 1 : prev.rows[0].Int(2) + 1;
  r.status = mode == Mode::kSubmit ? "submitted" : "draft";
  r.dictionary_version = dict_.version;
  r.data = std::move(body);
  r.changed_by = actor.id;
  r.changed_at = FormatRfc3339(clock_.Now());
  r.reason = reason;
  ZG_RETURN_IF_ERROR(tx->Exec(
      fmt::format("INSERT INTO clinical_records ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                  kRecordColumns),
      {SqlText(r.participant_id), SqlText(r.category), SqlInt(r.version), SqlText(r.status),
       SqlText(r.dictionary_version), SqlText(r.data.dump()), SqlText(r.changed_by), SqlText(r.changed_at),
       SqlText(r.reason)}));
  // why: the version row and its audit record commit together.
  ZG_RETURN_IF_ERROR(audit_.AppendInTransaction(
      *tx,
      {.actor = actor.id,
       .source = actor.source,
       .action = "clinical.write",
       .resource = "participant/" + r.participant_id,
       .reason =
           r.reason.empty() ? (mode == Mode::kSubmit ? "submitted" : "draft saved") : r.reason,
       .request_id = actor.request_id,
       .details =
           json{{"category", r.category}, {"version", r.version}, {"status", r.status}}.dump()}));
  ZG_RETURN_IF_ERROR(tx->Commit());
  return r;
}

Result<std::optional<Record>> ClinicalStore::Current(std::string_view participant_id,
                                                     std::string_view category) {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
  ZG_ASSIGN_OR_RETURN(
      auto rows,
      tx->Query(fmt::format("SELECT {} FROM clinical_records WHERE participant_id = $1 AND "
                            "category = $2 ORDER BY version DESC LIMIT 1",
                            kRecordColumns),
                {SqlText(std::string(participant_id)), SqlText(std::string(category))}));
  if (rows.empty()) return std::optional<Record>();
  return std::optional<Record>(FromRow(rows.rows[0]));
}

Result<std::vector<Record>> ClinicalStore::History(std::string_view participant_id,
                                                   std::string_view category) {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
  ZG_ASSIGN_OR_RETURN(
      auto rows,
      tx->Query(fmt::format("SELECT {} FROM clinical_records WHERE participant_id = $1 AND "
                            "category = $2 ORDER BY version",
                            kRecordColumns),
                {SqlText(std::string(participant_id)), SqlText(std::string(category))}));
  std::vector<Record> out;
  for (const auto& r : rows.rows) out.push_back(FromRow(r));
  return out;
}

Result<std::vector<Record>> ClinicalStore::CurrentRecords(std::string_view participant_id) {
  std::vector<Record> out;
  for (const auto& c : dict_.categories) {
    ZG_ASSIGN_OR_RETURN(auto cur, Current(participant_id, c.code));
    if (cur) out.push_back(std::move(*cur));
  }
  return out;
}

Result<std::vector<Problem>> ClinicalStore::Check(std::string_view participant_id,
                                                  std::string_view category, const json& data) {
  ZG_ASSIGN_OR_RETURN(ParticipantInfo p, Participant(participant_id));
  ZG_ASSIGN_OR_RETURN(auto lists, Lists());
  return Validate(dict_, category, data, p.program, Mode::kSubmit, *lists);
}

Result<std::vector<CategoryStatus>> ClinicalStore::Summary(std::string_view participant_id) {
  ZG_ASSIGN_OR_RETURN(ParticipantInfo p, Participant(participant_id));
  ZG_ASSIGN_OR_RETURN(auto lists, Lists());
  std::vector<CategoryStatus> out;
  for (const auto& c : dict_.categories) {
    ZG_ASSIGN_OR_RETURN(auto cur, Current(participant_id, c.code));
    CategoryStatus s;
    s.category = c.code;
    const json data = cur ? cur->data : json::object();
    s.completeness = ComputeCompleteness(c, data, p.program);
    s.problems = Validate(dict_, c.code, data, p.program, Mode::kSubmit, *lists).size();
    s.current = std::move(cur);
    out.push_back(std::move(s));
  }
  return out;
}

// ---- import and export

Result<ImportReport> ClinicalStore::Import(std::string_view category, std::string_view csv,
                                           const ImportOptions& options,
                                           std::vector<RowProblem>* problems) {
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<RowProblem> found;
  auto reject = [&]() -> Error {
    const RowProblem& f = found.front();
    Error e = InvalidArgument(
        "import_rejected",
        fmt::format("nothing was imported: {} problem{}; first: line {} {} {}", found.size(),
                    found.size() == 1 ? "" : "s", f.row, f.field, f.message.en),
        fmt::format("line {}", f.row));
    if (problems) *problems = std::move(found);
    return e;
  };
  if (problems) problems->clear();
  const Category* cat = dict_.FindCategory(category);
  if (!cat) return NotFound("unknown_category", fmt::format("no clinical category '{}'", category));
  auto parsed = ParseCsv(csv);
  if (!parsed.ok()) {
    int64_t line = 0;
    (void)std::from_chars(parsed.error().field.data() + 5,
                          parsed.error().field.data() + parsed.error().field.size(), line);
    found.push_back({line, "", "", "malformed_csv",
                     {"CSVの書式が不正です（引用符の対応を確認してください）: " +
                          parsed.error().message,
                      parsed.error().message}});
    return reject();
  }
  std::vector<CsvRow>& rows = *parsed;
  if (rows.empty()) {
    found.push_back({1, "", "", "empty_file", {"ヘッダー行がありません", "the file has no header"}});
    return reject();
  }
  // Header.
  const CsvRow& header = rows.front();
  std::vector<const Field*> columns;
  if (header.cells.empty() || header.cells[0] != "participant_id") {
    found.push_back({header.line, "", "participant_id", "bad_header",
                     {"1列目は participant_id にしてください",
                      "the first column must be participant_id"}});
  }
  std::set<std::string> seen_cols;
  for (size_t i = 1; i < header.cells.size(); ++i) {
    const Field* f = cat->FindField(header.cells[i]);
    if (!f) {
      found.push_back({header.line, "", header.cells[i], "unknown_field",
                       {"このカテゴリのデータ辞書にない列です",
                        fmt::format("no field '{}' in category {}", header.cells[i], cat->code)}});
    } else if (!seen_cols.insert(f->code).second) {
      found.push_back({header.line, "", header.cells[i], "duplicate_column",
                       {"列が重複しています", "this column appears twice"}});
    }
    columns.push_back(f);
  }
  if (!found.empty()) return reject();

  ZG_ASSIGN_OR_RETURN(auto lists, Lists());
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kWrite));

  // Participants of the file, looked up in batches.
  struct Info {
    std::string hospital, program;
    int64_t version = 0;
    std::string index_date;
  };
  std::unordered_map<std::string, Info> info;
  {
    std::vector<std::string> ids;
    std::unordered_set<std::string> unique;
    for (size_t i = 1; i < rows.size(); ++i) {
      if (!rows[i].cells.empty() && unique.insert(rows[i].cells[0]).second) {
        ids.push_back(rows[i].cells[0]);
      }
    }
    std::vector<storage::Value> params;
    const size_t in_batch = InBatch(store_.backend());
    for (size_t at = 0; at < ids.size(); at += in_batch) {
      const size_t n = std::min(in_batch, ids.size() - at);
      params.clear();
      for (size_t k = 0; k < n; ++k) params.push_back(SqlText(ids[at + k]));
      ZG_ASSIGN_OR_RETURN(
          auto ps, tx->Query(fmt::format("SELECT id, hospital_id, program, index_date FROM "
                                         "participants WHERE id IN ({})",
                                         Placeholders(1, n)),
                             params));
      for (const auto& r : ps.rows) info[r.Text(0)] = Info{r.Text(1), r.Text(2), 0, r.Text(3)};
      params.insert(params.begin(), SqlText(std::string(category)));
      ZG_ASSIGN_OR_RETURN(
          auto vs,
          tx->Query(fmt::format("SELECT participant_id, MAX(version) FROM clinical_records "
                                "WHERE category = $1 AND participant_id IN ({}) "
                                "GROUP BY participant_id",
                                Placeholders(2, n)),
                    params));
      for (const auto& r : vs.rows) info[r.Text(0)].version = r.Int(1);
    }
  }

  // Every row.
  std::vector<std::pair<std::string, json>> accepted;
  accepted.reserve(rows.size());
  std::vector<int64_t> accepted_lines;
  std::unordered_set<std::string> in_file;
  for (size_t i = 1; i < rows.size(); ++i) {
    const CsvRow& row = rows[i];
    const std::string pid = row.cells.empty() ? "" : row.cells[0];
    if (row.cells.size() != header.cells.size()) {
      found.push_back({row.line, pid, "", "ragged_row",
                       {fmt::format("列数が {} です（ヘッダーは {} 列）", row.cells.size(),
                                    header.cells.size()),
                        fmt::format("{} cells where the header has {}", row.cells.size(),
                                    header.cells.size())}});
      continue;
    }
    const auto it = info.find(pid);
    if (pid.empty() || it == info.end() || it->second.program.empty()) {
      found.push_back({row.line, pid, "participant_id", "unknown_participant",
                       {"登録されていない参加者です", "no such participant"}});
      continue;
    }
    if (!options.hospital.empty() && it->second.hospital != options.hospital) {
      found.push_back({row.line, pid, "participant_id", "wrong_hospital",
                       {"他の医療機関の参加者です", "this participant belongs to another hospital"}});
      continue;
    }
    if (!in_file.insert(pid).second) {
      found.push_back({row.line, pid, "participant_id", "duplicate_participant",
                       {"同じ参加者がファイル内に複数あります",
                        "this participant appears more than once in the file"}});
      continue;
    }
    json data = json::object();
    for (size_t c = 1; c < row.cells.size(); ++c) {
      if (!row.cells[c].empty()) data[columns[c - 1]->code] = CellValue(*columns[c - 1], row.cells[c]);
    }
    auto ps = Validate(dict_, category, data, it->second.program, Mode::kSubmit, *lists);
    for (auto& p : ps) {
      found.push_back({row.line, pid, std::move(p.path), std::move(p.code), std::move(p.message)});
    }
    if (ps.empty() && found.empty()) {
      accepted.emplace_back(pid, std::move(data));
      accepted_lines.push_back(row.line);
    }
  }
  if (!found.empty()) return reject();
  // The dictionary's plausibility checks, as for a single submission (issue 14): each row
  // against its participant's current records of the other categories.
  if (!dict_.checks.empty() && !accepted.empty()) {
    std::unordered_map<std::string, std::map<std::string, json, std::less<>>> current;
    std::vector<storage::Value> params;
    const size_t in_batch = InBatch(store_.backend());
    for (size_t at = 0; at < accepted.size(); at += in_batch) {
      const size_t n = std::min(in_batch, accepted.size() - at);
      params.clear();
      for (size_t k = 0; k < n; ++k) params.push_back(SqlText(accepted[at + k].first));
      ZG_ASSIGN_OR_RETURN(
          auto cur,
          tx->Query(fmt::format("SELECT r.participant_id, r.category, r.data FROM "
                                "clinical_records r WHERE r.participant_id IN ({}) AND "
                                "r.version = (SELECT MAX(s.version) FROM clinical_records s "
                                "WHERE s.participant_id = r.participant_id AND s.category = "
                                "r.category)",
                                Placeholders(1, n)),
                    params));
      for (const auto& r : cur.rows) {
        current[r.Text(0)][r.Text(1)] = json::parse(r.Text(2), nullptr, false);
      }
    }
    const std::string today = FormatRfc3339(clock_.Now()).substr(0, 10);
    for (size_t i = 0; i < accepted.size(); ++i) {
      const auto& [pid, data] = accepted[i];
      auto records = current[pid];
      records[std::string(category)] = data;
      for (auto& p : RunChecks(dict_, category, records, {info[pid].index_date, today},
                               Mode::kSubmit)) {
        found.push_back(
            {accepted_lines[i], pid, std::move(p.path), std::move(p.code), std::move(p.message)});
      }
    }
    if (!found.empty()) return reject();
  }
  const auto t1 = std::chrono::steady_clock::now();

  // One transaction, multi-row inserts.
  const std::string now = FormatRfc3339(clock_.Now());
  std::vector<storage::Value> params;
  const size_t batch = InsertBatch(store_.backend());
  for (size_t at = 0; at < accepted.size(); at += batch) {
    const size_t n = std::min(batch, accepted.size() - at);
    params.clear();
    params.reserve(n * 9);
    std::string sql = fmt::format("INSERT INTO clinical_records ({}) VALUES ", kRecordColumns);
    for (size_t k = 0; k < n; ++k) {
      auto& [pid, data] = accepted[at + k];
      sql += fmt::format("{}({})", k ? "," : "", Placeholders(k * 9 + 1, 9));
      params.push_back(SqlText(pid));
      params.push_back(SqlText(std::string(category)));
      params.push_back(SqlInt(info[pid].version + 1));
      params.push_back(SqlText("submitted"));
      params.push_back(SqlText(dict_.version));
      params.push_back(SqlText(data.dump()));
      params.push_back(SqlText(options.actor.id));
      params.push_back(SqlText(now));
      params.push_back(SqlText(options.reason));
    }
    ZG_RETURN_IF_ERROR(tx->Exec(sql, params));
  }
  // why: the imported rows and the import's audit record commit together (all or nothing).
  ZG_RETURN_IF_ERROR(
      audit_.AppendInTransaction(*tx, {.actor = options.actor.id,
                                       .source = options.actor.source,
                                       .action = "clinical.write",
                                       .resource = "clinical/" + std::string(category),
                                       .reason = options.reason,
                                       .request_id = options.actor.request_id,
                                       .details = json{{"import_rows", accepted.size()},
                                                       {"hospital", options.hospital},
                                                       {"changed_at", now}}
                                                      .dump()}));
  ZG_RETURN_IF_ERROR(tx->Commit());
  const auto t2 = std::chrono::steady_clock::now();
  ImportReport report;
  report.rows = static_cast<int64_t>(accepted.size());
  report.seconds_validate = std::chrono::duration<double>(t1 - t0).count();
  report.seconds_write = std::chrono::duration<double>(t2 - t1).count();
  return report;
}

Result<std::string> ClinicalStore::ExportCsv(
    std::string_view category, std::string_view hospital,
    const std::function<Result<bool>(std::string_view participant_id)>& leave_out) {
  const Category* cat = dict_.FindCategory(category);
  if (!cat) return NotFound("unknown_category", fmt::format("no clinical category '{}'", category));
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
  ZG_ASSIGN_OR_RETURN(
      auto rows,
      tx->Query("SELECT r.participant_id, r.data FROM clinical_records r "
                "JOIN participants p ON p.id = r.participant_id "
                "WHERE r.category = $1 AND r.status = 'submitted' "
                "AND ($2 = '' OR p.hospital_id = $2) "
                "AND r.version = (SELECT MAX(r2.version) FROM clinical_records r2 "
                "WHERE r2.participant_id = r.participant_id AND r2.category = r.category "
                "AND r2.status = 'submitted') "
                "ORDER BY r.participant_id",
                {SqlText(std::string(category)), SqlText(std::string(hospital))}));
  std::string out = "participant_id";
  for (const auto& f : cat->fields) {
    out.push_back(',');
    AppendCsvCell(out, f.code);
  }
  out += "\r\n";
  for (const auto& r : rows.rows) {
    if (leave_out) {
      ZG_ASSIGN_OR_RETURN(bool skip, leave_out(r.Text(0)));
      if (skip) continue;
    }
    AppendCsvCell(out, r.Text(0));
    const json data = json::parse(r.Text(1), nullptr, false);
    for (const auto& f : cat->fields) {
      out.push_back(',');
      if (data.is_object()) {
        if (auto it = data.find(f.code); it != data.end()) AppendCsvCell(out, CellText(*it));
      }
    }
    out += "\r\n";
  }
  return out;
}

// ---- CLI helpers

Result<int64_t> LoadCodeListFile(ClinicalStore& clinical, std::string_view system,
                                 const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFound("file_not_found", fmt::format("cannot read '{}'", path));
  return clinical.LoadCodes(system, in, {"cli", "cli", ""});
}

Result<ImportReport> ImportCsvFile(ClinicalStore& clinical, std::string category,
                                   const std::string& path, std::vector<RowProblem>* problems) {
  if (category.empty()) {
    category = std::filesystem::path(path).stem().string();
    if (!clinical.dictionary().FindCategory(category)) {
      return InvalidArgument("category_required",
                             "name the category (--category) or call the file <category>.csv",
                             "category");
    }
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("file_not_found", fmt::format("cannot read '{}'", path));
  std::stringstream ss;
  ss << in.rdbuf();
  ImportOptions opts;
  opts.actor = {"cli", "cli", ""};
  opts.reason = "bulk import of " + std::filesystem::path(path).filename().string();
  return clinical.Import(category, ss.str(), opts, problems);
}

}  // namespace zengen::clinical
