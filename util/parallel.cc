#include "util/parallel.h"

namespace cp {

WorkerPool::WorkerPool(size_t threads) {
  for (size_t t = 0; t < std::max<size_t>(1, threads); ++t) threads_.emplace_back([this] { Loop(); });
}

WorkerPool::~WorkerPool() {
  Wait();
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  start_cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void WorkerPool::Start(size_t n, std::function<void(size_t)> work) {
  Wait();
  {
    std::lock_guard<std::mutex> lock(mu_);
    work_ = std::move(work);
    n_ = n;
    next_.store(0);
    running_ = threads_.size();
    ++generation_;
  }
  start_cv_.notify_all();
}

void WorkerPool::HelpAndWait() {
  for (size_t i = next_.fetch_add(1); i < n_; i = next_.fetch_add(1)) work_(i);
  Wait();
}

void WorkerPool::Wait() {
  std::unique_lock<std::mutex> lock(mu_);
  done_cv_.wait(lock, [this] { return running_ == 0; });
}

void WorkerPool::Loop() {
  uint64_t seen = 0;
  for (;;) {
    size_t n = 0;
    {
      std::unique_lock<std::mutex> lock(mu_);
      start_cv_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      n = n_;
    }
    // work_ is not changed until every thread has left this job (Start waits first).
    for (size_t i = next_.fetch_add(1); i < n; i = next_.fetch_add(1)) work_(i);
    std::lock_guard<std::mutex> lock(mu_);
    if (--running_ == 0) done_cv_.notify_all();
  }
}

}  // namespace cp
