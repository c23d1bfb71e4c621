/*
 * s3.h - a small S3 client: path-style addressing, Signature Version 4,
 * bounded retries, parallel transfers.  It speaks to MinIO, AWS S3 or any
 * S3-compatible store.
 *
 * To copy objects:
 *   1) qb_s3_conf_load() reads the MINIO_* settings (below) into a qb_s3_conf;
 *   2) qb_s3_new() makes a client from it;
 *   3) synchronous calls: qb_s3_list_buckets(), qb_s3_list_objects() (page by
 *      page, one callback per object), qb_s3_head_object(), qb_s3_get_file(),
 *      qb_s3_put_file(), qb_s3_delete_object(), qb_s3_create_bucket();
 *   4) parallel transfers: qb_s3_pool_new(), then qb_s3_pool_get()/_put()/
 *      _delete() as often as needed (each blocks only while the pool is
 *      full), qb_s3_pool_wait() for the last ones, qb_s3_pool_free();
 *      qb_s3_pool_list_objects() lists in the pool, so that a listing's
 *      callbacks can start transfers that run while the next page comes;
 *   5) qb_s3_free(), qb_s3_conf_release().
 *
 *	struct qb_s3_conf conf;
 *	struct qb_s3 *s3;
 *	if (qb_s3_conf_load(&conf, cfg, &err) || qb_s3_new(&s3, &conf, &err)) ...
 *	qb_s3_list_objects(s3, "docs", NULL, on_object, ud, &err);
 *
 * Settings (environment first, then the configuration file, see config.h):
 *   MINIO_ENDPOINT      a URL, "http://127.0.0.1:9000" or "https://s3.example.com"
 *                       (no path, no user name), or a bare host name; for a bare host
 *                       MINIO_USE_SSL (default true) picks https or http and
 *                       MINIO_PORT (default 443 or 80) the port, the minio-js convention
 *   MINIO_ACCESS_KEY    the access key id
 *   MINIO_SECRET_KEY    the secret key: never logged, never in an error message
 *   MINIO_REGION        the signing region, default us-east-1
 *   MINIO_INSECURE      true: do not verify the server's TLS certificate (a warning is
 *                       logged on every client made so); default false
 *   MINIO_PARALLEL      transfers at once in a pool, 1 to 64, default 8
 *   MINIO_PART_SIZE_MB  multipart part size in MiB, 5 to 5120, default 16; files larger
 *                       than one part are uploaded in parts
 *   MINIO_RETRIES       retries after the first attempt, 0 to 20, default 5
 *   MINIO_TIMEOUT       seconds a connection may take to open and a transfer may stall,
 *                       1 to 3600, default 60; requests without a large body also have
 *                       a total limit of twice that
 *   CURL_CA_BUNDLE, AWS_CA_BUNDLE  a CA file to verify TLS with instead of libcurl's
 *                       default store (the first one set wins)
 *
 * Retries: 5xx answers, 429, S3's RequestTimeout/SlowDown/InternalError codes, time-outs,
 * refused or dropped connections, short bodies and MD5 mismatches are retried with
 * exponential backoff and jitter (retry_base_ms doubled each time, 20 s at most, a
 * Retry-After header honoured up to 30 s).  When it gives up, the error names the
 * operation, bucket, key, HTTP status and S3 error code, and the number of attempts.
 *
 * Error codes: QB_ENOTFOUND (404), QB_EREFUSED (403), QB_EREMOTE (other answers),
 * QB_ENET (connection failures), QB_ECORRUPT (size or MD5 mismatch), QB_EIO (local
 * files), QB_EFORMAT (malformed XML), QB_ECONFIG (settings).
 */
#ifndef QB_S3_H
#define QB_S3_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qb/buf.h"
#include "qb/config.h"
#include "qb/error.h"

#define QB_S3_ETAG_MAX  128     /* ETag, unquoted, with its NUL */
#define QB_S3_CTYPE_MAX 256     /* Content-Type */
#define QB_S3_DATE_MAX  64      /* Last-Modified */
#define QB_S3_KEY_MAX   1024    /* longest key S3 accepts, in bytes */
#define QB_S3_MIB       ((uint64_t)1 << 20)

struct qb_s3_conf {
	char *url;              /* "scheme://host[:port]", no trailing slash */
	char *host;             /* the Host header: "host" or "host:port" */
	char *access_key;
	char *secret_key;       /* wiped by qb_s3_conf_release */
	char *region;
	char *ca_file;          /* NULL: libcurl's default store */
	bool insecure;
	unsigned parallel;
	uint64_t part_size;     /* bytes */
	unsigned retries;
	unsigned timeout;       /* seconds */
	unsigned retry_base_ms; /* first backoff delay; 200 unless changed by the caller */
};

