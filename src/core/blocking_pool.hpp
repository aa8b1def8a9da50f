#pragma once
// Blocking work (directory walks, password hashing, embedded databases) runs on one
// process-wide thread pool so that worker event loops never stall on it.

#include <cstddef>
#include <type_traits>
#include <utility>

#include <asio/co_spawn.hpp>
#include <asio/thread_pool.hpp>
#include <asio/use_awaitable.hpp>

namespace rws {

// The pool, started on first use with max(2, cores) threads; joined at process exit.
asio::thread_pool& blocking_pool();

// Runs `work()` on the blocking pool and resumes the calling coroutine on its own executor
// with the result (or the exception `work` threw). `work` must not touch state that the
// caller's thread may change meanwhile. Capture only trivially copyable values (pointers into
// the awaiting frame are fine, it outlives the call): g++ 12 mis-relocates std::string
// captures moved through co_spawn's frame (seen as a free of a non-heap address under ASan).
template <class F>
asio::awaitable<std::invoke_result_t<F>> run_blocking(F work) {
  using R = std::invoke_result_t<F>;
  co_return co_await asio::co_spawn(
      blocking_pool(), [w = std::move(work)]() mutable -> asio::awaitable<R> { co_return w(); },
      asio::use_awaitable);
}

}  // namespace rws
