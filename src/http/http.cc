#include "http/http.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <limits>

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "http/route_params.h"

namespace zengen::http {

bool CaseInsensitiveLess::operator()(std::string_view a, std::string_view b) const {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) <
           std::tolower(static_cast<unsigned char>(y));
  });
}

Actor RequestActor(const Request& req) {
  return {req.subject.authenticated ? req.subject.id : "anonymous", req.subject.organisation,
          req.subject.roles, req.remote_address, req.request_id};
}

std::string Request::Header(std::string_view name) const {
  auto it = headers.find(std::string(name));
  return it == headers.end() ? std::string() : it->second;
}

int StatusFor(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kInvalidArgument: return 400;
    case ErrorKind::kUnauthenticated: return 401;
    case ErrorKind::kPermissionDenied: return 403;
    case ErrorKind::kNotFound: return 404;
    case ErrorKind::kMethodNotAllowed: return 405;
    case ErrorKind::kConflict: return 409;
    case ErrorKind::kTooLarge: return 413;
    case ErrorKind::kUnsupportedMediaType: return 415;
    case ErrorKind::kHeaderTooLarge: return 431;
    case ErrorKind::kTooManyRequests: return 429;
    case ErrorKind::kUnavailable: return 503;
    case ErrorKind::kInternal: return 500;
  }
  return 500;
}

Response Response::Json(int status, const nlohmann::json& body) {
  Response r;
  r.status = status;
  r.headers["Content-Type"] = "application/json";
  // Replacement instead of throwing: a handler must never fail on serialising odd text.
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

Response Response::FromError(const Error& e) {
  nlohmann::json err = {{"code", e.code}, {"message", e.message}};
  if (!e.field.empty()) err["field"] = e.field;
  Response r = Json(StatusFor(e.kind), {{"error", err}});
  if (e.kind == ErrorKind::kUnauthenticated) r.headers["WWW-Authenticate"] = "Bearer";
  // Lockouts last minutes; a client should not retry sooner.
  if (e.kind == ErrorKind::kTooManyRequests) r.headers["Retry-After"] = "900";
  return r;
}

Handler Wrap(ResultHandler h) {
  return [h = std::move(h)](Request& req) {
    auto r = h(req);
    return r.ok() ? std::move(r).value() : Response::FromError(r.error());
  };
}

Result<int64_t> IntQueryParam(const Request& req, std::string_view name, int64_t def,
                              int64_t min, int64_t max) {
  const auto it = req.query.find(std::string(name));
  if (it == req.query.end()) return def;
  int64_t v = 0;
  const auto& text = it->second;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || v < min || v > max) {
    return InvalidArgument("invalid_parameter",
                           fmt::format("'{}' must be an integer in [{}, {}]", name, min, max),
                           std::string(name));
  }
  return v;
}

Response Response::Text(int status, std::string body, std::string content_type) {
  Response r;
  r.status = status;
  r.headers["Content-Type"] = std::move(content_type);
  r.body = std::move(body);
  return r;
}

namespace {

// Builds the document from nlohmann's SAX events, refusing to open a level past kMaxJsonDepth
// (the parser stops at the first refusal, so a 200,000-level body costs 64 levels of memory),
// and remembers where it is so that an error can name the field that caused it.
class BoundedJsonBuilder {
 public:
  using json = nlohmann::json;

  bool null() { return Place(json(nullptr)); }
  bool boolean(bool v) { return Place(json(v)); }
  bool number_integer(json::number_integer_t v) { return Place(json(v)); }
  bool number_unsigned(json::number_unsigned_t v) { return Place(json(v)); }
  bool number_float(json::number_float_t v, const json::string_t& /*text*/) {
    return Place(json(v));
  }
  bool string(json::string_t& v) { return Place(json(std::move(v))); }
  bool binary(json::binary_t& v) { return Place(json::binary(std::move(v))); }
  bool start_object(std::size_t /*size*/) { return Open(json::object()); }
  bool start_array(std::size_t /*size*/) { return Open(json::array()); }
  bool end_object() { return Close(); }
  bool end_array() { return Close(); }
  bool key(json::string_t& k) {
    Frame& f = frames_.back();
    f.key = k;
    f.slot = &(*f.value)[std::move(k)];
    return true;
  }
  bool parse_error(std::size_t position, const std::string& /*last_token*/,
                   const json::exception& e) {
    error_position_ = position;
    error_id_ = e.id;
    return false;
  }

