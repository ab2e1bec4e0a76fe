/* approxmap: git-style command dispatcher. Global options precede the command:
 *   approxmap [--data-dir DIR] COMMAND [ARGS]
 * Exit codes: 0 success, 1 failure, 2 usage error, 130 interrupted (state saved). */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "config.h"
#include "datadir.h"

typedef struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *help;
} command;

static const command commands[] = {
    {"info", cmd_info, "show a model's layers, MACs and genome sizes"},
    {"eval", cmd_eval, "accuracy of the float, exact int8 and approximate model"},
    {"quantize", cmd_quantize, "write the int8 model as a documented YAML file"},
    {"multipliers", cmd_multipliers, "error metrics and energy of a multiplier library"},
    {"sweep", cmd_sweep, "every multiplier on the whole network and on each layer"},
    {"search", cmd_search, "start an NSGA-II search from a problem file"},
    {"resume", cmd_resume, "continue (or extend) a search from its run directory"},
    {"export", cmd_export, "write chosen maps of a run (yaml, json or a C header)"},
    {"report", cmd_report, "write report.md and plots for a run"},
    {"characterize", cmd_characterize, "gate-level energy of a multiplier library"},
    {"sensitivity", cmd_sensitivity, "estimated error and energy saved per filter, kernel and multiplier"},
    {"greedy", cmd_greedy, "sensitivity-ordered greedy baseline: a run directory like search's"},
};
enum { N_COMMANDS = sizeof commands / sizeof commands[0] };

static void usage(FILE *fp)
{
    fprintf(fp,
            "usage: approxmap [--data-dir DIR] COMMAND [ARGS]\n"
            "       approxmap COMMAND --help\n\n"
            "Search approximate-multiplier maps for quantized CNNs.\n\ncommands:\n");
    for (int i = 0; i < N_COMMANDS; i++) fprintf(fp, "  %-13s %s\n", commands[i].name, commands[i].help);
    fprintf(fp,
            "\nData and models resolve against --data-dir, else $APPROXMAP_DATA, else data/ in the source tree.\n"
            "Exit status: 0 success, 1 failure, 2 usage error, 130 interrupted (state saved).\n");
}

int main(int argc, char **argv)
{
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return CMD_EXIT_OK;
        } else if (!strcmp(argv[i], "--version")) {
            printf("approxmap %s\n", PACKAGE_VERSION);
            return CMD_EXIT_OK;
        } else if (!strcmp(argv[i], "--data-dir") && i + 1 < argc) {
            datadir_set(argv[++i]);
        } else if (!strncmp(argv[i], "--data-dir=", 11)) {
            datadir_set(argv[i] + 11);
        } else {
            fprintf(stderr, "approxmap: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return CMD_EXIT_USAGE;
        }
    }
    if (i >= argc) {
        usage(stderr);
        return CMD_EXIT_USAGE;
    }
    if (!strcmp(argv[i], "help")) {
        if (i + 1 < argc) {
            static char help_flag[] = "--help";
            char *sub[] = {argv[i + 1], help_flag, NULL};
            for (int c = 0; c < N_COMMANDS; c++)
                if (!strcmp(commands[c].name, argv[i + 1])) return commands[c].fn(2, sub);
        }
        usage(stdout);
        return CMD_EXIT_OK;
    }
    for (int c = 0; c < N_COMMANDS; c++)
        if (!strcmp(commands[c].name, argv[i])) return commands[c].fn(argc - i, argv + i);
    fprintf(stderr, "approxmap: '%s' is not a command; see 'approxmap --help'\n", argv[i]);
    return CMD_EXIT_USAGE;
}
