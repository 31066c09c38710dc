#include "sharing/sharing.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <span>
#include <tuple>
#include <unordered_map>

#include "clinical/dictionary.h"
#include "clinical/submitted_values.h"
#include "common/field_checks.h"
#include "crypto/crypto.h"
#include "crypto/ids.h"
#include "genomefiles/catalogue.h"
#include "identity/directory.h"
#include "storage/columns.h"

namespace zengen::sharing {
namespace {

using nlohmann::json;
using storage::Int;
using storage::Null;
using storage::Text;
using TimePoint = std::chrono::system_clock::time_point;

Error Bad(const std::string& field, std::string message) {
  return InvalidArgument("invalid_" + field.substr(field.rfind('.') + 1), std::move(message),
                         field);
}

Error Missing(const std::string& field) {
  return InvalidArgument("missing_field", fmt::format("'{}' is required", field), field);
}

// YYYY-MM-DD → a valid calendar day.
std::optional<std::chrono::year_month_day> ParseDate(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return std::nullopt;
  }
  const int y = std::stoi(std::string(s.substr(0, 4)));
  const unsigned m = std::stoul(std::string(s.substr(5, 2)));
  const unsigned d = std::stoul(std::string(s.substr(8, 2)));
  const std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{m},
                                        std::chrono::day{d}};
  if (!ymd.ok() || y < 2000 || y > 2200) return std::nullopt;
  return ymd;
}

// Parses FormatRfc3339 output (YYYY-MM-DDTHH:MM:SS.mmmZ, or without milliseconds).
TimePoint ParseTime(const std::string& s) {
  if (s.size() < 19) return {};
  const auto day = ParseDate(s.substr(0, 10));
  if (!day) return {};
  const int h = std::stoi(s.substr(11, 2)), mi = std::stoi(s.substr(14, 2)),
            se = std::stoi(s.substr(17, 2));
  int ms = 0;
  if (s.size() >= 23 && s[19] == '.') ms = std::stoi(s.substr(20, 3));
  return std::chrono::sys_days{*day} + std::chrono::hours{h} + std::chrono::minutes{mi} +
         std::chrono::seconds{se} + std::chrono::milliseconds{ms};
}


json ParseObject(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  return j.is_object() ? j : json::object();
}

bool IsHex64(const std::string& s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return std::isdigit(static_cast<unsigned char>(c)) || (c >= 'a' && c <= 'f');
         });
}

Status CheckText(const std::string& value, const std::string& field, size_t max, bool required) {
  if (required && TrimBlank(value).empty()) return Missing(field);
  if (value.size() > max) {
    return InvalidArgument("value_too_long", fmt::format("'{}' exceeds {} bytes", field, max),
                           field);
  }
  return Status::Ok();
}

// ---- row readers ------------------------------------------------------------------------------

constexpr const char* kDatasetCols =
    "id, name_ja, name_en, program, group_id, description, created_by, created_at";

Dataset DatasetFrom(const storage::Row& r) {
  return {r.Text(0), r.Text(1), r.Text(2), r.Text(3), r.Text(4), r.Text(5), r.Text(6), r.Text(7)};
}

constexpr const char* kReleaseCols =
    "id, dataset_id, release_date, embargo_months, controlled_at, public_aggregates_at, tier, "
    "tier_since, created_by, created_at";

Release ReleaseFrom(const storage::Row& r) {
  return {r.Text(0), r.Text(1), r.Text(2), r.Int(3), r.Text(4),
          r.IsNull(5) ? "" : r.Text(5), r.Text(6), r.Text(7), r.Text(8), r.Text(9)};
}

constexpr const char* kAppCols =
    "id, applicant, organisation_id, track, title, purpose, datasets, data_types, "
    "fastq_justification, ethics, agreement, fee, start_date, end_date, state, created_at, "
    "updated_at, version, abstract, principal_investigator, collaborators, data_security_plan";

Application AppFrom(const storage::Row& r) {
  Application a;
  a.id = r.Text(0);
  a.applicant = r.Text(1);
  a.organisation = r.Text(2);
  a.track = r.Text(3);
  a.title = r.Text(4);
  auto p = ParsePurpose(ParseObject(r.Text(5)));
  if (p.ok()) a.purpose = *p;
  a.datasets = storage::ParseStringList(r.Text(6));
  a.data_types = storage::ParseStringList(r.Text(7));
  a.fastq_justification = r.Text(8);
  a.ethics = ParseObject(r.Text(9));
  a.agreement = ParseObject(r.Text(10));
  a.fee = ParseObject(r.Text(11));
  a.start_date = r.Text(12);
  a.end_date = r.Text(13);
  a.state = r.Text(14);
  a.created_at = r.Text(15);
  a.updated_at = r.Text(16);
  a.version = r.Int(17);
  a.abstract_text = r.Text(18);
  a.principal_investigator = r.Text(19);
  a.collaborators = storage::ParseStringList(r.Text(20));
  a.data_security_plan = r.Text(21);
  return a;
}

constexpr const char* kGrantCols =
    "id, application_id, holder, organisation_id, datasets, data_types, purpose, track, "
    "starts_at, expires_at, revoked_at, revoked_by, revoke_reason, created_at";

GrantRecord GrantFrom(const storage::Row& r) {
  GrantRecord g;
  g.id = r.Text(0);
  g.application_id = r.Text(1);
  g.holder = r.Text(2);
  g.organisation = r.Text(3);
  g.datasets = storage::ParseStringList(r.Text(4));
  g.data_types = storage::ParseStringList(r.Text(5));
  auto p = ParsePurpose(ParseObject(r.Text(6)));
  if (p.ok()) g.purpose = *p;
  g.track = r.Text(7);
  g.starts_at = r.Text(8);
  g.expires_at = r.Text(9);
  g.revoked_at = r.IsNull(10) ? "" : r.Text(10);
  g.revoked_by = r.IsNull(11) ? "" : r.Text(11);
  g.revoke_reason = r.IsNull(12) ? "" : r.Text(12);
  g.created_at = r.Text(13);
  return g;
}

policy::Grant PolicyGrant(const GrantRecord& g) {
  return {.id = g.id,
          .holder = g.holder,
          .datasets = g.datasets,
          .data_types = g.data_types,
          .purpose = g.purpose.primary,
          .starts_at = ParseTime(g.starts_at),
          .expires_at = ParseTime(g.expires_at),
          .revoked = !g.revoked_at.empty()};
}

Result<int64_t> NextEventSeq(storage::Transaction& tx, std::string_view id) {
  ZG_ASSIGN_OR_RETURN(auto rows,
                      tx.Query("SELECT COALESCE(MAX(seq), 0) FROM application_events "
                               "WHERE application_id = $1",
                               {Text(std::string(id))}));
  return rows.rows[0].Int(0) + 1;
}

Status AppendEvent(storage::Transaction& tx, std::string_view id, std::string_view kind,
                   const Actor& actor, std::string_view vote, std::string_view body,
                   const std::string& now) {
  ZG_ASSIGN_OR_RETURN(int64_t seq, NextEventSeq(tx, id));
  return tx.Exec("INSERT INTO application_events (application_id, seq, kind, user_id, "
                 "organisation_id, vote, body, time) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                 {Text(std::string(id)), Int(seq), Text(std::string(kind)), Text(actor.user),
                  Text(actor.organisation), Text(std::string(vote)), Text(std::string(body)),
                  Text(now)})
      .status();
}

// Moves an application from the state it was read in; kConflict when someone else moved it.
Status MoveApplication(storage::Transaction& tx, const Application& a, std::string_view to,
                       const std::string& now) {
  ZG_ASSIGN_OR_RETURN(int64_t n, tx.Exec("UPDATE applications SET state = $1, updated_at = $2, "
                                         "version = version + 1 WHERE id = $3 AND version = $4",
                                         {Text(std::string(to)), Text(now), Text(a.id),
                                          Int(a.version)}));
  if (n != 1) {
    return Conflict("concurrent_change",
                    fmt::format("application {} changed meanwhile; reload it", a.id));
  }
  return Status::Ok();
}

std::string DateOf(TimePoint t) { return FormatRfc3339(t).substr(0, 10); }

constexpr const char* kDocumentCols =
    "kind, file_name, content_type, size, sha256, blob_id, uploaded_by, uploaded_at";

ApplicationDocument DocumentFrom(const storage::Row& r) {
  return {r.Text(0), r.Text(1), r.Text(2), r.Int(3), r.Text(4), r.Text(5), r.Text(6), r.Text(7)};
}

// An application's documents in DocumentKinds() order.
Result<std::vector<ApplicationDocument>> DocumentsOf(storage::Transaction& tx,
                                                     std::string_view id) {
  ZG_ASSIGN_OR_RETURN(auto rows, tx.Query(fmt::format("SELECT {} FROM application_documents "
                                                      "WHERE application_id = $1",
                                                      kDocumentCols),
                                          {Text(std::string(id))}));
  std::vector<ApplicationDocument> out;
  for (const auto& k : DocumentKinds()) {
    for (const auto& r : rows.rows) {
      if (r.Text(0) == k.kind) out.push_back(DocumentFrom(r));
    }
  }
  return out;
}

// A file name as the browser sends it: 1..255 bytes of UTF-8, no control characters, no path.
Status CheckFileName(std::string_view name) {
  if (name.empty() || name.size() > 255) {
    return Bad("file_name", "the file name (1-255 bytes) is required");
  }
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f || c == '/' || c == '\\' || c == '"') {
      return Bad("file_name", "the file name may not hold control characters, quotes or paths");
    }
  }
  return Status::Ok();
}