  json& root() { return root_; }
  bool too_deep() const { return too_deep_; }
  size_t error_position() const { return error_position_; }
  int error_id() const { return error_id_; }

  // Where the parser is: "password", "items[2].size"; "body" at the top level. The innermost
  // array's index is that of the element not yet placed (the one that failed).
  std::string Path() const {
    std::string out;
    for (size_t i = 0; i < frames_.size(); ++i) {
      const Frame& f = frames_[i];
      if (f.value->is_array()) {
        const size_t n = f.value->size();
        const size_t index = i + 1 == frames_.size() ? n : (n == 0 ? 0 : n - 1);
        out += fmt::format("[{}]", index);
      } else {
        if (!out.empty()) out += '.';
        out += f.key;
      }
    }
    return out.empty() || out.front() == '[' ? "body" + out : out;
  }

 private:
  struct Frame {
    json* value = nullptr;
    std::string key;       // the object's current key
    json* slot = nullptr;  // where the object's current value goes
  };

  json* Put(json v) {
    if (frames_.empty()) {
      root_ = std::move(v);
      return &root_;
    }
    Frame& f = frames_.back();
    if (f.value->is_array()) {
      f.value->push_back(std::move(v));
      return &f.value->back();
    }
    *f.slot = std::move(v);
    return f.slot;
  }
  bool Place(json v) {
    Put(std::move(v));
    return true;
  }
  bool Open(json v) {
    if (frames_.size() >= kMaxJsonDepth) {
      too_deep_ = true;
      return false;
    }
    frames_.push_back({Put(std::move(v)), "", nullptr});
    return true;
  }
  bool Close() {
    frames_.pop_back();
    return true;
  }

  json root_;
  std::vector<Frame> frames_;
  bool too_deep_ = false;
  size_t error_position_ = 0;
  int error_id_ = 0;
};

}  // namespace

Result<nlohmann::json> ParseJson(std::string_view text) {
  BoundedJsonBuilder builder;
  bool ok = false;
  try {
    ok = nlohmann::json::sax_parse(text, &builder);
  } catch (const std::exception& e) {
    // The SAX interface reports errors without throwing; anything else is a library surprise,
    // still the client's malformed input rather than a server fault.
    return InvalidArgument("invalid_json", fmt::format("malformed JSON: {}", e.what()), "body");
  }
  if (ok) return std::move(builder.root());
  if (builder.too_deep()) {
    return InvalidArgument("json_too_deep",
                           fmt::format("JSON nests arrays and objects deeper than {} levels",
                                       kMaxJsonDepth),
                           "body");
  }
  // 406: a number the parser cannot represent (nlohmann's out_of_range "number overflow").
  if (builder.error_id() == 406) {
    const std::string field = builder.Path();
    return InvalidArgument("number_out_of_range",
                           fmt::format("'{}' holds a number outside the range of a double", field),
                           field);
  }
  return InvalidArgument("invalid_json",
                         fmt::format("malformed JSON at byte {}", builder.error_position()),
                         "body");
}

int64_t BodySize(const Request& req) {
  return req.body_reader ? req.body_reader->size() : static_cast<int64_t>(req.body.size());
}

std::function<Result<std::string>()> BodyPieces(const Request& req, size_t max_bytes) {
  max_bytes = std::max<size_t>(max_bytes, 1);
  if (req.body_reader) {
    return [reader = req.body_reader, max_bytes]() { return reader->Read(max_bytes); };
  }
  return [body = std::string_view(req.body), max_bytes, at = size_t{0}]() mutable
         -> Result<std::string> {
    const size_t n = std::min(max_bytes, body.size() - at);
    std::string piece(body.substr(at, n));
    at += n;
    return piece;
  };
}

