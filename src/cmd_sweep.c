/* approxmap sweep: placeholder until its module lands (it fails loudly rather than pretending). */
#include <stdio.h>

#include "cmd.h"

int cmd_sweep(int argc, char **argv)
{
    (void)argc;
    fprintf(stderr, "approxmap: '%s' is not implemented yet\n", argv[0]);
    return CMD_EXIT_FAIL;
}
