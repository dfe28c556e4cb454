// Running independent pieces of work on a few threads.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <thread>
#include <vector>

namespace cp {

// Calls work(i) for every i in [0, n), on up to `threads` threads (the caller's one of
// them), each taking the next i when done with its last.
template <typename Fn>
void ParallelFor(size_t n, size_t threads, const Fn& work) {
  std::atomic<size_t> next{0};
  auto loop = [&] {
    for (size_t i = next.fetch_add(1); i < n; i = next.fetch_add(1)) work(i);
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads && t < n; ++t) pool.emplace_back(loop);
  loop();
  for (auto& t : pool) t.join();
}

// A thread count asked for by an option: 0 means one per core; at least 1, at most 64.
inline size_t ThreadsFor(size_t requested) {
  const size_t n = requested != 0 ? requested : std::thread::hardware_concurrency();
  return std::clamp<size_t>(n, 1, 64);
}

}  // namespace cp
