#include "analysis/analysis.h"

#include <algorithm>
#include <chrono>
#include <set>
#include <cctype>
#include <fstream>
#include <future>
#include <list>
#include <regex>

#include <fmt/format.h>

#include "analysis/registry.h"
#include "audit/audit.h"
#include "crypto/crypto.h"
#include "crypto/ids.h"
#include "specimens/analysis_orders.h"

namespace zengen::analysis {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using storage::Int;
using storage::Text;

constexpr std::string_view kRunColumns =
    "SELECT id, specimen_id, participant_id, hospital, centre_id, pipeline, pipeline_version, "
    "reference_name, reference_sha256, executor, state, attempt, steps_done, steps_total, "
    "inputs, outputs, error, node, created_by, created_at, started_at, ended_at, "
    "normal_specimen_id FROM analysis_runs ";

// Columns a transition may set besides the state (Move's `set`).
constexpr std::string_view kSettable[] = {"attempt",  "steps_done", "outputs",   "error",
                                          "node",     "log",        "provenance", "started_at",
                                          "ended_at", "cancel_requested", "custody_pending"};

std::string NewId() { return crypto::NewId("AR-"); }

std::vector<std::string> StringList(const std::string& text) {
  std::vector<std::string> out;
  const json j = json::parse(text, nullptr, false);
  if (j.is_array()) {
    for (const auto& v : j) {
      if (v.is_string()) out.push_back(v.get<std::string>());
    }
  }
  return out;
}

Run RunFromRow(const storage::Row& r) {
  Run run;
  run.id = r.Text(0);
  run.specimen_id = r.Text(1);
  run.participant_id = r.Text(2);
  run.hospital = r.Text(3);
  run.centre = r.Text(4);
  run.pipeline = r.Text(5);
  run.pipeline_version = r.Text(6);
  run.reference = r.Text(7);
  run.reference_sha256 = r.Text(8);
  run.executor = r.Text(9);
  run.state = r.Text(10);
  run.attempt = static_cast<int>(r.Int(11));
  run.steps_done = static_cast<int>(r.Int(12));
  run.steps_total = static_cast<int>(r.Int(13));
  run.inputs = StringList(r.Text(14));
  run.outputs = StringList(r.Text(15));
  run.error = json::parse(r.Text(16), nullptr, false);
  if (run.error.is_discarded()) run.error = nullptr;
  run.node = r.Text(17);
  run.created_by = r.Text(18);
  run.created_at = r.Text(19);
  run.started_at = r.Text(20);
  run.ended_at = r.Text(21);
  run.normal_specimen_id = r.Text(22);
  return run;
}

// Seconds since `t0`, rounded to milliseconds (the provenance's per-phase timings).
double SecondsSince(std::chrono::steady_clock::time_point t0) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - t0)
                      .count();
  return static_cast<double>(ms) / 1000.0;
}

void AppendTail(std::string& log, std::string_view line) {
  log.append(line).append("\n");
  if (log.size() > kMaxLogBytes) log.erase(0, log.size() - kMaxLogBytes);
}

bool ValidReferenceName(std::string_view s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
  });
}

const Pipeline* FindPipeline(std::string_view name, std::string_view version) {
  for (const auto& p : KnownPipelines()) {
    if (p.name == name && p.version == version) return &p;
  }
  return nullptr;
}

std::string FirstLineWith(const std::string& text, std::string_view prefix) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(prefix, 0) == 0) return line;
  }
  return "";
}

json ToolVersions() {
  json v = json::object();
  auto first = [](const std::vector<std::string>& argv, std::string_view prefix) {
    auto r = RunCommand(argv);
    if (!r.ok()) return std::string("unknown");
    std::string line = FirstLineWith(r->out, prefix);
    return line.empty() ? std::string("unknown") : line;
  };
  v["fastp"] = first({"fastp", "--version"}, "fastp");
  v["bwa"] = first({"bwa"}, "Version:");
  v["samtools"] = first({"samtools", "--version"}, "samtools");
  v["bcftools"] = first({"bcftools", "--version"}, "bcftools");
  return v;
}

}  // namespace

// CRAM outputs of steps that have ended, sanitised in the background while later steps run
// (registry.h, Presanitised): the call step reads the CRAM on one core for most of its time, so
// the registry's re-encoding of the CRAM takes the other instead of following the engine.
// Scan() runs on the engine's log thread whenever a step may have ended; Find() waits for the
// result whose input has a given SHA-256. The destructor waits for every background job, so
// none outlives the scratch directory.
class EarlyOutputs {
 public:
  EarlyOutputs(Registry& registry, fs::path scratch, std::string pseudonym, fs::path reference)
      : registry_(registry), scratch_(std::move(scratch)), pseudonym_(std::move(pseudonym)),
        reference_(std::move(reference)) {}
  EarlyOutputs(const EarlyOutputs&) = delete;
  EarlyOutputs& operator=(const EarlyOutputs&) = delete;
  ~EarlyOutputs() {
    for (auto& j : jobs_) {
      if (j.result.valid()) j.result.wait();
    }
  }

  // Starts a sanitisation for each finished CRAM (one with its .crai beside it) under the
  // scratch directory not seen before; the engine's inputs and final outputs are skipped.
  void Scan() {
    std::error_code ec;
    fs::recursive_directory_iterator it(scratch_, ec), end;
    for (; !ec && it != end; it.increment(ec)) {
      const fs::path& p = it->path();
      if (it.depth() == 0 && (p.filename() == "in" || p.filename() == "out" ||
                              p.filename() == "early")) {
        it.disable_recursion_pending();
        continue;
      }
      std::error_code fe;
      if (p.extension() != ".cram" || !it->is_regular_file(fe) ||
          !fs::exists(p.string() + ".crai", fe)) {
        continue;
      }
      const auto size = fs::file_size(p, fe);
      if (fe) continue;
      const std::string key = fmt::format("{}:{}", p.filename().string(), size);
      if (!seen_.insert(key).second) continue;
      const fs::path dir = scratch_ / "early" / std::to_string(jobs_.size());
      jobs_.push_back({std::async(std::launch::async, [this, p, dir] {
                         return registry_.Presanitise("cram", p, pseudonym_, reference_, dir);
                       }),
                       std::nullopt});
    }
  }

  // The earlier sanitisation of a file with this SHA-256, or null. Thread-safe (outputs are
  // registered in parallel); Scan is not, and is over before the first Find.
  const Presanitised* Find(const std::string& sha256) {
    std::lock_guard lock(find_mu_);
    for (auto& j : jobs_) {
      if (!j.got) j.got = j.result.get();
      if (j.got->ok() && (*j.got)->input_sha256 == sha256) return &**j.got;
    }
    return nullptr;
  }

 private:
  struct Job {
    std::future<Result<Presanitised>> result;
    std::optional<Result<Presanitised>> got;
  };
  Registry& registry_;
  const fs::path scratch_;
  const std::string pseudonym_;
  const fs::path reference_;
  std::set<std::string> seen_;
  std::mutex find_mu_;
  std::list<Job> jobs_;  // stable addresses: Find hands out pointers into it
};

const std::vector<RunTransition>& RunTable() {
  static const auto* table = new std::vector<RunTransition>{
      {"queued", "running", "take", "worker"},
      {"queued", "cancelled", "cancel", "requester"},
      {"running", "succeeded", "succeed", "worker"},
      {"running", "failed", "fail", "worker"},
      // A requested cancellation is applied by the worker once the engine has stopped.
      {"running", "cancelled", "cancel", "worker"},
      {"running", "failed", "interrupt", "recovery"},
      {"failed", "queued", "retry", "requester"},
  };
  return *table;
}

const RunTransition* FindRunTransition(std::string_view from, std::string_view event) {
  for (const auto& t : RunTable()) {
    if (t.from == from && t.event == event) return &t;
  }
  return nullptr;
}

const std::vector<Pipeline>& KnownPipelines() {
  static const auto* pipelines = new std::vector<Pipeline>{
      {"germline", "1.0.0", {"trim", "align", "call"}},
      // why not somatic 1.0.0: its VCF holds the normal's column beside the tumour's, two
      // samples of one participant, which the registry's sample map cannot name; 1.1.0 keeps
      // the tumour's column only (the normal's genotype is the filter, not an output).
      {"somatic",
       "1.1.0",
       {"trim_tumour", "trim_normal", "align_tumour", "align_normal", "call"},
       /*pair=*/true},
  };
  return *pipelines;
}

