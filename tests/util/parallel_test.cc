// WorkerPool (util/parallel.h): every index of a job done once, jobs one after another on
// the same threads, the caller free while a job runs.
#include "util/parallel.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace cp {
namespace {

TEST(WorkerPoolTest, EveryIndexOfEveryJobIsDoneOnce) {
  WorkerPool pool(3);
  EXPECT_EQ(pool.threads(), 3u);
  for (size_t n : {0u, 1u, 2u, 7u, 1000u}) {
    std::vector<std::atomic<int>> done(n);
    pool.Start(n, [&](size_t i) { done[i].fetch_add(1); });
    pool.Wait();
    for (size_t i = 0; i < n; ++i) EXPECT_EQ(done[i].load(), 1) << "n " << n << " i " << i;
  }
}

TEST(WorkerPoolTest, JobsRunOnTheSameThreads) {
  WorkerPool pool(2);
  std::mutex mu;
  std::set<std::thread::id> ids;
  for (int job = 0; job < 20; ++job) {
    pool.Start(64, [&](size_t) {
      std::lock_guard<std::mutex> lock(mu);
      ids.insert(std::this_thread::get_id());
    });
    pool.Wait();
  }
  EXPECT_LE(ids.size(), 2u);
  EXPECT_EQ(ids.count(std::this_thread::get_id()), 0u);  // never the caller's
}

TEST(WorkerPoolTest, TheCallerRunsWhileAJobRuns) {
  WorkerPool pool(1);
  std::atomic<bool> release{false}, finished{false};
  pool.Start(1, [&](size_t) {
    while (!release.load()) std::this_thread::yield();
    finished = true;
  });
  // Start returned with the job still blocked on the caller: it runs in the background.
  EXPECT_FALSE(finished.load());
  release = true;
  pool.Wait();
  EXPECT_TRUE(finished.load());
}

TEST(WorkerPoolTest, StartWaitsForTheJobBeforeAndDestructionForTheLast) {
  std::atomic<int> sum{0};
  {
    WorkerPool pool(2);
    pool.Start(100, [&](size_t i) { sum += static_cast<int>(i); });
    pool.Start(100, [&](size_t) { sum += 1; });  // without a Wait between
  }
  EXPECT_EQ(sum.load(), 4950 + 100);
}

TEST(WorkerPoolTest, TheCallerCanHelpWithTheJob) {
  WorkerPool pool(1);
  std::atomic<bool> release{false};
  std::vector<std::atomic<int>> done(50);
  std::mutex mu;
  std::set<std::thread::id> ids;
  // Index 0 holds the pool's one thread until the caller has done the rest.
  pool.Start(done.size(), [&](size_t i) {
    {
      std::lock_guard<std::mutex> lock(mu);
      ids.insert(std::this_thread::get_id());
    }
    if (i == 0) {
      while (!release.load()) std::this_thread::yield();
    } else if (i == done.size() - 1) {
      release = true;
    }
    done[i].fetch_add(1);
  });
  pool.HelpAndWait();
  for (size_t i = 0; i < done.size(); ++i) EXPECT_EQ(done[i].load(), 1) << i;
  EXPECT_EQ(ids.count(std::this_thread::get_id()), 1u);
  pool.HelpAndWait();  // no job left: returns at once
}

}  // namespace
}  // namespace cp
