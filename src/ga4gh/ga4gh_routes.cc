#include "ga4gh/ga4gh_routes.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "crypto/crypto.h"
#include "genomefiles/slices.h"
#include "http/route_params.h"

namespace zengen::ga4gh {
namespace {

using genomefiles::ByteRange;
using genomefiles::DataFile;
using genomefiles::PlainReader;
using genomefiles::PlanSlice;
using genomefiles::Region;
using genomefiles::SliceCache;
using genomefiles::SlicePlan;
using http::Request;
using http::Response;
using nlohmann::json;

constexpr std::string_view kTicketType = "application/vnd.ga4gh.htsget.v1.3.0+json; charset=utf-8";
constexpr std::string_view kHtsgetBase = "/ga4gh/htsget/v1";
constexpr std::string_view kDrsBase = "/ga4gh/drs/v1";
constexpr size_t kMaxTicketBodyBytes = 64 * 1024;  // a POST ticket request's body
constexpr size_t kMaxTicketRegions = 256;          // regions in one POST ticket request

// An htsget error: type (the htsget error name) and HTTP status.
Response HtsgetError(int status, std::string_view type, std::string_view message) {
  Response r = Response::Json(status, json{{"htsget", {{"error", type}, {"message", message}}}});
  r.headers["Content-Type"] = "application/json; charset=utf-8";
  return r;
}

// Maps a Zengen error to htsget's vocabulary.
Response HtsgetFrom(const Error& e) {
  switch (e.kind) {
    case ErrorKind::kNotFound:
      return HtsgetError(404, "NotFound", e.message);
    case ErrorKind::kPermissionDenied:
      return HtsgetError(403, "PermissionDenied", e.message);
    case ErrorKind::kUnauthenticated:
      return HtsgetError(401, "InvalidAuthentication", e.message);
    case ErrorKind::kTooLarge:
      return HtsgetError(413, "PayloadTooLarge", e.message);
    case ErrorKind::kInvalidArgument: {
      const std::string type =
          e.code == "InvalidRange" || e.code == "UnsupportedFormat" ? e.code : "InvalidInput";
      return HtsgetError(400, type, e.message);
    }
    default:
      return Response::FromError(e);
  }
}

Response DrsError(int status, std::string_view message) {
  return Response::Json(status, json{{"msg", message}, {"status_code", status}});
}

Response DrsFrom(const Error& e) {
  const int status = http::StatusFor(e.kind);
  return status >= 500 ? Response::FromError(e) : DrsError(status, e.message);
}

bool Has(const Request& req, const std::string& name) { return req.query.count(name) != 0; }

// An unsigned 32-bit decimal (htsget start/end).
Result<int64_t> U32(const std::string& text, const std::string& name) {
  if (text.empty() || text.size() > 10 ||
      !std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); })) {
    return InvalidArgument("InvalidInput", fmt::format("'{}' must be an unsigned integer", name),
                           name);
  }
  const int64_t v = std::stoll(text);
  if (v > 0xffffffffLL) {
    return InvalidArgument("InvalidInput", fmt::format("'{}' exceeds 2^32-1", name), name);
  }
  return v;
}

// Never the request's Host header: a client would send its token to whatever host the
// request named (issue 12 finding 6).
std::string BaseUrl(const Ga4ghSources& src) { return src.public_base_url(); }

// The htsget format name of a stored file ("BAM", "CRAM", "VCF", "BCF").
std::string StoredFormat(const DataFile& f) {
  if (f.kind == "cram") return "CRAM";
  if (f.kind == "bam") return "BAM";
  return f.kind == "bcf" ? "BCF" : "VCF";
}

// Whether a file holds the endpoint's data type.
bool OfType(const DataFile& f, std::string_view datatype) {
  if (datatype == "reads") return f.kind == "bam" || f.kind == "cram";
  return f.kind == "vcf" || f.kind == "bcf";
}

json ServiceInfo(std::string_view datatype) {
  const bool reads = datatype == "reads";
  return json{{"id", fmt::format("jp.zengen.htsget.{}", datatype)},
              {"name", fmt::format("Zengen htsget ({})", datatype)},
              {"type", {{"group", "org.ga4gh"}, {"artifact", "htsget"}, {"version", "1.3.0"}}},
              {"description", "Region slices of consented, sanitised genome files"},
              {"organization", {{"name", "Zengen"}, {"url", "https://zengen.invalid"}}},
              {"version", "1.3.0"},
              {"htsget",
               {{"datatype", datatype},
                {"formats", reads ? json::array({"BAM", "CRAM"}) : json::array({"VCF", "BCF"})},
                {"fieldsParameterEffective", false},
                {"tagsParametersEffective", false}}}};
}

