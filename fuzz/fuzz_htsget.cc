// The htsget ticket request parsers: GET (the request target's query) and POST (the JSON
// body), then the rules both share (CheckTicket).
//
// Input: one byte choosing GET or POST and the endpoint's data type, then the query string
// (GET) or the body (POST). Every outcome must be a ticket request or a client error (4xx in
// htsget's vocabulary), never an exception or a 5xx.
//
// why the .cc is included: the parsers are private to the routes' translation unit; including
// it reaches them without widening the module's interface for a test.
#include "ga4gh/ga4gh_routes.cc"  // NOLINT(bugprone-suspicious-include)

#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace {

void Expect4xx(const zengen::Error& e, const char* what) {
  const int status = zengen::ga4gh::HtsgetFrom(e).status;
  if (status >= 400 && status < 500) return;
  std::fprintf(stderr, "%s answered %d (%s: %s)\n", what, status, e.code.c_str(),
               e.message.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const bool post = (data[0] & 1) != 0;
  const std::string datatype = (data[0] & 2) != 0 ? "variants" : "reads";
  const std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  zengen::http::Request req;
  req.method = post ? "POST" : "GET";
  auto target = zengen::http::ParseTarget("/ga4gh/htsget/v1/" + datatype + "/f1?" + rest, req);
  if (post) {
    req.query.clear();
    req.body = rest;
  } else if (!target.ok()) {
    if (zengen::http::StatusFor(target.error().kind) >= 500) std::abort();
    return 0;
  }
  auto params = post ? zengen::ga4gh::TicketFromBody(req) : zengen::ga4gh::TicketFromQuery(req);
  if (!params.ok()) {
    Expect4xx(params.error(), post ? "TicketFromBody" : "TicketFromQuery");
    return 0;
  }
  const char* stored = (data[0] & 2) != 0 ? ((data[0] & 4) != 0 ? "BCF" : "VCF")
                                          : ((data[0] & 4) != 0 ? "CRAM" : "BAM");
  auto ticket = zengen::ga4gh::CheckTicket(*params, datatype, stored);
  if (!ticket.ok()) Expect4xx(ticket.error(), "CheckTicket");
  return 0;
}
