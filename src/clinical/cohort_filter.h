// Clinical facts for cohort queries (issue 15): which participants match clinical filters
// (diagnosis, stage, sex, age band), and the per-participant fields of a survival-style
// export. Read from the latest SUBMITTED version of each category (drafts never count), so the
// variant store and other modules never parse clinical JSON themselves.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/result.h"
#include "storage/store.h"

namespace zengen::clinical {

struct CohortFilter {
  std::string diagnosis;  // ICD-10 code prefix ("C34" matches "C34.1"), diagnosis.icd10
  std::string stage;      // stage group or its start ("III" matches "IIIA"), diagnosis.stage_group
  std::string sex;        // case_basics.sex: male | female | other | unknown
  std::string age_band;   // "50-59": case_basics.age_at_enrolment in [50, 59]; "90-" for 90+
  bool empty() const {
    return diagnosis.empty() && stage.empty() && sex.empty() && age_band.empty();
  }
};

// Reads the filters from query parameters (absent = no filter). Errors: kInvalidArgument
// "invalid_parameter" naming the parameter ("diagnosis", "stage", "sex", "age_band").
Result<CohortFilter> ParseCohortFilter(const std::map<std::string, std::string>& query);

// What a cohort export shows of one participant. Days count from the participant's index date.
struct ClinicalSummary {
  std::string participant_id;
  std::string sex;
  std::optional<int64_t> age_at_enrolment;
  std::string icd10;
  std::string stage_group;
  std::string vital_status;  // alive | dead | "" when no course was submitted
  // Survival: days to death when dead, else to last contact; event = dead.
  std::optional<int64_t> survival_days;
  bool death_event = false;
  std::optional<int64_t> progression_day;
};

// The summaries of the given participants (those without any submitted record get an entry
// with only the id), in the order of the set.
Result<std::vector<ClinicalSummary>> Summaries(storage::Store& store,
                                               const std::set<std::string>& participants);

// Whether a summary matches every filter that is set. A stage filter matches whole roman
// numerals: "I" matches I, IA and IB, never II or IV.
bool Matches(const ClinicalSummary& s, const CohortFilter& filter);

}  // namespace zengen::clinical
