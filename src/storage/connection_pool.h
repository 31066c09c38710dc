// A fixed set of database connections shared by threads. Internal to the storage adapters.
#pragma once

#include <condition_variable>
#include <mutex>
#include <utility>
#include <vector>

namespace zengen::storage {

// Hands out idle connections; Acquire blocks while none is idle. The pool does not own the
// connections: the adapter opens and closes them. Thread-safe.
template <typename Conn>
class ConnectionPool {
 public:
  // Adds an idle connection.
  void Release(Conn conn) {
    {
      std::lock_guard lock(mu_);
      idle_.push_back(std::move(conn));
    }
    cv_.notify_one();
  }

  // Takes an idle connection, waiting for one to be released if necessary.
  Conn Acquire() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return !idle_.empty(); });
    Conn conn = std::move(idle_.back());
    idle_.pop_back();
    return conn;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Conn> idle_;
};

}  // namespace zengen::storage
