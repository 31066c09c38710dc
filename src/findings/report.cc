#include "findings/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

namespace zengen::findings {
namespace {

struct Label {
  const char* ja;
  const char* en;
};

const std::map<std::string_view, Label>& Labels() {
  static const auto* labels = new std::map<std::string_view, Label>{
      {"title", {"ゲノム解析結果のご報告", "Report of a genome analysis result"}},
      {"program", {"全ゲノム解析等実行計画", "Whole Genome Analysis Action Plan (Japan)"}},
      {"patient", {"患者ID (院内)", "Patient ID (hospital)"}},
      {"pseudonym", {"研究用ID", "Research ID (pseudonym)"}},
      {"hospital", {"医療機関", "Hospital"}},
      {"finding", {"所見ID", "Finding ID"}},
      {"gene", {"遺伝子", "Gene"}},
      {"variant", {"バリアント (HGVS)", "Variant (HGVS)"}},
      {"origin", {"由来", "Origin"}},
      {"category", {"区分", "Category"}},
      {"classification", {"病的意義の分類", "Classification"}},
      {"acmg", {"ACMG SF リスト版", "ACMG SF list version"}},
      {"evidence", {"根拠", "Evidence"}},
      {"confirmation", {"確認検査", "Confirmatory test"}},
      {"date", {"作成日", "Date"}},
      {"germline", {"生殖細胞系列", "Germline"}},
      {"somatic", {"体細胞", "Somatic"}},
      {"primary", {"一次的所見 (疾患関連)", "Primary (disease-related) finding"}},
      {"secondary", {"二次的所見", "Secondary finding"}},
      {"reinterpretation", {"再解釈による所見", "Re-interpreted result"}},
      {"pathogenic", {"病的", "Pathogenic"}},
      {"likely_pathogenic", {"病的の可能性が高い", "Likely pathogenic"}},
      {"uncertain_significance", {"意義不明", "Uncertain significance"}},
      {"likely_benign", {"良性の可能性が高い", "Likely benign"}},
      {"benign", {"良性", "Benign"}},
      {"confirmed", {"臨床検査で確認済み", "Confirmed by a clinical test"}},
      {"not_confirmed", {"臨床検査で確認されませんでした", "Not confirmed by a clinical test"}},
      {"pending",
       {"研究結果です。診断には臨床での確認検査が必要です。",
        "This is a research result. A clinical confirmatory test is needed before it can be "
        "used for diagnosis."}},
      {"not_needed", {"不要 (体細胞所見)", "Not required (somatic finding)"}},
      {"note",
       {"この結果について、担当医・遺伝カウンセラーから説明を受けてください。ご家族にも関係する"
        "可能性があります。",
        "Please discuss this result with your doctor or genetic counsellor. It may also matter "
        "for your relatives."}},
  };
  return *labels;
}

std::string L(std::string_view key, bool ja) {
  const auto it = Labels().find(key);
  if (it == Labels().end()) return std::string(key);
  return ja ? it->second.ja : it->second.en;
}

std::string Confirmation(const FindingDetail& d, bool ja) {
  if (d.finding.origin == "somatic") return L("not_needed", ja);
  for (const auto& e : d.history) {
    if (e.event == "test_positive") return L("confirmed", ja);
    if (e.event == "test_negative") return L("not_confirmed", ja);
  }
  return L("pending", ja);
}

}  // namespace

bool ReportAvailable(std::string_view state) {
  static constexpr std::string_view kStates[] = {"pre_disclosure_counselling",
                                                 "confirmatory_test", "disclosed",
                                                 "disclosed_not_confirmed", "follow_up",
                                                 "closed_returned"};
  return std::find(std::begin(kStates), std::end(kStates), state) != std::end(kStates);
}

std::string HtmlEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string ReportHtml(const FindingDetail& d, std::string_view local_id, std::string_view lang,
                       std::string_view hospital_name, std::string_view generated_on) {
  const bool ja = lang != "en";
  const Finding& f = d.finding;
  const auto row = [](const std::string& label, const std::string& value) {
    return fmt::format("<tr><th scope=\"row\">{}</th><td>{}</td></tr>\n", HtmlEscape(label),
                       HtmlEscape(value));
  };
  std::string rows;
  rows += row(L("patient", ja), std::string(local_id));
  rows += row(L("pseudonym", ja), f.participant_id);
  rows += row(L("hospital", ja), std::string(hospital_name));
  rows += row(L("finding", ja), f.id);
  rows += row(L("gene", ja), f.gene);
  rows += row(L("variant", ja), f.variant);
  rows += row(L("origin", ja), L(f.origin, ja));
  rows += row(L("category", ja), L(f.category, ja));
  rows += row(L("classification", ja), L(f.classification, ja));
  if (!f.acmg_sf_version.empty()) rows += row(L("acmg", ja), "v" + f.acmg_sf_version);
  rows += row(L("evidence", ja), f.evidence);
  rows += row(L("confirmation", ja), Confirmation(d, ja));
  rows += row(L("date", ja), std::string(generated_on));
  return fmt::format(R"(<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
body {{ font-family: "Noto Sans CJK JP", "Noto Sans JP", sans-serif; margin: 2em; color: #000; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ border: 1px solid #444; padding: 0.4em 0.6em; text-align: left; vertical-align: top; }}
th {{ width: 30%; background: #eee; }}
@media print {{ body {{ margin: 1cm; }} }}
</style>
</head>
<body>
<header><p>{program}</p><h1>{title}</h1></header>
<main>
<table>
{rows}</table>
<p>{note}</p>
</main>
</body>
</html>
)",
                     fmt::arg("lang", ja ? "ja" : "en"),
                     fmt::arg("title", HtmlEscape(L("title", ja))),
                     fmt::arg("program", HtmlEscape(L("program", ja))), fmt::arg("rows", rows),
                     fmt::arg("note", HtmlEscape(L("note", ja))));
}

}  // namespace zengen::findings
