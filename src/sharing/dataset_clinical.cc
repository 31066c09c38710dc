#include "sharing/dataset_clinical.h"

#include <map>
#include <utility>
#include <vector>

namespace zengen::sharing {

using http::Request;
using http::Response;
using nlohmann::json;

Status AddDatasetClinicalRoute(http::Router& router, Sharing& sharing, AuditSink& audit,
                               ResearchClinical clinical) {
  Sharing* sh = &sharing;
  AuditSink* log = &audit;
  auto port = std::make_shared<ResearchClinical>(std::move(clinical));
  return router.Add(
      {.method = "GET",
       .pattern = "/api/v1/datasets/{id}/clinical",
       .action = "dataset.read",
       .resource = "dataset",
       .handler = http::Wrap([sh, log, port](Request& req) -> Result<Response> {
         const std::string& id = req.path_params.at("id");
         std::string purpose;
         if (auto it = req.query.find("purpose"); it != req.query.end()) purpose = it->second;
         ZG_ASSIGN_OR_RETURN(auto files, sh->VisibleFiles(req.subject, id, purpose));
         // Participants in the order VisibleFiles gives (by participant, then file).
         std::vector<std::string> order;
         std::map<std::string, json> file_lists;
         for (const auto& f : files) {
           auto [it, fresh] = file_lists.try_emplace(f.participant_id, json::array());
           if (fresh) order.push_back(f.participant_id);
           it->second.push_back({{"id", f.file_id},
                                 {"kind", f.kind},
                                 {"data_type", f.data_type},
                                 {"file_name", f.file_name},
                                 {"size", f.size}});
         }
         json items = json::array();
         for (const auto& pid : order) {
           ZG_ASSIGN_OR_RETURN(json c, (*port)(pid));
           items.push_back({{"participant_id", pid},
                            {"program", c.value("program", "")},
                            {"files", std::move(file_lists[pid])},
                            {"clinical", c.value("clinical", json::object())}});
         }
         ZG_RETURN_IF_ERROR(log->Append(
             {.actor = req.subject.id,
              .source = req.remote_address,
              .action = "clinical.research_read",
              .resource = "dataset/" + id,
              .decision = "allow",
              .reason = order.empty() ? "no participant visible to the caller"
                                      : "participants with a file the caller may read",
              .request_id = req.request_id,
              .details = json{{"participants", order}, {"purpose", purpose}}.dump()}));
         return Response::Json(200, {{"dataset_id", id}, {"items", std::move(items)}});
       })});
}

}  // namespace zengen::sharing
