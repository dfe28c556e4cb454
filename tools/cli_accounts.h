// The `account` and `audit` subcommands of the contactpoint CLI:
//   account org-add | range-add | user-add | set-password | reset-code | unlock | lock | list
//   audit verify | query
// Secrets never travel in argv: passwords come from --password-file or standard input.
#pragma once

#include <functional>

namespace CLI {
class App;
}

namespace cp {

// Registers the subcommands on `app`; the chosen one stores its action in *run.
void AddAccountCommands(CLI::App& app, std::function<int()>* run);

}  // namespace cp