bool ValidUtf8Text(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) return false;
      ++i;
      continue;
    }
    size_t n = 0;
    uint32_t cp = 0;
    if ((c & 0xe0) == 0xc0) {
      n = 1, cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      n = 2, cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      n = 3, cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;
    for (size_t k = 1; k <= n; ++k) {
      const auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3f);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
        (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

}  // namespace

// ---- pure pieces ------------------------------------------------------------------------------

const std::vector<DocumentKind>& DocumentKinds() {
  static const auto* kinds = new std::vector<DocumentKind>{
      {"ethics_approval", "倫理審査の承認書", "Ethics approval"},
      {"protocol", "研究計画書", "Research protocol"},
      {"signed_agreement", "署名済みの契約書", "Signed agreement"},
  };
  return *kinds;
}

const DocumentKind* FindDocumentKind(std::string_view kind) {
  for (const auto& k : DocumentKinds()) {
    if (k.kind == kind) return &k;
  }
  return nullptr;
}

std::string SniffDocumentType(std::string_view bytes) {
  if (bytes.starts_with("%PDF-")) return "application/pdf";
  if (!bytes.empty() && ValidUtf8Text(bytes)) return "text/plain";
  return "";
}

std::string_view DataTypeOfKind(std::string_view k) {
  if (k == "cram" || k == "bam") return "cram";
  if (k == "vcf" || k == "bcf") return "vcf";
  if (k == "fastq") return "fastq";
  return "";
}

const std::vector<TierTransition>& TierTable() {
  static const auto* table = new std::vector<TierTransition>{
      {"", "release", "group_restricted", "steward", "公開（研究班内限定）",
       "released to the producing research group"},
      {"group_restricted", "embargo_passed", "controlled", "system", "制限公開へ移行",
       "embargo passed: controlled access"},
      {"controlled", "aggregates_due", "public_aggregates", "system", "集計値の一般公開",
       "aggregate counts made public"},
  };
  return *table;
}

const TierTransition* FindTierTransition(std::string_view from, std::string_view event) {
  for (const auto& t : TierTable()) {
    if (t.from == from && t.event == event) return &t;
  }
  return nullptr;
}

Result<TimePoint> EmbargoEnd(std::string_view date, int64_t months, std::string_view field) {
  const auto ymd = ParseDate(date);
  if (!ymd) {
    return InvalidArgument("invalid_date", fmt::format("'{}' must be a date YYYY-MM-DD", field),
                           std::string(field));
  }
  if (months < 0 || months > kMaxEmbargoMonths) {
    return InvalidArgument("invalid_embargo_months",
                           fmt::format("'embargo_months' must be 0..{}", kMaxEmbargoMonths),
                           "embargo_months");
  }
  std::chrono::year_month_day end = *ymd + std::chrono::months{months};
  if (!end.ok()) end = end.year() / end.month() / std::chrono::last;
  return TimePoint{std::chrono::sys_days{end}};
}

std::string TierAt(const Release& r, TimePoint now) {
  if (!r.public_aggregates_at.empty() && now >= ParseTime(r.public_aggregates_at)) {
    return "public_aggregates";
  }
  if (now >= ParseTime(r.controlled_at)) return "controlled";
  return "group_restricted";
}

std::string_view RequirementName(Requirement r) {
  switch (r) {
    case Requirement::kEthicsApproval: return "ethics_approval";
    case Requirement::kSignedAgreement: return "signed_agreement";
    case Requirement::kFeeRecord: return "fee_record";
  }
  return "";
}

const std::vector<TrackRule>& TrackRules() {
  using R = Requirement;
  static const auto* rules = new std::vector<TrackRule>{
      {"academic", {R::kEthicsApproval}, false, "学術利用", "academic use"},
      {"industry", {R::kEthicsApproval, R::kSignedAgreement, R::kFeeRecord}, true, "産業利用",
       "industry use"},
  };
  return *rules;
}

const TrackRule* FindTrack(std::string_view track) {
  for (const auto& t : TrackRules()) {
    if (t.track == track) return &t;
  }
  return nullptr;
}

json PurposeJson(const Purpose& p) {
  return {{"primary", p.primary},
          {"disease", p.disease},
          {"commercial", p.commercial},
          {"methods_development", p.methods_development},
          {"ancestry", p.ancestry}};
}

Result<Purpose> ParsePurpose(const json& j) {
  if (!j.is_object()) return Bad("purpose", "'purpose' must be an object");
  for (const auto& [k, v] : j.items()) {
    if (k != "primary" && k != "disease" && k != "commercial" && k != "methods_development" &&
        k != "ancestry") {
      return InvalidArgument("unknown_field", fmt::format("unknown field 'purpose.{}'", k),
                             "purpose." + k);
    }
  }
  Purpose p;
  const auto primary = j.find("primary");
  if (primary == j.end() || primary->is_null()) return Missing("purpose.primary");
  if (!primary->is_string() || !OneOf(kPrimaryPurposes, primary->get<std::string>())) {
    return Bad("purpose.primary",
               fmt::format("'purpose.primary' must be one of {}", ListOf(kPrimaryPurposes)));
  }
  p.primary = primary->get<std::string>();
  if (auto d = j.find("disease"); d != j.end() && !d->is_null()) {
    if (!d->is_string() || d->get<std::string>().size() > 64) {
      return Bad("purpose.disease", "'purpose.disease' must be a disease category (≤ 64 bytes)");
    }
    p.disease = d->get<std::string>();
  }
  if (p.primary == "DS" && p.disease.empty()) return Missing("purpose.disease");
  if (p.primary != "DS" && !p.disease.empty()) {
    return Bad("purpose.disease", "'purpose.disease' applies to DS only");
  }
  for (auto [name, target] : {std::pair{"commercial", &p.commercial},
                              std::pair{"methods_development", &p.methods_development},
                              std::pair{"ancestry", &p.ancestry}}) {
    if (auto it = j.find(name); it != j.end() && !it->is_null()) {
      if (!it->is_boolean()) {
        return Bad(std::string("purpose.") + name,
                   fmt::format("'purpose.{}' must be true or false", name));
      }
      *target = it->get<bool>();
    }
  }
  return p;
}

consent::Purpose ToConsentPurpose(const Purpose& p, std::string_view track) {
  consent::Purpose c;
  c.kind = consent::Purpose::Kind::kResearch;
  c.category = (p.primary == "POA" || p.ancestry) ? "GRU" : p.primary;
  c.disease = p.primary == "DS" ? p.disease : "";
  const TrackRule* t = FindTrack(track);
  c.commercial = p.commercial || (t != nullptr && t->for_profit);
  c.methods_development = p.methods_development;
  return c;
}

std::string_view OutcomeName(Outcome o) {
  switch (o) {
    case Outcome::kPending: return "pending";
    case Outcome::kApproved: return "approved";
    case Outcome::kRejected: return "rejected";
  }
  return "";
}

Tally TallyVotes(const std::vector<Ballot>& ballots, std::string_view applicant_org) {
  Tally t;
  // The latest ballot of each member counts.
  std::map<std::string, const Ballot*> latest;
  for (const auto& b : ballots) latest[b.user] = &b;
  for (const auto& [user, b] : latest) {
    if (!applicant_org.empty() && b->organisation == applicant_org) {
      ++t.conflicted;
      continue;
    }
    if (b->vote == "approve") ++t.approve;
    if (b->vote == "reject") ++t.reject;
    if (b->vote == "abstain") ++t.abstain;
  }
  const int decisive = t.approve + t.reject;
  if (decisive < kMinDecisiveVotes) {
    t.outcome = Outcome::kPending;
    t.reason = fmt::format("{} approve/reject vote(s); at least {} are needed", decisive,
                           kMinDecisiveVotes);
  } else if (t.approve > t.reject) {
    t.outcome = Outcome::kApproved;
    t.reason = fmt::format("approved {} to {} ({} abstained)", t.approve, t.reject, t.abstain);
  } else {
    t.outcome = Outcome::kRejected;
    t.reason = fmt::format("rejected: {} approve, {} reject ({} abstained)", t.approve, t.reject,
                           t.abstain);
  }
  return t;
}

const std::vector<AppTransition>& AppTransitions() {
  static const auto* table = new std::vector<AppTransition>{
      {"draft", "submit", "submitted", "applicant"},
      {"draft", "withdraw", "withdrawn", "applicant"},
      {"submitted", "withdraw", "withdrawn", "applicant"},
      {"submitted", "approve", "approved", "committee"},
      {"submitted", "reject", "rejected", "committee"},
  };
  return *table;
}

const AppTransition* FindAppTransition(std::string_view from, std::string_view event) {
  for (const auto& t : AppTransitions()) {
    if (t.from == from && t.event == event) return &t;
  }
  return nullptr;
}

std::string GrantRecord::StatusAt(TimePoint now) const {
  if (!revoked_at.empty()) return "revoked";
  if (now < ParseTime(starts_at)) return "pending";
  if (now >= ParseTime(expires_at)) return "expired";
  return "active";
}

namespace {

Status CheckEthics(const json& e, const std::string& field) {
  if (!e.is_object()) return Bad(field, fmt::format("'{}' must be an object", field));
  if (e.empty()) return Status::Ok();  // not provided yet (a draft)
  for (const auto& [k, v] : e.items()) {
    if (k != "file_name" && k != "sha256" && k != "size" && k != "approval_number" &&
        k != "approved_on") {
      return InvalidArgument("unknown_field", fmt::format("unknown field '{}.{}'", field, k),
                             field + "." + k);
    }
  }
  const auto name = e.find("file_name");
  if (name == e.end() || !name->is_string() || name->get<std::string>().empty() ||
      name->get<std::string>().size() > 255) {
    return Bad(field + ".file_name", "the document's file name (1-255 bytes) is required");
  }
  const auto sha = e.find("sha256");
  if (sha == e.end() || !sha->is_string() || !IsHex64(sha->get<std::string>())) {
    return Bad(field + ".sha256", "the document's SHA-256 (64 lower-case hex digits) is required");
  }
  const auto size = e.find("size");
  if (size == e.end() || !size->is_number_integer() || size->get<int64_t>() <= 0 ||
      size->get<int64_t>() > 50 * 1024 * 1024) {
    return Bad(field + ".size", "the document's size in bytes (1..50 MiB) is required");
  }
  if (auto d = e.find("approved_on"); d != e.end() && (!d->is_string() ||
                                                       !ParseDate(d->get<std::string>()))) {
    return Bad(field + ".approved_on", "must be a date YYYY-MM-DD");
  }
  if (auto n = e.find("approval_number"); n != e.end() &&
                                          (!n->is_string() || n->get<std::string>().size() > 100)) {
    return Bad(field + ".approval_number", "must be a string of ≤ 100 bytes");
  }
  return Status::Ok();
}

Status CheckAgreement(const json& a) {
  if (!a.is_object()) return Bad("agreement", "'agreement' must be an object");
  if (a.empty()) return Status::Ok();
  for (const auto& [k, v] : a.items()) {
    if (k != "signed_on" && k != "sha256" && k != "reference") {
      return InvalidArgument("unknown_field", fmt::format("unknown field 'agreement.{}'", k),
                             "agreement." + k);
    }
  }
  const auto on = a.find("signed_on");
  if (on == a.end() || !on->is_string() || !ParseDate(on->get<std::string>())) {
    return Bad("agreement.signed_on", "the signing date YYYY-MM-DD is required");
  }
  const auto sha = a.find("sha256");
  if (sha == a.end() || !sha->is_string() || !IsHex64(sha->get<std::string>())) {
    return Bad("agreement.sha256", "the signed agreement's SHA-256 is required");
  }
  return Status::Ok();
}

Status CheckFee(const json& f) {
  if (!f.is_object()) return Bad("fee", "'fee' must be an object");
  if (f.empty()) return Status::Ok();
  for (const auto& [k, v] : f.items()) {
    if (k != "invoice_no" && k != "amount_jpy" && k != "paid_on") {
      return InvalidArgument("unknown_field", fmt::format("unknown field 'fee.{}'", k),
                             "fee." + k);
    }
  }
  const auto inv = f.find("invoice_no");
  if (inv == f.end() || !inv->is_string() || inv->get<std::string>().empty() ||
      inv->get<std::string>().size() > 64) {
    return Bad("fee.invoice_no", "the invoice number (1-64 bytes) is required");
  }
  const auto amount = f.find("amount_jpy");
  if (amount == f.end() || !amount->is_number_integer() || amount->get<int64_t>() <= 0) {
    return Bad("fee.amount_jpy", "the amount in yen (a positive integer) is required");
  }
  const auto paid = f.find("paid_on");
  if (paid == f.end() || !paid->is_string() || !ParseDate(paid->get<std::string>())) {
    return Bad("fee.paid_on", "the payment date YYYY-MM-DD is required");
  }
  return Status::Ok();
}

}  // namespace

Status ValidateApplication(const NewApplication& a) {
  ZG_RETURN_IF_ERROR(CheckText(a.title, "title", 500, true));
  // The plan fields may be empty in a draft; Submit requires them.
  ZG_RETURN_IF_ERROR(CheckText(a.abstract_text, "abstract", kMaxTextBytes, false));
  ZG_RETURN_IF_ERROR(CheckText(a.principal_investigator, "principal_investigator", 200, false));
  ZG_RETURN_IF_ERROR(CheckText(a.data_security_plan, "data_security_plan", kMaxTextBytes, false));
  if (a.collaborators.size() > kMaxCollaborators) {
    return Bad("collaborators", fmt::format("at most {} collaborators", kMaxCollaborators));
  }
  for (size_t i = 0; i < a.collaborators.size(); ++i) {
    ZG_RETURN_IF_ERROR(
        CheckText(a.collaborators[i], fmt::format("collaborators[{}]", i), 200, true));
  }
  if (a.datasets.empty()) return Missing("datasets");
  if (a.datasets.size() > 50) return Bad("datasets", "at most 50 datasets");
  std::set<std::string> seen;
  for (size_t i = 0; i < a.datasets.size(); ++i) {
    if (a.datasets[i].empty() || !seen.insert(a.datasets[i]).second) {
      return Bad(fmt::format("datasets[{}]", i), "dataset ids must be non-empty and distinct");
    }
  }
  seen.clear();
  for (size_t i = 0; i < a.data_types.size(); ++i) {
    if (!OneOf(kDataTypes, a.data_types[i]) || !seen.insert(a.data_types[i]).second) {
      return Bad(fmt::format("data_types[{}]", i),
                 fmt::format("data types are distinct values of {}", ListOf(kDataTypes)));
    }
  }
  const bool fastq = Contains(a.data_types, "fastq");
  if (fastq && a.fastq_justification.empty()) return Missing("fastq_justification");
  if (!fastq && !a.fastq_justification.empty()) {
    return Bad("fastq_justification", "only with data type fastq");
  }
  ZG_RETURN_IF_ERROR(CheckText(a.fastq_justification, "fastq_justification", kMaxTextBytes, false));
  ZG_RETURN_IF_ERROR(CheckEthics(a.ethics, "ethics"));
  ZG_RETURN_IF_ERROR(CheckAgreement(a.agreement));
  ZG_RETURN_IF_ERROR(CheckFee(a.fee));
  const auto start = ParseDate(a.start_date);
  if (a.start_date.empty()) return Missing("start_date");
  if (!start) return Bad("start_date", "'start_date' must be a date YYYY-MM-DD");
  const auto end = ParseDate(a.end_date);
  if (a.end_date.empty()) return Missing("end_date");
  if (!end) return Bad("end_date", "'end_date' must be a date YYYY-MM-DD");
  const auto days = (std::chrono::sys_days{*end} - std::chrono::sys_days{*start}).count();
  if (days < 0) return Bad("end_date", "'end_date' is before 'start_date'");
  if (days > kMaxGrantDays) return Bad("end_date", "the period is at most five years");
  return Status::Ok();
}

std::vector<std::string> MissingRequirements(std::string_view track, const json& ethics,
                                             const json& agreement, const json& fee) {
  std::vector<std::string> out;
  const TrackRule* t = FindTrack(track);
  if (t == nullptr) return {"track"};
  for (Requirement r : t->requirements) {
    const json& j = r == Requirement::kEthicsApproval    ? ethics
                    : r == Requirement::kSignedAgreement ? agreement
                                                         : fee;
    if (!j.is_object() || j.empty()) out.emplace_back(RequirementName(r));
  }
  return out;
}

// ---- Sharing ------------------------------------------------------------------------------------

struct Sharing::Candidate {
  std::string file_id;
  std::string kind;
  std::string participant_id;
  std::string hospital;
  std::string file_name;
  int64_t size = 0;
  std::string sha256;
  std::string dataset_id;
  std::string group_id;
  std::optional<Release> release;  // none: not yet in a release
};

Sharing::Sharing(storage::Store& store, const Clock& clock, AuditSink& audit,
                 consent::Ledger& ledger)
    : store_(store), clock_(clock), audit_(audit), ledger_(ledger) {}

Status Sharing::AuditIn(storage::Transaction& tx, const Actor& actor, std::string action,
                        std::string resource, std::string reason, const json& details) {
  return audit_.AppendInTransaction(tx, {.actor = actor.user,
                                         .source = actor.source,
                                         .action = std::move(action),
                                         .resource = std::move(resource),
                                         .decision = "",
                                         .reason = std::move(reason),
                                         .request_id = actor.request_id,
                                         .details = details.dump()});
}

Result<int64_t> Sharing::EmbargoMonths(std::string_view program) {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
  ZG_ASSIGN_OR_RETURN(auto rows,
                      tx->Query("SELECT embargo_months FROM sharing_settings WHERE program = $1",
                                {Text(std::string(program))}));
  return rows.empty() ? kDefaultEmbargoMonths : rows.rows[0].Int(0);
}

Status Sharing::SetEmbargoMonths(std::string_view program, int64_t months, const Actor& actor) {
  if (program != "cancer" && program != "rare_disease") {
    return Bad("program", "'program' must be cancer or rare_disease");
  }
  if (months < 1 || months > kMaxEmbargoMonths) {
    return Bad("embargo_months", fmt::format("'embargo_months' must be 1..{}", kMaxEmbargoMonths));
  }
  const std::string now = FormatRfc3339(clock_.Now());
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kWrite));
  ZG_RETURN_IF_ERROR(tx->Exec("DELETE FROM sharing_settings WHERE program = $1",
                              {Text(std::string(program))}));
  ZG_RETURN_IF_ERROR(tx->Exec("INSERT INTO sharing_settings (program, embargo_months, "
                              "updated_by, updated_at) VALUES ($1, $2, $3, $4)",
                              {Text(std::string(program)), Int(months), Text(actor.user),
                               Text(now)}));
  ZG_RETURN_IF_ERROR(AuditIn(*tx, actor, "dataset.write", "sharing_setting/" + std::string(program),
                             "embargo changed", {{"embargo_months", months}}));
  return tx->Commit();
}

