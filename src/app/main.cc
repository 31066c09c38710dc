// The zengen command: init, serve, demo.
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "app/operator_token.h"
#include "app/system_routes.h"
#include "common/clock.h"
#include "common/config.h"
#include "crypto/crypto.h"
#include "http/filters.h"
#include "http/server.h"
#include "storage/migrations.h"
#include "storage/store.h"

namespace fs = std::filesystem;

namespace zengen::app {
namespace {

constexpr const char* kOperatorTokenHash = "keys/operator-token.sha256";
// Demo only: the plaintext token, so that `zengen demo` can show it again on every start.
constexpr const char* kDemoTokenFile = "demo-operator-token.txt";

int Fail(const Error& e) {
  std::cerr << "zengen: " << e.message;
  if (!e.field.empty()) std::cerr << " (" << e.field << ")";
  std::cerr << " [" << e.code << "]\n";
  return 1;
}

struct InitOptions {
  fs::path data_dir;
  std::string database = "zengen.db";
  std::string listen = "127.0.0.1:8443";
};

// Creates the data directory. Returns the operator token (shown once).
Result<std::string> Init(const InitOptions& o) {
  if (fs::exists(o.data_dir / "zengen.conf")) {
    return Conflict("already_initialised",
                    fmt::format("{} already holds a data directory", o.data_dir.string()));
  }
  std::error_code ec;
  fs::create_directories(o.data_dir / "tls", ec);
  if (!ec) fs::create_directories(o.data_dir / "keys", ec);
  if (ec) {
    return Internal("mkdir_failed",
                    fmt::format("cannot create {}: {}", o.data_dir.string(), ec.message()));
  }
  fs::permissions(o.data_dir / "keys", fs::perms::owner_all, ec);
  {
    std::ofstream conf(o.data_dir / "zengen.conf");
    conf << DefaultConfigText(o.database, o.listen);
    if (!conf) return Internal("write_failed", "cannot write zengen.conf");
  }
  auto config = LoadConfig(o.data_dir);
  if (!config.ok()) return config.error();
  ZG_RETURN_IF_ERROR(crypto::WriteSelfSignedCertificate(
      config->Resolve(config->tls_certificate), config->Resolve(config->tls_private_key),
      {"localhost", "127.0.0.1", "::1"}, 825));
  ZG_RETURN_IF_ERROR(crypto::WriteSecretFile(config->Resolve(config->pseudonym_key),
                                             crypto::ToHex(crypto::RandomBytes(32)) + "\n"));
  ZG_RETURN_IF_ERROR(crypto::WriteSecretFile(config->Resolve(config->storage_master_key),
                                             crypto::ToHex(crypto::RandomBytes(32)) + "\n"));
  auto token = CreateOperatorToken(config->Resolve(kOperatorTokenHash));
  if (!token.ok()) return token.error();
  storage::OpenOptions so;
  so.location = config->UsesPostgres() ? config->database : config->SqlitePath().string();
  auto store = storage::OpenStore(so);
  if (!store.ok()) return store.error();
  return *token;
}

// Serves a data directory until SIGTERM/SIGINT. on_ready runs once the port is bound.
int Serve(const fs::path& data_dir, const std::string& listen_override,
          const std::function<void(const std::string& url)>& on_ready) {
  auto config = LoadConfig(data_dir);
  if (!config.ok()) return Fail(config.error());
  if (!listen_override.empty()) config->listen = listen_override;

  storage::OpenOptions so;
  so.location = config->UsesPostgres() ? config->database : config->SqlitePath().string();
  so.pool_size = config->threads + 2;
  auto store = storage::OpenStore(so);
  if (!store.ok()) return Fail(store.error());

  auto authenticator = OperatorTokenAuthenticator::Load(config->Resolve(kOperatorTokenHash));
  if (!authenticator.ok()) return Fail(authenticator.error());

  SystemClock clock;
  http::Router router;
  if (auto st = AddSystemRoutes(router, **store, clock); !st.ok()) return Fail(st.error());
  http::Pipeline pipeline(std::move(router));
  pipeline.AddFilter(std::make_unique<http::RequestIdFilter>());
  pipeline.AddFilter(std::make_unique<http::AccessAuditFilter>(clock, http::LogAccessRecord));
  pipeline.AddFilter(std::make_unique<http::AuthenticationFilter>(
      std::shared_ptr<http::Authenticator>(std::move(*authenticator))));
  pipeline.AddFilter(std::make_unique<http::PolicyFilter>());

  http::ServerOptions opt;
  opt.listen = config->listen;
  opt.tls_certificate = config->Resolve(config->tls_certificate);
  opt.tls_private_key = config->Resolve(config->tls_private_key);
  opt.threads = config->threads;
  opt.max_connections = config->max_connections;
  opt.max_header_bytes = config->max_header_bytes;
  opt.max_body_bytes = config->max_body_bytes;
  opt.handshake_timeout_ms = config->handshake_timeout_ms;
  opt.read_timeout_ms = config->read_timeout_ms;
  opt.idle_timeout_ms = config->idle_timeout_ms;
  opt.shutdown_grace_ms = config->shutdown_grace_ms;
  auto server = http::Server::Create(opt, pipeline);
  if (!server.ok()) return Fail(server.error());

  std::string host = config->listen.substr(0, config->listen.rfind(':'));
  if (host == "0.0.0.0" || host == "[::]") host = "localhost";
  const std::string url = fmt::format("https://{}:{}", host, (*server)->port());
  spdlog::info("database: {} (schema version {})", storage::BackendName((*store)->backend()),
               storage::LatestSchemaVersion());
  // The first line on stdout names the URL; scripts and tests read it to find the port.
  std::cout << "zengen: serving " << url << std::endl;
  if (on_ready) on_ready(url);
  (*server)->Run();
  server->reset();
  store->reset();  // closes every database connection before the process ends
  spdlog::info("stopped cleanly");
  return 0;
}

}  // namespace
}  // namespace zengen::app

