/* fuzz_util.c - see fuzz.h. */
#include "fuzz.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

void fz_fail(const char *file, int line, const char *what)
{
	fprintf(stderr, "%s:%d: invariant failed: %s\n", file, line, what);
	abort();
}

/* --wrap=read: references to read() in the linked objects (our readers)
 * come here; the real one is __real_read. */
ssize_t __real_read(int fd, void *buf, size_t n);
ssize_t __wrap_read(int fd, void *buf, size_t n);

static int chunk_fd = -1;
static size_t chunk_len;

ssize_t __wrap_read(int fd, void *buf, size_t n)
{
	if (fd == chunk_fd && chunk_len && n > chunk_len)
		n = chunk_len;
	return __real_read(fd, buf, n);
}

void fz_set_chunk(int fd, size_t chunk)
{
	off_t size = fd >= 0 ? lseek(fd, 0, SEEK_END) : 0;

	/* Byte-sized reads of a large input only cost time: boundary bugs
	 * show on small inputs too. */
	if (chunk && chunk < 64 && size > 4096)
		chunk = 64;
	if (fd >= 0)
		lseek(fd, 0, SEEK_SET);
	chunk_fd = fd;
	chunk_len = chunk;
}

size_t fz_chunk_from_bits(unsigned bits)
{
	static const size_t sizes[8] = { 0, 1, 2, 3, 7, 64, 511, 4096 };

	return sizes[bits & 7];
}

int fz_memfd(const void *data, size_t n)
{
	const char *p = data;
	int fd = memfd_create("fuzz", MFD_CLOEXEC);

	if (fd < 0)
		return -1;
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			close(fd);
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	if (lseek(fd, 0, SEEK_SET) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int fz_write_file(const char *path, const void *data, size_t n)
{
	FILE *f = fopen(path, "wb");
	int rc = 0;

	if (!f)
		return -1;
	if (n && fwrite(data, 1, n, f) != n)
		rc = -1;
	if (fclose(f))
		rc = -1;
	return rc;
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	if (ftw->level == 0)
		return 0;  /* keep the directory itself */
	if (remove(path) && errno != ENOENT)
		fprintf(stderr, "fuzz: cannot remove %s: %s\n", path,
			strerror(errno));
	return 0;
}

void fz_empty_dir(const char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static char tmpdir[256];

static void rm_tmpdir(void)
{
	if (tmpdir[0]) {
		fz_empty_dir(tmpdir);
		rmdir(tmpdir);
	}
}

const char *fz_tmpdir(void)
{
	if (!tmpdir[0]) {
		const char *t = getenv("TMPDIR");

		snprintf(tmpdir, sizeof(tmpdir), "%s/sp-fuzz.XXXXXX",
			 t && *t ? t : "/tmp");
		if (!mkdtemp(tmpdir)) {
			perror("fuzz: mkdtemp");
			abort();
		}
		atexit(rm_tmpdir);
	}
	return tmpdir;
}