Runs::Runs(storage::Store& store, const Clock& clock, AuditSink& audit,
           specimens::Specimens& specimens, access::Gate& gate, Registry& registry,
           std::unique_ptr<Executor> executor, Options options)
    : store_(store), clock_(clock), audit_(audit), specimens_(specimens), gate_(gate),
      registry_(registry), executor_(std::move(executor)), options_(std::move(options)) {
  for (const auto& d : {options_.references_dir, options_.scratch_dir}) {
    fs::create_directories(d);
    fs::permissions(d, fs::perms::owner_all, fs::perm_options::replace);
  }
}

fs::path FindPipelines(const fs::path& configured, const fs::path& binary) {
  if (!configured.empty()) return configured;
  std::error_code ec;
  const fs::path dir = binary.parent_path();
  for (const fs::path& candidate : {dir / ".." / "pipelines", dir / "pipelines"}) {
    if (fs::is_directory(candidate / "germline", ec)) return fs::weakly_canonical(candidate, ec);
  }
  return {};
}

const json& Runs::ToolVersionsOnce() {
  std::call_once(tool_versions_once_, [this] { tool_versions_ = ToolVersions(); });
  return tool_versions_;
}

void Runs::AutoStart() {
  if (options_.auto_start_reference.empty()) return;
  std::unique_lock once(auto_mu_, std::try_to_lock);  // one worker looks at a time
  if (!once.owns_lock()) return;
  auto tx = store_.Begin(storage::TxMode::kRead);
  if (!tx.ok()) return;
  // The specimens ordered for analysis that passed QC (asked of specimens), less those that
  // ever had a run (ours).
  auto candidates = specimens::AnalysisCandidates(**tx, policy::kEveryOrganisation);
  auto ran = (*tx)->Query("SELECT DISTINCT specimen_id FROM analysis_runs");
  tx->reset();
  if (!candidates.ok() || !ran.ok()) return;
  std::set<std::string> had_run;
  for (const auto& r : ran->rows) had_run.insert(r.Text(0));
  std::vector<std::string> ids;
  for (const auto& c : *candidates) {
    if (c.state == "qc_passed" && !had_run.count(c.specimen_id)) ids.push_back(c.specimen_id);
  }
  std::sort(ids.begin(), ids.end());
  const Actor system{"system", "", {}, "system", ""};
  for (const auto& id : ids) {
    // Once per specimen and process: a refusal (withdrawn, no FASTQ pair) is audited by Start
    // and would otherwise be repeated every second.
    if (!auto_tried_.insert(id).second) continue;
    auto run = Start({id, "germline", "1.0.0", options_.auto_start_reference}, system);
    (void)run;
  }
}

Runs::~Runs() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    for (auto& [id, flag] : cancels_) flag->store(true);
  }
  cv_.notify_all();
  for (auto& t : workers_) t.join();
}

fs::path Runs::Scratch(const Run& r) const {
  return options_.scratch_dir / fmt::format("{}-{}", r.id, r.attempt);
}

Actor Runs::CentreActor(const Actor& requester, std::string_view centre) {
  // why: a run acts for the centre that analyses the specimen, whoever started it (an analyst
  // there or the data centre's steward); the records keep the requester's name.
  return {requester.user, std::string(centre), {"analyst"}, requester.source,
          requester.request_id};
}

Status Runs::AuditIn(storage::Transaction& tx, const Actor& actor, std::string action,
                     std::string resource, std::string decision, std::string reason,
                     const json& details) {
  audit::Record r;
  r.actor = actor.user;
  r.source = actor.source;
  r.action = std::move(action);
  r.resource = std::move(resource);
  r.decision = std::move(decision);
  r.reason = std::move(reason);
  r.request_id = actor.request_id;
  r.details = details.dump(-1, ' ', false, json::error_handler_t::replace);
  return audit::AppendInTransaction(store_, tx, clock_, r);
}

Status Runs::AuditNow(const Actor& actor, std::string action, std::string resource,
                      std::string decision, std::string reason, const json& details) {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kWrite));
  ZG_RETURN_IF_ERROR(AuditIn(*tx, actor, std::move(action), std::move(resource),
                             std::move(decision), std::move(reason), details));
  return tx->Commit();
}

Result<Run> Runs::Load(storage::Transaction& tx, std::string_view id) {
  ZG_ASSIGN_OR_RETURN(auto rows,
                      tx.Query(std::string(kRunColumns) + "WHERE id = $1", {Text(std::string(id))}));
  if (rows.empty()) return NotFound("run_not_found", fmt::format("no analysis run {}", id));
  return RunFromRow(rows.rows[0]);
}

Result<std::vector<Step>> Runs::LoadSteps(storage::Transaction& tx, const Run& r) {
  ZG_ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT name, state, started_at, ended_at, log FROM "
                                          "analysis_run_steps WHERE run_id = $1 AND attempt = $2",
                                          {Text(r.id), Int(r.attempt)}));
  std::vector<Step> steps;
  const Pipeline* p = FindPipeline(r.pipeline, r.pipeline_version);
  for (const auto& row : rows.rows) {
    steps.push_back({row.Text(0), row.Text(1), row.Text(2), row.Text(3), row.Text(4)});
  }
  if (p != nullptr) {  // in the pipeline's order
    auto rank = [p](const Step& s) {
      return std::find(p->steps.begin(), p->steps.end(), s.name) - p->steps.begin();
    };
    std::sort(steps.begin(), steps.end(),
              [&](const Step& a, const Step& b) { return rank(a) < rank(b); });
  }
  return steps;
}

Result<ReferenceGenome> Runs::LoadReference(storage::Transaction& tx, std::string_view name) {
  ZG_ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT name, sha256, files, path, registered_by, "
                                          "registered_at FROM reference_genomes WHERE name = $1",
                                          {Text(std::string(name))}));
  if (rows.empty()) {
    return InvalidArgument("unknown_reference", fmt::format("no reference genome '{}'", name),
                           "reference");
  }
  const auto& r = rows.rows[0];
  ReferenceGenome g;
  g.name = r.Text(0);
  g.sha256 = r.Text(1);
  g.files = json::parse(r.Text(2), nullptr, false);
  g.fasta = r.Text(3);
  g.registered_by = r.Text(4);
  g.registered_at = r.Text(5);
  return g;
}

Status Runs::Move(const Run& r, std::string_view event, const Actor& actor, const json& set,
                  std::string_view reason) {
  const RunTransition* t = FindRunTransition(r.state, event);
  if (t == nullptr) {
    return Conflict("invalid_transition",
                    fmt::format("a run that is {} cannot be {}", r.state,
                                event == "retry" ? "retried" : std::string(event) + "ed"));
  }
  std::string sql = "UPDATE analysis_runs SET state = $1";
  std::vector<storage::Value> params = {Text(std::string(t->to))};
  for (const auto& [column, value] : set.items()) {
    if (std::find(std::begin(kSettable), std::end(kSettable), column) == std::end(kSettable)) {
      return Internal("bad_column", column);
    }
    sql += fmt::format(", {} = ${}", column, params.size() + 1);
    if (value.is_number_integer()) {
      params.push_back(Int(value.get<int64_t>()));
    } else if (value.is_string()) {
      params.push_back(Text(value.get<std::string>()));
    } else {
      params.push_back(Text(value.dump()));
    }
  }
  sql += fmt::format(" WHERE id = ${} AND state = ${}", params.size() + 1, params.size() + 2);
  params.push_back(Text(r.id));
  params.push_back(Text(r.state));
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kWrite));
  ZG_ASSIGN_OR_RETURN(int64_t changed, tx->Exec(sql, params));
  if (changed != 1) return Conflict("concurrent_change", "the run changed meanwhile");
  json details = {{"from", r.state}, {"to", t->to}, {"event", event}, {"attempt", r.attempt}};
  if (set.contains("error")) details["error"] = set["error"];
  if (set.contains("attempt")) details["attempt"] = set["attempt"];
  ZG_RETURN_IF_ERROR(AuditIn(*tx, actor, "analysis.run.state", "analysis_run/" + r.id, "",
                             std::string(reason), details));
  return tx->Commit();
}

