/* approxmap greedy: the sensitivity-ordered greedy baseline into a run directory (problems/greedy.h
 * does the work; this file parses the command line). */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "cmd_util.h"
#include "greedy.h"
#include "sigexit.h"
#include "status.h"

static void usage(FILE *fp)
{
    fprintf(fp,
            "usage: approxmap greedy PROBLEM.yaml -o RUNDIR [options]\n\n"
            "A non-GA baseline for a cnn problem: a greedy that approximates first where the estimated error\n"
            "per unit of energy saved is smallest, and evaluates the maps it passes through. It writes a run\n"
            "directory like search does (problem.yaml, archive, front.csv, generations.csv, plus greedy.csv,\n"
            "the path), so report, export and seed_from work on it.\n\n"
            "  1. Calibration: for each layer, the map with only that layer at a reference multiplier is\n"
            "     measured on the search subset; the ratio of its logits' mean squared deviation to the\n"
            "     sensitivity estimate scales the layer's estimate (these maps count as evaluations).\n"
            "  2. The path: from the exact map, one gene (layer, filter, kernel or ranked share, as the\n"
            "     problem encodes maps) at a time moves to the cheaper multiplier with the smallest estimated\n"
            "     error increase per energy saved; each time the energy has dropped by STEP the map is\n"
            "     evaluated as a search evaluates it. It stops at the first map whose search loss exceeds\n"
            "     max_loss_pp + MARGIN, or when no cheaper multiplier remains.\n\n"
            "The run is a pure function of the problem: any thread count gives the same files. Running the\n"
            "command again on RUNDIR (after an interruption) continues it, taking the maps already evaluated\n"
            "from its archive, and gives the same files (generations.csv's seconds column aside).\n\n"
            "options:\n"
            "  -o, --output DIR      run directory (required)\n"
            "  -t, --threads T       evaluation threads (0: all cores); results do not depend on it\n"
            "      --step F          energy drop between evaluated maps, fraction of the exact map's (default 0.01)\n"
            "      --margin PP       stop once the search loss exceeds max_loss_pp + PP (default 1)\n"
            "  -f, --force           overwrite a search run, or a run of another problem, in DIR\n"
            "  -q, --quiet           no progress output\n"
            "  -h, --help            this text\n\n"
            "Exit status: 0 finished, 1 failure, 2 usage error, 130 interrupted (run the command again).\n");
}

static int parse_real(const char *what, const char *s, double lo, double hi, double *v)
{
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    if (end == s || *end || errno || !(d > lo) || !(d <= hi)) {
        fprintf(stderr, "approxmap greedy: %s wants a number in (%g, %g], not '%s'\n", what, lo, hi, s);
        return -1;
    }
    *v = d;
    return 0;
}

int cmd_greedy(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'}, {"threads", required_argument, NULL, 't'},
        {"step", required_argument, NULL, 'S'},   {"margin", required_argument, NULL, 'M'},
        {"force", no_argument, NULL, 'f'},        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    greedy_opts o;
    greedy_opts_init(&o);
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "o:t:fqh", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': o.dir = optarg; break;
        case 't': {
            char *end;
            errno = 0;
            long v = strtol(optarg, &end, 10);
            if (end == optarg || *end || errno || v < 0 || v > 1024) {
                fprintf(stderr, "approxmap greedy: --threads wants an integer in 0..1024, not '%s'\n", optarg);
                return CMD_EXIT_USAGE;
            }
            o.threads = (int)v;
            break;
        }
        case 'S':
            if (parse_real("--step", optarg, 0, 1, &o.step)) return CMD_EXIT_USAGE;
            break;
        case 'M':
            if (parse_real("--margin", optarg, -1e-300, 100, &o.margin)) return CMD_EXIT_USAGE;
            break;
        case 'f': o.force = 1; break;
        case 'q': o.quiet = 1; break;
        case 'h': usage(stdout); return CMD_EXIT_OK;
        default: usage(stderr); return CMD_EXIT_USAGE;
        }
    }
    if (!(o.problem_path = cmd_problem_operand("greedy", argc, argv, o.dir))) {
        usage(stderr);
        return CMD_EXIT_USAGE;
    }
    sigexit_install("during set-up: run the same command again");
    int rc = greedy_run(&o);
    sigexit_restore();
    return rc == ST_OK ? CMD_EXIT_OK : rc == ST_EINTR ? CMD_EXIT_INTR : CMD_EXIT_FAIL;
}
