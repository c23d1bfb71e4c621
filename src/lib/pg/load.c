/*
 * load.c - COPY data on a pool of worker connections.
 *
 * One COPY on one connection keeps one server process busy: the server
 * parses every row, and waits for the disk each time a WAL segment fills.
 * Several connections loading at once use the other cores and hide those
 * waits.  The reader queues pieces of whole lines (a bounded queue, so
 * memory stays flat); a free worker takes the next piece and adds it to the
 * COPY it has open for that block, or ends its COPY and opens one for the
 * new block.  A drain ends every COPY (each one commits: the scratch
 * database is dropped on any failure, so partial commits are harmless).
 *
 * Statements queued with loader_statement() (index builds) go to the next
 * free worker the same way, which ends its COPY first.
 *
 * Rules the caller keeps (restore.c): any other statement runs only after
 * loader_drain(); session statements are recorded with loader_session() so
 * that workers replay them before their next COPY or statement.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "load.h"
#include "pg_intern.h"
#include "qb/array.h"
#include "qb/log.h"

/* Queued and not yet taken by a worker: the scanner hands out about 1 MiB. */
#define QUEUE_MAX ((size_t)8 << 20)

/* Lines of a COPY block's data, or (b NULL) a statement to run. */
struct piece {
	struct piece *next;
	struct load_block *b;
	unsigned long line;
	size_t len;
	char data[];
};

struct worker {
	struct loader *l;
	pthread_t thread;
	bool started;
	PGconn *c;
	PGcancel *cancel;
	struct load_block *open;     /* the block whose COPY is in progress */
	size_t applied;              /* session statements already run here */
};

struct loader {
	const struct qb_config *cfg;
	char *db;
	pthread_mutex_t mu;
	pthread_cond_t work;         /* workers: a piece, a drain or the end */
	pthread_cond_t room;         /* the reader: space, idle workers or a failure */
	struct piece *head, *tail;
	size_t queued;
	bool draining, stopping;
	int busy;                    /* workers holding a piece or an open COPY */
	int lost;                    /* workers that could not connect */
	int rc;                      /* the first failure, with err */
	struct qb_err err;
	char **session;
	size_t nsession, session_cap;
	struct load_block **blocks;
	size_t nblocks, blocks_cap;
	int jobs;
	struct worker w[LOADER_JOBS_MAX];
};

/* Under l->mu. */
static void fail_locked(struct loader *l, int rc, const struct qb_err *e)
{
	if (!l->rc) {
		l->rc = rc;
		l->err = *e;
	}
	pthread_cond_broadcast(&l->room);
	pthread_cond_broadcast(&l->work);
}

/* End the open COPY: committed (abort false) or rolled back. */
static int copy_finish(struct worker *w, bool abort, struct qb_err *err)
{
	struct load_block *b = w->open;
	int64_t n;
	/* Tables load side by side here: a CHECK that reads another table may look
	 * before that table's rows are in. */
	int rc = pgc_copy_end(w->c, abort, b->line, w->l->jobs > 1 ? "(tables load side by side "
			      "here: if that CHECK calls a function that reads another table, "
			      "RESTORE_JOBS=1 loads them in the file's order)" : NULL, &n, err);

	w->open = NULL;
	if (!rc && !abort) {
		pthread_mutex_lock(&w->l->mu);
		b->rows += n;
		pthread_mutex_unlock(&w->l->mu);
	}
	return rc;
}

/* Session statements recorded since this worker last looked. */
static int replay_session(struct worker *w, struct qb_err *err)
{
	struct loader *l = w->l;
	int rc = QB_OK;

	for (; w->applied < l->nsession && !rc; w->applied++)
		rc = pgc_exec(w->c, l->session[w->applied], err);
	/* Before each statement: a trigger or an index expression of the script's
	 * may have changed how this connection reads the next one. */
	if (!rc)
		rc = pgc_check_lexing(w->c, 0, err);
	return rc;
}

static int copy_start(struct worker *w, struct load_block *b, struct qb_err *err)
{
	PGresult *r;
	int rc = replay_session(w, err);

	if (rc)
		return rc;
	r = PQexec(w->c, b->stmt);
	if (!r || PQresultStatus(r) != PGRES_COPY_IN) {
		rc = pgc_fail_line(w->c, r, err, b->line);
		PQclear(r);
		pgc_discard_results(w->c);
		return rc;
	}
	PQclear(r);
	w->open = b;
	return QB_OK;
}

static int run_statement(struct worker *w, const struct piece *p, struct qb_err *err)
{
	int rc = w->open ? copy_finish(w, false, err) : QB_OK;
	PGresult *r;

	if (!rc)
		rc = replay_session(w, err);
	if (rc)
		return rc;
	r = PQexec(w->c, p->data);
	if (!r || PQresultStatus(r) != PGRES_COMMAND_OK)
		rc = pgc_fail_line(w->c, r, err, p->line);
	PQclear(r);
	pgc_discard_results(w->c);
	return rc;
}

