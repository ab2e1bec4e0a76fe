/* Checkpoint file format helpers (redis rdbSave, llm.c save_state): fixed-width little-endian
 * fields written one by one into a memory buffer (never raw structs), then one atomic file:
 *
 *   offset 0   8 bytes  magic (caller's, e.g. "AMAPCKPT")
 *          8   u32      format version
 *         12   u64      payload length L
 *         20   L bytes  payload
 *       20+L   u32      CRC-32 (IEEE 802.3, reflected 0xEDB88320) of bytes [0, 20+L)
 *
 * The file is written through afile (temp, fflush, fsync, rename), so a reader sees the old file or
 * the new one, never a mix. Readers are bounds-checked: reading past the payload sets a sticky error
 * flag instead of reading garbage. Also used for other binary files (the run archive) through
 * ckpt_crc32() and the put/get helpers. */
#ifndef SRC_CKPT_H
#define SRC_CKPT_H

#include <stddef.h>
#include <stdint.h>

enum { CKPT_MAGIC_LEN = 8, CKPT_HEADER_LEN = 20 };

/* A growing output buffer. Initialise with ckpt_writer_init(), release with ckpt_writer_deinit(). */
typedef struct ckpt_writer {
    unsigned char *data;
    size_t len, cap;
} ckpt_writer;

/* A bounds-checked cursor over a byte range (borrowed). `err` becomes 1 on any overrun and stays. */
typedef struct ckpt_reader {
    const unsigned char *data; /* borrowed */
    size_t len, pos;
    int err;
} ckpt_reader;

/* CRC-32 of `len` bytes continuing from `crc` (start with 0). crc32("123456789") = 0xCBF43926. */
uint32_t ckpt_crc32(uint32_t crc, const void *data, size_t len);

void ckpt_writer_init(ckpt_writer *w);
void ckpt_writer_deinit(ckpt_writer *w);
void ckpt_put_u8(ckpt_writer *w, uint8_t v);
void ckpt_put_u32(ckpt_writer *w, uint32_t v);
void ckpt_put_u64(ckpt_writer *w, uint64_t v);
void ckpt_put_i64(ckpt_writer *w, int64_t v);
/* Doubles are written as their IEEE-754 bit pattern, so they round-trip exactly (NaN payloads too). */
void ckpt_put_f64(ckpt_writer *w, double v);
void ckpt_put_bytes(ckpt_writer *w, const void *p, size_t n);

void ckpt_reader_init(ckpt_reader *r, const void *data, size_t len);
uint8_t ckpt_get_u8(ckpt_reader *r);
uint32_t ckpt_get_u32(ckpt_reader *r);
uint64_t ckpt_get_u64(ckpt_reader *r);
int64_t ckpt_get_i64(ckpt_reader *r);
double ckpt_get_f64(ckpt_reader *r);
/* Copy `n` bytes to `out` (zero-filled on overrun). */
void ckpt_get_bytes(ckpt_reader *r, void *out, size_t n);
/* Bytes left to read. */
static inline size_t ckpt_remaining(const ckpt_reader *r) { return r->err ? 0 : r->len - r->pos; }

/* Little-endian encoders for callers that fill fixed-size records themselves. */
void ckpt_le32(unsigned char *p, uint32_t v);
void ckpt_le64(unsigned char *p, uint64_t v);
uint32_t ckpt_rd32(const unsigned char *p);
uint64_t ckpt_rd64(const unsigned char *p);

/* Write header + payload `w` + CRC atomically to `path`. `magic` is exactly CKPT_MAGIC_LEN bytes.
 * Returns ST_OK, or ST_EIO after reporting once "cannot write 'path': reason" (as afile does). */
int ckpt_file_write(const char *path, const char magic[CKPT_MAGIC_LEN], uint32_t version,
                    const ckpt_writer *w);

/* Read and verify `path`: magic, version == `version`, length and CRC. On success *data is a heap
 * buffer (caller frees) whose payload is in [CKPT_HEADER_LEN, CKPT_HEADER_LEN + *payload_len), and
 * `r` reads that payload. Errors (reported, *data untouched):
 *   ST_EIO     "cannot open 'path': reason"
 *   ST_EFORMAT "'path' is not a <what> file" (bad magic or shorter than a header)
 *   ST_EFORMAT "'path' has <what> format version V; this program reads version W"
 *   ST_EFORMAT "'path' is truncated or damaged (N bytes, header says M)"
 *   ST_EFORMAT "'path' is corrupt (checksum mismatch)"
 * `what` names the file kind in messages, e.g. "checkpoint". */
int ckpt_file_read(const char *path, const char magic[CKPT_MAGIC_LEN], uint32_t version, const char *what,
                   unsigned char **data, ckpt_reader *r);

#endif
