/* check_archive.c - the code archive: create, list, extract, refuse (archive.h). */
#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qb/archive.h"
#include "qb/buf.h"
#include "qb/fsutil.h"
#include "testutil.h"

#define NAME "code_20260206_030000.tar.gz"

/* ---- fixtures ------------------------------------------------------------- */

/* Run a multi-line script (tu_sh wraps its command in braces, which a
 * here-document or a trailing newline would break). */
static void run_script(const char *interp, const char *dir, const char *text)
{
	char *path = qb_path_join(dir, "script");

	ck_assert_int_eq(tu_write_file(path, text, strlen(text)), 0);
	ck_assert_int_eq(tu_sh(NULL, "%s '%s'", interp, path), 0);
	unlink(path);
	free(path);
}

/*
 * A code tree: excluded folders at several depths, symlinks inside and
 * outside, odd modes, a hard link, a non-ASCII name, a multi-block file, a
 * fifo (skipped), and fixed mtimes (with nanoseconds) on everything.
 */
static char *make_tree(const char *base)
{
	char *code = qb_path_join(base, "code");
	char *script = qb_asprintf(
		"set -e; mkdir -p '%1$s' && cd '%1$s'\n"
		"mkdir -p app/node_modules/x node_modules .next/cache .git lib/deep/a/b/.git "
		"  lib/deep/a/b/node_modules lib/.next empty_dir\n"
		"printf 'export default 1\\n' > app/page.js\n"
		"printf '#!/bin/sh\\necho hi\\n' > app/run.sh; chmod 0755 app/run.sh\n"
		"echo dep > app/node_modules/x/index.js\n"
		"echo dep > node_modules/y.js\n"
		"echo c > .next/cache/a\n"
		"echo ref > .git/HEAD\n"
		"echo cfg > lib/deep/a/b/.git/config\n"
		"echo dep > lib/deep/a/b/node_modules/z.js\n"
		"echo built > lib/.next/out.js\n"
		"echo keep > lib/deep/a/b/keep.txt\n"
		"echo secret > private.txt; chmod 0600 private.txt\n"
		"echo shared > hard1; ln hard1 hard2\n"
		"echo é > 'accentué.txt'\n"
		"head -c 3000000 /dev/urandom > big.bin\n"
		"ln -s app/page.js link_in\n"
		"ln -s ../../etc/passwd link_out\n"
		"ln -s /etc/hostname link_abs\n"
		"mkfifo fifo\n"
		"chmod 0750 empty_dir\n"
		"find . -depth ! -type p -exec touch -h -d '2020-01-02 03:04:05.123456789' {} +\n",
		code);

	ck_assert_ptr_nonnull(script);
	run_script("sh", base, script);
	free(script);
	return code;
}

/* One line per entry (type, mode, mtime, link target, path), sorted; caller frees. */
static char *describe(const char *dir)
{
	char *out = NULL;

	ck_assert_int_eq(tu_sh(&out, "cd '%s' && find . -mindepth 1 \\( -name node_modules -o "
			       "-name .next -o -name .git -o -type p \\) -prune -o "
			       "-printf '%%y %%m %%T@ %%l %%p\\n' | LC_ALL=C sort", dir), 0);
	return out;
}

static void progress_fn(void *ud, const struct qb_progress *p)
{
	int *finals = ud;

	ck_assert_str_eq(p->step, "code");
	if (p->final)
		(*finals)++;
}

/* A tarball made by python's tarfile from a list of member specs. */
static char *hostile(const char *dir, const char *name, const char *members)
{
	char *path = qb_path_join(dir, name);
	char *script = qb_asprintf(
		"import io, tarfile\n"
		"t = tarfile.open('%s', 'w:gz')\n"
		"for kind, n, arg in [%s]:\n"
		"    i = tarfile.TarInfo(n)\n"
		"    if kind == 'f':\n"
		"        i.size = len(arg); t.addfile(i, io.BytesIO(arg.encode()))\n"
		"    else:\n"
		"        i.type = {'l': tarfile.SYMTYPE, 'h': tarfile.LNKTYPE,\n"
		"                  'd': tarfile.DIRTYPE, 'c': tarfile.CHRTYPE,\n"
		"                  'b': tarfile.BLKTYPE, 'p': tarfile.FIFOTYPE}[kind]\n"
		"        i.devmajor, i.devminor = (1, 3) if kind in 'cb' else (0, 0)\n"
		"        i.linkname = arg; t.addfile(i)\n"
		"t.close()\n", path, members);

	ck_assert_ptr_nonnull(script);
	run_script("python3", dir, script);
	free(script);
	return path;
}

