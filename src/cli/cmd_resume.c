/* approxmap resume: continue (or extend) a search from its run directory's checkpoint
 * (problems/run.h does the work; this file parses the command line). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cmd.h"
#include "cmd_util.h"
#include "msg.h"
#include "prob_mpi.h"
#include "run.h"
#include "sigexit.h"
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
            "      --worker-timeout D  under mpirun: end the job when a worker has not answered for D\n"
            "                        (default 30m; 0: wait forever)\n"
            "  -h, --help            this text\n\n"
            "Exit status: 0 finished, 1 failure, 2 usage error, 130 interrupted (state saved).\n");
}

int cmd_resume(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"generations", required_argument, NULL, 'g'}, {"threads", required_argument, NULL, 't'},
        {"time-limit", required_argument, NULL, 'T'}, {"quiet", no_argument, NULL, 'q'},
        {"worker-timeout", required_argument, NULL, 'W'},
        {"help", no_argument, NULL, 'h'},             {NULL, 0, NULL, 0},
    };
    run_opts o;
    run_opts_init(&o);
    o.live = isatty(STDERR_FILENO);
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "g:t:qh", longopts, NULL)) != -1) {
        int r = cmd_parse_run_opt("resume", c, optarg, &o);
        if (r < 0) return CMD_EXIT_USAGE;
        if (r > 0) continue;
        switch (c) {
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
    /* under mpirun: rank 0 resumes, the other ranks evaluate the run's own copy of the problem */
    if (pmpi_start(NULL, NULL)) return CMD_EXIT_FAIL;
    if (pmpi_rank() > 0) {
        char *path = xasprintf("%s/problem.yaml", o.dir);
        int code = pmpi_worker(path, o.threads);
        free(path);
        return code;
    }
    if (pmpi_size() > 1) o.on_prob = pmpi_wrap;
    char *what = xasprintf("while loading the run, before the search continued: '%s' keeps its last checkpoint; "
                           "'approxmap resume %s' continues from it", o.dir, o.dir);
    sigexit_install(what); /* the run driver's own handler takes over once the run is loaded */
    free(what);
    int rc = run_resume(&o);
    sigexit_restore();
    pmpi_finish(o.quiet);
    return rc == ST_OK ? CMD_EXIT_OK : rc == ST_EINTR ? CMD_EXIT_INTR : CMD_EXIT_FAIL;
}
