/*
 * guard.c - refuse tarball members that would land outside the target.
 *
 * libarchive's secure-extraction flags refuse the same things, but only
 * as they are written, with a generic message, after earlier members are
 * already on disk.  Checking every name first lets qrestore refuse a
 * hostile tarball before touching anything, and name the member.
 *
 * A symlink member may point anywhere (code trees hold such links, and we
 * archive them as they are); what is refused is a later member whose path
 * goes through it, or through a hard link to it.
 */
#include <stdlib.h>
#include <string.h>

#include "archive/archive_int.h"
#include "qb/array.h"
#include "qb/buf.h"

struct names {
	char **v;         /* normalised, sorted */
	size_t n, cap;
};

struct arc_guard {
	struct names links;   /* symlink members (and hard links to them) */
	struct names gone;    /* members left out of the extraction */
};

struct arc_guard *arc_guard_new(void)
{
	return calloc(1, sizeof(struct arc_guard));
}

void arc_guard_free(struct arc_guard *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->links.n; i++)
		free(g->links.v[i]);
	for (size_t i = 0; i < g->gone.n; i++)
		free(g->gone.v[i]);
	free(g->links.v);
	free(g->gone.v);
	free(g);
}

/* "./a//b/./c/" -> "a/b/c"; the caller frees. */
static char *normalize(const char *p)
{
	char *out = malloc(strlen(p) + 1), *o = out;

	if (!out)
		return NULL;
	while (*p) {
		size_t n = strcspn(p, "/");
		if (n && !(n == 1 && p[0] == '.')) {
			if (o != out)
				*o++ = '/';
			memcpy(o, p, n);
			o += n;
		}
		p += n;
		while (*p == '/')
			p++;
	}
	*o = '\0';
	return out;
}

/* Why a name is unsafe on its own, or NULL. */
static const char *unsafe(const char *p)
{
	if (p[0] == '/')
		return "an absolute name";
	for (const char *s = p; *s;) {
		size_t n = strcspn(s, "/");
		if (n == 2 && s[0] == '.' && s[1] == '.')
			return "a '..' component";
		s += n;
		while (*s == '/')
			s++;
	}
	return NULL;
}

static int find(const struct names *g, const char *name, size_t len, size_t *at)
{
	size_t lo = 0, hi = g->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strncmp(g->v[mid], name, len);
		if (c == 0 && g->v[mid][len] != '\0')
			c = 1;
		if (c == 0) {
			*at = mid;
			return 1;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*at = lo;
	return 0;
}

/* The symlink member that a proper prefix of norm names, or NULL. */
static const char *through_link(const struct arc_guard *g, const char *norm)
{
	size_t at;

	for (const char *s = strchr(norm, '/'); s; s = strchr(s + 1, '/')) {
		if (find(&g->links, norm, (size_t)(s - norm), &at))
			return g->links.v[at];
	}
	return NULL;
}

/* Takes norm over (also on failure). */
static int remember(struct names *g, char *norm)
{
	size_t at;

	if (find(g, norm, strlen(norm), &at)) {
		free(norm);
		return 0;
	}
	if (qb_array_grow(&g->v, &g->cap, g->n + 1, sizeof(*g->v), 16)) {
		free(norm);
		return -1;
	}
	memmove(g->v + at + 1, g->v + at, (g->n - at) * sizeof(*g->v));
	g->v[at] = norm;
	g->n++;
	return 0;
}

static int check_name(struct arc_guard *g, const char *member, const char *name,
		      const char *role, struct qb_err *err)
{
	const char *why = unsafe(name), *link;
	char *norm;
	int rc = QB_OK;

	if (why)
		return qb_err_set(err, QB_EREFUSED, "refusing member '%s': %s has %s", member,
				  role, why);
	norm = normalize(name);
	if (!norm)
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	if ((link = through_link(g, norm)))
		rc = qb_err_set(err, QB_EREFUSED,
				"refusing member '%s': %s goes through the symlink member '%s'",
				member, role, link);
	free(norm);
	return rc;
}

/*
 * A hard link to a symlink member is a second name of that symlink (link(2)
 * does not follow it), so later paths through it must be refused as well.
 * We record the hard link's name as a link rather than refuse the tarball:
 * hard links to regular files (our own backups hold them) are unaffected,
 * and so are hard links to symlinks that nothing goes through.
 * 1: name is a recorded symlink member, 0: it is not, -1: out of memory.
 */
static int is_member_of(const struct names *g, const char *name)
{
	char *norm = normalize(name);
	size_t at;
	int yes;

	if (!norm)
		return -1;
	yes = find(g, norm, strlen(norm), &at);
	free(norm);
	return yes;
}

/* A member's name: as stored, or its UTF-8 form when the locale cannot show it. */
static const char *member_path(struct archive_entry *e)
{
	const char *path = archive_entry_pathname(e);

	return path ? path : archive_entry_pathname_utf8(e);
}

int arc_guard_check(struct arc_guard *g, struct archive_entry *e, struct qb_err *err)
{
	const char *path = member_path(e);
	const char *hard = archive_entry_hardlink(e);
	char *norm;
	int rc, hard_to_link = 0;

	if (!path || !path[0])
		return qb_err_set(err, QB_EREFUSED, "refusing a member with an empty name");
	rc = check_name(g, path, path, "its name", err);
	if (!rc && hard) {
		rc = check_name(g, path, hard, "its hard link target", err);
		if (!rc && (hard_to_link = is_member_of(&g->links, hard)) < 0)
			return qb_err_set(err, QB_ENOMEM, "out of memory");
	}
	if (rc || (archive_entry_filetype(e) != AE_IFLNK && !hard_to_link))
		return rc;
	norm = normalize(path);
	if (!norm || remember(&g->links, norm))
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	return QB_OK;
}

int arc_guard_leave_out(struct arc_guard *g, struct archive_entry *e, struct qb_err *err)
{
	char *norm = normalize(member_path(e));

	if (!norm || remember(&g->gone, norm))
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	return QB_OK;
}

void arc_guard_extracted(struct arc_guard *g, struct archive_entry *e)
{
	char *norm;
	size_t at;

	if (!g->gone.n)
		return;
	norm = normalize(member_path(e));
	if (norm && find(&g->gone, norm, strlen(norm), &at)) {
		free(g->gone.v[at]);
		memmove(g->gone.v + at, g->gone.v + at + 1, (g->gone.n - at - 1) * sizeof(char *));
		g->gone.n--;
	}
	free(norm);
}

int arc_guard_to_left_out(const struct arc_guard *g, struct archive_entry *e)
{
	const char *hard = archive_entry_hardlink(e);

	return hard ? is_member_of(&g->gone, hard) : 0;
}