/* ---- archive and extract -------------------------------------------------- */

START_TEST(test_archive_roundtrip)
{
	char *base = tu_tmpdir();
	char *code = make_tree(base);
	char *bdir = qb_path_join(base, "backups");
	char *out_path = qb_path_join(bdir, NAME);
	char *to = qb_path_join(base, "restored/code");
	struct qb_code_stats st;
	struct qb_code_check chk;
	int finals = 0;
	struct qb_progress_cb cb = { progress_fn, &finals };
	struct qb_err err = { 0 };
	struct stat sb;
	char *out = NULL, *want, *got;

	ck_assert_int_eq(mkdir(bdir, 0700), 0);
	ck_assert_int_eq(qb_code_archive(code, bdir, NAME, NULL, &cb, &st, &err), QB_OK);
	ck_assert_int_eq(finals, 1);
	ck_assert_int_eq(stat(out_path, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0600);
	ck_assert_uint_eq(st.bytes_out, (uint64_t)sb.st_size);
	/* page.js, run.sh, keep.txt, private.txt, hard1, accentué.txt, big.bin (not hard2) */
	ck_assert_uint_eq(st.files, 7);
	ck_assert_uint_ge(st.bytes_in, 3000000);
	ck_assert_uint_gt(st.tar_bytes, st.bytes_in);
	ck_assert_int_eq(tu_count_entries(bdir), 1);                /* no temporary left */

	/* The hash is the file's. */
	ck_assert_int_eq(tu_sh(&out, "sha256sum '%s' | cut -c1-64", out_path), 0);
	out[64] = '\0';
	ck_assert_str_eq(st.sha256, out);
	free(out);
	ck_assert_int_eq(tu_sh(NULL, "gzip -t '%s'", out_path), 0);

	/* What GNU tar sees. */
	ck_assert_int_eq(tu_sh(&out, "tar -tzvf '%s'", out_path), 0);
	ck_assert_ptr_nonnull(strstr(out, " app/page.js\n"));
	ck_assert_ptr_nonnull(strstr(out, " lib/deep/a/b/keep.txt\n"));
	ck_assert_ptr_nonnull(strstr(out, " link_out -> ../../etc/passwd\n"));
	ck_assert_ptr_nonnull(strstr(out, " link_abs -> /etc/hostname\n"));
	ck_assert_ptr_nonnull(strstr(out, "\nlrwxrwxrwx "));
	ck_assert_ptr_nonnull(strstr(out, " hard2 link to hard1\n"));
	ck_assert_ptr_nonnull(strstr(out, "-rwxr-xr-x "));
	ck_assert_ptr_nonnull(strstr(out, "-rw------- "));
	ck_assert_ptr_nonnull(strstr(out, "drwxr-x--- "));
	ck_assert_ptr_nonnull(strstr(out, "2020-01-02 03:04 "));
	ck_assert_ptr_nonnull(strstr(out, "accentu"));
	ck_assert_ptr_null(strstr(out, "node_modules"));
	ck_assert_ptr_null(strstr(out, ".next"));
	ck_assert_ptr_null(strstr(out, ".git"));
	ck_assert_ptr_null(strstr(out, "fifo"));
	free(out);
	/* The three symlinks stay symlinks (not followed). */
	ck_assert_int_eq(tu_sh(&out, "tar -tzvf '%s' | grep -c '^l'", out_path), 0);
	ck_assert_str_eq(out, "3\n");
	free(out);

	ck_assert_int_eq(qb_code_verify(out_path, &chk, &err), QB_OK);
	ck_assert_uint_eq(chk.files, 7);
	ck_assert_uint_eq(chk.entries, st.entries);

	/* Extract into a folder that does not exist yet, and compare. */
	ck_assert_int_eq(qb_code_extract(out_path, to, &err), QB_OK);
	want = describe(code);
	got = describe(to);
	ck_assert_str_eq(got, want);
	ck_assert_ptr_nonnull(strstr(want, "l 777 "));
	free(want);
	free(got);
	ck_assert_int_eq(tu_sh(NULL, "cmp '%s/big.bin' '%s/big.bin'", code, to), 0);
	ck_assert_int_eq(tu_sh(NULL, "cmp '%s/accentué.txt' '%s/accentué.txt'", code, to), 0);
	ck_assert_int_eq(tu_sh(NULL, "test \"$(stat -c %%i '%s/hard1')\" = "
			       "\"$(stat -c %%i '%s/hard2')\"", to, to), 0);
	ck_assert_int_eq(tu_sh(&out, "readlink '%s/link_out'", to), 0);
	ck_assert_str_eq(out, "../../etc/passwd\n");
	free(out);

	/* Into a folder that is not empty: refused, untouched. */
	ck_assert_int_eq(qb_code_extract(out_path, to, &err), QB_EREFUSED);
	ck_assert_ptr_nonnull(strstr(err.msg, "not empty"));
	got = describe(to);
	want = describe(code);
	ck_assert_str_eq(got, want);
	free(want);
	free(got);
	/* Onto a file: refused. */
	ck_assert_int_eq(qb_code_extract(out_path, out_path, &err), QB_EREFUSED);

	/* Same tree, same archive: the walk is sorted and atime/ctime are not stored. */
	ck_assert_int_eq(qb_code_archive(code, bdir, "code_20260206_030001.tar.gz", NULL, NULL,
					 &st, &err), QB_OK);
	ck_assert_int_eq(tu_sh(NULL, "cmp '%s/" NAME "' '%s/code_20260206_030001.tar.gz'", bdir,
			       bdir), 0);
	/* An existing name is never overwritten. */
	ck_assert_int_ne(qb_code_archive(code, bdir, NAME, NULL, NULL, &st, &err), QB_OK);
	ck_assert_int_eq(tu_count_entries(bdir), 2);

	tu_rm_rf(base);
	free(base);
	free(code);
	free(bdir);
	free(out_path);
	free(to);
}
END_TEST

START_TEST(test_excludes)
{
	char *base = tu_tmpdir();
	char *code = make_tree(base);
	char *bdir = qb_path_join(code, "backups");               /* inside the code folder */
	struct qb_code_stats st;
	struct qb_err err = { 0 };
	char *out = NULL;

	ck_assert_int_eq(mkdir(bdir, 0700), 0);
	ck_assert_int_eq(tu_sh(NULL, "echo log > '%s/app/debug.log'", code), 0);
	/* Spaces and empty items are fine; globs match names. */
	ck_assert_int_eq(qb_code_archive(code, bdir, NAME, " node_modules , *.log,,", NULL, &st,
					 &err), QB_OK);
	ck_assert_int_eq(tu_sh(&out, "tar -tzf '%s/" NAME "'", bdir), 0);
	ck_assert_ptr_null(strstr(out, "node_modules"));
	ck_assert_ptr_null(strstr(out, "debug.log"));
	ck_assert_ptr_nonnull(strstr(out, ".git/HEAD\n"));          /* not excluded this time */
	ck_assert_ptr_nonnull(strstr(out, "lib/.next/out.js\n"));
	ck_assert_ptr_null(strstr(out, "backups"));                 /* never archive ourselves */
	free(out);
	ck_assert_int_eq(tu_sh(NULL, "rm '%s/" NAME "'", bdir), 0);

	/* No excludes at all. */
	ck_assert_int_eq(qb_code_archive(code, bdir, NAME, "", NULL, &st, &err), QB_OK);
	ck_assert_int_eq(tu_sh(&out, "tar -tzf '%s/" NAME "'", bdir), 0);
	ck_assert_ptr_nonnull(strstr(out, "lib/deep/a/b/node_modules/z.js\n"));
	ck_assert_ptr_nonnull(strstr(out, ".next/cache/a\n"));
	free(out);

	ck_assert_int_eq(qb_code_archive(code, bdir, "code_x.tar.gz", "app/node_modules", NULL, &st,
					 &err), QB_ECONFIG);
	ck_assert_ptr_nonnull(strstr(err.msg, "app/node_modules"));
	ck_assert_int_eq(qb_code_archive("/nonexistent/qbackup", bdir, "code_y.tar.gz", NULL, NULL,
					 &st, &err), QB_ENOTFOUND);
	ck_assert_int_eq(tu_count_entries(bdir), 1);                  /* nothing half-written */
	tu_rm_rf(base);
	free(base);
	free(code);
	free(bdir);
}
END_TEST

/* ---- hostile and damaged tarballs ----------------------------------------- */

static void refused(const char *base, const char *name, const char *members,
		    const char *member_in_msg)
{
	char *tgz = hostile(base, name, members);
	char *to = qb_path_join(base, "target");
	struct qb_err err = { 0 };

	ck_assert_int_eq(mkdir(to, 0700), 0);
	ck_assert_int_eq(qb_code_extract(tgz, to, &err), QB_EREFUSED);
	ck_assert_msg(strstr(err.msg, member_in_msg) != NULL, "%s: %s", name, err.msg);
	ck_assert_int_eq(tu_count_entries(to), 0);                    /* left empty */
	ck_assert_int_eq(qb_code_verify(tgz, NULL, &err), QB_EREFUSED);
	ck_assert_int_eq(rmdir(to), 0);
	free(to);
	free(tgz);
}

START_TEST(test_hostile_refused)
{
	char *base = tu_tmpdir();
	char *esc = qb_path_join(base, "escaped.txt");

	refused(base, "dotdot.tar.gz", "('f', 'ok.txt', 'x'), ('f', '../escaped.txt', 'x')",
		"'../escaped.txt'");
	refused(base, "deep.tar.gz", "('f', 'a/b/../../../escaped.txt', 'x')",
		"'a/b/../../../escaped.txt'");
	refused(base, "abs.tar.gz",
		"('f', 'ok.txt', 'x'), ('f', '/tmp/qbtest-abs-escaped.txt', 'x')",
		"'/tmp/qbtest-abs-escaped.txt'");
	refused(base, "symlink.tar.gz", "('l', 'sub', '..'), ('f', 'sub/escaped.txt', 'x')",
		"'sub/escaped.txt'");
	refused(base, "symlink2.tar.gz",
		"('d', 'd', ''), ('l', 'd/up', '/'), ('f', 'd/./up/x', 'x')", "'d/./up/x'");
	refused(base, "hardlink.tar.gz", "('h', 'pw', '../../etc/passwd')", "'pw'");
	ck_assert_int_ne(access(esc, F_OK), 0);
	ck_assert_int_ne(access("/tmp/qbtest-abs-escaped.txt", F_OK), 0);

	/* A symlink pointing outside is fine on its own. */
	{
		char *tgz = hostile(base, "linkonly.tar.gz",
				    "('l', 'out', '../..'), ('f', 'in.txt', 'x')");
		char *to = qb_path_join(base, "new/target");
		struct qb_err err = { 0 };
		ck_assert_int_eq(qb_code_extract(tgz, to, &err), QB_OK);
		ck_assert_int_eq(tu_count_entries(to), 2);
		free(tgz);
		free(to);
	}
	free(esc);
	tu_rm_rf(base);
	free(base);
}
END_TEST

/* s -> a folder outside, h a hard link to s: h is a symlink too, so h/x goes outside. */
START_TEST(test_hardlink_to_symlink_refused)
{
	char *base = tu_tmpdir();
	char *outside = qb_path_join(base, "outside");               /* stands for /etc */
	char *m1 = qb_asprintf("('l', 's', '%s'), ('h', 'h', 's'), ('f', 'h/passwd', 'x')",
			       outside);
	char *m2 = qb_asprintf("('l', 's', '%s'), ('h', 'h', './s'), ('h', 'h2', 'h'), "
			       "('f', 'h2/passwd', 'x')", outside);

	ck_assert_int_eq(mkdir(outside, 0700), 0);
	refused(base, "hardsym.tar.gz", m1, "'h/passwd'");
	refused(base, "hardsym2.tar.gz", m2, "'h2/passwd'");
	ck_assert_int_eq(tu_count_entries(outside), 0);

	/* A hard link to a symlink that nothing goes through is fine. */
	{
		char *tgz = hostile(base, "hardsym_ok.tar.gz",
				    "('l', 's', '../..'), ('h', 'h', 's'), ('f', 'in.txt', 'x')");
		char *to = qb_path_join(base, "new/target");
		struct qb_err err = { 0 };
		ck_assert_int_eq(qb_code_extract(tgz, to, &err), QB_OK);
		ck_assert_int_eq(tu_count_entries(to), 3);
		free(tgz);
		free(to);
	}
	free(m1);
	free(m2);
	free(outside);
	tu_rm_rf(base);
	free(base);
}
END_TEST

/* Device nodes and FIFOs: our archives never hold them (the walk leaves them out),
 * and one in a tarball from elsewhere is left out with a warning, never made. */
START_TEST(test_special_members_left_out)
{
	char *base = tu_tmpdir();
	char *tgz = hostile(base, "special.tar.gz",
			    "('f', 'a.txt', 'x'), ('c', 'null', ''), ('d', 'dev', ''), "
			    "('b', 'dev/sda', ''), ('p', 'fifo', ''), ('h', 'fifo2', 'fifo'), "
			    "('h', 'fifo3', './fifo2'), ('f', 'b.txt', 'y'), ('h', 'b2.txt', 'b.txt'), "
			    "('p', 'x', ''), ('f', 'x', 'z'), ('h', 'x2', 'x')");
	char *to = qb_path_join(base, "new");
	struct qb_err err = { 0 };
	struct qb_code_check st;

	ck_assert_int_eq(qb_code_verify(tgz, &st, &err), QB_OK);
	ck_assert_int_eq(qb_code_extract(tgz, to, &err), QB_OK);
	/* a.txt, b.txt, b2.txt, dev; x (a FIFO, then a file of that name) and its link x2 */
	ck_assert_int_eq(tu_count_entries(to), 6);
	ck_assert_int_eq(tu_sh(NULL, "cd '%s' && test -f a.txt && test -f b.txt && "
			       "test b.txt -ef b2.txt && test -d dev && ! test -e dev/sda && "
			       "! test -e null && ! test -e fifo && ! test -e fifo2 && "
			       "test -f x && test x -ef x2", to), 0);
	free(tgz);
	free(to);
	tu_rm_rf(base);
	free(base);
}
END_TEST

/* A tarball that passes the checks but fails half way: what was extracted goes. */
START_TEST(test_failed_extraction_cleans_up)
{
	char *base = tu_tmpdir();
	char *tgz = hostile(base, "dangling.tar.gz",
			    "('f', 'a.txt', 'x'), ('d', 'dir', ''), ('h', 'dir/h', 'missing')");
	char *to = qb_path_join(base, "target");
	char *fresh = qb_path_join(base, "fresh/target");
	struct qb_err err = { 0 };

	ck_assert_int_eq(qb_code_verify(tgz, NULL, &err), QB_OK);
	ck_assert_int_eq(mkdir(to, 0700), 0);
	ck_assert_int_eq(qb_code_extract(tgz, to, &err), QB_EIO);
	ck_assert_msg(strstr(err.msg, "'dir/h'") != NULL, "%s", err.msg);
	ck_assert_int_eq(tu_count_entries(to), 0);                    /* a.txt and dir removed */
	ck_assert_int_eq(qb_code_extract(tgz, fresh, &err), QB_EIO);
	ck_assert_int_ne(access(fresh, F_OK), 0);                  /* the folder it made, too */
	free(tgz);
	free(to);
	free(fresh);
	tu_rm_rf(base);
	free(base);
}
END_TEST

/*
 * A disk that refuses a write (here a file size limit, EFBIG, as a full disk
 * gives ENOSPC): the restore fails naming the member and the cause, and
 * leaves nothing.  libarchive reports a failed write as a warning and then
 * extends the file to its size; on a full tmpfs that extension succeeds
 * (it needs no space), and a restore that took warnings for remarks said
 * "extracted" over files of zeros.  The size limit also refuses the
 * extension, so here the old code failed later, with a vaguer message.
 */
START_TEST(test_refused_write_fails)
{
	char *base = tu_tmpdir();
	char *tgz = hostile(base, "big.tar.gz",
			    "('f', 'a.txt', 'small'), ('f', 'big.bin', 'x' * 300000)");
	char *to = qb_path_join(base, "target");
	char msg[sizeof(((struct qb_err *)0)->msg) + 16] = "";
	int fds[2], st, rc;
	ssize_t n;
	pid_t pid;

	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct rlimit lim = { 100000, 100000 };
		struct qb_err err = { 0 };
		char out[sizeof(msg)];
		signal(SIGXFSZ, SIG_IGN);
		if (setrlimit(RLIMIT_FSIZE, &lim) < 0)
			_exit(2);
		rc = qb_code_extract(tgz, to, &err);
		n = snprintf(out, sizeof(out), "%d:%s", rc, err.msg);
		_exit(write(fds[1], out, (size_t)n) == n ? 0 : 2);
	}
	close(fds[1]);
	n = read(fds[0], msg, sizeof(msg) - 1);
	close(fds[0]);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_int_gt(n, 0);
	msg[n] = '\0';
	rc = (int)strtol(msg, NULL, 10);
	ck_assert_msg(rc == QB_EIO, "%s", msg);
	ck_assert_msg(strstr(msg, "'big.bin'") && strstr(msg, "too large"), "%s", msg);
	ck_assert_int_ne(access(to, F_OK), 0);               /* the folder it made is gone */
	free(tgz);
	free(to);
	tu_rm_rf(base);
	free(base);
}
END_TEST

