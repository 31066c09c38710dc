#include "consent/consent.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <map>
#include <mutex>
#include <set>

#include "crypto/crypto.h"
#include "participants/participants.h"

namespace zengen::consent {
namespace {

using nlohmann::json;
using storage::Int;
using storage::Null;
using storage::Text;

constexpr std::array<std::string_view, 3> kDecisionValues = {"permit", "deny", "undecided"};
constexpr std::array<std::string_view, 2> kPrograms = {"cancer", "rare_disease"};
constexpr std::array<std::string_view, 2> kLanguages = {"ja", "en"};
// The default ICF's effective date: the program's first form.
constexpr const char* kDefaultEffectiveDate = "2026-04-01";
constexpr size_t kMaxLabelBytes = 1000;
constexpr size_t kMaxDetailsBytes = 8192;

struct DuoCode {
  std::string_view shorthand;
  std::string_view id;
};
constexpr std::array<DuoCode, 19> kDuo = {{
    {"NRES", "DUO:0000004"}, {"GRU", "DUO:0000042"},    {"HMB", "DUO:0000006"},
    {"DS", "DUO:0000007"},   {"POA", "DUO:0000011"},    {"NPU", "DUO:0000045"},
    {"NCU", "DUO:0000046"},  {"NPUNCU", "DUO:0000018"}, {"IRB", "DUO:0000021"},
    {"GS", "DUO:0000022"},   {"MOR", "DUO:0000024"},    {"TS", "DUO:0000025"},
    {"PUB", "DUO:0000019"},  {"COL", "DUO:0000020"},    {"RTN", "DUO:0000029"},
    {"GSO", "DUO:0000016"},  {"NMDS", "DUO:0000015"},   {"NPOA", "DUO:0000044"},
    {"CC", "DUO:0000043"},
}};

template <size_t N>
bool OneOf(std::string_view v, const std::array<std::string_view, N>& set) {
  return std::find(set.begin(), set.end(), v) != set.end();
}

std::string Today(const Clock& clock) {
  const std::chrono::year_month_day ymd{std::chrono::floor<std::chrono::days>(clock.Now())};
  return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
}

// Dotted version: 1-4 numeric parts of 1-6 digits.
bool ValidVersion(std::string_view v) {
  if (v.empty() || v.size() > 32) return false;
  int parts = 1;
  size_t digits = 0;
  for (char c : v) {
    if (c == '.') {
      if (digits == 0) return false;
      ++parts;
      digits = 0;
    } else if (c >= '0' && c <= '9') {
      if (++digits > 6) return false;
    } else {
      return false;
    }
  }
  return digits > 0 && parts <= 4;
}

std::vector<long> VersionParts(std::string_view v) {
  std::vector<long> out;
  long cur = 0;
  for (char c : v) {
    if (c == '.') {
      out.push_back(cur);
      cur = 0;
    } else {
      cur = cur * 10 + (c - '0');
    }
  }
  out.push_back(cur);
  // Trailing zeros do not make a version newer: "1.0" equals "1".
  while (out.size() > 1 && out.back() == 0) out.pop_back();
  return out;
}

Status ValidateDate(std::string_view date, std::string_view field, const Clock& clock) {
  if (!participants::ValidDate(date)) {
    return InvalidArgument("invalid_date", fmt::format("'{}' must be a date YYYY-MM-DD", field),
                           std::string(field));
  }
  // ISO dates compare as strings.
  if (std::string(date) > Today(clock)) {
    return InvalidArgument("date_in_future", fmt::format("'{}' is in the future", field),
                           std::string(field));
  }
  return Status::Ok();
}

std::string DecisionOf(const ConsentRecord& r, std::string_view code) {
  const auto it = r.decisions.find(std::string(code));
  return it == r.decisions.end() ? "undecided" : it->second;
}

std::optional<std::string_view> LevelOfEvent(Event e) {
  switch (e) {
    case Event::kWithdrawNoContact:
      return "no_contact";
    case Event::kWithdrawNoNewData:
      return "no_new_data";
    case Event::kWithdrawFull:
      return "full";
    default:
      return std::nullopt;
  }
}

std::string_view LevelOfState(State s) {
  switch (s) {
    case State::kWithdrawnNoContact:
      return "no_contact";
    case State::kWithdrawnNoNewData:
      return "no_new_data";
    case State::kWithdrawnFull:
      return "full";
    default:
      return "";
  }
}

constexpr const char* kRecordColumns =
    "id, participant_id, seq, kind, withdrawal_level, icf_version, icf_language, decisions, "
    "details, signed_date, supersedes, recorded_by, recorded_at";

Result<ConsentRecord> RecordFromRow(const storage::Row& row) {
  ConsentRecord r;
  r.id = row.Text(0);
  r.participant_id = row.Text(1);
  r.seq = row.Int(2);
  r.kind = row.Text(3);
  r.withdrawal_level = row.Text(4);
  r.icf_version = row.Text(5);
  r.icf_language = row.Text(6);
  // Stored JSON was written by this module; a parse failure means the row was tampered with.
  const json decisions = json::parse(row.Text(7), nullptr, false);
  const json details = json::parse(row.Text(8), nullptr, false);
  if (!decisions.is_object() || !details.is_object()) {
    return Internal("corrupt_consent_record", fmt::format("consent record {} is corrupt", r.id));
  }
  for (const auto& [code, v] : decisions.items()) {
    r.decisions[code] = v.is_string() ? v.get<std::string>() : "undecided";
  }
  r.details = details;
  r.signed_date = row.Text(9);
  r.supersedes = row.Text(10);
  r.recorded_by = row.Text(11);
  r.recorded_at = row.Text(12);
  return r;
}

Result<std::vector<ConsentRecord>> LoadHistory(storage::Transaction& tx,
                                               std::string_view participant_id) {
  ZG_ASSIGN_OR_RETURN(auto rows, tx.Query(fmt::format("SELECT {} FROM consent_records WHERE "
                                                      "participant_id = $1 ORDER BY seq",
                                                      kRecordColumns),
                                          {Text(std::string(participant_id))}));
  std::vector<ConsentRecord> out;
  for (const auto& row : rows.rows) {
    ZG_ASSIGN_OR_RETURN(ConsentRecord r, RecordFromRow(row));
    out.push_back(std::move(r));
  }
  return out;
}

Result<std::optional<ConsentRecord>> LoadCurrent(storage::Transaction& tx,
                                                 std::string_view participant_id) {
  ZG_ASSIGN_OR_RETURN(auto rows,
                      tx.Query(fmt::format("SELECT {} FROM consent_records WHERE participant_id = "
                                           "$1 ORDER BY seq DESC LIMIT 1",
                                           kRecordColumns),
                               {Text(std::string(participant_id))}));
  if (rows.empty()) return std::optional<ConsentRecord>();
  ZG_ASSIGN_OR_RETURN(ConsentRecord r, RecordFromRow(rows.rows[0]));
  return std::optional<ConsentRecord>(std::move(r));
}

struct ParticipantFacts {
  std::string program;
  std::string disease;
};

Result<ParticipantFacts> LoadParticipant(storage::Transaction& tx, std::string_view id) {
  ZG_ASSIGN_OR_RETURN(auto rows,
                      tx.Query("SELECT program, disease_category FROM participants WHERE id = $1",
                               {Text(std::string(id))}));
  if (rows.empty()) {
    return NotFound("participant_not_found", fmt::format("no participant '{}'", id));
  }
  return ParticipantFacts{rows.rows[0].Text(0), rows.rows[0].Text(1)};
}

Result<IcfVersion> LoadIcf(storage::Transaction& tx, std::string_view program,
                           std::string_view version, std::string_view language) {
  ZG_ASSIGN_OR_RETURN(
      auto rows, tx.Query("SELECT program, version, language, effective_date, items, created_by, "
                          "created_at FROM icf_versions WHERE program = $1 AND version = $2 AND "
                          "language = $3",
                          {Text(std::string(program)), Text(std::string(version)),
                           Text(std::string(language))}));
  if (rows.empty()) {
    return NotFound("icf_not_found", fmt::format("no ICF {} version {} in language '{}'", program,
                                                 version, language));
  }
  const auto& row = rows.rows[0];
  IcfVersion icf{row.Text(0), row.Text(1), row.Text(2), row.Text(3), {}, row.Text(5), row.Text(6)};
  // why: every consent read needs the catalogue, and parsing its JSON dominated them. Parsed
  // catalogues are kept by their stored text (so a changed row can never be answered from the
  // cache); an ICF has a few versions per programme and language, and the bound keeps a
  // pathological store from growing it.
  static std::mutex parsed_mu;
  static std::map<std::string, std::vector<IcfItem>> parsed_by_text;
  constexpr size_t kParsedCatalogues = 64;
  std::string text = row.Text(4);
  {
    std::lock_guard lock(parsed_mu);
    if (auto hit = parsed_by_text.find(text); hit != parsed_by_text.end()) {
      icf.items = hit->second;
      return icf;
    }
  }
  const json items = json::parse(text, nullptr, false);
  auto parsed = ParseCatalogue(items);
  if (!parsed.ok()) {
    return Internal("corrupt_icf",
                    fmt::format("stored ICF {} {} {} is corrupt", program, version, language));
  }
  icf.items = std::move(parsed).value();
  std::lock_guard lock(parsed_mu);
  if (parsed_by_text.size() < kParsedCatalogues) {
    parsed_by_text.emplace(std::move(text), icf.items);
  }
  return icf;
}

Status ValidateDecisions(const std::map<std::string, std::string>& decisions,
                         const std::vector<IcfItem>& catalogue) {
  for (const auto& [code, value] : decisions) {
    const std::string field = "decisions." + code;
    // why: an init-capture, because clang 14 (the fuzz build) cannot capture a structured binding.
    if (std::none_of(catalogue.begin(), catalogue.end(),
                     [&code = code](const IcfItem& i) { return i.code == code; })) {
      return InvalidArgument("unknown_item", fmt::format("'{}' is not an item of this ICF", code),
                             field);
    }
    if (!OneOf(value, kDecisionValues)) {
      return InvalidArgument("invalid_decision",
                             fmt::format("'{}' must be permit, deny or undecided", field), field);
    }
  }
  for (const IcfItem& item : catalogue) {
    const std::string field = "decisions." + item.code;
    const auto it = decisions.find(item.code);
    if (it == decisions.end()) {
      return InvalidArgument("missing_decision", fmt::format("item {} needs a decision", item.code),
                             field);
    }
    if (item.item_class == ItemClass::kMandatory && it->second != "permit") {
      return InvalidArgument("mandatory_item_denied",
                             fmt::format("item {} is mandatory: without it the participant "
                                         "cannot join",
                                         item.code),
                             field);
    }
  }
  return Status::Ok();
}

Status ValidateShortString(const json& obj, const std::string& key, const std::string& prefix,
                           size_t max_bytes) {
  const auto it = obj.find(key);
  const std::string field = prefix + key;
  if (it == obj.end() || !it->is_string() || it->get<std::string>().empty()) {
    return InvalidArgument("missing_field", fmt::format("'{}' is required", field), field);
  }
  if (it->get<std::string>().size() > max_bytes) {
    return InvalidArgument("value_too_long", fmt::format("'{}' exceeds {} bytes", field, max_bytes),
                           field);
  }
  return Status::Ok();
}

Status ValidateDetails(const json& d, const std::map<std::string, std::string>& decisions) {
  if (!d.is_object()) {
    return InvalidArgument("invalid_type", "'details' must be an object", "details");
  }
  if (d.dump().size() > kMaxDetailsBytes) {
    return InvalidArgument("value_too_long", "'details' is too large", "details");
  }
  static const std::set<std::string> kKnown = {
      "signer",    "method", "representative", "designated_relative", "preferred_channel",
      "assent",    "note"};
  for (const auto& [key, v] : d.items()) {
    if (!kKnown.contains(key)) {
      return InvalidArgument("unknown_field", fmt::format("'details.{}' is not known", key),
                             "details." + key);
    }
  }
  const auto str = [&](const char* key) -> std::string {
    const auto it = d.find(key);
    return it != d.end() && it->is_string() ? it->get<std::string>() : "";
  };
  const std::string signer = str("signer");
  if (signer != "self" && signer != "legal_representative" &&
      signer != "self_plus_representative") {
    return InvalidArgument(
        "invalid_signer",
        "'details.signer' must be self, legal_representative or self_plus_representative",
        "details.signer");
  }
  // Someone other than the participant signed: who, and how they are related (R5.1).
  if (signer != "self" || d.contains("representative")) {
    if (!d.contains("representative") || !d["representative"].is_object()) {
      return InvalidArgument("missing_field",
                             "a representative signed: 'details.representative' {name, "
                             "relationship} is required",
                             "details.representative");
    }
    const json& rep = d["representative"];
    ZG_RETURN_IF_ERROR(ValidateShortString(rep, "name", "details.representative.", 200));
    static const std::set<std::string> kRelationships = {"parent",  "spouse",   "child",
                                                         "sibling", "guardian", "other"};
    const auto rel = rep.find("relationship");
    if (rel == rep.end() || !rel->is_string() || !kRelationships.contains(rel->get<std::string>())) {
      return InvalidArgument("invalid_relationship",
                             "'details.representative.relationship' must be parent, spouse, "
                             "child, sibling, guardian or other",
                             "details.representative.relationship");
    }
    for (const auto& [key, v] : rep.items()) {
      if (key != "name" && key != "relationship") {
        return InvalidArgument("unknown_field",
                               fmt::format("'details.representative.{}' is not known", key),
                               "details.representative." + key);
      }
    }
  }
  const std::string method = str("method");
  if (method != "paper" && method != "electronic") {
    return InvalidArgument("invalid_method", "'details.method' must be paper or electronic",
                           "details.method");
  }
  if (d.contains("preferred_channel")) {
    const std::string ch = str("preferred_channel");
    if (ch != "hospital" && ch != "app" && ch != "post") {
      return InvalidArgument("invalid_channel",
                             "'details.preferred_channel' must be hospital, app or post",
                             "details.preferred_channel");
    }
  }
  if (d.contains("assent") && !d["assent"].is_boolean()) {
    return InvalidArgument("invalid_type", "'details.assent' must be true or false",
                           "details.assent");
  }
  if (d.contains("note") &&
      (!d["note"].is_string() || d["note"].get<std::string>().size() > 2000)) {
    return InvalidArgument("invalid_note", "'details.note' must be text of at most 2000 bytes",
                           "details.note");
  }
  const auto c11 = decisions.find("C11");
  const bool relative_wanted = c11 != decisions.end() && c11->second == "permit";
  if (d.contains("designated_relative")) {
    const json& rel = d["designated_relative"];
    if (!rel.is_object()) {
      return InvalidArgument("invalid_type", "'details.designated_relative' must be an object",
                             "details.designated_relative");
    }
    ZG_RETURN_IF_ERROR(ValidateShortString(rel, "name", "details.designated_relative.", 200));
    ZG_RETURN_IF_ERROR(ValidateShortString(rel, "contact", "details.designated_relative.", 200));
  } else if (relative_wanted) {
    // C11 without a person to tell cannot be honoured, so it is refused at the source.
    return InvalidArgument("missing_field",
                           "C11 is permitted: 'details.designated_relative' is required",
                           "details.designated_relative");
  }
  return Status::Ok();
}

Result<Event> EventOfKind(std::string_view kind) {
  if (kind == "initial") return Event::kInitial;
  if (kind == "modification") return Event::kModification;
  if (kind == "reconsent") return Event::kReconsent;
  return InvalidArgument("invalid_kind", "'kind' must be initial, modification or reconsent",
                         "kind");
}

bool Permitted(const std::map<std::string, std::string>& d, std::string_view code) {
  const auto it = d.find(std::string(code));
  return it != d.end() && it->second == "permit";
}

}  // namespace

// ---- catalogue ------------------------------------------------------------------------------

std::string_view ItemClassName(ItemClass c) {
  switch (c) {
    case ItemClass::kMandatory:
      return "MANDATORY";
    case ItemClass::kOptOut:
      return "OPT_OUT";
    case ItemClass::kOptIn:
      return "OPT_IN";
  }
  return "";
}

std::optional<ItemClass> ParseItemClass(std::string_view s) {
  if (s == "MANDATORY") return ItemClass::kMandatory;
  if (s == "OPT_OUT") return ItemClass::kOptOut;
  if (s == "OPT_IN") return ItemClass::kOptIn;
  return std::nullopt;
}

std::string_view DuoId(std::string_view shorthand) {
  for (const auto& d : kDuo) {
    if (d.shorthand == shorthand) return d.id;
  }
  return "";
}

std::vector<IcfItem> DefaultCatalogue(std::string_view program) {
  if (!OneOf(program, kPrograms)) return {};
  const bool cancer = program == "cancer";
  using enum ItemClass;
  // Classes per clinical-and-consent.md §5.2; the rare-disease program makes broad future
  // research, industry use and overseas deposit opt-out (study-defined) instead of mandatory.
  return {
      {"C01", kMandatory, "本プログラムへの参加と検体の全ゲノム・マルチオミックス解析",
       "Joining the programme; whole-genome and multi-omics analysis of my samples", ""},
      {"C02", kMandatory, "追跡情報を含む診療情報の収集",
       "Collection of clinical information from my records, including follow-up", ""},
      {"C03", kMandatory, "対象疾患領域の健康・医学研究への利用",
       "Use for health and medical research on the disease area", "HMB"},
      {"C04", cancer ? kMandatory : kOptOut, "現時点で特定されていない将来の幅広い研究への利用",
       "Use for broad future research not yet specified", "GRU"},
      {"C05", cancer ? kMandatory : kOptOut, "医薬品開発・薬事申請・有償利用を含む企業による利用",
       "Use by industry, including drug development, regulatory submission and paid access", "NCU"},
      {"C06", cancer ? kMandatory : kOptOut,
       "国外を含む公的な制限公開データベースへの登録と国外への提供",
       "Deposit in public controlled-access databases, including overseas, and provision "
       "abroad",
       "GS"},
      {"C07", kOptOut, "追加情報の収集と他のデータベース（登録・レセプト・電子カルテ）との連結",
       "Collection of additional information and linkage with registries, claims and health "
       "records",
       ""},
      {"C08", kOptIn, "追加の検体採取", "Collection of additional samples", ""},
      {"C09", kOptOut, "疾患に関連する一次的所見の返却",
       "Return of primary (disease-related) findings", "CC"},
      {"C10", kOptIn,
       "二次的所見（対処可能な生殖細胞系列所見）の返却：希望する・しない・後で決める",
       "Return of secondary actionable germline findings: want, do not want, decide later", ""},
      {"C11", kOptIn, "本人の死亡時または連絡不能時の指定した親族への開示",
       "Disclosure to a designated relative if I die or cannot be reached", ""},
      {"C12", kOptIn, "新たな研究・臨床試験のための再連絡",
       "Recontact about new studies or clinical trials", ""},
      {"C13", kOptIn, "再解釈により結果が変わった場合の再連絡",
       "Recontact when re-interpretation changes a result", ""},
      {"C14", kOptOut, "残余検体のバイオバンクでの保管",
       "Storage of residual samples in the biobank", ""},
      {"C15", kOptIn, "連絡方法の希望（病院経由のみ・アプリ・郵送）",
       "Preferred channel of contact (via the hospital only, app or post)", ""},
  };
}

Status ValidateCatalogue(const std::vector<IcfItem>& items, std::string_view language) {
  if (items.empty()) {
    return InvalidArgument("empty_catalogue", "an ICF needs at least one item", "items");
  }
  if (items.size() > 200) {
    return InvalidArgument("too_many_items", "an ICF has at most 200 items", "items");
  }
  std::set<std::string> seen;
  for (size_t i = 0; i < items.size(); ++i) {
    const IcfItem& it = items[i];
    const std::string prefix = fmt::format("items[{}].", i);
    const bool code_ok = it.code.size() == 3 && it.code[0] >= 'A' && it.code[0] <= 'Z' &&
                         std::isdigit(static_cast<unsigned char>(it.code[1])) &&
                         std::isdigit(static_cast<unsigned char>(it.code[2]));
    if (!code_ok) {
      return InvalidArgument("invalid_code", "an item code is a capital letter and two digits",
                             prefix + "code");
    }
    if (!seen.insert(it.code).second) {
      return InvalidArgument("duplicate_code", fmt::format("item {} appears twice", it.code),
                             prefix + "code");
    }
    if (!it.duo.empty() && DuoId(it.duo).empty()) {
      return InvalidArgument("invalid_duo", fmt::format("'{}' is not a DUO shorthand", it.duo),
                             prefix + "duo");
    }
    const std::string& label = language == "ja" ? it.label_ja : it.label_en;
    if (label.empty()) {
      return InvalidArgument("missing_label",
                             fmt::format("item {} needs a label in '{}'", it.code, language),
                             fmt::format("{}label.{}", prefix, language));
    }
    if (it.label_ja.size() > kMaxLabelBytes || it.label_en.size() > kMaxLabelBytes) {
      return InvalidArgument("value_too_long", "a label is at most 1000 bytes", prefix + "label");
    }
  }
  return Status::Ok();
}

json CatalogueJson(const std::vector<IcfItem>& items) {
  json out = json::array();
  for (const IcfItem& i : items) {
    json item = {{"code", i.code},
                 {"class", ItemClassName(i.item_class)},
                 {"label", {{"ja", i.label_ja}, {"en", i.label_en}}}};
    item["duo"] = i.duo.empty() ? json(nullptr) : json(i.duo);
    out.push_back(std::move(item));
  }
  return out;
}

json IcfJson(const IcfVersion& icf) {
  return {{"program", icf.program},
          {"version", icf.version},
          {"language", icf.language},
          {"effective_date", icf.effective_date},
          {"items", CatalogueJson(icf.items)},
          {"created_by", icf.created_by},
          {"created_at", icf.created_at}};
}

Result<std::vector<IcfItem>> ParseCatalogue(const json& items) {
  if (!items.is_array()) {
    return InvalidArgument("invalid_type", "'items' must be an array", "items");
  }
  std::vector<IcfItem> out;
  for (size_t i = 0; i < items.size(); ++i) {
    const json& j = items[i];
    const std::string prefix = fmt::format("items[{}].", i);
    if (!j.is_object()) {
      return InvalidArgument("invalid_type", "an item must be an object",
                             fmt::format("items[{}]", i));
    }
    IcfItem item;
    if (!j.contains("code") || !j["code"].is_string()) {
      return InvalidArgument("missing_field", "an item needs a code", prefix + "code");
    }
    item.code = j["code"].get<std::string>();
    const auto cls = j.contains("class") && j["class"].is_string()
                         ? ParseItemClass(j["class"].get<std::string>())
                         : std::nullopt;
    if (!cls) {
      return InvalidArgument("invalid_class", "class must be MANDATORY, OPT_OUT or OPT_IN",
                             prefix + "class");
    }
    item.item_class = *cls;
    if (j.contains("label")) {
      const json& label = j["label"];
      if (!label.is_object()) {
        return InvalidArgument("invalid_type", "label must be an object {ja, en}",
                               prefix + "label");
      }
      for (const char* lang : {"ja", "en"}) {
        if (!label.contains(lang)) continue;
        if (!label[lang].is_string()) {
          return InvalidArgument("invalid_type", "a label must be text",
                                 fmt::format("{}label.{}", prefix, lang));
        }
        (std::string_view(lang) == "ja" ? item.label_ja : item.label_en) =
            label[lang].get<std::string>();
      }
    }
    if (j.contains("duo") && !j["duo"].is_null()) {
      if (!j["duo"].is_string()) {
        return InvalidArgument("invalid_duo", "duo must be a DUO shorthand", prefix + "duo");
      }
      item.duo = j["duo"].get<std::string>();
    }
    out.push_back(std::move(item));
  }
  return out;
}

bool VersionLess(std::string_view a, std::string_view b) {
  return VersionParts(a) < VersionParts(b);
}

Status EnsureDefaultIcf(storage::Store& store, const Clock& clock) {
  ZG_ASSIGN_OR_RETURN(auto tx, store.Begin(storage::TxMode::kWrite));
  const std::string now = FormatRfc3339(clock.Now());
  for (std::string_view program : kPrograms) {
    const std::string items = CatalogueJson(DefaultCatalogue(program)).dump();
    for (std::string_view language : kLanguages) {
      // ON CONFLICT DO NOTHING (SQLite ≥ 3.24 and PostgreSQL): two servers starting at once
      // both succeed, and an existing version is never overwritten.
      ZG_RETURN_IF_ERROR(tx->Exec(
          "INSERT INTO icf_versions (version, language, program, effective_date, items, "
          "created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
          {Text("1.0"), Text(std::string(language)), Text(std::string(program)),
           Text(kDefaultEffectiveDate), Text(items), Text("system"), Text(now)}));
    }
  }
  return tx->Commit();
}

// ---- lifecycle ------------------------------------------------------------------------------

std::string_view StateName(State s) {
  switch (s) {
    case State::kNone:
      return "none";
    case State::kActive:
      return "active";
    case State::kWithdrawnNoContact:
      return "withdrawn_no_contact";
    case State::kWithdrawnNoNewData:
      return "withdrawn_no_new_data";
    case State::kWithdrawnFull:
      return "withdrawn_full";
  }
  return "";
}

std::string_view EventName(Event e) {
  switch (e) {
    case Event::kInitial:
      return "initial";
    case Event::kModification:
      return "modification";
    case Event::kReconsent:
      return "reconsent";
    case Event::kWithdrawNoContact:
      return "withdrawal:no_contact";
    case Event::kWithdrawNoNewData:
      return "withdrawal:no_new_data";
    case Event::kWithdrawFull:
      return "withdrawal:full";
  }
  return "";
}

std::span<const Transition> TransitionTable() {
  using enum State;
  using enum Event;
  static constexpr Transition kTable[] = {
      {kNone, kInitial, kActive},
      {kActive, kModification, kActive},
      {kActive, kReconsent, kActive},
      {kActive, kWithdrawNoContact, kWithdrawnNoContact},
      {kActive, kWithdrawNoNewData, kWithdrawnNoNewData},
      {kActive, kWithdrawFull, kWithdrawnFull},
      // A change-of-intention form after a no-contact withdrawal restores contact.
      {kWithdrawnNoContact, kModification, kActive},
      {kWithdrawnNoContact, kReconsent, kActive},
      {kWithdrawnNoContact, kWithdrawNoNewData, kWithdrawnNoNewData},
      {kWithdrawnNoContact, kWithdrawFull, kWithdrawnFull},
      // OPT_* items may change, but the no-new-data withdrawal stays until a newer ICF is signed.
      {kWithdrawnNoNewData, kModification, kWithdrawnNoNewData},
      {kWithdrawnNoNewData, kReconsent, kActive},
      {kWithdrawnNoNewData, kWithdrawFull, kWithdrawnFull},
  };
  return kTable;
}

Result<State> Next(State from, Event event) {
  for (const Transition& t : TransitionTable()) {
    if (t.from == from && t.event == event) return t.to;
  }
  return Conflict("invalid_consent_transition", fmt::format("consent in state {} does not allow {}",
                                                            StateName(from), EventName(event)));
}

State ConsentRecord::state() const {
  if (withdrawal_level == "no_contact") return State::kWithdrawnNoContact;
  if (withdrawal_level == "no_new_data") return State::kWithdrawnNoNewData;
  if (withdrawal_level == "full") return State::kWithdrawnFull;
  return State::kActive;
}

// ---- profile and matching -------------------------------------------------------------------

DataUseProfile DeriveProfile(const std::optional<ConsentRecord>& current,
                             const std::vector<IcfItem>& catalogue, std::string_view disease) {
  DataUseProfile p;
  if (!current) return p;
  p.withdrawal_level = current->withdrawal_level;
  if (current->state() == State::kWithdrawnFull) {
    p.secondary_findings = "dont_want";
    return p;
  }
  p.any_use = true;
  const auto& d = current->decisions;
  const bool contact_ok = current->state() != State::kWithdrawnNoContact;
  const bool new_data_ok = current->state() != State::kWithdrawnNoNewData;

  // The broadest permitted scope is the primary category (GRU ⊃ HMB ⊃ DS).
  bool gru = false, hmb = false, ds = false, ncu = false, gs = false, cc = false;
  for (const IcfItem& item : catalogue) {
    const bool permit = Permitted(d, item.code);
    if (item.duo == "GRU") gru = gru || permit;
    if (item.duo == "HMB") hmb = hmb || permit;
    if (item.duo == "DS") ds = ds || permit;
    if (item.duo == "NCU" && !permit) ncu = true;
    if (item.duo == "GS" && !permit) gs = true;
    if (item.duo == "CC" && permit) cc = true;
  }
  if (gru) {
    p.primary = "GRU";
  } else if (hmb) {
    p.primary = "HMB";
  } else if (ds) {
    p.primary = "DS";
    p.disease = std::string(disease);
  }
  if (!p.primary.empty()) p.duo.push_back(p.primary);
  if (ncu) {
    p.duo.push_back("NCU");
    p.duo.push_back("NPU");
  }
  if (gs) p.duo.push_back("GS");

  p.new_data_allowed = new_data_ok;
  p.linkage_allowed = new_data_ok && Permitted(d, "C07");
  p.additional_samples_allowed = new_data_ok && Permitted(d, "C08");
  p.primary_findings_return = contact_ok && Permitted(d, "C09");
  if (cc && p.primary_findings_return) p.duo.push_back("CC");
  const std::string c10 = DecisionOf(*current, "C10");
  p.secondary_findings = !contact_ok       ? "dont_want"
                         : c10 == "permit" ? "want"
                         : c10 == "deny"   ? "dont_want"
                                           : "undecided";
  p.designated_relative =
      contact_ok && Permitted(d, "C11") && current->details.contains("designated_relative");
  p.recontact_new_studies = contact_ok && Permitted(d, "C12");
  p.recontact_reinterpretation = contact_ok && Permitted(d, "C13");
  p.recontact_allowed = p.recontact_new_studies || p.recontact_reinterpretation;
  p.residual_sample_storage = Permitted(d, "C14");
  return p;
}

json ProfileJson(const DataUseProfile& p) {
  json ids = json::array();
  for (const auto& c : p.duo) ids.push_back(DuoId(c));
  return {{"any_use", p.any_use},
          {"withdrawal_level", p.withdrawal_level},
          {"primary", p.primary},
          {"disease", p.disease},
          {"duo", p.duo},
          {"duo_ids", ids},
          {"linkage_allowed", p.linkage_allowed},
          {"new_data_allowed", p.new_data_allowed},
          {"additional_samples_allowed", p.additional_samples_allowed},
          {"recontact_allowed", p.recontact_allowed},
          {"recontact_new_studies", p.recontact_new_studies},
          {"recontact_reinterpretation", p.recontact_reinterpretation},
          {"primary_findings_return", p.primary_findings_return},
          {"secondary_findings", p.secondary_findings},
          {"designated_relative", p.designated_relative},
          {"residual_sample_storage", p.residual_sample_storage}};
}

std::optional<Purpose::Kind> ParsePurposeKind(std::string_view s) {
  using K = Purpose::Kind;
  if (s == "research") return K::kResearch;
  if (s == "linkage") return K::kLinkage;
  if (s == "new_data") return K::kNewData;
  if (s == "recontact") return K::kRecontact;
  if (s == "primary_findings") return K::kPrimaryFindings;
  if (s == "secondary_findings") return K::kSecondaryFindings;
  return std::nullopt;
}

Decision Match(const DataUseProfile& p, const Purpose& purpose) {
  if (!p.any_use) {
    return {false, p.withdrawal_level == "full" ? "the participant has withdrawn fully"
                                                : "no consent in force"};
  }
  const auto has = [&](std::string_view c) {
    return std::find(p.duo.begin(), p.duo.end(), c) != p.duo.end();
  };
  const auto flag = [&](bool ok, std::string_view what) -> Decision {
    if (ok) return {true, fmt::format("consent permits {}", what)};
    if (!p.withdrawal_level.empty()) {
      return {false, fmt::format("withdrawal ({}) or the consent items exclude {}",
                                 p.withdrawal_level, what)};
    }
    return {false, fmt::format("the consent items exclude {}", what)};
  };
  using K = Purpose::Kind;
  switch (purpose.kind) {
    case K::kLinkage:
      return flag(p.linkage_allowed, "linkage");
    case K::kNewData:
      return flag(p.new_data_allowed, "collection of new data");
    case K::kRecontact:
      return purpose.reinterpretation
                 ? flag(p.recontact_reinterpretation, "recontact about a re-interpreted result")
                 : flag(p.recontact_new_studies, "recontact about new studies");
    case K::kPrimaryFindings:
      return flag(p.primary_findings_return, "return of primary findings");
    case K::kSecondaryFindings:
      return flag(p.secondary_findings == "want", "return of secondary findings");
    case K::kResearch:
      break;
  }
  // Research: every condition of the purpose must hold (ga4gh.md §6.2).
  bool scope_ok = false;
  const bool ds_match = p.primary == "DS" && purpose.category == "DS" && !purpose.disease.empty() &&
                        purpose.disease == p.disease;
  if (purpose.category == "GRU") {
    scope_ok = p.primary == "GRU";  // general/ancestry research: HMB and DS exclude it
  } else if (purpose.category == "HMB") {
    scope_ok = p.primary == "GRU" || p.primary == "HMB";
  } else if (purpose.category == "DS") {
    scope_ok = p.primary == "GRU" || p.primary == "HMB" || ds_match;
  }
  if (!scope_ok) {
    return {false, fmt::format("research category {} is outside the consented scope ({})",
                               purpose.category, p.primary.empty() ? "none" : p.primary)};
  }
  if (purpose.methods_development && !(p.primary == "GRU" || !has("NMDS") || ds_match)) {
    return {false, "methods development is excluded (NMDS)"};
  }
  if (purpose.commercial && (has("NCU") || has("NPU") || has("NPUNCU"))) {
    return {false, "commercial use is excluded (NCU/NPU)"};
  }
  if (purpose.overseas && has("GS")) {
    return {false, "use outside the country is excluded (GS)"};
  }
  return {true, fmt::format("research {} matches {}", purpose.category, p.primary)};
}

Result<Decision> Permits(storage::Store& store, std::string_view participant_id,
                         const Purpose& purpose) {
  if (purpose.kind == Purpose::Kind::kResearch) {
    if (purpose.category != "GRU" && purpose.category != "HMB" && purpose.category != "DS") {
      return InvalidArgument("invalid_category", "category must be GRU, HMB or DS", "category");
    }
    if (purpose.category == "DS" && purpose.disease.empty()) {
      return InvalidArgument("missing_field", "disease-specific research names the disease",
                             "disease");
    }
  }
  ZG_ASSIGN_OR_RETURN(auto tx, store.Begin(storage::TxMode::kRead));
  ZG_ASSIGN_OR_RETURN(ParticipantFacts facts, LoadParticipant(*tx, participant_id));
  ZG_ASSIGN_OR_RETURN(std::optional<ConsentRecord> current, LoadCurrent(*tx, participant_id));
  std::vector<IcfItem> catalogue;
  if (current) {
    ZG_ASSIGN_OR_RETURN(IcfVersion icf,
                        LoadIcf(*tx, facts.program, current->icf_version, current->icf_language));
    catalogue = std::move(icf.items);
  }
  return Match(DeriveProfile(current, catalogue, facts.disease), purpose);
}

// ---- FHIR -----------------------------------------------------------------------------------

json FhirConsent(const ConsentRecord& r, const IcfVersion& icf, bool current) {
  // R4 Consent.status: a superseded record or a full withdrawal is no longer in force.
  const std::string status = !current || r.state() == State::kWithdrawnFull ? "inactive" : "active";
  json provisions = json::array();
  for (const IcfItem& item : icf.items) {
    const std::string decision = DecisionOf(r, item.code);
    // FHIR provisions are permit or deny only; an undecided item is left out (no consent given).
    if (decision != "permit" && decision != "deny") continue;
    json coding = {{"system", "urn:zengen:icf-item"},
                   {"code", item.code},
                   {"display", icf.language == "ja" ? item.label_ja : item.label_en}};
    json prov = {{"type", decision}, {"code", json::array({{{"coding", json::array({coding})}}})}};
    if (!item.duo.empty()) {
      prov["purpose"] = json::array({{{"system", "http://purl.obolibrary.org/obo/duo.owl"},
                                      {"code", DuoId(item.duo)},
                                      {"display", item.duo}}});
    }
    provisions.push_back(std::move(prov));
  }
  json fhir = {
      {"resourceType", "Consent"},
      {"id", r.id},
      {"status", status},
      {"scope",
       {{"coding", json::array({{{"system", "http://terminology.hl7.org/CodeSystem/consentscope"},
                                 {"code", "research"},
                                 {"display", "Research"}}})}}},
      {"category", json::array({{{"coding", json::array({{{"system", "http://loinc.org"},
                                                          {"code", "59284-0"},
                                                          {"display", "Patient Consent"}}})}}})},
      {"patient", {{"reference", "Patient/" + r.participant_id}}},
      {"dateTime", r.signed_date},
      {"policy", json::array({{{"uri", fmt::format("urn:zengen:icf:{}:{}:{}", icf.program,
                                                   r.icf_version, r.icf_language)}}})},
      {"provision",
       {{"type", r.state() == State::kWithdrawnFull ? "deny" : "permit"},
        {"provision", provisions}}},
  };
  if (!r.withdrawal_level.empty()) {
    fhir["extension"] = json::array(
        {{{"url", "urn:zengen:consent:withdrawal-level"}, {"valueCode", r.withdrawal_level}}});
  }
  return fhir;
}

json RecordJson(const ConsentRecord& r) {
  return {{"id", r.id},
          {"participant_id", r.participant_id},
          {"seq", r.seq},
          {"kind", r.kind},
          {"state", StateName(r.state())},
          {"withdrawal_level", r.withdrawal_level},
          {"icf_version", r.icf_version},
          {"language", r.icf_language},
          {"decisions", r.decisions},
          {"details", r.details},
          {"signed_date", r.signed_date},
          {"supersedes", r.supersedes.empty() ? json(nullptr) : json(r.supersedes)},
          {"recorded_by", r.recorded_by},
          {"recorded_at", r.recorded_at}};
}

// ---- ledger ---------------------------------------------------------------------------------

Ledger::Ledger(storage::Store& store, const Clock& clock, AuditSink& audit)
    : store_(store), clock_(clock), audit_(audit) {}

Result<IcfVersion> Ledger::RegisterIcfVersion(const IcfVersion& in, const Actor& actor) {
  if (!OneOf(in.program, kPrograms)) {
    return InvalidArgument("invalid_program", "program must be cancer or rare_disease", "program");
  }
  if (!ValidVersion(in.version)) {
    return InvalidArgument("invalid_version", "version is dotted numbers, e.g. 1.1", "version");
  }
  if (!OneOf(in.language, kLanguages)) {
    return InvalidArgument("invalid_language", "language must be ja or en", "language");
  }
  if (!participants::ValidDate(in.effective_date)) {
    return InvalidArgument("invalid_date", "effective_date must be a date YYYY-MM-DD",
                           "effective_date");
  }
  ZG_RETURN_IF_ERROR(ValidateCatalogue(in.items, in.language));
  IcfVersion icf = in;
  icf.created_by = actor.id;
  icf.created_at = FormatRfc3339(clock_.Now());
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kWrite));
  auto inserted = tx->Exec(
      "INSERT INTO icf_versions (version, language, program, effective_date, items, created_by, "
      "created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
      {Text(icf.version), Text(icf.language), Text(icf.program), Text(icf.effective_date),
       Text(CatalogueJson(icf.items).dump()), Text(icf.created_by), Text(icf.created_at)});
  if (!inserted.ok()) {
    if (inserted.error().code == "unique_violation") {
      return Conflict("icf_version_exists",
                      fmt::format("ICF {} version {} ({}) already exists; versions are never "
                                  "replaced",
                                  icf.program, icf.version, icf.language),
                      "version");
    }
    return inserted.error();
  }
  ZG_RETURN_IF_ERROR(audit_.AppendInTransaction(
      *tx, {.actor = actor.id,
            .source = actor.source,
            .action = "icf.write",
            .resource = fmt::format("icf/{}/{}/{}", icf.program, icf.version, icf.language),
            .reason = "ICF version registered",
            .request_id = actor.request_id,
            .details = json({{"items", icf.items.size()}}).dump()}));
  ZG_RETURN_IF_ERROR(tx->Commit());
  return icf;
}

