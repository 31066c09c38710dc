#include "variants/frequencies.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include <fmt/format.h>

#include "crypto/crypto.h"
#include "portal/suppression.h"

namespace zengen::variants {

using nlohmann::json;
using storage::Int;
using storage::Text;

namespace {

constexpr const char* kComputationColumns =
    "SELECT id, freshness, sites, releases, computed_at FROM variant_af_computations";

FrequencyComputation ComputationOf(const storage::Row& r) {
  FrequencyComputation c;
  c.id = r.Text(0);
  c.freshness = r.Text(1);
  c.sites = r.Int(2);
  c.releases = static_cast<int64_t>(json::parse(r.Text(3), nullptr, false).size());
  c.computed_at = r.Text(4);
  return c;
}

// One class × release: its samples.
struct Cell {
  std::string release;
  std::string klass;
  Roaring bits;
};

double Mid(int64_t band) { return static_cast<double>(band) + (portal::kBase - 1) / 2.0; }

// Computations of every object in the process, one at a time.
std::recursive_mutex compute_mu;  // Refresh holds it around Compute

bool ValidContigName(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '_' || c == '.' || c == '-' || c == '*';
  });
}

}  // namespace

const std::vector<std::string>& ConsentClasses() {
  static const std::vector<std::string> kClasses = {"research", "commercial"};
  return kClasses;
}

PublicFrequencies::PublicFrequencies(storage::Store& store, Cohort& cohort, const Clock& clock,
                                     AuditSink& audit, FrequencySources sources, Options options)
    : store_(store),
      cohort_(cohort),
      clock_(clock),
      audit_(audit),
      sources_(std::move(sources)),
      options_(options) {}

Result<std::string> PublicFrequencies::Freshness() {
  int64_t consent = 0;
  if (sources_.consent_changes) {
    ZG_ASSIGN_OR_RETURN(consent, sources_.consent_changes());
  }
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> releases;
  if (sources_.public_releases) {
    ZG_ASSIGN_OR_RETURN(releases, sources_.public_releases());
  }
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
  ZG_ASSIGN_OR_RETURN(auto batches, tx->Query("SELECT COUNT(*) FROM variant_batches"));
  std::string key = fmt::format("consent={};batches={};releases=", consent,
                                batches.rows[0].Int(0));
  for (const auto& [id, files] : releases) key += fmt::format("{}:{},", id, files.size());
  return key;
}

Result<FrequencyComputation> PublicFrequencies::Current() {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
  ZG_ASSIGN_OR_RETURN(auto rows, tx->Query(kComputationColumns));
  if (rows.empty()) return FrequencyComputation{};
  return ComputationOf(rows.rows[0]);
}

Result<FrequencyComputation> PublicFrequencies::Refresh(const Actor& actor) {
  ZG_ASSIGN_OR_RETURN(std::string now, Freshness());
  ZG_ASSIGN_OR_RETURN(FrequencyComputation current, Current());
  if (!current.id.empty() && current.freshness == now) return current;
  std::lock_guard lock(compute_mu);
  // Another caller may have computed meanwhile.
  ZG_ASSIGN_OR_RETURN(now, Freshness());
  ZG_ASSIGN_OR_RETURN(current, Current());
  if (!current.id.empty() && current.freshness == now) return current;
  return Compute(actor);
}

