// `contactpoint retention run`, `contactpoint check` and `contactpoint consent`: the record
// lifecycle (storage/retention.h) and the consistency check (storage/check.h) by hand.
//
// These commands have their own parser, entered from main() when argv[1] names one of
// them (IsLifecycleCommand), so that tools/cli.cc stays as it is.
#pragma once

#include <string_view>

namespace cp {

bool IsLifecycleCommand(std::string_view name);  // "retention", "check", "consent"
int RunLifecycleCli(int argc, char** argv);

}  // namespace cp