// A ticket request as the client sent it, before the rules (htsget 1.3 §GET parameters, and
// the POST body, which carries the same fields and a list of regions).
struct TicketParams {
  std::optional<std::string> format, cls, encryption;
  std::optional<std::vector<std::string>> fields, tags, notags;
  struct RegionParams {
    std::optional<std::string> reference;
    std::optional<int64_t> start, end;
  };
  std::optional<std::vector<RegionParams>> regions;
};

struct TicketRequest {
  std::string format;
  bool header_only = false;
  std::vector<Region> regions;
};

std::vector<std::string> SplitCommas(const std::string& s) {
  std::vector<std::string> out;
  for (size_t i = 0; i <= s.size();) {
    const size_t j = std::min(s.find(',', i), s.size());
    out.push_back(s.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

// GET: the query parameters; a region only when referenceName, start or end is present.
Result<TicketParams> TicketFromQuery(const Request& req) {
  static const std::set<std::string> kKnown = {"format", "class",  "referenceName", "start",
                                               "end",    "fields", "tags",          "notags",
                                               "encryptionScheme"};
  for (const auto& [k, v] : req.query) {
    if (!kKnown.count(k)) {
      return InvalidArgument("InvalidInput", fmt::format("unknown parameter '{}'", k), k);
    }
  }
  TicketParams p;
  if (Has(req, "format")) p.format = http::QueryParam(req, "format");
  if (Has(req, "class")) p.cls = http::QueryParam(req, "class");
  if (Has(req, "encryptionScheme")) p.encryption = http::QueryParam(req, "encryptionScheme");
  if (Has(req, "fields")) p.fields = SplitCommas(http::QueryParam(req, "fields"));
  if (Has(req, "tags")) p.tags = SplitCommas(http::QueryParam(req, "tags"));
  if (Has(req, "notags")) p.notags = SplitCommas(http::QueryParam(req, "notags"));
  if (Has(req, "referenceName") || Has(req, "start") || Has(req, "end")) {
    TicketParams::RegionParams r;
    if (Has(req, "referenceName")) r.reference = http::QueryParam(req, "referenceName");
    if (Has(req, "start")) {
      ZG_ASSIGN_OR_RETURN(int64_t v, U32(http::QueryParam(req, "start"), "start"));
      r.start = v;
    }
    if (Has(req, "end")) {
      ZG_ASSIGN_OR_RETURN(int64_t v, U32(http::QueryParam(req, "end"), "end"));
      r.end = v;
    }
    p.regions.emplace({r});
  }
  return p;
}

// POST: the JSON body {format, class, fields, tags, notags, regions:[{referenceName, start,
// end}]}; query parameters are refused.
Result<TicketParams> TicketFromBody(const Request& req) {
  if (!req.query.empty()) {
    return InvalidArgument("InvalidInput", "a POST ticket request takes no query parameters",
                           req.query.begin()->first);
  }
  if (req.body.size() > kMaxTicketBodyBytes) {
    return Error{ErrorKind::kTooLarge, "PayloadTooLarge",
                 fmt::format("the request body exceeds {} bytes", kMaxTicketBodyBytes), "body"};
  }
  json body;
  if (req.body.empty()) {
    body = json::object();  // every field is optional: the whole file
  } else {
    body = json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
      return InvalidArgument("InvalidInput", "the request body must be a JSON object", "body");
    }
  }
  static const std::set<std::string> kKnown = {"format", "class", "fields", "tags", "notags",
                                               "regions", "encryptionScheme"};
  for (const auto& [k, v] : body.items()) {
    if (!kKnown.count(k)) {
      return InvalidArgument("InvalidInput", fmt::format("unknown field '{}'", k), k);
    }
  }
  auto string_field = [&](const char* name) -> Result<std::optional<std::string>> {
    if (!body.contains(name) || body[name].is_null()) return std::optional<std::string>();
    if (!body[name].is_string()) {
      return InvalidArgument("InvalidInput", fmt::format("'{}' must be a string", name), name);
    }
    return std::optional<std::string>(body[name].get<std::string>());
  };
  auto list_field = [&](const char* name) -> Result<std::optional<std::vector<std::string>>> {
    if (!body.contains(name) || body[name].is_null()) {
      return std::optional<std::vector<std::string>>();
    }
    const json& v = body[name];
    if (!v.is_array() || !std::all_of(v.begin(), v.end(), [](const json& e) { return e.is_string(); })) {
      return InvalidArgument("InvalidInput", fmt::format("'{}' must be an array of strings", name),
                             name);
    }
    return std::optional<std::vector<std::string>>(v.get<std::vector<std::string>>());
  };
  TicketParams p;
  ZG_ASSIGN_OR_RETURN(p.format, string_field("format"));
  ZG_ASSIGN_OR_RETURN(p.cls, string_field("class"));
  ZG_ASSIGN_OR_RETURN(p.encryption, string_field("encryptionScheme"));
  ZG_ASSIGN_OR_RETURN(p.fields, list_field("fields"));
  ZG_ASSIGN_OR_RETURN(p.tags, list_field("tags"));
  ZG_ASSIGN_OR_RETURN(p.notags, list_field("notags"));
  if (body.contains("regions") && !body["regions"].is_null()) {
    const json& regions = body["regions"];
    if (!regions.is_array() || regions.empty()) {
      return InvalidArgument("InvalidInput", "'regions' must be a non-empty array", "regions");
    }
    if (regions.size() > kMaxTicketRegions) {
      return InvalidArgument("InvalidInput",
                             fmt::format("at most {} regions per request", kMaxTicketRegions),
                             "regions");
    }
    p.regions.emplace();
    for (size_t i = 0; i < regions.size(); ++i) {
      const json& r = regions[i];
      const std::string where = fmt::format("regions[{}]", i);
      if (!r.is_object()) {
        return InvalidArgument("InvalidInput", where + " must be an object", where);
      }
      TicketParams::RegionParams out;
      for (const auto& [k, v] : r.items()) {
        if (k == "referenceName" && v.is_string()) {
          out.reference = v.get<std::string>();
        } else if ((k == "start" || k == "end") && v.is_number_unsigned() &&
                   v.get<uint64_t>() <= 0xffffffffULL) {
          (k == "start" ? out.start : out.end) = static_cast<int64_t>(v.get<uint64_t>());
        } else if (k == "referenceName" || k == "start" || k == "end") {
          return InvalidArgument("InvalidInput",
                                 fmt::format("{}.{} must be {}", where, k,
                                             k == "referenceName" ? "a string"
                                                                  : "an integer 0..2^32-1"),
                                 where + "." + k);
        } else {
          return InvalidArgument("InvalidInput", fmt::format("unknown field {}.{}", where, k),
                                 where + "." + k);
        }
      }
      if (!out.reference) {
        return InvalidArgument("InvalidInput", where + " needs 'referenceName'",
                               where + ".referenceName");
      }
      p.regions->push_back(out);
    }
  }
  return p;
}

// The rules both forms share.
Result<TicketRequest> CheckTicket(const TicketParams& p, std::string_view datatype,
                                  const std::string& stored_format) {
  TicketRequest t;
  const bool reads = datatype == "reads";
  t.format = p.format.value_or(reads ? "BAM" : "VCF");
  const bool known_format = reads ? (t.format == "BAM" || t.format == "CRAM")
                                  : (t.format == "VCF" || t.format == "BCF");
  if (!known_format || t.format != stored_format) {
    return InvalidArgument("UnsupportedFormat",
                           fmt::format("format '{}' is not available for this object; it is "
                                       "served as {}",
                                       t.format, stored_format),
                           "format");
  }
  if (p.encryption) {
    return InvalidArgument("UnsupportedFormat", "encryptionScheme is not supported",
                           "encryptionScheme");
  }
  if (p.cls) {
    if (*p.cls != "header") {
      return InvalidArgument("InvalidInput", "'class' may only be 'header'", "class");
    }
    const char* other = p.regions ? "referenceName"
                        : p.fields ? "fields"
                        : p.tags   ? "tags"
                        : p.notags ? "notags"
                                   : nullptr;
    if (other) {
      return InvalidArgument("InvalidInput",
                             fmt::format("class=header cannot be combined with '{}'", other),
                             other);
    }
    t.header_only = true;
    return t;
  }
  if (p.fields) {
    static const std::set<std::string> kFields = {"QNAME", "FLAG", "RNAME", "POS",
                                                  "MAPQ",  "CIGAR", "RNEXT", "PNEXT",
                                                  "TLEN",  "SEQ",  "QUAL"};
    for (const auto& f : *p.fields) {
      if (!kFields.count(f)) {
        return InvalidArgument("InvalidInput", fmt::format("unknown field '{}'", f), "fields");
      }
    }
  }
  if (p.tags && p.notags) {
    const std::set<std::string> tags(p.tags->begin(), p.tags->end());
    for (const auto& n : *p.notags) {
      if (tags.count(n)) {
        return InvalidArgument("InvalidInput", "'tags' and 'notags' overlap", "notags");
      }
    }
  }
  if (!p.regions) return t;
  for (const auto& rp : *p.regions) {
    if (!rp.reference) {
      return InvalidArgument("InvalidInput", "'start' and 'end' need 'referenceName'",
                             rp.start ? "start" : "end");
    }
    Region r;
    r.reference = *rp.reference;
    if (r.reference.empty()) {
      return InvalidArgument("InvalidInput", "'referenceName' is empty", "referenceName");
    }
    if (r.reference == "*" && (rp.start || rp.end)) {
      return InvalidArgument("InvalidInput", "'start'/'end' cannot be used with referenceName=*",
                             "start");
    }
    r.start = rp.start;
    r.end = rp.end;
    if (r.start && r.end && *r.start > *r.end) {
      return InvalidArgument("InvalidRange", "'start' is greater than 'end'", "start");
    }
    t.regions.push_back(r);
  }
  return t;
}

json TicketUrls(const SlicePlan& plan, const std::string& base, const std::string& id,
                const Request& req, bool header_only) {
  json headers = json::object();
  if (const std::string auth = req.Header("Authorization"); !auth.empty()) {
    headers["Authorization"] = auth;
  }
  json urls = json::array();
  auto add = [&](const ByteRange& r, std::string_view cls) {
    for (int64_t s = r.start; s < r.end; s += kMaxBlockBytes) {
      const int64_t e = std::min(r.end, s + kMaxBlockBytes);
      urls.push_back({{"url", fmt::format("{}{}/blocks/{}?start={}&end={}", base, kHtsgetBase, id,
                                          s, e)},
                      {"headers", headers},
                      {"class", cls}});
    }
  };
  if (header_only && !plan.header_alone.empty()) {
    // The stored header's last block holds records too: its own re-compressed blocks.
    urls.push_back({{"url", fmt::format("{}{}/blocks/{}?class=header", base, kHtsgetBase, id)},
                    {"headers", headers},
                    {"class", "header"}});
  } else {
    add(plan.header, "header");
  }
  if (!header_only) {
    for (const auto& r : plan.body) add(r, "body");
  }
  add(plan.eof, header_only ? "header" : "body");
  return urls;
}

// The samples of a file the request may see. A file with one sample (or none) is decided as a
// whole; in a multi-sample VCF/BCF each sample was selected on its own participant's consent
// and grants by the route's resolver (the access gate), which named them in the request's one
// decision record, so the others stay visible when one withdraws. No decision is taken here.
struct Visible {
  std::vector<std::string> samples;
  bool all = true;
};

Result<Visible> VisibleSamples(const Ga4ghSources& src, const Request& req, const DataFile& f) {
  ZG_ASSIGN_OR_RETURN(auto samples, src.files.FileSamples(f.id));
  Visible v;
  // The resolver's selection: details "samples" of the resolved target (access::Gate).
  std::set<std::string> selected;
  if (req.resolved) {
    const auto it = req.resolved->details.find("samples");
    if (it != req.resolved->details.end() && it->is_array()) {
      for (const auto& name : *it) {
        if (name.is_string()) selected.insert(name.get<std::string>());
      }
    }
  }
  for (const auto& s : samples) {
    if (samples.size() <= 1 || selected.count(s.sample) != 0) {
      v.samples.push_back(s.sample);
    } else {
      v.all = false;
    }
  }
  // The decision denies when no sample is visible; a file registered with samples since the
  // decision is not served.
  if (!samples.empty() && v.samples.empty()) return http::AccessDenied();
  return v;
}

// The whole file with only the visible sample columns (VCF/BCF), streamed in 1 MiB pieces
// (genomefiles::SubsetSamples).
Result<Response> SubsetResponse(const Ga4ghSources& src, const DataFile& f,
                                const std::vector<std::string>& keep) {
  ZG_ASSIGN_OR_RETURN(genomefiles::ObjectStream subset,
                      genomefiles::SubsetSamples(src.blobs, src.files.keys(), f, keep));
  Response r;
  r.headers["Content-Type"] = "application/octet-stream";
  r.headers["Cache-Control"] = "no-store";
  r.content_length = subset.length;
  r.body_source = std::move(subset.next);
  return r;
}

// The answer to a ticket's header URL: the header alone in its own BGZF blocks
// (SlicePlan::header_alone), or the stored header range when that is the header alone already.
Response HeaderBlocks(const Ga4ghSources& src, const genomefiles::DataFile& file,
                      SliceCache* cache) {
  auto plan = PlanSlice(src.blobs, src.files.keys(), file, {}, true, cache);
  if (!plan.ok()) return HtsgetFrom(plan.error());
  std::string body = std::move(plan->header_alone);
  if (body.empty()) {
    auto plain = PlainReader::Open(src.blobs, file.blob_id, src.files.keys());
    if (!plain.ok()) return HtsgetFrom(plain.error());
    auto bytes = plain->Read(plan->header.start, plan->header.end);
    if (!bytes.ok()) return HtsgetFrom(bytes.error());
    body = std::move(*bytes);
  }
  Response r;
  r.status = 200;
  r.headers["Content-Type"] = "application/octet-stream";
  r.headers["Cache-Control"] = "no-store";
  r.body = std::move(body);
  return r;
}

}  // namespace

Status AddGa4ghRoutes(http::Router& router, Ga4ghSources sources) {
  auto src = std::make_shared<Ga4ghSources>(std::move(sources));
  auto cache = std::make_shared<SliceCache>();  // decoded headers and indexes, across tickets

  for (const std::string datatype : {"reads", "variants"}) {
    ZG_RETURN_IF_ERROR(router.Add({
        .method = "GET",
        .pattern = fmt::format("{}/{}/service-info", kHtsgetBase, datatype),
        .action = "ga4gh.info",
        .resource = "system",
        .handler = [datatype](Request&) { return Response::Json(200, ServiceInfo(datatype)); },
    }));

    // GET (one region in the query) and POST (htsget 1.3: a JSON body with a list of
    // regions) share everything after reading the request.
    auto ticket_handler = [src, cache, datatype](bool post) {
      return [src, cache, datatype, post](Request& req) -> Response {
        const std::string& id = req.path_params.at("id");
        auto file = src->files.GetFile(id);
        if (!file.ok() || !OfType(*file, datatype)) {
          return HtsgetError(404, "NotFound", fmt::format("no {} object '{}'", datatype, id));
        }
        auto visible = VisibleSamples(*src, req, *file);
        if (!visible.ok()) return HtsgetFrom(visible.error());
        const std::string stored = StoredFormat(*file);
        auto params = post ? TicketFromBody(req) : TicketFromQuery(req);
        if (!params.ok()) return HtsgetFrom(params.error());
        auto ticket = CheckTicket(*params, datatype, stored);
        if (!ticket.ok()) return HtsgetFrom(ticket.error());
        auto plan = PlanSlice(src->blobs, src->files.keys(), *file, ticket->regions,
                              ticket->header_only, cache.get());
        if (!plan.ok()) return HtsgetFrom(plan.error());
        const std::string base = BaseUrl(*src);
        json urls = TicketUrls(*plan, base, id, req, ticket->header_only);
        if (!visible->all) {
          // Some samples are not for this caller: the body is the file rewritten with only
          // the visible sample columns (all of it; the client gets more than the region,
          // which htsget allows), made afresh on the block request, whose samples the gate
          // selects again.
          json headers = urls.at(0).at("headers");
          urls = json::array({{{"url", fmt::format("{}{}/blocks/{}?view=visible", base,
                                                   kHtsgetBase, id)},
                               {"headers", headers}}});
        }
        json body{{"htsget", {{"format", plan->format}, {"urls", urls}}}};
        Response r = Response::Json(200, body);
        r.headers["Content-Type"] = std::string(kTicketType);
        r.headers["Cache-Control"] = "no-store";
        return r;
      };
    };
    ZG_RETURN_IF_ERROR(router.Add({
        .method = "GET",
        .pattern = fmt::format("{}/{}/{{id}}", kHtsgetBase, datatype),
        .action = "htsget.read",
        .resource = "file",
        .handler = ticket_handler(false),
        .refuse = HtsgetFrom,
    }));
    ZG_RETURN_IF_ERROR(router.Add({
        .method = "POST",
        .pattern = fmt::format("{}/{}/{{id}}", kHtsgetBase, datatype),
        .action = "htsget.read",
        .resource = "file",
        // Larger bodies still reach the handler, so they are refused in htsget's own shape.
        .max_body_bytes = static_cast<int64_t>(4 * kMaxTicketBodyBytes),
        .handler = ticket_handler(true),
        .refuse = HtsgetFrom,
    }));
  }

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "GET",
      .pattern = fmt::format("{}/blocks/{{id}}", kHtsgetBase),
      .action = "htsget.read",
      .resource = "file",
      .handler = [src, cache](Request& req) -> Response {
        const std::string& id = req.path_params.at("id");
        auto file = src->files.GetFile(id);
        if (!file.ok() || file->kind == "fastq") {
          return HtsgetError(404, "NotFound", fmt::format("no object '{}'", id));
        }
        auto visible = VisibleSamples(*src, req, *file);
        if (!visible.ok()) return HtsgetFrom(visible.error());
        if (Has(req, "view")) {
          if (http::QueryParam(req, "view") != "visible" || Has(req, "start") || Has(req, "end")) {
            return HtsgetError(400, "InvalidInput", "'view' is 'visible', without a range");
          }
          auto subset = SubsetResponse(*src, *file, visible->samples);
          if (!subset.ok()) return HtsgetFrom(subset.error());
          return std::move(*subset);
        }
        if (!visible->all) {
          return HtsgetError(403, "PermissionDenied",
                             "some samples of this file are not yours: use the ticket's URL");
        }
        if (Has(req, "class")) {
          if (http::QueryParam(req, "class") != "header" || Has(req, "start") || Has(req, "end")) {
            return HtsgetError(400, "InvalidInput", "'class' is 'header', without a range");
          }
          return HeaderBlocks(*src, *file, cache.get());
        }
        auto start = U32(http::QueryParam(req, "start"), "start");
        if (!start.ok()) return HtsgetFrom(start.error());
        auto end = Has(req, "end") ? U32(http::QueryParam(req, "end"), "end") : Result<int64_t>(file->size);
        if (!end.ok()) return HtsgetFrom(end.error());
        if (*start > *end || *end > file->size) {
          return HtsgetError(400, "InvalidRange", "the block range is outside the object");
        }
        auto plain = PlainReader::Open(src->blobs, file->blob_id, src->files.keys());
        if (!plain.ok()) return HtsgetFrom(plain.error());
        // Streamed in 1 MiB pieces (tickets cut blocks at 64 MiB; the DRS URL asks for the
        // whole object), so memory stays constant whatever the range.
        Response r;
        r.headers["Content-Type"] = "application/octet-stream";
        r.headers["Cache-Control"] = "no-store";
        r.content_length = *end - *start;
        auto reader = std::make_shared<PlainReader>(std::move(*plain));
        r.body_source = [reader, at = *start, stop = *end]() mutable -> Result<std::string> {
          if (at >= stop) return std::string();
          ZG_ASSIGN_OR_RETURN(std::string piece,
                              reader->Read(at, std::min<int64_t>(stop, at + (int64_t{1} << 20))));
          if (piece.empty()) return Internal("blob_truncated", "stored object ends early");
          at += static_cast<int64_t>(piece.size());
          return piece;
        };
        return r;
      },
      .refuse = HtsgetFrom,
  }));

  // ---- DRS ---------------------------------------------------------------------------------

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "GET",
      .pattern = fmt::format("{}/service-info", kDrsBase),
      .action = "ga4gh.info",
      .resource = "system",
      .handler = [](Request&) {
        return Response::Json(
            200, json{{"id", "jp.zengen.drs"},
                      {"name", "Zengen DRS"},
                      {"type", {{"group", "org.ga4gh"}, {"artifact", "drs"}, {"version", "1.2.0"}}},
                      {"description", "Consented, sanitised genome files of the program"},
                      {"organization", {{"name", "Zengen"}, {"url", "https://zengen.invalid"}}},
                      {"version", "1.2.0"}});
      },
  }));

  auto drs_object = [src](const DataFile& f) {
    const std::string base = BaseUrl(*src);
    const std::string host = base.substr(base.find("://") + 3);
    const std::string datatype = (f.kind == "cram" || f.kind == "bam") ? "reads" : "variants";
    json methods = json::array();
    methods.push_back({{"type", "https"}, {"access_id", "https"}, {"region", "jp"}});
    // The link names the stored format: htsget's default (BAM, VCF) would be refused with
    // UnsupportedFormat for a CRAM or BCF, and clients do not guess.
    methods.push_back({{"type", "htsget"},
                       {"access_url",
                        {{"url", fmt::format("{}{}/{}/{}?format={}", base, kHtsgetBase, datatype,
                                             f.id, StoredFormat(f))}}},
                       {"region", "jp"}});
    return json{{"id", f.id},
                {"self_uri", fmt::format("drs://{}/{}", host, f.id)},
                {"name", f.file_name},
                {"size", f.size},
                {"created_time", f.created_at},
                {"mime_type", "application/octet-stream"},
                {"checksums", json::array({{{"checksum", f.sha256}, {"type", "sha-256"}}})},
                {"access_methods", methods}};
  };

  // DRS authorisation discovery (OPTIONS, DRS 1.2+): how to authenticate. Public, and the
  // same answer for every id, so it cannot be used to learn which objects exist.
  ZG_RETURN_IF_ERROR(router.Add({
      .method = "OPTIONS",
      .pattern = fmt::format("{}/objects/{{id}}", kDrsBase),
      .action = "ga4gh.info",
      .resource = "system",
      .handler = [src](Request& req) -> Response {
        return Response::Json(
            200, json{{"drs_object_id", req.path_params.at("id")},
                      {"supported_types", json::array({"BearerAuth"})},
                      {"bearer_auth_issuers",
                       json::array({BaseUrl(*src)})}});
      },
  }));

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "GET",
      .pattern = fmt::format("{}/objects/{{id}}", kDrsBase),
      .action = "drs.read",
      .resource = "file",
      .handler = [src, drs_object](Request& req) -> Response {
        const std::string& id = req.path_params.at("id");
        auto file = src->files.GetFile(id);
        if (!file.ok() || file->kind == "fastq") {
          return DrsError(404, fmt::format("no object '{}'", id));
        }
        auto visible = VisibleSamples(*src, req, *file);
        if (!visible.ok()) return DrsFrom(visible.error());
        json obj = drs_object(*file);
        if (!visible->all) {
          // The bytes as stored hold samples this caller may not see: only htsget, which
          // serves the visible columns, is offered.
          json methods = json::array();
          for (const auto& m : obj["access_methods"]) {
            if (m["type"] == "htsget") methods.push_back(m);
          }
          obj["access_methods"] = methods;
        }
        return Response::Json(200, obj);
      },
      .refuse = DrsFrom,
  }));

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "GET",
      .pattern = fmt::format("{}/objects/{{id}}/access/{{access_id}}", kDrsBase),
      .action = "drs.read",
      .resource = "file",
      .handler = [src](Request& req) -> Response {
        const std::string& id = req.path_params.at("id");
        auto file = src->files.GetFile(id);
        if (!file.ok() || file->kind == "fastq") {
          return DrsError(404, fmt::format("no object '{}'", id));
        }
        auto visible = VisibleSamples(*src, req, *file);
        if (!visible.ok()) return DrsFrom(visible.error());
        if (req.path_params.at("access_id") != "https" || !visible->all) {
          return DrsError(404, "no such access method for this object");
        }
        json headers = json::array();
        if (const std::string auth = req.Header("Authorization"); !auth.empty()) {
          headers.push_back("Authorization: " + auth);
        }
        const std::string url = fmt::format("{}{}/blocks/{}?start=0&end={}",
                                            BaseUrl(*src), kHtsgetBase, id,
                                            file->size);
        return Response::Json(200, json{{"url", url}, {"headers", headers}});
      },
      .refuse = DrsFrom,
  }));
  return Status::Ok();
}

}  // namespace zengen::ga4gh
