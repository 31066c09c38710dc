// A Store that counts the statements run through it, for tests that check how much a read
// costs (e.g. that a resolver reads one row). Every call is forwarded to the wrapped store.
#pragma once

#include <atomic>
#include <memory>
#include <span>
#include <string_view>
#include <utility>

#include "storage/store.h"

namespace zengen::testing {

class CountingStore final : public storage::Store {
 public:
  // `inner` must outlive this store and every transaction it began.
  explicit CountingStore(storage::Store& inner) : inner_(inner) {}

  // Statements (Exec and Query calls) run since construction or the last Reset.
  int64_t statements() const { return statements_.load(); }
  void Reset() { statements_ = 0; }

  storage::Backend backend() const override { return inner_.backend(); }
  Result<std::unique_ptr<storage::Transaction>> Begin(storage::TxMode mode) override {
    ZG_ASSIGN_OR_RETURN(auto tx, inner_.Begin(mode));
    return std::unique_ptr<storage::Transaction>(new Counted(std::move(tx), statements_));
  }
  Status Ping() override { return inner_.Ping(); }
  Result<int> SchemaVersion() override { return inner_.SchemaVersion(); }

 private:
  class Counted final : public storage::Transaction {
   public:
    Counted(std::unique_ptr<storage::Transaction> inner, std::atomic<int64_t>& count)
        : inner_(std::move(inner)), count_(count) {}
    Result<int64_t> Exec(std::string_view sql, std::span<const storage::Value> params) override {
      ++count_;
      return inner_->Exec(sql, params);
    }
    Result<storage::Rows> Query(std::string_view sql,
                                std::span<const storage::Value> params) override {
      ++count_;
      return inner_->Query(sql, params);
    }
    Status Commit() override { return inner_->Commit(); }

   private:
    std::unique_ptr<storage::Transaction> inner_;
    std::atomic<int64_t>& count_;
  };

  storage::Store& inner_;
  std::atomic<int64_t> statements_{0};
};

}  // namespace zengen::testing