/* Fill conf from the settings above.  QB_ECONFIG when MINIO_ENDPOINT, MINIO_ACCESS_KEY or
 * MINIO_SECRET_KEY is missing or a value is out of range.  Release with qb_s3_conf_release
 * (also after a failure). */
int qb_s3_conf_load(struct qb_s3_conf *conf, const struct qb_config *cfg, struct qb_err *err);
/* Fill url and host from an endpoint as MINIO_ENDPOINT accepts it (port 0: the default). */
int qb_s3_conf_endpoint(struct qb_s3_conf *conf, const char *endpoint, long port, bool use_ssl,
			struct qb_err *err);
void qb_s3_conf_release(struct qb_s3_conf *conf);

struct qb_s3;

/* The client copies conf.  One client is used by one thread at a time. */
int qb_s3_new(struct qb_s3 **out, const struct qb_s3_conf *conf, struct qb_err *err);
void qb_s3_free(struct qb_s3 *s3);
const struct qb_s3_conf *qb_s3_conf_of(const struct qb_s3 *s3);

/* ---- Listing ---- */

struct qb_s3_object {
	const char *key;            /* decoded */
	uint64_t size;
	const char *etag;           /* unquoted; "<md5>-<parts>" for multipart uploads */
	const char *last_modified;  /* ISO 8601, as the server wrote it */
};

/* Callbacks return QB_OK to go on, or an error code (with err filled) to stop the listing;
 * that code is then returned by the listing call. */
typedef int (*qb_s3_bucket_fn)(void *ud, const char *name, struct qb_err *err);
typedef int (*qb_s3_object_fn)(void *ud, const struct qb_s3_object *o, struct qb_err *err);

/* Every bucket the key can list, in the server's order (by name). */
int qb_s3_list_buckets(struct qb_s3 *s3, qb_s3_bucket_fn fn, void *ud, struct qb_err *err);
/* Every object of bucket whose key starts with prefix (NULL: all), in the server's order
 * (by key, UTF-8 bytes), with ListObjectsV2 one page of up to 1,000 objects at a time:
 * memory does not grow with the bucket. */
int qb_s3_list_objects(struct qb_s3 *s3, const char *bucket, const char *prefix,
		       qb_s3_object_fn fn, void *ud, struct qb_err *err);

/* ---- Single requests ---- */

/* What a transfer or a HEAD learnt. */
struct qb_s3_result {
	long status;                        /* HTTP status of the last attempt */
	uint64_t size;                      /* bytes received (GET) or sent (PUT); HEAD: length */
	char etag[QB_S3_ETAG_MAX];          /* the server's ETag, unquoted */
	char md5[33];                       /* hex MD5 of the bytes moved ("" for HEAD) */
	char content_type[QB_S3_CTYPE_MAX];
	char last_modified[QB_S3_DATE_MAX]; /* the Last-Modified header (an HTTP date) */
	bool verified;                      /* md5 was checked against a plain ETag */
	/* An upload from a file: the file no longer holds what was expected (it ended
	 * before its size, or its bytes are not those the Content-MD5 names), and the
	 * upload was stopped, or refused. */
	bool file_changed;
	unsigned attempts;
};

/* QB_ENOTFOUND when the object does not exist. */
int qb_s3_head_object(struct qb_s3 *s3, const char *bucket, const char *key,
		      struct qb_s3_result *res, struct qb_err *err);
int qb_s3_bucket_exists(struct qb_s3 *s3, const char *bucket, bool *exists, struct qb_err *err);
/* Creates bucket (in MINIO_REGION); a bucket that we already own is not an error. */
int qb_s3_create_bucket(struct qb_s3 *s3, const char *bucket, struct qb_err *err);
/* Deleting a missing object is not an error (S3 semantics). */
int qb_s3_delete_object(struct qb_s3 *s3, const char *bucket, const char *key, struct qb_err *err);

/* GET bucket/key into fd, written from offset 0 (truncated and rewritten on a retry).
 * The body must match Content-Length and, for a plain (non-multipart) ETag of an object
 * not encrypted with SSE-KMS or SSE-C, the MD5 computed while streaming. */
int qb_s3_get_file(struct qb_s3 *s3, const char *bucket, const char *key, int fd,
		   struct qb_s3_result *res, struct qb_err *err);
/* PUT n bytes of memory (Content-MD5 sent, so the server checks them). content_type may be NULL. */
int qb_s3_put_buffer(struct qb_s3 *s3, const char *bucket, const char *key, const void *p,
		     size_t n, const char *content_type, struct qb_s3_result *res,
		     struct qb_err *err);