int main(int argc, char** argv) {
  using namespace zengen;
  // A peer that vanishes mid-write must cost one connection, never the process.
  std::signal(SIGPIPE, SIG_IGN);
  // Logs go to stderr so that stdout carries only what scripts read.
  spdlog::set_default_logger(spdlog::stderr_color_mt("zengen"));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v", spdlog::pattern_time_type::utc);

  CLI::App cli{"Zengen: the data center of a national whole-genome program"};
  cli.require_subcommand(1);
  cli.set_version_flag("--version", ZENGEN_VERSION);

  app::InitOptions init_opt;
  auto* init = cli.add_subcommand("init", "Create a data directory (config, TLS, keys, database)");
  init->add_option("--data", init_opt.data_dir, "Data directory to create")->required();
  init->add_option("--database", init_opt.database,
                   "SQLite file (relative to the data directory) or postgres:// URL");
  init->add_option("--listen", init_opt.listen, "Address:port to serve on");

  fs::path serve_dir;
  std::string serve_listen;
  auto* serve = cli.add_subcommand("serve", "Serve a data directory over HTTPS");
  serve->add_option("--data", serve_dir, "Data directory")->required();
  serve->add_option("--listen", serve_listen, "Address:port, overriding the config file");

  fs::path demo_dir = "zengen-demo";
  std::string demo_listen = "127.0.0.1:8443";
  auto* demo = cli.add_subcommand("demo", "Create (if absent) and serve a demo data center");
  demo->add_option("--data", demo_dir, "Data directory")->capture_default_str();
  demo->add_option("--listen", demo_listen, "Address:port")->capture_default_str();

  CLI11_PARSE(cli, argc, argv);

  if (*init) {
    auto token = app::Init(init_opt);
    if (!token.ok()) return app::Fail(token.error());
    std::cout << "zengen: initialised " << fs::absolute(init_opt.data_dir).string() << "\n"
              << "operator token (shown once; keep it safe): " << *token << "\n";
    return 0;
  }
  if (*serve) return app::Serve(serve_dir, serve_listen, nullptr);
  if (*demo) {
    if (!fs::exists(demo_dir / "zengen.conf")) {
      app::InitOptions o{.data_dir = demo_dir, .listen = demo_listen};
      auto token = app::Init(o);
      if (!token.ok()) return app::Fail(token.error());
      if (auto st = crypto::WriteSecretFile(demo_dir / app::kDemoTokenFile, *token + "\n");
          !st.ok()) {
        return app::Fail(st.error());
      }
    }
    std::string token;
    std::ifstream(demo_dir / app::kDemoTokenFile) >> token;
    return app::Serve(demo_dir, demo_listen, [&](const std::string& url) {
      std::cout << "\nZengen demo data center\n"
                << "  data directory : " << fs::absolute(demo_dir).string() << "\n"
                << "  health         : curl -k " << url << "/healthz\n"
                << "  version        : curl -k " << url << "/api/v1/version\n"
                << "  operator token : " << token << "\n"
                << "  try            : curl -k -X PUT -H 'Authorization: Bearer " << token
                << "' -H 'Content-Type: application/json' -d '{\"value\":\"全ゲノム\"}' " << url
                << "/api/v1/settings/program_name\n"
                << "The certificate is self-signed (hence -k). Stop with Ctrl-C.\n"
                << std::flush;
    });
  }
  return 0;
}
