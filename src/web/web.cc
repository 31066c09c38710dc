#include "web/web.h"

#include <fstream>
#include <sstream>
#include <system_error>

#include <fmt/format.h>

#include "crypto/crypto.h"

namespace zengen::web {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kAssetsPrefix = "/assets/";

// Cache-Control for a file: hashed assets never change under their name.
constexpr std::string_view kImmutable = "public, max-age=31536000, immutable";
constexpr std::string_view kRevalidate = "no-cache";

bool IsApiPath(std::string_view path) { return path == "/api" || path.starts_with("/api/"); }

// Whether the decoded path has a segment that could step outside the site or alias a file.
bool UnsafePath(std::string_view path) {
  if (path.empty() || path.front() != '/') return true;
  if (path.find('\\') != std::string_view::npos || path.find('\0') != std::string_view::npos) {
    return true;
  }
  size_t i = 1;
  while (i <= path.size()) {
    const size_t j = std::min(path.find('/', i), path.size());
    const std::string_view seg = path.substr(i, j - i);
    if (seg == "." || seg == "..") return true;
    if (seg.empty() && j != path.size()) return true;  // "//"
    i = j + 1;
  }
  return false;
}

http::Response WithPolicy(http::Response r) {
  r.headers["Content-Security-Policy"] = std::string(kContentSecurityPolicy);
  return r;
}

}  // namespace

std::string ContentTypeFor(std::string_view name) {
  static const std::map<std::string_view, std::string_view> kTypes = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".woff2", "font/woff2"},
      {".txt", "text/plain; charset=utf-8"},
      {".webmanifest", "application/manifest+json"},
  };
  const size_t dot = name.rfind('.');
  const size_t slash = name.rfind('/');
  if (dot != std::string_view::npos && (slash == std::string_view::npos || dot > slash)) {
    if (auto it = kTypes.find(name.substr(dot)); it != kTypes.end()) return std::string(it->second);
  }
  return "application/octet-stream";
}

Result<StaticSite> StaticSite::Load(const fs::path& root) {
  std::error_code ec;
  if (!fs::is_regular_file(root / "index.html", ec)) {
    return NotFound("web_root_missing",
                    fmt::format("no index.html in {}; build the front-end (npm run build in web/)",
                                root.string()));
  }
  StaticSite site;
  int64_t total = 0;
  fs::recursive_directory_iterator it(root, fs::directory_options::none, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    // Symbolic links are neither followed nor served: everything served lies under root.
    if (it->is_symlink(ec) || !it->is_regular_file(ec)) continue;
    const fs::path rel = fs::relative(it->path(), root, ec);
    if (ec) break;
    std::ifstream in(it->path(), std::ios::binary);
    std::ostringstream body;
    body << in.rdbuf();
    if (!in) {
      return Error{ErrorKind::kInternal, "web_root_unreadable",
                   fmt::format("cannot read {}", it->path().string()), "web_root"};
    }
    StaticFile f;
    f.body = std::move(body).str();
    total += static_cast<int64_t>(f.body.size());
    if (total > kMaxSiteBytes) {
      return InvalidArgument("web_root_too_large",
                             fmt::format("{} holds more than {} bytes", root.string(), kMaxSiteBytes),
                             "web_root");
    }
    f.content_type = ContentTypeFor(rel.filename().string());
    f.etag = "\"" + crypto::Sha256Hex(f.body).substr(0, 32) + "\"";
    site.files_.emplace("/" + rel.generic_string(), std::move(f));
  }
  if (ec) {
    return Error{ErrorKind::kInternal, "web_root_unreadable",
                 fmt::format("cannot list {}: {}", root.string(), ec.message()), "web_root"};
  }
  return site;
}

StaticSite StaticSite::Unavailable(std::string reason) {
  StaticSite site;
  site.unavailable_reason_ = std::move(reason);
  return site;
}

http::Response StaticSite::File(const http::Request& req, const StaticFile& f,
                                bool immutable) const {
  http::Response r;
  r.headers["ETag"] = f.etag;
  r.headers["Cache-Control"] = std::string(immutable ? kImmutable : kRevalidate);
  r.headers["Content-Type"] = f.content_type;
  if (req.Header("If-None-Match") == f.etag) {
    r.status = 304;
    return WithPolicy(std::move(r));
  }
  r.body = f.body;
  return WithPolicy(std::move(r));
}

http::Response StaticSite::Serve(const http::Request& req) const {
  const std::string_view path = req.path;
  if (IsApiPath(path)) {
    return http::Response::FromError(
        NotFound("route_not_found", fmt::format("no resource at {}", path)));
  }
  if (UnsafePath(path)) {
    return WithPolicy(http::Response::FromError(
        InvalidArgument("invalid_path", "the path has an empty, '.' or '..' segment", "path")));
  }
  const auto index = files_.find(std::string_view("/index.html"));
  if (index == files_.end()) {
    return WithPolicy(http::Response::FromError(
        Error{ErrorKind::kUnavailable, "web_not_built", unavailable_reason_, ""}));
  }
  if (path != "/") {
    if (auto it = files_.find(path); it != files_.end()) {
      return File(req, it->second, path.starts_with(kAssetsPrefix));
    }
    const std::string_view last = path.substr(path.rfind('/') + 1);
    if (path.starts_with(kAssetsPrefix) || last.find('.') != std::string_view::npos) {
      return WithPolicy(http::Response::FromError(
          NotFound("file_not_found", fmt::format("no file at {}", path))));
    }
  }
  return File(req, index->second, false);
}

Status AddWebRoutes(http::Router& router, const StaticSite& site) {
  auto handler = [&site](http::Request& req) { return site.Serve(req); };
  ZG_RETURN_IF_ERROR(router.Add({.method = "GET", .pattern = "/", .action = "system.web",
                                 .resource = "web", .runs_inline = true, .handler = handler}));
  return router.Add({.method = "GET", .pattern = "/{path...}", .action = "system.web",
                     .resource = "web", .runs_inline = true, .handler = handler});
}

fs::path FindWebRoot(const fs::path& configured, const fs::path& binary) {
  if (!configured.empty()) return configured;
  std::error_code ec;
  const fs::path dir = binary.parent_path();
  for (const fs::path& candidate : {dir / ".." / "web" / "dist", dir / "web" / "dist"}) {
    if (fs::is_regular_file(candidate / "index.html", ec)) {
      return fs::weakly_canonical(candidate, ec);
    }
  }
  return {};
}

}  // namespace zengen::web