Result<std::string> ReadBodyText(const Request& req) {
  if (!req.body_reader) return req.body;
  std::string text;
  text.reserve(static_cast<size_t>(std::max<int64_t>(req.body_reader->size(), 0)));
  auto next = BodyPieces(req);
  for (;;) {
    ZG_ASSIGN_OR_RETURN(std::string piece, next());
    if (piece.empty()) break;
    text += piece;
  }
  return text;
}

Result<nlohmann::json> ParseJsonBody(const Request& req) {
  const std::string ct = req.Header("Content-Type");
  if (!ct.empty()) {
    std::string media = ct.substr(0, ct.find(';'));
    std::transform(media.begin(), media.end(), media.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    media.erase(media.find_last_not_of(" \t") + 1);
    if (media != "application/json") {
      return Error{ErrorKind::kUnsupportedMediaType, "unsupported_media_type",
                   fmt::format("expected Content-Type application/json, got '{}'", ct),
                   "Content-Type"};
    }
  }
  std::string spooled;
  if (req.body_reader) {
    ZG_ASSIGN_OR_RETURN(spooled, ReadBodyText(req));
  }
  const std::string& text = req.body_reader ? spooled : req.body;
  if (text.empty()) {
    return InvalidArgument("invalid_json", "request body is empty; a JSON object is required",
                           "body");
  }
  ZG_ASSIGN_OR_RETURN(nlohmann::json j, ParseJson(text));
  if (!j.is_object()) {
    return InvalidArgument("json_object_required", "the request body must be a JSON object",
                           "body");
  }
  return j;
}

namespace {

std::vector<std::string_view> Segments(std::string_view path) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    const size_t j = path.find('/', i);
    const size_t end = j == std::string_view::npos ? path.size() : j;
    out.push_back(path.substr(i, end - i));
    i = end;
  }
  return out;
}

// Whether the pattern ends with a rest capture "{name...}".
bool IsRestCapture(std::string_view pattern) {
  return pattern.size() > 5 && pattern.ends_with("...}") &&
         pattern.find('{', pattern.rfind('/')) != std::string_view::npos;
}

bool MatchPattern(std::string_view pattern, std::string_view path,
                  std::map<std::string, std::string>& params) {
  const auto ps = Segments(pattern), xs = Segments(path);
  const bool rest = IsRestCapture(pattern);
  if (rest ? xs.size() < ps.size() : ps.size() != xs.size()) return false;
  // A trailing slash is a different resource; refuse it rather than guess.
  if (path.size() > 1 && path.back() == '/') return false;
  std::map<std::string, std::string> got;
  for (size_t i = 0; i < ps.size(); ++i) {
    if (rest && i + 1 == ps.size()) {
      // "{name...}" takes the remaining segments, joined as they came.
      const size_t start = static_cast<size_t>(xs[i].data() - path.data());
      got.emplace(std::string(ps[i].substr(1, ps[i].size() - 5)), std::string(path.substr(start)));
      break;
    }
    if (ps[i].size() > 2 && ps[i].front() == '{' && ps[i].back() == '}') {
      got.emplace(std::string(ps[i].substr(1, ps[i].size() - 2)), std::string(xs[i]));
    } else if (ps[i] != xs[i]) {
      return false;
    }
  }
  params = std::move(got);
  return true;
}

}  // namespace

Resolver Unscoped(std::string kind) {
  return [kind = std::move(kind)](const Request& req) -> Result<Target> {
    Target t;
    t.resource = {kind, ResourceIdParam(req)};
    return t;
  };
}

Resolver CallerScope(std::string kind) {
  return [kind = std::move(kind)](const Request& req) -> Result<Target> {
    Target t;
    const std::string scope = policy::ScopeOf(req.subject);
    t.resource = {kind, ResourceIdParam(req), scope, scope};
    return t;
  };
}