static int put(struct worker *w, const struct piece *p, struct qb_err *err)
{
	int rc = QB_OK;

	if (!p->b)
		return run_statement(w, p, err);
	if (w->open && w->open != p->b)
		rc = copy_finish(w, false, err);
	if (!rc && !w->open)
		rc = copy_start(w, p->b, err);
	if (!rc && PQputCopyData(w->c, p->data, (int)p->len) != 1) {
		/* The server refused a row and said why: that is the error to report. */
		unsigned long line = p->b->line;
		rc = copy_finish(w, false, err);
		if (!rc)
			rc = qb_err_set(err, QB_EDB, "line %lu: COPY data could not be sent", line);
	}
	return rc;
}

static bool connect_worker(struct worker *w, struct qb_err *err)
{
	struct loader *l = w->l;
	int rc = pgc_connect(l->cfg, l->db, &w->c, err);

	/* The swap's commit makes everything durable; see restore.c.  Index
	 * builds run side by side here, one core each: on a small server that
	 * beats each build's own parallel workers fighting for the same cores. */
	if (!rc)
		rc = pgc_exec(w->c, "SET synchronous_commit = off; SET max_parallel_maintenance_workers = 0", err);
	if (!rc)
		pgi_watch(w->c);
	pthread_mutex_lock(&l->mu);
	if (!rc) {
		w->cancel = PQgetCancel(w->c);
	} else if (++l->lost == l->jobs) {
		fail_locked(l, rc, err);
	} else {
		qb_log(QB_LOG_WARN, "one of the restore's data connections failed, going on with fewer: %s",
		       err->msg);
	}
	pthread_mutex_unlock(&l->mu);
	return rc == QB_OK;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct loader *l = w->l;
	struct qb_err e = { 0 };

	if (!connect_worker(w, &e))
		return NULL;
	pthread_mutex_lock(&l->mu);
	for (;;) {
		int rc;
		while (!l->head && !l->stopping && !(l->draining && w->open))
			pthread_cond_wait(&l->work, &l->mu);
		if (l->head) {
			struct piece *p = l->head;
			l->head = p->next;
			if (!l->head)
				l->tail = NULL;
			l->queued -= p->len;
			pthread_cond_signal(&l->room);
			if (l->rc || l->stopping) {
				free(p);  /* failed or stopped: nothing more is loaded */
				continue;
			}
			if (!w->open)
				l->busy++;
			pthread_mutex_unlock(&l->mu);
			rc = put(w, p, &e);
			free(p);
			pthread_mutex_lock(&l->mu);
			if (!w->open)
				l->busy--;
			if (rc)
				fail_locked(l, rc, &e);
			pthread_cond_signal(&l->room);
			continue;
		}
		if (w->open) {
			bool abort = l->stopping || l->rc;
			pthread_mutex_unlock(&l->mu);
			rc = copy_finish(w, abort, &e);
			pthread_mutex_lock(&l->mu);
			l->busy--;
			if (rc)
				fail_locked(l, rc, &e);
			pthread_cond_signal(&l->room);
			continue;
		}
		break;  /* stopping, nothing open */
	}
	pthread_mutex_unlock(&l->mu);
	return NULL;
}

int loader_new(struct loader **out, const struct qb_config *cfg, const char *db, int jobs,
	       struct qb_err *err)
{
	struct loader *l = calloc(1, sizeof(*l));

	*out = NULL;
	if (!l || !(l->db = strdup(db))) {
		free(l);
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	}
	l->cfg = cfg;
	l->jobs = jobs < 1 ? 1 : jobs > LOADER_JOBS_MAX ? LOADER_JOBS_MAX : jobs;
	pthread_mutex_init(&l->mu, NULL);
	pthread_cond_init(&l->work, NULL);
	pthread_cond_init(&l->room, NULL);
	for (int i = 0; i < l->jobs; i++) {
		int e;
		l->w[i].l = l;
		if ((e = pthread_create(&l->w[i].thread, NULL, worker_main, &l->w[i])) != 0) {
			if (i)
				qb_log(QB_LOG_WARN, "unable to start a thread for %d of the restore's %d data "
				       "connections, going on with fewer: %s", l->jobs - i, l->jobs, strerror(e));
			pthread_mutex_lock(&l->mu);   /* the started ones read it */
			l->jobs = i;  /* the ones started are all there is */
			if (i && l->lost == i) {      /* and those have all failed to connect */
				struct qb_err none = { 0 };
				qb_err_set(&none, QB_EDB, "none of the restore's data connections opened");
				fail_locked(l, QB_EDB, &none);
			}
			pthread_mutex_unlock(&l->mu);
			break;
		}
		l->w[i].started = true;
	}
	if (l->jobs == 0) {
		loader_free(l);
		return qb_err_set(err, QB_ENOMEM, "unable to start a thread for the restore's data");
	}
	*out = l;
	return QB_OK;
}

