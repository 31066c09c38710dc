// The one access gate for genome files (issue 12; R1.3 only permitted persons, within the
// permitted scope; R5.1 live consent).
//
// "May this person read these bytes now?" is answered here and nowhere else: for a subject, an
// action ("file.read", "file.download", "file.decrypt", "htsget.read", "drs.read") and a file,
// the gate gathers the facts — the owning hospital and the organisation holding the specimen
// (custody), the participant's live consent (a current-state read, not the history), and for
// researchers the release tier, research group and grant through which the file is shared
// (sharing) — so that policy::Decide is asked once per request and one audit record is written.
//
// Over HTTP the gate is the resolver of every route whose resource kind is "file"
// (FileResolver) and of a participant's file listing (ParticipantFilesResolver):
// http::PolicyFilter takes the one decision on the facts and records it through
// RecordDecision. Rows and sample columns a handler serves are selected here on the same facts
// and named in that record; no handler decides.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/audit_event.h"
#include "common/result.h"
#include "consent/consent.h"
#include "genomefiles/files.h"
#include "http/http.h"
#include "policy/policy.h"
#include "sharing/sharing.h"

namespace zengen::access {

class Gate {
 public:
  // Every reference must outlive the gate.
  Gate(genomefiles::Files& files, consent::Ledger& consents, sharing::Sharing& sharing);

  // The facts about one file for subject and action, as the target of the one decision.
  // A subject whose only role of the action's rule is tier-gated (a researcher) gets the
  // shared-data facts: resource kind "data_file" with dataset, release, tier, group, data type
  // and consent-covers-purpose, and the grant presented. Everyone else gets the custody facts:
  // kind "file", the participant's hospital as organisation, the specimen's holder, and
  // withdrawn after a full withdrawal. sample_participant, when set, decides one sample of a
  // multi-sample file; otherwise a multi-sample file is decided as a whole (withdrawn only when
  // every sample's participant withdrew fully; the handler narrows it per sample). grant_id,
  // when set, names the one grant a researcher's access is for (Sharing::FileAccessFor).
  // Errors: kNotFound "file_not_found"; store errors.
  Result<http::Target> FileTarget(const policy::Subject& subject, std::string_view action,
                                  const genomefiles::DataFile& file,
                                  std::string_view sample_participant = {},
                                  std::string_view grant_id = {});

  // The resolver for routes whose {id} is a file id (the route's action decides which facts).
  // For htsget.read and drs.read on a file with several samples (a joint VCF/BCF) it also
  // selects the samples the subject may see, each on its own participant's facts
  // (FileTarget with sample_participant), and names them in the target's details ("samples",
  // "samples_registered"), so the one decision and its one audit record cover the sample
  // columns served; when none is visible the target is a refused sample's, so the decision
  // denies.
  http::Resolver FileResolver();

  // The rows of a participant's file listing that the subject may see for the action, selected
  // on the same facts as FileTarget (data selection, not a decision: nothing is recorded here).
  // The listing itself is decided once by the route's resolver (ParticipantFilesResolver).
  struct FileSelection {
    std::vector<genomefiles::DataFile> visible;  // in the registry's order
    int64_t registered = 0;                      // the participant's files in the registry
  };
  Result<FileSelection> SelectFiles(const http::Request& req, std::string_view action,
                                    std::string_view participant_id);

  // The resolver of a participant's file listing (path parameter {id}: the participant): one
  // decision for the whole listing. When some of the participant's files are visible to the
  // caller (SelectFiles with the route's action) the listing is in the caller's scope
  // (policy::ScopeOf: decided on role); when none is (none registered, an unknown participant,
  // or only other organisations' files) it belongs to every organisation at once ("*"), which
  // only data-center-wide roles may read, so a facility cannot tell those cases apart. The
  // target's details name the rows: "files" (their ids, which the handler serves and nothing
  // else), "files_listed" and "files_registered", so the one audit record says what was listed.
  http::Resolver ParticipantFilesResolver();

  // The file ids a request's resolved listing selected (ParticipantFilesResolver), empty when
  // the request was not resolved by it.
  static std::vector<std::string> ListedFileIds(const http::Request& req);


 private:
  genomefiles::Files& files_;
  consent::Ledger& consents_;
  sharing::Sharing& sharing_;
};

// The one audit record of a decision about a request: actor, source, action, the resolved
// resource ("kind/id"), allow|deny with the reason, the request id, and details (method, path,
// the resource's organisation and holder, and the target's facts such as dataset, release and
// grant). Non-printable bytes of the path and ids are percent-encoded.
Status RecordDecision(AuditSink& sink, const http::Request& req, std::string_view action,
                      const http::Target& target, const policy::Decision& decision);

}  // namespace zengen::access
