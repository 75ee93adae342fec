/* io.c - see io.h. */
#include "io.h"
#include "io_wq.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define IO_BUF (64 * 1024)

#ifdef STOCKPIPE_TEST_HOOKS
static _Thread_local int crash_muted;
#endif

void io_crash_mute(int on)
{
#ifdef STOCKPIPE_TEST_HOOKS
	crash_muted += on ? 1 : -1;
#else
	(void)on;
#endif
}

void io_crash_point(const char *what)
{
#ifdef STOCKPIPE_TEST_HOOKS
	/* Other threads may pass points too: every point counts once and
	 * the log keeps whole lines. */
	static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	static long count = 0, crash_at = -1;
	static const char *log_path;
	static int init;

	if (crash_muted)
		return;
	pthread_mutex_lock(&mu);
	if (!init) {
		const char *s = getenv("STOCKPIPE_CRASH_AT");

		crash_at = s ? atol(s) : -1;
		log_path = getenv("STOCKPIPE_CRASH_LOG");
		init = 1;
	}
	count++;
	if (log_path) {
		FILE *f = fopen(log_path, "a");

		if (f) {
			fprintf(f, "%ld %s\n", count, what);
			fclose(f);
		}
	}
	if (count == crash_at)
		raise(SIGKILL);
	pthread_mutex_unlock(&mu);
#else
	(void)what;
#endif
}

void io_test_pause(const char *what)
{
#ifdef STOCKPIPE_TEST_HOOKS
	const char *at = getenv("STOCKPIPE_PAUSE_AT");
	const char *flag = getenv("STOCKPIPE_PAUSE_FILE");
	struct timespec ts = {0, 10 * 1000 * 1000};
	static int paused;
	int fd, i;

	/* once per process: the test changes the world at the first one */
	if (paused || !at || !flag || strcmp(at, what))
		return;
	paused = 1;
	fd = open(flag, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return; /* no such folder: no pause */
	close(fd);
	/* at most a minute: a test that dies must not leave a run hanging */
	for (i = 0; i < 6000 && access(flag, F_OK) == 0; i++)
		nanosleep(&ts, NULL);
#else
	(void)what;
#endif
}

int io_open_regular(const char *path, struct stat *st, struct err *err)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0) {
		if (errno == ELOOP)
			return err_set(err, E_PARSE,
				       "refusing '%s': a symbolic link (never "
				       "followed)", path);
		return err_sys(err, "cannot open '%s'", path);
	}
	if (fstat(fd, st) < 0) {
		err_sys(err, "cannot stat '%s'", path);
		close(fd);
		return -1;
	}
	if (!S_ISREG(st->st_mode)) {
		close(fd);
		return err_set(err, E_PARSE,
			       "refusing '%s': not a regular file (%s)", path,
			       S_ISFIFO(st->st_mode)  ? "a fifo"
			       : S_ISDIR(st->st_mode) ? "a folder"
			       : S_ISSOCK(st->st_mode) ? "a socket"
						       : "a device");
	}
	/* O_NONBLOCK was for the open (a fifo would wait for a writer);
	 * reads of a regular file do not need it. */
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0) {
		err_sys(err, "cannot read '%s'", path);
		close(fd);
		return -1;
	}
	return fd;
}


int io_mkdirs(const char *path, struct err *err)
{
	char tmp[4096];
	size_t i, n = strlen(path);
	struct stat st;

	if (n >= sizeof(tmp))
		return err_set(err, E_IO, "path too long: '%s'", path);
	memcpy(tmp, path, n + 1);
	for (i = 1; i <= n; i++) {
		if (tmp[i] != '/' && tmp[i] != '\0')
			continue;
		tmp[i] = '\0';
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			return err_sys(err, "cannot create directory '%s'",
				       tmp);
		tmp[i] = path[i];
	}
	/* mkdir's EEXIST also covers a regular file of that name. */
	if (stat(path, &st) < 0)
		return err_sys(err, "cannot create directory '%s'", path);
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return err_sys(err, "cannot create directory '%s'", path);
	}
	return 0;
}

