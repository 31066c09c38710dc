// The synthetic cohort `zengen demo` loads into a fresh data directory: organisations of every
// kind, one user per role, and participants across cancer types and rare diseases with varied
// consent, clinical records and specimens. Everything is generated from a fixed seed, so two
// demo directories hold the same cohort; nothing is read from outside the repository.
#pragma once

#include <string>
#include <vector>

#include "app/runtime.h"

namespace zengen::app {

inline constexpr const char* kDemoPassword = "zengen-demo-passphrase";

struct DemoUser {
  std::string id;
  std::string organisation;
  std::string role;
};

// The demo's reference genome (one synthetic 200 kb contig, the one its reads come from), as
// FASTA: `zengen demo --analyse` registers it for the analysis runs.
std::string DemoReferenceFasta();

// The demo's accounts, all with kDemoPassword; each enrols TOTP at first login.
const std::vector<DemoUser>& DemoUsers();

struct DemoSummary {
  int organisations = 0;
  int users = 0;
  int participants = 0;
  int consents = 0;
  int withdrawals = 0;
  int clinical_records = 0;
  int specimens = 0;
  int runs = 0;            // sequencing runs with FASTQ behind them
  int fastq_files = 0;     // FASTQ stored through the upload path
  int analysis_files = 0;  // CRAM and VCF registered through the upload path
  int open_uploads = 0;    // interrupted uploads waiting to be resumed
  int findings = 0;
  int applications = 0;  // access applications: pending and approved on each track
};

// Specimens of the first kParticipantsWithFiles participants that reached sequencing have files
// behind every stage: an interrupted FASTQ upload (sequenced), a FASTQ pair ingested through
// sequencing::Uploads — the module behind the upload API — that passes or fails QC and so
// moves custody itself (qc_passed, qc_failed), and a sanitised CRAM plus a VCF linked to
// that FASTQ (analysed). Later participants' specimens move through custody without files.
inline constexpr int kParticipantsWithFiles = 48;

// Loads the cohort. REQUIRES: a fresh data directory (the organisations must not exist).
Result<DemoSummary> SeedDemo(Runtime& rt, int participants = 240);

// Fresh one-time MFA enrolment codes for the demo users who have not enrolled yet, as
// (user, code) in DemoUsers() order; each replaces that user's earlier code.
Result<std::vector<std::pair<std::string, std::string>>> IssueDemoEnrolmentCodes(Runtime& rt);

}  // namespace zengen::app