Result<ReferenceGenome> Runs::RegisterReference(std::string_view name, const fs::path& fasta,
                                                const Actor& actor) {
  if (!ValidReferenceName(name)) {
    return InvalidArgument("invalid_name", "the name must be 1-64 of [A-Za-z0-9._-]", "name");
  }
  if (!(actor.source == "cli" || actor.source == "system" || actor.HasRole("data_steward"))) {
    return PermissionDenied("not_data_steward", "only a data steward registers references");
  }
  {
    ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
    if (LoadReference(*tx, name).ok()) {
      return Conflict("reference_exists", fmt::format("reference '{}' exists", name), "name");
    }
  }
  std::ifstream in(fasta);
  std::string first;
  if (!in || !std::getline(in, first) || first.empty() || first[0] != '>') {
    return InvalidArgument("invalid_fasta", "the file is not a FASTA file", "fasta");
  }
  const fs::path dir = options_.references_dir / std::string(name);
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir);
  const fs::path ref = dir / "ref.fa";
  fs::copy_file(fasta, ref, ec);
  if (ec) return Internal("copy_failed", "cannot copy the FASTA");
  auto faidx = RunCommand({"samtools", "faidx", ref.string()});
  auto index = RunCommand({"bwa", "index", ref.string()});
  if (!faidx.ok() || faidx->exit_code != 0 || !index.ok() || index->exit_code != 0) {
    fs::remove_all(dir, ec);
    return InvalidArgument("invalid_fasta", "samtools faidx or bwa index refused the FASTA",
                           "fasta");
  }
  ReferenceGenome g;
  g.name = std::string(name);
  g.fasta = ref;
  g.files = json::object();
  for (const char* suffix : {"", ".fai", ".amb", ".ann", ".bwt", ".pac", ".sa"}) {
    ZG_ASSIGN_OR_RETURN(std::string sha, FileSha256(ref.string() + suffix));
    g.files[std::string("ref.fa") + suffix] = sha;
  }
  g.sha256 = g.files["ref.fa"];
  g.registered_by = actor.user;
  g.registered_at = FormatRfc3339(clock_.Now());
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kWrite));
  ZG_RETURN_IF_ERROR(tx->Exec("INSERT INTO reference_genomes (name, sha256, files, path, "
                              "registered_by, registered_at) VALUES ($1, $2, $3, $4, $5, $6)",
                              {Text(g.name), Text(g.sha256), Text(g.files.dump()),
                               Text(ref.string()), Text(g.registered_by), Text(g.registered_at)})
                         .status());
  ZG_RETURN_IF_ERROR(AuditIn(*tx, actor, "analysis.reference.register", "reference/" + g.name, "",
                             "reference genome registered", {{"sha256", g.sha256}, {"files", g.files}}));
  ZG_RETURN_IF_ERROR(tx->Commit());
  return g;
}

Result<std::vector<ReferenceGenome>> Runs::ListReferences() {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
  ZG_ASSIGN_OR_RETURN(auto rows, tx->Query("SELECT name FROM reference_genomes ORDER BY name"));
  std::vector<ReferenceGenome> out;
  for (const auto& r : rows.rows) {
    ZG_ASSIGN_OR_RETURN(auto g, LoadReference(*tx, r.Text(0)));
    out.push_back(std::move(g));
  }
  return out;
}

Result<std::vector<std::string>> Runs::Admit(const specimens::Specimen& sp,
                                             std::string_view centre, const Actor& actor,
                                             std::string_view action, std::string_view field) {
  auto found = registry_.QcPassedPair(sp.participant_id, sp.id);
  if (!found.ok()) {
    Error e = found.error();
    if (!e.field.empty()) e.field = std::string(field);
    return e;
  }
  auto& pair = *found;
  // The gate's facts for the centre reading the FASTQ: live consent above all.
  policy::Subject subject;
  subject.authenticated = true;
  subject.id = actor.user;
  subject.organisation = std::string(centre);
  subject.roles = {"analyst"};
  subject.mfa = true;
  for (const auto& f : pair) {
    ZG_ASSIGN_OR_RETURN(auto target, gate_.FileTarget(subject, "file.decrypt", f));
    if (target.resource.withdrawn) {
      ZG_RETURN_IF_ERROR(AuditNow(actor, std::string(action), "specimen/" + sp.id, "deny",
                                  "participant_withdrawn", {{"file", f.id}}));
      return Conflict("participant_withdrawn",
                      "the participant withdrew consent: the specimen is not analysed",
                      std::string(field));
    }
  }
  std::vector<std::string> ids;
  for (const auto& f : pair) ids.push_back(f.id);
  return ids;
}

