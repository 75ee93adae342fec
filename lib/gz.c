/* gz.c - gzip artifacts: a streaming writer (file to .gz, published
 * through lib/io) and a reader that inflates behind a stdio stream
 * (fopencookie), so every reader keeps its getline/fread loop. */
#include "gz.h"
#include "io.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

/* Level 1: the artifacts are JSON lines, CSV and XML, where level 1
 * already gives 8-15x (level 6 about 15 % smaller for twice the CPU),
 * and compaction runs inside the run's own time. */
#define GZ_LEVEL 1
#define GZ_CHUNK (64 * 1024)

struct gz_impl {
	int fd;
	z_stream z;
	int z_live;
	int eof;        /* the file is read to its end */
	int done;       /* the last gzip member ended */
	int failed;
	struct err err; /* what failed */
	unsigned char in[GZ_CHUNK];
};

static int gz_fail(struct gz_in *g, int code, const char *why)
{
	struct gz_impl *p = g->impl;

	p->failed = 1;
	err_set(&p->err, code, "cannot read '%s': %s", g->path, why);
	errno = EIO;
	return -1;
}

/* Fills the input buffer when it is empty; 0, or -1 (recorded). */
static int gz_fill(struct gz_in *g)
{
	struct gz_impl *p = g->impl;
	ssize_t r;

	if (p->z.avail_in || p->eof)
		return 0;
	do
		r = read(p->fd, p->in, sizeof(p->in));
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		p->failed = 1;
		err_sys(&p->err, "cannot read '%s'", g->path);
		errno = EIO;
		return -1;
	}
	if (r == 0)
		p->eof = 1;
	p->z.next_in = p->in;
	p->z.avail_in = (uInt)r;
	return 0;
}

static ssize_t gz_cookie_read(void *cookie, char *buf, size_t n)
{
	struct gz_in *g = cookie;
	struct gz_impl *p = g->impl;
	uInt want = n > UINT_MAX ? UINT_MAX : (uInt)n;
	int zr;

	if (p->failed)
		return errno = EIO, -1;
	p->z.next_out = (unsigned char *)buf;
	p->z.avail_out = want;
	while (p->z.avail_out == want && !p->done) {
		if (gz_fill(g) < 0)
			break;
		if (p->eof && !p->z.avail_in && p->z.total_in == 0 &&
		    p->z.total_out == 0) {
			gz_fail(g, E_PARSE, "truncated gzip file (empty)");
			break;
		}
		zr = inflate(&p->z, Z_NO_FLUSH);
		if (zr == Z_STREAM_END) {
			/* gzip allows members one after another */
			if (gz_fill(g) < 0)
				break;
			if (p->eof && !p->z.avail_in)
				p->done = 1;
			else if (inflateReset(&p->z) != Z_OK)
				gz_fail(g, E_PARSE, "damaged gzip member");
			continue;
		}
		if (zr == Z_BUF_ERROR && p->eof && !p->z.avail_in) {
			gz_fail(g, E_PARSE,
				"truncated gzip file (it ends before its "
				"compressed stream does)");
			break;
		}
		if (zr != Z_OK && zr != Z_BUF_ERROR) {
			gz_fail(g, E_PARSE,
				p->z.msg ? p->z.msg : "damaged gzip data");
			break;
		}
	}
	if (p->z.avail_out == want && p->failed)
		return errno = EIO, -1;
	return (ssize_t)(want - p->z.avail_out);
}

int gz_open(struct gz_in **out, const char *path, struct err *err)
{
	static const cookie_io_functions_t io = {gz_cookie_read, NULL, NULL,
						 NULL};
	struct gz_in *g;
	struct stat sb;
	struct err e = ERR_INIT;
	int fd;

	*out = NULL;
	if (!(g = calloc(1, sizeof(*g))))
		return err_set(err, E_NOMEM, "out of memory");
	if ((size_t)snprintf(g->path, sizeof(g->path), "%s", path) >=
	    sizeof(g->path) - strlen(GZ_SUFFIX)) {
		free(g);
		return err_set(err, E_TOOBIG, "path too long: '%s'", path);
	}
	fd = io_open_regular(path, &sb, &e);
	if (fd < 0 && e.os_code == ENOENT) {
		err_clear(&e);
		strcat(g->path, GZ_SUFFIX);
		if ((fd = io_open_regular(g->path, &sb, &e)) >= 0)
			g->compressed = 1;
		else if (e.os_code == ENOENT) {
			/* name the file the caller asked for */
			err_clear(&e);
			errno = ENOENT;
			err_sys(&e, "cannot open '%s' (nor its %s)", path,
				GZ_SUFFIX);
		}
	}
	if (fd < 0) {
		*err = e;
		free(g);
		return -1;
	}
	g->size = (int64_t)sb.st_size;
	if (!g->compressed) {
		if (!(g->f = fdopen(fd, "rb"))) {
			err_sys(err, "cannot read '%s'", path);
			goto fail;
		}
		/* stdio's buffer is st_blksize (4 KiB): a 64 MB canonical
		 * file read by the load took 16k read(2) calls. Without
		 * memory for more, the 4 KiB do. */
		if ((g->buf = malloc(GZ_CHUNK)))
			setvbuf(g->f, g->buf, _IOFBF, GZ_CHUNK);
		*out = g;
		return 0;
	}
	if (!(g->impl = calloc(1, sizeof(*g->impl)))) {
		err_set(err, E_NOMEM, "out of memory");
		goto fail;
	}
	g->impl->fd = fd;
	g->impl->err = (struct err)ERR_INIT;
	/* 15 + 32: the gzip header (zlib's too) is detected and checked */
	if (inflateInit2(&g->impl->z, 15 + 32) != Z_OK) {
		err_set(err, E_NOMEM, "cannot start inflating '%s'", g->path);
		goto fail;
	}
	g->impl->z_live = 1;
	if (!(g->f = fopencookie(g, "rb", io))) {
		err_sys(err, "cannot read '%s'", g->path);
		goto fail;
	}
	*out = g;
	return 0;
fail:
	if (g->impl && g->impl->z_live)
		inflateEnd(&g->impl->z);
	free(g->impl);
	close(fd);
	free(g);
	return -1;
}

