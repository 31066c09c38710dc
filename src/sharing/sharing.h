// Controlled sharing (R1.3, R4.3-R4.7, R5.1; domain: shared/docs/domain/ga4gh.md §6): datasets
// of participants' files, releases that move through tiers as their embargo passes,
// applications on an academic or an industry track, review by the committee (審査会), grants,
// and the access API the htsget and DRS endpoints call.
//
// Datasets. A data steward creates a dataset (name ja/en, program, the research group 研究班
// that produced it, description) and adds participants' files: CRAM/BAM and VCF/BCF by default,
// FASTQ only with include_fastq (R4.6). Data types: "cram" (CRAM, BAM), "vcf" (VCF, BCF),
// "fastq".
//
// Releases and tiers (R4.7). A release covers the files of its dataset added up to its
// creation. TierTable() is the single source of truth:
//
//   (create)          -release->          group_restricted   members of the producing group
//   group_restricted  -embargo_passed->   controlled         + holders of an approved grant
//   controlled        -aggregates_due->   public_aggregates  + public counts (no files)
//
// Both moves are made by the system when the Clock reaches the date: controlled_at = 00:00 UTC
// of release_date + embargo months (per-program setting, default 24; a day past the end of the
// target month is clamped to its last day), public_aggregates_at optional and never before
// controlled_at. The tier in force at any instant is a function of these dates (TierAt), so an
// access decision never waits for the sweep; Tick(now) persists each due move, appends it to
// the release's tier history and audits it ("release.tier"). serve runs Tick every minute,
// `zengen sharing tick` runs it once. Members of the producing group keep access in every
// tier; public_aggregates keeps controlled access for grant holders and adds counts only
// (Aggregates), never clinical fields the data dictionary marks never_public.
//
// Applications (R4.3-R4.5). A researcher of an academic or industry organisation applies; the
// track is the organisation's kind. Purpose (DUO-coded): primary GRU | HMB | DS (+ disease) |
// POA, commercial, methods development, ancestry. Data types default to cram+vcf; fastq needs a
// justification. An application carries an abstract, its principal investigator, its
// collaborators and a data-security plan: all but the collaborators are required to submit
// (400 missing_field naming the field). TrackRules() is the table of what each track must
// provide before submission:
//
//   academic: ethics_approval
//   industry: ethics_approval, signed_agreement, fee_record; the requester is for-profit, so
//             its purpose counts as commercial in DUO matching (NCU/NPU participants excluded)
//
// Documents (issue 14). The applicant uploads the application's documents while it is a draft
// (DocumentKinds(): ethics_approval, protocol, signed_agreement): PDF (the bytes start with
// "%PDF-") or UTF-8 plain text, 1 byte .. kMaxDocumentBytes (20 MiB). The server computes the
// SHA-256 and stores the bytes encrypted through the DocumentBlobs port (the adapter writes
// them as Crypt4GH objects for the data center's key into the blob store, as genome files are
// written); an upload replaces the kind's earlier one and records the fingerprint
// {file_name, sha256, size} on the application (ethics / agreement), which is how the track's
// requirements count as met. Once submitted, documents are immutable (409
// "document_immutable"). Who may read a document is the rule of Visible: the applicant, and
// committee members and data stewards once the application is submitted; anyone else gets
// 404 application_not_found (the policy refuses other roles with 403 first).
//
// Application lifecycle (AppTransitions()): draft -submit-> submitted -decide-> approved |
// rejected; draft|submitted -withdraw-> withdrawn. Only the applicant submits or withdraws.
//
// Pre-screen: DUO matching (consent::Match, ga4gh.md §6.2) of the application's purpose against
// each participant's live consent-derived profile, per dataset: how many are covered.
//
// Committee. Members (role committee_member) comment and vote approve | reject | abstain; every
// comment and vote is kept (application_events); a member's latest vote counts. A reject
// vote needs a reason (400 missing_field "reason"). Conflict of
// interest: a member of the applicant's own organisation may neither vote nor decide. Decision
// rule (TallyVotes): at least kMinDecisiveVotes approve-or-reject votes are needed (abstentions
// count for neither side); then approved when approvals outnumber rejections, otherwise (a tie
// or more rejections) rejected. A committee member asks for the decision (Decide); approval
// inserts the grant in the same transaction as the state change.
//
// Grants cover the application's datasets and data types for its purpose, from start_date
// 00:00 UTC until end_date + 1 day 00:00 UTC (exclusive). A data steward may revoke one. Both
// expiry and revocation take effect on the next request: nothing is cached.
//
// Access. FileAccessFor, VisibleFiles and VisibleParticipants gather the facts (release tier,
// group membership, grants, the participant's live consent) and ask policy::Decide (action
// "data.access"); this module never decides on its own. They do not write to the audit log:
// htsget asks per block; callers record the decision once per request.
//
// Thread-safe: all state lives in the store; an application changes with
// `WHERE version = <read>`, so of two concurrent changes one gets kConflict "concurrent_change".
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/actor.h"
#include "common/audit_event.h"
#include "common/clock.h"
#include "common/result.h"
#include "consent/consent.h"
#include "policy/policy.h"
#include "storage/store.h"

