// The worker and the checker of the kill -9 campaign (scripts/kill9-campaign.sh, issue 13).
//
//   kill9_driver setup DATA       organisations, participants and their first consent, and
//                                 the program rule that orders the analysis at QC pass
//   kill9_driver work DATA SEED   starts as the server does (Runtime::Open runs the recovery
//                                 pass), resumes the uploads a killed predecessor left open,
//                                 then changes state without end: specimens and their custody,
//                                 FASTQ uploads (chunks and completion, which makes the
//                                 analysis order), the analysis centre taking the specimen and
//                                 filing and classifying a finding, clinical record
//                                 submissions, clinical CSV imports and consent modifications.
//                                 Before each step it prints "step <name>", so the campaign
//                                 knows what a kill interrupted.
//   kill9_driver recover DATA     starts as the server does (the recovery pass) and stops
//   kill9_driver check DATA       consistency queries after a restart; prints one line
//                                 "name=count" per measure (targets: all 0) and a line per
//                                 finding. missing_audit counts the changes of uploads, files,
//                                 runs and blobs; missing_audit_other those of specimens,
//                                 custody, analysis orders, consent, clinical records (single
//                                 and imported) and findings. Every one of them appends its
//                                 record in the transaction of its change, so both are 0.
//
// The worker goes through the same domain modules as the HTTP routes (the part a crash can
// interrupt); the campaign kills it with SIGKILL at random moments.
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>

#include "app/runtime.h"
#include "clinical/synthetic.h"
#include "crypto/crypto.h"
#include "specimens/analysis_orders.h"

