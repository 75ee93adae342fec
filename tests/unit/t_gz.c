/* t_gz.c - lib/gz: the writer's bytes, the reader's plain/.gz choice and
 * its errors on damaged files. */
#include "t.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/gz.h"

/* Reads all of path through gz_open into out (at most n bytes); the
 * bytes read, or -1 with err from gz_open/gz_close. */
static long read_all(const char *path, char *out, size_t n, struct err *e)
{
	struct gz_in *g;
	char *line = NULL;
	size_t cap = 0, got = 0;
	ssize_t r;

	if (gz_open(&g, path, e) < 0)
		return -1;
	while ((r = getline(&line, &cap, g->f)) > 0) {
		if (got + (size_t)r <= n)
			memcpy(out + got, line, (size_t)r);
		got += (size_t)r;
	}
	free(line);
	if (gz_close(g, e) < 0)
		return -1;
	return (long)got;
}

static long file_size(const char *path)
{
	struct stat sb;

	return stat(path, &sb) < 0 ? -1 : (long)sb.st_size;
}

/* A large text (several inflate chunks) that compresses well. */
static char *big_text(size_t *n)
{
	size_t cap = 3 << 20, i = 0;
	char *p = malloc(cap);
	unsigned k = 0;

	while (p && i + 100 < cap)
		i += (size_t)snprintf(p + i, cap - i,
				      "{\"sku\":\"KW-%07u\",\"qty\":\"%u\"}\n",
				      k * 7919 % 1000003, k % 97), k++;
	*n = i;
	return p;
}

T_TEST(gz_roundtrip_and_plain_first)
{
	struct err e = ERR_INIT;
	size_t n;
	char *text = big_text(&n), *back = malloc(n);
	FILE *f = fopen("a.jsonl", "wb");
	int64_t saved = -1;

	T_ASSERT(text && back && f);
	T_EQ_INT(fwrite(text, 1, n, f), n);
	fclose(f);
	T_OK(gz_compact("a.jsonl", &saved, &e), &e);
	T_ASSERT(access("a.jsonl", F_OK) != 0);
	T_ASSERT(file_size("a.jsonl.gz") > 0 &&
		 file_size("a.jsonl.gz") < (long)n / 4);
	T_EQ_INT(saved, (long)n - file_size("a.jsonl.gz"));
	T_ASSERT(gz_exists("a.jsonl"));
	T_EQ_INT(read_all("a.jsonl", back, n, &e), n);
	T_ASSERT(!memcmp(back, text, n));
	/* a crash between publish and unlink: both there, the plain one
	 * is read */
	T_OK(t_write_file("a.jsonl", "plain\n"), &e);
	T_EQ_INT(read_all("a.jsonl", back, n, &e), 6);
	T_ASSERT(!memcmp(back, "plain\n", 6));
	/* compacting again replaces the .gz */
	T_OK(gz_compact("a.jsonl", NULL, &e), &e);
	T_EQ_INT(read_all("a.jsonl", back, n, &e), 6);
	/* nothing to compact: no error */
	T_OK(gz_compact("a.jsonl", NULL, &e), &e);
	free(text);
	free(back);
}

T_TEST(gz_output_is_deterministic_gzip)
{
	struct err e = ERR_INIT;
	const char *a, *b;
	char x[64], y[64];

	T_OK(t_write_file("x", "hello\nworld\n"), &e);
	T_OK(gz_compress_file("x", "x1.gz", NULL, NULL, &e), &e);
	sleep(1);
	T_OK(gz_compress_file("x", "x2.gz", NULL, NULL, &e), &e);
	a = t_read_file("x1.gz");
	T_ASSERT(a);
	memcpy(x, a, 10);
	b = t_read_file("x2.gz");
	T_ASSERT(b);
	memcpy(y, b, 10);
	/* magic, deflate, no flags (no name), mtime 0 */
	T_EQ_INT((unsigned char)x[0], 0x1f);
	T_EQ_INT((unsigned char)x[1], 0x8b);
	T_EQ_INT(x[2], 8);
	T_EQ_INT(x[3], 0);
	T_ASSERT(!x[4] && !x[5] && !x[6] && !x[7]);
	T_EQ_INT(file_size("x1.gz"), file_size("x2.gz"));
	T_ASSERT(!memcmp(x, y, 10));
	/* gzip(1) reads it */
	if (system("gzip -dc x1.gz > x.back 2>/dev/null") != 0)
		T_SKIP("no gzip(1) to cross-check with");
	T_EQ_STR(t_read_file("x.back"), "hello\nworld\n");
}