Router::Router() {
  // Never organisation data: decided on role (and public rules) alone.
  for (const char* kind : {"system", "web", "session", "setting", "icf", "dictionary",
                           "code_list", "audit", "portal", "organisation", "user", "group",
                           "token", "dataset", "release", "sharing", "application", "grant",
                           "shared_file", "role_grant", "beacon", "storage",
                           "analysis_reference"}) {
    resolvers_[kind] = Unscoped(kind);
  }
  // Organisation data whose handlers filter to the caller's scope or decide per item.
  for (const char* kind :
       {"participant", "specimen", "finding", "run", "upload", "clinical", "analysis_order",
        "variant", "analysis_run"}) {
    resolvers_[kind] = CallerScope(kind);
  }
}

void Router::SetResolver(const std::string& kind, Resolver resolver) {
  resolvers_[kind] = std::move(resolver);
}

Status Router::Add(Route route) {
  if (route.method.empty() || route.pattern.empty() || route.action.empty() ||
      route.resource.empty() || !route.handler) {
    return InvalidArgument(
        "route_incomplete",
        fmt::format("route {} {} must declare method, pattern, action, resource and handler",
                    route.method, route.pattern));
  }
  if (!policy::DescribeRule(route.action)) {
    return InvalidArgument("route_unknown_action",
                           fmt::format("route {} {} names the action '{}', which the policy "
                                       "does not know",
                                       route.method, route.pattern, route.action));
  }
  if (!route.resolve) {
    const auto it = resolvers_.find(route.resource);
    if (it == resolvers_.end()) {
      return InvalidArgument("route_unresolved",
                             fmt::format("route {} {} has no resolver for its resource kind '{}'",
                                         route.method, route.pattern, route.resource));
    }
    route.resolve = it->second;
  }
  for (const auto& r : routes_) {
    if (r->method == route.method && r->pattern == route.pattern) {
      return Conflict("route_duplicate",
                      fmt::format("route {} {} is already registered", r->method, r->pattern));
    }
  }
  routes_.push_back(std::make_unique<Route>(std::move(route)));
  return Status::Ok();
}

Router::Match Router::Find(std::string_view method, std::string_view path) const {
  Match m;
  for (const auto& r : routes_) {
    std::map<std::string, std::string> params;
    if (!MatchPattern(r->pattern, path, params)) continue;
    // A rest capture is a fallback, not a resource: other methods on its paths stay 404.
    if (!IsRestCapture(r->pattern)) m.path_known = true;
    // HEAD is served by the GET route without a body (the server drops it).
    if (r->method == method || (method == "HEAD" && r->method == "GET")) {
      m.route = r.get();
      m.params = std::move(params);
      return m;
    }
  }
  return m;
}

Response Pipeline::Handle(Request& req, const Router::Match& match) const {
  Admission admission = Admit(req, match);
  return Complete(req, match, std::move(admission));
}

Pipeline::Admission Pipeline::Admit(Request& req, const Router::Match& match) const {
  req.route = match.route;
  req.path_params = match.params;
  Admission a;
  for (const auto& f : filters_) {
    ++a.ran;
    a.stopped = f->OnRequest(req);
    if (a.stopped) break;
  }
  return a;
}

Response Pipeline::Complete(Request& req, const Router::Match& match,
                            Admission admission) const {
  const size_t ran = admission.ran;
  std::optional<Response> resp = std::move(admission.stopped);
  if (!resp) {
    if (req.route == nullptr) {
      resp = match.path_known
                 ? Response::FromError(Error{ErrorKind::kMethodNotAllowed, "method_not_allowed",
                                             fmt::format("{} is not allowed on {}", req.method,
                                                         req.path),
                                             "method"})
                 : Response::FromError(
                       NotFound("route_not_found", fmt::format("no resource at {}", req.path)));
    } else {
      try {
        resp = req.route->handler(req);
      } catch (const std::exception& e) {
        // A handler bug must not take the connection or the server down; it is logged with the
        // request id so that it can be found, and the client learns nothing internal.
        spdlog::error("request {}: handler for {} {} threw: {}", req.request_id, req.method,
                      req.route->pattern, e.what());
        resp = Response::FromError(Internal("internal_error", "internal error; see server log"));
      }
    }
  }
  for (size_t i = ran; i-- > 0;) filters_[i]->OnResponse(req, *resp);
  return std::move(*resp);
}

