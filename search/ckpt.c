/* Checkpoint format helpers: see ckpt.h. All multi-byte fields are assembled byte by byte, so the
 * format does not depend on struct layout or host alignment. */
#include "ckpt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "afile.h"
#include "msg.h"
#include "status.h"

/* CRC-32 with the reflected polynomial 0xEDB88320, four bits at a time. */
static const uint32_t crc_nibble[16] = {
    0x00000000u, 0x1DB71064u, 0x3B6E20C8u, 0x26D930ACu, 0x76DC4190u, 0x6B6B51F4u, 0x4DB26158u, 0x5005713Cu,
    0xEDB88320u, 0xF00F9344u, 0xD6D6A3E8u, 0xCB61B38Cu, 0x9B64C2B0u, 0x86D3D2D4u, 0xA00AE278u, 0xBDBDF21Cu,
};

uint32_t ckpt_crc32(uint32_t crc, const void *data, size_t len)
{
    const unsigned char *p = data;
    crc = ~crc;
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        crc = (crc >> 4) ^ crc_nibble[crc & 15u];
        crc = (crc >> 4) ^ crc_nibble[crc & 15u];
    }
    return ~crc;
}

void ckpt_le32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

void ckpt_le64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

uint32_t ckpt_rd32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint64_t ckpt_rd64(const unsigned char *p) { return (uint64_t)ckpt_rd32(p) | (uint64_t)ckpt_rd32(p + 4) << 32; }

void ckpt_writer_init(ckpt_writer *w)
{
    w->cap = 4096;
    w->len = 0;
    w->data = xmalloc(w->cap);
}

void ckpt_writer_deinit(ckpt_writer *w)
{
    free(w->data);
    w->data = NULL;
    w->len = w->cap = 0;
}

static unsigned char *grow(ckpt_writer *w, size_t n)
{
    if (w->len + n > w->cap) {
        while (w->len + n > w->cap) w->cap *= 2;
        w->data = xrealloc(w->data, w->cap);
    }
    unsigned char *p = w->data + w->len;
    w->len += n;
    return p;
}

void ckpt_put_u8(ckpt_writer *w, uint8_t v) { *grow(w, 1) = v; }
void ckpt_put_u32(ckpt_writer *w, uint32_t v) { ckpt_le32(grow(w, 4), v); }
void ckpt_put_u64(ckpt_writer *w, uint64_t v) { ckpt_le64(grow(w, 8), v); }
void ckpt_put_i64(ckpt_writer *w, int64_t v) { ckpt_le64(grow(w, 8), (uint64_t)v); }

void ckpt_put_f64(ckpt_writer *w, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    ckpt_le64(grow(w, 8), bits);
}

void ckpt_put_bytes(ckpt_writer *w, const void *p, size_t n)
{
    if (n) memcpy(grow(w, n), p, n);
}

void ckpt_reader_init(ckpt_reader *r, const void *data, size_t len)
{
    r->data = data;
    r->len = len;
    r->pos = 0;
    r->err = 0;
}

static const unsigned char *take(ckpt_reader *r, size_t n)
{
    if (r->err || n > r->len - r->pos) {
        r->err = 1;
        return NULL;
    }
    const unsigned char *p = r->data + r->pos;
    r->pos += n;
    return p;
}

uint8_t ckpt_get_u8(ckpt_reader *r)
{
    const unsigned char *p = take(r, 1);
    return p ? p[0] : 0;
}

uint32_t ckpt_get_u32(ckpt_reader *r)
{
    const unsigned char *p = take(r, 4);
    return p ? ckpt_rd32(p) : 0;
}

uint64_t ckpt_get_u64(ckpt_reader *r)
{
    const unsigned char *p = take(r, 8);
    return p ? ckpt_rd64(p) : 0;
}

int64_t ckpt_get_i64(ckpt_reader *r) { return (int64_t)ckpt_get_u64(r); }

double ckpt_get_f64(ckpt_reader *r)
{
    uint64_t bits = ckpt_get_u64(r);
    double v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

void ckpt_get_bytes(ckpt_reader *r, void *out, size_t n)
{
    const unsigned char *p = take(r, n);
    if (p)
        memcpy(out, p, n);
    else if (n)
        memset(out, 0, n);
}

int ckpt_file_write(const char *path, const char magic[CKPT_MAGIC_LEN], uint32_t version,
                    const ckpt_writer *w)
{
    unsigned char head[CKPT_HEADER_LEN], tail[4];
    memcpy(head, magic, CKPT_MAGIC_LEN);
    ckpt_le32(head + 8, version);
    ckpt_le64(head + 12, (uint64_t)w->len);
    uint32_t crc = ckpt_crc32(0, head, sizeof head);
    crc = ckpt_crc32(crc, w->data, w->len);
    ckpt_le32(tail, crc);

    afile *f = afile_open(path);
    if (!f) return ST_EIO;
    FILE *fp = afile_stream(f);
    if (fwrite(head, 1, sizeof head, fp) != sizeof head || (w->len && fwrite(w->data, 1, w->len, fp) != w->len) ||
        fwrite(tail, 1, sizeof tail, fp) != sizeof tail) {
        int err = errno;
        afile_abort(f);
        return msg_error(ST_EIO, "cannot write '%s': %s", path, strerror(err));
    }
    return afile_commit(f); /* it reports "cannot write 'path': reason" itself: one message */
}

int ckpt_file_read(const char *path, const char magic[CKPT_MAGIC_LEN], uint32_t version, const char *what,
                   unsigned char **data, ckpt_reader *r)
{
    char *buf;
    size_t len;
    if (afile_read_all(path, &buf, &len) != ST_OK) return ST_EIO;
    const unsigned char *p = (const unsigned char *)buf;
    int rc = ST_OK;
    if (len < CKPT_HEADER_LEN || memcmp(p, magic, CKPT_MAGIC_LEN) != 0) {
        rc = msg_error(ST_EFORMAT, "'%s' is not a %s file", path, what);
    } else if (ckpt_rd32(p + 8) != version) {
        rc = msg_error(ST_EFORMAT, "'%s' has %s format version %u; this program reads version %u", path, what,
                       (unsigned)ckpt_rd32(p + 8), (unsigned)version);
    } else {
        uint64_t plen = ckpt_rd64(p + 12);
        uint64_t want = plen + CKPT_HEADER_LEN + 4;
        if (plen > len || want != len) {
            rc = msg_error(ST_EFORMAT, "'%s' is truncated or damaged (%zu bytes, header says %llu)", path, len,
                           (unsigned long long)want);
        } else if (ckpt_crc32(0, p, len - 4) != ckpt_rd32(p + len - 4)) {
            rc = msg_error(ST_EFORMAT, "'%s' is corrupt (checksum mismatch)", path);
        } else {
            ckpt_reader_init(r, p + CKPT_HEADER_LEN, (size_t)plen);
        }
    }
    if (rc != ST_OK) {
        free(buf);
        return rc;
    }
    *data = (unsigned char *)buf;
    return ST_OK;
}