namespace zengen::sharing {

inline constexpr std::string_view kTiers[] = {"group_restricted", "controlled",
                                              "public_aggregates"};
inline constexpr std::string_view kTracks[] = {"academic", "industry"};
inline constexpr std::string_view kDataTypes[] = {"cram", "vcf", "fastq"};
inline constexpr std::string_view kPrimaryPurposes[] = {"GRU", "HMB", "DS", "POA"};
inline constexpr std::string_view kVotes[] = {"approve", "reject", "abstain"};
inline constexpr std::string_view kAppStates[] = {"draft", "submitted", "approved", "rejected",
                                                  "withdrawn"};
inline constexpr int64_t kDefaultEmbargoMonths = 24;
inline constexpr int64_t kMaxEmbargoMonths = 120;
inline constexpr int kMinDecisiveVotes = 2;
inline constexpr size_t kMaxTextBytes = 4000;
inline constexpr int64_t kMaxGrantDays = 5 * 366;
inline constexpr int64_t kMaxDocumentBytes = 20 * 1024 * 1024;
inline constexpr size_t kMaxCollaborators = 50;

// "cram" for cram/bam files, "vcf" for vcf/bcf, "fastq" for fastq; "" for anything else.
std::string_view DataTypeOfKind(std::string_view file_kind);

// ---- tiers ----------------------------------------------------------------------------------

struct TierTransition {
  std::string_view from;  // "" for the creation
  std::string_view event;
  std::string_view to;
  std::string_view party;  // "steward" | "system"
  std::string_view label_ja;
  std::string_view label_en;
};
const std::vector<TierTransition>& TierTable();
const TierTransition* FindTierTransition(std::string_view from, std::string_view event);

// 00:00:00.000 UTC of date + months. Errors: kInvalidArgument "invalid_date" naming field.
Result<std::chrono::system_clock::time_point> EmbargoEnd(std::string_view date, int64_t months,
                                                         std::string_view field = "release_date");

struct Release {
  std::string id;
  std::string dataset_id;
  std::string release_date;  // YYYY-MM-DD
  int64_t embargo_months = 0;
  std::string controlled_at;         // RFC 3339
  std::string public_aggregates_at;  // RFC 3339 or ""
  std::string tier;                  // as persisted by the last Tick
  std::string tier_since;
  std::string created_by;
  std::string created_at;
};

// The tier in force at now, from the release's dates alone.
std::string TierAt(const Release& r, std::chrono::system_clock::time_point now);

struct TierEvent {
  int64_t seq = 0;
  std::string event;
  std::string from;
  std::string to;
  std::string due_at;
  std::string applied_at;
  std::string actor;
};

struct ReleaseDetail {
  Release release;
  std::string tier_now;  // TierAt(now)
  std::vector<TierEvent> history;
};

// ---- tracks, purposes, votes ------------------------------------------------------------------

enum class Requirement { kEthicsApproval, kSignedAgreement, kFeeRecord };
std::string_view RequirementName(Requirement r);  // ethics_approval | signed_agreement | fee_record

struct TrackRule {
  std::string_view track;
  std::vector<Requirement> requirements;
  bool for_profit = false;  // the purpose counts as commercial in DUO matching
  std::string_view label_ja;
  std::string_view label_en;
};
const std::vector<TrackRule>& TrackRules();
const TrackRule* FindTrack(std::string_view track);

struct Purpose {
  std::string primary = "HMB";  // kPrimaryPurposes
  std::string disease;          // DS: the disease category (e.g. lung)
  bool commercial = false;
  bool methods_development = false;
  bool ancestry = false;  // population origins or ancestry research
};
nlohmann::json PurposeJson(const Purpose& p);
// Errors: kInvalidArgument naming the field (purpose.primary, purpose.disease, …).
Result<Purpose> ParsePurpose(const nlohmann::json& j);
// The research purpose DUO matching checks: POA or ancestry research needs GRU (ga4gh.md §6.2);
// a for-profit track makes it commercial.
consent::Purpose ToConsentPurpose(const Purpose& p, std::string_view track);

struct Ballot {
  std::string user;
  std::string organisation;
  std::string vote;  // kVotes
};
enum class Outcome { kPending, kApproved, kRejected };
std::string_view OutcomeName(Outcome o);  // pending | approved | rejected
struct Tally {
  int approve = 0;
  int reject = 0;
  int abstain = 0;
  int conflicted = 0;  // ballots from the applicant's organisation, not counted
  Outcome outcome = Outcome::kPending;
  std::string reason;
};
// The decision rule over each member's latest ballot (see the header comment). Pure.
Tally TallyVotes(const std::vector<Ballot>& ballots, std::string_view applicant_organisation);

struct AppTransition {
  std::string_view from;
  std::string_view event;
  std::string_view to;
  std::string_view party;  // applicant | committee
};
const std::vector<AppTransition>& AppTransitions();
const AppTransition* FindAppTransition(std::string_view from, std::string_view event);

// ---- records --------------------------------------------------------------------------------

using Actor = ::zengen::Actor;  // common/actor.h

struct Dataset {
  std::string id;
  std::string name_ja;
  std::string name_en;
  std::string program;
  std::string group_id;
  std::string description;
  std::string created_by;
  std::string created_at;
};

struct NewDataset {
  std::string name_ja;
  std::string name_en;
  std::string program;
  std::string group_id;
  std::string description;
};

struct FileSelection {
  std::vector<std::string> participant_ids;  // every file of these participants…
  std::vector<std::string> file_ids;         // …and these files
  bool include_fastq = false;                // FASTQ only when asked for (R4.6)
};

struct AddFilesResult {
  std::vector<std::string> added;    // file ids
  std::vector<std::string> skipped;  // FASTQ without include_fastq, already present
};

struct NewRelease {
  std::string release_date;          // YYYY-MM-DD
  std::optional<int64_t> embargo_months;  // default: the program's setting
  std::string public_aggregates_date;     // YYYY-MM-DD or "" (never)
};

// The documents an application may carry, with the requirement each one meets (protocol:
// none, it is read by the committee only).
struct DocumentKind {
  std::string_view kind;  // ethics_approval | protocol | signed_agreement
  std::string_view label_ja;
  std::string_view label_en;
};
const std::vector<DocumentKind>& DocumentKinds();
const DocumentKind* FindDocumentKind(std::string_view kind);

// "application/pdf" when the bytes start with "%PDF-", "text/plain" when they are UTF-8 text
// without NUL or other control characters than tab, CR, LF; "" otherwise.
std::string SniffDocumentType(std::string_view bytes);

struct ApplicationDocument {
  std::string kind;
  std::string file_name;
  std::string content_type;  // application/pdf | text/plain
  int64_t size = 0;
  std::string sha256;
  std::string blob_id;
  std::string uploaded_by;
  std::string uploaded_at;
};

// The port where documents' bytes are kept encrypted (adapter: sharing/document_blobs.h, the
// blob store's Crypt4GH objects). Thread-safe.
class DocumentBlobs {
 public:
  virtual ~DocumentBlobs() = default;
  // Stores the bytes encrypted; returns the object's id.
  virtual Result<std::string> Put(std::string_view bytes) = 0;
  // The plaintext of an object stored by Put (authenticated while decrypting).
  virtual Result<std::string> Get(std::string_view id) = 0;
  // Removes an object stored by Put that nothing references (its document's recording
  // transaction failed). Best effort: an error leaves the object where it is.
  virtual Status Discard(std::string_view id) = 0;
};

struct Application {
  std::string id;
  std::string applicant;
  std::string organisation;
  std::string track;
  std::string title;
  std::string abstract_text;
  std::string principal_investigator;
  std::vector<std::string> collaborators;
  std::string data_security_plan;
  Purpose purpose;
  std::vector<std::string> datasets;
  std::vector<std::string> data_types;
  std::string fastq_justification;
  nlohmann::json ethics = nlohmann::json::object();
  nlohmann::json agreement = nlohmann::json::object();
  nlohmann::json fee = nlohmann::json::object();
  std::string start_date;
  std::string end_date;
  std::string state;
  std::string created_at;
  std::string updated_at;
  int64_t version = 0;
};

struct NewApplication {
  std::string title;
  std::string abstract_text;           // required to submit
  std::string principal_investigator;  // required to submit
  std::vector<std::string> collaborators;
  std::string data_security_plan;      // required to submit
  Purpose purpose;
  std::vector<std::string> datasets;
  std::vector<std::string> data_types;  // empty: cram + vcf
  std::string fastq_justification;
  nlohmann::json ethics = nlohmann::json::object();
  nlohmann::json agreement = nlohmann::json::object();
  nlohmann::json fee = nlohmann::json::object();
  std::string start_date;
  std::string end_date;
};

// Checks the fields of an application (not the track's completeness). Errors: kInvalidArgument
// naming the field.
Status ValidateApplication(const NewApplication& a);
// The track's requirements the application does not meet yet (names, table order).
std::vector<std::string> MissingRequirements(std::string_view track, const nlohmann::json& ethics,
                                             const nlohmann::json& agreement,
                                             const nlohmann::json& fee);

struct AppEvent {
  int64_t seq = 0;
  std::string kind;  // created | submitted | comment | vote | decision | withdrawn
  std::string user;
  std::string organisation;
  std::string vote;
  std::string body;
  std::string time;
};

struct GrantRecord {
  std::string id;
  std::string application_id;
  std::string holder;
  std::string organisation;
  std::vector<std::string> datasets;
  std::vector<std::string> data_types;
  Purpose purpose;
  std::string track;
  std::string starts_at;
  std::string expires_at;
  std::string revoked_at;  // "" unless revoked
  std::string revoked_by;
  std::string revoke_reason;
  std::string created_at;
  // active | expired | revoked | pending (not started) at the given instant
  std::string StatusAt(std::chrono::system_clock::time_point now) const;
};

struct ApplicationDetail {
  Application application;
  std::vector<AppEvent> history;
  Tally tally;
  std::vector<std::string> missing;  // track requirements not met
  std::vector<ApplicationDocument> documents;  // in DocumentKinds() order
  std::optional<GrantRecord> grant;
};

struct PrescreenRow {
  std::string dataset_id;
  int64_t participants = 0;  // distinct participants with files in the dataset
  int64_t covered = 0;       // whose live consent the purpose matches
  int64_t withdrawn = 0;     // fully withdrawn (or without consent)
  int64_t not_covered = 0;   // consented, but the purpose falls outside it
  std::map<std::string, int64_t> reasons;  // why not covered → how many
};

struct TickSummary {
  int64_t checked = 0;
  int64_t to_controlled = 0;
  int64_t to_public_aggregates = 0;
};

// What a subject may see of one data file now.
struct FileAccess {
  policy::Decision decision;
  std::string dataset_id;
  std::string release_id;
  std::string tier;
  std::string grant_id;  // the grant that allowed it; "" when allowed otherwise or denied
  std::string participant_id;
  std::string data_type;
  // The facts the decision was taken on (the access gate decides on them again, once, and
  // records them): the "data_file" resource, the grant presented, the subject's research
  // groups and the decision's time.
  policy::Resource resource;
  std::optional<policy::Grant> grant;
  std::vector<std::string> groups;
  std::chrono::system_clock::time_point now{};
};

struct VisibleFile {
  std::string file_id;
  std::string kind;       // cram | bam | vcf | bcf | fastq
  std::string data_type;  // cram | vcf | fastq
  std::string participant_id;
  std::string file_name;
  int64_t size = 0;
  std::string sha256;
  std::string release_id;
  std::string tier;
  std::string grant_id;
};

// Counts of a public_aggregates release: participants by disease category and by the value of
// one enum clinical field (never a never_public one). These are the true counts: they are
// published only through the one disclosure control (portal/suppression.h).
struct Aggregates {
  std::string release_id;
  std::string field;  // "category.field" or ""
  std::map<std::string, int64_t> by_disease;
  std::map<std::string, int64_t> by_value;  // the field's values (every one, zero or not)
  // Every public enum field ("category.field") → value → participants (AllPublicAggregates).
  std::map<std::string, std::map<std::string, int64_t>> by_field;
  int64_t participants = 0;
};

class Sharing {
 public:
  Sharing(storage::Store& store, const Clock& clock, AuditSink& audit, consent::Ledger& ledger);

