// The fixture the HTTPS integration tests share (htsget, analysis end to end, uploads, the
// route matrix): a real `zengen serve` on the parameter's backend, organisations and people
// made through the operator, machine tokens, authenticated calls and whole uploads.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/browser.h"
#include "support/zengen_process.h"

namespace zengen::testing {

class ServerTest : public ::testing::TestWithParam<std::string> {
 protected:
  // Starts the server on GetParam()'s backend (config_lines and before_serve as for
  // ZengenServer::Start). server_ is null, with a failure reported, when start-up failed.
  void StartServer(const std::vector<std::string>& config_lines = {},
                   const std::function<void(const std::filesystem::path&)>& before_serve = nullptr);

  // Creates organisations (id, kind) in jurisdiction JP through the operator. A refusal is a
  // fatal failure (callers wrap the call in ASSERT_NO_FATAL_FAILURE).
  void AddOrganisations(const std::vector<std::pair<std::string, std::string>>& orgs);

  // Creates user `id` of `organisation` with `role` through the operator and signs them in
  // with a second factor into `browser`. Any refusal is a fatal failure.
  void AddPerson(const std::string& id, const std::string& organisation, const std::string& role,
                 const std::string& password, Browser& browser);

  // A machine token of `organisation` and `role` for `actions`, valid 7 days, made by the
  // operator and named `name` (default "<organisation>-<role>"). "" (and a failure) when refused.
  std::string Token(const std::string& organisation, const std::string& role,
                    const std::vector<std::string>& actions, const std::string& name = "");

  // A request with `token` as bearer; a JSON body when body is not null.
  std::optional<HttpResponse> Call(const std::string& token, const std::string& method,
                                   const std::string& path,
                                   const nlohmann::json& body = nullptr) const;

  // Opens an upload of `bytes` described by spec (size, SHA-256 and 8 MiB chunks are added),
  // sends every chunk and completes it; returns the completion's JSON. Each step's status is
  // checked (201, 204, 200).
  nlohmann::json Upload(const std::string& token, nlohmann::json spec, const std::string& bytes);

  // Through `clinician` (a signed-in hospital clinician): enrols cancer/lung participant
  // `local_id` (index date 2026-03-02) with the cancer ICF 1.0 in Japanese permitting every
  // item but C11, registers a normal blood specimen and ships it to `facility`. Sets
  // participant_id and specimen_id; any refusal is a fatal failure.
  void EnrolAndShip(Browser& clinician, const std::string& local_id, const std::string& facility,
                    std::string& participant_id, std::string& specimen_id);

  std::unique_ptr<ZengenServer> server_;
};

}  // namespace zengen::testing
