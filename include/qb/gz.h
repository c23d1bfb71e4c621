/*
 * gz.h - standard gzip, compressed on every core, read back with checks.
 *
 * Writing: input is cut into blocks (QB_GZ_BLOCK bytes) and each block is
 * compressed by a worker thread with libdeflate into an independent gzip
 * member; members are written in order.  A concatenation of gzip members is
 * a valid gzip file (RFC 1952 section 2.2): gunzip, zcat and zlib read it.
 *
 *	struct qb_gzw *w;
 *	qb_gzw_new(&w, sink, sink_ud, 6, 0, &err);   // 0 threads: one per core
 *	qb_gzw_write(w, data, n, &err) ...            // any sizes
 *	qb_gzw_finish(w, &err);                       // flushes, joins workers
 *	qb_gzw_free(w);
 *
 * The sink receives compressed bytes in order, from the thread that calls
 * qb_gzw_write or qb_gzw_finish (never from a worker).  A sink error stops
 * the writer and is returned by the next call.
 *
 * Every member's header carries its length in an extra field ("QB"), which
 * gzip, zlib and libdeflate skip, and which lets a reader inflate several
 * members at once.
 *
 * Reading: qb_gzr reads a gzip file of one or many members (or, when the
 * data does not start with the gzip magic, plain bytes unchanged; a file
 * named .gz is refused then, through qb_gzr_check_name), checks
 * every member's CRC-32 and length, and reports a truncated or corrupt
 * stream as QB_ECORRUPT.
 */
#ifndef QB_GZ_H
#define QB_GZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qb/error.h"

#define QB_GZ_BLOCK (4u << 20)

typedef int (*qb_sink_fn)(void *ud, const void *p, size_t n, struct qb_err *err);

struct qb_gzw;
int qb_gzw_new(struct qb_gzw **out, qb_sink_fn sink, void *ud, int level, int threads,
	       struct qb_err *err);
int qb_gzw_write(struct qb_gzw *w, const void *p, size_t n, struct qb_err *err);
int qb_gzw_finish(struct qb_gzw *w, struct qb_err *err);
uint64_t qb_gzw_bytes_in(const struct qb_gzw *w);
uint64_t qb_gzw_bytes_out(const struct qb_gzw *w);
void qb_gzw_free(struct qb_gzw *w);

struct qb_gzr;
/* Reads from fd (not closed by the reader). */
int qb_gzr_new(struct qb_gzr **out, int fd, struct qb_err *err);
/* *got == 0 means the end, reached with every member verified. */
int qb_gzr_read(struct qb_gzr *r, void *p, size_t cap, size_t *got, struct qb_err *err);
bool qb_gzr_is_gzip(const struct qb_gzr *r);
/* QB_ECORRUPT ("'NAME' is named .gz but is not gzip data (damaged?)") when
 * name ends in ".gz" and r found no gzip magic, else QB_OK: a damaged first
 * byte must not turn a compressed file into plain bytes read as they are. */
int qb_gzr_check_name(const struct qb_gzr *r, const char *name, struct qb_err *err);
uint64_t qb_gzr_bytes_in(const struct qb_gzr *r);   /* compressed bytes consumed */
/* Inflate two members at a time, on a second thread, where the file's
 * headers give each member's length (files written by qb_gzw).  For a
 * reader that is the bottleneck; same results and errors either way. */
void qb_gzr_parallel(struct qb_gzr *r);
void qb_gzr_free(struct qb_gzr *r);

/* Read a whole file through qb_gzr: QB_OK when it is intact gzip. */
int qb_gz_check_file(const char *path, uint64_t *raw_bytes, struct qb_err *err);

#endif
