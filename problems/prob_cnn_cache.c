/* Activation cache of the CNN problem: see prob_cnn.h.
 *
 * Boundaries b = 1 .. n_layers-1 are the points just before approximable layer b's op. The state there
 * (every tensor written before that op and read at or after it) depends only on the multipliers of
 * layers 0..b-1, because ops run in topological order and layer b's op comes after every op of the
 * layers before it. An entry stores that state for all images of the search subset, image-major per
 * tensor, plus a copy of the prefix so that a hash collision can never return a wrong state.
 *
 * Policy: a lookup takes the deepest boundary whose prefix is cached; the evaluation then records
 * every deeper boundary it passes, in new entries published when the run completes. Entries are
 * evicted least recently used first once the byte budget is exceeded; an entry in use (refs > 0) is
 * never evicted. One mutex guards the table; copies happen outside it.
 *
 * Memory: entries live in fixed-size blocks taken from a pool that grows up to the budget and gives
 * nothing back until the cache is freed. An evicted or dropped entry's blocks go straight to the next
 * one. (Each entry used to be one malloc'd buffer: at 20,000 images that is 100-600 MB per boundary,
 * mapped fresh and freed again for nearly every evaluation of a filter- or kernel-level search, and
 * the kernel's page faults on those fresh pages cost more CPU than the convolutions.) An entry's
 * logical layout (offset[j] + image * img_bytes[j]) is split over its blocks in order.
 *
 * Adaptive insertion: a store at boundary b copies every image's live tensors there (img_bytes bytes an
 * image); a hit at b spares layers 0..b-1 (macs_before MACs an image). Once INSERT_PROBE stores were
 * made at b (published or not: an evaluation stopped by early rejection drops its part-filled entries,
 * and at filter and kernel level with early rejection most do), b keeps receiving entries only while
 * its hits have spared more MACs than its stores copied bytes, a byte counted as BYTE_MACS MACs (the
 * int8 kernels run ~70 G MAC/s on a core, a copy into the cache 2-10 GB/s). At kernel level uniform
 * crossover over many genes per layer means offspring almost never share a whole layer's prefix, and
 * storing every image's state for nothing cost ~11 % of the search; at the first layers a hit spares
 * few MACs for many bytes. It only decides what is stored, never what an evaluation computes. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "msg.h"
#include "prob_cnn.h"
#include "util.h"

typedef struct entry {
    int b;                 /* boundary: state before layer b */
    uint64_t hash;         /* of the prefix */
    uint16_t *prefix;      /* the multipliers of layers 0..b-1 (map order) */
    uint8_t **blk;         /* live tensors, all images: n_blk blocks of the pool */
    size_t n_blk;
    size_t bytes;          /* held: n_blk * block size */
    int refs;
    int published;
    uint64_t tick;         /* last use */
} entry;

enum { INSERT_PROBE = 64, BYTE_MACS = 16 };

typedef struct boundary {
    int op;                /* op index of layer b */
    uint64_t stores, hits; /* entries reserved here; lookups served from here */
    int n_live;
    int *live;             /* tensor ids */
    size_t *img_bytes;     /* per image, per live tensor */
    size_t *offset;        /* of each tensor's block in an entry (n_images * bytes before it) */
    size_t bytes;          /* of a whole entry */
    size_t per_image;      /* bytes of all live tensors, one image */
    double macs_before;    /* per-image MACs of layers 0..b-1 */
} boundary;

struct cnn_cache {
    pthread_mutex_t lock;
    const qnn_int8_net *net;
    int n_layers;
    int32_t n_images, chunk;
    size_t budget, bytes;  /* bytes: blocks held by entries */
    size_t blk_size, max_blk, n_alloc; /* block pool: max_blk = budget / blk_size, n_alloc made so far */
    uint8_t **free_blk;    /* blocks made and not held, a stack */
    size_t n_free;
    boundary *bd;          /* n_layers (index 0 unused) */
    double macs_all;
    int n_entries, cap;
    entry **entries;
    uint64_t tick;
    cnn_cache_stats st;
};

