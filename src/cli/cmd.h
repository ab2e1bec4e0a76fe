/* The subcommands. Each `int cmd_<name>(int argc, char **argv)` lives in src/cli/cmd_<name>.c with its own
 * usage text, getopt_long table and -h/--help; argv[0] is the command name. Exit codes:
 * 0 success, 1 runtime failure, 2 usage error (CMD_EXIT_*). Only cmd_* code prints results. */
#ifndef SRC_CMD_H
#define SRC_CMD_H

enum { CMD_EXIT_OK = 0, CMD_EXIT_FAIL = 1, CMD_EXIT_USAGE = 2, CMD_EXIT_INTR = 130 };

int cmd_info(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_quantize(int argc, char **argv);
int cmd_multipliers(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_search(int argc, char **argv);
int cmd_resume(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_characterize(int argc, char **argv);
int cmd_sensitivity(int argc, char **argv);
int cmd_greedy(int argc, char **argv);

#endif
