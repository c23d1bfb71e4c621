/*
 * server.h - `qbackup serve`: the HTTP server the admin page calls.
 *
 *	sigset_t set;                       // SIGTERM, SIGINT
 *	pthread_sigmask(SIG_BLOCK, &set, NULL);   // first: the server's threads inherit the mask
 *	struct qb_server *srv;
 *	if (qb_server_start(&srv, cfg, listen_or_NULL, &err)) ...   // nothing is left running
 *	sigwait(&set, &sig);
 *	qb_server_stop(srv);                // stops accepting, waits for a running backup, frees
 *
 * Endpoints.  Every answer is a JSON document (Content-Type: application/json,
 * one line, ending with a newline); errors are {"error":"what went wrong"}.
 *
 *	GET    /health          200 {"status":"ok","version":V,"lastBackup":DATE|null,
 *	                        "running":BOOL}
 *	                        no token needed; DATE is the newest backup's "YYYY-MM-DD HH:MM:SS";
 *	                        running: a run (ours or the command line's) holds the run lock
 *	POST   /backup          body absent/empty, or {"type":"all"|"db"|"minio"|"code"} (default
 *	                        all); runs qb_run() and answers when it ends: 200 with qb_run_json()
 *	                        when it succeeded, 500 with the same document plus "error" when not
 *	POST   /backup?async=1  202 {"job":ID,"status":"running"} at once
 *	GET    /backup/status   200 {"job":ID,"type":T,"status":"running"|"ok"|"failed",
 *	                        "started":DATE,"finished":DATE|null,"result":<the POST's
 *	                        document>|null}
 *	                        for the running job, else the last one; 404 before the first
 *	GET    /backups         200 qb_catalog_json() of BACKUP_DIR (`qbackup list --json`)
 *	DELETE /backups?file=N  200 {"deleted":N}; 404 no such backup; 400 not a bare backup name
 *	                        (qb_backup_check_name on the decoded value, NUL included)
 *
 *	401 (with WWW-Authenticate: Bearer) when a token is configured and the request lacks
 *	    `Authorization: Bearer TOKEN` (compared in constant time); every path but /health
 *	409 {"error":WHAT,"type":T|null,"started":DATE|null,"pid":N|null} for POST /backup and
 *	    DELETE while a run holds the lock (server or command line); WHAT names the holder
 *	    ("a backup is already running", "a prune is running", ...)
 *	400 malformed JSON, an unknown type, a bad async value; 413 a body over QB_SERVER_BODY_MAX
 *	    (refused from Content-Length before reading, or while reading a chunked body);
 *	404 unknown path; 405 a method the path does not take (with Allow)
 *
 * Configuration: BACKUP_SERVER_LISTEN (ADDR:PORT, [V6]:PORT; default
 * QB_SERVER_DEFAULT_LISTEN; `listen` overrides it), BACKUP_SERVER_TOKEN
 * (without one, only a loopback address is accepted: QB_EREFUSED otherwise),
 * BACKUP_SERVER_NOTIFY (boolean, default false: alert emails for runs the
 * server starts), BACKUP_DIR and the keys qb_run() reads.
 *
 * One line is logged per request (method, path, status, duration, peer);
 * never a header, a query string or a body.  The library never prints.
 */
#ifndef QB_SERVER_H
#define QB_SERVER_H

#include "qb/config.h"
#include "qb/error.h"

#define QB_SERVER_DEFAULT_LISTEN "127.0.0.1:9999"
#define QB_SERVER_BODY_MAX 4096      /* bytes of request body */
#define QB_SERVER_CONN_MAX 32        /* connections at once */
#define QB_SERVER_TIMEOUT 10         /* seconds a connection may stay idle */

struct qb_server;

/*
 * Listen and serve from threads of the server's own.  cfg is borrowed and
 * must outlive the server.  listen NULL: BACKUP_SERVER_LISTEN or the default.
 * QB_EARG / QB_ECONFIG for a bad address (from listen / from the
 * configuration), QB_EREFUSED for a non-loopback address without a token,
 * QB_EIO when the address cannot be bound.
 */
int qb_server_start(struct qb_server **out, const struct qb_config *cfg, const char *listen,
		    struct qb_err *err);
/* "127.0.0.1:9999", "[::1]:9999": borrowed from srv. */
const char *qb_server_address(const struct qb_server *srv);
/* Stop accepting (new connections are refused at once; a request under way that
 * would start a backup gets 503), let a running backup finish (its client gets
 * its answer), stop the threads, free.  NULL is accepted. */
void qb_server_stop(struct qb_server *srv);

#endif