cnn_cache *cnn_cache_alloc(const qnn_int8_net *net, int32_t n_images, int32_t chunk, size_t budget_bytes)
{
    cnn_cache *c = xcalloc(1, sizeof *c);
    pthread_mutex_init(&c->lock, NULL);
    c->net = net;
    c->n_layers = net->n_layers;
    c->n_images = n_images;
    c->chunk = chunk;
    c->budget = budget_bytes;
    c->bd = xcalloc((size_t)net->n_layers, sizeof *c->bd);
    int *ids = xmalloc((size_t)net->n_tensors * sizeof *ids);
    double macs = 0;
    for (int b = 0; b < net->n_layers; b++) {
        boundary *B = &c->bd[b];
        B->op = net->layers[b].op_index;
        B->macs_before = macs;
        macs += (double)net->layers[b].macs;
        if (b == 0) continue;
        B->n_live = qnn_int8_live_before(net, B->op, ids);
        B->live = xmalloc((size_t)B->n_live * sizeof *B->live);
        B->img_bytes = xmalloc((size_t)B->n_live * sizeof *B->img_bytes);
        B->offset = xmalloc((size_t)B->n_live * sizeof *B->offset);
        for (int j = 0; j < B->n_live; j++) {
            B->live[j] = ids[j];
            B->img_bytes[j] = qnn_int8_tensor_bytes(net, ids[j]);
            B->offset[j] = B->bytes;
            B->per_image += B->img_bytes[j];
            B->bytes += B->img_bytes[j] * (size_t)c->n_images;
        }
    }
    c->macs_all = macs;
    free(ids);
    /* Block size: 2 MiB (a huge page where the kernel gives them), or, when the smallest entry is under
     * 1 MiB, that entry rounded up to whole 4 KiB pages (small data sets: entries of a few KiB each). */
    size_t blk = (size_t)2 << 20;
    for (int b = 1; b < net->n_layers; b++) {
        size_t e = (c->bd[b].bytes + 4095) & ~(size_t)4095;
        if (e && e < ((size_t)1 << 20) && e < blk) blk = e;
    }
    c->blk_size = blk;
    c->max_blk = budget_bytes / blk;
    c->free_blk = xmalloc((c->max_blk ? c->max_blk : 1) * sizeof *c->free_blk);
    c->st.budget = budget_bytes;
    return c;
}

/* a block of the pool (NULL when all max_blk are held) */
static uint8_t *blk_get(cnn_cache *c)
{
    if (c->n_free) return c->free_blk[--c->n_free];
    if (c->n_alloc == c->max_blk) return NULL;
    uint8_t *p = NULL;
    size_t align = c->blk_size == (size_t)2 << 20 ? c->blk_size : 4096;
    if (posix_memalign((void **)&p, align, c->blk_size) != 0) return NULL;
#ifdef MADV_HUGEPAGE
    if (align == c->blk_size) (void)madvise(p, c->blk_size, MADV_HUGEPAGE); /* advice; fine if refused */
#endif
    c->n_alloc++;
    return p;
}

/* blocks back to the pool (the lock held) */
static void blk_put(cnn_cache *c, uint8_t **blk, size_t n)
{
    while (n) c->free_blk[c->n_free++] = blk[--n];
}

static void entry_release(cnn_cache *c, entry *e)
{
    blk_put(c, e->blk, e->n_blk);
    c->bytes -= e->bytes;
    e->n_blk = 0;
}

static void entry_free(entry *e)
{
    if (!e) return;
    free(e->prefix);
    free(e->blk);
    free(e);
}