Result<Run> Runs::Start(const NewRun& n, const Actor& actor) {
  if (n.specimen_id.empty()) {
    return InvalidArgument("missing_field", "'specimen_id' is required", "specimen_id");
  }
  if (n.reference.empty()) {
    return InvalidArgument("missing_field", "'reference' is required", "reference");
  }
  const Pipeline* pipeline = FindPipeline(n.pipeline, n.version);
  if (pipeline == nullptr || !fs::exists(options_.pipelines_dir / n.pipeline / n.version /
                                         (n.pipeline + ".cwl"))) {
    return InvalidArgument("unknown_pipeline",
                           fmt::format("no pipeline {} {}", n.pipeline, n.version), "pipeline");
  }
  if (pipeline->pair && n.normal_specimen_id.empty()) {
    return InvalidArgument("missing_field",
                           "'normal_specimen_id' is required by a tumour/normal pipeline",
                           "normal_specimen_id");
  }
  if (!pipeline->pair && !n.normal_specimen_id.empty()) {
    return InvalidArgument("unexpected_field",
                           fmt::format("pipeline {} analyses one specimen", pipeline->name),
                           "normal_specimen_id");
  }
  if (pipeline->pair && n.normal_specimen_id == n.specimen_id) {
    return InvalidArgument("pair_same_specimen",
                           "the tumour and the normal must be two different specimens",
                           "normal_specimen_id");
  }
  ReferenceGenome ref;
  {
    ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
    ZG_ASSIGN_OR_RETURN(ref, LoadReference(*tx, n.reference));
  }
  ZG_ASSIGN_OR_RETURN(auto detail, specimens_.Get(n.specimen_id));
  const specimens::Specimen& sp = detail.specimen;
  std::optional<specimens::Specimen> normal;
  if (pipeline->pair) {
    auto nd = specimens_.Get(n.normal_specimen_id);
    if (!nd.ok()) {
      Error e = nd.error();
      e.field = "normal_specimen_id";
      return e;
    }
    normal = nd->specimen;
    if (normal->participant_id != sp.participant_id) {
      return InvalidArgument("pair_participant_mismatch",
                             "the normal specimen belongs to another participant than the tumour",
                             "normal_specimen_id");
    }
    if (sp.tumour_normal != "tumour") {
      return InvalidArgument("pair_not_tumour_normal",
                             fmt::format("specimen {} is not a tumour specimen", sp.id),
                             "specimen_id");
    }
    if (normal->tumour_normal != "normal") {
      return InvalidArgument("pair_not_tumour_normal",
                             fmt::format("specimen {} is not a normal specimen", normal->id),
                             "normal_specimen_id");
    }
  }

  // Which centre: the analyst's own; for the data centre's steward, the one the specimen is
  // ordered to (or held by, once analysed).
  std::string ordered;
  if (sp.state == "qc_passed") {
    ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
    ZG_ASSIGN_OR_RETURN(auto order, specimens::OpenOrder(*tx, sp.id));
    ordered = order.centre;
  } else if (sp.state == "analysed") {
    ordered = sp.holder;
  } else {
    return Conflict("invalid_specimen_state",
                    fmt::format("the specimen is {}: a run needs qc_passed or analysed", sp.state),
                    "specimen_id");
  }
  std::string centre;
  if (actor.HasRole("analyst")) {
    centre = actor.organisation;
  } else if (actor.HasRole("data_steward") || actor.source == "cli" || actor.source == "system") {
    centre = ordered;
  }
  if (centre.empty() || centre != ordered) {
    ZG_RETURN_IF_ERROR(AuditNow(actor, "analysis_run.write", "specimen/" + sp.id, "deny",
                                "not_ordered_centre", {{"centre", centre}}));
    return PermissionDenied("not_ordered_centre",
                            "only the analysis centre ordered to analyse the specimen (or the "
                            "data centre for it) may start a run");
  }
  if (normal) {
    // The normal must be ordered to (or held by) the same centre as the tumour.
    std::string normal_centre;
    if (normal->state == "qc_passed") {
      ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
      ZG_ASSIGN_OR_RETURN(auto order, specimens::OpenOrder(*tx, normal->id));
      normal_centre = order.centre;
    } else if (normal->state == "analysed") {
      normal_centre = normal->holder;
    } else {
      return Conflict("invalid_specimen_state",
                      fmt::format("the normal specimen is {}: a run needs qc_passed or analysed",
                                  normal->state),
                      "normal_specimen_id");
    }
    if (normal_centre != centre) {
      ZG_RETURN_IF_ERROR(AuditNow(actor, "analysis_run.write", "specimen/" + normal->id, "deny",
                                  "specimen_not_ordered", {{"centre", centre}}));
      return InvalidArgument("specimen_not_ordered",
                             fmt::format("centre {} has no analysis order for specimen {}",
                                         centre, normal->id),
                             "normal_specimen_id");
    }
  }
  {
    const std::string other = normal ? normal->id : sp.id;
    ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
    ZG_ASSIGN_OR_RETURN(auto rows, tx->Query("SELECT id FROM analysis_runs WHERE state IN "
                                             "('queued', 'running') AND (specimen_id IN ($1, $2) "
                                             "OR normal_specimen_id IN ($1, $2))",
                                             {Text(sp.id), Text(other)}));
    if (!rows.empty()) {
      return Conflict("run_active", fmt::format("run {} of the specimen is not finished",
                                                rows.rows[0].Text(0)), "specimen_id");
    }
  }
  ZG_ASSIGN_OR_RETURN(auto inputs, Admit(sp, centre, actor, "analysis_run.write"));
  if (normal) {
    ZG_ASSIGN_OR_RETURN(auto normal_inputs, Admit(*normal, centre, actor, "analysis_run.write",
                                                  "normal_specimen_id"));
    inputs.insert(inputs.end(), normal_inputs.begin(), normal_inputs.end());
  }

  Run run;
  run.id = NewId();
  const bool custody_pending = sp.state == "qc_passed" || (normal && normal->state == "qc_passed");
  run.specimen_id = sp.id;
  if (normal) run.normal_specimen_id = normal->id;
  run.participant_id = sp.participant_id;
  run.hospital = sp.hospital;
  run.centre = centre;
  run.pipeline = pipeline->name;
  run.pipeline_version = pipeline->version;
  run.reference = ref.name;
  run.reference_sha256 = ref.sha256;
  run.executor = executor_->name();
  run.state = "queued";
  run.steps_total = static_cast<int>(pipeline->steps.size());
  run.inputs = inputs;
  run.error = nullptr;
  run.created_by = actor.user;
  run.created_at = FormatRfc3339(clock_.Now());
  {
    ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kWrite));
    auto ins = tx->Exec(
        "INSERT INTO analysis_runs (id, specimen_id, participant_id, hospital, centre_id, "
        "pipeline, pipeline_version, reference_name, reference_sha256, executor, state, attempt, "
        "steps_done, steps_total, inputs, outputs, error, node, log, provenance, "
        "cancel_requested, created_by, created_at, started_at, ended_at, normal_specimen_id, "
        "custody_pending) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'queued', 1, 0, $11, $12, '[]', "
        "'null', '', '', '', 0, $13, $14, '', '', $15, $16)",
        {Text(run.id), Text(run.specimen_id), Text(run.participant_id), Text(run.hospital),
         Text(run.centre), Text(run.pipeline), Text(run.pipeline_version), Text(run.reference),
         Text(run.reference_sha256), Text(run.executor), Int(run.steps_total),
         Text(json(run.inputs).dump()), Text(run.created_by), Text(run.created_at),
         Text(run.normal_specimen_id), Int(custody_pending ? 1 : 0)});
    if (!ins.ok()) {
      if (ins.error().code == "unique_violation") {
        return Conflict("run_active", "a run of the specimen is not finished", "specimen_id");
      }
      return ins.error();
    }
    ZG_RETURN_IF_ERROR(AuditIn(*tx, actor, "analysis_run.write", "analysis_run/" + run.id,
                               "allow", "run queued",
                               {{"specimen", sp.id}, {"normal_specimen", run.normal_specimen_id},
                                {"centre", centre},
                                {"pipeline", run.pipeline + "/" + run.pipeline_version},
                                {"reference", run.reference}, {"executor", run.executor},
                                {"inputs", run.inputs}}));
    ZG_RETURN_IF_ERROR(tx->Commit());
  }
  // The run is recorded (it claims the specimens: a second start is run_active); only then do
  // the specimens move, each in its own custody step. A worker takes the run once both moved.
  if (custody_pending) ZG_RETURN_IF_ERROR(ApplyCustody(run, actor));
  cv_.notify_all();
  return run;
}

Status Runs::ApplyCustody(Run& run, const Actor& requester) {
  const Actor as = CentreActor(requester, run.centre);
  std::vector<std::string> ids;
  if (!run.normal_specimen_id.empty()) ids.push_back(run.normal_specimen_id);
  ids.push_back(run.specimen_id);
  Status moved = Status::Ok();
  for (size_t i = 0; i < ids.size() && moved.ok(); ++i) {
    if (i > 0 && crash_point_ && crash_point_("between_custody_moves")) {
      return Internal("injected_crash", "crash point between_custody_moves");
    }
    auto d = specimens_.Get(ids[i]);
    if (!d.ok()) {
      moved = d.error();
      break;
    }
    // Already moved for this run (a step applied before a crash) or by the centre itself.
    if (d->specimen.state == "analysed" && d->specimen.holder == run.centre) continue;
    auto step = specimens_.Custody(ids[i], {"analysed", "analysis run " + run.id, ""}, as);
    if (!step.ok()) moved = step.error();
  }
  if (!moved.ok()) {
    // A refusal (the order was closed meanwhile, another centre moved it): the run never
    // starts. A specimen moved before the refusal stays with the centre (the custody table has
    // no way back); the cancelled run and its record name both.
    Error e = moved.error();
    const Status st =
        Move(run, "cancel", as,
             {{"error", {{"code", e.code}, {"message", e.message}}},
              {"custody_pending", 0},
              {"ended_at", FormatRfc3339(clock_.Now())}},
             "custody refused: " + e.code);
    if (!st.ok()) return st.error();
    if (e.field.empty()) e.field = "specimen_id";
    return e;
  }
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kWrite));
  ZG_RETURN_IF_ERROR(tx->Exec("UPDATE analysis_runs SET custody_pending = 0 WHERE id = $1",
                              {Text(run.id)}).status());
  ZG_RETURN_IF_ERROR(AuditIn(*tx, as, "analysis.run.custody", "analysis_run/" + run.id, "",
                             "specimens in the centre's custody",
                             {{"specimens", ids}}));
  return tx->Commit();
}

Result<Run> Runs::Get(std::string_view id) {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
  ZG_ASSIGN_OR_RETURN(Run r, Load(*tx, id));
  ZG_ASSIGN_OR_RETURN(r.steps, LoadSteps(*tx, r));
  return r;
}

Result<std::vector<Run>> Runs::List(std::string_view centre) {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
  storage::Rows rows;
  if (centre == policy::kEveryOrganisation) {
    ZG_ASSIGN_OR_RETURN(rows, tx->Query(std::string(kRunColumns) +
                                        "ORDER BY created_at DESC, id DESC"));
  } else {
    ZG_ASSIGN_OR_RETURN(rows, tx->Query(std::string(kRunColumns) +
                                            "WHERE centre_id = $1 ORDER BY created_at DESC, id DESC",
                                        {Text(std::string(centre))}));
  }
  std::vector<Run> out;
  for (const auto& r : rows.rows) out.push_back(RunFromRow(r));
  return out;
}

