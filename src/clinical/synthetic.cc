#include "clinical/synthetic.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>
#include <cstdlib>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "clinical/validate.h"

namespace zengen::clinical {
namespace {

// splitmix64: small, fast and the same on every platform.
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed * 0x9E3779B97F4A7C15ull + 0x5851F42D4C957F2Dull) {}
  uint64_t Next() {
    uint64_t z = (s_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  int64_t Range(int64_t lo, int64_t hi) {  // inclusive
    return lo + static_cast<int64_t>(Next() % static_cast<uint64_t>(hi - lo + 1));
  }
  bool Chance(int percent) { return Range(1, 100) <= percent; }
  template <typename T>
  const T& Pick(const std::vector<T>& v) {
    return v[static_cast<size_t>(Range(0, static_cast<int64_t>(v.size()) - 1))];
  }

 private:
  uint64_t s_;
};

// Format-valid sample codes. Topography/morphology/ICD-10 samples are code values only (no
// titles), as found on any pathology report.
const std::map<std::string, std::vector<std::string>>& Samples() {
  static const auto* m = new std::map<std::string, std::vector<std::string>>{
      {"icd10", {"C34.1", "C18.7", "C50.9", "E11.9", "I10", "J45.9", "K21.0", "N18.3"}},
      {"icdo3_topography", {"C34.1", "C18.7", "C50.9", "C16.9", "C22.0", "C61.9", "C25.0"}},
      {"icdo3_morphology", {"8140/3", "8070/3", "8500/3", "8046/3", "8144/3", "8480/3"}},
      {"hpo", {"HP:0001250", "HP:0001263", "HP:0000252", "HP:0001249", "HP:0004322"}},
      {"orpha", {"ORPHA:558", "ORPHA:166", "ORPHA:98896"}},
      {"mondo", {"MONDO:0007739", "MONDO:0008029"}},
      {"omim", {"154700", "300376"}},
      {"atc", {"L01XA03", "L01BC06", "L01FF01", "L01CD01"}},
      {"tnm_t", {"T1a", "T1b", "T2", "T2a", "T3", "T4", "Tis", "TX"}},
      {"tnm_n", {"N0", "N1", "N2a", "N3", "NX"}},
      {"tnm_m", {"M0", "M1", "M1a", "M1c", "MX"}},
      {"stage_group", {"IA1", "IB", "IIA", "IIB", "IIIA", "IIIC", "IV"}},
      {"gene_symbol", {"BRCA1", "FBN1", "DMD", "SCN1A", "MECP2", "TP53"}},
  };
  return *m;
}

std::string Digits(Rng& rng, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s.push_back(static_cast<char>('0' + rng.Range(0, 9)));
  return s;
}

std::string FormatSample(Rng& rng, const std::string& format) {
  if (auto it = Samples().find(format); it != Samples().end()) return rng.Pick(it->second);
  if (format == "meddra_llt") return "1" + Digits(rng, 7);
  if (format == "nanbyo") return std::to_string(rng.Range(1, 338));
  if (format == "yj") return Digits(rng, 4) + "F" + Digits(rng, 7);
  if (format == "facility_code") return Digits(rng, 10);
  if (format == "pseudonym") return "FAM-" + Digits(rng, 6);
  return "x";
}

// Days per window of the timeline: a field of rank r lies in
// [-(R - r + 1) * kWindow + 1, -(R - r) * kWindow] for the highest rank R.
constexpr int64_t kWindow = 60;

// The order of the dictionary's day fields, from its "order" checks: a field's rank is the
// length of the longest chain of checks placing fields before it. Keys are check paths
// ("category.field", "category.list[].field").
struct Timeline {
  std::map<std::string, int64_t, std::less<>> rank;
  int64_t max_rank = 0;
  std::map<std::string, std::string, std::less<>> birth_year_age;  // birth year path -> age path
};

const Timeline& TimelineOf(const Dictionary& d) {
  static std::map<const Dictionary*, Timeline>* cache = new std::map<const Dictionary*, Timeline>;
  static std::mutex* mu = new std::mutex;
  std::lock_guard lock(*mu);
  auto [it, inserted] = cache->try_emplace(&d);
  if (!inserted) return it->second;
  Timeline& t = it->second;
  // Longest paths by relaxation; the checks form no cycle in a sane dictionary, and the number
  // of rounds is bounded either way.
  for (size_t round = 0; round <= d.checks.size() + 1; ++round) {
    bool changed = false;
    for (const auto& c : d.checks) {
      if (c.kind != "order") continue;
      for (const auto& b : c.before) {
        for (const auto& a : c.after) {
          const int64_t want = t.rank[b] + 1;
          if (t.rank[a] < want && want <= 64) {
            t.rank[a] = want;
            changed = true;
          }
        }
      }
    }
    if (!changed) break;
  }
  for (const auto& [path, r] : t.rank) t.max_rank = std::max(t.max_rank, r);
  for (const auto& c : d.checks) {
    if (c.kind == "birth_year_age") t.birth_year_age[c.birth_year] = c.age;
  }
  return t;
}

struct Gen {
  const Dictionary& d;
  const Timeline& timeline;
  std::string_view program;
  int index_year = 0;  // 0: unknown
  Rng& rng;
};

json Object(Gen& g, const std::vector<Field>& fields, const json& record,
            const std::string& prefix);

// A value for field f (at check path `path`); item holds the answers given so far at f's level.
json Generate(Gen& g, const Field& f, const json& item, const json& record,
              const std::string& path) {
  const Dictionary& d = g.d;
  Rng& rng = g.rng;
  switch (f.type) {
    case FieldType::kEnum: {
      // "unknown" now and then, as in real data.
      const Value& v = rng.Pick(f.values);
      if (v.code == "unknown" && rng.Chance(70)) return f.values.front().code;
      return v.code;
    }
    case FieldType::kRelDay: {
      if (f.null_flavours && rng.Chance(5)) return "UNK";
      const auto r = g.timeline.rank.find(path);
      const int64_t rank = r == g.timeline.rank.end() ? 0 : r->second;
      const int64_t latest = -(g.timeline.max_rank - rank) * kWindow;
      return latest - rng.Range(0, kWindow - 1);
    }
    case FieldType::kInt: {
      if (const auto by = g.timeline.birth_year_age.find(path);
          by != g.timeline.birth_year_age.end()) {
        const std::string age_field = by->second.substr(by->second.find('.') + 1);
        const auto age = record.find(age_field);
        if (g.index_year > 0 && age != record.end() && age->is_number_integer()) {
          return g.index_year - age->get<int64_t>() - rng.Range(0, 1);
        }
        if (g.index_year > 0) return g.index_year - rng.Range(20, 80);
      }
      int64_t lo = static_cast<int64_t>(f.min.value_or(0));
      int64_t hi = static_cast<int64_t>(f.max.value_or(100));
      if (f.null_flavours && rng.Chance(5)) return "UNK";
      return rng.Range(lo, hi);
    }
    case FieldType::kDecimal: {
      const double lo = f.min.value_or(0), hi = f.max.value_or(100);
      const int64_t tenths = rng.Range(static_cast<int64_t>(std::ceil(lo * 10)),
                                       static_cast<int64_t>(std::floor(hi * 10)));
      if (tenths % 10 == 0) return tenths / 10;
      return static_cast<double>(tenths) / 10.0;
    }
    case FieldType::kDate:
      return fmt::format("{:04}-{:02}-{:02}", rng.Range(2000, 2025), rng.Range(1, 12),
                         rng.Range(1, 28));
    case FieldType::kBool:
      return rng.Chance(50);
    case FieldType::kString: {
      if (!f.format.empty()) return FormatSample(rng, f.format);
      std::string s = fmt::format("synthetic text {}", rng.Range(1, 9999));
      if (s.size() > f.max_length) s.resize(f.max_length);
      return s;
    }
    case FieldType::kCode: {
      std::string system = f.system;
      if (!f.system_from.empty()) system = item.value(f.system_from, "");
      const CodeSystem* cs = d.FindSystem(system);
      if (!cs) return "UNK";
      if (f.null_flavours && rng.Chance(5)) return "UNK";
      return FormatSample(rng, cs->format);
    }
    case FieldType::kList: {
      json arr = json::array();
      const int64_t n = rng.Range(std::max<int64_t>(1, static_cast<int64_t>(f.min_items)),
                                  std::max<int64_t>(3, static_cast<int64_t>(f.min_items)));
      for (int64_t i = 0; i < n; ++i) arr.push_back(Object(g, f.subfields, record, path + "[]."));
      return arr;
    }
  }
  return nullptr;
}

// Whether field f (at check path) can be generated: a birth year needs the index date.
bool Generable(const Gen& g, const std::string& path) {
  return g.index_year > 0 || !g.timeline.birth_year_age.contains(path);
}

json Object(Gen& g, const std::vector<Field>& fields, const json& record,
            const std::string& prefix) {
  json item = json::object();
  for (const auto& f : fields) {
    if (!Applies(f, item, record, g.program)) continue;
    if (!f.required && !g.rng.Chance(60)) continue;
    const std::string path = prefix + f.code;
    if (!Generable(g, path)) continue;
    item[f.code] = Generate(g, f, item, record, path);
  }
  return item;
}

}  // namespace

json SyntheticRecord(const Dictionary& dict, std::string_view category, std::string_view program,
                     uint64_t seed, bool complete, std::string_view index_date) {
  const Category* cat = dict.FindCategory(category);
  if (!cat) return json::object();
  Rng rng(seed);
  Gen g{dict, TimelineOf(dict), program, 0, rng};
  if (index_date.size() >= 4) g.index_year = std::atoi(std::string(index_date.substr(0, 4)).c_str());
  const std::string prefix = std::string(category) + ".";
  // The top level is built in place so that later conditions see earlier answers.
  json record = json::object();
  for (const auto& f : cat->fields) {
    if (!Applies(f, record, record, program)) continue;
    if (!f.required && !rng.Chance(60)) continue;
    const std::string path = prefix + f.code;
    if (!Generable(g, path)) continue;
    record[f.code] = Generate(g, f, record, record, path);
  }
  if (complete) return record;
  // Drop required answers, keeping only drops that leave a valid draft (a controlling answer
  // cannot go while the answers it controls stay).
  std::vector<std::string> required;
  for (const auto& f : cat->fields) {
    if (f.required && record.contains(f.code)) required.push_back(f.code);
  }
  bool dropped = false;
  for (size_t i = 0; i < required.size(); ++i) {
    const std::string& code = required[(i + seed) % required.size()];
    json trial = record;
    trial.erase(code);
    if (Validate(dict, category, trial, program, Mode::kDraft, CodeLists()).empty()) {
      record = std::move(trial);
      dropped = true;
      if (rng.Chance(50)) break;
    }
  }
  (void)dropped;
  return record;
}

}  // namespace zengen::clinical