  // ---- settings: per-program embargo ----
  Result<int64_t> EmbargoMonths(std::string_view program);
  // Errors: kInvalidArgument "program" / "embargo_months" (1..kMaxEmbargoMonths).
  Status SetEmbargoMonths(std::string_view program, int64_t months, const Actor& actor);

  // ---- datasets ----
  // Errors: kInvalidArgument naming the field; kNotFound "group_not_found".
  Result<Dataset> CreateDataset(const NewDataset& d, const Actor& actor);
  Result<std::vector<Dataset>> ListDatasets();
  // Errors: kNotFound "dataset_not_found".
  Result<Dataset> GetDataset(std::string_view id);
  // Adds files; all or nothing. Errors: kNotFound "dataset_not_found", "participant_not_found",
  // "file_not_found"; kInvalidArgument "fastq_not_requested" (a FASTQ file id without
  // include_fastq), "program_mismatch", "empty_selection".
  Result<AddFilesResult> AddFiles(std::string_view dataset_id, const FileSelection& sel,
                                  const Actor& actor);

  // ---- releases ----
  // Errors: kNotFound "dataset_not_found"; kInvalidArgument "release_date", "embargo_months",
  // "public_aggregates_date" (before the embargo ends); kConflict "dataset_empty".
  Result<ReleaseDetail> CreateRelease(std::string_view dataset_id, const NewRelease& r,
                                      const Actor& actor);
  // Releases of one dataset (or all with ""), oldest first.
  Result<std::vector<Release>> ListReleases(std::string_view dataset_id);
  // Errors: kNotFound "release_not_found".
  Result<ReleaseDetail> GetRelease(std::string_view id);
  // Applies every tier move due at now (each in its own transaction, audited "release.tier").
  Result<TickSummary> Tick(std::chrono::system_clock::time_point now);
  // The public release calendar: every release with its dataset's names and dates (portal).
  Result<nlohmann::json> ReleaseCalendar();
  // Errors: kNotFound "release_not_found"; kConflict "not_public" (tier below
  // public_aggregates); kPermissionDenied "never_public_field"; kInvalidArgument "field"
  // (unknown or not an enum field).
  Result<Aggregates> PublicAggregates(std::string_view release_id, std::string_view field);
  // The true counts of every release in the public_aggregates tier, by disease category and by
  // every enum field that is not never_public. For the one disclosure control that publishes
  // them together with the portal (portal::Publish); never sent as they are.
  Result<std::vector<Aggregates>> AllPublicAggregates();
  // Participants (not fully withdrawn) whose data are in a dataset released by today: the
  // portal's "released" stage. Each public release's participants are among them.
  Result<std::set<std::string>> ReleasedParticipants();
  // The files of `data_type` (cram | vcf | fastq) of every release in the public_aggregates tier
  // now, with whose each is: release id → [(file id, participant id)]. For the public figures
  // computed from the files themselves (variants' portal allele frequencies).
  Result<std::map<std::string, std::vector<std::pair<std::string, std::string>>>>
  PublicReleaseFiles(std::string_view data_type);

