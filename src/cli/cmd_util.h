/* Option parsing shared by the commands (cmd_*.c). Each prints "approxmap CMD: what is wrong" on
 * stderr and returns -1 on a bad value (the caller then exits CMD_EXIT_USAGE), else 0. */
#ifndef SRC_CMD_UTIL_H
#define SRC_CMD_UTIL_H

#include <stdint.h>

#include "qnn_quant.h"

/* A non-negative int32 for option `what` (e.g. "--count"). */
int cmd_parse_count(const char *cmd, const char *what, const char *s, int32_t *v);

/* --calib-method percentile|max and --percentile P (0 < P <= 100) into `qo`. */
int cmd_parse_calib_method(const char *cmd, const char *s, qnn_quant_opts *qo);
int cmd_parse_percentile(const char *cmd, const char *s, qnn_quant_opts *qo);

/* A record range option (`what`, e.g. "--calib") checked as the problem loader checks one
 * (cifar_range_check): 0, or -1 after printing "approxmap CMD: --calib: bad range 'SPEC': why".
 * Call it after the option loop, so that a later --data-dir counts. */
int cmd_check_range(const char *cmd, const char *what, const char *spec);

/* The --data / --first / --count options of eval and sweep: `data` is a CIFAR-10 file (records first ..
 * first+count-1; count < 0: to the end) or a record list "RANGE,RANGE..." (cifar.h), which takes no
 * --first or --count. cmd_check_data, after the option loop: 0, or -1 after printing "approxmap CMD:
 * --first and --count do not apply to a record list" or a bad range in the list. cmd_load_data loads
 * into *set; 0, or -1 after printing what is wrong (no records:
 * "FILE: no records to evaluate from record N on"). */
int cmd_check_data(const char *cmd, const char *data, int32_t first, int32_t count);
struct cifar_set;
int cmd_load_data(const char *data, int32_t first, int32_t count, struct cifar_set *set);

/* --format text|json: *json = 1 for json, 0 for text. */
int cmd_parse_format(const char *cmd, const char *s, int *json);

/* --compensate bias|bias-tensor|none -> *mode (approx_comp_mode_parse); 0, or -1 after printing
 * "approxmap CMD: unknown compensation ..." to stderr. */
int cmd_parse_compensate(const char *cmd, const char *s, int *mode);

/* The options search and resume share, -g/--generations N (>= 1), -t/--threads T (0..1024) and
 * -T/--time-limit DURATION (prob_parse_duration) into `o`, and -W/--worker-timeout DURATION
 * (pmpi_set_timeout); `c` is the option's getopt code. Returns 1 when it handled `c`, 0 when `c` is
 * another option, -1 after printing "approxmap CMD: --OPTION wants ..., not 'ARG'". */
struct run_opts;
int cmd_parse_run_opt(const char *cmd, int c, const char *arg, struct run_opts *o);

/* The single PROBLEM.yaml operand of search and greedy, argv[optind] after the option loop, given the
 * -o RUNDIR it parsed (`dir`, NULL if absent): the operand, or NULL after printing "approxmap CMD:
 * missing PROBLEM.yaml" (or "too many arguments", "missing -o RUNDIR"); the caller then prints its usage. */
const char *cmd_problem_operand(const char *cmd, int argc, char **argv, const char *dir);

/* Print `s` as a JSON string on stdout ("null" for NULL), escaping quotes, backslashes and controls. */
void cmd_json_str(const char *s);

#endif
