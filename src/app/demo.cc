#include "app/demo.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "clinical/synthetic.h"
#include "crypto/crypto.h"
#include "genomefiles/catalogue.h"
#include "sequencing/synthetic.h"
#include "findings/findings.h"
#include "specimens/analysis_orders.h"
#include "sharing/document_blobs.h"

namespace zengen::app {
namespace {

const identity::Actor kSeeder{"demo", "cli", ""};

struct DemoOrg {
  const char* id;
  const char* name;
  const char* kind;
};

constexpr DemoOrg kOrgs[] = {
    {"zengen-dc", "全ゲノム解析データセンター (Zengen data center)", "data_center"},
    {"kanto-univ-hospital", "関東大学病院 (Kanto University Hospital)", "hospital"},
    {"kansai-cancer-center", "関西がんセンター (Kansai Cancer Center)", "hospital"},
    {"tohoku-childrens", "東北小児医療センター (Tohoku Children's Medical Center)", "hospital"},
    {"seq-east", "東日本シーケンスセンター (East Japan Sequencing Center)", "sequencing_facility"},
    {"analysis-center", "解析センター (Analysis Center)", "analysis_center"},
    {"genome-univ", "ゲノム大学 (Genome University)", "academic"},
    {"pharma-jp", "日本製薬 (Nihon Pharma)", "industry"},
};

constexpr const char* kHospitals[] = {"kanto-univ-hospital", "kansai-cancer-center",
                                      "tohoku-childrens"};
constexpr const char* kCancerTypes[] = {"lung", "colorectal", "breast", "gastric", "pancreatic",
                                        "sarcoma"};
constexpr const char* kRareDiseases[] = {"rd_neuromuscular", "rd_epilepsy", "rd_cardiomyopathy",
                                         "rd_skeletal_dysplasia"};

// What a cancer of each demo disease category looks like in the dictionary's codes (issue 14:
// the demo once filed lung cancers with oral-mucosa tumours): the primary site (ICD-O-3
// topography, also the tumour specimen's site), a typical morphology and the ICD-10 code.
struct CancerCodes {
  const char* topography;
  const char* morphology;
  const char* icd10;
};
const CancerCodes* CodesOf(std::string_view disease) {
  static const std::map<std::string_view, CancerCodes> kCodes = {
      {"lung", {"C34.1", "8140/3", "C34.1"}},       {"colorectal", {"C18.7", "8140/3", "C18.7"}},
      {"breast", {"C50.9", "8500/3", "C50.9"}},     {"gastric", {"C16.9", "8144/3", "C16.9"}},
      {"pancreatic", {"C25.0", "8500/3", "C25.0"}}, {"sarcoma", {"C49.9", "8800/3", "C49.9"}}};
  const auto it = kCodes.find(disease);
  return it == kCodes.end() ? nullptr : &it->second;
}

// Makes a synthetic record agree with the participant's disease: the diagnosis names the
// disease's site and morphology, a tumour specimen comes from that site and is solid tissue.
void MatchDisease(std::string_view category, std::string_view disease, nlohmann::json& data) {
  const CancerCodes* codes = CodesOf(disease);
  if (!codes || !data.is_object()) return;
  if (category == "diagnosis") {
    if (data.contains("topography")) data["topography"] = codes->topography;
    if (data.contains("morphology")) data["morphology"] = codes->morphology;
    if (data.contains("icd10")) data["icd10"] = codes->icd10;
  } else if (category == "specimen" && data.value("tumor_normal", "") == "tumor") {
    if (data.contains("site")) data["site"] = codes->topography;
    data["specimen_type"] = "solid_tissue";
    const std::string preservation = data.value("preservation", "");
    if (preservation == "EDTA" || preservation == "cfDNA_tube") data["preservation"] = "fresh_frozen";
    const std::string method = data.value("collection_method", "");
    if (method != "resection" && method != "biopsy") data["collection_method"] = "biopsy";
  }
}

std::string ClinicianOf(const std::string& hospital) {
  if (hospital == "kanto-univ-hospital") return "dr-kanto";
  if (hospital == "kansai-cancer-center") return "dr-kansai";
  return "dr-tohoku";
}

namespace syn = sequencing::synthetic;

// Sends `bytes` through the upload protocol: open, chunks (last first), complete unless
// `interrupt`, in which case the first chunk is left out and the upload stays open.
Result<std::optional<sequencing::Completion>> Upload(sequencing::Uploads& up,
                                                     sequencing::NewUpload n,
                                                     const std::string& bytes,
                                                     const specimens::Actor& actor,
                                                     bool interrupt = false) {
  n.size = static_cast<int64_t>(bytes.size());
  n.sha256 = crypto::Sha256Hex(bytes);
  n.chunk_size = sequencing::kMinChunkSize;
  ZG_ASSIGN_OR_RETURN(sequencing::Upload u, up.Create(n, actor));
  for (int64_t i = u.chunks() - 1; i >= (interrupt ? 1 : 0); --i) {
    ZG_RETURN_IF_ERROR(up.PutChunk(u.id, i,
                                   std::string_view(bytes).substr(
                                       static_cast<size_t>(i * u.chunk_size),
                                       static_cast<size_t>(u.ChunkLength(i))),
                                   actor));
  }
  if (interrupt) return std::optional<sequencing::Completion>();
  ZG_ASSIGN_OR_RETURN(sequencing::Completion c, up.Complete(u.id, actor));
  return std::optional<sequencing::Completion>(std::move(c));
}

// The demo's reference: one synthetic 200 kb contig.
syn::Reference DemoReference() { return syn::MakeReference(20261124, 200000); }

// Files behind a specimen at `stage` (4 sequenced, 5 qc_passed, 6 qc_failed, 7 analysed),
// which is at library_prepared when called. Moves custody as the real pipeline does.
Status SequenceSpecimen(Runtime& rt, const syn::Reference& ref, const std::string& specimen,
                        const std::string& pseudonym, int stage, uint64_t seed,
                        const specimens::Actor& sequencer, const specimens::Actor& analyst,
                        DemoSummary& s) {
  if (stage == 4) {  // sequencing done, FASTQ upload interrupted half-way
    ZG_RETURN_IF_ERROR(rt.specimens->Custody(specimen, {"sequenced", "", ""}, sequencer).status());
  }
  const std::string flowcell = fmt::format("HDEMO{:04}", seed % 10000);
  ZG_ASSIGN_OR_RETURN(sequencing::Run run,
                      rt.uploads->CreateRun({specimen, "NovaSeq X", flowcell,
                                             fmt::format("LIB-{:06}", seed % 1000000),
                                             "paired"},
                                            sequencer));
  ++s.runs;
  const syn::Reads reads = syn::MakeReads(ref, seed, 1200, 100, stage == 6, flowcell);
  const std::string r1 = syn::Gzip(reads.r1);
  const std::string r2 = syn::Gzip(reads.r2);
  sequencing::NewUpload n;
  n.kind = "fastq";
  n.run_id = run.id;
  n.read = 1;
  n.file_name = flowcell + "_R1.fastq.gz";
  ZG_ASSIGN_OR_RETURN(auto c1, Upload(*rt.uploads, n, r1, sequencer, stage == 4));
  if (stage == 4) {
    ++s.open_uploads;
    return Status::Ok();
  }
  ++s.fastq_files;
  n.read = 2;
  n.file_name = flowcell + "_R2.fastq.gz";
  ZG_ASSIGN_OR_RETURN(auto c2, Upload(*rt.uploads, n, r2, sequencer));
  ++s.fastq_files;
  if (stage != 7) return Status::Ok();
  ZG_RETURN_IF_ERROR(rt.specimens->Custody(specimen, {"analysed", "", ""}, analyst).status());
  // The analysis centre's outputs, named after its own sample id; registration renames it to
  // the pseudonym and drops the command line.
  const std::filesystem::path work =
      rt.config.data_dir / "staging" / ("demo-" + std::to_string(seed));
  std::filesystem::create_directories(work);
  const std::string sample = fmt::format("AC-SAMPLE-{}", seed);
  ZG_RETURN_IF_ERROR(syn::WriteCram(ref, reads, sample, work / "aligned.cram"));
  std::ifstream in(work / "aligned.cram", std::ios::binary);
  const std::string cram{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  std::filesystem::remove_all(work);
  sequencing::NewUpload a;
  a.kind = "cram";
  a.specimen_id = specimen;
  a.derived_from = {c1->file.id, c2->file.id};
  a.file_name = pseudonym + ".cram";
  ZG_ASSIGN_OR_RETURN(auto cram_done, Upload(*rt.uploads, a, cram, analyst));
  (void)cram_done;
  a.kind = "vcf";
  a.file_name = pseudonym + ".vcf.gz";
  ZG_ASSIGN_OR_RETURN(auto vcf_done,
                      Upload(*rt.uploads, a, syn::MakeVcf(ref, seed, 40, sample), analyst));
  (void)vcf_done;
  s.analysis_files += 2;
  return Status::Ok();
}

struct DemoParticipant {
  std::string id;
  std::string hospital;
};

// Findings in several states of the return-of-results machine, each on a participant whose
// live consent leads there (the machine re-checks consent, so the consent decides the path).
Result<int> SeedFindings(Runtime& rt, const std::vector<DemoParticipant>& cohort) {
  using findings::Verdict;
  const findings::Actor analyst{"analyst", "analysis-center", {"analyst"}, "cli", ""};
  const findings::Actor reviewer{"reviewer", "analysis-center", {"analyst"}, "cli", ""};
  struct Plan {
    const char* gene;
    const char* variant;
    const char* origin;
    const char* category;
    Verdict consent;  // what the participant's governing item must say
    std::vector<std::pair<const char*, const char*>> steps;  // event, via (or "")
    const char* question;  // a message thread, or nullptr
  };
  const std::vector<Plan> plans = {
      {"KRAS", "NM_004985.5:c.35G>T", "somatic", "primary", Verdict::kPermit, {}, nullptr},
      {"BRCA1", "NM_007294.4:c.68_69del", "germline", "secondary", Verdict::kPermit,
       {{"classify", ""}, {"submit_review", ""}}, nullptr},
      {"BRCA2", "NM_000059.4:c.5946del", "germline", "secondary", Verdict::kPermit,
       {{"classify", ""}, {"submit_review", ""}, {"approve", ""}},
       "ご家族の既往歴を教えてください。/ Please share the family history."},
      {"MLH1", "NM_000249.4:c.1852_1854del", "germline", "secondary", Verdict::kPermit,
       {{"classify", ""}, {"submit_review", ""}, {"approve", ""}, {"acknowledge", ""},
        {"start_contact", ""}, {"contact_attempt", ""}},
       nullptr},
      {"MYBPC3", "NM_000256.3:c.1504C>T", "germline", "secondary", Verdict::kPermit,
       {{"classify", ""}, {"submit_review", ""}, {"approve", ""}, {"acknowledge", ""},
        {"start_contact", ""}, {"reached", "participant"}},
       "カウンセリング日程を調整中です。/ Counselling is being scheduled."},
      {"EGFR", "NM_005228.5:c.2573T>G", "somatic", "primary", Verdict::kPermit,
       {{"classify", ""}, {"submit_review", ""}, {"approve", ""}, {"acknowledge", ""},
        {"start_contact", ""}, {"reached", "participant"}, {"disclose", ""}},
       nullptr},
      {"LDLR", "NM_000527.5:c.1775G>A", "germline", "secondary", Verdict::kPermit,
       {{"classify", ""}, {"submit_review", ""}, {"approve", ""}, {"acknowledge", ""},
        {"start_contact", ""}, {"reached", "participant"}, {"order_confirmatory_test", ""},
        {"test_positive", ""}, {"start_follow_up", ""}, {"close_returned", ""}},
       nullptr},
      {"TP53", "NM_000546.6:c.743G>A", "germline", "secondary", Verdict::kDeny,
       {{"classify", ""}, {"submit_review", ""}, {"approve", ""}}, nullptr},
      {"PALB2", "NM_024675.4:c.3113G>A", "germline", "secondary", Verdict::kUndecided,
       {{"classify", ""}, {"submit_review", ""}, {"approve", ""}}, nullptr},
  };
  std::vector<bool> used(cohort.size(), false);
  int filed = 0;
  for (const auto& plan : plans) {
    // The first unused participant whose consent fits the plan.
    size_t pick = cohort.size();
    for (size_t i = 0; i < cohort.size() && pick == cohort.size(); ++i) {
      if (used[i]) continue;
      {  // only the centre that analysed the participant's specimens files findings
        ZG_ASSIGN_OR_RETURN(auto tx, rt.store->Begin(storage::TxMode::kRead));
        ZG_ASSIGN_OR_RETURN(const bool analysed,
                            specimens::AnalysedBy(*tx, cohort[i].id, analyst.organisation));
        if (!analysed) continue;
      }
      ZG_ASSIGN_OR_RETURN(auto status, rt.consents->Current(cohort[i].id));
      if (status.state != consent::State::kActive) continue;
      if (findings::EvaluateConsent(plan.category, status).verdict == plan.consent) pick = i;
    }
    if (pick == cohort.size()) continue;  // a tiny cohort: fewer findings
    used[pick] = true;
    const DemoParticipant& p = cohort[pick];
    const findings::Actor clinician{ClinicianOf(p.hospital), p.hospital, {"clinician"}, "cli", ""};
    findings::NewFinding n{p.id, plan.gene, plan.variant, plan.origin, plan.category,
                           "pathogenic", "ACMG: PVS1, PM2 (demo)", ""};
    ZG_ASSIGN_OR_RETURN(auto f, rt.findings->File(n, analyst));
    ++filed;
    for (const auto& [event, via] : plan.steps) {
      const std::string e = event;
      const findings::Actor& who =
          e == "approve" ? reviewer
          : (e == "classify" || e == "submit_review") ? analyst
                                                      : clinician;
      findings::StepInput in{.event = e, .via = via};
      ZG_ASSIGN_OR_RETURN(auto d, rt.findings->Step(f.finding.id, in, who));
      (void)d;
    }
    if (plan.question != nullptr) {
      findings::NewMessage m{.type = "question", .body = plan.question};
      ZG_ASSIGN_OR_RETURN(auto msg, rt.findings->Post(f.finding.id, m, analyst));
      (void)msg;
    }
  }
  return filed;
}

// YYYY-MM-DD of today moved by `months` (negative: back), clamped to the month's end.
std::string MonthsFrom(std::chrono::system_clock::time_point now, int months) {
  const std::chrono::year_month_day today{std::chrono::floor<std::chrono::days>(now)};
  std::chrono::year_month_day d = today + std::chrono::months{months};
  if (!d.ok()) d = d.year() / d.month() / std::chrono::last;
  return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(d.year()),
                     static_cast<unsigned>(d.month()), static_cast<unsigned>(d.day()));
}

// Controlled sharing: a research group, three datasets whose releases sit in each tier, and a
// pending and an approved application on each track. The approved academic grant lets
// `researcher` read CRAM and VCF of the controlled dataset (htsget tests use it).
Result<int> SeedSharing(Runtime& rt) {
  ZG_ASSIGN_OR_RETURN(auto group, rt.identity->CreateGroup(
                                      "grp-wgs-cancer", "がん全ゲノム解析研究班 (Cancer WGS group)",
                                      kSeeder));
  (void)group;
  ZG_RETURN_IF_ERROR(rt.identity->AddGroupMember("grp-wgs-cancer", "analyst", kSeeder));
  ZG_ASSIGN_OR_RETURN(auto rare_group,
                      rt.identity->CreateGroup("grp-wgs-rare",
                                               "難病全ゲノム解析研究班 (Rare disease WGS group)",
                                               kSeeder));
  (void)rare_group;
  ZG_RETURN_IF_ERROR(rt.identity->AddGroupMember("grp-wgs-rare", "reviewer", kSeeder));
  // Participants with CRAM/VCF, per program, in the order they were registered (their local
  // record numbers), not by pseudonym: pseudonyms are random per data directory, and the split
  // of the cancer cohort into two datasets below must give every demo the same participants
  // (the same consents and clinical records) in each.
  std::vector<std::string> cancer, rare;
  {
    ZG_ASSIGN_OR_RETURN(auto tx, rt.store->Begin(storage::TxMode::kRead));
    const std::vector<std::string> kinds = {"cram", "vcf"};
    ZG_ASSIGN_OR_RETURN(auto files, genomefiles::CatalogueOfKinds(*tx, kinds));
    std::set<std::string> seen;
    std::vector<std::tuple<std::string, std::string, std::string>> found;  // local id, program, id
    for (const auto& f : files) {
      if (!seen.insert(f.participant_id).second) continue;
      ZG_ASSIGN_OR_RETURN(auto p, tx->Query("SELECT program, local_id FROM participants WHERE id = $1",
                                            {storage::Text(f.participant_id)}));
      if (p.empty()) continue;
      found.emplace_back(p.rows[0].Text(1), p.rows[0].Text(0), f.participant_id);
    }
    std::sort(found.begin(), found.end());
    for (const auto& [local, program, id] : found) (program == "cancer" ? cancer : rare).push_back(id);
  }
  const sharing::Actor steward{"steward", "zengen-dc", {"data_steward"}, "cli", ""};
  const auto now = rt.clock.Now();
  struct Plan {
    const char* name_ja;
    const char* name_en;
    const char* program;
    const char* group;
    std::vector<std::string> participants;
    int released_months_ago;
    int public_months_ago;  // 0: no public aggregates
  };
  const size_t half = cancer.size() / 2;
  const std::vector<Plan> plans = {
      {"がん全ゲノム 第1次データセット", "Cancer WGS, first dataset", "cancer", "grp-wgs-cancer",
       {cancer.begin(), cancer.begin() + static_cast<std::ptrdiff_t>(half)}, 26, 0},
      {"がん全ゲノム 先行データセット", "Cancer WGS, pilot dataset", "cancer", "grp-wgs-cancer",
       {cancer.begin() + static_cast<std::ptrdiff_t>(half), cancer.end()}, 40, 2},
      {"難病全ゲノム 第1次データセット", "Rare disease WGS, first dataset", "rare_disease",
       "grp-wgs-rare", rare, 1, 0},
  };
  std::vector<std::string> ids;
  for (const auto& p : plans) {
    ZG_ASSIGN_OR_RETURN(sharing::Dataset d,
                        rt.sharing->CreateDataset({p.name_ja, p.name_en, p.program, p.group,
                                                   "合成デモデータ (synthetic demo data)"},
                                                  steward));
    ids.push_back(d.id);
    if (p.participants.empty()) continue;
    ZG_ASSIGN_OR_RETURN(auto added,
                        rt.sharing->AddFiles(d.id, {p.participants, {}, false}, steward));
    (void)added;
    sharing::NewRelease r{MonthsFrom(now, -p.released_months_ago), std::nullopt,
                          p.public_months_ago > 0 ? MonthsFrom(now, -p.public_months_ago) : ""};
    ZG_ASSIGN_OR_RETURN(auto rel, rt.sharing->CreateRelease(d.id, r, steward));
    (void)rel;
  }
  ZG_ASSIGN_OR_RETURN(auto tick, rt.sharing->Tick(now));
  (void)tick;

  const sharing::Actor researcher{"researcher", "genome-univ", {"researcher"}, "cli", ""};
  const sharing::Actor industry{"industry-researcher", "pharma-jp", {"researcher"}, "cli", ""};
  const sharing::Actor committee{"committee", "zengen-dc", {"committee_member"}, "cli", ""};
  const sharing::Actor committee2{"committee-2", "zengen-dc", {"committee_member"}, "cli", ""};
  const std::string sha(64, 'd');
  auto application = [&](std::string title, std::string dataset) {
    sharing::NewApplication a;
    a.title = std::move(title);
    a.abstract_text = "全ゲノムデータと臨床情報を用いて、疾患に関わる遺伝的要因を調べる。";
    a.principal_investigator = "ゲノム大学 医学研究科 山田 太郎";
    a.collaborators = {"ゲノム大学 情報学研究科 佐藤 花子"};
    a.data_security_plan =
        "学内の隔離された解析サーバーのみで扱い、持ち出しはしない。アクセスは研究者本人に限る。";
    a.purpose.primary = "HMB";
    a.datasets = {std::move(dataset)};
    a.ethics = {{"file_name", "ethics-approval.pdf"}, {"sha256", sha}, {"size", 182044},
                {"approval_number", "R2026-017"}};
    a.start_date = MonthsFrom(now, -1);
    a.end_date = MonthsFrom(now, 12);
    return a;
  };
  int count = 0;
  auto submit = [&](const sharing::NewApplication& a, const sharing::Actor& who,
                    bool approve) -> Status {
    ZG_ASSIGN_OR_RETURN(auto c, rt.sharing->CreateApplication(a, who));
    // The ethics approval the committee reads (issue 14), stored encrypted like genome files.
    sharing::EncryptedDocumentBlobs documents(*rt.blobs, rt.files->keys());
    ZG_ASSIGN_OR_RETURN(auto doc,
                        rt.sharing->PutDocument(c.application.id, "ethics_approval",
                                                "ethics-approval.txt",
                                                "倫理審査結果通知書\n承認番号: R2026-017\n"
                                                "判定: 承認\n研究課題: " + a.title + "\n",
                                                documents, who));
    (void)doc;
    ZG_ASSIGN_OR_RETURN(auto s, rt.sharing->Submit(c.application.id, who));
    (void)s;
    ++count;
    ZG_ASSIGN_OR_RETURN(auto cm, rt.sharing->Comment(c.application.id,
                                                     "研究計画と倫理審査の承認を確認しました。/ "
                                                     "Protocol and ethics approval checked.",
                                                     committee));
    (void)cm;
    if (!approve) return Status::Ok();
    ZG_ASSIGN_OR_RETURN(auto v1, rt.sharing->Vote(c.application.id, "approve", "", committee));
    ZG_ASSIGN_OR_RETURN(auto v2, rt.sharing->Vote(c.application.id, "approve", "", committee2));
    (void)v1;
    (void)v2;
    return rt.sharing->DecideApplication(c.application.id, committee).status();
  };
  // Academic: approved on the controlled dataset; pending on the pilot dataset.
  ZG_RETURN_IF_ERROR(submit(application("肺がんの胚細胞系列バリアント解析", ids[0]),
                            researcher, true));
  ZG_RETURN_IF_ERROR(submit(application("大腸がんの体細胞変異シグネチャー (somatic signatures)",
                                        ids[1]),
                            researcher, false));
  // Industry: a signed agreement and a fee record; commercial purpose.
  sharing::NewApplication ia = application("創薬標的探索 (drug target discovery)", ids[0]);
  ia.purpose.commercial = true;
  ia.agreement = {{"signed_on", MonthsFrom(now, -1)}, {"sha256", sha}, {"reference", "DUA-2026-03"}};
  ia.fee = {{"invoice_no", "INV-2026-0042"}, {"amount_jpy", 1200000}, {"paid_on", MonthsFrom(now, -1)}};
  ZG_RETURN_IF_ERROR(submit(ia, industry, true));
  sharing::NewApplication ip = application("バイオマーカー探索 (biomarker discovery, FASTQ)", ids[1]);
  ip.purpose.commercial = true;
  ip.data_types = {"cram", "vcf", "fastq"};
  ip.fastq_justification = "独自の変異検出パイプラインの検証 (validating our own variant caller)";
  ip.agreement = ia.agreement;
  ip.fee = {{"invoice_no", "INV-2026-0051"}, {"amount_jpy", 1200000}, {"paid_on", MonthsFrom(now, -1)}};
  ZG_RETURN_IF_ERROR(submit(ip, industry, false));
  return count;
}

}  // namespace

const std::vector<DemoUser>& DemoUsers() {
  static const auto* users = new std::vector<DemoUser>{
      {"steward", "zengen-dc", "data_steward"},
      {"security", "zengen-dc", "security_officer"},
      {"committee", "zengen-dc", "committee_member"},
      {"committee-2", "zengen-dc", "committee_member"},  // a quorum needs two votes
      {"dr-kanto", "kanto-univ-hospital", "clinician"},
      {"dr-kansai", "kansai-cancer-center", "clinician"},
      {"dr-tohoku", "tohoku-childrens", "clinician"},
      {"sequencer", "seq-east", "sequencing_operator"},
      {"analyst", "analysis-center", "analyst"},
      {"reviewer", "analysis-center", "analyst"},  // the second pair of eyes at expert review
      {"researcher", "genome-univ", "researcher"},
      {"industry-researcher", "pharma-jp", "researcher"},
  };
  return *users;
}

Result<std::vector<std::pair<std::string, std::string>>> IssueDemoEnrolmentCodes(Runtime& rt) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& u : DemoUsers()) {
    ZG_ASSIGN_OR_RETURN(auto user, rt.identity->GetUser(u.id));
    if (user.mfa_enrolled) continue;
    ZG_ASSIGN_OR_RETURN(auto code, rt.identity->IssueEnrolmentCode(
                                       u.id, identity::Grantor::Console("demo"), kSeeder));
    out.emplace_back(u.id, code.code);
  }
  return out;
}

