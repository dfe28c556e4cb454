#include "tools/cli.h"

int main(int argc, char** argv) { return cp::RunCli(argc, argv); }
