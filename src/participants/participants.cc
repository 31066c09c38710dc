#include "participants/participants.h"

#include <openssl/hmac.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/field_checks.h"
#include "crypto/totp.h"
#include "identity/directory.h"
#include "policy/policy.h"

namespace zengen::participants {
namespace {

using storage::Int;
using storage::Text;

Participant FromRow(const storage::Row& r) {
  return {r.Text(0), r.Text(1), r.Text(2), r.Text(3), r.Text(4), r.Text(5), r.Text(6)};
}

constexpr const char* kColumns =
    "id, hospital_id, local_id, program, disease_category, index_date, created_at";

}  // namespace

std::string Pseudonym(std::string_view key, std::string_view hospital, std::string_view local_id) {
  std::string msg(hospital);
  msg.push_back('\0');
  msg.append(local_id);
  unsigned char mac[32];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), mac, &len);
  const std::string b32 = crypto::Base32Encode(std::string_view(reinterpret_cast<char*>(mac), 10));
  return fmt::format("ZG-{}-{}-{}-{}", b32.substr(0, 4), b32.substr(4, 4), b32.substr(8, 4),
                     b32.substr(12, 4));
}

bool ValidDate(std::string_view d) {
  if (d.size() != 10 || d[4] != '-' || d[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (d[i] < '0' || d[i] > '9') return false;
  }
  const int y = std::stoi(std::string(d.substr(0, 4)));
  const int m = std::stoi(std::string(d.substr(5, 2)));
  const int day = std::stoi(std::string(d.substr(8, 2)));
  if (y < 1900 || y > 2200 || m < 1 || m > 12 || day < 1) return false;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return day <= kDays[m - 1] + (m == 2 && leap ? 1 : 0);
}

Result<std::string> HospitalOf(storage::Transaction& tx, std::string_view participant_id) {
  ZG_ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT hospital_id FROM participants WHERE id = $1",
                                          {Text(std::string(participant_id))}));
  if (rows.empty()) {
    return NotFound("participant_not_found", fmt::format("no participant '{}'", participant_id));
  }
  return rows.rows[0].Text(0);
}

Registry::Registry(storage::Store& store, const Clock& clock, AuditSink& audit, std::string key)
    : store_(store), clock_(clock), audit_(audit), key_(std::move(key)) {}

Result<Registry::Registered> Registry::Register(const NewParticipant& p, const std::string& actor,
                                                const std::string& source,
                                                const std::string& request_id) {
  if (p.local_id.empty() || p.local_id.size() > 64 ||
      !std::all_of(p.local_id.begin(), p.local_id.end(),
                   [](char c) { return c > 0x20 && c < 0x7f; })) {
    return BadField("local_id", "a local id is 1-64 printable ASCII characters without spaces");
  }
  if (p.program != "cancer" && p.program != "rare_disease") {
    return BadField("program", "program must be cancer or rare_disease");
  }
  if (p.disease_category.empty() || p.disease_category.size() > 64 ||
      !std::all_of(p.disease_category.begin(), p.disease_category.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
      })) {
    return BadField("disease_category", "a disease category is 1-64 characters of a-z, 0-9, _");
  }
  if (!ValidDate(p.index_date)) {
    return BadField("index_date", "the index date must be a real date written YYYY-MM-DD");
  }
  const std::string id = Pseudonym(key_, p.hospital, p.local_id);
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kWrite));
  ZG_ASSIGN_OR_RETURN(auto existing,
                      tx->Query(fmt::format("SELECT {} FROM participants WHERE id = $1", kColumns),
                                {Text(id)}));
  if (!existing.empty()) return Registered{FromRow(existing.rows[0]), false};
  ZG_ASSIGN_OR_RETURN(const std::string kind, identity::OrganisationKind(*tx, p.hospital));
  if (kind != "hospital") {
    return InvalidArgument("not_a_hospital",
                           fmt::format("'{}' is not a registered hospital", p.hospital),
                           "hospital");
  }
  Participant out{id, p.hospital, p.local_id, p.program, p.disease_category, p.index_date,
                  FormatRfc3339(clock_.Now())};
  ZG_RETURN_IF_ERROR(tx->Exec(
      "INSERT INTO participants (id, hospital_id, local_id, program, disease_category, "
      "index_date, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
      {Text(id), Text(p.hospital), Text(p.local_id), Text(p.program), Text(p.disease_category),
       Text(p.index_date), Text(actor), Text(out.created_at)}));
  ZG_RETURN_IF_ERROR(audit_.AppendInTransaction(
      *tx, {.actor = actor,
            .source = source,
            .action = "participant.write",
            .resource = "participant/" + id,
            .reason = "registered",
            .request_id = request_id,
            .details = nlohmann::json{{"hospital", p.hospital}, {"program", p.program}}.dump()}));
  ZG_RETURN_IF_ERROR(tx->Commit());
  return Registered{out, true};
}

Result<Participant> Registry::Get(std::string_view id) {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
  ZG_ASSIGN_OR_RETURN(auto rows,
                      tx->Query(fmt::format("SELECT {} FROM participants WHERE id = $1", kColumns),
                                {Text(std::string(id))}));
  if (rows.empty()) return NotFound("participant_not_found", fmt::format("no participant '{}'", id));
  return FromRow(rows.rows[0]);
}

Result<std::vector<Participant>> Registry::List(std::string_view hospital, int limit, int offset) {
  if (hospital.empty()) {
    return InvalidArgument("hospital_required",
                           "a listing of participants names its hospital, or '*' for all",
                           "hospital");
  }
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
  Result<storage::Rows> rows =
      hospital == policy::kEveryOrganisation
          ? tx->Query(fmt::format("SELECT {} FROM participants ORDER BY id LIMIT $1 OFFSET $2",
                                  kColumns),
                      {Int(limit), Int(offset)})
          : tx->Query(fmt::format("SELECT {} FROM participants WHERE hospital_id = $1 "
                                  "ORDER BY id LIMIT $2 OFFSET $3",
                                  kColumns),
                      {Text(std::string(hospital)), Int(limit), Int(offset)});
  if (!rows.ok()) return rows.error();
  std::vector<Participant> out;
  for (const auto& r : rows->rows) out.push_back(FromRow(r));
  return out;
}

}  // namespace zengen::participants
