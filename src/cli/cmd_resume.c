/* approxmap resume: continue (or extend) a search from its run directory's checkpoint
 * (problems/run.h does the work; this file parses the command line). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cmd.h"
#include "prob.h"
#include "run.h"
#include "status.h"

static void usage(FILE *fp)
{
    fprintf(fp,
            "usage: approxmap resume RUNDIR [options]\n\n"
            "Continue the search in RUNDIR from its last checkpoint. The result is byte-identical to a run\n"
            "that was never interrupted. With --generations beyond the original target, extend a finished run.\n\n"
            "options:\n"
            "  -g, --generations N   new target generation count (total, not additional)\n"
            "  -t, --threads T       evaluation threads (0: all cores); results do not depend on it\n"
            "      --time-limit D    stop after D of wall time in this session, e.g. 90s, 15m, 8h\n"
            "  -q, --quiet           no progress output\n"
            "  -h, --help            this text\n\n"
            "Exit status: 0 finished, 1 failure, 2 usage error, 130 interrupted (state saved).\n");
}

int cmd_resume(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"generations", required_argument, NULL, 'g'}, {"threads", required_argument, NULL, 't'},
        {"time-limit", required_argument, NULL, 'T'}, {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},             {NULL, 0, NULL, 0},
    };
    run_opts o;
    run_opts_init(&o);
    o.live = isatty(STDERR_FILENO);
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "g:t:qh", longopts, NULL)) != -1) {
        char *end;
        long v;
        switch (c) {
        case 'g':
        case 't':
            errno = 0;
            v = strtol(optarg, &end, 10);
            if (end == optarg || *end || errno || v < (c == 'g' ? 1 : 0) || (c == 't' && v > 1024)) {
                fprintf(stderr, "approxmap resume: --%s wants %s, not '%s'\n", c == 'g' ? "generations" : "threads",
                        c == 'g' ? "a positive integer" : "an integer in 0..1024", optarg);
                return CMD_EXIT_USAGE;
            }
            if (c == 'g')
                o.generations = v;
            else
                o.threads = v;
            break;
        case 'T':
            if (prob_parse_duration(optarg, &o.time_limit)) {
                fprintf(stderr, "approxmap resume: --time-limit wants a duration such as 90s, 15m or 8h, not '%s'\n",
                        optarg);
                return CMD_EXIT_USAGE;
            }
            break;
        case 'q': o.quiet = 1; break;
        case 'h': usage(stdout); return CMD_EXIT_OK;
        default: usage(stderr); return CMD_EXIT_USAGE;
        }
    }
    if (optind + 1 != argc) {
        fprintf(stderr, "approxmap resume: %s\n", optind >= argc ? "missing RUNDIR" : "too many arguments");
        usage(stderr);
        return CMD_EXIT_USAGE;
    }
    o.dir = argv[optind];
    int rc = run_resume(&o);
    return rc == ST_OK ? CMD_EXIT_OK : rc == ST_EINTR ? CMD_EXIT_INTR : CMD_EXIT_FAIL;
}
