// HTTP face of analysis orders and of the organisation directory used by the shipping form.
//
//   POST /api/v1/analysis-orders              analysis_order.write {specimen_id, centre} (201)
//   GET  /api/v1/analysis-orders?specimen_id= analysis_order.read  the orders of a specimen
//                                                                  the caller may see
//   POST /api/v1/analysis-orders/{id}/cancel  analysis_order.write {reason} (required)
//   GET  /api/v1/analysis-order-rules         analysis_order.write the per-program rules
//   PUT  /api/v1/analysis-order-rules/{program} analysis_order.write {centre}
//   DELETE /api/v1/analysis-order-rules/{program} analysis_order.write
//   GET  /api/v1/organisations?kind=          org.directory        id, name and kind of the
//                                                                  registered organisations
//
// Order reads are decided once (PolicyFilter) on the resource ResolveSpecimenOrders names:
// {"analysis_order", specimen id, the specimen's holder, the caller's organisation when an order
// names it}, so the holding facility and the ordered centre pass; AnalysisOrders then selects
// what each may see. Writes and the directory are decided on role alone (the router's resolver
// for their kind); handlers hold no access logic. `kind` accepts hospital,
// sequencing_facility, analysis_center (also spelled analysis_centre), data_center, academic
// and industry; anything else is 400 naming `kind`.
#pragma once

#include "http/filters.h"
#include "http/http.h"
#include "identity/identity.h"
#include "specimens/analysis_orders.h"

namespace zengen::specimens {

nlohmann::json OrderJson(const AnalysisOrder& o);

// The resolver of GET /analysis-orders: the specimen's orders as SpecimenOrdersResource names
// them; 400 "missing_field" naming `specimen_id` when absent, 404 for an unknown specimen.
http::Resolver ResolveSpecimenOrders(AnalysisOrders& orders);

Status AddAnalysisOrderRoutes(http::Router& router, AnalysisOrders& orders);

Status AddOrganisationDirectoryRoute(http::Router& router, identity::Identity& identity);

}  // namespace zengen::specimens