// ---- datasets ---------------------------------------------------------------------------------

Result<Dataset> Sharing::CreateDataset(const NewDataset& d, const Actor& actor) {
  ZG_RETURN_IF_ERROR(CheckText(d.name_ja, "name_ja", 200, true));
  ZG_RETURN_IF_ERROR(CheckText(d.name_en, "name_en", 200, true));
  if (d.program.empty()) return Missing("program");
  if (d.program != "cancer" && d.program != "rare_disease") {
    return Bad("program", "'program' must be cancer or rare_disease");
  }
  ZG_RETURN_IF_ERROR(CheckText(d.group_id, "group_id", 100, true));
  ZG_RETURN_IF_ERROR(CheckText(d.description, "description", kMaxTextBytes, false));
  Dataset out{crypto::NewId("DS-"), d.name_ja, d.name_en, d.program, d.group_id, d.description,
              actor.user, FormatRfc3339(clock_.Now())};
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kWrite));
  ZG_ASSIGN_OR_RETURN(const bool group_exists, identity::ResearchGroupExists(*tx, d.group_id));
  if (!group_exists) return NotFound("group_not_found", fmt::format("no research group '{}'", d.group_id));
  ZG_RETURN_IF_ERROR(tx->Exec(
      fmt::format("INSERT INTO datasets ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                  kDatasetCols),
      {Text(out.id), Text(out.name_ja), Text(out.name_en), Text(out.program), Text(out.group_id),
       Text(out.description), Text(out.created_by), Text(out.created_at)}));
  ZG_RETURN_IF_ERROR(AuditIn(*tx, actor, "dataset.write", "dataset/" + out.id, "dataset created",
                             {{"program", out.program}, {"group", out.group_id}}));
  ZG_RETURN_IF_ERROR(tx->Commit());
  return out;
}

Result<std::vector<Dataset>> Sharing::ListDatasets() {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
  ZG_ASSIGN_OR_RETURN(auto rows, tx->Query(fmt::format("SELECT {} FROM datasets ORDER BY "
                                                       "created_at, id",
                                                       kDatasetCols)));
  std::vector<Dataset> out;
  for (const auto& r : rows.rows) out.push_back(DatasetFrom(r));
  return out;
}

Result<Dataset> Sharing::GetDataset(std::string_view id) {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
  ZG_ASSIGN_OR_RETURN(auto rows,
                      tx->Query(fmt::format("SELECT {} FROM datasets WHERE id = $1", kDatasetCols),
                                {Text(std::string(id))}));
  if (rows.empty()) return NotFound("dataset_not_found", fmt::format("no dataset '{}'", id));
  return DatasetFrom(rows.rows[0]);
}

