// The one-node Slurm test cluster for tests of the Slurm executors (analysis_test and
// tests/region_rebuild_test): scripts/test.sh starts it and exports ZENGEN_TEST_SLURM_CONF (and
// ZENGEN_REQUIRE_SLURM, which makes its absence a failure). Header-only.
#pragma once

#include <cstdlib>

#include <gtest/gtest.h>

namespace zengen::analysis {

inline constexpr const char* kNoSlurm =
    "ZENGEN_TEST_SLURM_CONF is not set (scripts/test.sh starts a cluster)";

// True when the test cluster is up (SLURM_CONF then points at it); a failure when
// ZENGEN_REQUIRE_SLURM says it must be.
inline bool SlurmUp() {
  const char* conf = std::getenv("ZENGEN_TEST_SLURM_CONF");
  if (conf == nullptr || *conf == '\0') {
    if (std::getenv("ZENGEN_REQUIRE_SLURM") != nullptr) ADD_FAILURE() << "no Slurm test cluster";
    return false;
  }
  return ::setenv("SLURM_CONF", conf, 1) == 0;
}

}  // namespace zengen::analysis