int io_fsync_dir(const char *dir, struct err *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return err_sys(err, "cannot open directory '%s'", dir);
	io_crash_point("fsync-dir");
	if (fsync(fd) < 0 && errno != EINVAL) {
		err_sys(err, "cannot fsync directory '%s'", dir);
		close(fd);
		return -1;
	}
	if (close(fd) < 0)
		return err_sys(err, "cannot close directory '%s'", dir);
	return 0;
}

int io_fsync_parent(const char *path, struct err *err)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	size_t n;

	if (!slash)
		return io_fsync_dir(".", err);
	n = (size_t)(slash - path);
	if (n == 0)
		n = 1;
	if (n >= sizeof(dir))
		return err_set(err, E_IO, "path too long: '%s'", path);
	memcpy(dir, path, n);
	dir[n] = '\0';
	return io_fsync_dir(dir, err);
}

int io_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

int io_rename(const char *from, const char *to, struct err *err)
{
	io_crash_point("rename");
	if (rename(from, to) < 0)
		return err_sys(err, "cannot rename '%s' to '%s'", from, to);
	return io_fsync_parent(to, err);
}

int io_rename_noreplace(const char *from, const char *to, struct err *err)
{
	io_crash_point("rename");
	if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) < 0) {
		/* A file system without the flag: link() never replaces
		 * either; the old name is then removed. */
		if (errno != EINVAL && errno != ENOSYS)
			goto fail;
		if (link(from, to) < 0)
			goto fail;
		if (unlink(from) < 0)
			return err_sys(err, "cannot remove '%s'", from);
	}
	return io_fsync_parent(to, err);
fail:
	if (errno == EEXIST)
		return err_set(err, E_EXISTS, "'%s' already exists; not "
				"replaced", to);
	return err_sys(err, "cannot rename '%s' to '%s'", from, to);
}

/* Creates the temporary file: O_EXCL|O_NOFOLLOW, so whatever sits under
 * the name (a symlink planted by someone who can write the folder, a
 * fifo) is never opened or written through. What is there is a leftover
 * of a killed run or a plant: it is removed (unlink removes a link, never
 * its target) and the name created again, once; a second plant loses. */
static int create_tmp(struct io_atomic *a, struct err *err)
{
	int k;

	for (k = 0; k < 2; k++) {
		a->fd = open(a->tmp,
			     O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
				     O_CLOEXEC,
			     0644);
		if (a->fd >= 0)
			return 0;
		if (errno != EEXIST || k)
			break;
		if (unlink(a->tmp) < 0 && errno != ENOENT)
			break;
	}
	err_sys(err, "cannot create '%s'", a->tmp);
	a->tmp[0] = '\0'; /* not ours: abort must not remove it */
	return -1;
}

int io_atomic_open(struct io_atomic *a, const char *final_path,
		    struct err *err)
{
	char dir[4096];
	const char *slash;
	int n;

	memset(a, 0, sizeof(*a));
	a->fd = -1;
	n = snprintf(a->final, sizeof(a->final), "%s", final_path);
	if (n < 0 || (size_t)n >= sizeof(a->final))
		return err_set(err, E_IO, "path too long: '%s'", final_path);
	/* A fixed, hidden temporary name beside the final one: a process
	 * killed mid-write leaves ".NAME.tmp", which pollers ignore (dot
	 * file) and which the redone unit overwrites and renames, so nothing
	 * is left behind once the work is finished. One run per state
	 * directory (lock.c) means no two writers share a name. */
	slash = strrchr(final_path, '/');
	if (slash)
		n = snprintf(a->tmp, sizeof(a->tmp), "%.*s/.%s.tmp",
			     (int)(slash - final_path), final_path, slash + 1);
	else
		n = snprintf(a->tmp, sizeof(a->tmp), ".%s.tmp", final_path);
	if (n < 0 || (size_t)n >= sizeof(a->tmp))
		return err_set(err, E_IO, "path too long: '%s'", final_path);
	if (slash && slash != final_path) {
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - final_path),
			 final_path);
		if (io_mkdirs(dir, err) < 0)
			return -1;
	}
	if (!(a->buf = malloc(IO_BUF)))
		return err_set(err, E_NOMEM, "out of memory");
	a->cap = IO_BUF;
	if (sha256_init(&a->sha, err) < 0) {
		free(a->buf);
		a->buf = NULL;
		return -1;
	}
	if (create_tmp(a, err) < 0) {
		io_atomic_abort(a);
		return -1;
	}
	return 0;
}

