/*
 * server_int.h - what the files of the server module share (not installed).
 *
 * server.c   start and stop, libmicrohttpd's options, its log messages
 * listen.c   ADDR:PORT, loopback, the listening socket
 * routes.c   the table of endpoints, the access handler, the request log
 * body.c     the request body under its ceiling
 * auth.c     the bearer token, compared in constant time
 * respond.c  JSON answers with their headers
 * jobs.c     the backup job and the thread that runs it
 * busy.c     who holds the run lock, and the 409 answer
 * h_*.c      one file per endpoint family
 */
#ifndef QB_SERVER_INT_H
#define QB_SERVER_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>

#include <cJSON.h>
#include <microhttpd.h>

#include "qb/buf.h"
#include "qb/config.h"
#include "qb/error.h"
#include "qb/lock.h"
#include "qb/server.h"

#define SRV_TOKEN_MAC 32
#define SRV_DATE_MAX 20              /* "YYYY-MM-DD HH:MM:SS" */
#define SRV_JOB_ID_MAX 17            /* 16 hex digits */
#define SRV_STOPPING "the server is stopping: no backup is started"

enum srv_job_state { SRV_JOB_NONE, SRV_JOB_RUNNING, SRV_JOB_OK, SRV_JOB_FAILED };

/* A synchronous POST's slot, on its stack, filled by the job's thread. */
struct srv_waiter {
	bool done;
	int rc;
	bool refused;                /* the lock was taken: nothing ran */
	char *result;                /* the answer, the waiter's to free; NULL on no memory */
};

struct srv_job {
	char id[SRV_JOB_ID_MAX];
	char type[8];                /* "all", "db", "minio", "code" */
	unsigned types;              /* QB_RUN_* */
	bool explicit_type;
	enum srv_job_state state;
	time_t started, finished;
	char *result;                /* the POST's answer, NULL while running */
	int rc;                      /* qb_run's code */
	bool refused;                /* qb_run found the lock taken: nothing ran */
	struct srv_waiter *waiter;   /* NULL for an asynchronous job */
	struct qb_lock *lock;        /* taken before the job starts, freed by the job */
};

struct srv_jobs {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	const struct qb_config *cfg;
	bool notify;
	bool thread_live;            /* `thread` is to be joined */
	bool closing;                /* the server is stopping: no new job */
	pthread_t thread;
	struct srv_job job;          /* the running one, or the last */
	unsigned long seq;
};

struct qb_server {
	const struct qb_config *cfg;
	const char *dir;             /* BACKUP_DIR, borrowed from cfg */
	bool auth;                   /* a token is configured */
	unsigned char key[SRV_TOKEN_MAC];        /* random, for the constant-time compare */
	unsigned char token_mac[SRV_TOKEN_MAC];
	char addr[80];
	char origin[96];             /* "http://" addr, as a browser writes it */
	int listen_fd;
	struct MHD_Daemon *mhd;
	bool jobs_ready;
	struct srv_jobs jobs;
	atomic_int inflight;         /* requests between the first call and the log line */
};

struct srv_req {
	struct timespec t0;
	const struct srv_route *route;
	unsigned status;             /* 0 until an answer is queued */
	struct qb_buf body;
	bool too_big;
	size_t dropped;              /* bytes discarded past the ceiling */
	char method[24];             /* printable copies, for the log line */
	char path[160];
};

typedef enum MHD_Result (*srv_handler)(struct qb_server *s, struct MHD_Connection *c,
				       struct srv_req *r);

struct srv_route {
	const char *path;
	const char *method;
	bool auth;
	srv_handler fn;
};

/* listen.c */
struct srv_addr {
	struct sockaddr_storage ss;
	socklen_t len;
};
int srv_listen_parse(const char *text, struct srv_addr *a, int code, struct qb_err *err);
bool srv_is_loopback(const struct srv_addr *a);
void srv_addr_format(const struct srv_addr *a, char *buf, size_t len);
/* The origin of a page the server would serve: "http://127.0.0.1:9999", "http://[::1]". */
void srv_origin_format(const struct srv_addr *a, char *buf, size_t len);
int srv_listen_open(const struct srv_addr *a, const char *text, int *fd, struct qb_err *err);
/* The peer of a connection as text ("?" when unknown). */
void srv_peer_format(const struct sockaddr *sa, char *buf, size_t len);

