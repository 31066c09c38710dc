#include "storage/store.h"

#include <fmt/format.h>

#include <charconv>
#include <cstdlib>
#include <string>

#include "storage/migrations.h"
#include "storage/postgres/postgres_store.h"
#include "storage/sqlite/sqlite_store.h"
#include "storage/store_errors.h"

namespace zengen::storage {

Error TransactionAbortedError() {
  return Internal("transaction_aborted",
                  "an earlier statement in this transaction failed; the transaction must be "
                  "abandoned");
}

std::string_view BackendName(Backend b) {
  switch (b) {
    case Backend::kSqlite:
      return "sqlite";
    case Backend::kPostgres:
      return "postgres";
  }
  return "unknown";
}

namespace {

int64_t TextToInt(const std::string& s) {
  int64_t v = 0;
  const char* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(s.data(), end, v);
  if (ec == std::errc() && ptr == end) return v;
  // why: PostgreSQL numeric results (e.g. SUM) may carry a fractional part such as "12.0".
  char* dend = nullptr;
  const double d = std::strtod(s.c_str(), &dend);
  if (dend != s.c_str()) return static_cast<int64_t>(d);
  return 0;
}

}  // namespace

int64_t Row::Int(size_t i) const {
  const Value& v = cols_.at(i);
  if (const auto* p = std::get_if<int64_t>(&v)) return *p;
  if (const auto* p = std::get_if<double>(&v)) return static_cast<int64_t>(*p);
  if (const auto* p = std::get_if<std::string>(&v)) return TextToInt(*p);
  return 0;
}

double Row::Double(size_t i) const {
  const Value& v = cols_.at(i);
  if (const auto* p = std::get_if<double>(&v)) return *p;
  if (const auto* p = std::get_if<int64_t>(&v)) return static_cast<double>(*p);
  if (const auto* p = std::get_if<std::string>(&v)) return std::strtod(p->c_str(), nullptr);
  return 0;
}

std::string Row::Text(size_t i) const {
  const Value& v = cols_.at(i);
  if (const auto* p = std::get_if<std::string>(&v)) return *p;
  if (const auto* p = std::get_if<int64_t>(&v)) return std::to_string(*p);
  if (const auto* p = std::get_if<double>(&v)) return fmt::format("{}", *p);
  return "";
}

Result<std::unique_ptr<Store>> OpenStore(const OpenOptions& options) {
  if (options.location.empty()) {
    return InvalidArgument("invalid_store_location", "the database location is empty");
  }
  if (options.pool_size < 1) {
    return InvalidArgument("invalid_pool_size",
                           fmt::format("pool size must be at least 1, got {}", options.pool_size));
  }
  const std::string_view loc = options.location;
  const bool postgres = loc.starts_with("postgres://") || loc.starts_with("postgresql://");
  Result<std::unique_ptr<Store>> store =
      postgres ? OpenPostgresStore(options) : OpenSqliteStore(options);
  if (!store.ok()) return store;
  if (options.migrate) ZG_RETURN_IF_ERROR(Migrate(**store));
  return store;
}

}  // namespace zengen::storage
