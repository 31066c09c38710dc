#include "findings/report.h"

#include <gtest/gtest.h>

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

TEST(ReportTest, PrintsEveryFieldEscapedInJapaneseAndEnglish) {
  const std::string ja = ReportHtml(Detail(), "MRN-<1>", "ja", "関東大学病院 & Co", "2026-11-24");
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

  const std::string en = ReportHtml(Detail(), "MRN-1", "en", "Kanto", "2026-11-24");
  EXPECT_NE(en.find("<html lang=\"en\">"), std::string::npos);
  EXPECT_NE(en.find("Report of a genome analysis result"), std::string::npos);
  EXPECT_NE(en.find("Secondary finding"), std::string::npos);
  EXPECT_NE(en.find("Confirmed by a clinical test"), std::string::npos);
  EXPECT_NE(en.find("2026-11-24"), std::string::npos);

  FindingDetail pending = Detail();
  pending.history.clear();
  pending.finding.state = "confirmatory_test";
  EXPECT_NE(ReportHtml(pending, "x", "en", "h", "d").find("A clinical confirmatory test is needed"),
            std::string::npos);
  FindingDetail somatic = Detail();
  somatic.finding.origin = "somatic";
  somatic.finding.category = "primary";
  somatic.finding.acmg_sf_version = "";
  const std::string s = ReportHtml(somatic, "x", "en", "h", "d");
  EXPECT_NE(s.find("Not required (somatic finding)"), std::string::npos);
  EXPECT_EQ(s.find("ACMG SF"), std::string::npos);
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
