// Running independent pieces of work on a few threads.
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
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

// Threads kept for the pool's life, to run one job at a time in the background: work(i)
// for every i in [0, n), each thread taking the next i when done with its last. Kept
// threads keep what they cache (thread_local) from one job to the next, and the caller is
// free while a job runs (the feed applier looks the next window's rows up while it
// applies this one's).
//
// Thread safety: Start and Wait from one thread; `work` must not throw.
class WorkerPool {
 public:
  explicit WorkerPool(size_t threads);
  ~WorkerPool();  // waits for the running job, then stops the threads
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Starts a job and returns; a job already running is waited for first.
  void Start(size_t n, std::function<void(size_t)> work);
  // Does the current job's remaining work on the calling thread too, then waits for it.
  void HelpAndWait();
  // Returns when the job started last has done every i (at once when there is none).
  void Wait();

  size_t threads() const { return threads_.size(); }

 private:
  void Loop();

  std::mutex mu_;
  std::condition_variable start_cv_, done_cv_;
  std::function<void(size_t)> work_;
  size_t n_ = 0;               // set by Start only, on the one thread that calls Start and Help
  std::atomic<size_t> next_{0};
  size_t running_ = 0;       // threads still in the current job
  uint64_t generation_ = 0;  // jobs started
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

// A thread count asked for by an option: 0 means one per core; at least 1, at most 64.
inline size_t ThreadsFor(size_t requested) {
  const size_t n = requested != 0 ? requested : std::thread::hardware_concurrency();
  return std::clamp<size_t>(n, 1, 64);
}

}  // namespace cp