/* PUT size bytes of fd from offset 0; above part_size, a multipart upload (parts one after
 * the other; use a pool for parallel parts).  md5hex, when known, is sent as Content-MD5
 * for a single PUT.  The MD5 of what was sent is compared with a plain ETag answer. */
int qb_s3_put_file(struct qb_s3 *s3, const char *bucket, const char *key, int fd,
		   uint64_t size, const char *content_type, const char *md5hex,
		   struct qb_s3_result *res, struct qb_err *err);

/* Multipart primitives.  *upload_id is the caller's to free. */
int qb_s3_mpu_create(struct qb_s3 *s3, const char *bucket, const char *key,
		     const char *content_type, char **upload_id, struct qb_err *err);
/* etags[i] is the ETag of part i + 1. */
int qb_s3_mpu_complete(struct qb_s3 *s3, const char *bucket, const char *key,
		       const char *upload_id, char *const *etags, unsigned nparts,
		       struct qb_s3_result *res, struct qb_err *err);
/* Best effort; the error is only for the log. */
int qb_s3_mpu_abort(struct qb_s3 *s3, const char *bucket, const char *key,
		    const char *upload_id, struct qb_err *err);
/* The part size to use for an object of size bytes: part_size, grown so that no more
 * than 10,000 parts are needed. */
uint64_t qb_s3_part_size(const struct qb_s3 *s3, uint64_t size);

/* ---- Parallel transfers (the curl multi interface, one thread) ---- */

struct qb_s3_pool;

/* Called exactly once for every transfer a pool accepted, from inside a qb_s3_pool_*
 * call of the same thread: rc QB_OK, or an error code with err filled (QB_ECANCELLED
 * when the pool was freed first); res holds what the last attempt learnt either way.
 * It may close the fd; it must not call qb_s3_pool_* functions.  res and err are
 * valid during the call only. */
typedef void (*qb_s3_done_fn)(void *ud, int rc, const struct qb_s3_result *res,
			      const struct qb_err *err);

/* parallel 0: the client's MINIO_PARALLEL. */
int qb_s3_pool_new(struct qb_s3_pool **out, struct qb_s3 *s3, unsigned parallel,
		   struct qb_err *err);
/* Cancels what is still queued or running (done gets QB_ECANCELLED), then frees. */
void qb_s3_pool_free(struct qb_s3_pool *pool);

/* As qb_s3_get_file, in the pool.  fd stays open and borrowed until done is called.
 * Blocks, running transfers, while the pool is full. */
int qb_s3_pool_get(struct qb_s3_pool *pool, const char *bucket, const char *key, int fd,
		   qb_s3_done_fn done, void *ud, struct qb_err *err);

struct qb_s3_put {
	const char *bucket;
	const char *key;
	int fd;                   /* borrowed until done */
	uint64_t offset;          /* bytes of fd to send: [offset, offset + length) */
	uint64_t length;
	const char *content_type; /* NULL: none (ignored for a part) */
	const char *md5hex;       /* NULL: not sent; else sent as Content-MD5 */
	const char *upload_id;    /* non-NULL: an UploadPart of this multipart upload */
	unsigned part;            /* part number, from 1, with upload_id */
};
int qb_s3_pool_put(struct qb_s3_pool *pool, const struct qb_s3_put *put,
		   qb_s3_done_fn done, void *ud, struct qb_err *err);
int qb_s3_pool_delete(struct qb_s3_pool *pool, const char *bucket, const char *key,
		      qb_s3_done_fn done, void *ud, struct qb_err *err);
/* As qb_s3_list_objects, with the pages fetched in the pool: the next page is asked for as
 * soon as the current one is parsed, and arrives while fn runs (fn may start transfers in
 * the same pool; they keep running while a page is on its way).  The first page is of 100
 * objects, the others of 1,000.  A page request takes a place in the pool like any
 * transfer.  When fn fails, the page on its way is left to the pool, which drops it when it
 * arrives or when the pool is freed. */
int qb_s3_pool_list_objects(struct qb_s3_pool *pool, const char *bucket, const char *prefix,
			    qb_s3_object_fn fn, void *ud, struct qb_err *err);

/* Run transfers until at least one finished (its done called) or timeout_ms passed. */
int qb_s3_pool_step(struct qb_s3_pool *pool, int timeout_ms, struct qb_err *err);
/* Run until no transfer is left. */
int qb_s3_pool_wait(struct qb_s3_pool *pool, struct qb_err *err);
/* Transfers queued or running. */
unsigned qb_s3_pool_pending(const struct qb_s3_pool *pool);
unsigned qb_s3_pool_parallel(const struct qb_s3_pool *pool);
/* Object bytes received and sent so far, failed attempts included (for progress; listing
 * pages are not counted). */