Result<DemoSummary> SeedDemo(Runtime& rt, int participant_count) {
  DemoSummary s;
  for (const auto& o : kOrgs) {
    ZG_ASSIGN_OR_RETURN(auto org,
                        rt.identity->CreateOrganisation({o.id, o.name, o.kind, "JP"}, kSeeder));
    (void)org;
    ++s.organisations;
  }
  for (const auto& u : DemoUsers()) {
    ZG_ASSIGN_OR_RETURN(auto user, rt.identity->CreateUser({u.id, u.organisation, u.id,
                                                            u.id + "@demo.zengen.invalid",
                                                            {u.role}, kDemoPassword},
                                                           identity::Grantor::Console("demo"),
                                                           kSeeder));
    (void)user;
    ++s.users;
  }
  {  // Standing analysis orders: specimens passing QC go to the demo's analysis centre.
    specimens::AnalysisOrders orders(*rt.store, rt.clock, *rt.audit_sink);
    const specimens::Actor steward{"demo", "zengen-dc", {"data_steward"}, "cli", ""};
    for (auto program : specimens::kPrograms) {
      ZG_RETURN_IF_ERROR(orders.SetRule(program, "analysis-center", steward).status());
    }
  }
  std::mt19937_64 rng(20261124);
  const syn::Reference reference = DemoReference();
  std::vector<DemoParticipant> cohort;
  for (int i = 0; i < participant_count; ++i) {
    const bool rare = i % 3 == 2;
    // Rare-disease patients are mostly children's hospital patients; cancer spreads over all.
    const std::string hospital = rare && i % 2 == 0 ? "tohoku-childrens" : kHospitals[i % 3];
    const std::string category = rare ? kRareDiseases[rng() % std::size(kRareDiseases)]
                                      : kCancerTypes[rng() % std::size(kCancerTypes)];
    // Index dates between 2024-01 and 2026-09, all before the demo's "today".
    const int month = 1 + static_cast<int>(rng() % 12);
    const int day = 1 + static_cast<int>(rng() % 28);
    const int year = month <= 9 ? 2024 + static_cast<int>(rng() % 3) : 2024 + static_cast<int>(rng() % 2);
    participants::NewParticipant p{hospital, fmt::format("MRN-{:06}", 100000 + i * 7),
                                   rare ? "rare_disease" : "cancer", category,
                                   fmt::format("{:04}-{:02}-{:02}", year, month, day)};
    ZG_ASSIGN_OR_RETURN(auto reg, rt.participants->Register(p, "demo", "cli", ""));
    ++s.participants;
    const std::string& pid = reg.participant.id;
    cohort.push_back({pid, hospital});
    const std::string clinician = ClinicianOf(hospital);

    // Clinical records: complete and submitted for most categories; some left as drafts
    // (incomplete) or not started, as at a real hospital.
    const clinical::Actor clin_actor{clinician, "cli", ""};
    const auto& dict = rt.clinical->dictionary();
    for (size_t c = 0; c < dict.categories.size(); ++c) {
      const std::string& cat = dict.categories[c].code;
      const uint64_t seed = static_cast<uint64_t>(i) * 16 + c;
      const auto pick = (i + static_cast<int>(c)) % 10;
      if (pick == 9) continue;  // not started
      const bool complete = pick < 7;
      auto data = clinical::SyntheticRecord(dict, cat, p.program, seed, complete, p.index_date);
      MatchDisease(cat, category, data);
      if (complete) {
        ZG_ASSIGN_OR_RETURN(auto rec, rt.clinical->Submit(pid, cat, data, "", clin_actor));
        (void)rec;
      } else {
        ZG_ASSIGN_OR_RETURN(auto rec, rt.clinical->SaveDraft(pid, cat, data, "", clin_actor));
        (void)rec;
      }
      ++s.clinical_records;
    }

    // Consent: most consent to everything mandatory and choose the optional items; a few have
    // not signed yet; some later modify or withdraw at each level.
    if (i % 25 == 24) continue;  // consent not yet recorded
    consent::ConsentInput ci;
    ci.kind = "initial";
    ci.icf_version = "1.0";
    ci.language = i % 7 == 0 ? "en" : "ja";
    ci.signed_date = p.index_date;
    ci.details = {{"signer", rare && i % 4 == 0 ? "legal_representative" : "self"},
                  {"method", i % 2 == 0 ? "electronic" : "paper"}};
    if (rare && i % 4 == 0) {
      ci.details["representative"] = {{"name", fmt::format("代諾者 {}", i)},
                                      {"relationship", "parent"}};
    }
    for (const auto& item : consent::DefaultCatalogue(p.program)) {
      std::string d = "permit";
      if (item.item_class == consent::ItemClass::kOptOut && rng() % 10 == 0) d = "deny";
      if (item.item_class == consent::ItemClass::kOptIn) {
        const auto r = rng() % 10;
        d = r < 6 ? "permit" : r < 9 ? "deny" : "undecided";
      }
      if (item.code == "C11" && d == "permit") {
        ci.details["designated_relative"] = {{"name", "家族 (family member)"},
                                             {"contact", "via hospital"}};
      }
      ci.decisions[item.code] = d;
    }
    const consent::Actor cactor{clinician, "cli", ""};
    ZG_ASSIGN_OR_RETURN(auto rec, rt.consents->Record(pid, ci, cactor));
    (void)rec;
    ++s.consents;
    if (i % 13 == 5) {  // a change of intention: no more recontact for new studies
      ci.kind = "modification";
      ci.decisions["C12"] = "deny";
      ci.details.erase("designated_relative");
      if (ci.decisions["C11"] == "permit") {
        ci.details["designated_relative"] = {{"name", "家族 (family member)"},
                                             {"contact", "via hospital"}};
      }
      ZG_ASSIGN_OR_RETURN(auto mod, rt.consents->Record(pid, ci, cactor));
      (void)mod;
      ++s.consents;
    }
    std::string withdrawn;
    if (i % 17 == 3) withdrawn = "no_contact";
    if (i % 17 == 8) withdrawn = "no_new_data";
    if (i % 17 == 12) withdrawn = "full";
    if (!withdrawn.empty()) {
      ZG_ASSIGN_OR_RETURN(auto w, rt.consents->Withdraw(pid, {withdrawn, p.index_date,
                                                              "申出による (at the participant's request)"},
                                                        cactor));
      (void)w;
      ++s.withdrawals;
    }
    if (withdrawn == "full") continue;

    // Specimens: tumour and normal for cancer, blood for rare disease, spread over every
    // custody stage.
    std::vector<specimens::NewSpecimen> specs;
    if (!rare) {
      specs.push_back({pid, "tumour", "solid_tissue", i % 4 == 0 ? "FFPE" : "fresh_frozen",
                       p.index_date, ""});
    }
    specs.push_back({pid, "normal", "blood", "EDTA", p.index_date, ""});
    const specimens::Actor at_hospital{clinician, hospital, {"clinician"}, "cli", ""};
    const specimens::Actor at_sequencer{"sequencer", "seq-east", {"sequencing_operator"}, "cli", ""};
    const specimens::Actor at_analysis{"analyst", "analysis-center", {"analyst"}, "cli", ""};
    const int stage = i % 8;  // 0 collected … 7 analysed (6 = QC failed)
    for (const auto& ns : specs) {
      ZG_ASSIGN_OR_RETURN(auto sp, rt.specimens->Register(ns, at_hospital));
      ++s.specimens;
      struct Step {
        const char* to;
        const specimens::Actor* by;
      };
      std::vector<Step> steps = {{"shipped", &at_hospital},      {"received", &at_sequencer},
                                 {"library_prepared", &at_sequencer}, {"sequenced", &at_sequencer}};
      if (stage == 6) {
        steps.push_back({"qc_failed", &at_sequencer});
      } else {
        steps.push_back({"qc_passed", &at_sequencer});
        steps.push_back({"analysed", &at_analysis});
      }
      const bool with_files = i < kParticipantsWithFiles && stage >= 4;
      size_t take = stage == 6 ? steps.size() : std::min<size_t>(stage, steps.size());
      if (with_files) take = 3;  // to library_prepared; the files move it on
      for (size_t k = 0; k < take; ++k) {
        specimens::CustodyStep step{steps[k].to, "", ""};
        if (std::string(steps[k].to) == "shipped") step.destination = "seq-east";
        ZG_ASSIGN_OR_RETURN(auto d, rt.specimens->Custody(sp.id, step, *steps[k].by));
        (void)d;
      }
      if (with_files) {
        ZG_RETURN_IF_ERROR(SequenceSpecimen(rt, reference, sp.id, pid, stage,
                                            static_cast<uint64_t>(i) * 2 + specs.size(),
                                            at_sequencer, at_analysis, s));
      }
    }
  }
  ZG_ASSIGN_OR_RETURN(s.findings, SeedFindings(rt, cohort));
  ZG_ASSIGN_OR_RETURN(s.applications, SeedSharing(rt));
  return s;
}

std::string DemoReferenceFasta() { return DemoReference().Fasta(); }

}  // namespace zengen::app
