// Participants: a hospital registers a patient under its local id; Zengen keeps a keyed
// pseudonym, the program, a disease category and the index date (R2.1 case basics, R5.6).
//
// The pseudonym is HMAC-SHA-256(pseudonym key, hospital id ‖ 0x00 ‖ local id), shown as
// "ZG-" and 16 base32 characters in groups of four (80 bits): the same patient at the same
// hospital always gets the same pseudonym, and nobody without the key can link it back.
// The local id is kept only so that the registering hospital can find its patient again; the
// policy lets no one else read it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/audit_event.h"
#include "common/clock.h"
#include "common/result.h"
#include "storage/store.h"

namespace zengen::participants {

struct Participant {
  std::string id;  // the pseudonym
  std::string hospital;
  std::string local_id;
  std::string program;           // cancer | rare_disease
  std::string disease_category;  // e.g. lung, colorectal, rd_neuromuscular
  std::string index_date;        // YYYY-MM-DD
  std::string created_at;
};

struct NewParticipant {
  std::string hospital;
  std::string local_id;  // 1-64 printable ASCII characters
  std::string program;
  std::string disease_category;  // [a-z0-9_]{1,64}
  std::string index_date;        // YYYY-MM-DD, a real calendar date
};

// The pseudonym for a hospital's local id under key (32 raw bytes).
std::string Pseudonym(std::string_view key, std::string_view hospital, std::string_view local_id);

// True for a real calendar date written YYYY-MM-DD (years 1900-2200).
bool ValidDate(std::string_view date);

// The hospital a participant belongs to, read inside the caller's transaction.
// Errors: kNotFound "participant_not_found".
Result<std::string> HospitalOf(storage::Transaction& tx, std::string_view participant_id);

class Registry {
 public:
  Registry(storage::Store& store, const Clock& clock, AuditSink& audit, std::string key);

  struct Registered {
    Participant participant;
    bool created = false;  // false: the local id was already registered at this hospital
  };
  // Registers a participant, or returns the existing one for the same hospital and local id
  // (never a duplicate). Errors: kInvalidArgument naming the field.
  Result<Registered> Register(const NewParticipant& p, const std::string& actor,
                              const std::string& source, const std::string& request_id);
  // Errors: kNotFound "participant_not_found".
  Result<Participant> Get(std::string_view id);
  // Participants of one hospital, or of every hospital with policy::kEveryOrganisation ("*");
  // ordered by id. An empty hospital is refused, never read as "all" (issue 12 finding 1).
  // Errors: kInvalidArgument "hospital_required" (field "hospital").
  Result<std::vector<Participant>> List(std::string_view hospital, int limit, int offset);

 private:
  storage::Store& store_;
  const Clock& clock_;
  AuditSink& audit_;
  std::string key_;
};

}  // namespace zengen::participants