uint64_t qb_s3_pool_bytes(const struct qb_s3_pool *pool);

/* ---- Lower level, exposed for the tests ---- */

/* S3's URI encoding: A-Z a-z 0-9 - . _ ~ kept, every other byte as %XX (upper case);
 * '/' kept when keep_slash (object key paths). */
int qb_s3_uri_encode(struct qb_buf *out, const char *s, size_t n, bool keep_slash,
		     struct qb_err *err);

struct qb_sigv4_param {
	const char *name;       /* raw, not encoded */
	const char *value;      /* raw; "" for a bare sub-resource ("uploads") */
};

struct qb_sigv4_header {
	const char *name;       /* any case; trimmed and lower-cased for signing */
	const char *value;      /* runs of spaces are folded for signing */
};

struct qb_sigv4_req {
	const char *method;
	const char *path;       /* raw absolute path, "/bucket/key"; encoded once (S3 rules) */
	const struct qb_sigv4_param *params;
	size_t nparams;
	const struct qb_sigv4_header *headers;  /* every header to sign, host and x-amz-date too */
	size_t nheaders;
	const char *payload_hash;               /* hex SHA-256 or "UNSIGNED-PAYLOAD" */
	const char *amz_date;                   /* "20130524T000000Z" */
	const char *region;
	const char *service;                    /* "s3" */
	const char *access_key;
	const char *secret_key;
};

/* The canonical query string: parameters encoded, sorted by name then value, joined by '&'
 * (also what goes on the wire after '?'). */
int qb_sigv4_query(struct qb_buf *out, const struct qb_sigv4_param *params, size_t n,
		   struct qb_err *err);
/* Append the Authorization header value to auth; canonical, when not NULL, gets the
 * canonical request (for tests and debugging: it holds no secret). */
int qb_sigv4_sign(const struct qb_sigv4_req *r, struct qb_buf *auth, struct qb_buf *canonical,
		  struct qb_err *err);

/* XML answers (parsed with expat; DOCTYPE and entity declarations refused, depth and
 * text lengths bounded).  Each returns QB_EFORMAT for malformed or unexpected XML and
 * QB_EREMOTE when the document is an S3 <Error>. */
struct qb_s3_error {
	char code[64];
	char message[256];
	char request_id[64];
};
int qb_s3_parse_error(const char *xml, size_t n, struct qb_s3_error *out, struct qb_err *err);
int qb_s3_parse_list_buckets(const char *xml, size_t n, qb_s3_bucket_fn fn, void *ud,
			     struct qb_err *err);

struct s3_entry;
struct qb_s3_page {
	bool truncated;
	char *next_token;       /* NextContinuationToken, or NULL */
	unsigned count;         /* objects in the page */
	struct s3_entry *entries; /* the objects, for qb_s3_page_each (private) */
	bool url_encoded;       /* EncodingType url (private) */
};
/* A ListBucketResult (v2), parsed whole: truncated, next_token and count are known before
 * any object is handed out (the pooled listing asks for the next page then). */
int qb_s3_page_parse(const char *xml, size_t n, struct qb_s3_page *page, struct qb_err *err);
/* fn for each object of a parsed page, in document order (keys URL-decoded when the answer
 * says EncodingType url). */
int qb_s3_page_each(const struct qb_s3_page *page, qb_s3_object_fn fn, void *ud,
		    struct qb_err *err);
/* Both at once; page is released on error. */
int qb_s3_parse_list_objects(const char *xml, size_t n, qb_s3_object_fn fn, void *ud,
			     struct qb_s3_page *page, struct qb_err *err);
/* Frees what a parsed page holds (safe on a zeroed page). */
void qb_s3_page_release(struct qb_s3_page *page);
/* InitiateMultipartUploadResult: *upload_id is the caller's to free. */
int qb_s3_parse_initiate(const char *xml, size_t n, char **upload_id, struct qb_err *err);
/* CompleteMultipartUploadResult (which S3 may send as an <Error> with status 200). */
int qb_s3_parse_complete(const char *xml, size_t n, char *etag, size_t etag_len,
			 struct qb_s3_error *s3err, struct qb_err *err);

/* Decode %XX and '+' (space), as in S3 answers with EncodingType url. */
int qb_s3_url_decode(struct qb_buf *out, const char *s, size_t n, struct qb_err *err);
/* Strip the quotes of an ETag into out (len bytes); false if it does not fit. */
bool qb_s3_etag_unquote(const char *s, size_t n, char *out, size_t len);
/* True for a plain MD5 ETag (32 hex digits), the only kind a body's MD5 can be checked against. */
bool qb_s3_etag_is_md5(const char *etag);

#endif