Result<AddFilesResult> Sharing::AddFiles(std::string_view dataset_id, const FileSelection& sel,
                                         const Actor& actor) {
  if (sel.participant_ids.empty() && sel.file_ids.empty()) {
    return InvalidArgument("empty_selection", "name 'participant_ids' or 'file_ids'",
                           "participant_ids");
  }
  if (sel.participant_ids.size() + sel.file_ids.size() > 10000) {
    return Bad("file_ids", "at most 10000 participants and files at once");
  }
  const std::string now = FormatRfc3339(clock_.Now());
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kWrite));
  ZG_ASSIGN_OR_RETURN(auto ds, tx->Query("SELECT program FROM datasets WHERE id = $1",
                                         {Text(std::string(dataset_id))}));
  if (ds.empty()) return NotFound("dataset_not_found", fmt::format("no dataset '{}'", dataset_id));
  const std::string program = ds.rows[0].Text(0);
  struct F {
    std::string id, kind, participant, program;
  };
  std::vector<F> files;
  for (size_t i = 0; i < sel.participant_ids.size(); ++i) {
    const std::string& pid = sel.participant_ids[i];
    ZG_ASSIGN_OR_RETURN(auto p, tx->Query("SELECT program FROM participants WHERE id = $1",
                                          {Text(pid)}));
    if (p.empty()) {
      return Error{ErrorKind::kNotFound, "participant_not_found",
                   fmt::format("no participant '{}'", pid),
                   fmt::format("participant_ids[{}]", i)};
    }
    ZG_ASSIGN_OR_RETURN(auto entries, genomefiles::CatalogueOfParticipant(*tx, pid));
    for (const auto& e : entries) files.push_back({e.id, e.kind, pid, p.rows[0].Text(0)});
  }
  for (size_t i = 0; i < sel.file_ids.size(); ++i) {
    ZG_ASSIGN_OR_RETURN(auto entries, genomefiles::CatalogueEntries(
                                          *tx, std::span<const std::string>(&sel.file_ids[i], 1)));
    const std::string field = fmt::format("file_ids[{}]", i);
    if (entries.empty()) {
      return Error{ErrorKind::kNotFound, "file_not_found",
                   fmt::format("no file '{}'", sel.file_ids[i]), field};
    }
    const genomefiles::CatalogueEntry& e = entries.front();
    if (e.kind == "fastq" && !sel.include_fastq) {
      return InvalidArgument("fastq_not_requested",
                             "FASTQ is shared only on request: set include_fastq (R4.6)", field);
    }
    ZG_ASSIGN_OR_RETURN(auto p, tx->Query("SELECT program FROM participants WHERE id = $1",
                                          {Text(e.participant_id)}));
    files.push_back({e.id, e.kind, e.participant_id, p.empty() ? "" : p.rows[0].Text(0)});
  }
  AddFilesResult out;
  std::set<std::string> seen;
  for (const auto& f : files) {
    if (!seen.insert(f.id).second) continue;
    if (f.program != program) {
      return InvalidArgument("program_mismatch",
                             fmt::format("participant {} is in program {}, the dataset in {}",
                                         f.participant, f.program, program),
                             "participant_ids");
    }
    const std::string_view type = DataTypeOfKind(f.kind);
    if (type.empty() || (type == "fastq" && !sel.include_fastq)) {
      out.skipped.push_back(f.id);
      continue;
    }
    ZG_ASSIGN_OR_RETURN(auto present, tx->Query("SELECT 1 FROM dataset_files WHERE dataset_id = "
                                                "$1 AND file_id = $2",
                                                {Text(std::string(dataset_id)), Text(f.id)}));
    if (!present.empty()) {
      out.skipped.push_back(f.id);
      continue;
    }
    ZG_RETURN_IF_ERROR(tx->Exec("INSERT INTO dataset_files (dataset_id, file_id, participant_id, "
                                "data_type, added_by, added_at) VALUES ($1, $2, $3, $4, $5, $6)",
                                {Text(std::string(dataset_id)), Text(f.id), Text(f.participant),
                                 Text(std::string(type)), Text(actor.user), Text(now)}));
    out.added.push_back(f.id);
  }
  ZG_RETURN_IF_ERROR(AuditIn(*tx, actor, "dataset.write", "dataset/" + std::string(dataset_id),
                             "files added",
                             {{"added", out.added.size()},
                              {"skipped", out.skipped.size()},
                              {"include_fastq", sel.include_fastq}}));
  ZG_RETURN_IF_ERROR(tx->Commit());
  return out;
}

// ---- releases ---------------------------------------------------------------------------------

Result<ReleaseDetail> Sharing::CreateRelease(std::string_view dataset_id, const NewRelease& n,
                                             const Actor& actor) {
  ZG_ASSIGN_OR_RETURN(Dataset d, GetDataset(dataset_id));
  if (n.release_date.empty()) return Missing("release_date");
  int64_t months = 0;
  if (n.embargo_months) {
    months = *n.embargo_months;
    if (months < 0 || months > kMaxEmbargoMonths) {
      return Bad("embargo_months", fmt::format("'embargo_months' must be 0..{}", kMaxEmbargoMonths));
    }
  } else {
    ZG_ASSIGN_OR_RETURN(months, EmbargoMonths(d.program));
  }
  ZG_ASSIGN_OR_RETURN(TimePoint controlled, EmbargoEnd(n.release_date, months, "release_date"));
  std::string public_at;
  if (!n.public_aggregates_date.empty()) {
    ZG_ASSIGN_OR_RETURN(TimePoint p, EmbargoEnd(n.public_aggregates_date, 0,
                                                "public_aggregates_date"));
    if (p < controlled) {
      return Bad("public_aggregates_date",
                 fmt::format("aggregates may become public only after the embargo ends ({})",
                             DateOf(controlled)));
    }
    public_at = FormatRfc3339(p);
  }
  const std::string now = FormatRfc3339(clock_.Now());
  Release r{crypto::NewId("RL-"), d.id, n.release_date, months, FormatRfc3339(controlled), public_at,
            "group_restricted", now, actor.user, now};
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kWrite));
  ZG_ASSIGN_OR_RETURN(auto files, tx->Query("SELECT COUNT(*) FROM dataset_files WHERE "
                                            "dataset_id = $1",
                                            {Text(d.id)}));
  if (files.rows[0].Int(0) == 0) {
    return Conflict("dataset_empty", "add files to the dataset before releasing it");
  }
  ZG_RETURN_IF_ERROR(tx->Exec(
      fmt::format("INSERT INTO releases ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                  kReleaseCols),
      {Text(r.id), Text(r.dataset_id), Text(r.release_date), Int(r.embargo_months),
       Text(r.controlled_at), public_at.empty() ? Null() : Text(public_at), Text(r.tier),
       Text(r.tier_since), Text(r.created_by), Text(r.created_at)}));
  ZG_RETURN_IF_ERROR(tx->Exec("INSERT INTO release_tier_events (release_id, seq, event, "
                              "from_tier, to_tier, due_at, applied_at, actor) VALUES ($1, 1, "
                              "'release', '', 'group_restricted', $2, $2, $3)",
                              {Text(r.id), Text(now), Text(actor.user)}));
  ZG_RETURN_IF_ERROR(AuditIn(*tx, actor, "dataset.write", "release/" + r.id, "release created",
                             {{"dataset", d.id},
                              {"release_date", r.release_date},
                              {"embargo_months", months},
                              {"controlled_at", r.controlled_at}}));
  ZG_RETURN_IF_ERROR(tx->Commit());
  return GetRelease(r.id);
}

Result<std::vector<Release>> Sharing::ListReleases(std::string_view dataset_id) {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
  ZG_ASSIGN_OR_RETURN(
      auto rows,
      dataset_id.empty()
          ? tx->Query(fmt::format("SELECT {} FROM releases ORDER BY release_date, id",
                                  kReleaseCols))
          : tx->Query(fmt::format("SELECT {} FROM releases WHERE dataset_id = $1 ORDER BY "
                                  "release_date, id",
                                  kReleaseCols),
                      {Text(std::string(dataset_id))}));
  std::vector<Release> out;
  for (const auto& r : rows.rows) out.push_back(ReleaseFrom(r));
  return out;
}

Result<ReleaseDetail> Sharing::GetRelease(std::string_view id) {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
  ZG_ASSIGN_OR_RETURN(auto rows,
                      tx->Query(fmt::format("SELECT {} FROM releases WHERE id = $1", kReleaseCols),
                                {Text(std::string(id))}));
  if (rows.empty()) return NotFound("release_not_found", fmt::format("no release '{}'", id));
  ReleaseDetail d;
  d.release = ReleaseFrom(rows.rows[0]);
  d.tier_now = TierAt(d.release, clock_.Now());
  ZG_ASSIGN_OR_RETURN(auto events,
                      tx->Query("SELECT seq, event, from_tier, to_tier, due_at, applied_at, actor "
                                "FROM release_tier_events WHERE release_id = $1 ORDER BY seq",
                                {Text(std::string(id))}));
  for (const auto& r : events.rows) {
    d.history.push_back({r.Int(0), r.Text(1), r.Text(2), r.Text(3), r.Text(4), r.Text(5),
                         r.Text(6)});
  }
  return d;
}

Result<TickSummary> Sharing::Tick(TimePoint now) {
  TickSummary s;
  ZG_ASSIGN_OR_RETURN(std::vector<Release> releases, ListReleases(""));
  const Actor system{"system", "", {}, "system", ""};
  for (const Release& r : releases) {
    ++s.checked;
    Release cur = r;
    // Apply every due move in table order (a release may pass both dates between two ticks).
    while (true) {
      const std::string target = TierAt(cur, now);
      if (target == cur.tier) break;
      const TierTransition* t = nullptr;
      for (const auto& row : TierTable()) {
        if (row.from == cur.tier && row.party == "system") t = &row;
      }
      if (t == nullptr) break;
      const std::string due =
          t->to == std::string_view("controlled") ? cur.controlled_at : cur.public_aggregates_at;
      const std::string applied = FormatRfc3339(now);
      ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kWrite));
      ZG_ASSIGN_OR_RETURN(int64_t n, tx->Exec("UPDATE releases SET tier = $1, tier_since = $2 "
                                              "WHERE id = $3 AND tier = $4",
                                              {Text(std::string(t->to)), Text(due), Text(cur.id),
                                               Text(cur.tier)}));
      if (n != 1) break;  // another sweep moved it
      ZG_ASSIGN_OR_RETURN(auto seq, tx->Query("SELECT COALESCE(MAX(seq), 0) + 1 FROM "
                                              "release_tier_events WHERE release_id = $1",
                                              {Text(cur.id)}));
      ZG_RETURN_IF_ERROR(tx->Exec("INSERT INTO release_tier_events (release_id, seq, event, "
                                  "from_tier, to_tier, due_at, applied_at, actor) VALUES ($1, $2, "
                                  "$3, $4, $5, $6, $7, 'system')",
                                  {Text(cur.id), Int(seq.rows[0].Int(0)),
                                   Text(std::string(t->event)), Text(cur.tier),
                                   Text(std::string(t->to)), Text(due), Text(applied)}));
      ZG_RETURN_IF_ERROR(AuditIn(
          *tx, system, "release.tier", "release/" + cur.id,
          fmt::format("{}: {} → {}", t->event, cur.tier, t->to),
          {{"dataset", cur.dataset_id}, {"from", cur.tier}, {"to", t->to}, {"due_at", due}}));
      ZG_RETURN_IF_ERROR(tx->Commit());
      if (t->to == std::string_view("controlled")) ++s.to_controlled;
      if (t->to == std::string_view("public_aggregates")) ++s.to_public_aggregates;
      cur.tier = std::string(t->to);
    }
  }
  return s;
}

