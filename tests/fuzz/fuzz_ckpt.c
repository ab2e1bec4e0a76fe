/* Checkpoints, through `resume` of a run of tests/fuzz/ckpt_problem.yaml: the input replaces the run's
 * checkpoint, with its payload length and CRC-32 rebuilt so that mutations reach the payload (magic and
 * version are left as mutated). The run directory (problem.yaml, archive, generations.csv) is made once
 * by a real search; each input gets fresh copies. Resume goes no further than generation 1 of the
 * checkpoint's, so an accepted checkpoint costs at most one small generation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "afile.h"
#include "ckpt.h"
#include "fuzz.h"
#include "msg.h"
#include "run.h"
#include "status.h"

static char *g_run, *g_arch, *g_gens, *g_prob;
static size_t g_arch_len, g_gens_len, g_prob_len;

static void make_run(void)
{
    char *problem = xasprintf("%s/tests/fuzz/ckpt_problem.yaml", APPROXMAP_SRCDIR);
    char *tmpl = xasprintf("%s/template", fuzz_dir());
    run_opts o;
    run_opts_init(&o);
    o.problem_path = problem;
    o.dir = tmpl;
    o.quiet = 1;
    if (run_search(&o) != ST_OK) msg_abort(__FILE__, __LINE__, "cannot run %s", problem);
    char *p;
    p = xasprintf("%s/archive", tmpl);
    if (afile_read_all(p, &g_arch, &g_arch_len)) msg_abort(__FILE__, __LINE__, "no archive");
    free(p);
    p = xasprintf("%s/generations.csv", tmpl);
    if (afile_read_all(p, &g_gens, &g_gens_len)) msg_abort(__FILE__, __LINE__, "no generations.csv");
    free(p);
    p = xasprintf("%s/problem.yaml", tmpl);
    if (afile_read_all(p, &g_prob, &g_prob_len)) msg_abort(__FILE__, __LINE__, "no problem.yaml");
    free(p);
    free(problem);
    free(tmpl);
    g_run = xasprintf("%s/run", fuzz_dir());
}

static void put(const char *name, const void *data, size_t len)
{
    char *p = xasprintf("%s/%s", g_run, name);
    FILE *fp = fopen(p, "wb");
    if (!fp || (len && fwrite(data, 1, len, fp) != len) || fclose(fp) != 0) msg_abort(__FILE__, __LINE__, "cannot write %s", p);
    free(p);
}

FUZZ_ENTRY(ckpt)
{
    fuzz_quiet();
    if (!g_run) make_run();
    char *cmd = xasprintf("rm -rf '%s' && mkdir -p '%s'", g_run, g_run);
    if (system(cmd) != 0) msg_abort(__FILE__, __LINE__, "cannot reset %s", g_run);
    free(cmd);
    unsigned char *c = xmalloc(size + 1);
    if (size) memcpy(c, data, size);
    if (size >= CKPT_HEADER_LEN + 4) {
        ckpt_le64(c + 12, (uint64_t)(size - CKPT_HEADER_LEN - 4));
        ckpt_le32(c + size - 4, ckpt_crc32(0, c, size - 4));
    }
    put("problem.yaml", g_prob, g_prob_len);
    put("archive", g_arch, g_arch_len);
    put("generations.csv", g_gens, g_gens_len);
    put("checkpoint", c, size);
    free(c);
    run_opts o;
    run_opts_init(&o);
    o.dir = g_run;
    o.quiet = 1;
    o.generations = 1;
    if (run_resume(&o) == ST_OK) fuzz_accepted++;
    return 0;
}