T_TEST(gz_truncated_file_is_a_clear_error)
{
	struct err e = ERR_INIT;
	size_t n;
	char *text = big_text(&n), *back = malloc(n);
	FILE *f = fopen("t", "wb");
	long full;

	T_ASSERT(text && back && f);
	T_EQ_INT(fwrite(text, 1, n, f), n);
	fclose(f);
	T_OK(gz_compact("t", NULL, &e), &e);
	full = file_size("t.gz");
	T_ASSERT(truncate("t.gz", full / 2) == 0);
	T_EQ_INT(read_all("t", back, n, &e), -1);
	T_EQ_INT(e.code, E_PARSE);
	T_ASSERT(strstr(e.reason, "truncated") && strstr(e.reason, "t.gz"));
	/* the last 8 bytes (CRC and length) missing */
	err_clear(&e);
	T_OK(t_write_file("y", "some text\n"), &e);
	T_OK(gz_compact("y", NULL, &e), &e);
	T_ASSERT(truncate("y.gz", file_size("y.gz") - 4) == 0);
	T_EQ_INT(read_all("y", back, n, &e), -1);
	T_ASSERT(strstr(e.reason, "truncated"));
	/* an empty .gz */
	err_clear(&e);
	T_OK(t_write_file("z.gz", ""), &e);
	T_EQ_INT(read_all("z", back, n, &e), -1);
	T_ASSERT(strstr(e.reason, "truncated"));
	/* damaged bytes in the middle */
	err_clear(&e);
	T_OK(t_write_file("d.gz", "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03"
				  "garbage garbage garbage"),
	     &e);
	T_EQ_INT(read_all("d", back, n, &e), -1);
	T_EQ_INT(e.code, E_PARSE);
	free(text);
	free(back);
}

T_TEST(gz_missing_names_the_plain_file)
{
	struct err e = ERR_INIT;
	struct gz_in *g = NULL;

	T_EQ_INT(gz_open(&g, "nope.jsonl", &e), -1);
	T_ASSERT(!g);
	T_ASSERT(strstr(e.reason, "nope.jsonl"));
	T_EQ_INT(e.os_code, ENOENT);
	T_ASSERT(!gz_exists("nope.jsonl"));
	T_OK(gz_close(NULL, &e), &e);
}

/* gz_expand, what a rerun does with a compressed inbox copy: the plain
 * file back under its name and the .gz gone; a damaged .gz leaves no
 * plain file (and no temporary one) behind. */
T_TEST(gz_expand_restores_the_plain_file)
{
	struct err e = ERR_INIT;
	size_t n;
	char *text = big_text(&n), *back = malloc(n);
	FILE *f = fopen("in.csv", "wb");
	int expanded = -1;

	T_ASSERT(text && back && f);
	T_EQ_INT(fwrite(text, 1, n, f), n);
	fclose(f);
	T_OK(gz_compact("in.csv", NULL, &e), &e);
	T_OK(gz_expand("in.csv", &expanded, &e), &e);
	T_EQ_INT(expanded, 1);
	T_ASSERT(access("in.csv.gz", F_OK) != 0);
	T_EQ_INT(file_size("in.csv"), (long)n);
	T_EQ_INT(read_all("in.csv", back, n, &e), n);
	T_ASSERT(!memcmp(back, text, n));
	/* plain there (or both, after a crash): nothing to do */
	T_OK(gz_expand("in.csv", &expanded, &e), &e);
	T_EQ_INT(expanded, 0);
	T_OK(gz_compress_file("in.csv", "in.csv.gz", NULL, NULL, &e), &e);
	T_OK(gz_expand("in.csv", &expanded, &e), &e);
	T_EQ_INT(expanded, 0);
	T_ASSERT(access("in.csv.gz", F_OK) == 0);
	/* neither: nothing to do either (the stage reports the missing file) */
	T_OK(gz_expand("none.csv", &expanded, &e), &e);
	T_EQ_INT(expanded, 0);
	/* truncated: an error naming the .gz, no plain or temporary file */
	T_ASSERT(unlink("in.csv") == 0);
	T_ASSERT(truncate("in.csv.gz", file_size("in.csv.gz") - 12) == 0);
	T_EQ_INT(gz_expand("in.csv", &expanded, &e), -1);
	T_EQ_INT(e.code, E_PARSE);
	T_ASSERT(strstr(e.reason, "truncated") && strstr(e.reason, "in.csv.gz"));
	T_EQ_INT(expanded, 0);
	T_ASSERT(access("in.csv", F_OK) != 0);
	T_ASSERT(access(".in.csv.tmp", F_OK) != 0);
	T_ASSERT(access("in.csv.gz", F_OK) == 0);
	free(text);
	free(back);
}
