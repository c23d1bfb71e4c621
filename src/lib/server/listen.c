/*
 * listen.c - the address the server listens on.
 *
 * Numeric addresses only (and "localhost"): a name that resolves
 * differently tomorrow must not move a server that may run without a
 * token off loopback.  The socket is opened here rather than by
 * libmicrohttpd so a bind failure says exactly why.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server_int.h"

static int bad(struct qb_err *err, int code, const char *text)
{
	return qb_err_set(err, code, "invalid listen address '%s': expected ADDR:PORT "
			  "(127.0.0.1:9999, [::1]:9999)", text);
}

int srv_listen_parse(const char *text, struct srv_addr *a, int code, struct qb_err *err)
{
	char host[64];
	const char *h, *p, *end;
	size_t hl;
	long port = 0;

	memset(a, 0, sizeof(*a));
	if (!text || !*text)
		return bad(err, code, text ? text : "");
	if (text[0] == '[') {
		h = text + 1;
		end = strstr(h, "]:");
		if (!end)
			return bad(err, code, text);
		p = end + 2;
	} else {
		end = strchr(text, ':');
		if (!end || strchr(end + 1, ':'))   /* an IPv6 address needs its brackets */
			return bad(err, code, text);
		h = text;
		p = end + 1;
	}
	hl = (size_t)(end - h);
	if (hl == 0 || hl >= sizeof(host) || !*p || strlen(p) > 5)
		return bad(err, code, text);
	for (const char *q = p; *q; q++) {
		if (*q < '0' || *q > '9')
			return bad(err, code, text);
		port = port * 10 + (*q - '0');
	}
	if (port < 1 || port > 65535)
		return qb_err_set(err, code, "invalid listen address '%s': port out of range",
				  text);
	memcpy(host, h, hl);
	host[hl] = '\0';
	if (text[0] != '[') {
		struct sockaddr_in *sin = (struct sockaddr_in *)&a->ss;
		if (!strcmp(host, "localhost"))
			memcpy(host, "127.0.0.1", sizeof("127.0.0.1"));
		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			return bad(err, code, text);
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		a->len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&a->ss;
		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			return bad(err, code, text);
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		a->len = sizeof(*sin6);
	}
	return QB_OK;
}

bool srv_is_loopback(const struct srv_addr *a)
{
	if (a->ss.ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)&a->ss;
		return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
	}
	if (a->ss.ss_family == AF_INET6) {
		const struct in6_addr *in6 = &((const struct sockaddr_in6 *)&a->ss)->sin6_addr;
		return IN6_IS_ADDR_LOOPBACK(in6) ||
		       (IN6_IS_ADDR_V4MAPPED(in6) && in6->s6_addr[12] == 127);
	}
	return false;
}

void srv_peer_format(const struct sockaddr *sa, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";

	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, host, sizeof(host));
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, host,
			  sizeof(host));
	snprintf(buf, len, "%s", host);
}

void srv_addr_format(const struct srv_addr *a, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];
	unsigned port;

	srv_peer_format((const struct sockaddr *)&a->ss, host, sizeof(host));
	if (a->ss.ss_family == AF_INET6) {
		port = ntohs(((const struct sockaddr_in6 *)&a->ss)->sin6_port);
		snprintf(buf, len, "[%s]:%u", host, port);
	} else {
		port = ntohs(((const struct sockaddr_in *)&a->ss)->sin_port);
		snprintf(buf, len, "%s:%u", host, port);
	}
}

void srv_origin_format(const struct srv_addr *a, char *buf, size_t len)
{
	char addr[80];
	size_t n;

	srv_addr_format(a, addr, sizeof(addr));
	n = strlen(addr);
	/* A browser leaves the scheme's default port out. */
	if (n > 3 && !strcmp(addr + n - 3, ":80"))
		addr[n - 3] = '\0';
	snprintf(buf, len, "http://%s", addr);
}

int srv_listen_open(const struct srv_addr *a, const char *text, int *fd, struct qb_err *err)
{
	int one = 1;
	int s = socket(a->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	*fd = -1;
	if (s < 0)
		return qb_err_sys(err, QB_EIO, errno, "unable to listen on '%s'", text);
	/* [::] means IPv6 only: what a wildcard covers should not depend on a sysctl. */
	if (setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    (a->ss.ss_family == AF_INET6 &&
	     setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) ||
	    bind(s, (const struct sockaddr *)&a->ss, a->len) < 0 || listen(s, 64) < 0) {
		int e = errno;
		close(s);
		return qb_err_sys(err, QB_EIO, e, "unable to listen on '%s'", text);
	}
	*fd = s;
	return QB_OK;
}