Result<json> Sharing::ReleaseCalendar() {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
  ZG_ASSIGN_OR_RETURN(
      auto rows,
      tx->Query("SELECT r.id, r.dataset_id, d.name_ja, d.name_en, d.program, r.release_date, "
                "r.controlled_at, r.public_aggregates_at, r.embargo_months FROM releases r JOIN "
                "datasets d ON d.id = r.dataset_id ORDER BY r.release_date, r.id"));
  const TimePoint now = clock_.Now();
  json items = json::array();
  for (const auto& r : rows.rows) {
    Release rel;
    rel.controlled_at = r.Text(6);
    rel.public_aggregates_at = r.IsNull(7) ? "" : r.Text(7);
    items.push_back({{"id", r.Text(0)},
                     {"dataset_id", r.Text(1)},
                     {"title", {{"ja", r.Text(2)}, {"en", r.Text(3)}}},
                     {"program", r.Text(4)},
                     {"tier", TierAt(rel, now)},
                     {"release_date", r.Text(5)},
                     {"embargo_months", r.Int(8)},
                     {"embargo_until", r.Text(6).substr(0, 10)},
                     {"public_aggregates_date",
                      rel.public_aggregates_at.empty() ? json(nullptr)
                                                       : json(rel.public_aggregates_at.substr(0, 10))}});
  }
  return json{{"tiers", json::array({"group_restricted", "controlled", "public_aggregates"})},
              {"items", items}};
}

namespace {

// An enumerated clinical field whose counts may be public.
struct PublicField {
  std::string key;  // category.field
  std::string category;
  std::string code;
  std::vector<std::string> values;  // every value a record may hold, and "not_recorded"
};

std::vector<PublicField> PublicEnumFields() {
  std::vector<PublicField> out;
  const auto& dict = clinical::BuiltinDictionary();
  for (const auto& c : dict.categories) {
    for (const auto& f : c.fields) {
      if (f.type != clinical::FieldType::kEnum || f.never_public) continue;
      PublicField pf{c.code + "." + f.code, c.code, f.code, {"not_recorded"}};
      for (const auto& v : f.values) pf.values.push_back(v.code);
      if (f.null_flavours) {
        for (const auto& v : dict.null_flavours) pf.values.push_back(v.code);
      }
      out.push_back(std::move(pf));
    }
  }
  return out;
}

// Counts the participants of a release who may still be counted (not fully withdrawn), by
// disease category and by the value of each of `fields`, every value listed (zero or not).
// The clinical values are the latest submitted record of each category.
Result<Aggregates> CountRelease(storage::Transaction& tx, consent::Ledger& ledger,
                                const Release& release, const std::vector<PublicField>& fields) {
  Aggregates out;
  out.release_id = release.id;
  for (const auto& f : fields) {
    auto& counts = out.by_field[f.key];
    for (const auto& v : f.values) counts[v] = 0;
  }
  std::vector<clinical::FieldRef> refs;
  for (const auto& f : fields) refs.push_back({f.category, f.code});
  ZG_ASSIGN_OR_RETURN(auto rows,
                      tx.Query("SELECT DISTINCT df.participant_id, p.disease_category FROM "
                               "dataset_files df JOIN participants p ON p.id = df.participant_id "
                               "WHERE df.dataset_id = $1 AND df.added_at <= $2 "
                               "ORDER BY df.participant_id",
                               {Text(release.dataset_id), Text(release.created_at)}));
  for (const auto& r : rows.rows) {
    const std::string pid = r.Text(0);
    // A participant who withdrew fully is not counted any more.
    ZG_ASSIGN_OR_RETURN(consent::ConsentStatus cs, ledger.Current(pid));
    if (!cs.profile.any_use) continue;
    ++out.participants;
    ++out.by_disease[r.Text(1)];
    if (fields.empty()) continue;
    ZG_ASSIGN_OR_RETURN(auto values, clinical::LatestSubmittedValues(tx, pid, refs));
    for (size_t i = 0; i < fields.size(); ++i) {
      const auto& f = fields[i];
      const std::string value = values[i].value_or("not_recorded");
      ++out.by_field[f.key][value];
    }
  }
  return out;
}

}  // namespace

Result<Aggregates> Sharing::PublicAggregates(std::string_view release_id, std::string_view field) {
  ZG_ASSIGN_OR_RETURN(ReleaseDetail rd, GetRelease(release_id));
  if (rd.tier_now != "public_aggregates") {
    return Conflict("not_public",
                    fmt::format("release {} is {}: its counts are not public", release_id,
                                rd.tier_now));
  }
  std::vector<PublicField> fields;
  if (!field.empty()) {
    const auto& dict = clinical::BuiltinDictionary();
    const auto dot = field.find('.');
    const clinical::Category* c = dict.FindCategory(field.substr(0, dot));
    const clinical::Field* f =
        c == nullptr || dot == std::string_view::npos ? nullptr : c->FindField(field.substr(dot + 1));
    if (f == nullptr) {
      return Bad("field", fmt::format("no clinical field '{}' (category.field)", field));
    }
    // Never-public fields never leave the controlled tier, not even as counts.
    if (f->never_public) {
      return PermissionDenied("never_public_field",
                              fmt::format("clinical field '{}' is never public", field));
    }
    if (f->type != clinical::FieldType::kEnum) {
      return Bad("field", fmt::format("'{}' is not an enumerated field", field));
    }
    for (auto& pf : PublicEnumFields()) {
      if (pf.key == field) fields.push_back(std::move(pf));
    }
  }
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
  ZG_ASSIGN_OR_RETURN(Aggregates out, CountRelease(*tx, ledger_, rd.release, fields));
  out.field = std::string(field);
  if (!field.empty()) out.by_value = out.by_field[out.field];
  return out;
}

Result<std::vector<Aggregates>> Sharing::AllPublicAggregates() {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
  ZG_ASSIGN_OR_RETURN(auto ids, tx->Query("SELECT id FROM releases ORDER BY id"));
  std::vector<std::string> public_ids;
  for (const auto& r : ids.rows) public_ids.push_back(r.Text(0));
  tx.reset();
  const std::vector<PublicField> fields = PublicEnumFields();
  std::vector<Aggregates> out;
  for (const auto& id : public_ids) {
    ZG_ASSIGN_OR_RETURN(ReleaseDetail rd, GetRelease(id));
    if (rd.tier_now != "public_aggregates") continue;
    ZG_ASSIGN_OR_RETURN(auto read, store_.Begin(storage::TxMode::kRead));
    ZG_ASSIGN_OR_RETURN(Aggregates a, CountRelease(*read, ledger_, rd.release, fields));
    out.push_back(std::move(a));
  }
  return out;
}

Result<std::set<std::string>> Sharing::ReleasedParticipants() {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
  ZG_ASSIGN_OR_RETURN(
      auto rows,
      tx->Query("SELECT DISTINCT df.participant_id FROM dataset_files df JOIN releases r ON "
                "r.dataset_id = df.dataset_id WHERE r.release_date <= $1 AND df.added_at <= "
                "r.created_at ORDER BY df.participant_id",
                {Text(DateOf(clock_.Now()))}));
  std::set<std::string> out;
  for (const auto& r : rows.rows) {
    ZG_ASSIGN_OR_RETURN(consent::ConsentStatus cs, ledger_.Current(r.Text(0)));
    if (cs.profile.any_use) out.insert(r.Text(0));
  }
  return out;
}

Result<std::map<std::string, std::vector<std::pair<std::string, std::string>>>>
Sharing::PublicReleaseFiles(std::string_view data_type) {
  ZG_ASSIGN_OR_RETURN(auto releases, ListReleases(""));
  const TimePoint now = clock_.Now();
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> out;
  for (const auto& r : releases) {
    if (TierAt(r, now) != "public_aggregates") continue;
    ZG_ASSIGN_OR_RETURN(auto rows,
                        tx->Query("SELECT file_id, participant_id FROM dataset_files WHERE "
                                  "dataset_id = $1 AND data_type = $2 AND added_at <= $3 "
                                  "ORDER BY file_id",
                                  {Text(r.dataset_id), Text(std::string(data_type)),
                                   Text(r.created_at)}));
    auto& files = out[r.id];
    for (const auto& row : rows.rows) files.emplace_back(row.Text(0), row.Text(1));
  }
  return out;
}

// ---- applications -------------------------------------------------------------------------------

Result<ApplicationDetail> Sharing::Detail(storage::Transaction& tx, std::string_view id) {
  ZG_ASSIGN_OR_RETURN(auto rows,
                      tx.Query(fmt::format("SELECT {} FROM applications WHERE id = $1", kAppCols),
                               {Text(std::string(id))}));
  if (rows.empty()) {
    return NotFound("application_not_found", fmt::format("no application '{}'", id));
  }
  ApplicationDetail d;
  d.application = AppFrom(rows.rows[0]);
  ZG_ASSIGN_OR_RETURN(auto ev, tx.Query("SELECT seq, kind, user_id, organisation_id, vote, body, "
                                        "time FROM application_events WHERE application_id = $1 "
                                        "ORDER BY seq",
                                        {Text(std::string(id))}));
  std::vector<Ballot> ballots;
  for (const auto& r : ev.rows) {
    d.history.push_back({r.Int(0), r.Text(1), r.Text(2), r.Text(3), r.Text(4), r.Text(5),
                         r.Text(6)});
    if (r.Text(1) == "vote") ballots.push_back({r.Text(2), r.Text(3), r.Text(4)});
  }
  d.tally = TallyVotes(ballots, d.application.organisation);
  d.missing = MissingRequirements(d.application.track, d.application.ethics,
                                  d.application.agreement, d.application.fee);
  ZG_ASSIGN_OR_RETURN(auto g, tx.Query(fmt::format("SELECT {} FROM grants WHERE application_id = "
                                                   "$1",
                                                   kGrantCols),
                                       {Text(std::string(id))}));
  if (!g.empty()) d.grant = GrantFrom(g.rows[0]);
  ZG_ASSIGN_OR_RETURN(d.documents, DocumentsOf(tx, id));
  return d;
}

Result<ApplicationDetail> Sharing::Visible(std::string_view id, const Actor& actor) {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
  ZG_ASSIGN_OR_RETURN(ApplicationDetail d, Detail(*tx, id));
  const bool own = d.application.applicant == actor.user;
  const bool reviewer = (actor.HasRole("committee_member") || actor.HasRole("data_steward")) &&
                        d.application.state != "draft";
  if (!own && !reviewer) {
    return NotFound("application_not_found", fmt::format("no application '{}'", id));
  }
  return d;
}

