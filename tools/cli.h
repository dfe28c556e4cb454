// The `contactpoint` command line: ops and development tool.
//
// Exit codes: 0 success; 1 failure (storage, I/O, or rows rejected by an import);
// 2 usage error or search criteria refused; 3 search answered "too many matches".
#pragma once

namespace cp {

int RunCli(int argc, char** argv);

}  // namespace cp
