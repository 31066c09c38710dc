#include "findings/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

namespace zengen::findings {
namespace {

struct Text {
  const char* ja;
  const char* en;
};

// Labels of the page and of the technical appendix.
const std::map<std::string_view, Text>& Labels() {
  static const auto* labels = new std::map<std::string_view, Text>{
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
      {"pending", {"未実施 (診断には確認検査が必要)", "Not yet done (needed before diagnosis)"}},
      {"not_needed", {"不要 (体細胞所見)", "Not required (somatic finding)"}},
      {"h_found", {"見つかったこと", "What was found"}},
      {"h_meaning", {"この結果の意味", "What it may mean"}},
      {"h_next", {"これから", "What happens next"}},
      {"h_contact", {"お問い合わせ", "Whom to ask"}},
      {"h_appendix", {"付録: 技術的な詳細", "Appendix: technical details"}},
      {"appendix_intro",
       {"この付録は、医療者のための技術的な記録です。",
        "This appendix is the technical record for health professionals."}},
      {"contact",
       {"この報告書についてのお問い合わせは、{hospital}までお願いします。",
        "Please address questions about this report to {hospital}."}},
      {"contact_person", {"担当: {clinician}", "Your contact: {clinician}"}},
  };
  return *labels;
}

// The plain-language explanation, as data: each paragraph is chosen by a key built from the
// finding's category and origin ("found."), classification ("meaning."), origin ("family."),
// confirmatory test ("confirmation.") and the steps that apply to it ("next."). {gene} is
// replaced by the gene's symbol.
const std::map<std::string_view, Text>& Paragraphs() {
  static const auto* paragraphs = new std::map<std::string_view, Text>{
      {"found.primary.somatic",
       {"あなたの腫瘍（がん）の細胞を調べたところ、{gene} という遺伝子に変化が見つかりました。"
        "この変化は腫瘍の細胞で起きたもので、生まれつき持っているものではありません。",
        "In the cells of your tumour (cancer) we found a change in a gene called {gene}. The "
        "change arose in the tumour cells: you were not born with it."}},
      {"found.primary.germline",
       {"あなたが生まれつき持っている遺伝子を調べたところ、ご病気に関係する {gene} という遺伝子"
        "に変化が見つかりました。",
        "In the genes you were born with we found a change in a gene called {gene} that is "
        "related to your illness."}},
      {"found.secondary.germline",
       {"ご病気の原因を調べる中で、ご病気とは別に、{gene} という遺伝子に、これからの健康管理に"
        "役立つ可能性のある変化が見つかりました（「二次的所見」といいます）。このような結果も"
        "知りたいと、同意書でご希望いただいていました。",
        "While looking for the cause of your illness we also found a change in a gene called "
        "{gene} that is not related to it but may matter for your future health care (a "
        "\"secondary finding\"). In your consent you asked to be told of such results."}},
      {"found.reinterpretation.somatic",
       {"以前お伝えした、腫瘍の細胞の {gene} という遺伝子の変化について、その後の研究で分かった"
        "ことをもとに評価を見直しました。この報告書は、見直した後の評価をお伝えするものです。",
        "We have re-assessed the change in the gene called {gene} in your tumour cells that we "
        "told you about before, in the light of newer research. This report gives the new "
        "assessment."}},
      {"found.reinterpretation.germline",
       {"以前お伝えした、生まれつきの {gene} という遺伝子の変化について、その後の研究で分かった"
        "ことをもとに評価を見直しました。この報告書は、見直した後の評価をお伝えするものです。",
        "We have re-assessed the change you were born with in the gene called {gene}, which we "
        "told you about before, in the light of newer research. This report gives the new "
        "assessment."}},
      {"meaning.pathogenic",
       {"この変化は、病気の原因になることが分かっている変化です。",
        "This change is known to cause disease."}},
      {"meaning.likely_pathogenic",
       {"この変化は、病気の原因になる可能性が高いと考えられている変化です。",
        "This change is thought likely to cause disease."}},
      {"meaning.uncertain_significance",
       {"この変化が健康に影響するかどうかは、今の医学ではまだ分かっていません。この結果だけで"
        "治療や検査の方針を変えることはありません。",
        "Whether this change affects health is not yet known. This result alone does not "
        "change your treatment or check-ups."}},
      {"meaning.likely_benign",
       {"この変化は、健康への影響はほとんどないと考えられています。",
        "This change is thought to have little or no effect on health."}},
      {"meaning.benign",
       {"この変化は、健康に影響しないと考えられています。",
        "This change is thought to have no effect on health."}},
      {"family.somatic",
       {"腫瘍の細胞だけにある変化なので、ご家族に受け継がれることはありません。",
        "Because the change is only in the tumour cells, it is not passed on to your family."}},
      {"family.germline",
       {"生まれつきの変化なので、血のつながったご家族（親、きょうだい、お子さんなど）も同じ変化"
        "を持っている可能性があります。",
        "Because you were born with this change, your blood relatives (parents, brothers and "
        "sisters, children) may carry the same change."}},
      {"confirmation.confirmed",
       {"この結果は、病院の臨床検査でも確認されました。",
        "A clinical test at the hospital has confirmed this result."}},
      {"confirmation.not_confirmed",
       {"病院の臨床検査では、この結果は確認されませんでした。研究の解析で見つかった変化は、"
        "実際にはない可能性があります。",
        "A clinical test at the hospital did not confirm this result: the change found by the "
        "research analysis may not be there."}},
      {"confirmation.pending",
       {"これは研究として行った解析の結果です。診断に使うには、病院で確認のための検査"
        "（確認検査）を受ける必要があります。",
        "This is the result of a research analysis. Before it can be used for diagnosis, a "
        "confirmatory test at the hospital is needed."}},
      {"next.counselling",
       {"担当医または遺伝カウンセラーが、この結果について詳しくご説明します。分からないことや"
        "心配なことは、遠慮なくご相談ください。",
        "Your doctor or a genetic counsellor will explain this result in detail. Please ask "
        "about anything that is unclear or worries you."}},
      {"next.confirm",
       {"確認検査を受けるかどうかを含めて、担当医とご相談ください。",
        "Talk with your doctor about the confirmatory test, including whether to have it."}},
      {"next.treatment",
       {"この結果を治療に生かせるかどうか（この変化に合った治療薬があるかなど）、担当医と"
        "話し合ってください。",
        "Discuss with your doctor whether this result can help your treatment (for example, "
        "whether a medicine suited to this change exists)."}},
      {"next.relatives",
       {"ご家族にこの結果を伝えるかどうか、どのように伝えるかは、遺伝カウンセリングで一緒に"
        "考えることができます。ご家族が検査を希望される場合もご相談ください。",
        "Whether and how to tell your relatives can be worked out together in genetic "
        "counselling. Please also ask if a relative wishes to be tested."}},
      {"next.updates",
       {"研究が進んで評価が変わった場合は、同意いただいた範囲で改めてお知らせします。同意の"
        "内容はいつでも変更・撤回できます。",
        "If new research changes this assessment, we will tell you again, as far as your "
        "consent allows. You can change or withdraw your consent at any time."}},
  };
  return *paragraphs;
}

std::string Pick(const std::map<std::string_view, Text>& table, std::string_view key, bool ja) {
  const auto it = table.find(key);
  if (it == table.end()) return std::string(key);
  return ja ? it->second.ja : it->second.en;
}

std::string L(std::string_view key, bool ja) { return Pick(Labels(), key, ja); }

// Replaces every {name} in text by value.
std::string Fill(std::string text, std::string_view name, std::string_view value) {
  const std::string marker = fmt::format("{{{}}}", name);
  for (size_t at = text.find(marker); at != std::string::npos;
       at = text.find(marker, at + value.size())) {
    text.replace(at, marker.size(), value);
  }
  return text;
}

// "confirmed", "not_confirmed", "pending" (germline without a result yet) or "not_needed".
std::string ConfirmationState(const FindingDetail& d) {
  if (d.finding.origin == "somatic") return "not_needed";
  for (const auto& e : d.history) {
    if (e.event == "test_positive") return "confirmed";
    if (e.event == "test_negative") return "not_confirmed";
  }
  return "pending";
}

bool Actionable(std::string_view classification) {
  return classification == "pathogenic" || classification == "likely_pathogenic";
}

// YYYY-MM-DD as the language writes a date: 2026年12月7日 or 2026-12-07.
std::string DateIn(std::string_view date, bool ja) {
  if (!ja || date.size() != 10 || date[4] != '-' || date[7] != '-') return std::string(date);
  const auto number = [&](size_t at, size_t n) {
    int v = 0;
    for (size_t i = at; i < at + n; ++i) {
      if (date[i] < '0' || date[i] > '9') return -1;
      v = v * 10 + (date[i] - '0');
    }
    return v;
  };
  const int y = number(0, 4), m = number(5, 2), day = number(8, 2);
  if (y < 0 || m < 0 || day < 0) return std::string(date);
  return fmt::format("{}年{}月{}日", y, m, day);
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

std::vector<std::string> ReportParagraphKeys(const FindingDetail& d) {
  const Finding& f = d.finding;
  const bool germline = f.origin == "germline";
  std::vector<std::string> keys;
  keys.push_back(fmt::format("found.{}.{}", f.category, f.origin));
  keys.push_back(fmt::format("meaning.{}", f.classification));
  if (Actionable(f.classification) || !germline) keys.push_back(fmt::format("family.{}", f.origin));
  const std::string confirmation = ConfirmationState(d);
  if (confirmation != "not_needed") keys.push_back("confirmation." + confirmation);
  keys.push_back("next.counselling");
  if (confirmation == "pending") keys.push_back("next.confirm");
  if (!germline && f.category != "secondary") keys.push_back("next.treatment");
  if (germline && Actionable(f.classification) && confirmation != "not_confirmed") {
    keys.push_back("next.relatives");
  }
  keys.push_back("next.updates");
  return keys;
}

std::string ReportHtml(const FindingDetail& d, const ReportFacts& facts, std::string_view lang) {
  const bool ja = lang != "en";
  const Finding& f = d.finding;
  // Paragraphs, grouped under their headings by the key's first part.
  std::map<std::string, std::string> sections;
  for (const std::string& key : ReportParagraphKeys(d)) {
    const std::string group = key.substr(0, key.find('.'));
    const std::string section = group == "found" ? "found" : group == "next" ? "next" : "meaning";
    const std::string text =
        Fill(HtmlEscape(Pick(Paragraphs(), key, ja)), "gene",
             fmt::format("<span class=\"gene\">{}</span>", HtmlEscape(f.gene)));
    sections[section] += section == "next"
                             ? fmt::format("<li data-key=\"{}\">{}</li>\n", key, text)
                             : fmt::format("<p data-key=\"{}\">{}</p>\n", key, text);
  }
  std::string contact = fmt::format(
      "<p>{}</p>\n", Fill(HtmlEscape(L("contact", ja)), "hospital",
                          fmt::format("<strong>{}</strong>", HtmlEscape(facts.hospital_name))));
  if (!facts.clinician.empty()) {
    contact += fmt::format("<p>{}</p>\n", Fill(HtmlEscape(L("contact_person", ja)), "clinician",
                                               HtmlEscape(facts.clinician)));
  }

  const auto row = [](const std::string& label, const std::string& value, bool code = false) {
    return fmt::format("<tr><th scope=\"row\">{}</th><td>{}{}{}</td></tr>\n", HtmlEscape(label),
                       code ? "<code>" : "", HtmlEscape(value), code ? "</code>" : "");
  };
  std::string rows;
  rows += row(L("patient", ja), facts.local_id, true);
  rows += row(L("pseudonym", ja), f.participant_id, true);
  rows += row(L("hospital", ja), facts.hospital_name);
  rows += row(L("finding", ja), f.id, true);
  rows += row(L("gene", ja), f.gene, true);
  rows += row(L("variant", ja), f.variant, true);
  rows += row(L("origin", ja), L(f.origin, ja));
  rows += row(L("category", ja), L(f.category, ja));
  rows += row(L("classification", ja), L(f.classification, ja));
  if (!f.acmg_sf_version.empty()) rows += row(L("acmg", ja), "v" + f.acmg_sf_version);
  rows += row(L("evidence", ja), f.evidence, true);
  rows += row(L("confirmation", ja), L(ConfirmationState(d), ja));
  rows += row(L("date", ja), DateIn(facts.generated_on, ja));

  return fmt::format(R"(<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
@page {{ size: A4; margin: 18mm 16mm; }}
body {{ font-family: "Noto Sans CJK JP", "Noto Sans JP", sans-serif; margin: 2em auto; max-width: 46em;
       color: #000; line-height: 1.7; font-size: 11pt; }}
header p {{ margin: 0; }}
h1 {{ font-size: 1.6em; margin: 0.3em 0; }}
h2 {{ font-size: 1.15em; border-bottom: 1px solid #444; margin-top: 1.4em; }}
dl.meta {{ display: grid; grid-template-columns: max-content 1fr; gap: 0 1em; margin: 0.5em 0 1em; }}
dl.meta dt {{ font-weight: bold; }}
dl.meta dd {{ margin: 0; }}
.gene {{ font-weight: bold; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ border: 1px solid #444; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }}
th {{ width: 30%; background: #eee; }}
code {{ font-family: inherit; overflow-wrap: anywhere; }}
.appendix {{ font-size: 0.9em; }}
@media print {{
  body {{ margin: 0; max-width: none; }}
  .appendix {{ break-before: page; }}
  h2, li, p {{ break-inside: avoid; }}
}}
</style>
</head>
<body>
<header>
<p>{program}</p>
<h1>{title}</h1>
<dl class="meta">
<dt>{l_hospital}</dt><dd>{hospital}</dd>
<dt>{l_patient}</dt><dd><code>{local_id}</code></dd>
<dt>{l_date}</dt><dd>{date}</dd>
</dl>
</header>
<main>
<section aria-labelledby="h-found"><h2 id="h-found">{h_found}</h2>
{found}</section>
<section aria-labelledby="h-meaning"><h2 id="h-meaning">{h_meaning}</h2>
{meaning}</section>
<section aria-labelledby="h-next"><h2 id="h-next">{h_next}</h2>
<ul>
{next}</ul>
</section>
<section aria-labelledby="h-contact"><h2 id="h-contact">{h_contact}</h2>
{contact}</section>
<section class="appendix" aria-labelledby="h-appendix"><h2 id="h-appendix">{h_appendix}</h2>
<p>{appendix_intro}</p>
<table>
{rows}</table>
</section>
</main>
</body>
</html>
)",
                     fmt::arg("lang", ja ? "ja" : "en"),
                     fmt::arg("title", HtmlEscape(L("title", ja))),
                     fmt::arg("program", HtmlEscape(L("program", ja))),
                     fmt::arg("l_hospital", HtmlEscape(L("hospital", ja))),
                     fmt::arg("hospital", HtmlEscape(facts.hospital_name)),
                     fmt::arg("l_patient", HtmlEscape(L("patient", ja))),
                     fmt::arg("local_id", HtmlEscape(facts.local_id)),
                     fmt::arg("l_date", HtmlEscape(L("date", ja))),
                     fmt::arg("date", HtmlEscape(DateIn(facts.generated_on, ja))),
                     fmt::arg("h_found", HtmlEscape(L("h_found", ja))),
                     fmt::arg("found", sections["found"]),
                     fmt::arg("h_meaning", HtmlEscape(L("h_meaning", ja))),
                     fmt::arg("meaning", sections["meaning"]),
                     fmt::arg("h_next", HtmlEscape(L("h_next", ja))),
                     fmt::arg("next", sections["next"]),
                     fmt::arg("h_contact", HtmlEscape(L("h_contact", ja))),
                     fmt::arg("contact", contact),
                     fmt::arg("h_appendix", HtmlEscape(L("h_appendix", ja))),
                     fmt::arg("appendix_intro", HtmlEscape(L("appendix_intro", ja))),
                     fmt::arg("rows", rows));
}

}  // namespace zengen::findings
