// The `contactpoint` command line: ops and development tool.
#pragma once

namespace cp {

// Exit codes: 0 success; 1 failure (storage, I/O, or rows rejected by an import);
// 2 usage error or search criteria refused; 3 search answered "too many matches";
// 4 refused by the server (the client commands, tools/cli_client.cc).
inline constexpr int kExitOk = 0, kExitFailure = 1, kExitUsage = 2, kExitTooMany = 3,
                     kExitRefused = 4;

int RunCli(int argc, char** argv);

}  // namespace cp
