#include "findings/report.h"

#include <gtest/gtest.h>

#include <regex>

namespace zengen::findings {
namespace {

FindingDetail Detail() {
  FindingDetail d;
  d.finding.id = "FD-0123456789ABCDEF";
  d.finding.participant_id = "ZG-AAAA-BBBB-CCCC-DDDD";
  d.finding.gene = "BRCA2";
  d.finding.variant = "NM_000059.4:c.5946del";
  d.finding.origin = "germline";
  d.finding.category = "secondary";
  d.finding.classification = "pathogenic";
  d.finding.acmg_sf_version = "3.2";
  d.finding.evidence = "PVS1 <script>alert(1)</script> & \"PM2\"";
  d.finding.state = "disclosed";
  d.history.push_back({.seq = 9, .event = "test_positive"});
  return d;
}

ReportFacts Facts(std::string local_id = "MRN-1", std::string hospital = "Kanto") {
  return {.local_id = std::move(local_id),
          .hospital_name = std::move(hospital),
          .clinician = "関東 太郎",
          .generated_on = "2026-11-24"};
}

// The markup between <main> and the appendix: what the patient reads.
std::string Explanation(const std::string& html) {
  const size_t from = html.find("<main>");
  const size_t to = html.find("class=\"appendix\"");
  EXPECT_NE(from, std::string::npos);
  EXPECT_NE(to, std::string::npos);
  return html.substr(from, to - from);
}

// Its text, without the markup.
std::string Words(const std::string& html) {
  return std::regex_replace(Explanation(html), std::regex("<[^>]*>"), "");
}

TEST(ReportTest, TheAppendixPrintsEveryFieldEscapedInJapaneseAndEnglish) {
  const std::string ja = ReportHtml(Detail(), Facts("MRN-<1>", "関東大学病院 & Co"), "ja");
  EXPECT_NE(ja.find("<html lang=\"ja\">"), std::string::npos);
  EXPECT_NE(ja.find("ゲノム解析結果のご報告"), std::string::npos);
  EXPECT_NE(ja.find("MRN-&lt;1&gt;"), std::string::npos);
  EXPECT_NE(ja.find("関東大学病院 &amp; Co"), std::string::npos);
  EXPECT_NE(ja.find("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;PM2&quot;"),
            std::string::npos);
  EXPECT_EQ(ja.find("<script>"), std::string::npos);
  EXPECT_NE(ja.find("二次的所見"), std::string::npos);
  EXPECT_NE(ja.find("臨床検査で確認済み"), std::string::npos);
  EXPECT_NE(ja.find("v3.2"), std::string::npos);
  EXPECT_NE(ja.find("ZG-AAAA-BBBB-CCCC-DDDD"), std::string::npos);
  EXPECT_NE(ja.find("2026年11月24日"), std::string::npos);
  EXPECT_NE(ja.find("付録: 技術的な詳細"), std::string::npos);

  const std::string en = ReportHtml(Detail(), Facts(), "en");
  EXPECT_NE(en.find("<html lang=\"en\">"), std::string::npos);
  EXPECT_NE(en.find("Report of a genome analysis result"), std::string::npos);
  EXPECT_NE(en.find("Secondary finding"), std::string::npos);
  EXPECT_NE(en.find("Confirmed by a clinical test"), std::string::npos);
  EXPECT_NE(en.find("2026-11-24"), std::string::npos);
  EXPECT_NE(en.find("Appendix: technical details"), std::string::npos);
  // A4 print stylesheet; the appendix starts its own page.
  EXPECT_NE(en.find("size: A4"), std::string::npos);
  EXPECT_NE(en.find(".appendix { break-before: page; }"), std::string::npos);
}

// The explanation comes before the technical table, in plain words chosen from the finding's
// category, origin, classification and confirmatory test, and names whom to ask.
TEST(ReportTest, APlainLanguageExplanationPrecedesTheTechnicalAppendix) {
  const std::string ja = ReportHtml(Detail(), Facts(), "ja");
  const std::string text = Words(ja);
  EXPECT_LT(ja.find("見つかったこと"), ja.find("<table>"));
  EXPECT_NE(text.find("二次的所見"), std::string::npos);
  EXPECT_NE(text.find("病気の原因になることが分かっている"), std::string::npos);
  EXPECT_NE(text.find("血のつながったご家族"), std::string::npos);
  EXPECT_NE(text.find("遺伝カウンセリング"), std::string::npos);
  EXPECT_NE(text.find("臨床検査でも確認されました"), std::string::npos);
  EXPECT_NE(Explanation(ja).find("<strong>Kanto</strong>"), std::string::npos);
  EXPECT_NE(text.find("担当: 関東 太郎"), std::string::npos);
  EXPECT_NE(Explanation(ja).find("<span class=\"gene\">BRCA2</span>"), std::string::npos);
  // No technical term of the appendix in the patient's part: no HGVS, no classification code.
  EXPECT_EQ(text.find("NM_000059"), std::string::npos);
  EXPECT_EQ(text.find("pathogenic"), std::string::npos);
  EXPECT_EQ(text.find("PVS1"), std::string::npos);
  // Japanese text holds no English sentence (four or more lower-case words in a row).
  EXPECT_FALSE(std::regex_search(text, std::regex("[a-z]{2,}( [a-z]{2,}){3,}"))) << text;

  const std::string en = Words(ReportHtml(Detail(), Facts(), "en"));
  EXPECT_NE(en.find("secondary finding"), std::string::npos);
  EXPECT_NE(en.find("known to cause disease"), std::string::npos);
  EXPECT_NE(en.find("blood relatives"), std::string::npos);
  EXPECT_NE(en.find("Your contact: 関東 太郎"), std::string::npos);
}

TEST(ReportTest, TheParagraphsFollowTheFindingsKind) {
  FindingDetail somatic = Detail();
  somatic.finding.origin = "somatic";
  somatic.finding.category = "primary";
  somatic.finding.acmg_sf_version = "";
  somatic.history.clear();
  EXPECT_EQ(ReportParagraphKeys(somatic),
            (std::vector<std::string>{"found.primary.somatic", "meaning.pathogenic",
                                      "family.somatic", "next.counselling", "next.treatment",
                                      "next.updates"}));
  const std::string s = ReportHtml(somatic, Facts(), "en");
  EXPECT_NE(s.find("Not required (somatic finding)"), std::string::npos);
  EXPECT_EQ(s.find("ACMG SF"), std::string::npos);
  EXPECT_NE(Words(s).find("not passed on to your family"), std::string::npos);

  FindingDetail pending = Detail();
  pending.history.clear();
  pending.finding.state = "confirmatory_test";
  EXPECT_EQ(ReportParagraphKeys(pending),
            (std::vector<std::string>{"found.secondary.germline", "meaning.pathogenic",
                                      "family.germline", "confirmation.pending",
                                      "next.counselling", "next.confirm", "next.relatives",
                                      "next.updates"}));
  EXPECT_NE(Words(ReportHtml(pending, Facts(), "en"))
                .find("a confirmatory test at the hospital is needed"),
            std::string::npos);

  // A germline result of uncertain significance, not confirmed: no word about relatives.
  FindingDetail vus = Detail();
  vus.finding.category = "primary";
  vus.finding.classification = "uncertain_significance";
  vus.history = {{.seq = 4, .event = "test_negative"}};
  EXPECT_EQ(ReportParagraphKeys(vus),
            (std::vector<std::string>{"found.primary.germline", "meaning.uncertain_significance",
                                      "confirmation.not_confirmed", "next.counselling",
                                      "next.updates"}));

  // Every combination the filing rules allow has its texts in both languages: no key is
  // printed in place of a paragraph.
  for (std::string_view category : kCategories) {
    for (std::string_view origin : kOrigins) {
      if (category == "secondary" && origin == "somatic") continue;  // refused at filing
      for (std::string_view classification : kClassifications) {
        FindingDetail d = Detail();
        d.finding.category = category;
        d.finding.origin = origin;
        d.finding.classification = classification;
        for (const char* lang : {"ja", "en"}) {
          const std::string html = ReportHtml(d, Facts(), lang);
          for (const std::string& key : ReportParagraphKeys(d)) {
            EXPECT_EQ(html.find(">" + key + "<"), std::string::npos) << key << " " << lang;
          }
        }
      }
    }
  }
}

TEST(ReportTest, AvailableFromCounsellingWhileBeingReturned) {
  for (const char* s : {"pre_disclosure_counselling", "confirmatory_test", "disclosed",
                        "disclosed_not_confirmed", "follow_up", "closed_returned"}) {
    EXPECT_TRUE(ReportAvailable(s)) << s;
  }
  for (const char* s : {"detected", "sent_to_sh", "contacting", "closed_by_preference",
                        "closed_withdrawn", "closed_site_decision", "reclassified"}) {
    EXPECT_FALSE(ReportAvailable(s)) << s;
  }
  EXPECT_EQ(HtmlEscape("a&b<c>\"'"), "a&amp;b&lt;c&gt;&quot;&#39;");
}

}  // namespace
}  // namespace zengen::findings