Result<FrequencyComputation> PublicFrequencies::Compute(const Actor& actor) {
  std::lock_guard lock(compute_mu);
  // The key first: a consent change after this point makes the result stale, never wrong
  // for long (the next answer sees the new key and computes again).
  ZG_ASSIGN_OR_RETURN(std::string freshness, Freshness());
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> releases;
  if (sources_.public_releases) {
    ZG_ASSIGN_OR_RETURN(releases, sources_.public_releases());
  }
  ZG_ASSIGN_OR_RETURN(std::vector<CohortSample> samples, cohort_.Samples());
  // Each participant's classes, asked once.
  std::map<std::string, ClassMembership> membership;
  std::vector<Cell> cells;
  for (const auto& [release, files] : releases) {
    std::set<std::string> covered;
    std::set<std::string> participants;
    for (const auto& f : files) {
      covered.insert(f.first);
      participants.insert(f.second);
    }
    Cell research{release, "research", {}};
    Cell commercial{release, "commercial", {}};
    for (const auto& s : samples) {
      // The file is the release's, and so is the participant (a joint file's other samples
      // count only when their participants are in the release too).
      if (!covered.contains(s.file_id) || !participants.contains(s.participant_id)) continue;
      auto m = membership.find(s.participant_id);
      if (m == membership.end()) {
        ClassMembership c;
        if (sources_.classes) {
          ZG_ASSIGN_OR_RETURN(c, sources_.classes(s.participant_id));
        }
        m = membership.emplace(s.participant_id, c).first;
      }
      if (m->second.research) research.bits.add(s.bit);
      if (m->second.research && m->second.commercial) commercial.bits.add(s.bit);
    }
    cells.push_back(std::move(research));
    cells.push_back(std::move(commercial));
  }
  // Releases nested in every class (outer ⊇ inner).
  json release_list = json::array();
  for (const auto& [release, files] : releases) {
    json nested_in = json::array();
    for (const auto& [outer, outer_files] : releases) {
      if (outer == release) continue;
      bool inside = true;
      for (const auto& klass : ConsentClasses()) {
        const Cell* in = nullptr;
        const Cell* out = nullptr;
        for (const auto& c : cells) {
          if (c.klass != klass) continue;
          if (c.release == release) in = &c;
          if (c.release == outer) out = &c;
        }
        inside = inside && in != nullptr && out != nullptr && in->bits.isSubset(out->bits);
      }
      if (inside) nested_in.push_back(outer);
    }
    release_list.push_back({{"id", release}, {"nested_in", nested_in}});
  }
  Roaring any;
  for (const auto& c : cells) any |= c.bits;

  // Contigs and their extents.
  std::vector<std::pair<std::string, int64_t>> contigs;
  {
    ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
    ZG_ASSIGN_OR_RETURN(auto rows, tx->Query("SELECT chrom, MAX(region_end) FROM variant_chunks "
                                             "GROUP BY chrom ORDER BY chrom"));
    for (const auto& r : rows.rows) contigs.emplace_back(r.Text(0), r.Int(1));
  }
  struct Row {
    Site site;
    size_t cell;
    int64_t ac, an, carriers;
  };
  std::vector<Row> rows;
  std::set<Site> listed;
  if (!any.isEmpty()) {
    for (const auto& [chrom, extent] : contigs) {
      for (int64_t start = 1; start < extent; start += options_.window) {
        const int64_t end = std::min(extent - 1, start + options_.window - 1);
        ZG_ASSIGN_OR_RETURN(std::vector<Chunk> chunks, cohort_.Chunks(chrom, start, end));
        std::set<Site> carried;
        for (const SiteCount& c : Count(chunks, chrom, start, end, any)) carried.insert(c.site);
        if (carried.empty()) continue;
        for (size_t i = 0; i < cells.size(); ++i) {
          for (const SiteCount& c : CountEvery(chunks, chrom, start, end, cells[i].bits)) {
            if (!carried.contains(c.site)) continue;
            rows.push_back({c.site, i, c.ac, c.an, c.het + c.hom});
          }
        }
        listed.insert(carried.begin(), carried.end());
      }
    }
  }

  FrequencyComputation out;
  out.id = "AF-" + crypto::ToHex(crypto::RandomBytes(8));
  std::transform(out.id.begin(), out.id.end(), out.id.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  out.freshness = freshness;
  out.sites = static_cast<int64_t>(listed.size());
  out.releases = static_cast<int64_t>(releases.size());
  out.computed_at = FormatRfc3339(clock_.Now());
  out.computed = true;
  {
    // One transaction: the old computation's rows go and the new ones come together.
    ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kWrite));
    ZG_RETURN_IF_ERROR(tx->Exec("DELETE FROM variant_public_af").status());
    ZG_RETURN_IF_ERROR(tx->Exec("DELETE FROM variant_af_computations").status());
    ZG_RETURN_IF_ERROR(tx->Exec("INSERT INTO variant_af_computations (id, freshness, releases, "
                                "sites, computed_by, computed_at) VALUES ($1, $2, $3, $4, $5, $6)",
                                {Text(out.id), Text(out.freshness), Text(release_list.dump()),
                                 Int(out.sites), Text(actor.user), Text(out.computed_at)})
                           .status());
    for (const Row& r : rows) {
      ZG_RETURN_IF_ERROR(
          tx->Exec("INSERT INTO variant_public_af (computation_id, chrom, pos, ref, alt, "
                   "release_id, consent_class, ac, an, carriers) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, "
                   "$9, $10)",
                   {Text(out.id), Text(r.site.chrom), Int(r.site.pos), Text(r.site.ref),
                    Text(r.site.alt), Text(cells[r.cell].release), Text(cells[r.cell].klass),
                    Int(r.ac), Int(r.an), Int(r.carriers)})
              .status());
    }
    ZG_RETURN_IF_ERROR(tx->Commit());
  }
  ZG_RETURN_IF_ERROR(audit_.Append(
      {.actor = actor.user,
       .source = actor.source,
       .action = "variants.frequencies",
       .resource = "variant_frequencies/" + out.id,
       .decision = "",
       .reason = "public allele frequencies computed",
       .request_id = actor.request_id,
       .details = json{{"sites", out.sites},
                       {"releases", release_list},
                       {"freshness", out.freshness}}
                      .dump()}));
  return out;
}

