/*
 * hash.h - SHA-256, MD5 and HMAC-SHA256 (OpenSSL's libcrypto, used here only).
 *
 *	struct qb_hash *h = qb_hash_new(QB_SHA256);
 *	qb_hash_update(h, p, n);
 *	qb_hash_final_hex(h, hex);   // hex: QB_HASH_HEX_MAX bytes
 *	qb_hash_free(h);
 */
#ifndef QB_HASH_H
#define QB_HASH_H

#include <stddef.h>

#include "qb/error.h"

enum qb_hash_kind { QB_SHA256, QB_MD5 };

#define QB_HASH_MAX 32
#define QB_HASH_HEX_MAX 65

struct qb_hash;
struct qb_hash *qb_hash_new(enum qb_hash_kind kind);   /* NULL on allocation failure */
void qb_hash_update(struct qb_hash *h, const void *p, size_t n);
/* Writes the digest, returns its length; the hash may not be updated after. */
size_t qb_hash_final(struct qb_hash *h, unsigned char *out);
void qb_hash_final_hex(struct qb_hash *h, char *hex);
void qb_hash_free(struct qb_hash *h);

void qb_hex(const unsigned char *p, size_t n, char *hex);
/* Value of one hex digit (either case), or -1. */
int qb_hex_digit(char c);
void qb_sha256_hex(const void *p, size_t n, char *hex);
void qb_hmac_sha256(const void *key, size_t keylen, const void *msg, size_t n,
		    unsigned char out[32]);
/* SHA-256 of a whole file. */
int qb_sha256_file(const char *path, char *hex, unsigned long long *size, struct qb_err *err);

#endif