Result<ApplicationDetail> Sharing::CreateApplication(const NewApplication& in,
                                                     const Actor& actor) {
  NewApplication a = in;
  if (a.data_types.empty()) a.data_types = {"cram", "vcf"};
  ZG_RETURN_IF_ERROR(ValidateApplication(a));
  const std::string now = FormatRfc3339(clock_.Now());
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kWrite));
  ZG_ASSIGN_OR_RETURN(const std::string kind, identity::OrganisationKind(*tx, actor.organisation));
  if (FindTrack(kind) == nullptr) {
    return PermissionDenied("organisation_not_eligible",
                            fmt::format("applications come from academic or industry "
                                        "organisations; '{}' is {}",
                                        actor.organisation, kind.empty() ? "unknown" : kind));
  }
  for (size_t i = 0; i < a.datasets.size(); ++i) {
    ZG_ASSIGN_OR_RETURN(auto ds, tx->Query("SELECT 1 FROM datasets WHERE id = $1",
                                           {Text(a.datasets[i])}));
    if (ds.empty()) {
      return Error{ErrorKind::kNotFound, "dataset_not_found",
                   fmt::format("no dataset '{}'", a.datasets[i]), fmt::format("datasets[{}]", i)};
    }
  }
  const std::string id = crypto::NewId("AP-");
  ZG_RETURN_IF_ERROR(tx->Exec(
      fmt::format("INSERT INTO applications ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, "
                  "$11, $12, $13, $14, 'draft', $15, $15, 1, $16, $17, $18, $19)",
                  kAppCols),
      {Text(id), Text(actor.user), Text(actor.organisation), Text(kind), Text(a.title),
       Text(PurposeJson(a.purpose).dump()), Text(json(a.datasets).dump()),
       Text(json(a.data_types).dump()), Text(a.fastq_justification), Text(a.ethics.dump()),
       Text(a.agreement.dump()), Text(a.fee.dump()), Text(a.start_date), Text(a.end_date),
       Text(now), Text(a.abstract_text), Text(a.principal_investigator),
       Text(json(a.collaborators).dump()), Text(a.data_security_plan)}));
  ZG_RETURN_IF_ERROR(AppendEvent(*tx, id, "created", actor, "", "", now));
  ZG_ASSIGN_OR_RETURN(ApplicationDetail d, Detail(*tx, id));
  ZG_RETURN_IF_ERROR(AuditIn(*tx, actor, "application.write", "application/" + id,
                             "application created", {{"track", kind}, {"datasets", a.datasets}}));
  ZG_RETURN_IF_ERROR(tx->Commit());
  return d;
}

Result<std::vector<Application>> Sharing::ListApplications(const Actor& actor) {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
  ZG_ASSIGN_OR_RETURN(auto rows, tx->Query(fmt::format("SELECT {} FROM applications ORDER BY "
                                                       "created_at DESC, id",
                                                       kAppCols)));
  const bool reviewer = actor.HasRole("committee_member") || actor.HasRole("data_steward");
  std::vector<Application> out;
  for (const auto& r : rows.rows) {
    Application a = AppFrom(r);
    if (a.applicant == actor.user || (reviewer && a.state != "draft")) out.push_back(std::move(a));
  }
  return out;
}

Result<ApplicationDetail> Sharing::GetApplication(std::string_view id, const Actor& actor) {
  return Visible(id, actor);
}

Result<ApplicationDetail> Sharing::Submit(std::string_view id, const Actor& actor) {
  ZG_ASSIGN_OR_RETURN(ApplicationDetail d, Visible(id, actor));
  const Application& a = d.application;
  if (a.applicant != actor.user) {
    return PermissionDenied("not_applicant", "only the applicant submits an application");
  }
  if (FindAppTransition(a.state, "submit") == nullptr) {
    return Conflict("invalid_transition",
                    fmt::format("an application in state {} cannot be submitted", a.state));
  }
  // What the committee reads before deciding (issue 14): required to submit.
  if (TrimBlank(a.abstract_text).empty()) return Missing("abstract");
  if (TrimBlank(a.principal_investigator).empty()) return Missing("principal_investigator");
  if (TrimBlank(a.data_security_plan).empty()) return Missing("data_security_plan");
  if (!d.missing.empty()) {
    return Conflict("requirements_missing",
                    fmt::format("the {} track needs: {}", a.track, fmt::join(d.missing, ", ")),
                    d.missing.front() == "ethics_approval"    ? "ethics"
                    : d.missing.front() == "signed_agreement" ? "agreement"
                                                              : "fee");
  }
  if (DateOf(clock_.Now()) > a.end_date) {
    return Conflict("period_over", "the requested period has already ended", "end_date");
  }
  const std::string now = FormatRfc3339(clock_.Now());
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kWrite));
  ZG_RETURN_IF_ERROR(MoveApplication(*tx, a, "submitted", now));
  ZG_RETURN_IF_ERROR(AppendEvent(*tx, a.id, "submitted", actor, "", "", now));
  ZG_ASSIGN_OR_RETURN(ApplicationDetail out, Detail(*tx, a.id));
  ZG_RETURN_IF_ERROR(AuditIn(*tx, actor, "application.write", "application/" + a.id,
                             "application submitted", {{"track", a.track}}));
  ZG_RETURN_IF_ERROR(tx->Commit());
  return out;
}

Result<ApplicationDetail> Sharing::Withdraw(std::string_view id, std::string_view reason,
                                            const Actor& actor) {
  ZG_RETURN_IF_ERROR(CheckText(std::string(reason), "reason", kMaxTextBytes, false));
  ZG_ASSIGN_OR_RETURN(ApplicationDetail d, Visible(id, actor));
  const Application& a = d.application;
  if (a.applicant != actor.user) {
    return PermissionDenied("not_applicant", "only the applicant withdraws an application");
  }
  if (FindAppTransition(a.state, "withdraw") == nullptr) {
    return Conflict("invalid_transition",
                    fmt::format("an application in state {} cannot be withdrawn", a.state));
  }
  const std::string now = FormatRfc3339(clock_.Now());
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kWrite));
  ZG_RETURN_IF_ERROR(MoveApplication(*tx, a, "withdrawn", now));
  ZG_RETURN_IF_ERROR(AppendEvent(*tx, a.id, "withdrawn", actor, "", reason, now));
  ZG_ASSIGN_OR_RETURN(ApplicationDetail out, Detail(*tx, a.id));
  ZG_RETURN_IF_ERROR(AuditIn(*tx, actor, "application.write", "application/" + a.id,
                             "application withdrawn", json::object()));
  ZG_RETURN_IF_ERROR(tx->Commit());
  return out;
}

namespace {

// The committee's guards: the role, the state, no conflict of interest.
Status CheckReviewer(const Application& a, const Actor& actor) {
  if (!actor.HasRole("committee_member")) {
    return PermissionDenied("not_committee", "only review committee members review");
  }
  if (actor.organisation == a.organisation || actor.user == a.applicant) {
    return PermissionDenied("conflict_of_interest",
                            fmt::format("{} belongs to the applicant's organisation {}",
                                        actor.user, a.organisation));
  }
  if (a.state != "submitted") {
    return Conflict("not_under_review",
                    fmt::format("application {} is {}, not under review", a.id, a.state));
  }
  return Status::Ok();
}

}  // namespace

Result<ApplicationDetail> Sharing::Comment(std::string_view id, std::string_view body,
                                           const Actor& actor) {
  ZG_RETURN_IF_ERROR(CheckText(std::string(body), "body", kMaxTextBytes, true));
  ZG_ASSIGN_OR_RETURN(ApplicationDetail d, Visible(id, actor));
  ZG_RETURN_IF_ERROR(CheckReviewer(d.application, actor));
  const std::string now = FormatRfc3339(clock_.Now());
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kWrite));
  ZG_RETURN_IF_ERROR(AppendEvent(*tx, d.application.id, "comment", actor, "", body, now));
  ZG_ASSIGN_OR_RETURN(ApplicationDetail out, Detail(*tx, d.application.id));
  ZG_RETURN_IF_ERROR(AuditIn(*tx, actor, "application.review", "application/" + d.application.id,
                             "committee comment", json::object()));
  ZG_RETURN_IF_ERROR(tx->Commit());
  return out;
}

Result<ApplicationDetail> Sharing::Vote(std::string_view id, std::string_view vote,
                                        std::string_view reason, const Actor& actor) {
  if (vote.empty()) return Missing("vote");
  if (!OneOf(kVotes, vote)) return Bad("vote", fmt::format("'vote' must be one of {}", ListOf(kVotes)));
  // A reject vote says why (issue 14): the applicant and the other members read it.
  ZG_RETURN_IF_ERROR(CheckText(std::string(reason), "reason", kMaxTextBytes, vote == "reject"));
  ZG_ASSIGN_OR_RETURN(ApplicationDetail d, Visible(id, actor));
  ZG_RETURN_IF_ERROR(CheckReviewer(d.application, actor));
  const std::string now = FormatRfc3339(clock_.Now());
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kWrite));
  ZG_RETURN_IF_ERROR(AppendEvent(*tx, d.application.id, "vote", actor, vote, reason, now));
  ZG_ASSIGN_OR_RETURN(ApplicationDetail out, Detail(*tx, d.application.id));
  ZG_RETURN_IF_ERROR(AuditIn(*tx, actor, "application.review", "application/" + d.application.id,
                             fmt::format("vote {}", vote), {{"vote", vote}}));
  ZG_RETURN_IF_ERROR(tx->Commit());
  return out;
}

Result<ApplicationDetail> Sharing::DecideApplication(std::string_view id, const Actor& actor) {
  ZG_ASSIGN_OR_RETURN(ApplicationDetail d, Visible(id, actor));
  ZG_RETURN_IF_ERROR(CheckReviewer(d.application, actor));
  const Application& a = d.application;
  if (d.tally.outcome == Outcome::kPending) return Conflict("no_quorum", d.tally.reason);
  const bool approved = d.tally.outcome == Outcome::kApproved;
  const std::string now = FormatRfc3339(clock_.Now());
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kWrite));
  ZG_RETURN_IF_ERROR(MoveApplication(*tx, a, approved ? "approved" : "rejected", now));
  ZG_RETURN_IF_ERROR(AppendEvent(*tx, a.id, "decision", actor, OutcomeName(d.tally.outcome),
                                 d.tally.reason, now));
  std::string grant_id;
  if (approved) {
    // The grant is made in the same transaction as the approval: no separate manual step.
    grant_id = crypto::NewId("GR-");
    ZG_ASSIGN_OR_RETURN(TimePoint starts, EmbargoEnd(a.start_date, 0, "start_date"));
    ZG_ASSIGN_OR_RETURN(TimePoint end_day, EmbargoEnd(a.end_date, 0, "end_date"));
    const TimePoint expires = end_day + std::chrono::hours(24);
    ZG_RETURN_IF_ERROR(tx->Exec(
        fmt::format("INSERT INTO grants ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, "
                    "NULL, NULL, NULL, $11)",
                    kGrantCols),
        {Text(grant_id), Text(a.id), Text(a.applicant), Text(a.organisation),
         Text(json(a.datasets).dump()), Text(json(a.data_types).dump()),
         Text(PurposeJson(a.purpose).dump()), Text(a.track), Text(FormatRfc3339(starts)),
         Text(FormatRfc3339(expires)), Text(now)}));
  }
  ZG_ASSIGN_OR_RETURN(ApplicationDetail out, Detail(*tx, a.id));
  json details = {{"outcome", OutcomeName(d.tally.outcome)},
                  {"approve", d.tally.approve},
                  {"reject", d.tally.reject},
                  {"abstain", d.tally.abstain}};
  if (approved) details["grant"] = grant_id;
  // why: the decision, the grant it makes and their records commit together.
  ZG_RETURN_IF_ERROR(AuditIn(*tx, actor, "application.review", "application/" + a.id,
                             fmt::format("decision: {}", d.tally.reason), details));
  if (approved) {
    ZG_RETURN_IF_ERROR(AuditIn(*tx, actor, "grant.create", "grant/" + grant_id,
                               "grant made by the committee's approval",
                               {{"application", a.id}, {"holder", a.applicant}}));
  }
  ZG_RETURN_IF_ERROR(tx->Commit());
  return out;
}

