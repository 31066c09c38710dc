#include "support/server_fixture.h"

#include <fmt/format.h>

#include "crypto/crypto.h"

namespace zengen::testing {

using nlohmann::json;

void ServerTest::StartServer(
    const std::vector<std::string>& config_lines,
    const std::function<void(const std::filesystem::path&)>& before_serve) {
  server_ = ZengenServer::Start(GetParam(), config_lines, before_serve);
  EXPECT_NE(server_, nullptr) << "the server did not start";
}

void ServerTest::AddOrganisations(const std::vector<std::pair<std::string, std::string>>& orgs) {
  for (const auto& [id, kind] : orgs) {
    auto r = AsOperator(*server_, "POST", "/api/v1/admin/organisations",
                        {{"id", id}, {"name", id}, {"kind", kind}, {"jurisdiction", "JP"}});
    ASSERT_TRUE(r) << id;
    ASSERT_EQ(r->status, 201) << r->body;
  }
}

void ServerTest::AddPerson(const std::string& id, const std::string& organisation,
                           const std::string& role, const std::string& password,
                           Browser& browser) {
  auto r = AsOperator(*server_, "POST", "/api/v1/admin/users",
                      {{"id", id}, {"organisation", organisation}, {"display_name", id},
                       {"email", id + "@example.org"}, {"roles", {role}}, {"password", password}});
  ASSERT_TRUE(r) << id;
  ASSERT_EQ(r->status, 201) << r->body;
  browser.server = server_.get();
  ASSERT_FALSE(browser.LoginAndEnrol(id, password).empty()) << id;
}

std::string ServerTest::Token(const std::string& organisation, const std::string& role,
                              const std::vector<std::string>& actions, const std::string& name) {
  auto t = AsOperator(*server_, "POST", "/api/v1/admin/tokens",
                      {{"name", name.empty() ? organisation + "-" + role : name},
                       {"organisation", organisation},
                       {"role", role},
                       {"actions", actions},
                       {"days", 7}});
  if (!t) {
    ADD_FAILURE() << "no answer to the token request";
    return "";
  }
  EXPECT_EQ(t->status, 201) << t->body;
  return t->Json().value("token", "");
}

std::optional<HttpResponse> ServerTest::Call(const std::string& token, const std::string& method,
                                             const std::string& path, const json& body) const {
  std::map<std::string, std::string> h = {{"Authorization", "Bearer " + token}};
  if (!body.is_null()) h["Content-Type"] = "application/json";
  return server_->Request(method, path, h, body.is_null() ? "" : body.dump());
}

json ServerTest::Upload(const std::string& token, json spec, const std::string& bytes) {
  spec["size"] = bytes.size();
  spec["sha256"] = crypto::Sha256Hex(bytes);
  spec["chunk_size"] = 8 << 20;
  auto u = Call(token, "POST", "/api/v1/uploads", spec);
  EXPECT_TRUE(u && u->status == 201) << (u ? u->body : "no answer");
  if (!u || u->status != 201) return json();
  const std::string id = u->Json()["id"];
  const int64_t chunks = u->Json()["chunks"];
  for (int64_t i = 0; i < chunks; ++i) {
    auto r = server_->Request("PUT", fmt::format("/api/v1/uploads/{}/chunks/{}", id, i),
                              {{"Authorization", "Bearer " + token},
                               {"Content-Type", "application/octet-stream"}},
                              bytes.substr(static_cast<size_t>(i) << 23, size_t{8} << 20));
    EXPECT_TRUE(r && r->status == 204) << (r ? r->body : "no answer");
  }
  // why: completion checks, indexes and encrypts the whole file; on a loaded machine that can
  // take longer than a client's default 5 s wait, so this one answer is awaited for 2 minutes.
  std::optional<HttpResponse> c;
  if (auto conn = server_->Connect();
      conn && conn->Send(BuildRequest("POST", "/api/v1/uploads/" + id + "/complete",
                                      {{"Authorization", "Bearer " + token}}))) {
    c = conn->Read(120000);
  }
  EXPECT_TRUE(c && c->status == 200) << (c ? c->body : "no answer");
  return c ? c->Json() : json();
}

void ServerTest::EnrolAndShip(Browser& clinician, const std::string& local_id,
                              const std::string& facility, std::string& participant_id,
                              std::string& specimen_id) {
  using nlohmann::json;
  auto p = clinician.Send("POST", "/api/v1/participants",
                          {{"local_id", local_id}, {"program", "cancer"},
                           {"disease_category", "lung"}, {"index_date", "2026-03-02"}});
  ASSERT_TRUE(p && p->status == 201) << (p ? p->body : "no answer");
  participant_id = p->Json()["participant"]["id"];
  auto icf = clinician.Send("GET", "/api/v1/icf/cancer/1.0/ja");
  ASSERT_TRUE(icf && icf->status == 200);
  json decisions = json::object();
  const json items = icf->Json()["items"];
  for (const auto& item : items) decisions[item["code"].get<std::string>()] = "permit";
  decisions["C11"] = "deny";
  ASSERT_EQ(clinician.Send("POST", "/api/v1/participants/" + participant_id + "/consents",
                           {{"kind", "initial"}, {"icf_version", "1.0"}, {"language", "ja"},
                            {"decisions", decisions}, {"signed_date", "2026-03-02"},
                            {"details", {{"signer", "self"}, {"method", "paper"}}}})
                ->status,
            201);
  auto sp = clinician.Send("POST", "/api/v1/participants/" + participant_id + "/specimens",
                           {{"tumour_normal", "normal"}, {"specimen_type", "blood"},
                            {"preservation", "EDTA"}, {"collection_date", "2026-03-02"}});
  ASSERT_TRUE(sp && sp->status == 201);
  specimen_id = sp->Json()["id"];
  ASSERT_EQ(clinician.Send("POST", "/api/v1/specimens/" + specimen_id + "/custody",
                           {{"to", "shipped"}, {"destination", facility}})
                ->status,
            200);
}

}  // namespace zengen::testing