Result<std::vector<Runs::Candidate>> Runs::Candidates(std::string_view centre) {
  // why: read-only listing for the start form; Start re-checks everything it shows.
  // The specimens ordered to or held by the centre (asked of specimens), less those an active
  // run of ours holds.
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
  ZG_ASSIGN_OR_RETURN(auto candidates, specimens::AnalysisCandidates(*tx, centre));
  ZG_ASSIGN_OR_RETURN(auto active,
                      tx->Query("SELECT specimen_id, normal_specimen_id FROM analysis_runs "
                                "WHERE state IN ('queued', 'running')"));
  std::set<std::string> busy;
  for (const auto& r : active.rows) {
    busy.insert(r.Text(0));
    busy.insert(r.Text(1));
  }
  std::vector<Candidate> out;
  for (auto& c : candidates) {
    if (busy.count(c.specimen_id)) continue;
    out.push_back({std::move(c.specimen_id), std::move(c.participant_id),
                   std::move(c.tumour_normal), std::move(c.state), std::move(c.centre)});
  }
  return out;
}

Result<Run> Runs::Cancel(std::string_view id, const Actor& actor) {
  ZG_ASSIGN_OR_RETURN(Run r, Get(id));
  if (r.state == "queued") {
    Status st = Move(r, "cancel", actor, {{"ended_at", FormatRfc3339(clock_.Now())}},
                     "cancelled before it started");
    if (st.ok()) return Get(id);
    // A worker took it meanwhile: cancel it as a running run.
    if (st.error().code != "concurrent_change") return st.error();
    ZG_ASSIGN_OR_RETURN(r, Get(id));
  }
  if (r.state != "running") {
    return Conflict("invalid_transition", fmt::format("a run that is {} cannot be cancelled",
                                                      r.state));
  }
  {
    ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kWrite));
    ZG_RETURN_IF_ERROR(tx->Exec("UPDATE analysis_runs SET cancel_requested = 1 WHERE id = $1",
                                {Text(r.id)}).status());
    ZG_RETURN_IF_ERROR(AuditIn(*tx, actor, "analysis.run.cancel", "analysis_run/" + r.id, "",
                               "cancellation requested", {{"attempt", r.attempt}}));
    ZG_RETURN_IF_ERROR(tx->Commit());
  }
  {
    std::lock_guard lock(mu_);
    if (auto it = cancels_.find(r.id); it != cancels_.end()) it->second->store(true);
  }
  return r;
}

Result<Run> Runs::Retry(std::string_view id, const Actor& actor) {
  ZG_ASSIGN_OR_RETURN(Run r, Get(id));
  if (FindRunTransition(r.state, "retry") == nullptr) {
    return Conflict("invalid_transition", fmt::format("a run that is {} cannot be retried",
                                                      r.state));
  }
  ZG_ASSIGN_OR_RETURN(auto detail, specimens_.Get(r.specimen_id));
  if (detail.specimen.state != "analysed" || detail.specimen.holder != r.centre) {
    return Conflict("invalid_specimen_state", "the centre no longer holds the specimen",
                    "specimen_id");
  }
  ZG_ASSIGN_OR_RETURN(auto inputs, Admit(detail.specimen, r.centre, actor, "analysis_run.write"));
  (void)inputs;
  if (!r.normal_specimen_id.empty()) {
    ZG_ASSIGN_OR_RETURN(auto nd, specimens_.Get(r.normal_specimen_id));
    if (nd.specimen.state != "analysed" || nd.specimen.holder != r.centre) {
      return Conflict("invalid_specimen_state", "the centre no longer holds the normal specimen",
                      "normal_specimen_id");
    }
    ZG_ASSIGN_OR_RETURN(auto more, Admit(nd.specimen, r.centre, actor, "analysis_run.write",
                                         "normal_specimen_id"));
    (void)more;
  }
  ZG_RETURN_IF_ERROR(Move(r, "retry", actor,
                          {{"attempt", r.attempt + 1},
                           {"steps_done", 0},
                           {"error", nullptr},
                           {"outputs", json::array()},
                           {"log", ""},
                           {"node", ""},
                           {"cancel_requested", 0},
                           {"started_at", ""},
                           {"ended_at", ""}},
                          "retried"));
  cv_.notify_all();
  return Get(id);
}

Result<std::string> Runs::Log(std::string_view id) {
  {
    std::lock_guard lock(mu_);
    if (auto it = logs_.find(std::string(id)); it != logs_.end()) return it->second;
  }
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
  ZG_ASSIGN_OR_RETURN(auto rows, tx->Query("SELECT log FROM analysis_runs WHERE id = $1",
                                           {Text(std::string(id))}));
  if (rows.empty()) return NotFound("run_not_found", fmt::format("no analysis run {}", id));
  return rows.rows[0].Text(0);
}

Result<json> Runs::Provenance(std::string_view id) {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
  ZG_ASSIGN_OR_RETURN(auto rows, tx->Query("SELECT provenance FROM analysis_runs WHERE id = $1",
                                           {Text(std::string(id))}));
  if (rows.empty()) return NotFound("run_not_found", fmt::format("no analysis run {}", id));
  if (rows.rows[0].Text(0).empty()) {
    return NotFound("provenance_not_found", "the run has no provenance until it succeeds");
  }
  return json::parse(rows.rows[0].Text(0));
}

Result<Run> Runs::RunOfOutput(std::string_view file_id) {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
  ZG_ASSIGN_OR_RETURN(auto rows, tx->Query("SELECT run_id FROM analysis_run_outputs WHERE "
                                           "file_id = $1", {Text(std::string(file_id))}));
  if (rows.empty()) return NotFound("run_not_found", "no analysis run produced this file");
  return Load(*tx, rows.rows[0].Text(0));
}

Result<std::string> ReferenceOfOutput(storage::Store& store, std::string_view file_id) {
  ZG_ASSIGN_OR_RETURN(auto tx, store.Begin(storage::TxMode::kRead));
  ZG_ASSIGN_OR_RETURN(auto rows, tx->Query("SELECT r.reference_name FROM analysis_run_outputs o "
                                           "JOIN analysis_runs r ON r.id = o.run_id WHERE "
                                           "o.file_id = $1",
                                           {Text(std::string(file_id))}));
  return rows.empty() ? std::string() : rows.rows[0].Text(0);
}

Result<std::optional<fs::path>> RegisteredReferenceFasta(storage::Store& store,
                                                         std::string_view name) {
  ZG_ASSIGN_OR_RETURN(auto tx, store.Begin(storage::TxMode::kRead));
  ZG_ASSIGN_OR_RETURN(auto rows, tx->Query("SELECT path FROM reference_genomes WHERE name = $1",
                                           {Text(std::string(name))}));
  if (rows.empty()) return std::optional<fs::path>();
  return std::optional<fs::path>(fs::path(rows.rows[0].Text(0)));
}

Result<policy::Resource> Runs::RunResource(std::string_view id) {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
  ZG_ASSIGN_OR_RETURN(Run r, Load(*tx, id));
  return policy::Resource{"analysis_run", r.id, r.hospital, r.centre};
}

Status Runs::Recover() {
  ZG_ASSIGN_OR_RETURN(auto running, [&]() -> Result<std::vector<Run>> {
    ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
    ZG_ASSIGN_OR_RETURN(auto rows,
                        tx->Query(std::string(kRunColumns) + "WHERE state = 'running'"));
    std::vector<Run> out;
    for (const auto& r : rows.rows) out.push_back(RunFromRow(r));
    return out;
  }());
  const Actor system{"system", "", {}, "system", ""};
  for (const auto& r : running) {
    // What the scheduler still runs for it (a Toil step's job, the run's allocation) is
    // cancelled: its scratch goes below, so it could not be adopted.
    executor_->Abandon(r.id);
    ZG_RETURN_IF_ERROR(Move(r, "interrupt", system,
                            {{"error", {{"code", "interrupted"},
                                        {"message", "the server stopped while the run was running"}}},
                             {"ended_at", FormatRfc3339(clock_.Now())}},
                            "interrupted by a restart"));
  }
  // Runs recorded whose custody moves a crash interrupted: the moves are applied now (or the
  // run is cancelled when one is refused), so that no specimen stays moved without its run
  // going ahead, nor a run waits for ever.
  ZG_ASSIGN_OR_RETURN(auto pending, [&]() -> Result<std::vector<Run>> {
    ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
    ZG_ASSIGN_OR_RETURN(auto rows, tx->Query(std::string(kRunColumns) +
                                             "WHERE state = 'queued' AND custody_pending = 1"));
    std::vector<Run> out;
    for (const auto& r : rows.rows) out.push_back(RunFromRow(r));
    return out;
  }());
  for (auto& r : pending) {
    const Actor requester{r.created_by, r.centre, {"analyst"}, "system", ""};
    const Status st = ApplyCustody(r, requester);
    if (!st.ok() && st.error().kind == ErrorKind::kInternal) return st;
  }
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(options_.scratch_dir, ec)) {
    if (e.path().filename().string().rfind("AR-", 0) == 0) fs::remove_all(e.path(), ec);
  }
  return Status::Ok();
}

