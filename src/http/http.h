// Zengen's own HTTP types: Request, Response, Router and the filter (middleware) chain.
//
// Handlers and filters see only these types; the Boost.Beast adapter (server.h) translates to
// and from the wire. This keeps third-party headers out of domain code and lets handlers be
// tested without sockets.
//
// Every route declares the action it performs, the kind of resource it touches and how to
// resolve that resource from a request (its owning organisation and the live facts the policy
// needs); Router::Add refuses a route without them or whose action the policy does not know, so
// no handler can be reached without passing the one policy decision.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/actor.h"
#include "common/result.h"
#include "policy/policy.h"

namespace zengen::http {

// Header names compare case-insensitively (RFC 9110 §5.1).
struct CaseInsensitiveLess {
  bool operator()(std::string_view a, std::string_view b) const;
};
using Headers = std::map<std::string, std::string, CaseInsensitiveLess>;

using policy::Subject;

struct Route;

// What a route's resolver found out about the resource a request touches, for the one policy
// decision (PolicyFilter): the resource with its owning organisation and live facts, and for
// shared data the caller's grant and research groups and the decision's time.
struct Target {
  policy::Resource resource;
  std::optional<policy::Grant> grant;
  std::chrono::system_clock::time_point now{};
  std::vector<std::string> groups;  // added to the subject's for the decision
  // Facts for the audit record beyond the resource (dataset, release, tier, grant ids).
  nlohmann::json details = nlohmann::json::object();
};

// A request body the server kept out of memory (routes with BodyMode::kSpooled), read in
// order, piece by piece. One reader at a time; not thread-safe.
class BodyReader {
 public:
  virtual ~BodyReader() = default;
  // The body's length in bytes.
  virtual int64_t size() const = 0;
  // The next 1..max_bytes bytes of the body (max_bytes > 0), continuing where the last call
  // stopped; "" at the end. Errors (503): "body_unreadable" when the kept copy cannot be read
  // back whole and intact; every later call returns it again.
  virtual Result<std::string> Read(size_t max_bytes) = 0;
};

struct Request {
  std::string method;  // upper case, e.g. "GET"
  std::string target;  // as received, e.g. "/api/v1/x?y=1"
  std::string path;    // percent-decoded path, e.g. "/api/v1/x"
  std::map<std::string, std::string> query;        // decoded query parameters (last one wins)
  std::map<std::string, std::string> path_params;  // from {name} segments of the route pattern
  Headers headers;
  std::string body;  // empty when the server spooled the body (see body_reader)
  // The body of a route with BodyMode::kSpooled, set by the server (null otherwise, and in
  // requests built without a server, which carry their body in `body`). Read it with
  // BodyPieces or ReadBodyText, which accept both.
  std::shared_ptr<BodyReader> body_reader;
  std::string remote_address;  // peer IP address
  std::string request_id;      // set by the request-id filter
  Subject subject;             // set by the authentication filter
  std::optional<policy::Decision> decision;  // set by the policy filter
  std::optional<Target> resolved;  // the resolved resource the decision was about
  const Route* route = nullptr;  // the matched route
  // When the request's headers were complete (set by the server; now() when built otherwise).
  std::chrono::steady_clock::time_point received = std::chrono::steady_clock::now();

  // The value of a header, or "" when absent.
  std::string Header(std::string_view name) const;
};

// The request's subject as the actor of the changes it asks for ("anonymous" when not
// authenticated), with its source address and request id for the audit record.
Actor RequestActor(const Request& req);

struct Response {
  int status = 200;
  Headers headers;
  std::string body;
  // A large body produced in pieces after the status line and headers are sent (downloads of
  // stored objects, which may be tens of gigabytes): each call returns the next piece, "" at
  // the end, or an error, after which the server closes the connection (the client sees a
  // body shorter than Content-Length). Called on a worker thread, one call at a time, never
  // for HEAD. With a source, `body` is ignored and content_length must be its exact length.
  std::function<Result<std::string>()> body_source;
  int64_t content_length = -1;

