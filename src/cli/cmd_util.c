/* Option parsing shared by the commands: see cmd_util.h. */
#include "cmd_util.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "approx.h"
#include "cifar.h"
#include "datadir.h"
#include "msg.h"
#include "prob.h"
#include "prob_mpi.h"
#include "run.h"
#include "status.h"
#include "util.h"

int cmd_parse_count(const char *cmd, const char *what, const char *s, int32_t *v)
{
    char *end;
    long x = strtol(s, &end, 10);
    if (!*s || *end || x < 0 || x > INT32_MAX) {
        fprintf(stderr, "approxmap %s: %s must be a non-negative integer, not '%s'\n", cmd, what, s);
        return -1;
    }
    *v = (int32_t)x;
    return 0;
}

int cmd_parse_calib_method(const char *cmd, const char *s, qnn_quant_opts *qo)
{
    if (qnn_quant_method_parse(s, &qo->method) == 0) return 0;
    fprintf(stderr, "approxmap %s: unknown calibration method '%s' (percentile or max)\n", cmd, s);
    return -1;
}

int cmd_parse_percentile(const char *cmd, const char *s, qnn_quant_opts *qo)
{
    char *end;
    double p = strtod(s, &end);
    if (!*s || *end || !(p > 0 && p <= 100)) {
        fprintf(stderr, "approxmap %s: --percentile must be in (0, 100], not '%s'\n", cmd, s);
        return -1;
    }
    qo->percentile = p;
    return 0;
}

const char *cmd_problem_operand(const char *cmd, int argc, char **argv, const char *dir)
{
    if (optind + 1 == argc && dir) return argv[optind];
    fprintf(stderr, "approxmap %s: %s\n", cmd,
            optind >= argc ? "missing PROBLEM.yaml" : optind + 1 < argc ? "too many arguments" : "missing -o RUNDIR");
    return NULL;
}

int cmd_check_range(const char *cmd, const char *what, const char *spec)
{
    const char *why;
    if (!cifar_range_check(spec, &why)) return 0;
    fprintf(stderr, "approxmap %s: %s: bad range '%s': %s\n", cmd, what, spec, why);
    return -1;
}

int cmd_check_data(const char *cmd, const char *data, int32_t first, int32_t count)
{
    if (!cifar_range_is_list(data)) return 0;
    if (first != 0 || count >= 0) {
        fprintf(stderr, "approxmap %s: --first and --count do not apply to a record list ('%s')\n", cmd, data);
        return -1;
    }
    return cmd_check_range(cmd, "--data", data);
}

int cmd_load_data(const char *data, int32_t first, int32_t count, cifar_set *set)
{
    if (cifar_range_is_list(data)) {
        if (cifar_load_range(data, set)) return -1;
        if (set->n == 0) {
            msg_error(ST_EINVAL, "%s: no records to evaluate", data);
            return -1;
        }
        return 0;
    }
    char *path = datadir_resolve(data);
    int rc = cifar_load(path, first, count, set) ? -1 : 0;
    if (!rc && set->n == 0) {
        msg_error(ST_EINVAL, "%s: no records to evaluate from record %d on", path, (int)first);
        rc = -1;
    }
    free(path);
    return rc;
}

int cmd_parse_format(const char *cmd, const char *s, int *json)
{
    if (!strcmp(s, "json") || !strcmp(s, "text")) {
        *json = s[0] == 'j';
        return 0;
    }
    fprintf(stderr, "approxmap %s: unknown format '%s' (text or json)\n", cmd, s);
    return -1;
}

int cmd_parse_compensate(const char *cmd, const char *s, int *mode)
{
    int m = approx_comp_mode_parse(s);
    if (m >= -1) {
        *mode = m;
        return 0;
    }
    fprintf(stderr, "approxmap %s: unknown compensation '%s' (bias, bias-tensor, bias+weights, bias+seq, bias+weights+seq or none)\n", cmd, s);
    return -1;
}

/* A decimal integer >= lo. */
static int parse_long(const char *s, long lo, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno || v < lo) return -1;
    *out = v;
    return 0;
}

int cmd_parse_run_opt(const char *cmd, int c, const char *arg, struct run_opts *o)
{
    long v;
    switch (c) {
    case 'g':
        if (parse_long(arg, 1, &v)) {
            fprintf(stderr, "approxmap %s: --generations wants a positive integer, not '%s'\n", cmd, arg);
            return -1;
        }
        o->generations = v;
        return 1;
    case 't':
        if (parse_long(arg, 0, &v) || v > 1024) {
            fprintf(stderr, "approxmap %s: --threads wants an integer in 0..1024, not '%s'\n", cmd, arg);
            return -1;
        }
        o->threads = v;
        return 1;
    case 'T':
        if (prob_parse_duration(arg, &o->time_limit)) {
            fprintf(stderr, "approxmap %s: --time-limit wants a duration such as 90s, 15m or 8h, not '%s'\n", cmd,
                    arg);
            return -1;
        }
        return 1;
    case 'W': {
        double d;
        if (prob_parse_duration(arg, &d)) {
            fprintf(stderr, "approxmap %s: --worker-timeout wants a duration such as 90s or 30m, not '%s'\n", cmd, arg);
            return -1;
        }
        pmpi_set_timeout(d);
        return 1;
    }
    default: return 0;
    }
}

void cmd_json_str(const char *s)
{
    util_put_json_str(stdout, s);
}