void Runs::StartWorkers() {
  std::lock_guard lock(mu_);
  for (int i = 0; i < std::max(1, options_.workers); ++i) {
    workers_.emplace_back([this] { Worker(); });
  }
}

bool Runs::WaitIdleForTest(std::chrono::seconds deadline) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < end) {
    auto tx = store_.Begin(storage::TxMode::kRead);
    if (tx.ok()) {
      auto rows = (*tx)->Query("SELECT COUNT(*) FROM analysis_runs WHERE state IN "
                               "('queued', 'running')");
      if (rows.ok() && rows->rows[0].Int(0) == 0) return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

void Runs::Worker() {
  const Actor worker{"system", "", {}, "system", ""};
  for (;;) {
    {
      std::unique_lock lock(mu_);
      if (stopping_) return;
      cv_.wait_for(lock, std::chrono::seconds(1));
      if (stopping_) return;
    }
    AutoStart();
    // Take the oldest queued run; another worker taking it first gives concurrent_change.
    for (;;) {
      Run run;
      {
        auto tx = store_.Begin(storage::TxMode::kRead);
        if (!tx.ok()) break;
        auto rows = (*tx)->Query(std::string(kRunColumns) +
                                 "WHERE state = 'queued' AND custody_pending = 0 "
                                 "ORDER BY created_at, id LIMIT 1");
        if (!rows.ok() || rows->empty()) break;
        run = RunFromRow(rows->rows[0]);
      }
      const std::string now = FormatRfc3339(clock_.Now());
      if (!Move(run, "take", worker, {{"started_at", now}}, "taken by a worker").ok()) continue;
      run.state = "running";
      run.started_at = now;
      Execute(run);
      std::lock_guard lock(mu_);
      if (stopping_) return;
    }
  }
}

void Runs::OnLine(const Run& run, std::string_view line, const Actor& as) {
  {
    std::lock_guard lock(mu_);
    AppendTail(logs_[run.id], line);
  }
  // cwltool: "INFO [step NAME] start" / "[step NAME] completed success|permanentFail";
  // "[job NAME] …" lines belong to that step's log.
  static const std::regex kStep(R"(\[step ([A-Za-z0-9_]+)\] (start|completed (\w+)))");
  static const std::regex kJob(R"(\[(?:job|step) ([A-Za-z0-9_]+)(?:_\d+)?\])");
  const std::string text(line);
  std::smatch m;
  const std::string now = FormatRfc3339(clock_.Now());
  if (std::regex_search(text, m, kJob)) {
    auto tx = store_.Begin(storage::TxMode::kWrite);
    if (tx.ok()) {
      auto cur = (*tx)->Query("SELECT log FROM analysis_run_steps WHERE run_id = $1 AND "
                              "attempt = $2 AND name = $3",
                              {Text(run.id), Int(run.attempt), Text(m[1].str())});
      if (cur.ok() && !cur->empty()) {
        std::string log = cur->rows[0].Text(0);
        AppendTail(log, line);
        (void)(*tx)->Exec("UPDATE analysis_run_steps SET log = $1 WHERE run_id = $2 AND "
                          "attempt = $3 AND name = $4",
                          {Text(log), Text(run.id), Int(run.attempt), Text(m[1].str())});
        (void)(*tx)->Commit();
      }
    }
  }
  // toil: "Issued job 'CWLJob' <workflow>.cwl.<step>.<tool>.cwl" starts a step and ends the
  // one before it (steps run in sequence); "Finished toil run successfully" ends the last.
  static const std::regex kToilIssued(R"(Issued job 'CWLJob' [^ ]*?\.cwl\.([A-Za-z0-9_]+)\.)");
  std::string step;
  bool start = false;
  bool success = false;
  std::string event;
  if (std::regex_search(text, m, kStep)) {
    step = m[1].str();
    start = m[2].str() == "start";
    success = !start && m[3].str() == "success";
    event = m[2].str();
  } else if (std::regex_search(text, m, kToilIssued) ||
             text.find("Finished toil run successfully") != std::string::npos) {
    const std::string next = m.empty() ? "" : m[1].str();
    std::string running;
    {
      auto tx = store_.Begin(storage::TxMode::kRead);
      if (!tx.ok()) return;
      auto rows = (*tx)->Query("SELECT name FROM analysis_run_steps WHERE run_id = $1 AND "
                               "attempt = $2 AND state = 'running'",
                               {Text(run.id), Int(run.attempt)});
      if (rows.ok() && !rows->empty()) running = rows->rows[0].Text(0);
    }
    if (!running.empty() && running != next) {
      OnLine(run, fmt::format("[step {}] completed success", running), as);
    }
    if (!next.empty() && next != running) OnLine(run, fmt::format("[step {}] start", next), as);
    return;
  } else {
    return;
  }
  auto tx = store_.Begin(storage::TxMode::kWrite);
  if (!tx.ok()) return;
  auto& t = **tx;
  if (start) {
    (void)t.Exec("UPDATE analysis_run_steps SET state = 'running', started_at = $1 WHERE "
                 "run_id = $2 AND attempt = $3 AND name = $4",
                 {Text(now), Text(run.id), Int(run.attempt), Text(step)});
  } else {
    (void)t.Exec("UPDATE analysis_run_steps SET state = $1, ended_at = $2 WHERE run_id = $3 AND "
                 "attempt = $4 AND name = $5",
                 {Text(success ? "succeeded" : "failed"), Text(now), Text(run.id),
                  Int(run.attempt), Text(step)});
    if (success) {
      (void)t.Exec("UPDATE analysis_runs SET steps_done = steps_done + 1 WHERE id = $1",
                   {Text(run.id)});
    }
  }
  (void)AuditIn(t, as, "analysis.step", "analysis_run/" + run.id, "",
                start ? "step started" : (success ? "step succeeded" : "step failed"),
                {{"step", step}, {"attempt", run.attempt}, {"event", event}});
  (void)t.Commit();
}

Result<json> Runs::RunEngine(const Run& run, const fs::path& scratch, const Actor& as,
                             std::string& node, std::string& job_id, json& phases,
                             EarlyOutputs* early) {
  auto t = std::chrono::steady_clock::now();
  const Pipeline* pipeline = FindPipeline(run.pipeline, run.pipeline_version);
  if (pipeline == nullptr) return Internal("unknown_pipeline", run.pipeline);
  std::shared_ptr<std::atomic<bool>> cancel;
  {
    std::lock_guard lock(mu_);
    cancel = cancels_[run.id] = std::make_shared<std::atomic<bool>>(false);
    logs_[run.id].clear();
  }
  {
    ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kWrite));
    ZG_ASSIGN_OR_RETURN(auto rows, tx->Query("SELECT cancel_requested FROM analysis_runs WHERE "
                                             "id = $1", {Text(run.id)}));
    if (!rows.empty() && rows.rows[0].Int(0) != 0) cancel->store(true);
    for (const auto& s : pipeline->steps) {
      ZG_RETURN_IF_ERROR(tx->Exec("INSERT INTO analysis_run_steps (run_id, attempt, name, state, "
                                  "started_at, ended_at, log) VALUES ($1, $2, $3, 'pending', '', "
                                  "'', '')",
                                  {Text(run.id), Int(run.attempt), Text(s)})
                             .status());
    }
    ZG_RETURN_IF_ERROR(tx->Commit());
  }
  if (cancel->load()) return Conflict("cancelled", "the run was cancelled");
  phases["prepare"] = SecondsSince(t);
  t = std::chrono::steady_clock::now();

  // Inputs: decrypted only here, after the gate says the participant's consent still holds.
  ZG_ASSIGN_OR_RETURN(auto sp, specimens_.Get(run.specimen_id));
  ZG_RETURN_IF_ERROR(Admit(sp.specimen, run.centre, as, "analysis.run.inputs").status());
  if (!run.normal_specimen_id.empty()) {
    ZG_ASSIGN_OR_RETURN(auto nd, specimens_.Get(run.normal_specimen_id));
    ZG_RETURN_IF_ERROR(Admit(nd.specimen, run.centre, as, "analysis.run.inputs").status());
  }
  fs::create_directories(scratch / "in");
  fs::create_directories(scratch / "out");
  fs::create_directories(scratch / "tmp");
  json job = json::object();
  // The inputs are decrypted in parallel, each on its own thread (read, decrypt, hash, write).
  std::vector<std::future<Status>> decrypting;
  for (size_t i = 0; i < run.inputs.size(); ++i) {
    ZG_ASSIGN_OR_RETURN(auto f, registry_.File(run.inputs[i]));
    const bool gz = f.file_name.size() > 3 && f.file_name.ends_with(".gz");
    // A pair pipeline's inputs: tumour read 1, 2, then normal read 1, 2.
    const std::string key =
        pipeline->pair ? fmt::format("{}_reads_{}", i < 2 ? "tumour" : "normal", i % 2 + 1)
                       : fmt::format("reads_{}", i + 1);
    const fs::path dest = scratch / "in" / fmt::format("{}.fastq{}", key, gz ? ".gz" : "");
    decrypting.push_back(std::async(std::launch::async, [this, f, dest] {
      return registry_.Decrypt(f, dest);
    }));
    job[key] = {{"class", "File"}, {"path", dest.string()}};
  }
  Status decrypted = Status::Ok();
  for (auto& d : decrypting) {
    Status st = d.get();
    if (decrypted.ok() && !st.ok()) decrypted = std::move(st);
  }
  ZG_RETURN_IF_ERROR(decrypted);
  ReferenceGenome ref;
  {
    ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
    ZG_ASSIGN_OR_RETURN(ref, LoadReference(*tx, run.reference));
  }
  job["reference"] = {{"class", "File"}, {"path", ref.fasta.string()}};
  if (pipeline->pair) {
    job["tumour_sample"] = run.specimen_id;
    job["normal_sample"] = run.normal_specimen_id;
  } else {
    job["sample"] = run.specimen_id;
  }
  job["threads"] = std::max(1, options_.threads);
  const fs::path job_path = scratch / "job.json";
  {
    std::ofstream out(job_path);
    out << job.dump(2);
  }
  phases["decrypt_inputs"] = SecondsSince(t);
  t = std::chrono::steady_clock::now();
  Job j{run.id,
        options_.pipelines_dir / run.pipeline / run.pipeline_version / (run.pipeline + ".cwl"),
        job_path, scratch, std::max(1, options_.threads)};
  ZG_ASSIGN_OR_RETURN(auto result,
                      executor_->Run(j,
                                     [&](std::string_view line) {
                                       OnLine(run, line, as);
                                       // cwltool's end of a step; toil's start of the next.
                                       if (early != nullptr &&
                                           (line.find("completed success") != line.npos ||
                                            line.find("Issued job") != line.npos)) {
                                         early->Scan();
                                       }
                                     },
                                     *cancel));
  phases["engine"] = SecondsSince(t);
  node = result.node;
  job_id = result.job_id;
  if (result.cancelled) return Conflict("cancelled", "the run was cancelled");
  if (result.exit_code != 0) {
    return Internal("engine_failed",
                    fmt::format("{} exited with status {}; see the run's log",
                                executor_->EngineVersion(), result.exit_code));
  }
  return result.outputs;
}