  // ---- applications ----
  // Errors: kInvalidArgument naming the field; kNotFound "dataset_not_found";
  // kPermissionDenied "organisation_not_eligible" (neither academic nor industry).
  Result<ApplicationDetail> CreateApplication(const NewApplication& a, const Actor& actor);
  // Researchers: their own; committee and stewards: all but drafts. Newest first.
  Result<std::vector<Application>> ListApplications(const Actor& actor);
  // Errors: kNotFound "application_not_found" (also when the actor may not see it).
  Result<ApplicationDetail> GetApplication(std::string_view id, const Actor& actor);
  // Errors as Get; kPermissionDenied "not_applicant"; kConflict "invalid_transition",
  // "requirements_missing" (naming them), "period_over", "concurrent_change".
  Result<ApplicationDetail> Submit(std::string_view id, const Actor& actor);
  Result<ApplicationDetail> Withdraw(std::string_view id, std::string_view reason,
                                     const Actor& actor);
  // Committee. Errors as Get; kPermissionDenied "not_committee", "conflict_of_interest";
  // kConflict "not_under_review"; kInvalidArgument "body" / "vote".
  Result<ApplicationDetail> Comment(std::string_view id, std::string_view body,
                                    const Actor& actor);
  Result<ApplicationDetail> Vote(std::string_view id, std::string_view vote,
                                 std::string_view reason, const Actor& actor);
  // Applies the decision rule; approval creates the grant in the same transaction. Errors as
  // Vote; kConflict "no_quorum" while pending.
  Result<ApplicationDetail> DecideApplication(std::string_view id, const Actor& actor);
  // ---- documents ----
  // The resource a document route touches, for the one policy decision: kind
  // "application_document", id "<application>/<kind>", the applicant's organisation. Errors:
  // kNotFound "application_not_found" when the actor may not see the application (Visible),
  // "document_kind_not_found" (field "kind") for an unknown kind.
  Result<policy::Resource> DocumentResource(std::string_view id, std::string_view kind,
                                            const Actor& actor);
  // Stores a document of a draft (see the header comment). Errors: as Get; kPermissionDenied
  // "not_applicant"; kInvalidArgument "document_kind_not_found" (kind), "file_name" (1..255
  // bytes, no control characters or path separators), "document_empty" / "document_type"
  // (neither PDF nor plain text; field "file"); kConflict
  // "document_immutable" once submitted, "concurrent_change"; the port's errors. The bytes are
  // stored before the transaction that records them (never a row without its bytes); when that
  // transaction fails, the object is discarded through the port (best effort) and an audit
  // record "document object discarded" (or "document object left unreferenced", with the
  // port's error) names its blob id; the transaction's error is returned.
  Result<ApplicationDocument> PutDocument(std::string_view id, std::string_view kind,
                                          std::string_view file_name, std::string_view bytes,
                                          DocumentBlobs& blobs, const Actor& actor);
  // A document's record and its bytes, checked against the recorded SHA-256. Errors: as
  // DocumentResource; kNotFound "document_not_found"; kUnavailable "document_corrupt" when the
  // bytes do not match; the port's errors.
  Result<std::pair<ApplicationDocument, std::string>> ReadDocument(std::string_view id,
                                                                   std::string_view kind,
                                                                   DocumentBlobs& blobs,
                                                                   const Actor& actor);

