/* approxmap report: RUN/report.md and plots for a CNN search run. Parses the options and prints the
 * progress messages; the report itself is problems/report.h. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cmd.h"
#include "datadir.h"
#include "export.h"
#include "report.h"

static void usage(FILE *fp)
{
    fprintf(fp,
            "usage: approxmap report RUNDIR [--no-holdout] [--threads T] [--quiet]\n\n"
            "Write RUNDIR/report.md: the problem, the exact int8 accuracy (search subset, holdout), the\n"
            "front's table (energy, search loss, holdout loss with its exact 95 %% confidence interval and\n"
            "exact McNemar p from the paired per-image outcomes), the lowest energy at <= 1 pp and <= 4 pp holdout\n"
            "loss, hypervolume per generation, archive cache hits, and the knee map's multiplier use per\n"
            "layer; plots through gnuplot as PNG and SVG (front, hv, knee_layers). Holdout figures are cached\n"
            "in RUNDIR/holdout.csv. Without gnuplot the .dat files and .gp scripts are written and the\n"
            "report says how to plot them.\n\n"
            "      --no-holdout   skip the holdout (search-subset figures only)\n"
            "  -j, --threads T    evaluation threads (default: all cores); results do not depend on it\n"
            "  -q, --quiet        no progress messages\n"
            "      --data-dir DIR resolve the run's data and model paths against DIR\n"
            "  -h, --help         this help\n\n"
            "Environment: APPROXMAP_GNUPLOT names the gnuplot program (default gnuplot).\n"
            "Exit status: 0 success (also without gnuplot), 1 failure, 2 usage error.\n");
}

static void progress(size_t done, size_t todo, void *ctx)
{
    if (*(int *)ctx) return;
    if (isatty(2))
        fprintf(stderr, "\rapproxmap report: holdout %zu/%zu maps%s", done, todo, done == todo ? "\n" : "");
    else if (done == todo)
        fprintf(stderr, "approxmap report: measured %zu maps on the holdout\n", todo);
}

int cmd_report(int argc, char **argv)
{
    enum { O_NOHOLD = 256, O_DATADIR };
    static const struct option opts[] = {{"no-holdout", no_argument, NULL, O_NOHOLD},
                                         {"threads", required_argument, NULL, 'j'},
                                         {"quiet", no_argument, NULL, 'q'},
                                         {"data-dir", required_argument, NULL, O_DATADIR},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int holdout = 1, threads = 0, quiet = 0, c;
    char *end;
    optind = 1;
    while ((c = getopt_long(argc, argv, "j:qh", opts, NULL)) != -1) {
        switch (c) {
        case O_NOHOLD: holdout = 0; break;
        case 'j': {
            long t = strtol(optarg, &end, 10);
            if (!*optarg || *end || t < 0 || t > 4096) {
                fprintf(stderr, "approxmap report: --threads must be an integer in 0..4096, not '%s'\n", optarg);
                return CMD_EXIT_USAGE;
            }
            threads = (int)t;
            break;
        }
        case 'q': quiet = 1; break;
        case O_DATADIR: datadir_set(optarg); break;
        case 'h': usage(stdout); return CMD_EXIT_OK;
        default: usage(stderr); return CMD_EXIT_USAGE;
        }
    }
    if (optind + 1 != argc) {
        if (optind >= argc)
            fprintf(stderr, "approxmap report: missing RUNDIR\n");
        else
            fprintf(stderr, "approxmap report: unexpected argument '%s'\n", argv[optind + 1]);
        usage(stderr);
        return CMD_EXIT_USAGE;
    }
    const char *dir = argv[optind];
    export_run *r;
    if (export_run_open(dir, threads, &r)) return CMD_EXIT_FAIL;
    if (holdout && !report_run_has_holdout(r) && !quiet)
        fprintf(stderr, "approxmap report: the problem has no holdout; search-subset figures only\n");
    report rp;
    int rc = CMD_EXIT_FAIL;
    if (report_init(&rp, r, holdout, progress, &quiet) || report_plots(&rp)) goto out;
    if (rp.gnuplot_missing && !quiet)
        fprintf(stderr, "approxmap report: gnuplot not found: wrote the plot data (*.dat) and scripts (*.gp); "
                        "plot with: cd '%s' && gnuplot %s\n", dir, rp.gp_list);
    if (report_markdown(&rp)) goto out;
    if (!quiet) fprintf(stderr, "approxmap report: wrote '%s/report.md'%s\n", dir, rp.plotted ? " and plots" : "");
    rc = CMD_EXIT_OK;
out:
    report_deinit(&rp);
    export_run_free(r);
    return rc;
}
