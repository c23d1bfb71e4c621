/*
 * gz_int.h - the gzip stream decoder behind qb_gzr (internal to src/lib/compress).
 *
 * A decoder reads compressed bytes from a file descriptor and gives back the
 * uncompressed stream a piece at a time, every member's CRC-32 and ISIZE
 * checked.  Members that fit one output piece (all of those qb_gzw writes)
 * are decompressed whole with libdeflate; at the first member that does not
 * (another tool's gzip file, or damage) the decoder goes over to zlib's
 * streaming inflate for the rest of the stream, and zlib is the judge of
 * truncation and corruption.
 */
#ifndef QB_GZ_INT_H
#define QB_GZ_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qb/error.h"
#include "qb/gz.h"

/* The least room gzdec_next needs, until zlib has taken over: one whole qb_gzw member. */
#define GZDEC_OUT_MIN QB_GZ_BLOCK

struct gzdec;

/* Decode from fd; the n bytes at head were already read from it (they are copied). */
int gzdec_new(struct gzdec **out, int fd, const void *head, size_t n, struct qb_err *err);
/*
 * Decode the next piece into out: cap >= GZDEC_OUT_MIN, or any cap > 0 once
 * gzdec_streaming().  *len == 0 means the end, reached with every member
 * verified.  After an error, the decoder may only be freed.
 */
int gzdec_next(struct gzdec *d, unsigned char *out, size_t cap, size_t *len, struct qb_err *err);
/* Inflate the member after each one on a second thread when qb_gzw's
 * headers make it possible (for a reader whose caller is not the bottleneck). */
void gzdec_parallel(struct gzdec *d, bool on);
/* zlib has taken over: pieces of any size, straight into the caller's buffer. */
bool gzdec_streaming(const struct gzdec *d);
/* Compressed bytes consumed so far: those of the pieces given back. */
uint64_t gzdec_bytes_in(const struct gzdec *d);
/* For tests: members decoded by libdeflate, and whether zlib has taken over. */
void gzdec_stats(const struct gzdec *d, uint64_t *fast_members, bool *slow);
void gzdec_free(struct gzdec *d);

#endif