  // The pre-screen of an application's purpose against its datasets.
  Result<std::vector<PrescreenRow>> Prescreen(std::string_view id, const Actor& actor);
  // The same for any purpose and track (pure reading).
  Result<std::vector<PrescreenRow>> PrescreenPurpose(const Purpose& p, std::string_view track,
                                                     const std::vector<std::string>& datasets);

  // ---- grants ----
  // Researchers: their own; committee and stewards: all.
  Result<std::vector<GrantRecord>> ListGrants(const Actor& actor);
  // Errors: kNotFound "grant_not_found"; kConflict "already_revoked"; kInvalidArgument "reason".
  Result<GrantRecord> Revoke(std::string_view id, std::string_view reason, const Actor& actor);

  // ---- access (called by htsget, DRS and the listing routes) ----

  // What a subject may see of one data file now: the policy decision (through policy::Decide,
  // action "data.access") and, when allowed, the release and grant that allowed it. Every
  // (dataset, release) the file is in is considered; the first allowing combination wins,
  // otherwise the answer carries the denial. For a participant whose live consent does not
  // cover the grant's purpose, or who withdrew fully, the answer is denied. purpose_hint, when
  // set, restricts the grants considered to those whose purpose primary code equals it (e.g.
  // "HMB"). grant_id, when set, names the one grant the access is for (the cohort's queries,
  // issue 15): only that grant of the subject is considered, and the producing group's own
  // research is not (a group member asking for a grant gets what the grant allows). A file in
  // no dataset is denied ("not shared"). Reads live: a withdrawal, an expiry or a revocation
  // shows on the very next call.
  // Errors: kNotFound "file_not_found"; store errors.
  Result<FileAccess> FileAccessFor(const policy::Subject& subject, std::string_view file_id,
                                   std::string_view purpose_hint = {},
                                   std::string_view grant_id = {});

