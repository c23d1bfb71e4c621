/*
 * backup.c - qb_minio_backup: one snapshot of the buckets.
 *
 * Three streams move together, none held whole: the bucket listing (a page
 * at a time), the previous snapshot's index (read as far as the current
 * key), and the new index.  Each listed object is linked or queued for
 * download at once; downloads finish out of order, so entries wait in a
 * bounded window, in listing order, until everything before them is done,
 * and only then are written to the index spool.  When the window is full
 * the listing waits for downloads: memory is bounded by the window and the
 * pool, not by the bucket.
 *
 * The index is written to a spool first and copied into .qbackup-index at
 * the end, because a key that turns out to be the folder of later keys
 * ("clash" before "clash/inner.pdf") moves after its line may be written:
 * the few such moves are kept in memory and applied during the copy.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mirror/mirror_int.h"
#include "qb/array.h"
#include "qb/log.h"
#include "qb/s3.h"

#define WINDOW_MAX 8192
#define SPOOL_NAME QB_TMP_PREFIX "index-spool"

enum ent_state { ENT_PENDING, ENT_DONE, ENT_GONE, ENT_FAILED };

struct mirror;

struct ent {
	struct mirror *m;
	char *key;
	uint64_t size;
	char *etag;
	char *last_modified;
	char *content_type;
	char *md5;                /* of the bytes stored */
	char *path;               /* escaped path, or NULL for <bucket>/<key> */
	int fd;
	enum ent_state state;
};

struct reloc {
	char *bucket;
	char *key;
	char *path;
};

struct mirror {
	struct qb_s3 *s3;
	struct qb_s3_pool *pool;
	struct qb_minio_stats *st;
	struct mx_progress prog;
	struct mx_tree tree;
	char *tmp_path;
	int root_fd;
	const char *bucket;
	char *last_key;
	bool order_warned;

	int prev_fd;
	struct mx_reader *prev;
	bool prev_got;
	struct mx_entry pe;

	int spool_fd;
	struct mx_writer spool;

	struct ent **win;
	size_t head, count;

	struct reloc *relocs;
	size_t nreloc, capreloc;

	int fail_rc;
	struct qb_err fail;
};

static void ent_free(struct ent *e)
{
	if (!e)
		return;
	if (e->fd >= 0)
		close(e->fd);
	free(e->key);
	free(e->etag);
	free(e->last_modified);
	free(e->content_type);
	free(e->md5);
	free(e->path);
	free(e);
}

static void set_fail(struct mirror *m, int rc, const struct qb_err *err)
{
	if (m->fail_rc || rc == QB_OK)
		return;
	m->fail_rc = rc;
	if (err)
		m->fail = *err;
	else
		qb_err_set(&m->fail, rc, "%s", qb_code_text(rc));
}

static void warn_escaped(struct mirror *m, const char *key, const char *path, const char *why)
{
	qb_log(QB_LOG_WARN, "object key '%s' in bucket '%s' %s: stored as '%s'", key, m->bucket,
	       why, path);
	m->st->warnings++;
	m->st->escaped++;
}

/* Write the finished entries at the head of the window to the spool. */
static void flush(struct mirror *m)
{
	while (m->count && !m->fail_rc) {
		struct ent *e = m->win[m->head];
		struct qb_err err = { 0 };

		if (e->state == ENT_PENDING || e->state == ENT_FAILED)
			return;
		if (e->state == ENT_DONE) {
			struct mx_entry line = {
				m->bucket, e->key, e->size, e->etag, e->last_modified,
				e->content_type ? e->content_type : "", e->md5 ? e->md5 : "",
				e->path ? e->path : "",
			};
			int rc = mx_writer_line(&m->spool, &line, &err);
			if (rc) {
				set_fail(m, rc, &err);
				return;
			}
			m->st->objects++;
		}
		ent_free(e);
		m->win[m->head] = NULL;
		m->head = (m->head + 1) % WINDOW_MAX;
		m->count--;
	}
}

static void progress(struct mirror *m, const char *current, bool final)
{
	mx_progress(&m->prog, m->st->fetched + m->st->linked, 0,
		    m->st->bytes - m->st->bytes_fetched + qb_s3_pool_bytes(m->pool), 0, current,
		    final);
}

