/* approxmap export: write chosen maps of a CNN search run as YAML (readable by `approxmap eval --map`
 * and amap_read, figures in comments), JSON, or a C header for hardware flows. Every chosen map is
 * re-measured here: search-subset accuracy (must agree with the run), holdout accuracy and loss with
 * its 95 % confidence interval (first measured on export), and energy with its per-layer breakdown.
 * Selection rules and figure definitions: problems/export.h. Output is written atomically. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "afile.h"
#include "cmd.h"
#include "datadir.h"
#include "export.h"
#include "msg.h"
#include "status.h"

static void usage(FILE *fp)
{
    fprintf(fp,
            "usage: approxmap export RUNDIR [--knee | --max-loss PP | --index I | --id N | --all]\n"
            "                        [--format yaml|json|c] [-o FILE] [--prefix NAME] [--no-holdout] [--threads T]\n\n"
            "Write maps chosen from RUNDIR/front.csv with their measured figures: search-subset accuracy,\n"
            "holdout accuracy and loss against exact int8 (exact 95 %% confidence interval and McNemar p from\n"
            "the paired per-image outcomes) and energy relative to the all-exact map, per layer too.\n\n"
            "choice (default --knee):\n"
            "      --knee         the knee of the feasible front: the point farthest from the line between its\n"
            "                     lowest-energy and lowest-loss points, objectives normalized to [0, 1]\n"
            "      --max-loss PP  the lowest-energy feasible map whose search loss is <= PP percentage points\n"
            "      --index I      data row I of front.csv (0-based; rows are sorted by energy)\n"
            "      --id N         the row whose archive id (front.csv column 'id') is N\n"
            "      --all          every row (yaml: one document per map separated by '---'; json: an array;\n"
            "                     c: one header with a map per row, prefixed PREFIX_rROW)\n"
            "output:\n"
            "  -f, --format FMT   yaml (default: the map as `approxmap eval --map` reads it, figures as\n"
            "                     comments), json, or c (a header: multiplier table with ROUP k and m, and per\n"
            "                     layer a cout x cin uint8_t table of multiplier indices)\n"
            "  -o, --output FILE  write FILE atomically (default: standard output)\n"
            "      --prefix NAME  C symbol prefix (default amap)\n"
            "      --no-holdout   skip the holdout measurement\n"
            "  -j, --threads T    evaluation threads (default: all cores); results do not depend on it\n"
            "      --data-dir DIR resolve the run's data and model paths against DIR\n"
            "  -h, --help         this help\n\n"
            "Exit status: 0 success, 1 failure (not a run, no map qualifies, I/O), 2 usage error.\n");
}

static int bad_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int bad_usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "approxmap export: ");
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    usage(stderr);
    return CMD_EXIT_USAGE;
}

/* An include guard from the output file name: FOO_H for foo.h (APPROXMAP_MAP_H for stdout). */
static char *guard_name(const char *path)
{
    if (!path) return xstrdup("APPROXMAP_MAP_H");
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    char *g = xasprintf("APPROXMAP_%s", base);
    for (char *p = g; *p; p++) *p = isalnum((unsigned char)*p) ? (char)toupper((unsigned char)*p) : '_';
    return g;
}

static int is_identifier(const char *s)
{
    if (!*s || isdigit((unsigned char)*s)) return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_') return 0;
    return 1;
}

/* What the command line asks for. */
typedef struct export_opts {
    enum { PICK_KNEE, PICK_MAXLOSS, PICK_INDEX, PICK_ID, PICK_ALL } pick;
    int holdout, threads;
    double max_loss;
    unsigned long long index;
    export_format fmt;
    const char *output, *prefix, *dir;
} export_opts;

