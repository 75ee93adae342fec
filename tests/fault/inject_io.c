/* inject_io.c - an LD_PRELOAD shim that makes chosen I/O calls fail, for
 * the fault tests (tests/e2e/faults.sh). Built by the Makefile into
 * build/libinject_io.so; works with any binary, no test hooks needed.
 *
 *   INJECT_IO="OP:N:ERRNO[:PATTERN][,OP:N:ERRNO[:PATTERN]...]"
 *
 *   OP       write (write, pwrite, pwrite64, writev), fsync (fsync,
 *            fdatasync), rename (rename, renameat, renameat2), link
 *            (link, linkat) or close
 *   N        fail the Nth matching call (1-based); "N+" fails the Nth and
 *            every later one
 *   ERRNO    ENOSPC, EIO, EDQUOT, EFBIG, EROFS or a number
 *   PATTERN  only calls on a path containing PATTERN count (the fd's path
 *            from /proc/self/fd, or rename's and link's destination);
 *            write, fsync
 *            and close only ever count regular files (never the
 *            terminal, pipes or sockets)
 *
 *   INJECT_IO_LOG=FILE  appends "OP N PATH ERRNO" for every injected
 *                       failure, so a test knows the fault was hit.
 *
 * A failed close still closes the descriptor (as Linux does), so nothing
 * leaks; a failed write writes nothing.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

enum { OP_WRITE, OP_FSYNC, OP_RENAME, OP_CLOSE, OP_LINK, NOPS };

struct rule {
	int op;
	long n;
	int from_on; /* "N+" */
	int err;
	char pattern[256];
	long seen;
};

static struct rule rules[8];
static int nrules = -1;

static int errno_of(const char *s)
{
	static const struct {
		const char *name;
		int value;
	} names[] = {{"ENOSPC", ENOSPC}, {"EIO", EIO},     {"EDQUOT", EDQUOT},
		     {"EFBIG", EFBIG},   {"EROFS", EROFS}, {"EINTR", EINTR},
		     {"EXDEV", EXDEV}};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(names[i].name, s))
			return names[i].value;
	return atoi(s) > 0 ? atoi(s) : EIO;
}

static void parse(void)
{
	const char *env = getenv("INJECT_IO");
	char buf[2048], *save = NULL, *tok;

	nrules = 0;
	if (!env || !*env)
		return;
	snprintf(buf, sizeof(buf), "%s", env);
	for (tok = strtok_r(buf, ",", &save); tok && nrules < 8;
	     tok = strtok_r(NULL, ",", &save)) {
		struct rule *r = &rules[nrules];
		char *f[4] = {0}, *s2 = NULL, *p;
		int k = 0;

		for (p = strtok_r(tok, ":", &s2); p && k < 4;
		     p = strtok_r(NULL, ":", &s2))
			f[k++] = p;
		if (k < 3)
			continue;
		memset(r, 0, sizeof(*r));
		if (!strcmp(f[0], "write"))
			r->op = OP_WRITE;
		else if (!strcmp(f[0], "fsync"))
			r->op = OP_FSYNC;
		else if (!strcmp(f[0], "rename"))
			r->op = OP_RENAME;
		else if (!strcmp(f[0], "close"))
			r->op = OP_CLOSE;
		else if (!strcmp(f[0], "link"))
			r->op = OP_LINK;
		else
			continue;
		r->n = strtol(f[1], &p, 10);
		r->from_on = *p == '+';
		r->err = errno_of(f[2]);
		if (f[3])
			snprintf(r->pattern, sizeof(r->pattern), "%s", f[3]);
		nrules++;
	}
}

static void *real(const char *name)
{
	return dlsym(RTLD_NEXT, name);
}

static void log_hit(int op, long n, const char *path, int e)
{
	static const char *const opn[NOPS] = {"write", "fsync", "rename",
					      "close", "link"};
	const char *lp = getenv("INJECT_IO_LOG");
	ssize_t (*rwrite)(int, const void *, size_t) =
		(ssize_t(*)(int, const void *, size_t))real("write");
	int (*rclose)(int) = (int (*)(int))real("close");
	char line[4600];
	int fd, len;

	if (!lp)
		return;
	len = snprintf(line, sizeof(line), "%s %ld %s %d\n", opn[op], n, path,
		       e);
	fd = open(lp, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd >= 0) {
		if (rwrite(fd, line, (size_t)len) < 0)
			(void)0;
		rclose(fd);
	}
}