START_TEST(test_damaged_and_old_style)
{
	char *base = tu_tmpdir();
	char *code = make_tree(base);
	char *tgz = qb_path_join(base, NAME);
	char *to = qb_path_join(base, "to");
	struct qb_code_stats st;
	struct qb_code_check chk;
	struct qb_err err = { 0 };
	struct stat sb;

	ck_assert_int_eq(qb_code_archive(code, base, NAME, NULL, NULL, &st, &err), QB_OK);
	ck_assert_int_eq(stat(tgz, &sb), 0);

	/* Truncated: the gzip reader notices, nothing is extracted. */
	ck_assert_int_eq(tu_sh(NULL, "cp '%1$s' '%1$s.cut' && truncate -s %2$lld '%1$s.cut'", tgz,
			       (long long)sb.st_size / 2), 0);
	{
		char *cut = qb_asprintf("%s.cut", tgz);
		ck_assert_int_eq(qb_code_verify(cut, NULL, &err), QB_ECORRUPT);
		ck_assert_int_eq(qb_code_extract(cut, to, &err), QB_ECORRUPT);
		ck_assert_int_ne(access(to, F_OK), 0);
		free(cut);
	}
	/* A flipped byte near the end (a CRC mismatch in the last member). */
	ck_assert_int_eq(tu_sh(NULL, "cp '%1$s' '%1$s.bad' && printf '\\377' | "
			       "dd of='%1$s.bad' bs=1 seek=%2$lld conv=notrunc status=none", tgz,
			       (long long)sb.st_size - 12), 0);
	{
		char *bad = qb_asprintf("%s.bad", tgz);
		ck_assert_int_eq(qb_code_verify(bad, NULL, &err), QB_ECORRUPT);
		free(bad);
	}
	/* One bit flipped in the first byte: not read as a plain tar. */
	ck_assert_int_eq(tu_sh(NULL, "cp '%1$s' '%1$s.x.tar.gz' && printf '\\137' | "
			       "dd of='%1$s.x.tar.gz' bs=1 conv=notrunc status=none", tgz), 0);
	{
		char *bad = qb_asprintf("%s.x.tar.gz", tgz);
		ck_assert_int_eq(qb_code_verify(bad, NULL, &err), QB_ECORRUPT);
		ck_assert_msg(strstr(err.msg, "is named .gz but is not gzip data"), "%s", err.msg);
		ck_assert_int_eq(qb_code_extract(bad, to, &err), QB_ECORRUPT);
		ck_assert_msg(strstr(err.msg, "is named .gz but is not gzip data"), "%s", err.msg);
		ck_assert_int_ne(access(to, F_OK), 0);
		free(bad);
	}
	/* Not a tarball at all. */
	ck_assert_int_eq(tu_sh(NULL, "echo hello | gzip > '%s/hello.gz'", base), 0);
	{
		char *hello = qb_path_join(base, "hello.gz");
		ck_assert_int_eq(qb_code_verify(hello, NULL, &err), QB_ECORRUPT);
		free(hello);
	}

	/* The old script's tarball: GNU tar, one gzip member. */
	ck_assert_int_eq(tu_sh(NULL, "tar -czf '%s/old.tar.gz' -C '%s' --exclude=node_modules "
			       "--exclude=.next --exclude=.git --exclude=fifo .", base, code), 0);
	{
		char *old = qb_path_join(base, "old.tar.gz");
		ck_assert_int_eq(qb_code_verify(old, &chk, &err), QB_OK);
		ck_assert_uint_eq(chk.files, 7);
		ck_assert_int_eq(qb_code_extract(old, to, &err), QB_OK);
		ck_assert_int_eq(tu_sh(NULL, "cmp '%s/big.bin' '%s/big.bin'", code, to), 0);
		free(old);
	}
	tu_rm_rf(base);
	free(base);
	free(code);
	free(tgz);
	free(to);
}
END_TEST

