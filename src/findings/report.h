// The patient report: a printable HTML page (ja or en) the hospital hands over at disclosure.
#pragma once

#include <string>
#include <string_view>

#include "findings/findings.h"

namespace zengen::findings {

// States in which the hospital may print the report: from counselling on, while the result is
// being or has been returned (not after the participant declined, withdrew or the site closed).
bool ReportAvailable(std::string_view state);

// Escapes & < > " ' for HTML text and attribute values.
std::string HtmlEscape(std::string_view s);

// The report in `lang` (ja | en). local_id is the hospital's patient id (shown to the hospital,
// which alone receives the report); generated_on is YYYY-MM-DD. Every value is escaped.
std::string ReportHtml(const FindingDetail& d, std::string_view local_id, std::string_view lang,
                       std::string_view hospital_name, std::string_view generated_on);

}  // namespace zengen::findings
