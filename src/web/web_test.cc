#include "web/web.h"

#include <fstream>

#include <gtest/gtest.h>

namespace zengen::web {
namespace {
namespace fs = std::filesystem;

class StaticSiteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("zengen-web-test-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
             "-" + std::to_string(reinterpret_cast<uintptr_t>(this)));
    fs::create_directories(root_ / "dist" / "assets");
    Write("dist/index.html", "<!doctype html><title>Zengen</title>");
    Write("dist/assets/index-1a2b3c.js", "console.log(1)");
    Write("dist/assets/index-4d5e6f.css", "body{}");
    Write("dist/favicon.svg", "<svg/>");
    Write("secret.txt", "outside the web root");
    fs::create_symlink(root_ / "secret.txt", root_ / "dist" / "assets" / "link.txt");
    auto site = StaticSite::Load(root_ / "dist");
    ASSERT_TRUE(site.ok()) << site.error().message;
    site_.emplace(std::move(*site));
  }
  void TearDown() override { fs::remove_all(root_); }
  void Write(const std::string& rel, const std::string& text) {
    std::ofstream(root_ / rel, std::ios::binary) << text;
  }
  http::Response Get(const std::string& path, const std::string& if_none_match = "") {
    http::Request req;
    req.method = "GET";
    req.path = path;
    if (!if_none_match.empty()) req.headers["If-None-Match"] = if_none_match;
    return site_->Serve(req);
  }
  fs::path root_;
  std::optional<StaticSite> site_;
};

TEST_F(StaticSiteTest, ServesFilesWithTypesCachingAndPolicy) {
  EXPECT_EQ(site_->file_count(), 4u) << "the symbolic link is not served";
  struct Case {
    std::string path;
    int status;
    std::string type, cache, body;
  };
  const std::vector<Case> cases = {
      {"/", 200, "text/html; charset=utf-8", "no-cache", "<!doctype html><title>Zengen</title>"},
      {"/assets/index-1a2b3c.js", 200, "text/javascript; charset=utf-8",
       "public, max-age=31536000, immutable", "console.log(1)"},
      {"/assets/index-4d5e6f.css", 200, "text/css; charset=utf-8",
       "public, max-age=31536000, immutable", "body{}"},
      {"/favicon.svg", 200, "image/svg+xml", "no-cache", "<svg/>"},
      // Application routes fall back to index.html.
      {"/console/participants/ZG-1", 200, "text/html; charset=utf-8", "no-cache",
       "<!doctype html><title>Zengen</title>"},
      {"/portal", 200, "text/html; charset=utf-8", "no-cache",
       "<!doctype html><title>Zengen</title>"},
  };
  for (const auto& c : cases) {
    const auto r = Get(c.path);
    EXPECT_EQ(r.status, c.status) << c.path;
    EXPECT_EQ(r.headers.at("Content-Type"), c.type) << c.path;
    EXPECT_EQ(r.headers.at("Cache-Control"), c.cache) << c.path;
    EXPECT_EQ(r.body, c.body) << c.path;
    EXPECT_EQ(r.headers.at("Content-Security-Policy"), kContentSecurityPolicy) << c.path;
    EXPECT_EQ(r.headers.at("ETag").front(), '"') << c.path;
  }
}

TEST_F(StaticSiteTest, RevalidationAnswers304WithoutBody) {
  const auto first = Get("/assets/index-1a2b3c.js");
  const auto again = Get("/assets/index-1a2b3c.js", first.headers.at("ETag"));
  EXPECT_EQ(again.status, 304);
  EXPECT_TRUE(again.body.empty());
  EXPECT_EQ(Get("/assets/index-1a2b3c.js", "\"other\"").status, 200);
  EXPECT_NE(first.headers.at("ETag"), Get("/").headers.at("ETag"));
}

TEST_F(StaticSiteTest, RefusesTraversalAndUnknownFiles) {
  struct Case {
    std::string path;
    int status;
    std::string code;
  };
  const std::vector<Case> cases = {
      {"/../secret.txt", 400, "invalid_path"},
      {"/assets/../../secret.txt", 400, "invalid_path"},
      {"/assets/./index-1a2b3c.js", 400, "invalid_path"},
      {"/assets//index-1a2b3c.js", 400, "invalid_path"},
      {"/assets\\..\\secret.txt", 400, "invalid_path"},
      {"/assets/link.txt", 404, "file_not_found"},
      {"/assets/missing.js", 404, "file_not_found"},
      {"/assets/no-extension", 404, "file_not_found"},
      {"/robots.txt", 404, "file_not_found"},
      {"/api/v1/nothing", 404, "route_not_found"},
      {"/api", 404, "route_not_found"},
  };
  for (const auto& c : cases) {
    const auto r = Get(c.path);
    EXPECT_EQ(r.status, c.status) << c.path;
    EXPECT_NE(r.body.find(c.code), std::string::npos) << c.path << ": " << r.body;
    EXPECT_EQ(r.body.find("outside the web root"), std::string::npos) << c.path;
  }
}

TEST(StaticSiteLoadTest, MissingIndexAndUnbuiltSite) {
  const fs::path empty = fs::temp_directory_path() / "zengen-web-test-empty";
  fs::create_directories(empty);
  auto site = StaticSite::Load(empty);
  ASSERT_FALSE(site.ok());
  EXPECT_EQ(site.error().code, "web_root_missing");
  fs::remove_all(empty);
  const auto unbuilt = StaticSite::Unavailable("the front-end is not built");
  http::Request req;
  req.method = "GET";
  req.path = "/";
  const auto r = unbuilt.Serve(req);
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.body.find("web_not_built"), std::string::npos);
}

TEST(ContentTypeTest, ByExtension) {
  EXPECT_EQ(ContentTypeFor("a.woff2"), "font/woff2");
  EXPECT_EQ(ContentTypeFor("a.json"), "application/json");
  EXPECT_EQ(ContentTypeFor("README"), "application/octet-stream");
  EXPECT_EQ(ContentTypeFor("a.exe"), "application/octet-stream");
}

TEST(FindWebRootTest, ConfiguredWinsElseNextToTheBinary) {
  const fs::path base = fs::temp_directory_path() / "zengen-web-test-find";
  fs::create_directories(base / "build");
  fs::create_directories(base / "web" / "dist");
  std::ofstream(base / "web" / "dist" / "index.html") << "x";
  EXPECT_EQ(FindWebRoot("/configured", base / "build" / "zengen"), fs::path("/configured"));
  EXPECT_EQ(FindWebRoot("", base / "build" / "zengen"),
            fs::weakly_canonical(base / "web" / "dist"));
  EXPECT_TRUE(FindWebRoot("", base / "elsewhere" / "deeper" / "zengen").empty());
  fs::remove_all(base);
}

}  // namespace
}  // namespace zengen::web
