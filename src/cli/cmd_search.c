/* approxmap search: start an NSGA-II search from a problem file into a new run directory
 * (problems/run.h does the work; this file parses the command line). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
            "usage: approxmap search PROBLEM.yaml -o RUNDIR [options]\n\n"
            "Search with NSGA-II as the problem file says; write the run directory RUNDIR (problem.yaml,\n"
            "checkpoint, archive, front.csv, generations.csv). A checkpoint is written every generation;\n"
            "SIGINT or SIGTERM stops after saving, and 'approxmap resume RUNDIR' continues exactly.\n\n"
            "options:\n"
            "  -o, --output DIR      run directory to create (required)\n"
            "  -s, --seed S          random seed (overrides the file's ga.seed)\n"
            "  -g, --generations N   generations to run, the initial population counting as one\n"
            "  -t, --threads T       evaluation threads (0: all cores); results do not depend on it\n"
            "      --time-limit D    stop after D of wall time, e.g. 90s, 15m, 8h (resume continues)\n"
            "  -f, --force           overwrite a run already in DIR\n"
            "  -q, --quiet           no progress output\n"
            "      --worker-timeout D  under mpirun: end the job when a worker has not answered for D\n"
            "                        (default 30m; 0: wait forever)\n"
            "  -h, --help            this text\n\n"
            "Exit status: 0 finished, 1 failure, 2 usage error, 130 interrupted (state saved; before the first\n"
            "checkpoint, nothing to resume: search again).\n");
}

int cmd_search(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},  {"seed", required_argument, NULL, 's'},
        {"generations", required_argument, NULL, 'g'}, {"threads", required_argument, NULL, 't'},
        {"time-limit", required_argument, NULL, 'T'}, {"force", no_argument, NULL, 'f'},
        {"quiet", no_argument, NULL, 'q'},          {"help", no_argument, NULL, 'h'},
        {"worker-timeout", required_argument, NULL, 'W'},
        {NULL, 0, NULL, 0},
    };
    run_opts o;
    run_opts_init(&o);
    o.live = isatty(STDERR_FILENO);
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "o:s:g:t:fqh", longopts, NULL)) != -1) {
        int r = cmd_parse_run_opt("search", c, optarg, &o);
        if (r < 0) return CMD_EXIT_USAGE;
        if (r > 0) continue;
        switch (c) {
        case 'o': o.dir = optarg; break;
        case 's': {
            char *end;
            errno = 0;
            unsigned long long s = strtoull(optarg, &end, 10);
            if (end == optarg || *end || errno || optarg[0] == '-') {
                fprintf(stderr, "approxmap search: --seed wants a non-negative integer, not '%s'\n", optarg);
                return CMD_EXIT_USAGE;
            }
            o.has_seed = 1;
            o.seed = s;
            break;
        }
        case 'f': o.force = 1; break;
        case 'q': o.quiet = 1; break;
        case 'h': usage(stdout); return CMD_EXIT_OK;
        default: usage(stderr); return CMD_EXIT_USAGE;
        }
    }
    if (!(o.problem_path = cmd_problem_operand("search", argc, argv, o.dir))) {
        usage(stderr);
        return CMD_EXIT_USAGE;
    }
    /* under mpirun: rank 0 searches, the other ranks evaluate (problems/prob_mpi.h) */
    if (pmpi_start(NULL, NULL)) return CMD_EXIT_FAIL;
    if (pmpi_rank() > 0) return pmpi_worker(o.problem_path, o.threads);
    if (pmpi_size() > 1) o.on_prob = pmpi_wrap;
    char *what = xasprintf("during set-up, before the first checkpoint: nothing to resume; start the search again "
                           "(with --force if '%s' already holds files)", o.dir);
    sigexit_install(what); /* the run driver's own handler takes over from the first checkpoint */
    free(what);
    int rc = run_search(&o);
    sigexit_restore();
    pmpi_finish(o.quiet);
    return rc == ST_OK ? CMD_EXIT_OK : rc == ST_EINTR ? CMD_EXIT_INTR : CMD_EXIT_FAIL;
}