Status ParseTarget(std::string_view target, Request& req) {
  auto parsed = boost::urls::parse_origin_form(target);
  if (!parsed) {
    return InvalidArgument("invalid_target",
                           fmt::format("request target is not a valid path: {}",
                                       parsed.error().message()),
                           "target");
  }
  const boost::urls::url_view u = *parsed;
  req.path = u.path();
  if (req.path.empty()) req.path = "/";
  if (req.path.find('\0') != std::string::npos) {
    return InvalidArgument("invalid_target", "request path contains a NUL byte", "target");
  }
  for (auto param : u.params()) {
    req.query[std::string(param.key)] = param.has_value ? std::string(param.value) : "";
  }
  return Status::Ok();
}

Result<std::string> JsonString(const nlohmann::json& body, const std::string& name,
                               bool required, size_t max_bytes) {
  const auto it = body.find(name);
  if (it == body.end() || it->is_null()) {
    if (required) {
      return InvalidArgument("missing_field", fmt::format("'{}' is required", name), name);
    }
    return std::string();
  }
  if (!it->is_string()) {
    return InvalidArgument("invalid_type", fmt::format("'{}' must be a string", name), name);
  }
  std::string v = it->get<std::string>();
  if (v.size() > max_bytes) {
    return InvalidArgument("value_too_long",
                           fmt::format("'{}' exceeds {} bytes", name, max_bytes), name);
  }
  return v;
}

Result<int64_t> JsonInt(const nlohmann::json& body, const std::string& name, bool required,
                        int64_t def) {
  const auto it = body.find(name);
  if (it == body.end() || it->is_null()) {
    if (required) {
      return InvalidArgument("missing_field", fmt::format("'{}' is required", name), name);
    }
    return def;
  }
  if (!it->is_number_integer()) {
    return InvalidArgument("invalid_type", fmt::format("'{}' must be an integer", name), name);
  }
  // Unsigned values above INT64_MAX would wrap to negative numbers in get<int64_t>().
  if (it->is_number_unsigned() &&
      it->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return InvalidArgument("number_out_of_range",
                           fmt::format("'{}' is outside the range of a 64-bit integer", name),
                           name);
  }
  return it->get<int64_t>();
}

Result<std::vector<std::string>> JsonStringList(const nlohmann::json& body,
                                                const std::string& name, bool required) {
  std::vector<std::string> out;
  const auto it = body.find(name);
  if (it == body.end() || it->is_null()) {
    if (required) {
      return InvalidArgument("missing_field", fmt::format("'{}' is required", name), name);
    }
    return out;
  }
  if (!it->is_array()) {
    return InvalidArgument("invalid_type", fmt::format("'{}' must be an array of strings", name),
                           name);
  }
  for (size_t i = 0; i < it->size(); ++i) {
    if (!(*it)[i].is_string()) {
      return InvalidArgument("invalid_type", fmt::format("'{}[{}]' must be a string", name, i),
                             fmt::format("{}[{}]", name, i));
    }
    out.push_back((*it)[i].get<std::string>());
  }
  return out;
}

Status OnlyFields(const nlohmann::json& body, std::initializer_list<std::string_view> known) {
  for (const auto& [key, value] : body.items()) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      return InvalidArgument("unknown_field", fmt::format("unknown field '{}'", key), key);
    }
  }
  return Status::Ok();
}

}  // namespace zengen::http
