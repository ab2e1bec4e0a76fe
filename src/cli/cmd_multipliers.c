/* approxmap multipliers [LIBRARY]: load a multiplier library and print, per multiplier, its family and
 * parameters, energy (relative to exact, absolute where known) and exhaustive error metrics over all
 * 65,536 operand pairs; `--format json` prints the same as one JSON object, with provenance. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amul.h"
#include "cmd.h"
#include "cmd_util.h"
#include "msg.h"

static void usage(FILE *fp)
{
    fprintf(fp,
            "usage: approxmap multipliers [--format text|json] [LIBRARY]\n\n"
            "Error metrics and energy of every multiplier of a library (YAML, schema in\n"
            "problems/multipliers/README.md). LIBRARY defaults to problems/multipliers/roup8.yaml\n"
            "(source tree, else installed data); a bare name such as 'roup8' is looked up there too.\n\n"
            "Metrics, exhaustive over all 65,536 (activation, weight) pairs, error e = M(a,w) - a*w:\n"
            "  mean_err  mean of e (bias)         MED   mean |e|     NMED  MED / 2^14\n"
            "  MRED      mean |e|/|a*w| over a*w != 0, in %%\n"
            "  WCE       max |e|                  P_err fraction of pairs with e != 0\n"
            "Energy: per multiplication, relative to exact (1.00) and in fJ where the library gives it.\n\n"
            "options:\n"
            "  --format FMT   text (default) or json\n"
            "  -h, --help     this text\n\n"
            "Exit status: 0 success, 1 the library cannot be loaded, 2 usage error.\n");
}

static void json_num(double v)
{
    if (isnan(v)) fputs("null", stdout);
    else printf("%.6g", v);
}

static void params_text(const amul *m, char *buf, size_t n)
{
    switch (m->family) {
    case AMUL_ROUP: snprintf(buf, n, "k=%d m=%d", m->k, m->m); break;
    case AMUL_TABLE: snprintf(buf, n, "file"); break;
    case AMUL_CFUNC: snprintf(buf, n, "%s()", m->symbol ? m->symbol : "fn"); break;
    default: snprintf(buf, n, "-"); break;
    }
}

static void print_text(const amul_lib *lib, const amul_metrics *mt)
{
    printf("library %s%s%s%s: %d multipliers\n", lib->path, lib->name ? " (" : "", lib->name ? lib->name : "",
           lib->name ? ")" : "", lib->n);
    printf("%-16s %-10s %-10s %6s %6s %9s %9s %8s %8s %6s %7s %5s\n", "name", "family", "params", "E_rel",
           "E_fJ", "mean_err", "MED", "NMED", "MRED%", "WCE", "P_err", "sep");
    for (int i = 0; i < lib->n; i++) {
        const amul *m = &lib->mults[i];
        char par[64], erel[16], efj[16];
        params_text(m, par, sizeof par);
        if (isnan(m->energy.rel)) snprintf(erel, sizeof erel, "-");
        else snprintf(erel, sizeof erel, "%.2f", m->energy.rel);
        if (isnan(m->energy.fj)) snprintf(efj, sizeof efj, "-");
        else snprintf(efj, sizeof efj, "%.0f", m->energy.fj);
        printf("%-16s %-10s %-10s %6s %6s %9.4f %9.3f %8.5f %8.3f %6d %7.4f %5s\n", m->name,
               amul_family_name(m->family), par, erel, efj, mt[i].mean_err, mt[i].med, mt[i].nmed, mt[i].mred_pct,
               mt[i].wce, mt[i].err_prob, m->is_exact ? "exact" : m->separable ? "yes" : "no");
    }
    /* provenance: print each distinct record once */
    printf("\nenergy provenance:\n");
    for (int i = 0; i < lib->n; i++) {
        const amul_energy *e = &lib->mults[i].energy;
        int seen = 0;
        for (int j = 0; j < i && !seen; j++) {
            const amul_energy *f = &lib->mults[j].energy;
#define SAME(x) ((!e->x && !f->x) || (e->x && f->x && !strcmp(e->x, f->x)))
            seen = SAME(source) && SAME(tool) && SAME(cell_library) && SAME(corner) && SAME(stream);
#undef SAME
        }
        if (seen) continue;
        if (!e->source && !e->tool && !e->cell_library && !e->corner && !e->stream) {
            printf("  (%s and others like it: none given)\n", lib->mults[i].name);
            continue;
        }
        printf("  from %s on:\n", lib->mults[i].name);
        if (e->source) printf("    source:       %s\n", e->source);
        if (e->tool) printf("    tool:         %s\n", e->tool);
        if (e->cell_library) printf("    cell library: %s\n", e->cell_library);
        if (e->corner) printf("    corner:       %s\n", e->corner);
        if (e->stream) printf("    stream:       %s\n", e->stream);
    }
}

