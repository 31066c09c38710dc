// The patient report: a printable HTML page (ja or en) the hospital hands over at disclosure.
//
// First a plain-language explanation for the patient (what was found, what it may mean, what
// happens next, whom to ask), then the technical table as an appendix on its own page. The
// explanation is assembled from texts kept as data (report.cc's tables), keyed by the
// finding's category and origin (what was found), its classification (what it may mean) and
// the state of its confirmatory test; nothing is written per finding. A4 print stylesheet; the
// page stands alone (no console chrome, no script).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "findings/findings.h"

namespace zengen::findings {

// States in which the hospital may print the report: from counselling on, while the result is
// being or has been returned (not after the participant declined, withdrew or the site closed).
bool ReportAvailable(std::string_view state);

// Escapes & < > " ' for HTML text and attribute values.
std::string HtmlEscape(std::string_view s);

// Who hands the report over and when.
struct ReportFacts {
  std::string local_id;       // the hospital's patient id (the hospital alone gets the report)
  std::string hospital_name;  // the participant's hospital
  std::string clinician;      // display name of the hospital user printing it ("" if unknown)
  std::string generated_on;   // YYYY-MM-DD
};

// The report in `lang` (ja | en). Every value is escaped.
std::string ReportHtml(const FindingDetail& d, const ReportFacts& facts, std::string_view lang);

// Stable keys of the explanation's paragraphs for this finding, in the order printed (for
// tests and documentation): "found.<category>.<origin>", "meaning.<classification>",
// "family.<origin>", "confirmation.<state>", then "next.<item>"….
std::vector<std::string> ReportParagraphKeys(const FindingDetail& d);

}  // namespace zengen::findings