int gz_close(struct gz_in *g, struct err *err)
{
	int rc = 0;

	if (!g)
		return 0;
	if (g->f && ferror(g->f) && !(g->impl && g->impl->failed))
		rc = err_sys(err, "cannot read '%s'", g->path);
	if (g->f)
		fclose(g->f);
	free(g->buf); /* stdio's buffer: after the fclose */
	if (g->impl) {
		if (g->impl->failed && !rc) {
			*err = g->impl->err;
			rc = -1;
		}
		if (g->impl->z_live)
			inflateEnd(&g->impl->z);
		close(g->impl->fd);
		free(g->impl);
	}
	free(g);
	return rc;
}

/* An unlinked read-write file in path's folder. */
static int gz_tmp_beside(const char *path, struct err *err)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	int fd;

	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if ((size_t)(slash - path) >= sizeof(dir))
		return err_set(err, E_TOOBIG, "path too long: '%s'", path);
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	if ((fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600)) < 0)
		return err_sys(err, "cannot make a temporary file in '%s'",
			       dir);
	return fd;
}

int gz_open_fd(const char *path, struct err *err)
{
	struct gz_in *g;
	char buf[GZ_CHUNK];
	size_t n;
	int fd = -1;

	if (gz_open(&g, path, err) < 0)
		return -1;
	if (!g->compressed) {
		if ((fd = dup(fileno(g->f))) < 0)
			err_sys(err, "cannot read '%s'", path);
		gz_close(g, err);
		return fd;
	}
	if ((fd = gz_tmp_beside(path, err)) < 0)
		goto fail;
	while ((n = fread(buf, 1, sizeof(buf), g->f)) > 0)
		if (write(fd, buf, n) != (ssize_t)n) {
			err_sys(err, "cannot inflate '%s' beside it", g->path);
			goto fail;
		}
	if (gz_close(g, err) < 0) {
		g = NULL;
		goto fail;
	}
	g = NULL;
	if (lseek(fd, 0, SEEK_SET) < 0) {
		err_sys(err, "cannot read '%s'", path);
		goto fail;
	}
	return fd;
fail:
	gz_close(g, &(struct err)ERR_INIT);
	if (fd >= 0)
		close(fd);
	return -1;
}

ssize_t gz_getline(char **line, size_t *cap, struct gz_in *g)
{
	ssize_t n = getline(line, cap, g->f);

	return n > 0 && ferror(g->f) ? -1 : n;
}

int gz_exists(const char *path)
{
	char gz[4096];

	if (io_exists(path))
		return 1;
	if ((size_t)snprintf(gz, sizeof(gz), "%s%s", path, GZ_SUFFIX) >=
	    sizeof(gz))
		return 0;
	return io_exists(gz);
}

/* Deflates what fd holds into a (flush: Z_FINISH at the end). */
static int gz_deflate_fd(int fd, const char *src, z_stream *z,
			 struct io_atomic *a, struct err *err)
{
	unsigned char *in = NULL, *out = NULL;
	int flush = Z_NO_FLUSH, zr = Z_OK, rc = -1;
	ssize_t r;

	if (!(in = malloc(GZ_CHUNK)) || !(out = malloc(GZ_CHUNK))) {
		err_set(err, E_NOMEM, "out of memory");
		goto cleanup;
	}
	while (flush != Z_FINISH) {
		do
			r = read(fd, in, GZ_CHUNK);
		while (r < 0 && errno == EINTR);
		if (r < 0) {
			err_sys(err, "cannot read '%s'", src);
			goto cleanup;
		}
		flush = r == 0 ? Z_FINISH : Z_NO_FLUSH;
		z->next_in = in;
		z->avail_in = (uInt)r;
		do {
			z->next_out = out;
			z->avail_out = GZ_CHUNK;
			zr = deflate(z, flush);
			if (zr == Z_STREAM_ERROR) {
				err_set(err, E_INTERNAL, "deflate failed");
				goto cleanup;
			}
			if (io_atomic_write(a, out, GZ_CHUNK - z->avail_out,
					    err) < 0)
				goto cleanup;
		} while (z->avail_out == 0);
	}
	rc = zr == Z_STREAM_END
		     ? 0
		     : err_set(err, E_INTERNAL, "deflate did not finish");
cleanup:
	free(in);
	free(out);
	return rc;
}