Result<std::vector<IcfVersion>> Ledger::ListIcfVersions() {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
  ZG_ASSIGN_OR_RETURN(auto rows,
                      tx->Query("SELECT program, version, language, effective_date, created_by, "
                                "created_at FROM icf_versions ORDER BY program, language"));
  std::vector<IcfVersion> out;
  for (const auto& r : rows.rows) {
    out.push_back({r.Text(0), r.Text(1), r.Text(2), r.Text(3), {}, r.Text(4), r.Text(5)});
  }
  // Versions sort numerically, which SQL text ordering does not do.
  std::stable_sort(out.begin(), out.end(), [](const IcfVersion& a, const IcfVersion& b) {
    if (a.program != b.program) return a.program < b.program;
    if (VersionParts(a.version) != VersionParts(b.version)) {
      return VersionLess(a.version, b.version);
    }
    return a.language < b.language;
  });
  return out;
}

Result<IcfVersion> Ledger::GetIcf(std::string_view program, std::string_view version,
                                  std::string_view language) {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
  return LoadIcf(*tx, program, version, language);
}

Result<ConsentRecord> Ledger::Record(std::string_view participant_id, const ConsentInput& in,
                                     const Actor& actor) {
  ZG_ASSIGN_OR_RETURN(Event event, EventOfKind(in.kind));
  if (!ValidVersion(in.icf_version)) {
    return InvalidArgument("invalid_version", "icf_version is dotted numbers, e.g. 1.0",
                           "icf_version");
  }
  if (!OneOf(in.language, kLanguages)) {
    return InvalidArgument("invalid_language", "language must be ja or en", "language");
  }
  ZG_RETURN_IF_ERROR(ValidateDate(in.signed_date, "signed_date", clock_));
  ZG_RETURN_IF_ERROR(ValidateDetails(in.details, in.decisions));
  return Append(participant_id, event, in, "", actor);
}

