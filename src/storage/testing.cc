#include "storage/testing.h"

#include <fmt/format.h>
#include <libpq-fe.h>
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <random>
#include <system_error>
#include <utility>

namespace zengen::storage {
namespace {

const char* PostgresUrl() {
  const char* url = std::getenv("ZENGEN_TEST_POSTGRES_URL");
  return url != nullptr && *url != '\0' ? url : nullptr;
}

bool PostgresRequired() {
  const char* req = std::getenv("ZENGEN_REQUIRE_POSTGRES");
  return req != nullptr && std::string_view(req) == "1";
}

// Runs one statement outside a transaction (CREATE/DROP DATABASE cannot run inside one).
Status AdminExec(const std::string& admin_url, const std::string& sql) {
  PGconn* conn = PQconnectdb(admin_url.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    Error e = Unavailable("database_unavailable",
                          fmt::format("cannot connect to {}: {}", admin_url, PQerrorMessage(conn)));
    PQfinish(conn);
    return e;
  }
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
  PGresult* res = PQexec(conn, sql.c_str());
  Status s;
  if (PQresultStatus(res) != PGRES_COMMAND_OK) {
    s = Internal("sql_error", fmt::format("{}: {}", sql, PQresultErrorMessage(res)));
  }
  PQclear(res);
  PQfinish(conn);
  return s;
}

std::string RandomHex(int bytes) {
  std::random_device rd;
  std::string out;
  for (int i = 0; i < bytes; ++i) out += fmt::format("{:02x}", rd() & 0xff);
  return out;
}

}  // namespace

std::vector<std::string> TestBackends() {
  std::vector<std::string> backends = {"sqlite"};
  if (PostgresUrl() != nullptr || PostgresRequired()) backends.emplace_back("postgres");
  return backends;
}

std::string PostgresUrlWithDatabase(std::string_view url, std::string_view database) {
  const size_t scheme = url.find("://");
  const size_t authority = scheme == std::string_view::npos ? 0 : scheme + 3;
  const size_t path = url.find_first_of("/?", authority);
  if (path == std::string_view::npos) return fmt::format("{}/{}", url, database);
  const size_t query = url.find('?', path);
  const std::string_view rest = query == std::string_view::npos ? "" : url.substr(query);
  return fmt::format("{}/{}{}", url.substr(0, path), database, rest);
}

Result<ScratchDatabase> ScratchDatabase::Create(std::string_view backend) {
  ScratchDatabase db;
  if (backend == "sqlite") {
    std::error_code ec;
    const std::filesystem::path base = std::filesystem::temp_directory_path(ec);
    if (ec) return Internal("scratch_failed", ec.message());
    std::string tmpl = (base / "zengen-test-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) {
      return Internal("scratch_failed", fmt::format("mkdtemp {} failed", tmpl));
    }
    db.temp_dir_ = tmpl;
    db.location_ = (std::filesystem::path(tmpl) / "zengen.db").string();
    return db;
  }
  if (backend == "postgres") {
    const char* url = PostgresUrl();
    if (url == nullptr) {
      return Unavailable("postgres_not_configured",
                         "ZENGEN_REQUIRE_POSTGRES=1 but ZENGEN_TEST_POSTGRES_URL is not set; "
                         "start a server with scripts/postgres-test-server.sh and export its URL");
    }
    const std::string name = "zt_" + RandomHex(8);
    ZG_RETURN_IF_ERROR(AdminExec(url, fmt::format("CREATE DATABASE {}", name)));
    db.admin_url_ = url;
    db.db_name_ = name;
    db.location_ = PostgresUrlWithDatabase(url, name);
    return db;
  }
  return InvalidArgument("unknown_backend", fmt::format("unknown test backend {}", backend));
}

ScratchDatabase::ScratchDatabase(ScratchDatabase&& other) noexcept
    : location_(std::exchange(other.location_, {})),
      temp_dir_(std::exchange(other.temp_dir_, {})),
      admin_url_(std::exchange(other.admin_url_, {})),
      db_name_(std::exchange(other.db_name_, {})) {}

ScratchDatabase& ScratchDatabase::operator=(ScratchDatabase&& other) noexcept {
  if (this != &other) {
    Destroy();
    location_ = std::exchange(other.location_, {});
    temp_dir_ = std::exchange(other.temp_dir_, {});
    admin_url_ = std::exchange(other.admin_url_, {});
    db_name_ = std::exchange(other.db_name_, {});
  }
  return *this;
}

ScratchDatabase::~ScratchDatabase() { Destroy(); }

void ScratchDatabase::Destroy() {
  if (!temp_dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(temp_dir_, ec);
    temp_dir_.clear();
  }
  if (!db_name_.empty()) {
    // why: WITH (FORCE) ends sessions a failed test may have left open.
    (void)AdminExec(admin_url_, fmt::format("DROP DATABASE IF EXISTS {} WITH (FORCE)", db_name_));
    db_name_.clear();
  }
  location_.clear();
}

Status SeedOrganisations(Store& store,
                         const std::vector<std::pair<std::string, std::string>>& id_kind) {
  ZG_ASSIGN_OR_RETURN(auto tx, store.Begin(TxMode::kWrite));
  for (const auto& [id, kind] : id_kind) {
    ZG_RETURN_IF_ERROR(tx->Exec(
        "INSERT INTO organisations (id, name, kind, jurisdiction, created_at) "
        "VALUES ($1, $1, $2, 'JP', '2026-01-01T00:00:00Z')",
        {Text(id), Text(kind)}));
  }
  return tx->Commit();
}

}  // namespace zengen::storage