/* Hashes c's bytes (those inside [also_from, also_to) into also too) and
 * writes them; 0 or an errno. On the writer thread of an async file, the
 * caller's otherwise. */
static int put_chunk(struct io_atomic *a, const struct io_wq_chunk *c)
{
	size_t off = 0;

	/* Hashed here, a buffer at a time: per append it cost more than the
	 * hashing itself when rows are written one by one. */
	if (!a->no_hash)
		sha256_update(&a->sha, c->p, c->n);
	if (c->also) {
		uint64_t lo = c->off > c->also_from ? c->off : c->also_from;
		uint64_t hi = c->off + c->n < c->also_to ? c->off + c->n
							 : c->also_to;

		if (lo < hi)
			sha256_update(c->also, c->p + (lo - c->off),
				      (size_t)(hi - lo));
	}
	while (off < c->n) {
		ssize_t w = write(a->fd, c->p + off, c->n - off);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		off += (size_t)w;
	}
	return 0;
}

/* Every IO_FLUSH_AHEAD bytes the writer thread starts the disk writes of
 * what it wrote (sync_file_range, not waiting): commit's fsync then waits
 * for the tail, not for 600 MB of canonical records at once. */
#define IO_FLUSH_AHEAD (8u << 20)

static int wq_put(void *ud, const struct io_wq_chunk *c)
{
	struct io_atomic *a = ud;
	uint64_t end = c->off + c->n;
	int rc = put_chunk(a, c);

	if (rc || end - a->flushed < IO_FLUSH_AHEAD)
		return rc;
	if (sync_file_range(a->fd, (off64_t)a->flushed,
			    (off64_t)(end - a->flushed),
			    SYNC_FILE_RANGE_WRITE) < 0 &&
	    errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
		return errno; /* EIO, ENOSPC: the fsync would say the same */
	/* EINVAL etc.: a file system without it; the fsync does it all */
	a->flushed = end;
	return 0;
}

/* A write that failed with errno code: recorded (commit refuses), -1. */
static int write_failed(struct io_atomic *a, int code, struct err *err)
{
	a->failed = 1;
	errno = code;
	return err_sys(err, "cannot write '%s'", a->tmp);
}

/* Hashes and writes p[0..n) (a crash point), or hands it (a->buf) to the
 * writer thread; 0 or -1 (recorded). */
static int write_out(struct io_atomic *a, const unsigned char *p, size_t n,
		     struct err *err)
{
	struct io_wq_chunk c;
	int rc;

	io_crash_point("write");
	c.p = (unsigned char *)p;
	c.n = n;
	c.off = a->out;
	c.also = a->also;
	c.also_from = a->also_from;
	c.also_to = a->also_to;
	a->out += n;
	if (a->wq) {
		/* p is a->buf, the queue's: the next one comes back */
		rc = io_wq_submit(a->wq, &c);
		a->buf = io_wq_buf(a->wq);
	} else {
		rc = put_chunk(a, &c);
	}
	return rc ? write_failed(a, rc, err) : 0;
}

static int flush_pending(struct io_atomic *a, struct err *err)
{
	if (!a->pending)
		return 0;
	if (write_out(a, a->buf, a->pending, err) < 0)
		return -1;
	a->pending = 0;
	return 0;
}

int io_atomic_write(struct io_atomic *a, const void *p, size_t n,
		     struct err *err)
{
	const unsigned char *s = p;

	if (a->failed || a->fd < 0)
		return err_set(err, E_IO, "write after failure on '%s'",
			       a->tmp);
	a->bytes += n;
	/* A caller that buffers itself (render's rows, a copy's reads)
	 * hands over half a buffer or more at a time: written from where
	 * it is, not copied into buf first (not with a writer thread: the
	 * caller's buffer is its own again once this returns). */
	if (!a->wq && !a->pending && n >= a->cap / 2)
		return write_out(a, s, n, err);
	while (n) {
		size_t room = a->cap - a->pending;
		size_t k = n < room ? n : room;

		memcpy(a->buf + a->pending, s, k);
		a->pending += k;
		s += k;
		n -= k;
		if (a->pending == a->cap && flush_pending(a, err) < 0)
			return -1;
	}
	return 0;
}

/* Writes out what is buffered and, with a writer thread, waits until it
 * has written everything; 0 or -1 (recorded). */
static int write_all_out(struct io_atomic *a, struct err *err)
{
	int rc;

	if (flush_pending(a, err) < 0)
		return -1;
	if (a->wq && (rc = io_wq_drain(a->wq)))
		return write_failed(a, rc, err);
	return 0;
}

/* Stops the writer thread (before fd is closed: it may be writing). */
static void wq_end(struct io_atomic *a)
{
	if (!a->wq)
		return;
	io_wq_stop(a->wq);
	a->wq = NULL;
	a->buf = NULL; /* the queue's, freed with it */
}

int io_atomic_async(struct io_atomic *a, struct err *err)
{
	struct io_wq *q;

	if (a->bytes || a->wq) {
		err_set(err, E_INTERNAL, "'%s': a writer thread is started "
			"before the first write, once", a->final);
		goto fail;
	}
	if (io_wq_start(&q, wq_put, a, err) < 0)
		goto fail;
	free(a->buf);
	a->wq = q;
	a->buf = io_wq_buf(q);
	a->cap = IO_WQ_BUF;
	return 0;
fail:
	io_atomic_abort(a);
	return -1;
}

void io_atomic_hash_also(struct io_atomic *a, struct sha256 *also)
{
	a->also = also;
	a->also_from = a->bytes;
	a->also_to = UINT64_MAX;
}

int io_atomic_hash_also_end(struct io_atomic *a, struct err *err)
{
	int rc;

	a->also_to = a->bytes;
	rc = write_all_out(a, err);
	a->also = NULL;
	return rc;
}

int io_atomic_commit(struct io_atomic *a, char *sha_hex, struct err *err)
{
	char hex[SHA256_HEX_LEN];

	if (a->failed || a->fd < 0) {
		err_set(err, E_IO, "cannot commit '%s' after a failed write",
			a->final);
		goto fail;
	}
	if (a->no_hash && sha_hex) {
		err_set(err, E_INTERNAL, "'%s' was written without its hash",
			a->final);
		goto fail;
	}
	if (write_all_out(a, err) < 0)
		goto fail;
	wq_end(a);
	/* The mode before the rename: set after it, a poller of the target
	 * folder could open the file with the umask's bits in between. */
	if (a->mode && fchmod(a->fd, (mode_t)a->mode) < 0) {
		err_sys(err, "cannot chmod '%s' to %04o", a->tmp, a->mode);
		goto fail;
	}
	io_crash_point("fsync");
	if (fsync(a->fd) < 0) {
		err_sys(err, "cannot fsync '%s'", a->tmp);
		goto fail;
	}
	if (close(a->fd) < 0) {
		a->fd = -1;
		err_sys(err, "cannot close '%s'", a->tmp);
		goto fail;
	}
	a->fd = -1;
	if (a->no_hash) {
		sha256_release(&a->sha);
	} else {
		sha256_final(&a->sha, hex);
		if (sha_hex)
			memcpy(sha_hex, hex, SHA256_HEX_LEN);
	}
	if ((a->noreplace ? io_rename_noreplace(a->tmp, a->final, err)
			  : io_rename(a->tmp, a->final, err)) < 0)
		goto fail;
	a->tmp[0] = '\0';
	free(a->buf);
	a->buf = NULL;
	return 0;
fail:
	io_atomic_abort(a);
	return -1;
}

void io_atomic_abort(struct io_atomic *a)
{
	wq_end(a);
	if (a->fd >= 0)
		close(a->fd);
	a->fd = -1;
	if (a->tmp[0])
		unlink(a->tmp);
	a->tmp[0] = '\0';
	sha256_release(&a->sha);
	free(a->buf);
	a->buf = NULL;
}

int io_write_file(const char *path, const void *p, size_t n, char *sha_hex,
		   struct err *err)
{
	struct io_atomic a;

	if (io_atomic_open(&a, path, err) < 0)
		return -1;
	a.no_hash = !sha_hex;
	if (io_atomic_write(&a, p, n, err) < 0) {
		io_atomic_abort(&a);
		return -1;
	}
	return io_atomic_commit(&a, sha_hex, err);
}

int io_copy(const char *src, const char *dst, char *sha_hex, uint64_t *size,
	     struct err *err)
{
	struct stat st;
	int fd = io_open_regular(src, &st, err);

	if (fd < 0)
		return -1;
	return io_copy_fd(fd, src, dst, 0, sha_hex, size, err);
}

int io_copy_noreplace(const char *src, const char *dst, char *sha_hex,
		      uint64_t *size, struct err *err)
{
	struct stat st;
	int fd = io_open_regular(src, &st, err);

	if (fd < 0)
		return -1;
	return io_copy_fd(fd, src, dst, 1, sha_hex, size, err);
}

static int copy_fd(int fd, const char *src, const char *dst, int noreplace,
		   unsigned mode, char *sha_hex, uint64_t *size,
		   struct err *err)
{
	struct io_atomic a;
	struct stat st;
	unsigned char *b;
	ssize_t n;

	if (!(b = malloc(IO_BUF))) {
		close(fd);
		return err_set(err, E_NOMEM, "out of memory");
	}
	if (io_atomic_open(&a, dst, err) < 0)
		goto fail;
	a.noreplace = noreplace;
	a.mode = mode;
	a.no_hash = !sha_hex;
	/* A large file (a fetched 100 MB drop) is read here while the
	 * thread hashes and writes what was read before. */
	if (fstat(fd, &st) == 0 && st.st_size >= (off_t)IO_ASYNC_MIN &&
	    io_atomic_async(&a, err) < 0)
		goto fail;
	while ((n = read(fd, b, IO_BUF)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err_sys(err, "cannot read '%s'", src);
			goto fail_abort;
		}
		if (io_atomic_write(&a, b, (size_t)n, err) < 0)
			goto fail_abort;
	}
	if (size)
		*size = a.bytes;
	free(b);
	close(fd);
	return io_atomic_commit(&a, sha_hex, err);
fail_abort:
	io_atomic_abort(&a);
fail:
	free(b);
	close(fd);
	return -1;
}

int io_copy_fd(int fd, const char *src, const char *dst, int noreplace,
	       char *sha_hex, uint64_t *size, struct err *err)
{
	return copy_fd(fd, src, dst, noreplace, 0, sha_hex, size, err);
}

int io_copy_noreplace_mode(const char *src, const char *dst, unsigned mode,
			   char *sha_hex, uint64_t *size, struct err *err)
{
	struct stat st;
	int fd = io_open_regular(src, &st, err);

	if (fd < 0)
		return -1;
	return copy_fd(fd, src, dst, 1, mode, sha_hex, size, err);
}

/* The hidden temporary name beside path (".NAME.tmp"), as
 * io_atomic_open gives it. */
static int tmp_name(const char *path, char *out, size_t n, struct err *err)
{
	const char *slash = strrchr(path, '/');
	int k;

	if (slash)
		k = snprintf(out, n, "%.*s/.%s.tmp", (int)(slash - path), path,
			     slash + 1);
	else
		k = snprintf(out, n, ".%s.tmp", path);
	if (k < 0 || (size_t)k >= n)
		return err_set(err, E_IO, "path too long: '%s'", path);
	return 0;
}

/* errno values of a link() the file system cannot make: another file
 * system, no hard links there, a link count at its limit, a policy
 * (protected_hardlinks, a mount) refusing it. */
static int link_unsupported(int e)
{
	return e == EXDEV || e == EPERM || e == EMLINK || e == ENOSYS ||
	       e == EOPNOTSUPP || e == EACCES;
}

/* link(src, tmp), once more after removing a leftover tmp (a killed
 * delivery's). 0, 1 when the file system cannot link, or -1 with err. */
static int link_tmp(const char *src, const char *tmp, struct err *err)
{
	int k;

	for (k = 0; k < 2; k++) {
		if (link(src, tmp) == 0)
			return 0;
		if (errno != EEXIST || k)
			break;
		if (unlink(tmp) < 0 && errno != ENOENT)
			break;
	}
	if (link_unsupported(errno))
		return 1;
	return err_sys(err, "cannot link '%s' to '%s'", src, tmp);
}

/* The linked tmp is what src was checked to be (a regular file, that
 * inode): a name swapped between the lstat and the link is refused. */
static int same_file(const char *tmp, const struct stat *want,
		     struct err *err)
{
	struct stat st;

	if (lstat(tmp, &st) < 0)
		return err_sys(err, "cannot stat '%s'", tmp);
	if (!S_ISREG(st.st_mode) || st.st_dev != want->st_dev ||
	    st.st_ino != want->st_ino)
		return err_set(err, E_PARSE, "'%s' changed while it was "
				"linked; not published",
			       tmp);
	return 0;
}

int io_link_noreplace(const char *src, const char *dst, unsigned mode,
		      struct err *err)
{
	char tmp[4096];
	struct stat st;
	int fd = -1, rc;

	if (tmp_name(dst, tmp, sizeof(tmp), err) < 0)
		return -1;
	/* lstat: link() would link a symlink itself, never what it names.
	 * Anything but a regular file (gone, a symlink, a fifo) is left to
	 * the caller's copy, which refuses it with its usual message. */
	if (lstat(src, &st) < 0 || !S_ISREG(st.st_mode))
		return 1;
	io_crash_point("link");
	if ((rc = link_tmp(src, tmp, err)) != 0)
		return rc;
	if (same_file(tmp, &st, err) < 0)
		goto fail;
	/* The mode before the rename, as a copy has it; the times of now,
	 * as a copy made now has them (pollers that go by mtime). */
	if (mode && chmod(tmp, (mode_t)mode) < 0) {
		err_sys(err, "cannot chmod '%s' to %04o", tmp, mode);
		goto fail;
	}
	if (utimensat(AT_FDCWD, tmp, NULL, AT_SYMLINK_NOFOLLOW) < 0) {
		err_sys(err, "cannot set the times of '%s'", tmp);
		goto fail;
	}
	/* The bytes were fsynced when src was published; this commits the
	 * inode's new link count and times. */
	if ((fd = open(tmp, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		err_sys(err, "cannot open '%s'", tmp);
		goto fail;
	}
	io_crash_point("fsync");
	if (fsync(fd) < 0) {
		err_sys(err, "cannot fsync '%s'", tmp);
		goto fail;
	}
	if (close(fd) < 0) {
		fd = -1;
		err_sys(err, "cannot close '%s'", tmp);
		goto fail;
	}
	fd = -1;
	if (io_rename_noreplace(tmp, dst, err) < 0)
		goto fail;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return -1;
}

void io_clean_tmp(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[4096];

	if (!d)
		return;
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);

		if (e->d_name[0] != '.' || n < 5 ||
		    strcmp(e->d_name + n - 4, ".tmp"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
}
