#include "tools/cli.h"
#include "tools/cli_retention.h"

int main(int argc, char** argv) {
  if (argc > 1 && cp::IsLifecycleCommand(argv[1])) return cp::RunLifecycleCli(argc, argv);
  return cp::RunCli(argc, argv);
}
