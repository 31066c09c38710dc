// The web front-end's static files (web/dist, built by Vite from web/): the public portal and
// the staff console are one single-page application that zengen serves itself.
//
// Every file under the web root is read into memory at start (symbolic links and files that
// are not regular are skipped), so a request can only ever name a file found there: there is no
// path to traverse. Every answer carries kContentSecurityPolicy; assets under /assets/ have
// content-hashed names and are cached for a year, index.html is revalidated by ETag.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>

#include "common/result.h"
#include "http/http.h"

namespace zengen::web {

// Scripts, styles, images, fonts and API calls from this origin only; no inline script or
// style, no eval, no plug-ins, no framing, forms post only here.
inline constexpr std::string_view kContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'";

// The total size a web root may have (it is held in memory).
inline constexpr int64_t kMaxSiteBytes = 64 * 1024 * 1024;

// Content-Type for a file name by its extension (application/octet-stream when unknown).
std::string ContentTypeFor(std::string_view file_name);

struct StaticFile {
  std::string body;
  std::string content_type;
  std::string etag;  // strong, quoted: "\"<hex of SHA-256 prefix>\""
};

class StaticSite {
 public:
  // Reads every regular file under root. Errors: "web_root_missing" (not found) when root has
  // no index.html; "web_root_too_large" (invalid argument) past kMaxSiteBytes; I/O errors as
  // "web_root_unreadable".
  static Result<StaticSite> Load(const std::filesystem::path& root);
  // A site with no files: pages answer 503 "web_not_built" with reason as message.
  static StaticSite Unavailable(std::string reason);

  // Answers a GET or HEAD for req.path:
  //   - /api or /api/…                     → 404 route_not_found (the API's own answer);
  //   - a path with an empty, "." or ".." segment or a backslash → 400 invalid_path;
  //   - a file of the site                 → 200 (304 when If-None-Match matches its ETag);
  //   - otherwise under /assets/, or a last segment with a '.' → 404 file_not_found;
  //   - any other path                     → index.html (the application routes in the browser).
  http::Response Serve(const http::Request& req) const;

  size_t file_count() const { return files_.size(); }

 private:
  StaticSite() = default;
  http::Response File(const http::Request& req, const StaticFile& f, bool immutable) const;

  std::map<std::string, StaticFile, std::less<>> files_;  // "/index.html", "/assets/x-1a2b.js"
  std::string unavailable_reason_;
};

// Registers GET / and the fallback GET /{path...} (action "system.web", public). Register it
// after every other route: the fallback answers whatever no other route matched. site must
// outlive the router.
Status AddWebRoutes(http::Router& router, const StaticSite& site);

// The web root to serve: configured (made absolute against the data directory by the caller),
// else the first of <dir of the binary>/../web/dist and <dir of the binary>/web/dist that
// holds an index.html, else empty.
std::filesystem::path FindWebRoot(const std::filesystem::path& configured,
                                  const std::filesystem::path& binary);

}  // namespace zengen::web