namespace zengen::app {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kHospital = "k9-hospital";
constexpr const char* kFacility = "k9-seq";
constexpr const char* kCentre = "k9-ac";
constexpr int kParticipants = 4;
const specimens::Actor kClinician{"k9-clin", kHospital, {"clinician"}, "cli", ""};
const specimens::Actor kOperator{"k9-op", kFacility, {"sequencing_operator"}, "cli", ""};
const specimens::Actor kAnalyst{"k9-an", kCentre, {"analyst"}, "cli", ""};
const specimens::Actor kSteward{"k9-steward", "k9-dc", {"data_steward"}, "cli", ""};

int Fail(const Error& e) {
  std::cerr << "kill9_driver: " << e.code << ": " << e.message << "\n";
  return 2;
}

// A valid single-end FASTQ of `reads` reads, the same for the same seed.
std::string Fastq(uint64_t seed, int reads = 2000, int len = 100) {
  std::mt19937_64 rng(seed);
  std::string out;
  for (int i = 0; i < reads; ++i) {
    out += fmt::format("@K9:1:FC{}:1:1101:{}:{} 1:N:0:ACGT\n", seed, 1000 + i, 2000 + i);
    for (int j = 0; j < len; ++j) out += "ACGT"[rng() % 4];
    out += "\n+\n";
    out += std::string(static_cast<size_t>(len), 'F');
    out += "\n";
  }
  return out;
}

Result<std::vector<std::string>> Participants(storage::Store& store) {
  ZG_ASSIGN_OR_RETURN(auto tx, store.Begin(storage::TxMode::kRead));
  ZG_ASSIGN_OR_RETURN(auto rows, tx->Query("SELECT id FROM participants ORDER BY id"));
  std::vector<std::string> out;
  for (const auto& r : rows.rows) out.push_back(r.Text(0));
  return out;
}

consent::ConsentInput Consent(std::string kind, bool recontact) {
  consent::ConsentInput ci;
  ci.kind = std::move(kind);
  ci.icf_version = "1.0";
  ci.language = "ja";
  ci.signed_date = "2026-06-01";
  ci.details = {{"signer", "self"}, {"method", "electronic"}};
  for (const auto& item : consent::DefaultCatalogue("cancer")) {
    std::string d = item.item_class == consent::ItemClass::kOptIn ? "deny" : "permit";
    if (item.code == "C12") d = recontact ? "permit" : "deny";
    if (item.code == "C11" && d == "permit") {
      ci.details["designated_relative"] = {{"name", "family"}, {"contact", "via hospital"}};
    }
    ci.decisions[item.code] = d;
  }
  return ci;
}

int Setup(const fs::path& data) {
  auto rt = Runtime::Open(data, "cli");
  if (!rt.ok()) return Fail(rt.error());
  const identity::Actor seeder{"k9", "cli", ""};
  for (const auto& [id, kind] :
       std::vector<std::pair<std::string, std::string>>{{kHospital, "hospital"},
                                                        {kFacility, "sequencing_facility"},
                                                        {kCentre, "analysis_center"}}) {
    auto org = (*rt)->identity->CreateOrganisation({id, id, kind, "JP"}, seeder);
    if (!org.ok()) return Fail(org.error());
  }
  // Specimens passing QC are ordered for analysis by k9-ac (in the custody step's transaction).
  auto rule = specimens::AnalysisOrders(*(*rt)->store, (*rt)->clock, *(*rt)->audit_sink)
                  .SetRule("cancer", kCentre, kSteward);
  if (!rule.ok()) return Fail(rule.error());
  for (int i = 0; i < kParticipants; ++i) {
    auto reg = (*rt)->participants->Register(
        {kHospital, fmt::format("K9-{}", i), "cancer", "lung", "2026-06-01"}, "k9", "cli", "");
    if (!reg.ok()) return Fail(reg.error());
    auto rec = (*rt)->consents->Record(reg->participant.id, Consent("initial", true),
                                       {"k9-clin", "cli", ""});
    if (!rec.ok()) return Fail(rec.error());
  }
  std::cout << "setup done" << std::endl;
  return 0;
}

void Step(std::string_view name) { std::cout << "step " << name << std::endl; }

// Sends the chunks still missing and completes. file_name is "k9-<seed>.fastq".
Status Finish(Runtime& rt, const sequencing::Upload& u) {
  const uint64_t seed = std::stoull(u.file_name.substr(3));
  const std::string bytes = Fastq(seed);
  ZG_ASSIGN_OR_RETURN(auto progress, rt.uploads->Get(u.id));
  for (int64_t i : progress.missing) {
    Step("chunk_upload");
    ZG_RETURN_IF_ERROR(rt.uploads->PutChunk(
        u.id, i,
        std::string_view(bytes).substr(static_cast<size_t>(i * u.chunk_size),
                                       static_cast<size_t>(u.ChunkLength(i))),
        kOperator));
  }
  Step("completion");
  return rt.uploads->Complete(u.id, kOperator).status();
}

Status Sequence(Runtime& rt, const std::string& pid, uint64_t seed) {
  Step("specimen");
  ZG_ASSIGN_OR_RETURN(auto sp, rt.specimens->Register(
                                   {pid, "normal", "blood", "EDTA", "2026-06-02", ""}, kClinician));
  ZG_RETURN_IF_ERROR(rt.specimens->Custody(sp.id, {"shipped", "", kFacility}, kClinician).status());
  ZG_RETURN_IF_ERROR(rt.specimens->Custody(sp.id, {"received", "", ""}, kOperator).status());
  ZG_RETURN_IF_ERROR(rt.specimens->Custody(sp.id, {"library_prepared", "", ""}, kOperator).status());
  ZG_ASSIGN_OR_RETURN(auto run, rt.uploads->CreateRun(
                                    {sp.id, "NovaSeq 6000", "FC", "LIB", "single"}, kOperator));
  const std::string bytes = Fastq(seed);
  sequencing::NewUpload n;
  n.kind = "fastq";
  n.run_id = run.id;
  n.read = 1;
  n.file_name = fmt::format("k9-{}.fastq", seed);
  n.size = static_cast<int64_t>(bytes.size());
  n.sha256 = crypto::Sha256Hex(bytes);
  n.chunk_size = sequencing::kMinChunkSize;
  ZG_ASSIGN_OR_RETURN(auto u, rt.uploads->Create(n, kOperator));
  ZG_RETURN_IF_ERROR(Finish(rt, u));
  ZG_ASSIGN_OR_RETURN(auto detail, rt.specimens->Get(sp.id));
  if (detail.specimen.state != "qc_passed") return Status::Ok();
  // The ordered centre takes the specimen on, then files and classifies a finding.
  Step("analysis");
  ZG_RETURN_IF_ERROR(rt.specimens->Custody(sp.id, {"analysed", "", ""}, kAnalyst).status());
  Step("finding");
  ZG_ASSIGN_OR_RETURN(
      auto filed, rt.findings->File({pid, "BRCA2", "NM_000059.4:c.5946del", "germline", "secondary",
                                     "pathogenic", "PVS1, PM2", ""},
                                    kAnalyst));
  return rt.findings->Step(filed.finding.id, {.event = "classify"}, kAnalyst).status();
}

// A CSV of one clinical category for every participant (one import, one transaction).
std::string ClinicalCsv(const clinical::Dictionary& dict, const std::string& category,
                        const std::vector<std::string>& pids, uint64_t seed) {
  const clinical::Category* c = dict.FindCategory(category);
  std::string out = "participant_id";
  for (const auto& f : c->fields) out += "," + f.code;
  out += "\n";
  for (size_t i = 0; i < pids.size(); ++i) {
    const json d = clinical::SyntheticRecord(dict, category, "cancer", seed + i, true);
    out += pids[i];
    for (const auto& f : c->fields) {
      out.push_back(',');
      if (d.contains(f.code)) {
        clinical::AppendCsvCell(
            out, d[f.code].is_string() ? d[f.code].get<std::string>() : d[f.code].dump());
      }
    }
    out += "\n";
  }
  return out;
}

void PrintRecovery(const Runtime& rt) {
  std::cout << fmt::format("recovered completions={} custody={} staging={} temporaries={} "
                           "unrecorded_blob_files={}",
                           rt.recovery.completions_finished, rt.recovery.custody_finished,
                           rt.recovery.staging_removed, rt.recovery.temporaries_removed,
                           rt.recovery.unrecorded_blob_files_removed)
            << std::endl;
  for (const auto& p : rt.recovery.problems) std::cout << "recovery problem: " << p << std::endl;
}

int Recover(const fs::path& data) {
  auto opened = Runtime::Open(data);  // as `serve` starts: the recovery pass runs here
  if (!opened.ok()) return Fail(opened.error());
  PrintRecovery(**opened);
  return 0;
}

int Work(const fs::path& data, uint64_t seed) {
  Step("restart");
  auto opened = Runtime::Open(data);  // as `serve`: the recovery pass runs here
  if (!opened.ok()) return Fail(opened.error());
  Runtime& rt = **opened;
  PrintRecovery(rt);
  // Resume what the killed predecessor left open.
  {
    auto tx = rt.store->Begin(storage::TxMode::kRead);
    if (!tx.ok()) return Fail(tx.error());
    auto rows = (*tx)->Query("SELECT id FROM uploads WHERE status = 'open' ORDER BY id");
    if (!rows.ok()) return Fail(rows.error());
    tx->reset();
    for (const auto& r : rows->rows) {
      auto u = rt.uploads->Get(r.Text(0));
      if (!u.ok()) return Fail(u.error());
      Step("resume");
      if (Status s = Finish(rt, u->upload); !s.ok()) return Fail(s.error());
    }
  }
  auto pids = Participants(*rt.store);
  if (!pids.ok() || pids->empty()) return Fail(pids.ok() ? Internal("no_setup", "run setup") : pids.error());
  std::mt19937_64 rng(seed);
  const auto& dict = rt.clinical->dictionary();
  for (uint64_t i = 0;; ++i) {
    const std::string& pid = (*pids)[rng() % pids->size()];
    switch (rng() % 5) {
      case 0:
      case 1: {
        if (Status s = Sequence(rt, pid, seed * 1000003 + i); !s.ok()) return Fail(s.error());
        break;
      }
      case 2: {
        Step("clinical_submit");
        const std::string& cat = dict.categories[rng() % dict.categories.size()].code;
        auto rec = rt.clinical->Submit(pid, cat,
                                       clinical::SyntheticRecord(dict, cat, "cancer", rng(), true),
                                       "campaign update", {"k9-clin", "cli", ""});
        if (!rec.ok()) return Fail(rec.error());
        break;
      }
      case 3: {
        Step("clinical_import");
        // why: a category whose fields are all CSV cells (the tests import it too).
        const std::string cat = "course";
        auto imported =
            rt.clinical->Import(cat, ClinicalCsv(dict, cat, *pids, rng()),
                                {.reason = "campaign import", .actor = {"k9-clin", "cli", ""}});
        if (!imported.ok()) return Fail(imported.error());
        break;
      }
      default: {
        Step("consent_change");
        auto rec = rt.consents->Record(pid, Consent("modification", rng() % 2 == 0),
                                       {"k9-clin", "cli", ""});
        if (!rec.ok() && rec.error().code != "no_change") return Fail(rec.error());
        break;
      }
    }
  }
}

// ---- check ----------------------------------------------------------------------------------

bool StartsWith(const fs::path& p, std::string_view magic) {
  std::ifstream f(p, std::ios::binary);
  std::string head(magic.size(), '\0');
  f.read(head.data(), static_cast<std::streamsize>(head.size()));
  return f.gcount() == static_cast<std::streamsize>(magic.size()) && head == magic;
}

int Check(const fs::path& data) {
  auto opened = Runtime::Open(data, "cli");
  if (!opened.ok()) return Fail(opened.error());
  Runtime& rt = **opened;
  auto tx = rt.store->Begin(storage::TxMode::kRead);
  if (!tx.ok()) return Fail(tx.error());
  auto q = [&](std::string_view sql) -> storage::Rows {
    auto rows = (*tx)->Query(sql);
    if (!rows.ok()) {
      std::cerr << "kill9_driver: " << rows.error().message << "\n";
      std::exit(2);
    }
    return std::move(*rows);
  };
  std::vector<std::string> findings;
  // Stuck runs: every file stored but no verdict, or a verdict whose custody was never applied.
  int64_t stuck = 0;
  for (const auto& r : q("SELECT r.id, r.status, r.layout, r.custody_pending_by, s.state, "
                         "(SELECT COUNT(*) FROM data_files f WHERE f.run_id = r.id) "
                         "FROM sequencing_runs r JOIN specimens s ON s.id = r.specimen_id")
                          .rows) {
    const int64_t need = r.Text(2) == "paired" ? 2 : 1;
    const bool all_files = r.Int(5) >= need;
    const bool custody_behind = r.Text(1) != "open" &&
                                (r.Text(4) == "library_prepared" || r.Text(4) == "sequenced");
    if ((r.Text(1) == "open" && all_files) || !r.IsNull(3) || custody_behind) {
      ++stuck;
      findings.push_back(fmt::format("stuck run {} ({}, specimen {}, files {})", r.Text(0),
                                     r.Text(1), r.Text(4), r.Int(5)));
    }
  }
  // Audit records of committed state changes.
  std::set<std::pair<std::string, std::string>> audited;  // (action, resource)
  std::set<std::string> consent_ids;
  std::set<std::string> clinical_versions;  // pid/category/version
  std::map<std::string, int64_t> imported_rows;  // category/changed_at -> rows (CSV imports)
  std::map<std::string, int64_t> custody_audits;
  std::map<std::string, int64_t> finding_transitions;
  for (const auto& r : q("SELECT action, resource, details, decision FROM audit_log").rows) {
    const std::string action = r.Text(0);
    audited.insert({action, r.Text(1)});
    if (action == "consent.write") {
      const json d = json::parse(r.Text(2), nullptr, false);
      if (d.is_object() && d.contains("consent_id")) consent_ids.insert(d["consent_id"].dump());
    } else if (action == "clinical.write") {
      const json d = json::parse(r.Text(2), nullptr, false);
      if (d.is_object() && d.contains("import_rows")) {
        imported_rows[fmt::format("{}/{}", r.Text(1).substr(r.Text(1).find('/') + 1),
                                  d.value("changed_at", ""))] += d.value("import_rows", int64_t{0});
      } else if (d.is_object()) {
        clinical_versions.insert(fmt::format("{}/{}/{}", r.Text(1), d.value("category", ""),
                                             d.value("version", int64_t{0})));
      }
    } else if (action == "specimen.custody" && r.Text(3) == "allow") {
      ++custody_audits[r.Text(1)];
    } else if (action == "finding.transition") {
      ++finding_transitions[r.Text(1)];
    }
  }
  // Every change commits its record in its own transaction: uploads, files, runs and blobs
  // (missing_audit), and specimens, custody, analysis orders, consent, clinical records and
  // findings (missing_audit_other, the modules that appended theirs after the commit until
  // issue 13's second session).
  int64_t missing = 0, missing_other = 0;
  auto expect = [&](const std::string& action, const std::string& resource) {
    if (!audited.count({action, resource})) {
      const bool other = action.starts_with("specimen.") || action.starts_with("analysis_order.") ||
                         action.starts_with("finding.");
      ++(other ? missing_other : missing);
      findings.push_back(fmt::format("no {} record for {}", action, resource));
    }
  };
  for (const auto& r : q("SELECT id, status FROM uploads WHERE status <> 'open'").rows) {
    const std::string status = r.Text(1);
    expect(status == "complete"  ? "upload.complete"
           : status == "expired" ? "upload.expire"
                                 : "upload.reject",
           "upload/" + r.Text(0));
  }
  for (const auto& r : q("SELECT id FROM data_files").rows) expect("file.register", "file/" + r.Text(0));
  for (const auto& r : q("SELECT id FROM sequencing_runs").rows) expect("run.create", "run/" + r.Text(0));
  for (const auto& r : q("SELECT id FROM sequencing_runs WHERE status <> 'open'").rows) {
    expect("run.qc", "run/" + r.Text(0));
  }
  for (const auto& r : q("SELECT id FROM uploads").rows) expect("upload.create", "upload/" + r.Text(0));
  for (const auto& r : q("SELECT id FROM blobs").rows) expect("blob.write", "blob/" + r.Text(0));
  for (const auto& r : q("SELECT id FROM specimens").rows) {
    expect("specimen.write", "specimen/" + r.Text(0));
  }
  for (const auto& r : q("SELECT specimen_id, COUNT(*) FROM custody_events WHERE seq > 1 "
                         "GROUP BY specimen_id").rows) {
    const std::string res = "specimen/" + r.Text(0);
    const int64_t lacking = r.Int(1) - custody_audits[res];
    if (lacking > 0) {
      missing_other += lacking;
      findings.push_back(fmt::format("{} custody event(s) of {} without specimen.custody record",
                                     lacking, res));
    }
  }
  for (const auto& r : q("SELECT id FROM analysis_orders").rows) {
    expect("analysis_order.write", "analysis_order/" + r.Text(0));
  }
  for (const auto& r : q("SELECT id FROM findings").rows) {
    expect("finding.write", "finding/" + r.Text(0));
  }
  for (const auto& r : q("SELECT finding_id, COUNT(*) FROM finding_events WHERE seq > 1 "
                         "GROUP BY finding_id")
                           .rows) {
    const std::string res = "finding/" + r.Text(0);
    const int64_t lacking = r.Int(1) - finding_transitions[res];
    if (lacking > 0) {
      missing_other += lacking;
      findings.push_back(
          fmt::format("{} event(s) of {} without finding.transition record", lacking, res));
    }
  }
  for (const auto& r : q("SELECT id, participant_id FROM consent_records").rows) {
    if (!consent_ids.count(json(r.Text(0)).dump())) {
      ++missing_other;
      findings.push_back(fmt::format("no consent.write record for consent {}", r.Text(0)));
    }
  }
  // A record written alone has its own clinical.write record; the rows of a CSV import share
  // the import's record (resource clinical/<category>, the rows' changed_at, their count).
  std::map<std::string, int64_t> unmatched_import_rows;
  for (const auto& r : q("SELECT participant_id, category, version, changed_at "
                         "FROM clinical_records")
                           .rows) {
    const std::string key = fmt::format("participant/{}/{}/{}", r.Text(0), r.Text(1), r.Int(2));
    if (!clinical_versions.count(key)) {
      ++unmatched_import_rows[fmt::format("{}/{}", r.Text(1), r.Text(3))];
    }
  }
  for (const auto& [key, rows] : unmatched_import_rows) {
    const auto it = imported_rows.find(key);
    const int64_t lacking = rows - (it == imported_rows.end() ? 0 : it->second);
    if (lacking > 0) {
      missing_other += lacking;
      findings.push_back(
          fmt::format("{} clinical record(s) {} without clinical.write record", lacking, key));
    }
  }
  // Stored objects nothing refers to.
  int64_t unreferenced = 0;
  for (const auto& r : q("SELECT b.id FROM blobs b WHERE NOT EXISTS (SELECT 1 FROM data_files f "
                         "WHERE f.blob_id = b.id OR f.index_blob_id = b.id)")
                          .rows) {
    ++unreferenced;
    findings.push_back("unreferenced blob " + r.Text(0));
  }
  std::set<std::string> known_copies;
  for (const auto& r : q("SELECT root, path FROM blob_copies").rows) {
    known_copies.insert(r.Text(0) + ":" + r.Text(1));
  }
  // Files on disk: plaintext (anything under staging or the blob roots that is not Crypt4GH)
  // and object files without metadata.
  int64_t plaintext = 0, orphans = 0;
  std::error_code ec;
  if (fs::is_directory(data / "staging")) {
    for (fs::recursive_directory_iterator it(data / "staging", ec), end; !ec && it != end;
         it.increment(ec)) {
      if (it->is_regular_file() && it->file_size(ec) > 0 && !StartsWith(it->path(), "crypt4gh")) {
        ++plaintext;
        findings.push_back("plaintext in staging: " + it->path().lexically_relative(data).string());
      }
    }
  }
  for (const auto& root : rt.blobs->options().roots) {
    if (!fs::is_directory(root.path)) continue;
    for (fs::recursive_directory_iterator it(root.path, ec), end; !ec && it != end;
         it.increment(ec)) {
      if (!it->is_regular_file()) continue;
      const std::string rel = it->path().lexically_relative(root.path).generic_string();
      if (it->file_size(ec) > 0 && !StartsWith(it->path(), "crypt4gh")) {
        ++plaintext;
        findings.push_back("plaintext under " + root.name + ": " + rel);
      }
      if (it->path().filename().string().starts_with(".blob_")) {
        ++orphans;
        findings.push_back("temporary file of an interrupted write: " + root.name + ":" + rel);
      }
      if (it->path().filename().string().starts_with("blob_") &&
          !known_copies.count(root.name + ":" + rel)) {
        ++orphans;
        findings.push_back("object file without metadata: " + root.name + ":" + rel);
      }
    }
  }
  // Modes (issue 13 item 8): nothing in the data directory readable by group or others.
  int64_t loose = 0;
  auto check_mode = [&](const fs::path& p) {
    std::error_code mec;
    const auto perms = fs::symlink_status(p, mec).permissions();
    if (!mec && (perms & (fs::perms::group_all | fs::perms::others_all)) != fs::perms::none) {
      ++loose;
      findings.push_back("readable by others: " + p.lexically_relative(data).string());
    }
  };
  check_mode(data);
  for (fs::recursive_directory_iterator it(data, ec), end; !ec && it != end; it.increment(ec)) {
    check_mode(it->path());
  }
  std::string integrity = "n/a";
  if (rt.store->backend() == storage::Backend::kSqlite) {
    const auto rows = q("PRAGMA integrity_check");
    integrity = rows.empty() ? "no answer" : rows.rows.front().Text(0);
  }
  int64_t uploads_open = q("SELECT COUNT(*) FROM uploads WHERE status = 'open'").rows.front().Int(0);
  // What the checks covered: the committed changes of each kind so far.
  const auto count = [&](std::string_view sql) { return q(sql).rows.front().Int(0); };
  std::cout << fmt::format(
      "covered uploads={} chunks_audited={} files={} specimens={} custody_steps={} "
      "analysis_orders={} findings={} finding_steps={} consent_records={} clinical_records={} "
      "clinical_imports={}\n",
      count("SELECT COUNT(*) FROM uploads"),
      count("SELECT COUNT(*) FROM audit_log WHERE action = 'upload.chunk'"),
      count("SELECT COUNT(*) FROM data_files"), count("SELECT COUNT(*) FROM specimens"),
      count("SELECT COUNT(*) FROM custody_events WHERE seq > 1"),
      count("SELECT COUNT(*) FROM analysis_orders"), count("SELECT COUNT(*) FROM findings"),
      count("SELECT COUNT(*) FROM finding_events WHERE seq > 1"),
      count("SELECT COUNT(*) FROM consent_records"),
      count("SELECT COUNT(*) FROM clinical_records"),
      count("SELECT COUNT(*) FROM audit_log WHERE action = 'clinical.write' AND "
            "resource LIKE 'clinical/%'"));
  for (const auto& f : findings) std::cout << "finding: " << f << "\n";
  std::cout << "stuck_runs=" << stuck << "\n"
            << "missing_audit=" << missing << "\n"
            << "missing_audit_other=" << missing_other << "\n"
            << "plaintext_files=" << plaintext << "\n"
            << "unreferenced_blobs=" << unreferenced + orphans << "\n"
            << "loose_modes=" << loose << "\n"
            << "open_uploads=" << uploads_open << "\n"
            << "db_integrity=" << integrity << "\n";
  return 0;
}

}  // namespace
}  // namespace zengen::app

int main(int argc, char** argv) {
  const std::string usage = "usage: kill9_driver setup|recover|check DATA | work DATA SEED\n";
  if (argc < 3) {
    std::cerr << usage;
    return 2;
  }
  const std::string cmd = argv[1];
  const std::filesystem::path data = argv[2];
  if (cmd == "setup") return zengen::app::Setup(data);
  if (cmd == "check") return zengen::app::Check(data);
  if (cmd == "recover") return zengen::app::Recover(data);
  if (cmd == "work" && argc == 4) return zengen::app::Work(data, std::stoull(argv[3]));
  std::cerr << usage;
  return 2;
}
