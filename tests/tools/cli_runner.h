// Running the `contactpoint` binary as a subprocess in tests: exit code, stdout, stderr.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

extern char** environ;

namespace cp {

// The exit codes tools/cli.h documents, restated so that a change there fails these tests.
inline constexpr int kExitOk = 0, kExitFailure = 1, kExitUsage = 2;

// The header of a feed batch with the columns the feed tests use.
inline const std::string kFeedHeader =
    "source_key,given_name,family_name,date_of_birth,gender,address,postcode,nhs_number,action,"
    "date_of_death\n";

struct CliResult {
  int code = -1;
  std::string out;
  std::string err;
};

inline std::ostream& operator<<(std::ostream& os, const CliResult& r) {
  return os << "exit " << r.code << "\n--- stdout ---\n" << r.out << "--- stderr ---\n" << r.err;
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Runs CP_CONTACTPOINT_BIN with `args` and `extra_env` (NAME=VALUE) added to the
// environment; stdout and stderr go to files in `dir`. Stdin is `*input` (through a file in
// `dir`), or /dev/null when `input` is null. A process killed by a signal reports 128 + the
// signal number.
inline CliResult RunContactpoint(const std::string& dir, const std::vector<std::string>& args,
                                 const std::vector<std::string>& extra_env = {},
                                 const std::string* input = nullptr) {
  const std::string in_path = dir + "/.stdin", out_path = dir + "/.stdout", err_path = dir + "/.stderr";
  if (input != nullptr) std::ofstream(in_path, std::ios::binary | std::ios::trunc) << *input;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, input != nullptr ? in_path.c_str() : "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  std::vector<std::string> all = {CP_CONTACTPOINT_BIN};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_strings = extra_env;
  for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t pid = 0;
  CliResult r;
  int rc = posix_spawn(&pid, CP_CONTACTPOINT_BIN, &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  EXPECT_EQ(rc, 0) << "cannot start " << CP_CONTACTPOINT_BIN;
  if (rc != 0) return r;
  int status = 0;
  EXPECT_EQ(::waitpid(pid, &status, 0), pid);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = ReadFile(out_path);
  r.err = ReadFile(err_path);
  return r;
}

}  // namespace cp