void cnn_cache_free(cnn_cache *c)
{
    if (!c) return;
    for (int i = 0; i < c->n_entries; i++) {
        entry_release(c, c->entries[i]);
        entry_free(c->entries[i]);
    }
    free(c->entries);
    for (size_t i = 0; i < c->n_free; i++) free(c->free_blk[i]);
    free(c->free_blk);
    for (int b = 1; b < c->n_layers; b++) {
        free(c->bd[b].live);
        free(c->bd[b].img_bytes);
        free(c->bd[b].offset);
    }
    free(c->bd);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

void cnn_cache_get_stats(cnn_cache *c, cnn_cache_stats *out)
{
    pthread_mutex_lock(&c->lock);
    *out = c->st;
    out->bytes = c->bytes;
    out->entries = c->n_entries;
    pthread_mutex_unlock(&c->lock);
}

/* prefix hashes h[b] over the multipliers of layers 0..b-1, for b = 1..n_layers-1 */
static void prefix_hashes(const amap *m, int n_layers, uint64_t *h)
{
    uint64_t x = UTIL_FNV1A_INIT;
    for (int b = 1; b < n_layers; b++) {
        size_t len = (m->offset[b] - m->offset[b - 1]) * sizeof *m->mult;
        x = util_fnv1a(x, m->mult + m->offset[b - 1], len);
        h[b] = x ^ (uint64_t)b * 0x9e3779b97f4a7c15ULL;
    }
}

static entry *find(cnn_cache *c, int b, uint64_t h, const amap *m)
{
    for (int i = 0; i < c->n_entries; i++) {
        entry *e = c->entries[i];
        if (e->published && e->b == b && e->hash == h &&
            !memcmp(e->prefix, m->mult, m->offset[b] * sizeof *m->mult))
            return e;
    }
    return NULL;
}

/* Make room for `n_blk` more blocks; returns 0 when impossible (everything else is in use). */
static int make_room(cnn_cache *c, size_t n_blk)
{
    if (n_blk > c->max_blk) return 0;
    while (c->bytes / c->blk_size + n_blk > c->max_blk) {
        int victim = -1;
        for (int i = 0; i < c->n_entries; i++) {
            entry *e = c->entries[i];
            if (e->refs == 0 && (victim < 0 || e->tick < c->entries[victim]->tick)) victim = i;
        }
        if (victim < 0) return 0;
        entry_release(c, c->entries[victim]);
        entry_free(c->entries[victim]);
        c->entries[victim] = c->entries[--c->n_entries];
        c->st.evictions++;
    }
    return 1;
}

static entry *reserve(cnn_cache *c, int b, uint64_t h, const amap *m)
{
    const boundary *B = &c->bd[b];
    size_t n_blk = (B->bytes + c->blk_size - 1) / c->blk_size;
    if (!make_room(c, n_blk)) return NULL;
    uint8_t **blk = xmalloc(n_blk * sizeof *blk);
    for (size_t i = 0; i < n_blk; i++)
        if (!(blk[i] = blk_get(c))) { /* out of memory: give back what was taken, cache nothing */
            blk_put(c, blk, i);
            free(blk);
            return NULL;
        }
    entry *e = xcalloc(1, sizeof *e);
    e->b = b;
    e->hash = h;
    e->blk = blk;
    e->n_blk = n_blk;
    e->bytes = n_blk * c->blk_size;
    e->refs = 1;
    e->tick = ++c->tick;
    size_t plen = m->offset[b] * sizeof *m->mult;
    e->prefix = xmalloc(plen);
    memcpy(e->prefix, m->mult, plen);
    if (c->n_entries == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 16;
        c->entries = xrealloc(c->entries, (size_t)c->cap * sizeof *c->entries);
    }
    c->entries[c->n_entries++] = e;
    c->bytes += e->bytes;
    return e;
}

static void drop(cnn_cache *c, entry *e)
{
    for (int i = 0; i < c->n_entries; i++)
        if (c->entries[i] == e) {
            entry_release(c, e);
            c->entries[i] = c->entries[--c->n_entries];
            entry_free(e);
            return;
        }
}

static void copy_state(const cnn_cache *c, const boundary *B, qnn_int8_ws *ws, const entry *e, int32_t first,
                       int32_t n, int save)
{
    for (int j = 0; j < B->n_live; j++) {
        size_t off = B->offset[j] + (size_t)first * B->img_bytes[j];
        uint8_t *t = (uint8_t *)qnn_int8_ws_tensor(ws, B->live[j]);
        size_t len = (size_t)n * B->img_bytes[j];
        while (len) { /* the span [off, off + len) of the entry, block by block */
            size_t o = off % c->blk_size, k = c->blk_size - o < len ? c->blk_size - o : len;
            uint8_t *p = e->blk[off / c->blk_size] + o;
            if (save)
                memcpy(p, t, k);
            else
                memcpy(t, p, k);
            off += k;
            t += k;
            len -= k;
        }
    }
}

int32_t cnn_cache_run(void *cache, const amap *m, const qnn_layer_mul *muls, qnn_int8_ws *ws, const cifar_set *set,
                      uint8_t *pred, const approx_eval_reject *rj, int32_t *done)
{
    cnn_cache *c = cache;
    ASSERT(set->n == c->n_images);
    const int L = c->n_layers;
    uint64_t h[64];
    ASSERT(L <= 64);
    prefix_hashes(m, L, h);

    entry *hit = NULL, *fill[64] = {NULL};
    pthread_mutex_lock(&c->lock);
    int start = 0;
    for (int b = L - 1; b >= 1 && !hit; b--)
        if ((hit = find(c, b, h[b], m))) start = b;
    if (hit) {
        hit->refs++;
        hit->tick = ++c->tick;
        c->st.hits++;
        c->bd[start].hits++;
    }
    c->st.lookups++;
    c->st.macs_total += c->macs_all;
    c->st.macs_skipped += c->bd[start].macs_before;
    for (int b = start + 1; b < L; b++) {
        const boundary *B = &c->bd[b];
        if (B->stores >= INSERT_PROBE &&
            (double)B->hits * B->macs_before < (double)B->stores * (double)B->per_image * BYTE_MACS)
            continue; /* does not pay here */
        if ((fill[b] = reserve(c, b, h[b], m))) c->bd[b].stores++;
    }
    pthread_mutex_unlock(&c->lock);

    const qnn_int8_net *net = c->net; /* the hooks carry a compensated map's biases */
    const int32_t k = qnn_int8_n_out(net);
    int32_t correct = 0;
    for (int32_t first = 0; first < set->n; first += c->chunk) {
        int32_t n = set->n - first < c->chunk ? set->n - first : c->chunk;
        int op = 0;
        if (hit) {
            copy_state(c, &c->bd[start], ws, hit, first, n, 0);
            qnn_int8_ws_set_n(ws, n);
            op = c->bd[start].op;
        } else {
            qnn_int8_set_input(net, ws, set->pixels + (size_t)first * CIFAR_PIXELS, n);
        }
        int next_b = start + 1;
        for (; op < net->n_ops; op++) {
            while (next_b < L && c->bd[next_b].op < op) next_b++;
            if (next_b < L && c->bd[next_b].op == op && fill[next_b])
                copy_state(c, &c->bd[next_b], ws, fill[next_b], first, n, 1);
            qnn_int8_step(net, ws, op, muls);
        }
        const int8_t *logits = qnn_int8_ws_tensor(ws, net->output);
        for (int32_t i = 0; i < n; i++) {
            const int8_t *l = logits + (size_t)i * k;
            int best = util_argmax_s8(l, k);
            if (pred) pred[first + i] = (uint8_t)best;
            correct += best == set->labels[first + i];
        }
        *done = first + n;
        if (approx_eval_hopeless(rj, correct, first + n, set->n)) break; /* entries below stay partial */
    }

    pthread_mutex_lock(&c->lock);
    if (hit) hit->refs--;
    for (int b = start + 1; b < L; b++) {
        entry *e = fill[b];
        if (!e) continue;
        e->refs--;
        if (*done < set->n || find(c, b, h[b], m)) {
            drop(c, e); /* filled part-way (early rejection), or another thread published it meanwhile */
        } else {
            e->published = 1;
            c->st.inserts++;
        }
    }
    pthread_mutex_unlock(&c->lock);
    return correct;
}
