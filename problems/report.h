/* The report of a CNN search run (`approxmap report`): RUN/report.md and its plots.
 *
 * Reads the run through export.h (problem.yaml, front.csv) and generations.csv; measures every front
 * point on the holdout (cached in RUN/holdout.csv, keyed by the map's genes, so a second report, or one
 * after a resume, only measures new points); writes the plot data (front.dat, hv.dat, knee_layers.dat,
 * and for filter and kernel maps knee_filters.dat) and gnuplot scripts (the same names, .gp), runs
 * gnuplot in RUN for PNG (pngcairo, else png) and SVG, and writes report.md. Without gnuplot the data
 * and scripts stay and the report says how to plot them. Every file is replaced atomically (afile.h).
 * Figure definitions: export.h. Nothing here prints to stdout. */
#ifndef PROBLEMS_REPORT_H
#define PROBLEMS_REPORT_H

#include <stddef.h>

#include "export.h"
#include "rundir.h"

/* Rows of generations.csv (read by rundir_gens_read). */
typedef rundir_gen report_gen;

/* A report being built. */
typedef struct report {
    export_run *run;         /* borrowed */
    int holdout;             /* holdout figures measured */
    export_holdout *ho;      /* front rows (+1) */
    size_t measured;         /* holdout rows measured now (the rest came from holdout.csv) */
    report_gen *gens;        /* generations.csv rows */
    size_t n_gens;
    long knee;               /* front row of the knee, or -1 (no feasible map) */
    export_eval knee_eval;   /* its figures (energy only) */
    int heat;                /* knee_filters plot written (filter and kernel maps with a knee) */
    int plotted;             /* every plot drawn */
    int gnuplot_missing;     /* gnuplot could not be started */
    char gp_list[96];        /* the scripts written, for "gnuplot LIST" */
} report;

/* 1 when the run's problem names a holdout set. */
int report_run_has_holdout(const export_run *r);

/* Gather the figures: holdout of every front row (when `holdout` and the problem has one; progress as
 * in export_holdout_all, may be NULL), generations.csv (absent: no rows; malformed: "path:line:1: ..."),
 * the knee and its energy per layer. Errors reported; caller frees with report_deinit() either way. */
int report_init(report *rp, export_run *r, int holdout, void (*progress)(size_t done, size_t todo, void *ctx),
                void *progress_ctx);
void report_deinit(report *rp);

/* Write the plot data and scripts into the run directory and run gnuplot on them (APPROXMAP_GNUPLOT
 * names the program; its output goes to RUN/gnuplot.log, removed when every plot succeeds). Sets
 * plotted, gnuplot_missing and gp_list; a failing gnuplot is a warning. Errors (writing files)
 * reported. */
int report_plots(report *rp);

/* Run `gnuplot script` in dir (APPROXMAP_GNUPLOT, default gnuplot); returns its exit status, 127 when it
 * could not be started. Its output goes to dir/gnuplot.log (also used by approxmap sensitivity). */
int report_gnuplot(const char *dir, const char *script);

/* Write RUN/report.md (after report_plots). */
int report_markdown(report *rp);

#endif