/* 1 when this call must fail (errno set). */
static int hit(int op, int fd, const char *path_arg)
{
	char path[4096] = "", proc[64];
	int i;

	if (nrules < 0)
		parse();
	if (!nrules)
		return 0;
	if (path_arg) {
		snprintf(path, sizeof(path), "%s", path_arg);
	} else {
		struct stat st;
		ssize_t n;

		if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
			return 0;
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		n = readlink(proc, path, sizeof(path) - 1);
		path[n > 0 ? n : 0] = '\0';
	}
	for (i = 0; i < nrules; i++) {
		struct rule *r = &rules[i];

		if (r->op != op || (r->pattern[0] && !strstr(path, r->pattern)))
			continue;
		r->seen++;
		if (r->seen == r->n || (r->from_on && r->seen > r->n)) {
			int saved = r->err;

			log_hit(op, r->seen, path, r->err);
			errno = saved;
			return 1;
		}
	}
	return 0;
}

ssize_t write(int fd, const void *p, size_t n)
{
	static ssize_t (*f)(int, const void *, size_t);

	if (!f)
		f = (ssize_t(*)(int, const void *, size_t))real("write");
	if (hit(OP_WRITE, fd, NULL))
		return -1;
	return f(fd, p, n);
}

ssize_t pwrite(int fd, const void *p, size_t n, off_t off)
{
	static ssize_t (*f)(int, const void *, size_t, off_t);

	if (!f)
		f = (ssize_t(*)(int, const void *, size_t, off_t))real("pwrite");
	if (hit(OP_WRITE, fd, NULL))
		return -1;
	return f(fd, p, n, off);
}

ssize_t pwrite64(int fd, const void *p, size_t n, off64_t off)
{
	static ssize_t (*f)(int, const void *, size_t, off64_t);

	if (!f)
		f = (ssize_t(*)(int, const void *, size_t, off64_t))real(
			"pwrite64");
	if (hit(OP_WRITE, fd, NULL))
		return -1;
	return f(fd, p, n, off);
}

ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	static ssize_t (*f)(int, const struct iovec *, int);

	if (!f)
		f = (ssize_t(*)(int, const struct iovec *, int))real("writev");
	if (hit(OP_WRITE, fd, NULL))
		return -1;
	return f(fd, iov, cnt);
}

int fsync(int fd)
{
	static int (*f)(int);

	if (!f)
		f = (int (*)(int))real("fsync");
	if (hit(OP_FSYNC, fd, NULL))
		return -1;
	return f(fd);
}

int fdatasync(int fd)
{
	static int (*f)(int);

	if (!f)
		f = (int (*)(int))real("fdatasync");
	if (hit(OP_FSYNC, fd, NULL))
		return -1;
	return f(fd);
}

int close(int fd)
{
	static int (*f)(int);

	if (!f)
		f = (int (*)(int))real("close");
	if (hit(OP_CLOSE, fd, NULL)) {
		int e = errno;

		f(fd);
		errno = e;
		return -1;
	}
	return f(fd);
}

int rename(const char *from, const char *to)
{
	static int (*f)(const char *, const char *);

	if (!f)
		f = (int (*)(const char *, const char *))real("rename");
	if (hit(OP_RENAME, -1, to))
		return -1;
	return f(from, to);
}

int renameat(int dfd, const char *from, int tfd, const char *to)
{
	static int (*f)(int, const char *, int, const char *);

	if (!f)
		f = (int (*)(int, const char *, int, const char *))real(
			"renameat");
	if (hit(OP_RENAME, -1, to))
		return -1;
	return f(dfd, from, tfd, to);
}

/* renameat2: what publishing without replacing (RENAME_NOREPLACE) uses. */
int renameat2(int dfd, const char *from, int tfd, const char *to,
	      unsigned flags)
{
	static int (*f)(int, const char *, int, const char *, unsigned);

	if (!f)
		f = (int (*)(int, const char *, int, const char *, unsigned))
			real("renameat2");
	if (hit(OP_RENAME, -1, to))
		return -1;
	return f(dfd, from, tfd, to, flags);
}

/* link, linkat: what delivering an outbox file to a folder on the same
 * file system uses (io_link_noreplace). */
int link(const char *from, const char *to)
{
	static int (*f)(const char *, const char *);

	if (!f)
		f = (int (*)(const char *, const char *))real("link");
	if (hit(OP_LINK, -1, to))
		return -1;
	return f(from, to);
}

int linkat(int fdf, const char *from, int fdt, const char *to, int flags)
{
	static int (*f)(int, const char *, int, const char *, int);

	if (!f)
		f = (int (*)(int, const char *, int, const char *, int))real(
			"linkat");
	if (hit(OP_LINK, -1, to))
		return -1;
	return f(fdf, from, fdt, to, flags);
}
