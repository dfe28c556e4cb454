// `contactpoint retention run`, `contactpoint check` and `contactpoint consent`: the record
// lifecycle (storage/retention.h) and the consistency check (storage/check.h) by hand.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace cp {

void AddLifecycleCommands(CLI::App& app, std::function<int()>* run);

}  // namespace cp