json PublishSite(const SiteCells& site, const std::vector<std::string>& releases,
                 const std::vector<std::pair<std::string, std::string>>& nested) {
  portal::Publication pub;
  // ids[(release, class)] = (ac id, an id)
  std::map<std::pair<std::string, std::string>, std::pair<size_t, size_t>> ids;
  // people[(release, class)] = the carriers' cell id (people, not alleles).
  std::map<std::pair<std::string, std::string>, size_t> people;
  for (const auto& release : releases) {
    for (const auto& klass : ConsentClasses()) {
      auto it = site.cells.find({release, klass});
      const auto [ac, an] = it == site.cells.end() ? std::pair<int64_t, int64_t>{0, 0} : it->second;
      const std::string name = release + "." + klass;
      ids[{release, klass}] = {pub.Add(name + ".ac", ac), pub.Add(name + ".an", an)};
      auto p = site.carriers.find({release, klass});
      people[{release, klass}] =
          pub.Add(name + ".carriers", p == site.carriers.end() ? 0 : p->second);
    }
    const auto& r = ids[{release, "research"}];
    const auto& c = ids[{release, "commercial"}];
    pub.Subset(r.first, c.first);
    pub.Subset(r.second, c.second);
    pub.Subset(people[{release, "research"}], people[{release, "commercial"}]);
  }
  for (const auto& [outer, inner] : nested) {
    for (const auto& klass : ConsentClasses()) {
      const auto o = ids.find({outer, klass});
      const auto i = ids.find({inner, klass});
      if (o == ids.end() || i == ids.end()) continue;
      pub.Subset(o->second.first, i->second.first);
      pub.Subset(o->second.second, i->second.second);
      pub.Subset(people[{outer, klass}], people[{inner, klass}]);
    }
  }
  const std::vector<portal::Shown> shown = pub.Protect();
  json cells = json::array();
  for (const auto& release : releases) {
    for (const auto& klass : ConsentClasses()) {
      const auto [ac_id, an_id] = ids[{release, klass}];
      // Ten alleles can be five homozygous people: an allele count is shown only when the
      // people carrying it are themselves shown as ten or more; otherwise it is withheld
      // (a count below ten stays "<10", which says less).
      const portal::Shown& carriers = shown[people[{release, klass}]];
      portal::Shown ac = shown[ac_id];
      if (ac.band > 0 && (carriers.withheld || carriers.band == 0)) ac.withheld = true;
      const portal::Shown& an = shown[an_id];
      json af = nullptr;
      if (!ac.withheld && !an.withheld && ac.band > 0 && an.band > 0) {
        af = std::round(std::min(1.0, Mid(ac.band) / Mid(an.band)) * 1000.0) / 1000.0;
      }
      cells.push_back({{"release", release},
                       {"class", klass},
                       {"ac", portal::ShownJson(ac)},
                       {"an", portal::ShownJson(an)},
                       {"af", af}});
    }
  }
  return cells;
}