/* Parse argv into o; returns -1 to go on, else the exit status (help, usage errors). */
static int parse_opts(int argc, char **argv, export_opts *o)
{
    enum { O_MAXLOSS = 256, O_INDEX, O_ID, O_KNEE, O_ALL, O_PREFIX, O_NOHOLD, O_DATADIR };
    static const struct option opts[] = {{"max-loss", required_argument, NULL, O_MAXLOSS},
                                         {"index", required_argument, NULL, O_INDEX},
                                         {"id", required_argument, NULL, O_ID},
                                         {"knee", no_argument, NULL, O_KNEE},
                                         {"all", no_argument, NULL, O_ALL},
                                         {"format", required_argument, NULL, 'f'},
                                         {"output", required_argument, NULL, 'o'},
                                         {"prefix", required_argument, NULL, O_PREFIX},
                                         {"no-holdout", no_argument, NULL, O_NOHOLD},
                                         {"threads", required_argument, NULL, 'j'},
                                         {"data-dir", required_argument, NULL, O_DATADIR},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    *o = (export_opts){.pick = PICK_KNEE, .holdout = 1, .fmt = EXPORT_YAML, .prefix = "amap"};
    int n_picks = 0, c;
    char *end;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:o:j:h", opts, NULL)) != -1) {
        switch (c) {
        case O_MAXLOSS:
            o->max_loss = strtod(optarg, &end);
            if (!*optarg || *end) return bad_usage("--max-loss must be a number of percentage points, not '%s'", optarg);
            o->pick = PICK_MAXLOSS, n_picks++;
            break;
        case O_INDEX:
        case O_ID:
            errno = 0;
            o->index = strtoull(optarg, &end, 10);
            if (!*optarg || *end || errno || *optarg == '-')
                return bad_usage(c == O_ID ? "--id must be a non-negative integer, not '%s'"
                                           : "--index must be a non-negative integer, not '%s'",
                                 optarg);
            o->pick = c == O_ID ? PICK_ID : PICK_INDEX, n_picks++;
            break;
        case O_KNEE: o->pick = PICK_KNEE, n_picks++; break;
        case O_ALL: o->pick = PICK_ALL, n_picks++; break;
        case 'f':
            if (!strcmp(optarg, "yaml"))
                o->fmt = EXPORT_YAML;
            else if (!strcmp(optarg, "json"))
                o->fmt = EXPORT_JSON;
            else if (!strcmp(optarg, "c"))
                o->fmt = EXPORT_C;
            else
                return bad_usage("unknown format '%s' (yaml, json or c)", optarg);
            break;
        case 'o': o->output = optarg; break;
        case O_PREFIX:
            if (!is_identifier(optarg)) return bad_usage("--prefix must be a C identifier, not '%s'", optarg);
            o->prefix = optarg;
            break;
        case O_NOHOLD: o->holdout = 0; break;
        case 'j': {
            long t = strtol(optarg, &end, 10);
            if (!*optarg || *end || t < 0 || t > 4096)
                return bad_usage("--threads must be an integer in 0..4096, not '%s'", optarg);
            o->threads = (int)t;
            break;
        }
        case O_DATADIR: datadir_set(optarg); break;
        case 'h': usage(stdout); return CMD_EXIT_OK;
        default: usage(stderr); return CMD_EXIT_USAGE;
        }
    }
    if (n_picks > 1) return bad_usage("%s", "choose one of --knee, --max-loss, --index, --id, --all");
    if (optind + 1 != argc) {
        if (optind >= argc) return bad_usage("%s", "missing RUNDIR");
        return bad_usage("unexpected argument '%s'", argv[optind + 1]);
    }
    o->dir = argv[optind];
    return -1;
}

/* The front rows the options choose, into rows (room for every row) and their count into *n; `how`
 * describes the choice for the written metadata. Errors reported. */