// ---- documents ------------------------------------------------------------------------------

Result<policy::Resource> Sharing::DocumentResource(std::string_view id, std::string_view kind,
                                                   const Actor& actor) {
  ZG_ASSIGN_OR_RETURN(ApplicationDetail d, Visible(id, actor));
  if (FindDocumentKind(kind) == nullptr) {
    return Error{ErrorKind::kNotFound, "document_kind_not_found",
                 fmt::format("no document kind '{}'", kind), "kind"};
  }
  policy::Resource r;
  r.kind = "application_document";
  r.id = fmt::format("{}/{}", d.application.id, kind);
  r.organisation = d.application.organisation;
  return r;
}

Result<ApplicationDocument> Sharing::PutDocument(std::string_view id, std::string_view kind,
                                                 std::string_view file_name,
                                                 std::string_view bytes, DocumentBlobs& blobs,
                                                 const Actor& actor) {
  ZG_ASSIGN_OR_RETURN(ApplicationDetail d, Visible(id, actor));
  const Application& a = d.application;
  if (a.applicant != actor.user) {
    return PermissionDenied("not_applicant", "only the applicant uploads an application's documents");
  }
  if (FindDocumentKind(kind) == nullptr) {
    return Error{ErrorKind::kNotFound, "document_kind_not_found",
                 fmt::format("no document kind '{}'", kind), "kind"};
  }
  if (a.state != "draft") {
    return Conflict("document_immutable",
                    fmt::format("application {} is {}: its documents can no longer change", a.id,
                                a.state),
                    "kind");
  }
  ZG_RETURN_IF_ERROR(CheckFileName(file_name));
  if (bytes.empty()) return InvalidArgument("document_empty", "the document is empty", "file");
  if (static_cast<int64_t>(bytes.size()) > kMaxDocumentBytes) {
    return Error{ErrorKind::kTooLarge, "document_too_large",
                 fmt::format("a document is at most {} bytes", kMaxDocumentBytes), "file"};
  }
  const std::string type = SniffDocumentType(bytes);
  if (type.empty()) {
    return Error{ErrorKind::kUnsupportedMediaType, "document_type",
                 "a document is a PDF (starting with %PDF-) or UTF-8 plain text", "file"};
  }
  const std::string sha = crypto::Sha256Hex(bytes);
  // why: the object is written before the transaction (the blob store commits on its own); a
  // failed transaction below leaves it unreferenced, never a row without its bytes.
  ZG_ASSIGN_OR_RETURN(std::string blob, blobs.Put(bytes));
  const std::string now = FormatRfc3339(clock_.Now());
  const auto size = static_cast<int64_t>(bytes.size());
  // The fingerprint on the application, as the track's requirements read it.
  json ethics = a.ethics, agreement = a.agreement;
  if (kind == "ethics_approval") {
    ethics["file_name"] = std::string(file_name);
    ethics["sha256"] = sha;
    ethics["size"] = size;
  } else if (kind == "signed_agreement") {
    agreement["sha256"] = sha;
  }
  ApplicationDocument doc{std::string(kind), std::string(file_name), type, size, sha, blob,
                          actor.user, now};
  auto recorded = RecordDocument(a, doc, ethics, agreement, actor);
  if (recorded.ok()) return doc;
  // why: the object was stored before the transaction; nothing references it now.
  const Status discarded = blobs.Discard(blob);
  json details{{"blob", blob}, {"error", recorded.error().code}};
  if (!discarded.ok()) details["discard_error"] = discarded.error().code;
  // Best effort: the transaction's error is what the caller gets either way.
  (void)audit_.Append({.actor = actor.user,
                       .source = actor.source,
                       .action = "application.document.write",
                       .resource = fmt::format("application_document/{}/{}", a.id, kind),
                       .decision = "",
                       .reason = discarded.ok() ? "document object discarded"
                                                : "document object left unreferenced",
                       .request_id = actor.request_id,
                       .details = details.dump()});
  return recorded.error();
}

Status Sharing::RecordDocument(const Application& a, const ApplicationDocument& doc,
                               const json& ethics, const json& agreement, const Actor& actor) {
  const std::string& now = doc.uploaded_at;
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kWrite));
  ZG_ASSIGN_OR_RETURN(int64_t n,
                      tx->Exec("UPDATE applications SET ethics = $1, agreement = $2, "
                               "updated_at = $3, version = version + 1 WHERE id = $4 AND "
                               "version = $5 AND state = 'draft'",
                               {Text(ethics.dump()), Text(agreement.dump()), Text(now), Text(a.id),
                                Int(a.version)}));
  if (n != 1) {
    return Conflict("concurrent_change",
                    fmt::format("application {} changed meanwhile; reload it", a.id));
  }
  ZG_RETURN_IF_ERROR(tx->Exec("DELETE FROM application_documents WHERE application_id = $1 AND "
                              "kind = $2",
                              {Text(a.id), Text(doc.kind)})
                         .status());
  ZG_RETURN_IF_ERROR(tx->Exec(fmt::format("INSERT INTO application_documents (application_id, "
                                          "{}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                                          kDocumentCols),
                              {Text(a.id), Text(doc.kind), Text(doc.file_name),
                               Text(doc.content_type), Int(doc.size), Text(doc.sha256),
                               Text(doc.blob_id), Text(doc.uploaded_by), Text(doc.uploaded_at)})
                         .status());
  ZG_RETURN_IF_ERROR(AuditIn(*tx, actor, "application.document.write",
                             fmt::format("application_document/{}/{}", a.id, doc.kind),
                             "document stored",
                             {{"file_name", doc.file_name},
                              {"content_type", doc.content_type},
                              {"size", doc.size},
                              {"sha256", doc.sha256},
                              {"blob", doc.blob_id}}));
  return tx->Commit();
}

Result<std::pair<ApplicationDocument, std::string>> Sharing::ReadDocument(
    std::string_view id, std::string_view kind, DocumentBlobs& blobs, const Actor& actor) {
  ZG_ASSIGN_OR_RETURN(ApplicationDetail d, Visible(id, actor));
  for (const auto& doc : d.documents) {
    if (doc.kind != kind) continue;
    ZG_ASSIGN_OR_RETURN(std::string bytes, blobs.Get(doc.blob_id));
    if (crypto::Sha256Hex(bytes) != doc.sha256) {
      return Unavailable("document_corrupt",
                         fmt::format("document {}/{} does not match its SHA-256", id, kind));
    }
    return std::make_pair(doc, std::move(bytes));
  }
  if (FindDocumentKind(kind) == nullptr) {
    return Error{ErrorKind::kNotFound, "document_kind_not_found",
                 fmt::format("no document kind '{}'", kind), "kind"};
  }
  return Error{ErrorKind::kNotFound, "document_not_found",
               fmt::format("application {} has no {} document", id, kind), "kind"};
}

Result<std::vector<PrescreenRow>> Sharing::PrescreenPurpose(
    const Purpose& p, std::string_view track, const std::vector<std::string>& datasets) {
  const consent::Purpose purpose = ToConsentPurpose(p, track);
  std::vector<PrescreenRow> out;
  for (const auto& ds : datasets) {
    ZG_ASSIGN_OR_RETURN(Dataset d, GetDataset(ds));
    std::vector<std::string> pids;
    {
      ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
      ZG_ASSIGN_OR_RETURN(auto rows, tx->Query("SELECT DISTINCT participant_id FROM dataset_files "
                                               "WHERE dataset_id = $1 ORDER BY participant_id",
                                               {Text(d.id)}));
      for (const auto& r : rows.rows) pids.push_back(r.Text(0));
    }
    PrescreenRow row;
    row.dataset_id = d.id;
    for (const auto& pid : pids) {
      ++row.participants;
      ZG_ASSIGN_OR_RETURN(consent::ConsentStatus cs, ledger_.Current(pid));
      if (!cs.profile.any_use) {
        ++row.withdrawn;
        continue;
      }
      const consent::Decision m = consent::Match(cs.profile, purpose);
      if (m.allowed) {
        ++row.covered;
      } else {
        ++row.not_covered;
        ++row.reasons[m.reason];
      }
    }
    out.push_back(std::move(row));
  }
  return out;
}

Result<std::vector<PrescreenRow>> Sharing::Prescreen(std::string_view id, const Actor& actor) {
  ZG_ASSIGN_OR_RETURN(ApplicationDetail d, Visible(id, actor));
  return PrescreenPurpose(d.application.purpose, d.application.track, d.application.datasets);
}

// ---- grants ---------------------------------------------------------------------------------------

Result<std::vector<GrantRecord>> Sharing::ListGrants(const Actor& actor) {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
  ZG_ASSIGN_OR_RETURN(auto rows, tx->Query(fmt::format("SELECT {} FROM grants ORDER BY "
                                                       "created_at DESC, id",
                                                       kGrantCols)));
  const bool all = actor.HasRole("committee_member") || actor.HasRole("data_steward");
  std::vector<GrantRecord> out;
  for (const auto& r : rows.rows) {
    GrantRecord g = GrantFrom(r);
    if (all || g.holder == actor.user) out.push_back(std::move(g));
  }
  return out;
}

Result<GrantRecord> Sharing::Revoke(std::string_view id, std::string_view reason,
                                    const Actor& actor) {
  ZG_RETURN_IF_ERROR(CheckText(std::string(reason), "reason", kMaxTextBytes, true));
  const std::string now = FormatRfc3339(clock_.Now());
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kWrite));
  ZG_ASSIGN_OR_RETURN(auto rows, tx->Query(fmt::format("SELECT {} FROM grants WHERE id = $1",
                                                       kGrantCols),
                                           {Text(std::string(id))}));
  if (rows.empty()) return NotFound("grant_not_found", fmt::format("no grant '{}'", id));
  if (!rows.rows[0].IsNull(10)) {
    return Conflict("already_revoked", fmt::format("grant {} is already revoked", id));
  }
  ZG_ASSIGN_OR_RETURN(int64_t n, tx->Exec("UPDATE grants SET revoked_at = $1, revoked_by = $2, "
                                          "revoke_reason = $3 WHERE id = $4 AND revoked_at IS "
                                          "NULL",
                                          {Text(now), Text(actor.user), Text(std::string(reason)),
                                           Text(std::string(id))}));
  if (n != 1) return Conflict("already_revoked", fmt::format("grant {} is already revoked", id));
  ZG_ASSIGN_OR_RETURN(auto after, tx->Query(fmt::format("SELECT {} FROM grants WHERE id = $1",
                                                        kGrantCols),
                                            {Text(std::string(id))}));
  ZG_RETURN_IF_ERROR(AuditIn(*tx, actor, "grant.revoke", "grant/" + std::string(id),
                             std::string(reason), {{"holder", rows.rows[0].Text(2)}}));
  ZG_RETURN_IF_ERROR(tx->Commit());
  return GrantFrom(after.rows[0]);
}

