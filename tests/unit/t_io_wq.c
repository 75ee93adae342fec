/* t_io_wq.c - the writer thread (io_wq) and io_atomic's async mode and
 * hash_also: the same bytes and hashes as the plain path, in order,
 * failures reported, nothing left behind. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/io.h"
#include "lib/io_wq.h"
#include "t.h"

/* 1 000 003 bytes of (i * 31 + 7) % 251: several writer buffers. */
#define BIG_LEN 1000003

static unsigned char *big_pattern(void)
{
	unsigned char *p = malloc(BIG_LEN);
	size_t i;

	if (p)
		for (i = 0; i < BIG_LEN; i++)
			p[i] = (unsigned char)((i * 31 + 7) % 251);
	return p;
}

/* Writes p through a (pieces of 70 000 bytes and of 1, as render and map
 * hand them), with hash_also over [from, to); 0 or -1. */
static int write_pieces(struct io_atomic *a, const unsigned char *p,
			struct sha256 *also, size_t from, size_t to,
			struct err *e)
{
	size_t i, k;

	for (i = 0; i < BIG_LEN; i += k) {
		k = (i % 3 == 0) ? 70000 : 1;
		if (k > BIG_LEN - i)
			k = BIG_LEN - i;
		/* the range starts and ends inside a piece: split there */
		if (i < from && i + k > from)
			k = from - i;
		if (i < to && i + k > to)
			k = to - i;
		if (i == from)
			io_atomic_hash_also(a, also);
		if (io_atomic_write(a, p + i, k, e) < 0)
			return -1;
		if (i + k == to && io_atomic_hash_also_end(a, e) < 0)
			return -1;
	}
	return 0;
}

/* One file written plain or async: its hash, the disk's, and the rows
 * hash of [from, to) are those of the bytes. */
static void check_file(int async, size_t from, size_t to)
{
	struct io_atomic a;
	struct sha256 also;
	struct err e = ERR_INIT;
	char hex[SHA256_HEX_LEN], disk[SHA256_HEX_LEN];
	char want[SHA256_HEX_LEN], want_also[SHA256_HEX_LEN];
	char ahex[SHA256_HEX_LEN];
	unsigned char *p = big_pattern();

	T_ASSERT(p != NULL);
	T_OK(sha256_hex_of(p, BIG_LEN, want, &e), &e);
	T_OK(sha256_hex_of(p + from, to - from, want_also, &e), &e);
	T_OK(sha256_init(&also, &e), &e);
	T_OK(io_atomic_open(&a, "out/wq.bin", &e), &e);
	if (async)
		T_OK(io_atomic_async(&a, &e), &e);
	if (write_pieces(&a, p, &also, from, to, &e) < 0) {
		io_atomic_abort(&a);
		sha256_release(&also);
		free(p);
		T_FAIL("write failed: %s", e.reason);
	}
	/* finalized before the commit, as render does before its footer */
	sha256_final(&also, ahex);
	T_EQ_STR(ahex, want_also);
	T_OK(io_atomic_commit(&a, hex, &e), &e);
	T_EQ_STR(hex, want);
	T_OK(sha256_file("out/wq.bin", disk, NULL, &e), &e);
	T_EQ_STR(disk, want);
	T_ASSERT(!io_exists("out/.wq.bin.tmp"));
	free(p);
}

T_TEST(io_async_same_bytes_and_hashes)
{
	/* A range inside one buffer, one across several, one from the
	 * start, one to the end; plain and async alike. */
	check_file(0, 5, 17);
	check_file(1, 5, 17);
	check_file(0, 100000, 900001);
	check_file(1, 100000, 900001);
	check_file(1, 0, 262144);
	check_file(1, 262143, BIG_LEN);
}

T_TEST(io_async_write_error_reported)
{
	struct io_atomic a;
	struct err e = ERR_INIT;
	unsigned char *p = big_pattern();
	int ro, failed_at_write;

	T_ASSERT(p != NULL);
	T_OK(io_atomic_open(&a, "out/bad.bin", &e), &e);
	T_OK(io_atomic_async(&a, &e), &e);
	/* The temporary file's descriptor made read-only: every write the
	 * thread makes fails with EBADF. */
	ro = open("out/.bad.bin.tmp", O_RDONLY);
	T_ASSERT(ro >= 0);
	T_ASSERT(dup2(ro, a.fd) == a.fd);
	close(ro);
	failed_at_write = io_atomic_write(&a, p, BIG_LEN, &e) < 0;
	free(p);
	if (failed_at_write) {
		/* a later buffer found the thread's failure */
		T_EQ_INT(e.code, E_IO);
		T_ASSERT(strstr(e.reason, "cannot write 'out/.bad.bin.tmp'"));
		err_clear(&e);
	}
	T_EQ_INT(io_atomic_commit(&a, NULL, &e), -1);
	T_EQ_INT(e.code, E_IO);
	T_ASSERT(strstr(e.reason, failed_at_write ? "after a failed write"
						  : "cannot write"));
	T_ASSERT(!io_exists("out/bad.bin"));
	T_ASSERT(!io_exists("out/.bad.bin.tmp"));
}

/* Less than a buffer: the thread's only write is the commit's, and its
 * failure must stop the commit. */