int gz_compress_file(const char *src, const char *dst, int64_t *in_bytes,
		     int64_t *out_bytes, struct err *err)
{
	struct io_atomic a;
	struct stat sb;
	z_stream z;
	int fd, rc = -1, open_a = 0, live = 0;

	memset(&z, 0, sizeof(z));
	if ((fd = io_open_regular(src, &sb, err)) < 0)
		return -1;
	/* 15 + 16: a gzip wrapper; zlib writes mtime 0 and no name */
	if (deflateInit2(&z, GZ_LEVEL, Z_DEFLATED, 15 + 16, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK) {
		err_set(err, E_NOMEM, "cannot start deflating '%s'", src);
		goto cleanup;
	}
	live = 1;
	if (io_atomic_open(&a, dst, err) < 0)
		goto cleanup;
	open_a = 1;
	a.no_hash = 1; /* nobody reads a compressed copy's hash */
	if (gz_deflate_fd(fd, src, &z, &a, err) < 0)
		goto cleanup;
	if (in_bytes)
		*in_bytes = (int64_t)z.total_in;
	if (out_bytes)
		*out_bytes = (int64_t)z.total_out;
	open_a = 0;
	if (io_atomic_commit(&a, NULL, err) < 0)
		goto cleanup;
	rc = 0;
cleanup:
	if (open_a)
		io_atomic_abort(&a);
	if (live)
		deflateEnd(&z);
	close(fd);
	return rc;
}

int gz_compact(const char *path, int64_t *saved, struct err *err)
{
	char gz[4096];
	int64_t in = 0, out = 0;

	if (saved)
		*saved = 0;
	if ((size_t)snprintf(gz, sizeof(gz), "%s%s", path, GZ_SUFFIX) >=
	    sizeof(gz))
		return err_set(err, E_TOOBIG, "path too long: '%s'", path);
	if (!io_exists(path))
		return 0;
	if (gz_compress_file(path, gz, &in, &out, err) < 0)
		return -1;
	/* NAME.gz is durable now: a crash from here on leaves both, and
	 * readers take NAME until it is gone. */
	io_crash_point("unlink");
	if (unlink(path) < 0 && errno != ENOENT)
		return err_sys(err, "cannot remove '%s'", path);
	if (io_fsync_parent(path, err) < 0)
		return -1;
	if (saved)
		*saved = in - out;
	return 0;
}

/* Copies what g inflates into a. */
static int gz_inflate_to(struct gz_in *g, struct io_atomic *a,
			 struct err *err)
{
	char *buf = malloc(GZ_CHUNK);
	size_t n;
	int rc = -1;

	if (!buf)
		return err_set(err, E_NOMEM, "out of memory");
	while ((n = fread(buf, 1, GZ_CHUNK, g->f)) > 0)
		if (io_atomic_write(a, buf, n, err) < 0)
			goto cleanup;
	rc = 0;
cleanup:
	free(buf);
	return rc;
}

int gz_expand(const char *path, int *expanded, struct err *err)
{
	struct gz_in *g = NULL;
	struct io_atomic a;
	struct err e = ERR_INIT;
	char gz[4096];
	int open_a = 0, rc = -1;

	*expanded = 0;
	if ((size_t)snprintf(gz, sizeof(gz), "%s%s", path, GZ_SUFFIX) >=
	    sizeof(gz))
		return err_set(err, E_TOOBIG, "path too long: '%s'", path);
	if (io_exists(path) || !io_exists(gz))
		return 0;
	if (gz_open(&g, path, err) < 0)
		return -1;
	if (!g->compressed) { /* NAME appeared since: nothing to do */
		rc = 0;
		goto cleanup;
	}
	if (io_atomic_open(&a, path, err) < 0)
		goto cleanup;
	open_a = 1;
	a.no_hash = 1; /* nor an inflated input's */
	if (gz_inflate_to(g, &a, err) < 0)
		goto cleanup;
	/* a truncated or damaged .gz must not become a short NAME */
	if (gz_close(g, &e) < 0) {
		g = NULL;
		*err = e;
		goto cleanup;
	}
	g = NULL;
	open_a = 0;
	if (io_atomic_commit(&a, NULL, err) < 0)
		goto cleanup;
	/* NAME is durable: a crash from here on leaves both, NAME read. */
	io_crash_point("unlink");
	if (unlink(gz) < 0 && errno != ENOENT) {
		err_sys(err, "cannot remove '%s'", gz);
		goto cleanup;
	}
	if (io_fsync_parent(path, err) < 0)
		goto cleanup;
	*expanded = 1;
	rc = 0;
cleanup:
	if (open_a)
		io_atomic_abort(&a);
	gz_close(g, &e);
	return rc;
}