Result<WithdrawalResult> Ledger::Withdraw(std::string_view participant_id,
                                          const WithdrawalInput& in, const Actor& actor) {
  Event event;
  if (in.level == "no_contact") {
    event = Event::kWithdrawNoContact;
  } else if (in.level == "no_new_data") {
    event = Event::kWithdrawNoNewData;
  } else if (in.level == "full") {
    event = Event::kWithdrawFull;
  } else {
    return InvalidArgument("invalid_level", "level must be no_contact, no_new_data or full",
                           "level");
  }
  ZG_RETURN_IF_ERROR(ValidateDate(in.signed_date, "signed_date", clock_));
  if (in.reason.size() > 2000) {
    return InvalidArgument("value_too_long", "'reason' exceeds 2000 bytes", "reason");
  }
  ConsentInput ci;
  ci.kind = "withdrawal";
  ci.signed_date = in.signed_date;
  ZG_ASSIGN_OR_RETURN(ConsentRecord r, Append(participant_id, event, ci, in.reason, actor));
  // Nothing has been released to anyone yet (no sharing module), so nobody is to be told.
  return WithdrawalResult{std::move(r), {}};
}

Result<ConsentRecord> Ledger::Append(std::string_view participant_id, Event event,
                                     const ConsentInput& in, const std::string& reason,
                                     const Actor& actor) {
  // One write transaction: read the current record, check the transition, insert the next.
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kWrite));
  ZG_ASSIGN_OR_RETURN(ParticipantFacts facts, LoadParticipant(*tx, participant_id));
  ZG_ASSIGN_OR_RETURN(std::optional<ConsentRecord> current, LoadCurrent(*tx, participant_id));
  const State from = current ? current->state() : State::kNone;
  ZG_ASSIGN_OR_RETURN(State to, Next(from, event));

  ConsentRecord r;
  r.participant_id = std::string(participant_id);
  r.seq = current ? current->seq + 1 : 1;
  r.supersedes = current ? current->id : "";
  r.withdrawal_level = std::string(LevelOfState(to));
  r.signed_date = in.signed_date;
  r.recorded_by = actor.id;
  r.recorded_at = FormatRfc3339(clock_.Now());
  r.id = "cns_" + crypto::ToHex(crypto::RandomBytes(12));

  if (const auto level = LevelOfEvent(event)) {
    // The table guarantees a current record here.
    r.kind = "withdrawal";
    r.icf_version = current->icf_version;
    r.icf_language = current->icf_language;
    r.decisions = current->decisions;
    if (event == Event::kWithdrawNoContact) {
      // No contact means none of the contact items can be acted on (§5.3 forces C10-C13);
      // returning primary findings (C09) needs contact too. Writing them as deny carries the
      // restriction into every later record, so a stricter withdrawal never re-opens contact.
      for (const char* code : {"C09", "C10", "C11", "C12", "C13"}) {
        if (r.decisions.contains(code)) r.decisions[code] = "deny";
      }
    }
    // The signer, method and designated relative of the consent stay in force; the withdrawal
    // itself is added beside them.
    r.details = current->details;
    r.details["withdrawal"] = {
        {"level", *level}, {"reason", reason}, {"previous_state", StateName(from)}};
  } else {
    r.kind = in.kind;
    r.icf_version = in.icf_version;
    r.icf_language = in.language;
    r.decisions = in.decisions;
    r.details = in.details;
    ZG_ASSIGN_OR_RETURN(IcfVersion icf, LoadIcf(*tx, facts.program, in.icf_version, in.language));
    ZG_RETURN_IF_ERROR(ValidateDecisions(in.decisions, icf.items));
    if (event == Event::kModification) {
      if (in.icf_version != current->icf_version) {
        return Conflict("icf_version_mismatch",
                        fmt::format("a modification keeps ICF version {}; signing version {} is "
                                    "a reconsent",
                                    current->icf_version, in.icf_version),
                        "icf_version");
      }
      for (const IcfItem& item : icf.items) {
        if (item.item_class == ItemClass::kMandatory &&
            DecisionOf(*current, item.code) != in.decisions.at(item.code)) {
          return Conflict("mandatory_item_changed",
                          fmt::format("item {} is mandatory and cannot be modified", item.code),
                          "decisions." + item.code);
        }
      }
    }
    if (event == Event::kReconsent && !VersionLess(current->icf_version, in.icf_version)) {
      return Conflict(
          "icf_version_not_newer",
          fmt::format("a reconsent needs an ICF newer than version {}", current->icf_version),
          "icf_version");
    }
  }

  auto inserted = tx->Exec(
      "INSERT INTO consent_records (id, participant_id, seq, kind, withdrawal_level, "
      "icf_version, icf_language, decisions, details, signed_date, supersedes, recorded_by, "
      "recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
      {Text(r.id), Text(r.participant_id), Int(r.seq), Text(r.kind), Text(r.withdrawal_level),
       Text(r.icf_version), Text(r.icf_language), Text(json(r.decisions).dump()),
       Text(r.details.dump()), Text(r.signed_date),
       r.supersedes.empty() ? Null() : Text(r.supersedes), Text(r.recorded_by),
       Text(r.recorded_at)});
  if (!inserted.ok()) {
    // Two concurrent changes read the same current record (PostgreSQL); one wins the seq.
    if (inserted.error().code == "unique_violation") {
      return Conflict("concurrent_consent_change",
                      "the consent changed while this was recorded; reload and retry");
    }
    return inserted.error();
  }
  // why: the consent record and its audit record commit together.
  ZG_RETURN_IF_ERROR(audit_.AppendInTransaction(
      *tx, {.actor = actor.id,
            .source = actor.source,
            .action = "consent.write",
            .resource = "participant/" + r.participant_id,
            .reason = fmt::format("{}: {} -> {}", EventName(event), StateName(from), StateName(to)),
            .request_id = actor.request_id,
            .details = json({{"consent_id", r.id},
                             {"seq", r.seq},
                             {"kind", r.kind},
                             {"from", StateName(from)},
                             {"to", StateName(to)},
                             {"icf_version", r.icf_version}})
                           .dump()}));
  ZG_RETURN_IF_ERROR(tx->Commit());
  return r;
}