json Runs::BuildProvenance(const Run& run, const ReferenceGenome& ref, const json& inputs,
                           const json& outputs, const std::string& node,
                           const std::string& job_id, const std::string& started,
                           const std::string& ended, const json& phases) {
  const std::string run_node = "#run-" + run.id;
  json graph = json::array();
  json parts = json::array();
  for (const auto& o : outputs) parts.push_back({{"@id", o["@id"]}});
  graph.push_back({{"@id", "ro-crate-metadata.json"},
                   {"@type", "CreativeWork"},
                   {"conformsTo", {{"@id", "https://w3id.org/ro/crate/1.1"}}},
                   {"about", {{"@id", "./"}}}});
  graph.push_back({{"@id", "./"},
                   {"@type", "Dataset"},
                   {"name", "Zengen analysis run " + run.id},
                   {"datePublished", ended},
                   {"hasPart", parts},
                   {"mentions", {{"@id", run_node}}}});
  json objects = json::array();
  for (const auto& i : inputs) objects.push_back({{"@id", i["@id"]}});
  objects.push_back({{"@id", "#reference"}});
  objects.push_back({{"@id", "#parameters"}});
  json results = json::array();
  for (const auto& o : outputs) results.push_back({{"@id", o["@id"]}});
  json tools = json::array();
  for (const auto& [name, version] : ToolVersionsOnce().items()) {
    tools.push_back({{"@id", "#tool-" + name}});
    graph.push_back({{"@id", "#tool-" + name},
                     {"@type", "SoftwareApplication"},
                     {"name", name},
                     {"softwareVersion", version}});
  }
  graph.push_back({{"@id", run_node},
                   {"@type", json::array({"CreateAction", "prov:Activity"})},
                   {"name", fmt::format("{} {} on {}", run.pipeline, run.pipeline_version,
                                        run.specimen_id)},
                   {"instrument", {{"@id", "#pipeline"}}},
                   {"agent", {{"@id", "#engine"}}},
                   {"object", objects},
                   {"result", results},
                   {"startTime", started},
                   {"endTime", ended},
                   {"prov:startedAtTime", started},
                   {"prov:endedAtTime", ended},
                   {"prov:wasAssociatedWith", {{"@id", "#engine"}}},
                   {"zengen:attempt", run.attempt},
                   {"zengen:executor", run.executor},
                   {"zengen:executorMode", executor_->mode()},
                   {"zengen:slurmJob", job_id},
                   {"zengen:node", node},
                   {"zengen:centre", run.centre},
                   {"zengen:requestedBy", run.created_by},
                   // Seconds of each phase of Zengen's own work around the engine (and the
                   // engine's), for the orchestration overhead (docs/performance.md).
                   {"zengen:phases", phases}});
  const fs::path cwl =
      options_.pipelines_dir / run.pipeline / run.pipeline_version / (run.pipeline + ".cwl");
  auto cwl_sha = FileSha256(cwl);
  graph.push_back({{"@id", "#pipeline"},
                   {"@type", json::array({"File", "SoftwareSourceCode", "ComputationalWorkflow"})},
                   {"name", run.pipeline},
                   {"version", run.pipeline_version},
                   {"programmingLanguage", {{"@id", "https://w3id.org/workflowhub/workflow-ro-crate#cwl"}}},
                   {"sha256", cwl_sha.ok() ? *cwl_sha : ""},
                   {"hasPart", tools}});
  graph.push_back({{"@id", "#engine"},
                   {"@type", json::array({"SoftwareApplication", "prov:SoftwareAgent"})},
                   {"name", executor_->EngineVersion()}});
  graph.push_back({{"@id", "#reference"},
                   {"@type", "File"},
                   {"name", ref.name},
                   {"sha256", ref.sha256},
                   {"zengen:indexes", ref.files}});
  graph.push_back({{"@id", "#parameters"},
                   {"@type", "PropertyValue"},
                   {"name", "parameters"},
                   {"value", json{{"threads", std::max(1, options_.threads)},
                                  {"sample", run.specimen_id},
                                  {"reference", ref.name}}
                                 .dump()}});
  for (const auto& i : inputs) graph.push_back(i);
  for (const auto& o : outputs) graph.push_back(o);
  return {{"@context",
           json::array({"https://w3id.org/ro/crate/1.1/context",
                        {{"prov", "http://www.w3.org/ns/prov#"},
                         {"zengen", "https://zengen.example/ns#"}}})},
          {"@graph", graph}};
}

