#include "core/blocking_pool.hpp"

#include <algorithm>
#include <thread>

namespace rws {

asio::thread_pool& blocking_pool() {
  static asio::thread_pool pool(std::max(2u, std::thread::hardware_concurrency()));
  return pool;
}

}  // namespace rws