Result<ConsentStatus> Ledger::Current(std::string_view participant_id) {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
  ZG_ASSIGN_OR_RETURN(ParticipantFacts facts, LoadParticipant(*tx, participant_id));
  ConsentStatus s;
  s.participant_id = std::string(participant_id);
  s.program = facts.program;
  ZG_ASSIGN_OR_RETURN(s.history, LoadHistory(*tx, participant_id));
  std::vector<IcfItem> catalogue;
  if (!s.history.empty()) {
    s.current = s.history.back();
    s.state = s.current->state();
    ZG_ASSIGN_OR_RETURN(IcfVersion icf, LoadIcf(*tx, facts.program, s.current->icf_version,
                                                s.current->icf_language));
    catalogue = std::move(icf.items);
  }
  s.profile = DeriveProfile(s.current, catalogue, facts.disease);
  return s;
}

Result<State> Ledger::CurrentState(std::string_view participant_id) {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
  ZG_ASSIGN_OR_RETURN(auto rows, tx->Query("SELECT withdrawal_level FROM consent_records WHERE "
                                           "participant_id = $1 ORDER BY seq DESC LIMIT 1",
                                           {storage::Text(std::string(participant_id))}));
  if (rows.empty()) return State::kNone;
  ConsentRecord latest;
  latest.withdrawal_level = rows.rows[0].Text(0);
  return latest.state();
}

Result<int64_t> Ledger::Changes() {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
  ZG_ASSIGN_OR_RETURN(auto rows, tx->Query("SELECT COUNT(*) FROM consent_records"));
  return rows.rows[0].Int(0);
}

}  // namespace zengen::consent