T_TEST(io_async_write_error_at_commit)
{
	struct io_atomic a;
	struct err e = ERR_INIT;
	int ro;

	T_OK(io_atomic_open(&a, "out/late.bin", &e), &e);
	T_OK(io_atomic_async(&a, &e), &e);
	ro = open("out/.late.bin.tmp", O_RDONLY);
	T_ASSERT(ro >= 0);
	T_ASSERT(dup2(ro, a.fd) == a.fd);
	close(ro);
	T_OK(io_atomic_write(&a, "0123456789", 10, &e), &e);
	T_EQ_INT(io_atomic_commit(&a, NULL, &e), -1);
	T_EQ_INT(e.code, E_IO);
	T_ASSERT(strstr(e.reason, "cannot write 'out/.late.bin.tmp'"));
	T_ASSERT(!io_exists("out/late.bin"));
	T_ASSERT(!io_exists("out/.late.bin.tmp"));
}

T_TEST(io_async_abort_leaves_nothing)
{
	struct io_atomic a;
	struct err e = ERR_INIT;
	unsigned char *p = big_pattern();

	T_ASSERT(p != NULL);
	T_OK(io_atomic_open(&a, "out/gone.bin", &e), &e);
	T_OK(io_atomic_async(&a, &e), &e);
	T_OK(io_atomic_write(&a, p, BIG_LEN, &e), &e);
	free(p);
	io_atomic_abort(&a);
	io_atomic_abort(&a); /* twice is safe */
	T_ASSERT(!io_exists("out/gone.bin"));
	T_ASSERT(!io_exists("out/.gone.bin.tmp"));
	/* After the first write, too late for a thread. */
	T_OK(io_atomic_open(&a, "out/late.bin", &e), &e);
	T_OK(io_atomic_write(&a, "x", 1, &e), &e);
	T_EQ_INT(io_atomic_async(&a, &e), -1);
	T_EQ_INT(e.code, E_INTERNAL);
	T_ASSERT(!io_exists("out/.late.bin.tmp"));
}

/* io_wq alone: the chunks in order, and a failure sticky. */
struct seen {
	uint64_t next;  /* the offset the next chunk must have */
	int n, fail_at, out_of_order;
	unsigned char first[64];
};

static int seen_chunk(void *ud, const struct io_wq_chunk *c)
{
	struct seen *s = ud;

	if (c->off != s->next || c->p[0] != (unsigned char)(s->n & 0xff))
		s->out_of_order++;
	s->next = c->off + c->n;
	if (s->n < 64)
		s->first[s->n] = c->p[0];
	if (++s->n == s->fail_at)
		return EIO;
	/* slower than the producer: the queue fills up */
	usleep(200);
	return 0;
}

T_TEST(io_wq_order_and_sticky_failure)
{
	struct io_wq *q;
	struct io_wq_chunk m;
	struct seen s;
	struct err e = ERR_INIT;
	int i, rc, first_fail = -1;
	uint64_t off = 0;

	memset(&s, 0, sizeof(s));
	T_OK(io_wq_start(&q, seen_chunk, &s, &e), &e);
	memset(&m, 0, sizeof(m));
	for (i = 0; i < 40; i++) {
		unsigned char *b = io_wq_buf(q);

		memset(b, i & 0xff, 100);
		m.n = 100;
		m.off = off;
		off += 100;
		T_EQ_INT(io_wq_submit(q, &m), 0);
	}
	T_EQ_INT(io_wq_drain(q), 0);
	T_EQ_INT(s.n, 40);
	T_EQ_INT(s.out_of_order, 0);
	io_wq_stop(q);

	/* The 3rd chunk fails: later submits say so, drain too, and no
	 * chunk after it is run. */
	memset(&s, 0, sizeof(s));
	s.fail_at = 3;
	T_OK(io_wq_start(&q, seen_chunk, &s, &e), &e);
	for (i = 0, off = 0; i < 20; i++) {
		memset(io_wq_buf(q), i & 0xff, 10);
		m.n = 10;
		m.off = off;
		off += 10;
		rc = io_wq_submit(q, &m);
		if (rc && first_fail < 0)
			first_fail = i;
		if (first_fail >= 0)
			T_EQ_INT(rc, EIO);
	}
	T_EQ_INT(io_wq_drain(q), EIO);
	T_ASSERT(first_fail >= 3);
	T_EQ_INT(s.n, 3);
	io_wq_stop(q);
	io_wq_stop(NULL);
}

/* A copy of IO_ASYNC_MIN bytes or more goes through a writer thread: the
 * same bytes and hash as the source, nothing left behind. */
T_TEST(io_copy_large_async)
{
	struct err e = ERR_INIT;
	char want[SHA256_HEX_LEN], hex[SHA256_HEX_LEN], disk[SHA256_HEX_LEN];
	size_t n = IO_ASYNC_MIN + 12345, i;
	unsigned char *p = malloc(n);
	uint64_t size = 0;
	int fd;

	T_ASSERT(p != NULL);
	for (i = 0; i < n; i++)
		p[i] = (unsigned char)((i * 131 + i / 7) % 253);
	T_OK(io_write_file("src.bin", p, n, want, &e), &e);
	free(p);
	fd = open("src.bin", O_RDONLY);
	T_ASSERT(fd >= 0);
	T_OK(io_copy_fd(fd, "src.bin", "out/copy.bin", 0, hex, &size, &e),
	     &e);
	T_EQ_STR(hex, want);
	T_EQ_INT(size, n);
	T_OK(sha256_file("out/copy.bin", disk, NULL, &e), &e);
	T_EQ_STR(disk, want);
	T_ASSERT(!io_exists("out/.copy.bin.tmp"));
}