/* The object's Last-Modified, which the next run checks before linking the file. */
static void set_mtime(int fd, const char *iso)
{
	struct timespec ts[2] = { { 0, 0 }, { 0, 0 } };

	if (!mx_iso_time(iso, &ts[0].tv_sec))
		return;
	ts[1].tv_sec = ts[0].tv_sec;
	futimens(fd, ts);
}

static int replace(char **dst, const char *src)
{
	char *s = qb_strdup(src ? src : "");

	if (!s)
		return QB_ENOMEM;
	free(*dst);
	*dst = s;
	return QB_OK;
}

static void on_fetched(void *ud, int rc, const struct qb_s3_result *res, const struct qb_err *err)
{
	struct ent *e = ud;
	struct mirror *m = e->m;
	struct qb_err fail = { 0 };

	if (rc == QB_OK) {
		if (res->etag[0] ? strcmp(res->etag, e->etag) != 0 : res->size != e->size) {
			/* Replaced since the listing (a new ETag; without one, all a new size
			 * can say): the index describes what we have. */
			qb_log(QB_LOG_DEBUG, "'%s/%s' changed during the backup", m->bucket,
			       e->key);
			e->size = res->size;
			if (res->etag[0] && replace(&e->etag, res->etag))
				rc = QB_ENOMEM;
		} else if (res->size != e->size) {
			/* Same object, other size: the transfer is wrong, not the object. */
			qb_err_set(&fail, QB_EREMOTE, "object '%s' in bucket '%s' came back with "
				   "%llu bytes where the listing says %llu, under the same ETag",
				   e->key, m->bucket, (unsigned long long)res->size,
				   (unsigned long long)e->size);
			rc = QB_EREMOTE;
		}
		if (!rc && (replace(&e->content_type, res->content_type) ||
			    replace(&e->md5, res->md5)))
			rc = QB_ENOMEM;
		set_mtime(e->fd, e->last_modified);
		/* Start writing it to disk now, without waiting: the one syncfs at the
		 * end then finds little left to do instead of the whole snapshot. */
		sync_file_range(e->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
		close(e->fd);
		e->fd = -1;
		if (rc) {
			e->state = ENT_FAILED;
			set_fail(m, rc, fail.msg[0] ? &fail : NULL);
			return;
		}
		m->st->fetched++;
		m->st->bytes_fetched += e->size;
		m->st->bytes += e->size;
		e->state = ENT_DONE;
	} else if (rc == QB_ENOTFOUND) {
		close(e->fd);
		e->fd = -1;
		mx_tree_unlink(&m->tree, e->key, e->path);
		qb_log(QB_LOG_WARN, "object '%s' in bucket '%s' was deleted during the backup",
		       e->key, m->bucket);
		m->st->warnings++;
		e->state = ENT_GONE;
	} else {
		close(e->fd);
		e->fd = -1;
		e->state = ENT_FAILED;
		if (rc != QB_ECANCELLED)
			set_fail(m, rc, err);
	}
	/* flush() may free e. */
	progress(m, e->key, false);
	flush(m);
}

/* A key clashed with a later key's folder and moved to its escaped path. */
static int on_moved(void *ud, const char *key, const char *path, struct qb_err *err)
{
	struct mirror *m = ud;
	struct reloc *r;

	warn_escaped(m, key, path, "is also the folder of other keys");
	for (size_t i = m->count; i-- > 0;) {
		struct ent *e = m->win[(m->head + i) % WINDOW_MAX];
		if (!strcmp(e->key, key)) {
			return replace(&e->path, path) ? qb_err_set(err, QB_ENOMEM, "out of memory")
						       : QB_OK;
		}
	}
	if (qb_array_grow(&m->relocs, &m->capreloc, m->nreloc + 1, sizeof(*m->relocs), 16))
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	r = &m->relocs[m->nreloc];
	r->bucket = qb_strdup(m->bucket);
	r->key = qb_strdup(key);
	r->path = qb_strdup(path);
	m->nreloc++;
	if (!r->bucket || !r->key || !r->path)
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	return QB_OK;
}

/* Wait for room in the window. */
static int window_push(struct mirror *m, struct ent *e, struct qb_err *err)
{
	while (m->count == WINDOW_MAX && !m->fail_rc) {
		int rc = qb_s3_pool_step(m->pool, 1000, err);
		if (rc)
			return rc;
	}
	if (m->fail_rc) {
		*err = m->fail;
		return m->fail_rc;
	}
	m->win[(m->head + m->count) % WINDOW_MAX] = e;
	m->count++;
	return QB_OK;
}

/* Advance the previous index to (bucket, key); the matching entry or NULL. */
static const struct mx_entry *prev_find(struct mirror *m, const char *key, struct qb_err *err,
					int *rc)
{
	*rc = QB_OK;
	while (m->prev && m->prev_got) {
		int c = mx_cmp(m->pe.bucket, m->pe.key, m->bucket, key);
		if (c == 0)
			return &m->pe;
		if (c > 0)
			return NULL;
		if ((*rc = mx_reader_next(m->prev, &m->pe, &m->prev_got, err))) {
			/* A damaged previous index costs downloads, not the backup. */
			qb_log(QB_LOG_WARN, "ignoring the rest of the previous index: %s",
			       err->msg);
			qb_err_clear(err);
			*rc = QB_OK;
			m->prev_got = false;
		}
	}
	return NULL;
}

static int try_link(struct mirror *m, struct ent *e, const struct mx_entry *pe, bool *linked,
		    struct qb_err *err)
{
	char *src;
	bool clashed, have_mtime;
	time_t mtime;
	int rc;

	*linked = false;
	if (pe->size != e->size || !e->etag[0] || strcmp(pe->etag, e->etag))
		return QB_OK;
	if (pe->path[0]) {
		if (!mx_escaped_path_ok(m->bucket, pe->path))
			return QB_OK;
		src = qb_strdup(pe->path);
	} else {
		if (!qb_minio_key_is_safe(pe->key))
			return QB_OK;
		src = qb_asprintf("%s/%s", m->bucket, pe->key);
	}
	if (!src)
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	have_mtime = mx_iso_time(pe->last_modified, &mtime);
	rc = mx_tree_link(&m->tree, e->key, &e->path, &clashed, m->prev_fd, src, e->size,
			  have_mtime ? &mtime : NULL, linked, err);
	free(src);
	if (!rc && clashed)
		warn_escaped(m, e->key, e->path, "is also the folder of other keys");
	if (!rc && *linked &&
	    (replace(&e->content_type, pe->content_type) || replace(&e->md5, pe->md5)))
		rc = qb_err_set(err, QB_ENOMEM, "out of memory");
	return rc;
}

static int on_object(void *ud, const struct qb_s3_object *o, struct qb_err *err)
{
	struct mirror *m = ud;
	const struct mx_entry *pe;
	struct ent *e;
	bool linked = false, clashed = false;
	int rc;

	if (m->fail_rc) {
		*err = m->fail;
		return m->fail_rc;
	}
	if (m->last_key && strcmp(o->key, m->last_key) <= 0 && !m->order_warned) {
		qb_log(QB_LOG_WARN, "bucket '%s' is not listed in key order: fewer objects will "
		       "be linked from the previous snapshot", m->bucket);
		m->order_warned = true;
	}
	if (replace(&m->last_key, o->key))
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	e = calloc(1, sizeof(*e));
	if (!e)
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	e->m = m;
	e->fd = -1;
	e->size = o->size;
	e->key = qb_strdup(o->key);
	e->etag = qb_strdup(o->etag);
	e->last_modified = qb_strdup(o->last_modified);
	if (!e->key || !e->etag || !e->last_modified) {
		ent_free(e);
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	}
	if (!qb_minio_key_is_safe(o->key)) {
		e->path = mx_escaped_path(m->bucket, o->key);
		if (!e->path) {
			ent_free(e);
			return qb_err_set(err, QB_ENOMEM, "out of memory");
		}
		warn_escaped(m, o->key, e->path, "is not a safe relative path");
	}
	if ((rc = window_push(m, e, err))) {
		ent_free(e);
		return rc;
	}
	/* From here the window owns e. */
	pe = prev_find(m, o->key, err, &rc);
	if (!rc && pe)
		rc = try_link(m, e, pe, &linked, err);
	if (rc) {
		e->state = ENT_FAILED;
		return rc;
	}
	if (linked) {
		e->state = ENT_DONE;
		m->st->linked++;
		m->st->bytes += e->size;
		progress(m, e->key, false);
		flush(m);
		return m->fail_rc ? (*err = m->fail, m->fail_rc) : QB_OK;
	}
	rc = mx_tree_create(&m->tree, e->key, &e->path, &clashed, &e->fd, err);
	if (!rc && clashed)
		warn_escaped(m, e->key, e->path, "is also the folder of other keys");
	if (!rc)
		rc = qb_s3_pool_get(m->pool, m->bucket, e->key, e->fd, on_fetched, e, err);
	if (rc) {
		e->state = ENT_FAILED;
		return rc;
	}
	if (m->fail_rc) {
		*err = m->fail;
		return m->fail_rc;
	}
	return QB_OK;
}

static int do_bucket(struct mirror *m, const char *bucket, struct qb_err *err)
{
	int rc;

	m->bucket = bucket;
	free(m->last_key);
	m->last_key = NULL;
	m->order_warned = false;
	rc = mx_tree_bucket(&m->tree, bucket, err);
	if (!rc)
		rc = qb_s3_pool_list_objects(m->pool, bucket, NULL, on_object, m, err);
	if (!rc)
		rc = qb_s3_pool_wait(m->pool, err);
	if (!rc && m->fail_rc) {
		*err = m->fail;
		rc = m->fail_rc;
	}
	if (!rc) {
		flush(m);
		if (m->fail_rc) {
			*err = m->fail;
			rc = m->fail_rc;
		} else if (m->count) {
			rc = qb_err_set(err, QB_EINTERNAL, "objects of bucket '%s' left unfinished",
					bucket);
		}
	}
	if (!rc) {
		m->st->buckets++;
		qb_log(QB_LOG_DEBUG, "bucket '%s' mirrored", bucket);
	}
	return rc;
}

static int cmp_reloc(const void *a, const void *b)
{
	const struct reloc *x = a, *y = b;

	return mx_cmp(x->bucket, x->key, y->bucket, y->key);
}

/* Copy the spool into .qbackup-index, with the moved keys' new paths. */
static int write_index(struct mirror *m, struct qb_err *err)
{
	struct qb_afile af;
	struct mx_writer w;
	struct mx_reader *r = NULL;
	bool got = true;
	int rc;

	if ((rc = mx_writer_flush(&m->spool, err)))
		return rc;
	if (m->nreloc > 1)
		qsort(m->relocs, m->nreloc, sizeof(*m->relocs), cmp_reloc);
	if ((rc = qb_afile_open(&af, m->tmp_path, QB_MINIO_INDEX, err)))
		return rc;
	mx_writer_init(&w, &af, -1);
	rc = mx_writer_header(&w, err);
	if (!rc)
		rc = mx_reader_open(&r, m->root_fd, SPOOL_NAME, false, err);
	while (!rc) {
		struct mx_entry e;
		struct reloc key, *hit;

		rc = mx_reader_next(r, &e, &got, err);
		if (rc || !got)
			break;
		key.bucket = (char *)(uintptr_t)e.bucket;
		key.key = (char *)(uintptr_t)e.key;
		hit = m->nreloc ? bsearch(&key, m->relocs, m->nreloc, sizeof(*m->relocs), cmp_reloc)
				: NULL;
		if (hit)
			e.path = hit->path;
		rc = mx_writer_line(&w, &e, err);
	}
	if (!rc)
		rc = mx_writer_flush(&w, err);
	if (!rc)
		rc = qb_afile_commit(&af, err);
	qb_afile_abort(&af);
	mx_writer_release(&w);
	mx_reader_free(r);
	return rc;
}

static int open_previous(struct mirror *m, const char *backup_dir, const char *name,
			 struct qb_err *err)
{
	char *prev = NULL;
	struct qb_err e2 = { 0 };
	int rc = mx_find_previous(backup_dir, name, &prev, err);

	if (rc || !prev)
		return rc;
	m->prev_fd = open(prev, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (m->prev_fd >= 0 && !mx_reader_open(&m->prev, m->prev_fd, QB_MINIO_INDEX, true, &e2) &&
	    !mx_reader_next(m->prev, &m->pe, &m->prev_got, &e2)) {
		qb_log(QB_LOG_INFO, "linking unchanged objects from '%s'", prev);
	} else {
		qb_log(QB_LOG_WARN, "not linking from '%s': %s", prev,
		       e2.msg[0] ? e2.msg : "unable to open it");
		mx_reader_free(m->prev);
		m->prev = NULL;
		m->prev_got = false;
	}
	free(prev);
	return QB_OK;
}

/* A server that lists no object, where the previous snapshot has some, is far more
 * likely a wrong endpoint, bucket list or key, or a wiped store, than documents
 * all deleted on purpose.  Recorded, such snapshots would each night push a
 * real one out of BACKUP_KEEP: the run fails instead, and rotation waits. */
static int refuse_empty(const struct qb_config *cfg, const char *backup_dir, const char *name,
			struct qb_err *err)
{
	char *prev = NULL;
	uint64_t objects = 0, bytes = 0;
	struct qb_err e2 = { 0 };
	bool allow = false;
	int rc = qb_config_get_bool(cfg, "MINIO_ALLOW_EMPTY", false, &allow, err);

	if (rc || allow || (rc = mx_find_previous(backup_dir, name, &prev, err)) || !prev)
		return rc;
	if (!qb_minio_snapshot_info(prev, &objects, &bytes, &e2) && objects > 0) {
		const char *base = strrchr(prev, '/');
		rc = qb_err_set(err, QB_EREMOTE, "the server lists no object, where the previous "
				"snapshot %s holds %llu: no empty snapshot is kept (check MINIO_ENDPOINT, "
				"MINIO_BUCKETS and the access key's rights; if the documents were "
				"deleted on purpose, MINIO_ALLOW_EMPTY=true keeps it)",
				base ? base + 1 : prev, (unsigned long long)objects);
	}
	free(prev);
	return rc;
}

static int publish(struct mirror *m, const char *backup_dir, const char *final,
		   struct qb_err *err)
{
	/* One syncfs instead of an fsync per object file. */
	if (syncfs(m->root_fd) < 0)
		return qb_err_sys(err, QB_EIO, errno, "unable to sync '%s'", m->tmp_path);
	if (renameat2(AT_FDCWD, m->tmp_path, AT_FDCWD, final, RENAME_NOREPLACE) < 0) {
		if (errno == EEXIST || errno == ENOTEMPTY)
			return qb_err_set(err, QB_EIO, "'%s' already exists", final);
		if (errno != EINVAL && errno != ENOSYS)
			return qb_err_sys(err, QB_EIO, errno, "unable to rename '%s'", m->tmp_path);
		if (access(final, F_OK) == 0)
			return qb_err_set(err, QB_EIO, "'%s' already exists", final);
		if (rename(m->tmp_path, final) < 0)
			return qb_err_sys(err, QB_EIO, errno, "unable to rename '%s'", m->tmp_path);
	}
	return qb_fsync_dir(backup_dir, err);
}

int qb_minio_backup(const struct qb_config *cfg, const char *backup_dir, const char *stamp,
		    const struct qb_progress_cb *progress_cb, struct qb_minio_stats *st,
		    struct qb_err *err)
{
	struct mirror m;
	struct qb_s3_conf conf;
	struct tm tm;
	char name[64];
	char *final = NULL, **buckets = NULL;
	unsigned nb = 0;
	double t0 = mx_now();
	int rc;

	memset(st, 0, sizeof(*st));
	memset(&m, 0, sizeof(m));
	memset(&conf, 0, sizeof(conf));
	m.st = st;
	m.root_fd = m.prev_fd = m.spool_fd = -1;
	mx_tree_init(&m.tree, -1);
	mx_progress_init(&m.prog, progress_cb, "minio");
	if (strlen(stamp) != 15 || !qb_stamp_parse(stamp, &tm))
		return qb_err_set(err, QB_EARG, "bad snapshot stamp '%s'", stamp);
	snprintf(name, sizeof(name), QB_MINIO_PREFIX "%s", stamp);
	final = qb_path_join(backup_dir, name);
	m.win = calloc(WINDOW_MAX, sizeof(*m.win));
	if (!final || !m.win) {
		rc = qb_err_set(err, QB_ENOMEM, "out of memory");
		goto out;
	}
	if (access(final, F_OK) == 0) {
		rc = qb_err_set(err, QB_EIO, "'%s' already exists", final);
		goto out;
	}
	if ((rc = qb_s3_conf_load(&conf, cfg, err)) || (rc = qb_s3_new(&m.s3, &conf, err)) ||
	    (rc = qb_s3_pool_new(&m.pool, m.s3, 0, err)) ||
	    (rc = mx_buckets(cfg, m.s3, &buckets, &nb, err)) ||
	    (rc = qb_mkdir_p(backup_dir, 0700, err)))
		goto out;
	m.tmp_path = qb_tmp_name(backup_dir, name);
	if (!m.tmp_path) {
		rc = qb_err_set(err, QB_ENOMEM, "out of memory");
		goto out;
	}
	if (mkdir(m.tmp_path, 0700) < 0) {
		rc = qb_err_sys(err, QB_EIO, errno, "unable to create folder '%s'", m.tmp_path);
		free(m.tmp_path);
		m.tmp_path = NULL;
		goto out;
	}
	m.root_fd = open(m.tmp_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (m.root_fd < 0) {
		rc = qb_err_sys(err, QB_EIO, errno, "unable to open folder '%s'", m.tmp_path);
		goto out;
	}
	mx_tree_init(&m.tree, m.root_fd);
	m.tree.moved = on_moved;
	m.tree.ud = &m;
	m.spool_fd = openat(m.root_fd, SPOOL_NAME, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (m.spool_fd < 0) {
		rc = qb_err_sys(err, QB_EIO, errno, "unable to create an index spool");
		goto out;
	}
	mx_writer_init(&m.spool, NULL, m.spool_fd);
	if ((rc = open_previous(&m, backup_dir, name, err)))
		goto out;
	qb_log(QB_LOG_INFO, "mirroring %u bucket%s from %s", nb, nb == 1 ? "" : "s", conf.url);
	for (unsigned i = 0; i < nb && !rc; i++)
		rc = do_bucket(&m, buckets[i], err);
	mx_tree_end_bucket(&m.tree);
	if (!rc && st->objects == 0)
		rc = refuse_empty(cfg, backup_dir, name, err);
	if (!rc)
		rc = write_index(&m, err);
	if (!rc && unlinkat(m.root_fd, SPOOL_NAME, 0) < 0)
		rc = qb_err_sys(err, QB_EIO, errno, "unable to remove the index spool");
	if (!rc)
		rc = publish(&m, backup_dir, final, err);
	if (!rc) {
		free(m.tmp_path);
		m.tmp_path = NULL;
	}
out:
	/* Cancelling runs the callbacks, which close their files: before the window goes. */
	qb_s3_pool_free(m.pool);
	m.pool = NULL;
	mx_tree_end_bucket(&m.tree);
	for (size_t i = 0; m.win && i < m.count; i++)
		ent_free(m.win[(m.head + i) % WINDOW_MAX]);
	free(m.win);
	for (size_t i = 0; i < m.nreloc; i++) {
		free(m.relocs[i].bucket);
		free(m.relocs[i].key);
		free(m.relocs[i].path);
	}
	free(m.relocs);
	mx_writer_release(&m.spool);
	if (m.spool_fd >= 0)
		close(m.spool_fd);
	mx_reader_free(m.prev);
	if (m.prev_fd >= 0)
		close(m.prev_fd);
	if (m.root_fd >= 0)
		close(m.root_fd);
	if (m.tmp_path) {
		struct qb_err e2 = { 0 };
		if (qb_remove_tree(m.tmp_path, &e2))
			qb_log(QB_LOG_WARN, "unable to remove '%s': %s", m.tmp_path, e2.msg);
		free(m.tmp_path);
	}
	free(m.last_key);
	mx_free_names(buckets, nb);
	qb_s3_free(m.s3);
	qb_s3_conf_release(&conf);
	st->seconds = mx_now() - t0;
	if (!rc) {
		mx_progress(&m.prog, st->fetched + st->linked, st->objects, st->bytes, st->bytes,
			    NULL, true);
		/* The front end prints its own summary from st. */
		qb_log(QB_LOG_DEBUG, "minio snapshot '%s': %llu objects in %u buckets, "
		       "%llu fetched (%llu bytes), %llu linked, %llu bytes in all, %.1f s", final,
		       (unsigned long long)st->objects, st->buckets,
		       (unsigned long long)st->fetched, (unsigned long long)st->bytes_fetched,
		       (unsigned long long)st->linked, (unsigned long long)st->bytes, st->seconds);
	}
	free(final);
	return rc;
}