// ---- access ----------------------------------------------------------------------------------------

Status Sharing::RecordAccess(const policy::Subject& subject, std::string_view file_id,
                             const FileAccess& a, std::string_view source,
                             std::string_view request_id) {
  return audit_.Append({.actor = subject.authenticated ? subject.id : "anonymous",
                        .source = std::string(source),
                        .action = "data.access",
                        .resource = "data_file/" + std::string(file_id),
                        .decision = a.decision.allowed() ? "allow" : "deny",
                        .reason = a.decision.reason,
                        .request_id = std::string(request_id),
                        .details = json{{"dataset", a.dataset_id},
                                        {"release", a.release_id},
                                        {"tier", a.tier},
                                        {"grant", a.grant_id}}
                                       .dump()});
}

Result<std::vector<std::string>> Sharing::GroupsOf(std::string_view user) {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
  return identity::ResearchGroupsOf(*tx, user);
}

Result<std::vector<Sharing::Candidate>> Sharing::Candidates(std::string_view where_sql,
                                                            const std::string& param) {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
  // The dataset memberships (sharing's own tables), then what the registry says of each file.
  ZG_ASSIGN_OR_RETURN(
      auto rows,
      tx->Query(fmt::format("SELECT dsf.file_id, dsf.dataset_id, d.group_id, dsf.added_at FROM "
                            "dataset_files dsf JOIN datasets d ON d.id = dsf.dataset_id WHERE {}",
                            where_sql),
                {Text(param)}));
  std::vector<std::string> file_ids;
  for (const auto& r : rows.rows) file_ids.push_back(r.Text(0));
  ZG_ASSIGN_OR_RETURN(auto entries, genomefiles::CatalogueEntries(*tx, file_ids));
  std::map<std::string, const genomefiles::CatalogueEntry*> entry_of;
  for (const auto& e : entries) entry_of[e.id] = &e;
  struct Membership {
    const genomefiles::CatalogueEntry* file;
    std::string dataset_id, group_id, added_at;
  };
  std::vector<Membership> members;
  for (const auto& r : rows.rows) {
    const auto it = entry_of.find(r.Text(0));
    if (it == entry_of.end()) continue;  // not a registered file: nothing to decide
    members.push_back({it->second, r.Text(1), r.Text(2), r.Text(3)});
  }
  std::sort(members.begin(), members.end(), [](const Membership& a, const Membership& b) {
    return std::tie(a.file->participant_id, a.file->id, a.dataset_id) <
           std::tie(b.file->participant_id, b.file->id, b.dataset_id);
  });
  // Releases of the datasets involved, to find each file's releases.
  std::map<std::string, std::vector<Release>> releases;
  for (const auto& m : members) {
    const std::string& ds = m.dataset_id;
    if (releases.count(ds)) continue;
    ZG_ASSIGN_OR_RETURN(auto rel, tx->Query(fmt::format("SELECT {} FROM releases WHERE "
                                                        "dataset_id = $1 ORDER BY release_date, id",
                                                        kReleaseCols),
                                            {Text(ds)}));
    auto& v = releases[ds];
    for (const auto& x : rel.rows) v.push_back(ReleaseFrom(x));
  }
  const TimePoint now = clock_.Now();
  auto rank = [](const std::string& tier) {
    return tier == "public_aggregates" ? 3 : tier == "controlled" ? 2 : 1;
  };
  std::vector<Candidate> out;
  for (const auto& m : members) {
    const genomefiles::CatalogueEntry& f = *m.file;
    Candidate c{f.id, f.kind, f.participant_id, f.hospital, f.file_name, f.size, f.sha256,
                m.dataset_id, m.group_id, std::nullopt};
    const std::string& added = m.added_at;
    // The release covering the file (added before it was made) with the most open tier now.
    for (const auto& rel : releases[c.dataset_id]) {
      if (rel.created_at < added) continue;
      if (!c.release || rank(TierAt(rel, now)) > rank(TierAt(*c.release, now))) c.release = rel;
    }
    out.push_back(std::move(c));
  }
  return out;
}

Result<std::vector<FileAccess>> Sharing::Evaluate(const policy::Subject& in_subject,
                                                  const std::vector<Candidate>& candidates,
                                                  std::string_view purpose_hint,
                                                  std::string_view grant_id) {
  policy::Subject subject = in_subject;
  if (subject.authenticated && !subject.id.empty()) {
    ZG_ASSIGN_OR_RETURN(subject.groups, GroupsOf(subject.id));
  }
  // The subject's grants, read live (revocation and expiry show on the next call).
  std::vector<GrantRecord> grants;
  if (subject.authenticated && !subject.id.empty()) {
    ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
    ZG_ASSIGN_OR_RETURN(auto rows, tx->Query(fmt::format("SELECT {} FROM grants WHERE holder = $1 "
                                                         "ORDER BY created_at, id",
                                                         kGrantCols),
                                             {Text(subject.id)}));
    for (const auto& r : rows.rows) {
      GrantRecord g = GrantFrom(r);
      if (!purpose_hint.empty() && g.purpose.primary != purpose_hint) continue;
      if (!grant_id.empty() && g.id != grant_id) continue;
      grants.push_back(std::move(g));
    }
  }
  const TimePoint now = clock_.Now();
  std::unordered_map<std::string, consent::ConsentStatus> consents;  // per participant, this call
  std::vector<FileAccess> out;
  for (const Candidate& c : candidates) {
    if (!consents.count(c.participant_id)) {
      ZG_ASSIGN_OR_RETURN(consents[c.participant_id], ledger_.Current(c.participant_id));
    }
    const consent::ConsentStatus& cs = consents.at(c.participant_id);
    policy::Resource res{"data_file", c.file_id, c.hospital, ""};
    res.withdrawn = cs.state == consent::State::kWithdrawnFull;
    res.dataset = c.dataset_id;
    res.release = c.release ? c.release->id : "";
    res.tier = c.release ? TierAt(*c.release, now) : "";
    res.group = c.group_id;
    res.data_type = std::string(DataTypeOfKind(c.kind));
    FileAccess fa{{}, c.dataset_id, res.release, res.tier, "", c.participant_id, res.data_type,
                  {}, std::nullopt, subject.groups, now};
    policy::Context ctx;
    ctx.now = now;
    ctx.purpose = std::string(purpose_hint);
    const bool member = Contains(subject.groups, c.group_id);
    if (grant_id.empty() && (member || grants.empty())) {
      // The producing group's own research: health research, non-commercial.
      res.consent_covers_purpose =
          consent::Match(cs.profile, ToConsentPurpose(Purpose{}, "academic")).allowed;
      fa.decision = policy::Decide(subject, "data.access", res, ctx);
      fa.resource = res;
    } else if (grants.empty()) {
      // A named grant the subject does not hold: nothing is allowed through it.
      fa.decision = {policy::Effect::kDeny,
                     fmt::format("grant {} is not a grant of {}", grant_id, subject.id), {}};
      fa.resource = res;
    } else {
      // Each grant the subject holds (or the one named), until one allows.
      for (const GrantRecord& g : grants) {
        res.consent_covers_purpose =
            consent::Match(cs.profile, ToConsentPurpose(g.purpose, g.track)).allowed;
        ctx.grant = PolicyGrant(g);
        fa.decision = policy::Decide(subject, "data.access", res, ctx);
        fa.resource = res;
        fa.grant = ctx.grant;
        if (fa.decision.allowed()) {
          fa.grant_id = g.id;
          break;
        }
      }
    }
    out.push_back(std::move(fa));
  }
  return out;
}

Result<FileAccess> Sharing::FileAccessFor(const policy::Subject& subject,
                                          std::string_view file_id,
                                          std::string_view purpose_hint,
                                          std::string_view grant_id) {
  {
    ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
    const std::string id(file_id);
    ZG_ASSIGN_OR_RETURN(auto entries,
                        genomefiles::CatalogueEntries(*tx, std::span<const std::string>(&id, 1)));
    if (entries.empty()) return NotFound("file_not_found", fmt::format("no file '{}'", file_id));
    ZG_ASSIGN_OR_RETURN(std::vector<Candidate> cands,
                        Candidates("dsf.file_id = $1", std::string(file_id)));
    if (cands.empty()) {
      FileAccess fa;
      fa.decision = {policy::Effect::kDeny,
                     fmt::format("file {} is not shared in any dataset", file_id), {}};
      fa.participant_id = entries.front().participant_id;
      fa.data_type = std::string(DataTypeOfKind(entries.front().kind));
      // In no release: the policy denies it as such.
      fa.resource = {"data_file", std::string(file_id), "", ""};
      fa.resource.data_type = fa.data_type;
      fa.now = clock_.Now();
      return fa;
    }
    ZG_ASSIGN_OR_RETURN(std::vector<FileAccess> answers,
                        Evaluate(subject, cands, purpose_hint, grant_id));
    for (const auto& a : answers) {
      if (a.decision.allowed()) return a;
    }
    return answers.front();
  }
}

Result<std::vector<VisibleFile>> Sharing::VisibleFiles(const policy::Subject& subject,
                                                       std::string_view dataset_id,
                                                       std::string_view purpose_hint,
                                                       std::string_view grant_id) {
  ZG_ASSIGN_OR_RETURN(Dataset d, GetDataset(dataset_id));
  ZG_ASSIGN_OR_RETURN(std::vector<Candidate> cands, Candidates("dsf.dataset_id = $1", d.id));
  ZG_ASSIGN_OR_RETURN(std::vector<FileAccess> answers,
                      Evaluate(subject, cands, purpose_hint, grant_id));
  std::vector<VisibleFile> out;
  for (size_t i = 0; i < cands.size(); ++i) {
    if (!answers[i].decision.allowed()) continue;
    const Candidate& c = cands[i];
    out.push_back({c.file_id, c.kind, answers[i].data_type, c.participant_id, c.file_name, c.size,
                   c.sha256, answers[i].release_id, answers[i].tier, answers[i].grant_id});
  }
  return out;
}

Result<std::vector<std::string>> Sharing::VisibleParticipants(
    const policy::Subject& subject, std::string_view dataset_id,
    const std::vector<std::string>& participant_ids, std::string_view grant_id) {
  ZG_ASSIGN_OR_RETURN(std::vector<VisibleFile> files,
                      VisibleFiles(subject, dataset_id, {}, grant_id));
  std::set<std::string> visible;
  for (const auto& f : files) visible.insert(f.participant_id);
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const auto& p : participant_ids) {
    if (visible.count(p) && seen.insert(p).second) out.push_back(p);
  }
  return out;
}

}  // namespace zengen::sharing