/* `, "key": "value"` (value a JSON string, or null). */
static void json_field(const char *key, const char *value)
{
    printf(", \"%s\": ", key);
    cmd_json_str(value);
}

static void print_json(const amul_lib *lib, const amul_metrics *mt)
{
    printf("{\"library\": ");
    cmd_json_str(lib->path);
    json_field("name", lib->name);
    printf(", \"multipliers\": [");
    for (int i = 0; i < lib->n; i++) {
        const amul *m = &lib->mults[i];
        printf("%s\n  {\"name\": ", i ? "," : "");
        cmd_json_str(m->name);
        printf(", \"family\": \"%s\"", amul_family_name(m->family));
        if (m->family == AMUL_ROUP) printf(", \"k\": %d, \"m\": %d", m->k, m->m);
        if (m->file) json_field("file", m->file);
        if (m->symbol) json_field("symbol", m->symbol);
        printf(", \"exact\": %s, \"separable\": %s", m->is_exact ? "true" : "false", m->separable ? "true" : "false");
        printf(", \"energy_rel\": ");
        json_num(m->energy.rel);
        printf(", \"energy_fj\": ");
        json_num(m->energy.fj);
        printf(", \"provenance\": {\"source\": ");
        cmd_json_str(m->energy.source);
        json_field("tool", m->energy.tool);
        json_field("cell_library", m->energy.cell_library);
        json_field("corner", m->energy.corner);
        json_field("stream", m->energy.stream);
        printf("}, \"mean_err\": %.9g, \"med\": %.9g, \"nmed\": %.9g, \"mred_pct\": %.9g, \"wce\": %d, "
               "\"err_prob\": %.9g}",
               mt[i].mean_err, mt[i].med, mt[i].nmed, mt[i].mred_pct, mt[i].wce, mt[i].err_prob);
    }
    printf("\n]}\n");
}

int cmd_multipliers(int argc, char **argv)
{
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'f'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int json = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (!strcmp(optarg, "json")) json = 1;
            else if (!strcmp(optarg, "text")) json = 0;
            else {
                fprintf(stderr, "approxmap multipliers: unknown format '%s' (text or json)\n", optarg);
                return CMD_EXIT_USAGE;
            }
            break;
        case 'h': usage(stdout); return CMD_EXIT_OK;
        default: usage(stderr); return CMD_EXIT_USAGE;
        }
    }
    if (argc - optind > 1) {
        fprintf(stderr, "approxmap multipliers: at most one LIBRARY\n");
        usage(stderr);
        return CMD_EXIT_USAGE;
    }
    char *path = optind < argc ? amul_lib_resolve(argv[optind]) : amul_lib_default_path();
    amul_lib lib = {0};
    int rc = amul_lib_load(&lib, path);
    free(path);
    if (rc) return CMD_EXIT_FAIL;
    amul_metrics *mt = xcalloc((size_t)lib.n, sizeof *mt);
    for (int i = 0; i < lib.n; i++) amul_metrics_compute(lib.mults[i].lut, &mt[i]);
    if (json) print_json(&lib, mt);
    else print_text(&lib, mt);
    free(mt);
    amul_lib_deinit(&lib);
    return CMD_EXIT_OK;
}