void Runs::Execute(Run run) {
  const Actor as{run.created_by, run.centre, {"analyst"}, "system", ""};
  const fs::path scratch = Scratch(run);
  std::error_code ec;
  fs::remove_all(scratch, ec);
  fs::create_directories(scratch, ec);
  fs::permissions(scratch, fs::perms::owner_all, fs::perm_options::replace, ec);

  std::string node;
  std::string job_id;  // per_run: the run's Slurm job
  json outputs = json::array();
  json provenance;
  json phases = json::object();
  auto outcome = [&]() -> Status {
    ReferenceGenome ref;
    {
      ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
      ZG_ASSIGN_OR_RETURN(ref, LoadReference(*tx, run.reference));
    }
    // Waits for its background jobs when the run's outcome is known, before the scratch
    // directory goes.
    EarlyOutputs early(registry_, scratch, run.participant_id, ref.fasta);
    ZG_ASSIGN_OR_RETURN(json out, RunEngine(run, scratch, as, node, job_id, phases, &early));
    const auto registration = std::chrono::steady_clock::now();
    {
      std::lock_guard lock(mu_);
      if (cancels_[run.id]->load()) return Conflict("cancelled", "the run was cancelled");
      // From here the run finishes: registration is not interrupted by a cancel.
      cancels_.erase(run.id);
    }
    json input_nodes = json::array();
    for (const auto& id : run.inputs) {
      ZG_ASSIGN_OR_RETURN(auto f, registry_.File(id));
      input_nodes.push_back({{"@id", "zengen:file/" + f.id},
                             {"@type", "File"},
                             {"name", f.file_name},
                             {"encodingFormat", f.kind},
                             {"sha256", f.sha256}});
    }
    json output_nodes = json::array();
    // What each engine output is: kind, the specimen it belongs to, the FASTQ it derives from.
    struct OutputSpec {
      std::string key, kind, specimen;
      std::vector<std::string> from;
    };
    std::vector<OutputSpec> specs;
    if (run.normal_specimen_id.empty()) {
      specs = {{"cram", "cram", run.specimen_id, run.inputs},
               {"vcf", "vcf", run.specimen_id, run.inputs}};
    } else {
      if (run.inputs.size() != 4) return Internal("bad_inputs", "a pair run has four FASTQ");
      const std::vector<std::string> tumour(run.inputs.begin(), run.inputs.begin() + 2);
      const std::vector<std::string> normal(run.inputs.begin() + 2, run.inputs.end());
      specs = {{"tumour_cram", "cram", run.specimen_id, tumour},
               {"normal_cram", "cram", run.normal_specimen_id, normal},
               {"vcf", "vcf", run.specimen_id, run.inputs}};
    }
    // The outputs are hashed and registered in parallel, each on its own thread; their records
    // (analysis_run_outputs, analysis.output) follow in the pipeline's order. Every output
    // registered is recorded, even when another failed (then the run fails with that error).
    struct Registered {
      genomefiles::DataFile file;
      std::string raw_sha;
      json phases = json::object();
    };
    std::vector<std::future<Result<Registered>>> registering;
    for (const auto& spec : specs) {
      const std::string& key = spec.key;
      if (!out.contains(key) || !out[key].is_object()) {
        return Internal("output_missing", fmt::format("the engine gave no '{}' output", key));
      }
      const fs::path path = OutputFilePath(out[key]);
      registering.push_back(std::async(std::launch::async, [&, spec, path]() -> Result<Registered> {
        Registered r;
        auto t = std::chrono::steady_clock::now();
        ZG_ASSIGN_OR_RETURN(r.raw_sha, FileSha256(path));
        r.phases["hash:" + spec.key] = SecondsSince(t);
        t = std::chrono::steady_clock::now();
        const Presanitised* pre = spec.kind == "cram" ? early.Find(r.raw_sha) : nullptr;
        r.phases["early_sanitise_wait:" + spec.key] = SecondsSince(t);
        r.phases["early_sanitised:" + spec.key] = pre != nullptr ? 1 : 0;
        t = std::chrono::steady_clock::now();
        ZG_ASSIGN_OR_RETURN(r.file, registry_.RegisterOutput(spec.kind, spec.specimen, spec.from,
                                                             path, path.filename().string(),
                                                             ref.fasta, r.raw_sha, as, pre));
        r.phases["register:" + spec.key] = SecondsSince(t);
        return r;
      }));
    }
    std::vector<Result<Registered>> registered;
    for (auto& f : registering) registered.push_back(f.get());
    Status first_error = Status::Ok();
    for (size_t i = 0; i < specs.size(); ++i) {
      const auto& spec = specs[i];
      if (!registered[i].ok()) {
        if (first_error.ok()) first_error = registered[i].error();
        continue;
      }
      const Registered& r = *registered[i];
      const genomefiles::DataFile& file = r.file;
      phases.update(r.phases);
      outputs.push_back(file.id);
      output_nodes.push_back({{"@id", "zengen:file/" + file.id},
                              {"@type", "File"},
                              {"name", file.file_name},
                              {"encodingFormat", spec.kind},
                              {"sha256", file.sha256},
                              {"zengen:engineOutputSha256", r.raw_sha},
                              {"zengen:index", file.index_kind},
                              {"prov:wasGeneratedBy", {{"@id", "#run-" + run.id}}},
                              {"prov:wasDerivedFrom", [&] {
                                 json from = json::array();
                                 for (const auto& id : spec.from) {
                                   from.push_back({{"@id", "zengen:file/" + id}});
                                 }
                                 return from;
                               }()}});
      ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kWrite));
      ZG_RETURN_IF_ERROR(tx->Exec("INSERT INTO analysis_run_outputs (file_id, run_id) VALUES "
                                  "($1, $2)", {Text(file.id), Text(run.id)}).status());
      ZG_RETURN_IF_ERROR(AuditIn(*tx, as, "analysis.output", "file/" + file.id, "",
                                 "output registered",
                                 {{"run", run.id}, {"kind", spec.kind}, {"sha256", file.sha256},
                                  {"derived_from", spec.from}}));
      ZG_RETURN_IF_ERROR(tx->Commit());
    }
    ZG_RETURN_IF_ERROR(first_error);
    phases["registration"] = SecondsSince(registration);
    provenance = BuildProvenance(run, ref, input_nodes, output_nodes, node, job_id,
                                 run.started_at, FormatRfc3339(clock_.Now()), phases);
    return Status::Ok();
  }();

  // The scratch directory goes before the run's state says it ended.
  fs::remove_all(scratch, ec);
  std::string log;
  bool stopping = false;
  {
    std::lock_guard lock(mu_);
    log = logs_[run.id];
    logs_.erase(run.id);
    cancels_.erase(run.id);
    stopping = stopping_;
  }
  const std::string ended = FormatRfc3339(clock_.Now());
  Status moved = Status::Ok();
  if (outcome.ok()) {
    moved = Move(run, "succeed", as,
                 {{"outputs", outputs}, {"node", node}, {"log", log}, {"ended_at", ended},
                  {"provenance", provenance.dump()}, {"steps_done", run.steps_total}},
                 "succeeded");
  } else if (outcome.error().code == "cancelled") {
    if (stopping) return;  // the server is stopping: Recover marks it interrupted
    moved = Move(run, "cancel", as, {{"node", node}, {"log", log}, {"ended_at", ended}},
                 "cancelled");
  } else {
    // A step the engine left running when it failed failed with it.
    if (auto tx = store_.Begin(storage::TxMode::kWrite); tx.ok()) {
      (void)(*tx)->Exec("UPDATE analysis_run_steps SET state = 'failed', ended_at = $1 WHERE "
                        "run_id = $2 AND attempt = $3 AND state = 'running'",
                        {Text(ended), Text(run.id), Int(run.attempt)});
      (void)(*tx)->Commit();
    }
    const Error& e = outcome.error();
    moved = Move(run, "fail", as,
                 {{"error", {{"code", e.code}, {"message", e.message}}},
                  {"outputs", outputs}, {"node", node}, {"log", log}, {"ended_at", ended}},
                 "failed: " + e.code);
  }
  (void)moved;
}

}  // namespace zengen::analysis
