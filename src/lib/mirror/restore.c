/*
 * restore.c - qb_minio_restore: a snapshot folder back into its buckets.
 *
 * For each bucket the local objects (from the index, or from a sorted walk
 * of an `mc mirror` folder) are merged with the server's listing, both in
 * key order: a local object missing or different on the server is
 * uploaded, an identical one skipped, a server object absent locally
 * deleted when asked.  Uploads and deletions run in the pool; files above
 * the part size go up as multipart uploads whose parts share the pool.
 *
 * With delete_extra, both streams must really be in key order, or an
 * object could be deleted that a later line restores concurrently: the
 * order is checked and a violation stops the restore.
 *
 * A part of a snapshot ("bucket" or "bucket/prefix") is the same merge on
 * fewer keys: the local stream skips the other keys, the server is listed
 * under the prefix only, and the other buckets are not touched.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mirror/mirror_int.h"
#include "qb/hash.h"
#include "qb/log.h"
#include "qb/s3.h"

struct local {
	bool got;
	char *key;
	char *path;               /* relative to the snapshot root */
	uint64_t size;
	char *etag;               /* "" when unknown (no index) */
	char *md5;                /* "" when unknown */
	char *content_type;
};

struct rest {
	struct qb_s3 *s3;
	struct qb_s3_pool *pool;
	struct qb_minio_stats *st;
	struct mx_progress prog;
	int root_fd;
	bool delete_extra;
	char *only_bucket;        /* NULL: the whole snapshot */
	const char *only_prefix;  /* keys of only_bucket that start with it ("": all) */
	uint64_t total_objects, total_bytes;
	const char *bucket;

	struct mx_reader *idx;    /* with an index */
	bool idx_got;
	struct mx_entry ie;
	struct mx_walk *walk;     /* without one */

	struct local cur;
	char *last_local, *last_server;

	int fail_rc;
	struct qb_err fail;
	bool local_bad;           /* the last error is the current object's file's */
	struct qb_err first_damaged;
};

struct upload {
	struct rest *r;
	int fd;
	char *key;
	uint64_t size;
	unsigned pending;         /* multipart: parts still in the pool */
	bool abandoned;
	char **etags;
	unsigned nparts;
};

static void set_fail(struct rest *r, int rc, const struct qb_err *err)
{
	if (r->fail_rc || !rc)
		return;
	r->fail_rc = rc;
	if (err)
		r->fail = *err;
	else
		qb_err_set(&r->fail, rc, "%s", qb_code_text(rc));
}

/* A damaged file in the snapshot costs its own object, not the restore: at night,
 * with the documents gone, every other object back is worth more than a stop at
 * the first bad file.  It is logged, counted and reported at the end.  Any other
 * error (the server's, the disk's) stops the restore. */
static int spare(struct rest *r, int rc, const struct qb_err *why, bool local)
{
	if (!rc || !local)
		return rc;
	qb_log(QB_LOG_ERROR, "not restored: %s", why->msg);
	if (!r->st->damaged++)
		r->first_damaged = *why;
	return QB_OK;
}

/* The next line of the snapshot's index.  A damaged line (its fields; not a
 * read error) leaves one object out, unknown, and the others are restored;
 * counted (count) as damaged on the restoring pass.  Under --delete it stops
 * everything instead: an object whose line cannot be read would be deleted. */
static int index_next(struct rest *r, struct mx_reader *rd, struct mx_entry *e, bool *got,
		      bool count, struct qb_err *err)
{
	for (;;) {
		int rc = mx_reader_next(rd, e, got, err);

		if (!rc || !mx_reader_line_bad(rd))
			return rc ? qb_err_prefix(err, "%s of the snapshot", QB_MINIO_INDEX) : rc;
		if (r->delete_extra)
			return qb_err_prefix(err, "%s of the snapshot is damaged: nothing was changed, since "
					     "with --delete the object of that line would be deleted; "
					     "without --delete every other object is restored",
					     QB_MINIO_INDEX);
		if (count) {
			qb_err_prefix(err, "%s of the snapshot: the object of a damaged line", QB_MINIO_INDEX);
			spare(r, QB_ECORRUPT, err, true);
		}
		qb_err_clear(err);
	}
}

