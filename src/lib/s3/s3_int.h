/*
 * s3_int.h - what the files of src/lib/s3/ share: the client, one request
 * (what to send, where the answer goes, what came back) and the functions
 * that run it once (http.c) or in a pool (multi.c).  libcurl stays here.
 */
#ifndef QB_S3_INT_H
#define QB_S3_INT_H

#include <curl/curl.h>

#include "qb/buf.h"
#include "qb/hash.h"
#include "qb/s3.h"

#define S3_MAX_PARAMS 6
#define S3_XML_MAX (32u << 20)       /* a listing page or another XML answer */
#define S3_ERRBODY_MAX (64u << 10)   /* the body of an error answer */

struct qb_s3 {
	struct qb_s3_conf conf;      /* a deep copy */
	CURL *easy;                  /* for synchronous requests */
	uint64_t rng;                /* backoff jitter */
};

enum s3_body { S3_BODY_NONE, S3_BODY_MEM, S3_BODY_FD };
enum s3_sink { S3_SINK_NONE, S3_SINK_BUF, S3_SINK_FD };

struct s3_req {
	/* What to send. */
	const char *method;
	const char *what;            /* for messages: "fetch", "upload", "list bucket" */
	char *bucket;                /* NULL: the service (ListBuckets) */
	char *key;                   /* NULL: the bucket */
	struct qb_sigv4_param params[S3_MAX_PARAMS];
	char *param_values[S3_MAX_PARAMS];
	unsigned nparams;
	char *content_type;
	char content_md5[32];        /* base64, or "" */
	char expect_md5[33];         /* the same in hex: what the body sent must hash to */
	bool nobody;                 /* HEAD */
	bool total_timeout;          /* a request without a large body */
	bool verify_md5;             /* compare the MD5 of the moved body with a plain ETag */

	enum s3_body body_kind;
	const char *body_mem;
	int body_fd;
	uint64_t body_off;           /* of the fd */
	uint64_t body_len;
	uint64_t body_pos;           /* bytes handed to curl in this attempt: sent */
	char payload_hash[QB_HASH_HEX_MAX];

	enum s3_sink sink_kind;
	struct qb_buf *sink_buf;
	int sink_fd;

	/* What came back (reset for every attempt). */
	long status;
	int64_t content_length;      /* -1: not sent */
	char etag[QB_S3_ETAG_MAX];
	char resp_type[QB_S3_CTYPE_MAX];
	char last_modified[QB_S3_DATE_MAX];
	bool sse_opaque;             /* SSE-KMS or SSE-C: the ETag is not the MD5 */
	bool shrank;                 /* upload: the file ended before its size */
	long retry_after;            /* seconds, 0 when absent */
	uint64_t received;           /* answer body bytes (of a 2xx answer) */
	struct qb_hash *md5;
	char md5_hex[33];
	struct qb_buf errbody;
	int cb_rc;                   /* an error raised in a callback (local I/O) */
	struct qb_err cb_err;

	/* Transport. */
	CURL *easy;
	struct curl_slist *headers;
	char curl_msg[CURL_ERROR_SIZE];
	unsigned attempt;            /* 1 for the first */
	uint64_t *counter;           /* the pool's byte counter, or NULL */
};

/* req.c: describe a request. */
int s3_req_init(struct s3_req *r, const char *method, const char *what, const char *bucket,
		const char *key, struct qb_err *err);
int s3_req_param(struct s3_req *r, const char *name, const char *value, struct qb_err *err);
/* Send md5hex (32 hex digits) as Content-MD5. */
int s3_req_set_md5(struct s3_req *r, const char *md5hex, struct qb_err *err);
void s3_req_release(struct s3_req *r);
/* Set up r->easy for the next attempt: rewind the body and the sink, sign, set options. */
int s3_req_prepare(struct qb_s3 *s3, struct s3_req *r, struct qb_err *err);

/* http.c: judge an attempt and run a request synchronously. */
enum s3_verdict { S3_DONE, S3_RETRY, S3_FAIL };
/* After an attempt ended with cc: S3_DONE, S3_RETRY (delay in *delay_ms, attempts left)
 * or S3_FAIL (err filled with the final message, code in *rc). */
enum s3_verdict s3_req_judge(struct qb_s3 *s3, struct s3_req *r, CURLcode cc, long *delay_ms,
			     int *rc, struct qb_err *err);
void s3_req_result(struct s3_req *r, struct qb_s3_result *res);
/* Run r with the client's own handle, retrying; QB_OK only for a 2xx answer. */
int s3_exec(struct qb_s3 *s3, struct s3_req *r, struct qb_err *err);
/* multi.c: run a request the caller described in the pool.  r is moved into the pool (and
 * zeroed), released there, on error too; blocks while the pool is full. */
int s3_pool_submit(struct qb_s3_pool *p, struct s3_req *r, qb_s3_done_fn done, void *ud,
		   struct qb_err *err);
/* "'bucket/key'" or "'bucket'" for messages; caller frees. */
char *s3_req_name(const struct s3_req *r);
uint64_t s3_now_ms(void);

#endif