static int pick_rows(const export_run *r, const export_opts *o, long *rows, size_t *n, char *how, size_t how_len)
{
    const export_front *f = &r->front;
    if (f->n_rows == 0) return msg_error(ST_EFORMAT, "%s: the front is empty (no rows)", r->front_path);
    *n = 1;
    switch (o->pick) {
    case PICK_KNEE:
        rows[0] = export_pick_knee(f);
        snprintf(how, how_len, "the knee of the feasible front");
        if (rows[0] < 0)
            return msg_error(ST_EFORMAT, "%s: no feasible map (every row violates max_loss_pp %g)", r->front_path,
                             r->pb.max_loss_pp);
        break;
    case PICK_MAXLOSS:
        rows[0] = export_pick_max_loss(f, o->max_loss);
        snprintf(how, how_len, "the lowest energy at search loss <= %g pp", o->max_loss);
        if (rows[0] < 0)
            return msg_error(ST_EFORMAT, "%s: no feasible map has a search loss <= %g pp", r->front_path, o->max_loss);
        break;
    case PICK_INDEX:
        if (o->index >= f->n_rows)
            return msg_error(ST_EINVAL, "%s: no row %llu (the front has %zu rows, 0..%zu)", r->front_path, o->index,
                             f->n_rows, f->n_rows - 1);
        rows[0] = (long)o->index;
        snprintf(how, how_len, "--index %llu", o->index);
        break;
    case PICK_ID:
        rows[0] = export_pick_id(f, (uint64_t)o->index);
        snprintf(how, how_len, "--id %llu", o->index);
        if (rows[0] < 0) return msg_error(ST_EINVAL, "%s: no row has archive id %llu", r->front_path, o->index);
        break;
    case PICK_ALL:
        snprintf(how, how_len, "--all");
        *n = 0;
        for (size_t i = 0; i < f->n_rows; i++) rows[(*n)++] = (long)i;
        break;
    }
    return ST_OK;
}

/* Measure and write rows[0..n-1] to fp in the chosen format. */
static int write_maps(FILE *fp, export_run *r, const export_opts *o, const long *rows, size_t n, const char *how,
                      export_eval *e)
{
    const int all = o->pick == PICK_ALL;
    export_meta meta = {how, all ? NULL : o->output};
    char *guard = NULL;
    int st = ST_OK;
    if (o->fmt == EXPORT_JSON && all) fprintf(fp, "[\n");
    if (o->fmt == EXPORT_C) {
        guard = guard_name(o->output);
        fprintf(fp, "/* approxmap export: approximation map(s) of run '%s' (approxmap export --help) */\n", o->dir);
        fprintf(fp, "#ifndef %s\n#define %s\n\n", guard, guard);
        export_write_c_types(fp, r);
    }
    for (size_t i = 0; i < n && st == ST_OK; i++) {
        if ((st = export_eval_row(r, rows[i], 1, o->holdout, e))) break;
        if (o->fmt == EXPORT_YAML) {
            if (i) fprintf(fp, "---\n");
            st = export_write_yaml(fp, r, e, &meta);
        } else if (o->fmt == EXPORT_JSON) {
            st = export_write_json(fp, r, e, &meta, all ? 2 : 0);
            fprintf(fp, "%s\n", all && i + 1 < n ? "," : "");
        } else {
            char *pfx = all ? xasprintf("%s_r%ld", o->prefix, rows[i]) : xstrdup(o->prefix);
            st = export_write_c_map(fp, r, e, &meta, pfx);
            free(pfx);
        }
    }
    if (st == ST_OK && o->fmt == EXPORT_JSON && all) fprintf(fp, "]\n");
    if (st == ST_OK && o->fmt == EXPORT_C) fprintf(fp, "\n#endif /* %s */\n", guard);
    free(guard);
    return st;
}

int cmd_export(int argc, char **argv)
{
    export_opts o;
    int rc = parse_opts(argc, argv, &o);
    if (rc >= 0) return rc;
    export_run *r;
    if (export_run_open(o.dir, o.threads, &r)) return CMD_EXIT_FAIL;
    rc = CMD_EXIT_FAIL;
    long *rows = xmalloc((r->front.n_rows + 1) * sizeof *rows);
    size_t n_rows = 0;
    char how[96];
    afile *af = NULL;
    export_eval e;
    export_eval_init(&e, r->pb.n_layers);
    if (pick_rows(r, &o, rows, &n_rows, how, sizeof how)) goto out;
    FILE *fp = stdout;
    if (o.output) {
        if (!(af = afile_open(o.output))) goto out;
        fp = afile_stream(af);
    }
    if (write_maps(fp, r, &o, rows, n_rows, how, &e)) goto out;
    if (af) {
        int st = afile_commit(af);
        af = NULL;
        if (st) goto out;
    } else if (fflush(stdout) != 0 || ferror(stdout)) {
        msg_error(ST_EIO, "cannot write to standard output: %s", strerror(errno));
        goto out;
    }
    rc = CMD_EXIT_OK;
out:
    afile_abort(af);
    export_eval_deinit(&e);
    free(rows);
    export_run_free(r);
    return rc;
}