/* ---- the target folder ---------------------------------------------------- */

/* Extracting tgz into dir is refused for why, and dir is left empty. */
static void target_refused(const char *tgz, const char *dir, const char *why)
{
	struct qb_err err = { 0 };

	ck_assert_int_eq(qb_code_extract(tgz, dir, &err), QB_EREFUSED);
	ck_assert_msg(strstr(err.msg, why) != NULL, "%s: %s", dir, err.msg);
	ck_assert_int_eq(tu_count_entries(dir), 0);
}

START_TEST(test_target_checked)
{
	char *base = tu_tmpdir();
	char *tgz = hostile(base, "env.tar.gz", "('f', '.env', 'SECRET=1')");
	char *open_dir = qb_path_join(base, "open");
	char *group_dir = qb_path_join(base, "group");
	char *real = qb_path_join(base, "real");
	char *link = qb_path_join(base, "link");
	char *theirs = qb_path_join(base, "theirs");
	char *ours = qb_path_join(base, "ours");
	struct qb_err err = { 0 };
	struct stat sb;

	/* Writable by others (a pre-made /tmp/code) or by the group: refused, untouched. */
	ck_assert_int_eq(mkdir(open_dir, 0700), 0);
	ck_assert_int_eq(chmod(open_dir, 0777), 0);
	target_refused(tgz, open_dir, "writable by group or others");
	ck_assert_int_eq(stat(open_dir, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 07777, 0777);
	ck_assert_int_eq(mkdir(group_dir, 0700), 0);
	ck_assert_int_eq(chmod(group_dir, 0770), 0);
	target_refused(tgz, group_dir, "writable by group or others");

	/* A symlink to an empty folder of ours: refused, the folder stays empty. */
	ck_assert_int_eq(mkdir(real, 0700), 0);
	ck_assert_int_eq(symlink(real, link), 0);
	target_refused(tgz, link, "symlink");
	ck_assert_int_eq(lstat(link, &sb), 0);
	ck_assert(S_ISLNK(sb.st_mode));

	/* Owned by someone else: only root can make such a folder to test with. */
	if (geteuid() == 0) {
		ck_assert_int_eq(mkdir(theirs, 0700), 0);
		ck_assert_int_eq(chown(theirs, 65534, 65534), 0);
		target_refused(tgz, theirs, "owned by uid 65534");
	}

	/* An empty 0700 folder of ours: accepted, as before. */
	ck_assert_int_eq(mkdir(ours, 0700), 0);
	ck_assert_int_eq(qb_code_extract(tgz, ours, &err), QB_OK);
	ck_assert_int_eq(tu_count_entries(ours), 1);

	free(tgz);
	free(open_dir);
	free(group_dir);
	free(real);
	free(link);
	free(theirs);
	free(ours);
	tu_rm_rf(base);
	free(base);
}
END_TEST

extern Suite *suite_archive(void);

Suite *suite_archive(void)
{
	Suite *s = suite_create("archive");
	TCase *tc = tcase_create("archive");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_archive_roundtrip);
	tcase_add_test(tc, test_excludes);
	tcase_add_test(tc, test_hostile_refused);
	tcase_add_test(tc, test_hardlink_to_symlink_refused);
	tcase_add_test(tc, test_special_members_left_out);
	tcase_add_test(tc, test_failed_extraction_cleans_up);
	tcase_add_test(tc, test_refused_write_fails);
	tcase_add_test(tc, test_damaged_and_old_style);
	tcase_add_test(tc, test_target_checked);
	suite_add_tcase(s, tc);
	return s;
}