Result<json> PublicFrequencies::Published(std::string_view chrom, int64_t start, int64_t end,
                                          int64_t page, int64_t page_size, json region) {
  ZG_RETURN_IF_ERROR(
      Refresh({.user = "system", .organisation = "", .roles = {}, .source = "system",
               .request_id = ""})
          .status());
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
  ZG_ASSIGN_OR_RETURN(auto comp, tx->Query(std::string(kComputationColumns)));
  json out = {{"region", std::move(region)},
              {"classes", ConsentClasses()},
              {"suppression", portal::MethodJson()},
              {"page", page},
              {"page_size", page_size}};
  std::vector<std::string> releases;
  std::vector<std::pair<std::string, std::string>> nested;
  std::string id;
  if (!comp.empty()) {
    id = comp.rows[0].Text(0);
    out["computed_at"] = comp.rows[0].Text(4);
    for (const auto& r : json::parse(comp.rows[0].Text(3), nullptr, false)) {
      releases.push_back(r.value("id", ""));
      for (const auto& o : r.value("nested_in", json::array())) {
        nested.emplace_back(o.get<std::string>(), releases.back());
      }
    }
  } else {
    out["computed_at"] = nullptr;
  }
  out["releases"] = releases;
  std::map<Site, SiteCells> sites;
  if (!id.empty()) {
    ZG_ASSIGN_OR_RETURN(auto rows,
                        tx->Query("SELECT chrom, pos, ref, alt, release_id, consent_class, ac, an, carriers "
                                  "FROM variant_public_af WHERE computation_id = $1 AND chrom = $2 "
                                  "AND pos >= $3 AND pos <= $4",
                                  {Text(id), Text(std::string(chrom)), Int(start), Int(end)}));
    for (const auto& r : rows.rows) {
      Site s{r.Text(0), r.Int(1), r.Text(2), r.Text(3)};
      sites[s].cells[{r.Text(4), r.Text(5)}] = {r.Int(6), r.Int(7)};
      sites[s].carriers[{r.Text(4), r.Text(5)}] = r.Int(8);
    }
  }
  out["total_sites"] = sites.size();
  json list = json::array();
  int64_t index = 0;
  const int64_t first = (page - 1) * page_size;
  for (const auto& [site, cells] : sites) {
    if (index >= first && index < first + page_size) {
      list.push_back({{"chrom", site.chrom},
                      {"pos", site.pos},
                      {"ref", site.ref},
                      {"alt", site.alt},
                      {"cells", PublishSite(cells, releases, nested)}});
    }
    ++index;
  }
  out["sites"] = std::move(list);
  return out;
}

Status AddFrequencyRoutes(http::Router& router, std::shared_ptr<PublicFrequencies> frequencies,
                          Cohort& cohort) {
  return router.Add(
      {.method = "GET",
       .pattern = "/api/v1/portal/variant-frequencies",
       .action = "portal.read",
       .resource = "portal",
       .handler = http::Wrap([frequencies, &cohort](http::Request& req)
                                 -> Result<http::Response> {
         auto param = [&](const char* name) -> std::string {
           auto it = req.query.find(name);
           return it == req.query.end() ? std::string() : it->second;
         };
         std::string chrom;
         int64_t start = 0, end = 0;
         json region = json::object();
         const std::string gene = param("gene");
         if (!gene.empty()) {
           if (gene.size() > 200) {
             return InvalidArgument("invalid_parameter", "gene: too long", "gene");
           }
           ZG_ASSIGN_OR_RETURN(GeneInterval g, cohort.Gene(gene));
           chrom = g.chrom;
           start = g.start;
           end = g.end;
           region["gene"] = gene;
         } else {
           chrom = param("chrom");
           if (chrom.empty()) {
             return InvalidArgument("missing_field",
                                    "chrom (with start and end) or gene is required", "chrom");
           }
           if (!ValidContigName(chrom)) {
             return InvalidArgument("invalid_parameter", "chrom: not a contig name", "chrom");
           }
           if (param("start").empty()) {
             return InvalidArgument("missing_field", "start is required with chrom", "start");
           }
           if (param("end").empty()) {
             return InvalidArgument("missing_field", "end is required with chrom", "end");
           }
           ZG_ASSIGN_OR_RETURN(start, http::IntQueryParam(req, "start", 1, 1, int64_t{1} << 40));
           ZG_ASSIGN_OR_RETURN(end, http::IntQueryParam(req, "end", start, 1, int64_t{1} << 40));
           if (end < start) {
             return InvalidArgument("invalid_parameter", "end: must not be before start", "end");
           }
         }
         if (end - start + 1 > kMaxPublicRegion) {
           return InvalidArgument("portal_region_too_large",
                                  fmt::format("at most {} bases per query", kMaxPublicRegion),
                                  gene.empty() ? "end" : "gene");
         }
         region["chrom"] = chrom;
         region["start"] = start;
         region["end"] = end;
         ZG_ASSIGN_OR_RETURN(int64_t page, http::IntQueryParam(req, "page", 1, 1, 1'000'000));
         ZG_ASSIGN_OR_RETURN(int64_t page_size, http::IntQueryParam(req, "page_size", 50, 1, 200));
         ZG_ASSIGN_OR_RETURN(json out, frequencies->Published(chrom, start, end, page, page_size,
                                                              std::move(region)));
         return http::Response::Json(200, out);
       })});
}

}  // namespace zengen::variants
