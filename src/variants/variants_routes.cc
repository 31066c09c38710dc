#include "variants/variants_routes.h"

#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "clinical/cohort_filter.h"
#include "crypto/crypto.h"
#include "hts/genotypes.h"

namespace zengen::variants {
namespace {

namespace fs = std::filesystem;
using http::Request;
using http::Response;
using http::Wrap;
using nlohmann::json;

// The widest region one request may ask about: a whole chromosome arm is a job, not a query.
constexpr int64_t kMaxRegion = 10'000'000;
constexpr int64_t kMaxIngestBodyBytes = 4 * 1024;

std::string Param(const Request& req, const std::string& name) {
  const auto it = req.query.find(name);
  return it == req.query.end() ? std::string() : it->second;
}

struct Region {
  std::string chrom;
  int64_t start = 0;
  int64_t end = 0;
  std::string gene;
};

bool ValidContig(std::string_view c) {
  return !c.empty() && c.size() <= 64 && std::all_of(c.begin(), c.end(), [](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '.' || ch == '-';
  });
}

// A region from gene=NAME or chrom, start and end (1-based, inclusive).
Result<Region> ParseRegion(const Request& req, Cohort& cohort) {
  Region r;
  r.gene = Param(req, "gene");
  if (!r.gene.empty()) {
    if (r.gene.size() > 200) return InvalidArgument("invalid_parameter", "gene: too long", "gene");
    ZG_ASSIGN_OR_RETURN(GeneInterval g, cohort.Gene(r.gene));
    r.chrom = g.chrom;
    r.start = g.start;
    r.end = g.end;
  } else {
    r.chrom = Param(req, "chrom");
    if (r.chrom.empty()) {
      return InvalidArgument("missing_field", "chrom (with start and end) or gene is required",
                             "chrom");
    }
    if (!ValidContig(r.chrom)) return InvalidArgument("invalid_parameter", "chrom: not a contig name", "chrom");
    ZG_ASSIGN_OR_RETURN(r.start, http::IntQueryParam(req, "start", 1, 1, int64_t{1} << 40));
    ZG_ASSIGN_OR_RETURN(r.end, http::IntQueryParam(req, "end", r.start, 1, int64_t{1} << 40));
    if (r.end < r.start) {
      return InvalidArgument("invalid_parameter", "end: must not be before start", "end");
    }
  }
  if (r.end - r.start + 1 > kMaxRegion) {
    return InvalidArgument("region_too_large",
                           fmt::format("at most {} bases per query", kMaxRegion),
                           r.gene.empty() ? "end" : "gene");
  }
  return r;
}

json RegionJson(const Region& r) {
  json j{{"chrom", r.chrom}, {"start", r.start}, {"end", r.end}};
  if (!r.gene.empty()) j["gene"] = r.gene;
  return j;
}

json FilterJson(const clinical::CohortFilter& f) {
  json j = json::object();
  if (!f.diagnosis.empty()) j["diagnosis"] = f.diagnosis;
  if (!f.stage.empty()) j["stage"] = f.stage;
  if (!f.sex.empty()) j["sex"] = f.sex;
  if (!f.age_band.empty()) j["age_band"] = f.age_band;
  return j;
}

// The samples a request may count: the gate's decision per sample ∧ the clinical filters.
struct Allowed {
  Roaring bits;
  std::map<uint32_t, std::string> participant;  // bit -> pseudonym, allowed samples only
  std::map<std::string, clinical::ClinicalSummary> clinical;  // allowed participants
  int64_t considered = 0;
  std::string grant;  // the grant the answer is for ("" when none was named)
};

Result<Allowed> AllowedSamples(const Request& req, RouteDeps& d,
                               const clinical::CohortFilter& filter) {
  ZG_ASSIGN_OR_RETURN(std::vector<CohortSample> samples, d.cohort.Samples());
  Allowed a;
  a.considered = static_cast<int64_t>(samples.size());
  ZG_ASSIGN_OR_RETURN(SampleDecisions decided, d.allowed(req, samples));
  if (decided.allowed.size() != samples.size()) {
    return Internal("decider_mismatch", "the sample decider answered for other samples");
  }
  a.grant = std::move(decided.grant);
  std::vector<const CohortSample*> passed;
  std::set<std::string> participants;
  for (size_t i = 0; i < samples.size(); ++i) {
    if (!decided.allowed[i]) continue;
    passed.push_back(&samples[i]);
    participants.insert(samples[i].participant_id);
  }
  ZG_ASSIGN_OR_RETURN(auto summaries, clinical::Summaries(d.store, participants));
  for (auto& s : summaries) {
    if (clinical::Matches(s, filter)) a.clinical.emplace(s.participant_id, std::move(s));
  }
  for (const CohortSample* s : passed) {
    if (!a.clinical.contains(s->participant_id)) continue;
    a.bits.add(s->bit);
    a.participant[s->bit] = s->participant_id;
  }
  return a;
}

json GrantJson(const Allowed& a) { return a.grant.empty() ? json(nullptr) : json(a.grant); }

Status RecordQuery(RouteDeps& d, const Request& req, std::string_view what, const Region& region,
                   const clinical::CohortFilter& filter, const Allowed& a, int64_t answered) {
  return d.audit.Append({.actor = req.subject.authenticated ? req.subject.id : "anonymous",
                         .source = req.remote_address,
                         .action = "variants.query",
                         .resource = "variant_query/" + std::string(what),
                         .decision = "allow",
                         .reason = fmt::format("{} of {} samples allowed", a.bits.cardinality(),
                                               a.considered),
                         .request_id = req.request_id,
                         .details = json{{"region", RegionJson(region)},
                                         {"filters", FilterJson(filter)},
                                         {"grant", a.grant},
                                         {"samples_considered", a.considered},
                                         {"samples_allowed", a.bits.cardinality()},
                                         {"answered", answered}}
                                        .dump()});
}

std::string CsvCell(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

template <typename T>
std::string OptText(const std::optional<T>& v) {
  return v ? fmt::format("{}", *v) : "";
}

template <typename T>
json OptJson(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}

}  // namespace

Result<SampleSet> SelectSamples(Cohort& cohort,
                                const std::function<Result<bool>(const CohortSample&)>& keep) {
  ZG_ASSIGN_OR_RETURN(std::vector<CohortSample> samples, cohort.Samples());
  SampleSet out;
  out.considered = static_cast<int64_t>(samples.size());
  for (const auto& s : samples) {
    ZG_ASSIGN_OR_RETURN(bool yes, keep(s));
    if (!yes) continue;
    out.bits.add(s.bit);
    out.participant[s.bit] = s.participant_id;
  }
  return out;
}

Result<IngestReport> IngestRegisteredFile(Cohort& cohort, genomefiles::Files& files,
                                          blobs::BlobStore& blobs, const fs::path& work_dir,
                                          std::string_view file_id, const Actor& actor,
                                          const ReferenceSources& references) {
  auto file = files.GetFile(file_id);
  if (!file.ok()) {
    if (file.error().kind == ErrorKind::kNotFound) {
      return NotFound("file_not_found", fmt::format("no file '{}'", file_id));
    }
    return file.error();
  }
  if (file->kind != "vcf" && file->kind != "bcf") {
    return InvalidArgument("not_a_variant_file",
                           fmt::format("file {} is {}, not VCF or BCF", file->id, file->kind),
                           "file_id");
  }
  ZG_ASSIGN_OR_RETURN(auto samples, files.FileSamples(file->id));
  // why: htslib reads files, and the stored object is Crypt4GH ciphertext; the plaintext
  // lives only in an owner-only directory for the time of the ingest.
  const fs::path dir = work_dir / ("variants-" + crypto::ToHex(crypto::RandomBytes(8)));
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Unavailable("work_dir_unavailable", "cannot create a working directory");
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  struct Cleanup {
    fs::path dir;
    ~Cleanup() {
      std::error_code e;
      fs::remove_all(dir, e);
    }
  } cleanup{dir};
  const fs::path plain = dir / (file->kind == "bcf" ? "input.bcf" : "input.vcf.gz");
  {
    ZG_ASSIGN_OR_RETURN(auto stream,
                        genomefiles::OpenObjectStream(blobs, file->blob_id, files.keys(), ""));
    std::ofstream out(plain, std::ios::binary);
    fs::permissions(plain, fs::perms::owner_read | fs::perms::owner_write,
                    fs::perm_options::replace, ec);
    while (true) {
      ZG_ASSIGN_OR_RETURN(std::string piece, stream.next());
      if (piece.empty()) break;
      out.write(piece.data(), static_cast<std::streamsize>(piece.size()));
    }
    if (!out.good()) return Unavailable("work_dir_unavailable", "cannot write the working copy");
  }
  ZG_ASSIGN_OR_RETURN(ChosenReference chosen, ChooseReference(plain, file->id, references));
  SourceFile src{.file_id = file->id,
                 .path = plain,
                 .participants = {},
                 .reference = std::move(chosen.bases),
                 .reference_name = chosen.name,
                 .reference_source = chosen.unregistered.empty()
                                         ? chosen.source
                                         : chosen.source + " (header names unregistered " +
                                               chosen.unregistered + ")"};
  for (const auto& s : samples) src.participants[s.sample] = s.participant_id;
  if (src.participants.empty()) {
    ZG_ASSIGN_OR_RETURN(auto reader, hts::GenotypeReader::Open(plain));
    if (reader->samples().size() == 1) {
      src.participants[reader->samples()[0]] = file->participant_id;
    }
  }
  ZG_ASSIGN_OR_RETURN(IngestReport report, cohort.Ingest(src, actor));
  report.reference = src.reference_name;
  report.reference_source = src.reference_source;
  return report;
}

Status AddVariantRoutes(http::Router& router, RouteDeps deps) {
  auto d = std::make_shared<RouteDeps>(std::move(deps));

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "GET",
      .pattern = "/api/v1/variants/counts",
      .action = "variants.read",
      .resource = "variant",
      .handler = Wrap([d](Request& req) -> Result<Response> {
        ZG_ASSIGN_OR_RETURN(Region region, ParseRegion(req, d->cohort));
        ZG_ASSIGN_OR_RETURN(auto filter, clinical::ParseCohortFilter(req.query));
        ZG_ASSIGN_OR_RETURN(Allowed a, AllowedSamples(req, *d, filter));
        ZG_ASSIGN_OR_RETURN(auto chunks, d->cohort.Chunks(region.chrom, region.start, region.end));
        ZG_ASSIGN_OR_RETURN(auto ids, d->cohort.SiteIds(region.chrom, region.start, region.end));
        json sites = json::array();
        for (const SiteCount& c : Count(chunks, region.chrom, region.start, region.end, a.bits)) {
          auto id = ids.find(c.site);
          sites.push_back({{"chrom", c.site.chrom}, {"pos", c.site.pos},
                           {"id", id == ids.end() ? "." : id->second}, {"ref", c.site.ref},
                           {"alt", c.site.alt}, {"ac", c.ac}, {"an", c.an}, {"af", c.af()},
                           {"het", c.het}, {"hom", c.hom}});
        }
        ZG_RETURN_IF_ERROR(RecordQuery(*d, req, "counts", region, filter, a,
                                       static_cast<int64_t>(sites.size())));
        return Response::Json(200, {{"region", RegionJson(region)},
                                    {"filters", FilterJson(filter)},
                                    {"grant", GrantJson(a)},
                                    {"samples", a.bits.cardinality()},
                                    {"sites", std::move(sites)}});
      }),
  }));

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "GET",
      .pattern = "/api/v1/variants/carriers",
      .action = "variants.read",
      .resource = "variant",
      .handler = Wrap([d](Request& req) -> Result<Response> {
        Region region;
        region.chrom = Param(req, "chrom");
        if (!ValidContig(region.chrom)) {
          return InvalidArgument("invalid_parameter", "chrom: a contig name is required", "chrom");
        }
        ZG_ASSIGN_OR_RETURN(region.start, http::IntQueryParam(req, "pos", 0, 1, int64_t{1} << 40));
        if (region.start == 0) return InvalidArgument("missing_field", "pos is required", "pos");
        region.end = region.start;
        const std::string ref = Param(req, "ref");
        const std::string alt = Param(req, "alt");
        for (const auto& [name, allele] : {std::pair{"ref", ref}, std::pair{"alt", alt}}) {
          if (allele.empty() || allele.size() > 1000 ||
              allele.find_first_not_of("ACGTNacgtn") != std::string::npos) {
            return InvalidArgument("invalid_parameter", fmt::format("{}: bases A, C, G, T, N", name),
                                   name);
          }
        }
        ZG_ASSIGN_OR_RETURN(auto filter, clinical::ParseCohortFilter(req.query));
        ZG_ASSIGN_OR_RETURN(Allowed a, AllowedSamples(req, *d, filter));
        ZG_ASSIGN_OR_RETURN(auto chunks, d->cohort.Chunks(region.chrom, region.start, region.end));
        std::vector<uint32_t> bits(a.bits.begin(), a.bits.end());
        const Site want{region.chrom, region.start, ref, alt};
        json carriers = json::array();
        for (const auto& g : Genotypes(chunks, region.chrom, region.start, region.end, bits)) {
          if (g.site != want) continue;
          for (size_t i = 0; i < bits.size(); ++i) {
            if (g.genotypes[i] <= 0) continue;
            carriers.push_back({{"participant_id", a.participant.at(bits[i])},
                                {"genotype", g.genotypes[i] == 2 ? "hom" : "het"}});
          }
        }
        ZG_RETURN_IF_ERROR(RecordQuery(*d, req, "carriers", region, filter, a,
                                       static_cast<int64_t>(carriers.size())));
        return Response::Json(200, {{"site", {{"chrom", want.chrom}, {"pos", want.pos},
                                              {"ref", want.ref}, {"alt", want.alt}}},
                                    {"filters", FilterJson(filter)},
                                    {"grant", GrantJson(a)},
                                    {"samples", a.bits.cardinality()},
                                    {"carriers", std::move(carriers)}});
      }),
  }));

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "GET",
      .pattern = "/api/v1/variants/export",
      .action = "variants.read",
      .resource = "variant",
      .handler = Wrap([d](Request& req) -> Result<Response> {
        ZG_ASSIGN_OR_RETURN(Region region, ParseRegion(req, d->cohort));
        ZG_ASSIGN_OR_RETURN(auto filter, clinical::ParseCohortFilter(req.query));
        const std::string format = Param(req, "format").empty() ? "json" : Param(req, "format");
        if (format != "json" && format != "csv") {
          return InvalidArgument("invalid_parameter", "format: json or csv", "format");
        }
        ZG_ASSIGN_OR_RETURN(Allowed a, AllowedSamples(req, *d, filter));
        ZG_ASSIGN_OR_RETURN(auto chunks, d->cohort.Chunks(region.chrom, region.start, region.end));
        std::vector<uint32_t> bits(a.bits.begin(), a.bits.end());
        // Alternate alleles each allowed participant carries in the region (a participant
        // sequenced twice counts once per sample).
        std::map<std::string, int64_t> alt_alleles;
        for (const auto& g : Genotypes(chunks, region.chrom, region.start, region.end, bits)) {
          for (size_t i = 0; i < bits.size(); ++i) {
            if (g.genotypes[i] > 0) alt_alleles[a.participant.at(bits[i])] += g.genotypes[i];
          }
        }
        std::set<std::string> rows;
        for (const auto& [bit, p] : a.participant) rows.insert(p);
        ZG_RETURN_IF_ERROR(RecordQuery(*d, req, "export", region, filter, a,
                                       static_cast<int64_t>(rows.size())));
        if (format == "csv") {
          std::string csv =
              "participant_id,sex,age_at_enrolment,icd10,stage_group,vital_status,"
              "survival_days,death_event,progression_day,carrier,alt_alleles\n";
          for (const auto& p : rows) {
            const auto& s = a.clinical.at(p);
            const int64_t n = alt_alleles.contains(p) ? alt_alleles.at(p) : 0;
            csv += fmt::format("{},{},{},{},{},{},{},{},{},{},{}\n", CsvCell(p), CsvCell(s.sex),
                               OptText(s.age_at_enrolment), CsvCell(s.icd10),
                               CsvCell(s.stage_group), CsvCell(s.vital_status),
                               OptText(s.survival_days), s.death_event ? 1 : 0,
                               OptText(s.progression_day), n > 0 ? 1 : 0, n);
          }
          Response r = Response::Text(200, std::move(csv), "text/csv; charset=utf-8");
          r.headers["Content-Disposition"] = "attachment; filename=\"cohort.csv\"";
          return r;
        }
        json out = json::array();
        for (const auto& p : rows) {
          const auto& s = a.clinical.at(p);
          const int64_t n = alt_alleles.contains(p) ? alt_alleles.at(p) : 0;
          out.push_back({{"participant_id", p}, {"sex", s.sex},
                         {"age_at_enrolment", OptJson(s.age_at_enrolment)}, {"icd10", s.icd10},
                         {"stage_group", s.stage_group}, {"vital_status", s.vital_status},
                         {"survival_days", OptJson(s.survival_days)},
                         {"death_event", s.death_event},
                         {"progression_day", OptJson(s.progression_day)}, {"carrier", n > 0},
                         {"alt_alleles", n}});
        }
        return Response::Json(200, {{"region", RegionJson(region)},
                                    {"filters", FilterJson(filter)},
                                    {"grant", GrantJson(a)},
                                    {"participants", std::move(out)}});
      }),
  }));

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "POST",
      .pattern = "/api/v1/variants/ingest",
      .action = "variants.ingest",
      .resource = "variant",
      .max_body_bytes = kMaxIngestBodyBytes,
      .handler = Wrap([d](Request& req) -> Result<Response> {
        ZG_ASSIGN_OR_RETURN(json body, http::ParseJsonBody(req));
        ZG_RETURN_IF_ERROR(http::OnlyFields(body, {"file_id"}));
        ZG_ASSIGN_OR_RETURN(std::string file_id, http::JsonString(body, "file_id", true, 64));
        ZG_ASSIGN_OR_RETURN(IngestReport r, d->ingest(file_id, http::RequestActor(req)));
        return Response::Json(201, {{"batch_id", r.batch_id}, {"file_id", file_id},
                                    {"samples", r.samples}, {"records", r.records},
                                    {"sites", r.sites}, {"chunks", r.chunks},
                                    {"reference", {{"name", r.reference},
                                                   {"source", r.reference_source}}}});
      }),
  }));
  ZG_RETURN_IF_ERROR(router.Add({
      .method = "GET",
      .pattern = "/api/v1/variants/ingest-queue",
      .action = "variants.ingest",
      .resource = "variant",
      .handler = Wrap([d](Request& req) -> Result<Response> {
        const std::string state = Param(req, "state");
        if (!state.empty() && state != "pending" && state != "failed" && state != "done") {
          return InvalidArgument("invalid_parameter", "state: pending, failed or done", "state");
        }
        ZG_ASSIGN_OR_RETURN(int64_t limit, http::IntQueryParam(req, "limit", 100, 1, 1000));
        ZG_ASSIGN_OR_RETURN(auto jobs, d->ingest_jobs(state, limit));
        json out = json::array();
        for (const auto& j : jobs) {
          out.push_back({{"file_id", j.file_id}, {"state", j.state}, {"attempts", j.attempts},
                         {"last_error", j.last_error}, {"next_attempt_at", j.next_attempt_at},
                         {"batch_id", j.batch_id}, {"updated_at", j.updated_at}});
        }
        return Response::Json(200, {{"jobs", std::move(out)}});
      }),
  }));
  return Status::Ok();
}

}  // namespace zengen::variants