/* routes.c: the callbacks given to libmicrohttpd. */
enum MHD_Result srv_access(void *cls, struct MHD_Connection *c, const char *url,
			   const char *method, const char *version, const char *data,
			   size_t *size, void **ctx);
void srv_completed(void *cls, struct MHD_Connection *c, void **ctx,
		   enum MHD_RequestTerminationCode toe);

/* body.c */
/* From the headers, before any byte of body: false when Content-Length is over the ceiling. */
bool srv_body_fits(struct MHD_Connection *c);
/* Keep what fits; past the ceiling, count and drop.  false: the client sends far too much. */
bool srv_body_feed(struct srv_req *r, const char *data, size_t n);

/* auth.c */
int srv_auth_init(struct qb_server *s, const char *token, struct qb_err *err);
bool srv_auth_ok(const struct qb_server *s, struct MHD_Connection *c);
/* With a token: true.  Without: whether Host (when sent) names loopback. */
bool srv_loopback_ok(const struct qb_server *s, struct MHD_Connection *c);
/* With a token: true.  Without: whether Origin, when sent, is s->origin. */
bool srv_origin_ok(const struct qb_server *s, struct MHD_Connection *c);

/* respond.c: each queues the answer, records its status in r, and frees what it is given. */
enum MHD_Result srv_send(struct MHD_Connection *c, struct srv_req *r, unsigned status,
			 char *json, const char *hname, const char *hvalue);
enum MHD_Result srv_send_doc(struct MHD_Connection *c, struct srv_req *r, unsigned status,
			     cJSON *doc);
enum MHD_Result srv_send_error(struct MHD_Connection *c, struct srv_req *r, unsigned status,
			       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
enum MHD_Result srv_send_error_hdr(struct MHD_Connection *c, struct srv_req *r, unsigned status,
				   const char *hname, const char *hvalue, const char *msg);
/* "YYYY-MM-DD HH:MM:SS" local time, or a JSON null for 0. */
cJSON *srv_date(time_t t);

/* jobs.c */
int srv_jobs_init(struct srv_jobs *j, const struct qb_config *cfg, bool notify);
/* Waits for a running job. */
void srv_jobs_release(struct srv_jobs *j);
/* Start a job in its own thread.  QB_ELOCKED (and *running filled) when one runs;
 * QB_ECANCELLED once srv_jobs_close has been called.
 * w: a synchronous caller's slot, then given to srv_job_wait. */
int srv_job_start(struct srv_jobs *j, unsigned types, const char *type, bool explicit_type,
		  struct srv_waiter *w, char id[SRV_JOB_ID_MAX], struct qb_lock_info *running,
		  struct qb_err *err);
void srv_job_wait(struct srv_jobs *j, struct srv_waiter *w);
/* Is a job running?  Fills *info (pid, type, start) when it is and info is not NULL. */
bool srv_job_running(struct srv_jobs *j, struct qb_lock_info *info);
/* No job starts from now on (the server is stopping); then block until none runs. */
void srv_jobs_close(struct srv_jobs *j);
/* Has srv_jobs_close been called? */
bool srv_jobs_closing(struct srv_jobs *j);
/* The /backup/status document; NULL before the first job (or on no memory: *oom). */
cJSON *srv_job_status(struct srv_jobs *j, bool *oom);

/* busy.c */
/* Does a run hold the lock (our job or another process)?  info filled when it does. */
bool srv_busy(struct qb_server *s, struct qb_lock_info *info);
enum MHD_Result srv_send_busy(struct MHD_Connection *c, struct srv_req *r,
			      const struct qb_lock_info *info);

/* h_health.c, h_backup.c, h_backups.c */
enum MHD_Result srv_h_health(struct qb_server *s, struct MHD_Connection *c, struct srv_req *r);
enum MHD_Result srv_h_backup(struct qb_server *s, struct MHD_Connection *c, struct srv_req *r);
enum MHD_Result srv_h_status(struct qb_server *s, struct MHD_Connection *c, struct srv_req *r);
enum MHD_Result srv_h_list(struct qb_server *s, struct MHD_Connection *c, struct srv_req *r);
enum MHD_Result srv_h_delete(struct qb_server *s, struct MHD_Connection *c, struct srv_req *r);

#endif