/* Whether the object (bucket, key) is in the part being restored. */
static bool wanted(const struct rest *r, const char *bucket, const char *key)
{
	return !r->only_bucket || (!strcmp(bucket, r->only_bucket) &&
				   !strncmp(key, r->only_prefix, strlen(r->only_prefix)));
}

static int failed(struct rest *r, struct qb_err *err)
{
	if (r->fail_rc && err)
		*err = r->fail;
	return r->fail_rc;
}

static void progress(struct rest *r, const char *current, bool final)
{
	mx_progress(&r->prog, r->st->uploaded + r->st->skipped, r->total_objects,
		    qb_s3_pool_bytes(r->pool), r->total_bytes, current, final);
}

static void local_clear(struct local *l)
{
	free(l->key);
	free(l->path);
	free(l->etag);
	free(l->md5);
	free(l->content_type);
	memset(l, 0, sizeof(*l));
}

static int check_order(struct rest *r, char **last, const char *key, const char *what,
		       struct qb_err *err)
{
	char *k;

	if (*last && strcmp(key, *last) <= 0) {
		if (r->delete_extra)
			return qb_err_set(err, QB_EFORMAT, "the %s of bucket '%s' is not in key "
					  "order ('%s' after '%s'): stopping, with no further "
					  "deletion", what, r->bucket, key, *last);
		qb_log(QB_LOG_DEBUG, "the %s of bucket '%s' is not in key order", what, r->bucket);
	}
	if (!(k = qb_strdup(key)))
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	free(*last);
	*last = k;
	return QB_OK;
}