  // The files of a dataset the subject may see now (each as FileAccessFor would allow it),
  // ordered by participant, then file id. Errors: kNotFound "dataset_not_found".
  Result<std::vector<VisibleFile>> VisibleFiles(const policy::Subject& subject,
                                                std::string_view dataset_id,
                                                std::string_view purpose_hint = {},
                                                std::string_view grant_id = {});

  // For multi-sample files: which of these participant pseudonyms the subject may see in the
  // dataset — those with at least one file in the dataset the subject may see now (so a
  // withdrawn or non-covered participant, or one not in the dataset, is absent). Input order
  // kept, duplicates dropped. Errors: kNotFound "dataset_not_found".
  Result<std::vector<std::string>> VisibleParticipants(
      const policy::Subject& subject, std::string_view dataset_id,
      const std::vector<std::string>& participant_ids, std::string_view grant_id = {});

  // Records one access decision in the audit log (action "data.access", resource
  // data_file/<id>, allow|deny with the reason; details: dataset, release, tier, grant). For
  // callers that serve data (htsget, DRS): once per request, not per block.
  Status RecordAccess(const policy::Subject& subject, std::string_view file_id,
                      const FileAccess& access, std::string_view source,
                      std::string_view request_id);

  // The research groups a user belongs to.
  Result<std::vector<std::string>> GroupsOf(std::string_view user);

 private:
  struct Candidate;
  Result<std::vector<FileAccess>> Evaluate(const policy::Subject& subject,
                                           const std::vector<Candidate>& candidates,
                                           std::string_view purpose_hint,
                                           std::string_view grant_id = {});
  Result<std::vector<Candidate>> Candidates(std::string_view where_sql, const std::string& param);
  Result<ApplicationDetail> Detail(storage::Transaction& tx, std::string_view id);
  Result<ApplicationDetail> Visible(std::string_view id, const Actor& actor);
  // PutDocument's transaction: the fingerprint on the application (only while it is still the
  // draft at a's version), the document's row and its audit record.
  Status RecordDocument(const Application& a, const ApplicationDocument& doc,
                        const nlohmann::json& ethics, const nlohmann::json& agreement,
                        const Actor& actor);
  // An audit record inside tx, committed with the change (AuditSink::AppendInTransaction).
  Status AuditIn(storage::Transaction& tx, const Actor& actor, std::string action,
                 std::string resource, std::string reason, const nlohmann::json& details);

  storage::Store& store_;
  const Clock& clock_;
  AuditSink& audit_;
  consent::Ledger& ledger_;
};

}  // namespace zengen::sharing