  static Response Json(int status, const nlohmann::json& body);
  // The error body {"error":{"code","message","field"}} with the status for the error's kind
  // (and WWW-Authenticate on 401, Retry-After on 429).
  static Response FromError(const Error& e);
  static Response Text(int status, std::string body, std::string content_type = "text/plain");
};

// HTTP status code for an error kind (400, 401, 403, 404, 409, 413, 415, 503, 500).
int StatusFor(ErrorKind kind);

// The deepest nesting of arrays and objects a request's JSON may have. Deeper documents are
// refused while parsing, so no handler ever walks (or recursively copies) an unbounded tree.
inline constexpr size_t kMaxJsonDepth = 64;

// Parses untrusted JSON text (any top-level value) in one pass, never holding more than
// kMaxJsonDepth levels. Errors (400, field "body" unless said otherwise): "invalid_json" naming
// the byte offset of the problem (also for invalid UTF-8); "json_too_deep" when arrays and
// objects nest deeper than kMaxJsonDepth; "number_out_of_range" naming the field that holds a
// number a double cannot represent (1e999), e.g. "password" or "items[2].size".
// Never throws.
Result<nlohmann::json> ParseJson(std::string_view text);

// Parses the request body as a JSON object through ParseJson (so with its errors). Further
// errors: (400) "json_object_required" when the top level is not an object; (415)
// "unsupported_media_type" when Content-Type is present and not application/json.
Result<nlohmann::json> ParseJsonBody(const Request& req);

// The request body's length: the spooled body's when there is one, else body.size().
int64_t BodySize(const Request& req);
// The request body in pieces of at most max_bytes, from the spool when the server spooled it,
// else from req.body: each call returns the next piece, "" at the end, or the reader's error.
// The returned function keeps what it needs alive; it does not copy req.body, so req must
// outlive it.
std::function<Result<std::string>()> BodyPieces(const Request& req, size_t max_bytes = 1 << 20);
// The whole request body as one string (for handlers that must parse it whole; the route's
// limit bounds it), from the spool or req.body. Errors: the reader's.
Result<std::string> ReadBodyText(const Request& req);

using Handler = std::function<Response(Request&)>;

// Finds the resource a request touches (after authentication, before the decision). Errors
// (kNotFound for an unknown id, kInvalidArgument naming a bad parameter) are answered only to
// callers whose roles may perform the action at all; others get the denial.
using Resolver = std::function<Result<Target>(const Request&)>;

// Standard resolvers.
// The route's resource kind and its {id} / {key} path parameter, with no organisation: for
// actions that are not organisation data (settings, administration, datasets). Used with an
// organisation-scoped action it is denied (policy: a missing organisation is a deny).
Resolver Unscoped(std::string kind);
// The collection as seen from the caller's scope (policy::ScopeOf: the caller's own
// organisation, or every organisation for data-center-wide roles): the route-level decision is
// on role, and the handler only selects the rows in that scope (data selection, not a second
// decision: a route about one item resolves that item's owner instead).
Resolver CallerScope(std::string kind);

// A handler whose errors are values. Wrap turns it into a Handler: an error becomes the
// standard error body (Response::FromError).
using ResultHandler = std::function<Result<Response>(Request&)>;
Handler Wrap(ResultHandler h);

// An integer query parameter in [min, max]; def when absent. Error 400 "invalid_parameter"
// naming the parameter.
Result<int64_t> IntQueryParam(const Request& req, std::string_view name, int64_t def,
                              int64_t min, int64_t max);

// Fields of a JSON request body, with 400 errors naming the field: "missing_field" when a
// required one is absent or null, "invalid_type" when it has the wrong type, "value_too_long"
// for a string over max_bytes, "unknown_field" for a field not in `known`. Absent optional
// fields give "" / def / an empty list. A list element that is not a string is named with its
// index ("roles[2]"). JsonInt answers "number_out_of_range" for an integer outside int64.
Result<std::string> JsonString(const nlohmann::json& body, const std::string& name,
                               bool required, size_t max_bytes = SIZE_MAX);
Result<int64_t> JsonInt(const nlohmann::json& body, const std::string& name, bool required,
                        int64_t def = 0);
Result<std::vector<std::string>> JsonStringList(const nlohmann::json& body,
                                                const std::string& name, bool required);
Status OnlyFields(const nlohmann::json& body, std::initializer_list<std::string_view> known);

enum class BodyMode { kBuffered, kSpooled };

struct Route {
  std::string method;
  // "/api/v1/things/{id}": literal segments and {name} captures. A last segment "{name...}"
  // captures one or more remaining segments (a fallback: routes are tried in the order added,
  // and other methods on its paths answer 404, not 405).
  std::string pattern;
  std::string action;    // policy action, e.g. "system.read"
  std::string resource;  // policy resource kind, e.g. "system"
  int64_t max_body_bytes = -1;  // -1: the server's default limit
  // How the server receives the body (issue 13 item 2): kBuffered holds it in memory and
  // hands it over in Request::body (small JSON bodies); kSpooled writes it to an encrypted,
  // unnamed spool file as it arrives, holding a bounded buffer, and hands it over in
  // Request::body_reader (upload chunks, imports: bodies up to tens of MiB).
  BodyMode body_mode = BodyMode::kBuffered;
  // The handler and the filters never block for this route (no database, no audit record),
  // so the server may run it on the I/O thread instead of handing it to a worker.
  bool runs_inline = false;
  Handler handler;
  // How to find the resource; when empty, the router's resolver for `resource` (see Router).
  Resolver resolve;
  // How the filters write this route's refusals (401, 403, resolver errors) when the route's
  // protocol has its own error shape (htsget, DRS); empty: Response::FromError.
  std::function<Response(const Error&)> refuse;
};

class Router {
 public:
  // A router with the standard resolvers by resource kind: Unscoped for kinds that are never
  // organisation data, CallerScope for organisation data whose handlers decide per item
  // (participant, specimen, finding, run, upload, clinical). Genome files ("file") have none:
  // the composition root registers the access gate's.
  Router();
  // Sets (or replaces) the resolver for routes of a resource kind that bring none; applies to
  // routes added afterwards.
  void SetResolver(const std::string& kind, Resolver resolver);
  // Adds a route. Fails ("route_incomplete") when method, pattern, action, resource or handler
  // is missing, ("route_unknown_action") when the policy has no rule for the action,
  // ("route_unresolved") when neither the route nor the router has a resolver for it, and
  // ("route_duplicate") when method + pattern is already registered.
  Status Add(Route route);