/* A Content-Type from the index goes into a request header: no control bytes. */
static const char *header_safe(const char *type, const char *key)
{
	for (const unsigned char *p = (const unsigned char *)type; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return mx_guess_type(key);
	return type[0] ? type : mx_guess_type(key);
}

/* The next local object of the current bucket into r->cur. */
static int local_next(struct rest *r, struct qb_err *err)
{
	struct local *l = &r->cur;
	int rc;

	local_clear(l);
	if (r->idx) {
		const struct mx_entry *e = &r->ie;
		/* Lines of buckets skipped (not valid names, or not asked for) come before
		 * this one's; keys outside the part asked for are passed over. */
		while (r->idx_got && (strcmp(e->bucket, r->bucket) < 0 ||
				      (!strcmp(e->bucket, r->bucket) && !wanted(r, e->bucket, e->key))))
			if ((rc = index_next(r, r->idx, &r->ie, &r->idx_got, true, err)))
				return rc;
		if (!r->idx_got || strcmp(e->bucket, r->bucket))
			return QB_OK;
		if (e->path[0] ? !mx_escaped_path_ok(e->bucket, e->path)
			       : !qb_minio_key_is_safe(e->key))
			return qb_err_set(err, QB_ECORRUPT,
					  "the index names a bad path for '%s/%s'", e->bucket,
					  e->key);
		l->key = qb_strdup(e->key);
		l->path = e->path[0] ? qb_strdup(e->path) : qb_asprintf("%s/%s", e->bucket, e->key);
		l->etag = qb_strdup(e->etag);
		l->md5 = qb_strdup(qb_s3_etag_is_md5(e->md5) ? e->md5 : "");
		l->content_type = qb_strdup(header_safe(e->content_type, e->key));
		l->size = e->size;
		if (!l->key || !l->path || !l->etag || !l->md5 || !l->content_type)
			return qb_err_set(err, QB_ENOMEM, "out of memory");
		l->got = true;
		if ((rc = index_next(r, r->idx, &r->ie, &r->idx_got, true, err)))
			return rc;
	} else if (r->walk) {
		const char *rel;
		bool got;
		do
			if ((rc = mx_walk_next(r->walk, &rel, &l->size, NULL, &got, err)) || !got)
				return rc;
		while (!wanted(r, r->bucket, rel));
		l->key = qb_strdup(rel);
		l->path = qb_asprintf("%s/%s", r->bucket, rel);
		l->etag = qb_strdup("");
		l->md5 = qb_strdup("");
		l->content_type = qb_strdup(mx_guess_type(rel));
		if (!l->key || !l->path || !l->etag || !l->md5 || !l->content_type)
			return qb_err_set(err, QB_ENOMEM, "out of memory");
		l->got = true;
	}
	if (l->got) {
		r->st->objects++;
		r->st->bytes += l->size;
		return check_order(r, &r->last_local, l->key, "snapshot", err);
	}
	return QB_OK;
}

static int open_local(struct rest *r, const struct local *l, int *fd, struct qb_err *err)
{
	struct stat st;
	bool reg;

	/* O_NONBLOCK: a FIFO planted in the snapshot must not hang the restore;
	 * it changes nothing for a regular file. */
	*fd = qb_open_nofollow(r->root_fd, l->path, O_RDONLY | O_NONBLOCK, 0);
	if (*fd < 0) {
		int e = errno;
		/* Missing, a symlink or a socket in its place, or not ours to read: this
		 * object's file.  Out of descriptors, an I/O error: not this object's. */
		r->local_bad = e == ENOENT || e == ENOTDIR || e == ELOOP || e == ENXIO ||
			       e == EACCES || e == EPERM;
		return qb_err_sys(err, r->local_bad ? QB_ECORRUPT : QB_EIO, e,
				  "unable to open '%s' of the snapshot", l->path);
	}
	reg = fstat(*fd, &st) == 0 && S_ISREG(st.st_mode);
	if (!reg || (uint64_t)st.st_size != l->size) {
		close(*fd);
		*fd = -1;
		r->local_bad = true;
		if (!reg)
			return qb_err_set(err, QB_ECORRUPT, "'%s' of the snapshot is not a regular "
					  "file", l->path);
		return qb_err_set(err, QB_ECORRUPT, "'%s' of the snapshot is not the %llu bytes "
				  "%s", l->path, (unsigned long long)l->size,
				  r->idx ? "the index says" : "it had when listed");
	}
	return QB_OK;
}

static int file_md5(struct rest *r, const struct local *l, char *hex, struct qb_err *err)
{
	struct qb_hash *h = qb_hash_new(QB_MD5);
	char *buf = malloc(1 << 20);
	int fd = -1, rc = !h || !buf ? qb_err_set(err, QB_ENOMEM, "out of memory")
				     : open_local(r, l, &fd, err);

	while (!rc) {
		ssize_t n = read(fd, buf, 1 << 20);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			rc = qb_err_sys(err, QB_EIO, errno, "unable to read '%s'", l->path);
		if (n <= 0)
			break;
		qb_hash_update(h, buf, (size_t)n);
	}
	if (!rc)
		qb_hash_final_hex(h, hex);
	if (fd >= 0)
		close(fd);
	qb_hash_free(h);
	free(buf);
	return rc;
}

/* The file against the MD5 the index recorded at backup time (none: nothing to check). */
static int check_md5(struct rest *r, const struct local *l, struct qb_err *err)
{
	char md5[QB_HASH_HEX_MAX];
	int rc;

	if (!l->md5[0])
		return QB_OK;
	if ((rc = file_md5(r, l, md5, err)))
		return rc;
	if (strcasecmp(md5, l->md5)) {
		r->local_bad = true;
		return qb_err_set(err, QB_ECORRUPT, "'%s' of the snapshot does not match the MD5 "
				  "its index recorded: it changed on disk since the backup, and "
				  "object '%s' in bucket '%s' is not restored from it", l->path,
				  l->key, r->bucket);
	}
	return QB_OK;
}

/* Same size and the same MD5 (from the index, or computed) as the server's object. */
static int identical(struct rest *r, const struct local *l, const struct qb_s3_object *o,
		     bool *same, struct qb_err *err)
{
	char md5[QB_HASH_HEX_MAX];
	int rc;

	*same = false;
	if (o->size != l->size)
		return QB_OK;
	if (l->etag[0] && !strcmp(l->etag, o->etag)) {
		*same = true;
		return QB_OK;
	}
	if (!qb_s3_etag_is_md5(o->etag))
		return QB_OK;
	if (l->md5[0]) {
		*same = !strcasecmp(l->md5, o->etag);
		return QB_OK;
	}
	if ((rc = file_md5(r, l, md5, err)))
		return rc;
	*same = !strcasecmp(md5, o->etag);
	return QB_OK;
}

static void on_put(void *ud, int rc, const struct qb_s3_result *res, const struct qb_err *err)
{
	struct upload *u = ud;
	struct rest *r = u->r;

	(void)res;
	close(u->fd);
	if (rc == QB_OK) {
		r->st->uploaded++;
		r->st->bytes_uploaded += u->size;
	} else if (rc != QB_ECANCELLED) {
		/* A file that shrank, or no longer matches its Content-MD5: stopped. */
		set_fail(r, spare(r, rc, err, res->file_changed), err);
	}
	progress(r, u->key, false);
	free(u->key);
	free(u);
}

struct part_ctx {
	struct upload *u;
	unsigned part;
};

/* A multipart upload's parts point at it: it goes when its last part has answered and
 * its owner has let go (abandoned). */
static void upload_drop(struct upload *u)
{
	if (u->pending || !u->abandoned)
		return;
	close(u->fd);
	for (unsigned i = 0; i < u->nparts; i++)
		free(u->etags[i]);
	free(u->etags);
	free(u->key);
	free(u);
}

static void on_part_done(void *ud, int rc, const struct qb_s3_result *res,
			 const struct qb_err *err)
{
	struct part_ctx *p = ud;
	struct upload *u = p->u;
	struct qb_err e2 = { 0 };

	u->pending--;
	if (rc == QB_OK && !res->etag[0])
		rc = qb_err_set(&e2, QB_EREMOTE, "no ETag for part %u of '%s/%s'", p->part,
				u->r->bucket, u->key);
	else if (rc == QB_OK && !(u->etags[p->part - 1] = qb_strdup(res->etag)))
		rc = qb_err_set(&e2, QB_ENOMEM, "out of memory");
	if (rc && rc != QB_ECANCELLED)
		set_fail(u->r, rc, err ? err : &e2);
	if (!u->abandoned)
		progress(u->r, u->key, false);
	free(p);
	upload_drop(u);
}

/* Takes fd over. */
static int upload_multipart(struct rest *r, const struct local *l, int fd, struct qb_err *err)
{
	uint64_t ps = qb_s3_part_size(r->s3, l->size);
	struct upload *u = calloc(1, sizeof(*u));
	char *id = NULL;
	struct qb_s3_result res;
	int rc = QB_OK;

	if (u) {
		u->r = r;
		u->fd = fd;
		u->size = l->size;
		u->nparts = (unsigned)((l->size + ps - 1) / ps);
		u->key = qb_strdup(l->key);
		u->etags = calloc(u->nparts, sizeof(*u->etags));
	}
	if (!u || !u->key || !u->etags) {
		if (u) {
			u->abandoned = true;
			upload_drop(u);
		} else {
			close(fd);
		}
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	}
	rc = qb_s3_mpu_create(r->s3, r->bucket, l->key, l->content_type, &id, err);
	for (unsigned i = 0; i < u->nparts && !rc && !r->fail_rc; i++) {
		struct part_ctx *p = malloc(sizeof(*p));
		struct qb_s3_put put = { .bucket = r->bucket, .key = l->key, .fd = fd,
					 .offset = (uint64_t)i * ps, .upload_id = id,
					 .part = i + 1 };

		put.length = l->size - put.offset < ps ? l->size - put.offset : ps;
		if (!p) {
			rc = qb_err_set(err, QB_ENOMEM, "out of memory");
			break;
		}
		p->u = u;
		p->part = i + 1;
		u->pending++;
		if ((rc = qb_s3_pool_put(r->pool, &put, on_part_done, p, err))) {
			u->pending--;
			free(p);
		}
	}
	while (u->pending && !rc)
		rc = qb_s3_pool_step(r->pool, 1000, err);
	if (!rc && r->fail_rc)
		rc = failed(r, err);
	if (!rc)
		rc = qb_s3_mpu_complete(r->s3, r->bucket, l->key, id, u->etags, u->nparts, &res,
					err);
	if (rc && id) {
		struct qb_err e2 = { 0 };
		if (qb_s3_mpu_abort(r->s3, r->bucket, l->key, id, &e2))
			qb_log(QB_LOG_WARN, "%s", e2.msg);
	}
	if (!rc) {
		r->st->uploaded++;
		r->st->bytes_uploaded += l->size;
	}
	free(id);
	u->abandoned = true;
	upload_drop(u);
	return rc;
}

static int upload(struct rest *r, const struct local *l, struct qb_err *err)
{
	struct upload *u;
	bool multipart;
	int fd, rc;

	if ((rc = open_local(r, l, &fd, err)))
		return rc;
	multipart = l->size > qb_s3_conf_of(r->s3)->part_size;
	/* The Content-MD5 check, made while the body is sent, covers neither a whole
	 * upload in parts nor an empty body (nothing passes through it): the file is
	 * checked first. */
	if ((multipart || l->size == 0) && (rc = check_md5(r, l, err))) {
		close(fd);
		return rc;
	}
	if (multipart)
		return upload_multipart(r, l, fd, err);
	u = calloc(1, sizeof(*u));
	if (!u || !(u->key = qb_strdup(l->key))) {
		free(u);
		close(fd);
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	}
	u->r = r;
	u->fd = fd;
	u->size = l->size;
	{
		/* The MD5 recorded at backup time goes as Content-MD5: a file that changed on
		 * disk since is refused. */
		struct qb_s3_put put = { .bucket = r->bucket, .key = l->key, .fd = fd, .offset = 0,
					 .length = l->size, .content_type = l->content_type,
					 .md5hex = l->md5[0] ? l->md5 : NULL };
		rc = qb_s3_pool_put(r->pool, &put, on_put, u, err);
	}
	if (rc) {
		close(fd);
		free(u->key);
		free(u);
	}
	return rc;
}

static void on_deleted(void *ud, int rc, const struct qb_s3_result *res, const struct qb_err *err)
{
	struct rest *r = ud;

	(void)res;
	if (rc == QB_OK)
		r->st->deleted++;
	else if (rc != QB_ECANCELLED)
		set_fail(r, rc, err);
}

/* Send the current local object up (unless identical to o) and move to the next. */
static int settle_local(struct rest *r, const struct qb_s3_object *o, struct qb_err *err)
{
	bool same = false;
	int rc;

	r->local_bad = false;
	rc = o ? identical(r, &r->cur, o, &same, err) : QB_OK;

	if (!rc && same) {
		r->st->skipped++;
		progress(r, r->cur.key, false);
	} else if (!rc) {
		rc = upload(r, &r->cur, err);
	}
	rc = spare(r, rc, err, r->local_bad);
	if (!rc)
		rc = local_next(r, err);
	return rc ? rc : failed(r, err);
}

static int on_server(void *ud, const struct qb_s3_object *o, struct qb_err *err)
{
	struct rest *r = ud;
	int rc = failed(r, err);

	/* A server that ignored the prefix: what is outside the part is not ours to touch. */
	if (!rc && !wanted(r, r->bucket, o->key))
		return QB_OK;
	if (!rc)
		rc = check_order(r, &r->last_server, o->key, "listing", err);
	while (!rc && r->cur.got && strcmp(r->cur.key, o->key) < 0)
		rc = settle_local(r, NULL, err);
	if (rc)
		return rc;
	if (r->cur.got && !strcmp(r->cur.key, o->key))
		return settle_local(r, o, err);
	if (r->delete_extra) {
		qb_log(QB_LOG_DEBUG, "deleting '%s/%s': not in the snapshot", r->bucket, o->key);
		rc = qb_s3_pool_delete(r->pool, r->bucket, o->key, on_deleted, r, err);
	}
	return rc ? rc : failed(r, err);
}

static int restore_bucket(struct rest *r, const char *bucket, struct qb_err *err)
{
	bool exists = false;
	int rc;

	r->bucket = bucket;
	free(r->last_local);
	free(r->last_server);
	r->last_local = r->last_server = NULL;
	rc = qb_s3_bucket_exists(r->s3, bucket, &exists, err);
	if (!rc && !exists) {
		rc = qb_s3_create_bucket(r->s3, bucket, err);
		if (!rc) {
			qb_log(QB_LOG_INFO, "created bucket '%s'", bucket);
			r->st->created++;
		}
	}
	if (!rc && !r->idx) {
		struct stat st;
		if (fstatat(r->root_fd, bucket, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISDIR(st.st_mode))
			rc = mx_walk_open(&r->walk, r->root_fd, bucket, err);
	}
	if (!rc)
		rc = local_next(r, err);
	if (!rc)
		rc = qb_s3_pool_list_objects(r->pool, bucket, r->only_prefix, on_server, r, err);
	while (!rc && r->cur.got)
		rc = settle_local(r, NULL, err);
	if (!rc)
		rc = qb_s3_pool_wait(r->pool, err);
	if (!rc)
		rc = failed(r, err);
	mx_walk_free(r->walk);
	r->walk = NULL;
	local_clear(&r->cur);
	if (!rc)
		r->st->buckets++;
	return rc;
}

/* Bucket names: folders, and the buckets of the index (which may have no folder). */
static int gather(struct rest *r, char ***names, unsigned *n, struct qb_err *err)
{
	char **v = NULL;
	unsigned cnt = 0;
	int rc = mx_list_bucket_dirs(r->root_fd, &v, &cnt, err);

	if (rc)
		return rc;
	if (r->idx) {
		struct mx_reader *pre = NULL;
		struct mx_entry e;
		bool got = true;
		char *last = NULL;

		rc = mx_reader_open(&pre, r->root_fd, QB_MINIO_INDEX, true, err);
		while (!rc) {
			rc = index_next(r, pre, &e, &got, false, err);
			if (rc || !got)
				break;
			if (wanted(r, e.bucket, e.key)) {
				r->total_objects++;
				r->total_bytes += e.size;
			}
			if (last && !strcmp(last, e.bucket))
				continue;
			if (last && strcmp(last, e.bucket) > 0) {
				rc = qb_err_set(err, QB_ECORRUPT,
						"the index is not sorted by bucket");
				break;
			}
			free(last);
			last = qb_strdup(e.bucket);
			bool known = false;
			for (unsigned i = 0; i < cnt && !known; i++)
				known = !strcmp(v[i], e.bucket);
			if (!known) {
				char **nv = realloc(v, (cnt + 1) * sizeof(*nv));
				if (!nv || !last || !(nv[cnt] = qb_strdup(e.bucket))) {
					v = nv ? nv : v;
					rc = qb_err_set(err, QB_ENOMEM, "out of memory");
					break;
				}
				v = nv;
				cnt++;
			}
		}
		free(last);
		mx_reader_free(pre);
	}
	if (rc) {
		mx_free_names(v, cnt);
		return rc;
	}
	/* Sorted, as the index is: one reader then serves every bucket in turn. */
	for (unsigned i = 1; i < cnt; i++)
		for (unsigned j = i; j > 0 && strcmp(v[j - 1], v[j]) > 0; j--) {
			char *t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	*names = v;
	*n = cnt;
	return QB_OK;
}

/* "bucket" or "bucket/prefix" into r.  A prefix is a plain start of keys, as in S3. */
static int set_part(struct rest *r, const char *only, struct qb_err *err)
{
	const char *slash = strchr(only, '/');

	r->only_bucket = slash ? qb_strndup(only, (size_t)(slash - only)) : qb_strdup(only);
	r->only_prefix = slash ? slash + 1 : "";
	if (!r->only_bucket)
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	if (!mx_bucket_name_ok(r->only_bucket))
		return qb_err_set(err, QB_EARG, "'%s' does not start with a bucket name (BUCKET or "
				  "BUCKET/PREFIX)", only);
	return QB_OK;
}

/* The part asked for must be a bucket of the snapshot and hold an object: a typo would
 * otherwise restore nothing, and with delete_extra empty that prefix on the server. */
static int check_part(struct rest *r, char **buckets, unsigned nb, const char *dir,
		      struct qb_err *err)
{
	struct mx_walk *w = NULL;
	bool known = false;
	int rc = QB_OK;

	for (unsigned i = 0; i < nb && !known; i++)
		known = !strcmp(buckets[i], r->only_bucket);
	if (!known)
		return qb_err_set(err, QB_ENOTFOUND, "'%s' holds no bucket '%s'", dir,
				  r->only_bucket);
	if (!r->idx) {
		/* Without an index gather() counted nothing: count the part's files. */
		rc = mx_walk_open(&w, r->root_fd, r->only_bucket, err);
		while (!rc) {
			const char *rel;
			uint64_t size;
			bool got;
			if ((rc = mx_walk_next(w, &rel, &size, NULL, &got, err)) || !got)
				break;
			if (wanted(r, r->only_bucket, rel)) {
				r->total_objects++;
				r->total_bytes += size;
			}
		}
		mx_walk_free(w);
	}
	if (!rc && !r->total_objects)
		rc = qb_err_set(err, QB_ENOTFOUND, "'%s' holds no object under '%s/%s'", dir,
				r->only_bucket, r->only_prefix);
	return rc;
}

static char *resolve(const struct qb_config *cfg, const char *dir)
{
	struct stat st;

	if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
		return qb_strdup(dir);
	if (!strchr(dir, '/') && strcmp(dir, ".") && strcmp(dir, "..")) {
		const char *base = qb_config_get(cfg, "BACKUP_DIR", QB_DEFAULT_BACKUP_DIR);
		char *p = qb_path_join(base, dir);
		if (p && stat(p, &st) == 0 && S_ISDIR(st.st_mode))
			return p;
		free(p);
	}
	return NULL;
}

/* A folder without an index inside a snapshot (minio_X/documents): its folders
 * would be taken for buckets and its keys cut short.  How many levels up the
 * snapshot is, or 0. */
static int inside_snapshot(int root_fd)
{
	char up[3 * 16 + sizeof(QB_MINIO_INDEX)];

	for (int level = 1; level <= 16; level++) {
		memcpy(up + 3 * (level - 1), "../", 3);
		memcpy(up + 3 * level, QB_MINIO_INDEX, sizeof(QB_MINIO_INDEX));
		if (faccessat(root_fd, up, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
			return level;
	}
	return 0;
}

int qb_minio_restore(const struct qb_config *cfg, const char *snapshot_dir, bool delete_extra,
		     const struct qb_progress_cb *progress_cb, struct qb_minio_stats *st,
		     struct qb_err *err)
{
	return qb_minio_restore_part(cfg, snapshot_dir, NULL, delete_extra, progress_cb, st, err);
}

int qb_minio_restore_part(const struct qb_config *cfg, const char *snapshot_dir,
			  const char *only, bool delete_extra,
			  const struct qb_progress_cb *progress_cb, struct qb_minio_stats *st,
			  struct qb_err *err)
{
	struct rest r;
	struct qb_s3_conf conf;
	char *dir = NULL, **buckets = NULL;
	unsigned nb = 0;
	double t0 = mx_now();
	int rc, up;

	memset(st, 0, sizeof(*st));
	memset(&r, 0, sizeof(r));
	memset(&conf, 0, sizeof(conf));
	r.st = st;
	r.root_fd = -1;
	r.delete_extra = delete_extra;
	mx_progress_init(&r.prog, progress_cb, "restore");
	if (only && (rc = set_part(&r, only, err)))
		goto out;
	dir = resolve(cfg, snapshot_dir);
	if (!dir) {
		rc = qb_err_set(err, QB_ENOTFOUND, "no snapshot folder '%s'", snapshot_dir);
		goto out;
	}
	r.root_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (r.root_fd < 0) {
		rc = qb_err_sys(err, QB_EIO, errno, "unable to open '%s'", dir);
		goto out;
	}
	rc = mx_reader_open(&r.idx, r.root_fd, QB_MINIO_INDEX, true, err);
	if (rc == QB_ENOTFOUND && (up = inside_snapshot(r.root_fd)) > 0) {
		rc = qb_err_set(err, QB_EARG, "'%s' is a folder inside a snapshot (%d level%s up): "
				"restore the snapshot folder itself, which holds one folder per "
				"bucket; here each folder would be taken for a bucket", dir, up,
				up == 1 ? "" : "s");
		goto out;
	}
	if (rc == QB_ENOTFOUND) {
		qb_err_clear(err);
		qb_log(QB_LOG_INFO, "'%s' has no index: restoring its files as keys", dir);
		rc = QB_OK;
	}
	if (!rc)
		rc = gather(&r, &buckets, &nb, err);
	if (!rc && r.only_bucket)
		rc = check_part(&r, buckets, nb, dir, err);
	if (!rc && r.idx)
		rc = index_next(&r, r.idx, &r.ie, &r.idx_got, true, err);
	if (rc)
		goto out;
	if ((rc = qb_s3_conf_load(&conf, cfg, err)) || (rc = qb_s3_new(&r.s3, &conf, err)) ||
	    (rc = qb_s3_pool_new(&r.pool, r.s3, 0, err)))
		goto out;
	qb_log(QB_LOG_INFO, "restoring '%s'%s%s%s to %s%s", dir, only ? " (only '" : "",
	       only ? only : "", only ? "')" : "", conf.url,
	       delete_extra ? ", deleting objects not in the snapshot" : "");
	for (unsigned i = 0; i < nb && !rc; i++) {
		if (r.only_bucket && strcmp(buckets[i], r.only_bucket))
			continue;
		if (!mx_bucket_name_ok(buckets[i])) {
			qb_log(QB_LOG_WARN, "skipping folder '%s': not a bucket name", buckets[i]);
			st->warnings++;
			continue;
		}
		rc = restore_bucket(&r, buckets[i], err);
		if (rc)
			qb_err_prefix(err, "restoring bucket '%s'", buckets[i]);
	}
out:
	qb_s3_pool_free(r.pool);
	local_clear(&r.cur);
	mx_walk_free(r.walk);
	mx_reader_free(r.idx);
	free(r.last_local);
	free(r.last_server);
	free(r.only_bucket);
	if (r.root_fd >= 0)
		close(r.root_fd);
	mx_free_names(buckets, nb);
	qb_s3_free(r.s3);
	qb_s3_conf_release(&conf);
	st->seconds = mx_now() - t0;
	/* For the front ends, "fetched" is what moved: here, what was uploaded. */
	st->fetched = st->uploaded;
	st->bytes_fetched = st->bytes_uploaded;
	st->finished = !rc;
	if (st->finished) {
		mx_progress(&r.prog, st->uploaded + st->skipped, st->objects, st->bytes_uploaded,
			    st->bytes, NULL, true);
		qb_log(QB_LOG_DEBUG, "restored '%s': %llu objects in %u buckets, %llu uploaded "
		       "(%llu bytes), %llu already there, %llu deleted, %llu damaged, %.1f s", dir,
		       (unsigned long long)st->objects, st->buckets,
		       (unsigned long long)st->uploaded, (unsigned long long)st->bytes_uploaded,
		       (unsigned long long)st->skipped, (unsigned long long)st->deleted,
		       (unsigned long long)st->damaged, st->seconds);
	}
	if (st->finished && st->damaged) {
		*err = r.first_damaged;
		qb_err_prefix(err, "%llu object%s not restored, %s in the snapshot damaged or "
			      "missing (every other object is restored); the first",
			      (unsigned long long)st->damaged, st->damaged == 1 ? "" : "s",
			      st->damaged == 1 ? "its file" : "their files");
		rc = QB_ECORRUPT;
	}
	free(dir);
	return rc;
}