int loader_session(struct loader *l, const char *stmt, struct qb_err *err)
{
	if (qb_array_grow(&l->session, &l->session_cap, l->nsession + 1, sizeof(*l->session), 16))
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	if (!(l->session[l->nsession] = strdup(stmt)))
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	l->nsession++;
	return QB_OK;
}

struct load_block *loader_block(struct loader *l, const char *stmt, unsigned long line)
{
	struct load_block *b;

	if (qb_array_grow(&l->blocks, &l->blocks_cap, l->nblocks + 1, sizeof(*l->blocks), 64))
		return NULL;
	b = calloc(1, sizeof(*b));
	if (!b || !(b->stmt = strdup(stmt))) {
		free(b);
		return NULL;
	}
	b->line = line;
	l->blocks[l->nblocks++] = b;
	return b;
}

static int enqueue(struct loader *l, struct load_block *b, unsigned long line, const char *p, size_t n,
		   struct qb_err *err)
{
	struct piece *pc = malloc(sizeof(*pc) + n + 1);
	int rc;

	if (!pc)
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	pc->next = NULL;
	pc->b = b;
	pc->line = line;
	pc->len = n;
	memcpy(pc->data, p, n);
	pc->data[n] = '\0';
	pthread_mutex_lock(&l->mu);
	while (l->queued >= QUEUE_MAX && !l->rc)
		pthread_cond_wait(&l->room, &l->mu);
	rc = l->rc;
	if (rc) {
		*err = l->err;
		free(pc);
	} else {
		if (l->tail)
			l->tail->next = pc;
		else
			l->head = pc;
		l->tail = pc;
		l->queued += n;
		pthread_cond_signal(&l->work);
	}
	pthread_mutex_unlock(&l->mu);
	return rc;
}

int loader_data(struct loader *l, struct load_block *b, const char *p, size_t n, struct qb_err *err)
{
	return enqueue(l, b, b->line, p, n, err);
}

int loader_statement(struct loader *l, const char *stmt, unsigned long line, struct qb_err *err)
{
	return enqueue(l, NULL, line, stmt, strlen(stmt), err);
}

int loader_drain(struct loader *l, struct qb_err *err)
{
	int rc;

	pthread_mutex_lock(&l->mu);
	l->draining = true;
	pthread_cond_broadcast(&l->work);
	while ((l->head || l->busy) && !l->rc)
		pthread_cond_wait(&l->room, &l->mu);
	l->draining = false;
	rc = l->rc;
	if (rc)
		*err = l->err;
	pthread_mutex_unlock(&l->mu);
	return rc;
}

int loader_jobs(struct loader *l)
{
	int n;

	pthread_mutex_lock(&l->mu);
	n = l->jobs - l->lost;
	pthread_mutex_unlock(&l->mu);
	return n;
}

size_t loader_blocks(const struct loader *l, struct load_block *const **out)
{
	*out = l->blocks;
	return l->nblocks;
}

void loader_free(struct loader *l)
{
	bool busy;

	if (!l)
		return;
	pthread_mutex_lock(&l->mu);
	l->stopping = true;
	busy = l->busy > 0 || l->head;
	pthread_cond_broadcast(&l->work);
	pthread_mutex_unlock(&l->mu);
	/* Stopped in the middle (a failure): a worker may be waiting on the
	 * server; cancelling makes its COPY fail at once. */
	for (int i = 0; busy && i < l->jobs; i++) {
		char buf[256];
		pthread_mutex_lock(&l->mu);
		PGcancel *cn = l->w[i].cancel;
		pthread_mutex_unlock(&l->mu);
		if (cn)
			PQcancel(cn, buf, sizeof(buf));
	}
	for (int i = 0; i < l->jobs; i++) {
		if (l->w[i].started)
			pthread_join(l->w[i].thread, NULL);
		if (l->w[i].cancel)
			PQfreeCancel(l->w[i].cancel);
		pgi_unwatch(l->w[i].c);
		if (l->w[i].c)
			PQfinish(l->w[i].c);
	}
	while (l->head) {
		struct piece *p = l->head;
		l->head = p->next;
		free(p);
	}
	for (size_t i = 0; i < l->nsession; i++)
		free(l->session[i]);
	free(l->session);
	for (size_t i = 0; i < l->nblocks; i++) {
		free(l->blocks[i]->stmt);
		free(l->blocks[i]);
	}
	free(l->blocks);
	pthread_cond_destroy(&l->room);
	pthread_cond_destroy(&l->work);
	pthread_mutex_destroy(&l->mu);
	free(l->db);
	free(l);
}
