#include "beacon/beacon.h"

#include <algorithm>
#include <optional>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "portal/suppression.h"

namespace zengen::beacon {
namespace {

using http::Request;
using http::Response;
using nlohmann::json;

constexpr const char* kApiVersion = "v2.0.0";
constexpr const char* kBeaconId = "jp.zengen.beacon";
constexpr const char* kDatasetId = "zengen-cohort";
constexpr const char* kRoot = "/ga4gh/beacon/v2";
constexpr const char* kVariantSchema = "beacon-g_variant-v2.0.0";
// The widest region a query may cover (as the console's queries).
constexpr int64_t kMaxRegion = 10'000'000;
// Record-level answers list at most this many variants (pagination is not offered).
constexpr size_t kMaxRecords = 1000;
constexpr int64_t kMaxBodyBytes = 16 * 1024;

std::string GranularityName(Tier t) {
  switch (t) {
    case Tier::kPublic:
      return "boolean";
    case Tier::kRegistered:
      return "count";
    case Tier::kRecord:
      return "record";
  }
  return "boolean";
}

json Schemas() {
  return json::array({{{"entityType", "genomicVariation"}, {"schema", kVariantSchema}}});
}

json InformationalMeta() {
  return {{"beaconId", kBeaconId}, {"apiVersion", kApiVersion}, {"returnedSchemas", Schemas()}};
}

json ResponseMeta(const std::string& requested, const std::string& returned) {
  return {{"beaconId", kBeaconId},
          {"apiVersion", kApiVersion},
          {"returnedGranularity", returned},
          {"returnedSchemas", Schemas()},
          {"receivedRequestSummary",
           {{"apiVersion", kApiVersion},
            {"requestedSchemas", Schemas()},
            {"pagination", {{"skip", 0}, {"limit", 0}}},
            {"requestedGranularity", requested}}}};
}

Response ErrorResponse(int status, const std::string& message) {
  return Response::Json(status, {{"meta", ResponseMeta("boolean", "boolean")},
                                 {"error", {{"errorCode", status}, {"errorMessage", message}}}});
}

Response FromError(const Error& e) {
  std::string msg = e.message;
  if (!e.field.empty()) msg += fmt::format(" ({})", e.field);
  return ErrorResponse(http::StatusFor(e.kind), msg);
}

json EntryTypes() {
  return {{"genomicVariation",
           {{"id", "genomicVariation"},
            {"name", "Genomic variation"},
            {"ontologyTermForThisType", {{"id", "ENSGLOSSARY:0000092"}, {"label", "Variant"}}},
            {"partOfSpecification", "Beacon v2.0.0"},
            {"defaultSchema",
             {{"id", kVariantSchema},
              {"name", "Default schema for a genomic variation"},
              {"referenceToSchemaDefinition",
               "https://raw.githubusercontent.com/ga4gh-beacon/beacon-v2/main/models/json/"
               "beacon-v2-default-model/genomicVariations/defaultSchema.json"},
              {"schemaVersion", kApiVersion}}},
            {"nonFilteredQueriesAllowed", false}}},
          {"dataset",
           {{"id", "dataset"},
            {"name", "Dataset"},
            {"ontologyTermForThisType", {{"id", "NCIT:C47824"}, {"label", "Data set"}}},
            {"partOfSpecification", "Beacon v2.0.0"},
            {"defaultSchema",
             {{"id", "beacon-dataset-v2.0.0"},
              {"name", "Default schema for datasets"},
              {"referenceToSchemaDefinition",
               "https://raw.githubusercontent.com/ga4gh-beacon/beacon-v2/main/models/json/"
               "beacon-v2-default-model/datasets/defaultSchema.json"},
              {"schemaVersion", kApiVersion}}},
            {"aCollectionOf", json::array({{{"id", "genomicVariation"},
                                            {"name", "Genomic variants"}}})}}}};
}

json InfoResults(const std::string& base) {
  json r{{"id", kBeaconId},
         {"name", "Zengen cohort Beacon"},
         {"apiVersion", kApiVersion},
         {"environment", "prod"},
         {"organization", {{"id", "zengen"}, {"name", "Zengen data center"}}},
         {"description",
          "Variants of the national whole-genome cohort: boolean answers to everyone, rounded "
          "counts to registered users, records to grant holders; every query is audited and "
          "budgeted."},
         {"version", kApiVersion}};
  if (!base.empty()) r["welcomeUrl"] = base + kRoot;
  return r;
}

// ---- the query --------------------------------------------------------------------------

struct VariantQuery {
  std::string chrom;
  // 0-based: a variant's start (pos − 1) must be in [start_min, start_max] and its end
  // (start + |ref|) in [end_min, end_max].
  int64_t start_min = 0, start_max = 0, end_min = 0, end_max = 0;
  std::string ref, alt;  // sequence queries ("N" matches any base)
  std::string gene;
  std::string requested = "boolean";
};

Result<std::vector<int64_t>> Positions(const json& v, const std::string& name) {
  std::vector<int64_t> out;
  auto one = [&](const json& x) -> Status {
    if (x.is_number_integer() && x.get<int64_t>() >= 0) {
      out.push_back(x.get<int64_t>());
      return Status::Ok();
    }
    if (x.is_string()) {
      const std::string s = x.get<std::string>();
      if (!s.empty() && s.size() <= 12 && s.find_first_not_of("0123456789") == std::string::npos) {
        out.push_back(std::stoll(s));
        return Status::Ok();
      }
    }
    return InvalidArgument("invalid_parameter",
                           fmt::format("{}: a 0-based position or a list of two", name), name);
  };
  if (v.is_array()) {
    for (const auto& x : v) ZG_RETURN_IF_ERROR(one(x));
  } else {
    ZG_RETURN_IF_ERROR(one(v));
  }
  if (out.empty() || out.size() > 2) {
    return InvalidArgument("invalid_parameter", fmt::format("{}: one or two positions", name),
                           name);
  }
  return out;
}

// requestParameters as JSON (POST) or from the query string (GET; lists comma-separated).
Result<VariantQuery> ParseQuery(const json& params, const std::string& requested,
                                variants::Cohort& cohort) {
  VariantQuery q;
  q.requested = requested.empty() ? "boolean" : requested;
  if (q.requested != "boolean" && q.requested != "count" && q.requested != "record") {
    return InvalidArgument("invalid_parameter", "requestedGranularity: boolean, count or record",
                           "requestedGranularity");
  }
  auto str = [&](const char* k) -> std::string {
    auto it = params.find(k);
    return it != params.end() && it->is_string() ? it->get<std::string>() : "";
  };
  for (const auto& [k, v] : params.items()) {
    static const std::set<std::string> known = {"referenceName", "start", "end",
                                                "referenceBases", "alternateBases", "geneId",
                                                "variantType", "assemblyId"};
    if (!known.contains(k)) {
      return InvalidArgument("invalid_parameter",
                             fmt::format("{}: not a supported request parameter", k), k);
    }
  }
  q.gene = str("geneId");
  q.ref = str("referenceBases");
  q.alt = str("alternateBases");
  for (const auto& [name, allele] : {std::pair{"referenceBases", q.ref},
                                     std::pair{"alternateBases", q.alt}}) {
    if (allele.size() > 1000 || allele.find_first_not_of("ACGTN") != std::string::npos) {
      return InvalidArgument("invalid_parameter", fmt::format("{}: bases A, C, G, T, N", name),
                             name);
    }
  }
  if (!q.gene.empty()) {
    if (q.gene.size() > 200) return InvalidArgument("invalid_parameter", "geneId: too long", "geneId");
    ZG_ASSIGN_OR_RETURN(variants::GeneInterval g, cohort.Gene(q.gene));
    q.chrom = g.chrom;
    q.start_min = g.start - 1;
    q.start_max = g.end - 1;
    q.end_min = g.start - 1;
    q.end_max = g.end + 1000;  // a deletion may reach past the gene's end
    return q;
  }
  q.chrom = str("referenceName");
  if (q.chrom.empty() || q.chrom.size() > 64) {
    return InvalidArgument("missing_field", "referenceName (or geneId) is required",
                           "referenceName");
  }
  if (!params.contains("start")) return InvalidArgument("missing_field", "start is required", "start");
  ZG_ASSIGN_OR_RETURN(auto start, Positions(params["start"], "start"));
  if (start.size() == 2 && start[0] > start[1]) {
    return InvalidArgument("invalid_parameter", "start: min after max", "start");
  }
  q.start_min = start[0];
  q.start_max = start.back();
  if (params.contains("end")) {
    ZG_ASSIGN_OR_RETURN(auto end, Positions(params["end"], "end"));
    if (end.size() != start.size() || (end.size() == 2 && end[0] > end[1])) {
      return InvalidArgument("invalid_parameter", "end: as many as start, min before max", "end");
    }
    if (start.size() == 1) {
      // A range query: variants starting in [start, end).
      if (end[0] <= start[0]) return InvalidArgument("invalid_parameter", "end: after start", "end");
      q.start_max = end[0] - 1;
      q.end_min = start[0];
      q.end_max = int64_t{1} << 40;
    } else {
      q.end_min = end[0];
      q.end_max = end[1];
    }
  } else {
    // A sequence query: one position and the alleles.
    if (start.size() != 1 || q.ref.empty() || q.alt.empty()) {
      return InvalidArgument("missing_field",
                             "a sequence query names start, referenceBases and alternateBases",
                             q.ref.empty() ? "referenceBases" : "alternateBases");
    }
    q.end_min = 0;
    q.end_max = int64_t{1} << 40;
  }
  if (q.start_max - q.start_min + 1 > kMaxRegion) {
    return InvalidArgument("region_too_large", fmt::format("at most {} bases per query", kMaxRegion),
                           "end");
  }
  return q;
}

bool AlleleMatches(const std::string& want, const std::string& have) {
  if (want.empty()) return true;
  if (want.size() != have.size()) return false;
  for (size_t i = 0; i < want.size(); ++i) {
    if (want[i] != 'N' && want[i] != have[i]) return false;
  }
  return true;
}

bool InQuery(const VariantQuery& q, const variants::Site& s) {
  const int64_t start = s.pos - 1;
  const int64_t end = start + static_cast<int64_t>(s.ref.size());
  return start >= q.start_min && start <= q.start_max && end >= q.end_min && end <= q.end_max &&
         AlleleMatches(q.ref, s.ref) && AlleleMatches(q.alt, s.alt);
}

std::string UtcDay(const Clock& clock) {
  return FormatRfc3339(clock.Now()).substr(0, 10);
}

// Counts this query against the caller's budgets. Returns the error response when one is
// spent (the refused query still counts: retrying does not help).
Result<std::optional<std::string>> Spend(Sources& s, const Request& req, int64_t& left) {
  const std::string day = UtcDay(s.clock);
  std::vector<std::pair<std::string, int64_t>> keys = {{"address:" + req.remote_address,
                                                        s.budget.per_address}};
  if (req.subject.authenticated) keys.push_back({"user:" + req.subject.id, s.budget.per_user});
  ZG_ASSIGN_OR_RETURN(auto tx, s.store.Begin(storage::TxMode::kWrite));
  std::optional<std::string> refused;
  left = INT64_MAX;
  for (const auto& [key, limit] : keys) {
    ZG_RETURN_IF_ERROR(tx->Exec(
        "INSERT INTO beacon_query_budget (budget_key, day, queries) VALUES ($1, $2, 1) "
        "ON CONFLICT (budget_key, day) DO UPDATE SET queries = beacon_query_budget.queries + 1",
        {storage::Text(key), storage::Text(day)}));
    ZG_ASSIGN_OR_RETURN(auto rows, tx->Query("SELECT queries FROM beacon_query_budget WHERE "
                                             "budget_key = $1 AND day = $2",
                                             {storage::Text(key), storage::Text(day)}));
    const int64_t used = rows.rows.at(0).Int(0);
    left = std::min(left, std::max<int64_t>(0, limit - used));
    if (used > limit && !refused) {
      refused = fmt::format(
          "query budget spent: at most {} variant queries per {} per day (UTC); this was query "
          "{}; the budget resets at 00:00 UTC",
          limit, key.starts_with("user:") ? "user" : "address", used);
    }
  }
  ZG_RETURN_IF_ERROR(tx->Commit());
  return refused;
}

json VariantRecord(const variants::SiteCount& c, const std::vector<std::pair<std::string, int>>& carriers) {
  const int64_t start = c.site.pos - 1;
  json r{{"variantInternalId",
          fmt::format("{}:{}:{}:{}", c.site.chrom, c.site.pos, c.site.ref, c.site.alt)},
         {"variation",
          {{"variantType", c.site.ref.size() == c.site.alt.size() ? "SNP" : "INDEL"},
           {"referenceBases", c.site.ref},
           {"alternateBases", c.site.alt},
           {"location",
            {{"type", "SequenceLocation"},
             {"sequence_id", "refseq:" + c.site.chrom},
             {"interval",
              {{"type", "SequenceInterval"},
               {"start", {{"type", "Number"}, {"value", start}}},
               {"end", {{"type", "Number"}, {"value", start + static_cast<int64_t>(c.site.ref.size())}}}}}}}}},
         {"frequencyInPopulations",
          json::array({{{"source", "Zengen cohort"},
                        {"sourceReference", kDatasetId},
                        {"frequencies",
                         json::array({{{"population", "samples visible to the caller"},
                                       {"alleleFrequency", c.af()}}})}}})},
         {"info", {{"ac", c.ac}, {"an", c.an}, {"het", c.het}, {"hom", c.hom}}}};
  json cases = json::array();
  for (const auto& [participant, gt] : carriers) {
    json zygosity = gt == 2 ? json{{"id", "GENO:0000136"}, {"label", "homozygous"}}
                            : json{{"id", "GENO:0000458"}, {"label", "simple heterozygous"}};
    cases.push_back({{"biosampleId", participant}, {"zygosity", std::move(zygosity)}});
  }
  r["caseLevelData"] = std::move(cases);
  return r;
}

Result<Response> GVariants(Sources& s, const Request& req, const json& params,
                           const std::string& requested) {
  int64_t left = 0;
  ZG_ASSIGN_OR_RETURN(auto refused, Spend(s, req, left));
  auto record = [&](const std::string& granularity, const json& details) {
    json d = details;
    d["budget_left"] = left;
    return s.audit.Append({.actor = req.subject.authenticated ? req.subject.id : "anonymous",
                           .source = req.remote_address,
                           .action = "beacon.query",
                           .resource = "beacon/g_variants",
                           .decision = refused ? "deny" : "allow",
                           .reason = refused ? *refused : "answered at " + granularity,
                           .request_id = req.request_id,
                           .details = d.dump()});
  };
  if (refused) {
    ZG_RETURN_IF_ERROR(record("none", {{"budget", "spent"}}));
    return ErrorResponse(429, *refused);
  }
  auto parsed = ParseQuery(params, requested, s.cohort);
  if (!parsed.ok()) {
    ZG_RETURN_IF_ERROR(record("none", {{"error", parsed.error().code}}));
    return FromError(parsed.error());
  }
  const VariantQuery& q = *parsed;
  // The tier: what the caller may get, capped by what was asked for.
  // Registered means signed in with the second factor (or a machine credential): a session
  // that has not passed it yet is treated as anonymous.
  const bool registered = req.subject.authenticated && req.subject.mfa;
  Tier tier = registered ? Tier::kRegistered : Tier::kPublic;
  variants::SampleSet samples;
  if (q.requested == "record" && registered) {
    ZG_ASSIGN_OR_RETURN(samples, s.samples(req, Tier::kRecord));
    if (!samples.bits.isEmpty()) tier = Tier::kRecord;
  }
  if (tier != Tier::kRecord) {
    ZG_ASSIGN_OR_RETURN(samples, s.samples(req, tier));
  }
  if (q.requested == "boolean") tier = Tier::kPublic;
  if (q.requested == "count" && tier == Tier::kRecord) tier = Tier::kRegistered;

  const int64_t first = q.start_min + 1;
  const int64_t last = std::max(q.start_max + 1, first);
  ZG_ASSIGN_OR_RETURN(auto chunks, s.cohort.Chunks(q.chrom, first, last));
  std::vector<variants::SiteCount> hits;
  for (auto& c : variants::Count(chunks, q.chrom, first, last, samples.bits)) {
    if (InQuery(q, c.site)) hits.push_back(std::move(c));
  }
  const bool exists = !hits.empty();
  // Registered counts go through the one disclosure control: a band below ten is not shown.
  const portal::Shown shown = portal::Round(static_cast<int64_t>(hits.size()));
  std::string returned = GranularityName(tier);
  if (tier == Tier::kRegistered && shown.band == 0) returned = "boolean";

  json summary{{"exists", exists}};
  json result_set{{"id", kDatasetId}, {"setType", "dataset"}, {"exists", exists},
                  {"resultsCount", 0}, {"results", json::array()}};
  if (returned == "count") {
    summary["numTotalResults"] = shown.band;
    result_set["resultsCount"] = shown.band;
  }
  if (returned == "record") {
    std::vector<uint32_t> bits(samples.bits.begin(), samples.bits.end());
    std::map<variants::Site, std::vector<std::pair<std::string, int>>> carriers;
    for (const auto& g : variants::Genotypes(chunks, q.chrom, first, last, bits)) {
      for (size_t i = 0; i < bits.size(); ++i) {
        if (g.genotypes[i] > 0) carriers[g.site].push_back({samples.participant.at(bits[i]), g.genotypes[i]});
      }
    }
    json results = json::array();
    for (const auto& c : hits) {
      if (results.size() >= kMaxRecords) break;
      results.push_back(VariantRecord(c, carriers[c.site]));
    }
    summary["numTotalResults"] = hits.size();
    result_set["resultsCount"] = hits.size();
    result_set["results"] = std::move(results);
  }
  ZG_RETURN_IF_ERROR(record(returned, {{"referenceName", q.chrom},
                                       {"start", {q.start_min, q.start_max}},
                                       {"end", {q.end_min, q.end_max}},
                                       {"referenceBases", q.ref},
                                       {"alternateBases", q.alt},
                                       {"geneId", q.gene},
                                       {"requested", q.requested},
                                       {"returned", returned},
                                       {"samples", samples.bits.cardinality()},
                                       {"exists", exists}}));
  json body{{"meta", ResponseMeta(q.requested, returned)}, {"responseSummary", summary}};
  if (returned != "boolean") body["response"] = {{"resultSets", json::array({result_set})}};
  return Response::Json(200, body);
}

// GET parameters as requestParameters: lists come comma-separated ("start=100,200").
json ParamsFromQuery(const Request& req) {
  json p = json::object();
  for (const auto& [k, v] : req.query) {
    if (k == "requestedGranularity" || k == "skip" || k == "limit") continue;
    if ((k == "start" || k == "end") && v.find(',') != std::string::npos) {
      json list = json::array();
      std::stringstream ss(v);
      for (std::string x; std::getline(ss, x, ',');) list.push_back(x);
      p[k] = list;
    } else {
      p[k] = v;
    }
  }
  return p;
}

}  // namespace

Status AddBeaconRoutes(http::Router& router, Sources sources) {
  auto s = std::make_shared<Sources>(std::move(sources));
  auto add = [&](const std::string& method, const std::string& path, http::Handler h,
                 int64_t max_body = -1) {
    return router.Add({.method = method,
                       .pattern = std::string(kRoot) + path,
                       .action = "beacon.read",
                       .resource = "beacon",
                       .max_body_bytes = max_body,
                       .handler = std::move(h),
                       .refuse = [](const Error& e) { return FromError(e); }});
  };
  auto info = [s](Request&) {
    const std::string base = s->public_url ? s->public_url() : "";
    return Response::Json(200, {{"meta", InformationalMeta()}, {"response", InfoResults(base)}});
  };
  ZG_RETURN_IF_ERROR(add("GET", "", info));
  ZG_RETURN_IF_ERROR(add("GET", "/info", info));
  ZG_RETURN_IF_ERROR(add("GET", "/service-info", [s](Request&) {
    json body{{"id", kBeaconId},
              {"name", "Zengen cohort Beacon"},
              {"type", {{"group", "org.ga4gh"}, {"artifact", "beacon"}, {"version", kApiVersion}}},
              {"organization", {{"name", "Zengen data center"}, {"url", "https://zengen.example.jp"}}},
              {"version", kApiVersion},
              {"environment", "prod"}};
    return Response::Json(200, body);
  }));
  ZG_RETURN_IF_ERROR(add("GET", "/configuration", [](Request&) {
    return Response::Json(
        200, {{"meta", InformationalMeta()},
              {"response",
               {{"$schema", "https://raw.githubusercontent.com/ga4gh-beacon/beacon-v2/main/"
                            "framework/json/configuration/beaconConfigurationSchema.json"},
                {"maturityAttributes", {{"productionStatus", "PROD"}}},
                {"securityAttributes",
                 {{"defaultGranularity", "boolean"},
                  {"securityLevels", json::array({"PUBLIC", "REGISTERED", "CONTROLLED"})}}},
                {"entryTypes", EntryTypes()}}}});
  }));
  ZG_RETURN_IF_ERROR(add("GET", "/map", [s](Request&) {
    const std::string base = (s->public_url ? s->public_url() : "") + kRoot;
    return Response::Json(
        200, {{"meta", InformationalMeta()},
              {"response",
               {{"$schema", "https://raw.githubusercontent.com/ga4gh-beacon/beacon-v2/main/"
                            "framework/json/configuration/beaconMapSchema.json"},
                {"endpointSets",
                 {{"genomicVariation",
                   {{"entryType", "genomicVariation"}, {"rootUrl", base + "/g_variants"}}},
                  {"dataset", {{"entryType", "dataset"}, {"rootUrl", base + "/datasets"}}}}}}}});
  }));
  ZG_RETURN_IF_ERROR(add("GET", "/entry_types", [](Request&) {
    return Response::Json(200, {{"meta", InformationalMeta()},
                                {"response", {{"entryTypes", EntryTypes()}}}});
  }));
  ZG_RETURN_IF_ERROR(add("GET", "/filtering_terms", [](Request&) {
    // No ontology filters yet: region, sequence, bracket and gene queries only.
    return Response::Json(200, {{"meta", InformationalMeta()},
                                {"response", {{"filteringTerms", json::array()}}}});
  }));
  ZG_RETURN_IF_ERROR(add("GET", "/datasets", [](Request&) {
    json dataset{{"id", kDatasetId},
                 {"name", "Zengen national whole-genome cohort"},
                 {"description", "Germline variants of consenting participants; answers depend "
                                 "on the caller's tier and live consent."}};
    return Response::Json(200, {{"meta", ResponseMeta("boolean", "record")},
                                {"responseSummary", {{"exists", true}, {"numTotalResults", 1}}},
                                {"response", {{"collections", json::array({dataset})}}}});
  }));
  ZG_RETURN_IF_ERROR(add("GET", "/g_variants", http::Wrap([s](Request& req) -> Result<Response> {
    const auto it = req.query.find("requestedGranularity");
    return GVariants(*s, req, ParamsFromQuery(req),
                     it == req.query.end() ? "" : it->second);
  })));
  ZG_RETURN_IF_ERROR(add(
      "POST", "/g_variants",
      http::Wrap([s](Request& req) -> Result<Response> {
        auto body = http::ParseJsonBody(req);
        if (!body.ok()) return FromError(body.error());
        const json query = body->value("query", json::object());
        if (!query.is_object()) return ErrorResponse(400, "query: must be an object (query)");
        json params = query.value("requestParameters", json::object());
        if (!params.is_object()) {
          return ErrorResponse(400, "requestParameters: must be an object (requestParameters)");
        }
        const json g = query.value("requestedGranularity", json(""));
        return GVariants(*s, req, params, g.is_string() ? g.get<std::string>() : "?");
      }),
      kMaxBodyBytes));
  return Status::Ok();
}

}  // namespace zengen::beacon
