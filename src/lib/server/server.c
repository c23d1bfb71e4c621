/*
 * server.c - start and stop (see server.h).
 *
 * A thread per connection, at most QB_SERVER_CONN_MAX of them, each
 * dropped after QB_SERVER_TIMEOUT idle seconds: a synchronous POST /backup
 * waits in its own thread while /health keeps answering, and slow or
 * silent clients cannot hold the server for long.
 *
 * Stopping: a new connection is refused, a running backup is waited for,
 * requests in progress get a few seconds to receive their answers, then the
 * threads stop.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "qb/fsutil.h"
#include "qb/log.h"
#include "qb/run.h"
#include "server_int.h"

#define DRAIN_MS 5000

/* libmicrohttpd's own messages, as debug lines; never one that could quote a credential. */
static void mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	if (strcasestr(msg, "authorization") || strcasestr(msg, "bearer"))
		return;
	qb_log(QB_LOG_DEBUG, "http: %s", msg);
}

static void release(struct qb_server *s)
{
	if (s->jobs_ready)
		srv_jobs_release(&s->jobs);
	explicit_bzero(s->token_mac, sizeof(s->token_mac));
	explicit_bzero(s->key, sizeof(s->key));
	free(s);
}

static int start_daemon(struct qb_server *s, const struct srv_addr *a, struct qb_err *err)
{
	int fd = s->listen_fd;
	unsigned flags = MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD |
			 MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ITC | MHD_USE_ERROR_LOG;

	if (a->ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* The logger first: libmicrohttpd says so on stderr otherwise. */
	s->mhd = MHD_start_daemon(flags, 0, NULL, NULL, srv_access, s,
				  MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
				  MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned)QB_SERVER_CONN_MAX,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)QB_SERVER_TIMEOUT,
				  MHD_OPTION_NOTIFY_COMPLETED, srv_completed, s,
				  MHD_OPTION_STRICT_FOR_CLIENT, 1,
				  MHD_OPTION_END);
	/* From here the socket is libmicrohttpd's: it closes it when it fails (and at stop). */
	s->listen_fd = -1;
	if (!s->mhd)
		return qb_err_set(err, QB_EIO, "unable to start the HTTP server on %s", s->addr);
	return QB_OK;
}

int qb_server_start(struct qb_server **out, const struct qb_config *cfg, const char *listen,
		    struct qb_err *err)
{
	const char *text = listen ? listen :
			   qb_config_get(cfg, "BACKUP_SERVER_LISTEN", QB_SERVER_DEFAULT_LISTEN);
	struct qb_server *s;
	struct srv_addr a;
	bool notify = false;
	int rc;

	*out = NULL;
	rc = srv_listen_parse(text, &a, listen ? QB_EARG : QB_ECONFIG, err);
	if (!rc)
		rc = qb_config_get_bool(cfg, "BACKUP_SERVER_NOTIFY", false, &notify, err);
	if (rc)
		return rc;
	s = calloc(1, sizeof(*s));
	if (!s)
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	s->cfg = cfg;
	s->dir = qb_backup_dir(cfg);
	s->listen_fd = -1;
	atomic_init(&s->inflight, 0);
	srv_addr_format(&a, s->addr, sizeof(s->addr));
	srv_origin_format(&a, s->origin, sizeof(s->origin));
	rc = srv_auth_init(s, qb_config_get(cfg, "BACKUP_SERVER_TOKEN", NULL), err);
	if (!rc && !s->auth && !srv_is_loopback(&a))
		rc = qb_err_set(err, QB_EREFUSED, "refusing to listen on %s without "
				"BACKUP_SERVER_TOKEN: anyone who reaches it could start and delete "
				"backups; set BACKUP_SERVER_TOKEN, or listen on a loopback address "
				"(127.0.0.1, [::1])", s->addr);
	/* The run lock lives in BACKUP_DIR: it must exist before the first request. */
	if (!rc)
		rc = qb_mkdir_p(s->dir, 0700, err);
	if (!rc && srv_jobs_init(&s->jobs, cfg, notify))
		rc = qb_err_set(err, QB_EINTERNAL, "unable to set up the job state");
	s->jobs_ready = !rc;
	if (!rc)
		rc = srv_listen_open(&a, s->addr, &s->listen_fd, err);
	if (!rc)
		rc = start_daemon(s, &a, err);
	if (rc) {
		release(s);
		return rc;
	}
	qb_log(QB_LOG_INFO, "listening on http://%s, %s; backups in %s", s->addr,
	       s->auth ? "bearer token required" :
			 "no token set (loopback only, no authentication)",
	       s->dir);
	*out = s;
	return QB_OK;
}

const char *qb_server_address(const struct qb_server *s)
{
	return s ? s->addr : NULL;
}

void qb_server_stop(struct qb_server *s)
{
	MHD_socket fd;
	struct timespec nap = { 0, 10 * 1000 * 1000 };

	if (!s)
		return;
	fd = MHD_quiesce_daemon(s->mhd);
	/* Quiesced, the socket still listens: the kernel would queue new connections
	 * that nobody accepts for as long as the backup runs (hours), then reset them.
	 * Shut down, it listens no more and they are refused at once.  It is closed
	 * only after MHD_stop_daemon: libmicrohttpd's thread may still be polling it,
	 * and a number closed now could be handed to another file meanwhile. */
	if (fd != MHD_INVALID_SOCKET)
		shutdown(fd, SHUT_RDWR);
	if (srv_job_running(&s->jobs, NULL))
		qb_log(QB_LOG_INFO, "stopping: waiting for the running backup to finish");
	/* A request already past the door must not start a backup now. */
	srv_jobs_close(&s->jobs);
	for (int waited = 0; atomic_load(&s->inflight) > 0 && waited < DRAIN_MS; waited += 10)
		nanosleep(&nap, NULL);
	MHD_stop_daemon(s->mhd);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
	release(s);
	qb_log(QB_LOG_INFO, "server stopped");
}