  struct Match {
    const Route* route = nullptr;            // null when nothing matched
    bool path_known = false;                 // some route has this path (→ 405, not 404)
    std::map<std::string, std::string> params;
  };
  Match Find(std::string_view method, std::string_view path) const;
  const std::vector<std::unique_ptr<Route>>& routes() const { return routes_; }

 private:
  std::vector<std::unique_ptr<Route>> routes_;
  std::map<std::string, Resolver> resolvers_;
};

// A step of the middleware chain. OnRequest runs before the handler in chain order and may
// stop the request by returning a response; OnResponse runs after, in reverse order, for every
// request that reached this filter (including stopped ones).
class Filter {
 public:
  virtual ~Filter() = default;
  virtual std::optional<Response> OnRequest(Request& req) = 0;
  virtual void OnResponse(const Request& /*req*/, Response& /*resp*/) {}
};

// The request pipeline: filters, then the matched route's handler. Thread-safe once built.
class Pipeline {
 public:
  explicit Pipeline(Router router) : router_(std::move(router)) {}
  void AddFilter(std::unique_ptr<Filter> f) { filters_.push_back(std::move(f)); }
  const Router& router() const { return router_; }
  // Runs the whole chain for a request whose route was matched by the caller (req.route may be
  // null: the chain then answers 404/405 after the request-id and audit filters ran).
  // Equivalent to Admit, then Complete.
  Response Handle(Request& req, const Router::Match& match) const;

  // The two halves of Handle, so that the server can authenticate and authorise on the headers
  // before it reads the body (issue 13 item 2). Admit runs the filters' OnRequest in order
  // (they never look at the body); Complete runs the handler when no filter stopped the
  // request, then OnResponse of the filters that ran, in reverse. Call Complete exactly once
  // with the Admission Admit returned, on any thread.
  struct Admission {
    size_t ran = 0;                  // filters whose OnRequest ran
    std::optional<Response> stopped;  // the answer of the filter that stopped the request
  };
  Admission Admit(Request& req, const Router::Match& match) const;
  Response Complete(Request& req, const Router::Match& match, Admission admission) const;

 private:
  Router router_;
  std::vector<std::unique_ptr<Filter>> filters_;
};

// Splits a request target into decoded path and query. Fails ("invalid_target") on targets
// that are not origin-form or whose percent-encoding is malformed.
Status ParseTarget(std::string_view target, Request& req);

}  // namespace zengen::http
