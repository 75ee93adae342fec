/* t_unpack.c - archives built here with libarchive's writer (zip, tar,
 * tar.gz, a single .gz) and split by unpack_archive(): members listed and
 * written under our own names; '..', absolute paths, links and devices
 * refused; the member, total, count and ratio limits end the archive. */
#include <archive.h>
#include <archive_entry.h>
#include <locale.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "transforms/formats/unpack.h"
#include "lib/err.h"
#include "lib/sha256.h"
#include "t.h"

/* One member to write: a regular file with data, or a symlink/hardlink
 * (target set), or a directory (type AE_IFDIR). */
struct tm_member {
	const char *name;
	const char *data;   /* NULL with size: that many zero bytes */
	size_t size;
	unsigned type;      /* AE_IFREG when 0 */
	const char *target; /* link target */
	int hard;           /* target is a hard link */
};

enum tm_fmt { TM_ZIP, TM_TAR, TM_TGZ, TM_GZ };

static int write_member(struct archive *a, const struct tm_member *m)
{
	static const char zeros[65536];
	struct archive_entry *e = archive_entry_new();
	size_t size = m->data ? strlen(m->data) : m->size, left;
	unsigned type = m->type ? m->type : AE_IFREG;
	int rc = -1;

	if (!e)
		return -1;
	archive_entry_set_pathname(e, m->name);
	archive_entry_set_perm(e, type == AE_IFDIR ? 0755 : 0644);
	archive_entry_set_mtime(e, 1790000000, 0);
	if (m->target && m->hard) {
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_hardlink(e, m->target);
		size = 0;
	} else {
		archive_entry_set_filetype(e, type);
		if (type == AE_IFLNK)
			archive_entry_set_symlink(e, m->target);
		if (type != AE_IFREG)
			size = 0;
	}
	archive_entry_set_size(e, (la_int64_t)size);
	if (archive_write_header(a, e) != ARCHIVE_OK)
		goto out;
	if (m->data && size &&
	    archive_write_data(a, m->data, size) != (la_ssize_t)size)
		goto out;
	for (left = m->data ? 0 : size; left;) {
		size_t n = left < sizeof(zeros) ? left : sizeof(zeros);

		if (archive_write_data(a, zeros, n) != (la_ssize_t)n)
			goto out;
		left -= n;
	}
	rc = 0;
out:
	archive_entry_free(e);
	return rc;
}

/* Writes path as an archive of the n members; 0 or -1. */
static int make_archive(const char *path, enum tm_fmt fmt,
			const struct tm_member *m, int n)
{
	struct archive *a = archive_write_new();
	int i, rc = -1;

	if (!a)
		return -1;
	if (fmt == TM_ZIP)
		archive_write_set_format_zip(a);
	else if (fmt == TM_GZ)
		archive_write_set_format_raw(a);
	else
		archive_write_set_format_pax_restricted(a);
	if (fmt == TM_TGZ || fmt == TM_GZ)
		archive_write_add_filter_gzip(a);
	if (archive_write_open_filename(a, path) != ARCHIVE_OK)
		goto out;
	for (i = 0; i < n; i++)
		if (write_member(a, &m[i]) < 0)
			goto out;
	if (archive_write_close(a) != ARCHIVE_OK)
		goto out;
	rc = 0;
out:
	archive_write_free(a);
	return rc;
}

/* What unpack_archive() reported, member by member. */
struct seen {
	int n;
	char name[16][128];
	char path[16][256];   /* "" when refused */
	char refused[16][128];
	uint64_t size[16];
	char sha[16][SHA256_HEX_LEN];
	int is_archive[16];
	int stop_at;          /* return -1 at this member (1-based), 0 = never */
};

static int collect(void *ud, const struct unpack_member *m, struct err *err)
{
	struct seen *s = ud;
	int i = s->n++;

	if (i < 16) {
		snprintf(s->name[i], sizeof(s->name[i]), "%s", m->name);
		snprintf(s->path[i], sizeof(s->path[i]), "%s",
			 m->path ? m->path : "");
		snprintf(s->refused[i], sizeof(s->refused[i]), "%s",
			 m->refused ? m->refused : "");
		snprintf(s->sha[i], sizeof(s->sha[i]), "%s",
			 m->sha256 ? m->sha256 : "");
		s->size[i] = m->size;
		s->is_archive[i] = m->is_archive;
	}
	if (s->stop_at && s->n == s->stop_at)
		return err_set(err, E_MAP, "stopped by the callback");
	return 0;
}

static int run_unpack(const char *path, const struct unpack_limits *lim,
		      struct seen *s, struct err *e)
{
	struct unpack_limits def;

	if (!lim) {
		unpack_limits_default(&def);
		lim = &def;
	}
	return unpack_archive(path, path, "out", lim, collect, s, e);
}

static int exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

T_TEST(unpack_zip_members_listed_and_written)
{
	const struct tm_member m[] = {
		{"stock/a.csv", "sku,qty\nA,1\n", 0, 0, NULL, 0},
		{"stock/", NULL, 0, AE_IFDIR, NULL, 0},
		{"b.txt", "hello", 0, 0, NULL, 0},
	};
	struct seen s = {0};
	struct err e = ERR_INIT;
	char hex[SHA256_HEX_LEN];

	T_ASSERT(make_archive("in.zip", TM_ZIP, m, 3) == 0);
	T_OK(run_unpack("in.zip", NULL, &s, &e), &e);
	/* The directory is neither counted nor reported. */
	T_EQ_INT(s.n, 2);
	T_EQ_STR(s.name[0], "stock/a.csv");
	T_EQ_STR(s.path[0], "out/00001_a.csv");
	T_EQ_STR(s.refused[0], "");
	T_EQ_INT(s.size[0], 12);
	T_EQ_STR(t_read_file("out/00001_a.csv"), "sku,qty\nA,1\n");
	T_ASSERT(sha256_hex_of("sku,qty\nA,1\n", 12, hex, NULL) == 0);
	T_EQ_STR(s.sha[0], hex);
	T_EQ_INT(s.is_archive[0], 0);
	T_EQ_STR(s.name[1], "b.txt");
	T_EQ_STR(s.path[1], "out/00002_b.txt");
	T_EQ_STR(t_read_file("out/00002_b.txt"), "hello");
}

T_TEST(unpack_tar_and_tgz_members)
{
	const struct tm_member m[] = {
		{"x/one.csv", "1\n", 0, 0, NULL, 0},
		{"two.csv", "22\n", 0, 0, NULL, 0},
	};
	struct unpack_limits lim = {10, 1 << 20, 1 << 20, 200, 1024};
	struct seen s = {0}, g = {0};
	struct err e = ERR_INIT;
	enum unpack_kind k;

	T_ASSERT(make_archive("in.tar", TM_TAR, m, 2) == 0);
	T_ASSERT(make_archive("in.tgz", TM_TGZ, m, 2) == 0);
	T_OK(unpack_sniff_file("in.tar", &k, &e), &e);
	T_EQ_STR(unpack_kind_name(k), "tar");
	T_OK(unpack_sniff_file("in.tgz", &k, &e), &e);
	T_EQ_STR(unpack_kind_name(k), "gzip");
	T_OK(run_unpack("in.tar", NULL, &s, &e), &e);
	T_EQ_INT(s.n, 2);
	T_EQ_STR(s.path[0], "out/00001_one.csv");
	T_EQ_STR(s.path[1], "out/00002_two.csv");
	T_EQ_STR(t_read_file("out/00002_two.csv"), "22\n");
	T_OK(unpack_archive("in.tgz", "in.tgz", "out2", &lim, collect, &g, &e),
	     &e);
	T_EQ_INT(g.n, 2);
	T_EQ_STR(g.name[1], "two.csv");
	T_EQ_STR(t_read_file("out2/00001_one.csv"), "1\n");
}

/* A single gzip file is one member named after the document minus .gz. */
T_TEST(unpack_single_gz_named_after_document)
{
	const struct tm_member m[] = {{"ignored", "a,b\n1,2\n", 0, 0, NULL, 0}};
	struct unpack_limits lim;
	struct seen s = {0};
	struct err e = ERR_INIT;

	unpack_limits_default(&lim);
	T_ASSERT(make_archive("f.gz", TM_GZ, m, 1) == 0);
	T_OK(unpack_archive("f.gz", "stock_F012.csv.gz", "out", &lim, collect,
			    &s, &e), &e);
	T_EQ_INT(s.n, 1);
	T_EQ_STR(s.name[0], "stock_F012.csv");
	T_EQ_STR(s.path[0], "out/00001_stock_F012.csv");
	T_EQ_STR(t_read_file(s.path[0]), "a,b\n1,2\n");
}

T_TEST(unpack_refuses_dotdot)
{
	const struct tm_member m[] = {
		{"../x", "evil", 0, 0, NULL, 0},
		{"a/../../y", "evil", 0, 0, NULL, 0},
		{"dir\\..\\z", "evil", 0, 0, NULL, 0},
		{"ok...csv", "fine", 0, 0, NULL, 0},
	};
	struct seen s = {0};
	struct err e = ERR_INIT;

	T_ASSERT(make_archive("in.zip", TM_ZIP, m, 4) == 0);
	T_OK(run_unpack("in.zip", NULL, &s, &e), &e);
	T_EQ_INT(s.n, 4);
	T_EQ_STR(s.refused[0], "member path contains '..'");
	T_EQ_STR(s.refused[1], "member path contains '..'");
	T_EQ_STR(s.refused[2], "member path contains '..'");
	T_EQ_STR(s.path[0], "");
	T_EQ_STR(s.sha[0], "");
	/* Three dots are a name, not a parent. */
	T_EQ_STR(s.refused[3], "");
	T_EQ_STR(s.path[3], "out/00004_ok...csv");
	/* Members go under out/: "../x" would land as x here, "a/../../y"
	 * as y. Not "../x": that is the shared /tmp, where another test
	 * running at the same time may well have an x. */
	T_ASSERT(!exists("x") && !exists("y") && !exists("z"));
	T_ASSERT(!exists("out/00001_x"));
}

T_TEST(unpack_refuses_absolute_paths)
{
	const struct tm_member m[] = {
		{"/etc/stockpipe_evil", "evil", 0, 0, NULL, 0},
		{"C:\\temp\\evil.csv", "evil", 0, 0, NULL, 0},
		{"\\\\share\\evil.csv", "evil", 0, 0, NULL, 0},
	};
	struct seen s = {0};
	struct err e = ERR_INIT;

	T_ASSERT(make_archive("in.zip", TM_ZIP, m, 3) == 0);
	T_OK(run_unpack("in.zip", NULL, &s, &e), &e);
	T_EQ_INT(s.n, 3);
	T_EQ_STR(s.refused[0], "absolute member path");
	T_EQ_STR(s.refused[1], "absolute member path");
	T_EQ_STR(s.refused[2], "absolute member path");
	T_ASSERT(!exists("/etc/stockpipe_evil"));
	T_ASSERT(!exists("out/00001_stockpipe_evil"));
}

T_TEST(unpack_refuses_links_and_devices)
{
	const struct tm_member m[] = {
		{"real.csv", "data", 0, 0, NULL, 0},
		{"sym.csv", NULL, 0, AE_IFLNK, "/etc/passwd", 0},
		{"hard.csv", NULL, 0, 0, "real.csv", 1},
		{"fifo", NULL, 0, AE_IFIFO, NULL, 0},
	};
	struct seen s = {0};
	struct err e = ERR_INIT;

	T_ASSERT(make_archive("in.tar", TM_TAR, m, 4) == 0);
	T_OK(run_unpack("in.tar", NULL, &s, &e), &e);
	T_EQ_INT(s.n, 4);
	T_EQ_STR(s.refused[0], "");
	T_EQ_STR(s.refused[1], "symbolic link");
	T_EQ_STR(s.refused[2], "hard link");
	T_EQ_STR(s.refused[3], "not a regular file (device, fifo or socket)");
	T_ASSERT(!exists("out/00002_sym.csv"));
	T_ASSERT(!exists("out/00003_hard.csv"));
}

T_TEST(unpack_refuses_control_chars_and_long_names)
{
	char longname[40];
	struct tm_member m[] = {
		{"bad\001name.csv", "x", 0, 0, NULL, 0},
		{longname, "x", 0, 0, NULL, 0},
		{"short.csv", "x", 0, 0, NULL, 0},
	};
	struct unpack_limits lim;
	struct seen s = {0};
	struct err e = ERR_INIT;

	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	unpack_limits_default(&lim);
	lim.max_name = 20;
	T_ASSERT(make_archive("in.tar", TM_TAR, m, 3) == 0);
	T_OK(run_unpack("in.tar", &lim, &s, &e), &e);
	T_EQ_INT(s.n, 3);
	T_EQ_STR(s.refused[0], "control character in member name");
	T_EQ_STR(s.refused[1], "member name too long");
	T_EQ_STR(s.refused[2], "");
}

/* Our own file names: only [A-Za-z0-9._-] of the last component; a name
 * that would start with a dot becomes "member". */
T_TEST(unpack_member_names_sanitised)
{
	const struct tm_member m[] = {
		{"dir/with space&$.csv", "1", 0, 0, NULL, 0},
		{"sub/.hidden", "2", 0, 0, NULL, 0},
	};
	struct seen s = {0};
	struct err e = ERR_INIT;

	T_ASSERT(make_archive("in.zip", TM_ZIP, m, 2) == 0);
	T_OK(run_unpack("in.zip", NULL, &s, &e), &e);
	T_EQ_INT(s.n, 2);
	T_EQ_STR(s.path[0], "out/00001_with_space__.csv");
	T_EQ_STR(s.path[1], "out/00002_member");
	T_EQ_STR(t_read_file("out/00002_member"), "2");
}

T_TEST(unpack_member_size_limit_fails_archive)
{
	const struct tm_member m[] = {
		{"small.csv", "ok", 0, 0, NULL, 0},
		{"big.bin", NULL, 300000, 0, NULL, 0},
	};
	struct unpack_limits lim;
	struct seen s = {0};
	struct err e = ERR_INIT;

	unpack_limits_default(&lim);
	lim.max_member = 100000;
	T_ASSERT(make_archive("in.tgz", TM_TGZ, m, 2) == 0);
	T_EQ_INT(run_unpack("in.tgz", &lim, &s, &e), -1);
	T_EQ_INT(e.code, E_PARSE);
	T_ASSERT(strstr(e.reason, "member 'big.bin' expands past the size "
				  "limit"));
	T_EQ_INT(s.n, 1);
	/* The partial member is not left behind. */
	T_ASSERT(!exists("out/00002_big.bin"));
}

T_TEST(unpack_total_size_limit_fails_archive)
{
	const struct tm_member m[] = {
		{"a.bin", NULL, 60000, 0, NULL, 0},
		{"b.bin", NULL, 60000, 0, NULL, 0},
	};
	struct unpack_limits lim;
	struct seen s = {0};
	struct err e = ERR_INIT;

	unpack_limits_default(&lim);
	lim.max_total = 100000;
	T_ASSERT(make_archive("in.zip", TM_ZIP, m, 2) == 0);
	T_EQ_INT(run_unpack("in.zip", &lim, &s, &e), -1);
	T_EQ_INT(e.code, E_PARSE);
	T_ASSERT(strstr(e.reason, "member 'b.bin' expands past the size"));
	T_EQ_INT(s.n, 1);
	T_EQ_INT(s.size[0], 60000);
}

T_TEST(unpack_member_count_limit)
{
	const struct tm_member m[] = {
		{"1", "a", 0, 0, NULL, 0}, {"2", "b", 0, 0, NULL, 0},
		{"3", "c", 0, 0, NULL, 0}, {"4", "d", 0, 0, NULL, 0},
	};
	struct unpack_limits lim;
	struct seen s = {0};
	struct err e = ERR_INIT;

	unpack_limits_default(&lim);
	lim.max_members = 3;
	T_ASSERT(make_archive("in.tar", TM_TAR, m, 4) == 0);
	T_EQ_INT(run_unpack("in.tar", &lim, &s, &e), -1);
	T_EQ_INT(e.code, E_PARSE);
	T_EQ_STR(e.reason, "more than 3 members (limit)");
	T_EQ_INT(s.n, 3);
}

/* 9 MiB of zeros gzip to a few KiB: past the 8 MiB grace the ratio rule
 * stops it even though no size limit is reached. */
T_TEST(unpack_ratio_bomb_refused)
{
	const struct tm_member m[] = {{"zeros.bin", NULL, 9u << 20, 0, NULL, 0}};
	struct unpack_limits lim;
	struct seen s = {0};
	struct err e = ERR_INIT;
	struct stat st;

	unpack_limits_default(&lim);
	T_ASSERT(make_archive("bomb.tgz", TM_TGZ, m, 1) == 0);
	T_ASSERT(stat("bomb.tgz", &st) == 0 && st.st_size < (1 << 20));
	T_EQ_INT(run_unpack("bomb.tgz", &lim, &s, &e), -1);
	T_EQ_INT(e.code, E_PARSE);
	T_ASSERT(strstr(e.reason, "compression ratio over 200:1 at member "
				  "'zeros.bin'"));
	T_ASSERT(strstr(e.reason, "decompression bomb"));
	T_EQ_INT(s.n, 0);
	T_ASSERT(!exists("out/00001_zeros.bin"));
	/* With the rule relaxed the same archive unpacks in full. */
	lim.max_ratio = 1000000;
	err_clear(&e);
	T_OK(run_unpack("bomb.tgz", &lim, &s, &e), &e);
	T_EQ_INT(s.n, 1);
	T_EQ_INT(s.size[0], 9u << 20);
}

/* A member whose first bytes say "zip" is flagged for the second pass. */
T_TEST(unpack_nested_archive_flagged)
{
	const struct tm_member m[] = {
		{"inner.zip", "PK\003\004 the rest of a zip", 0, 0, NULL, 0},
		{"plain.csv", "x\n", 0, 0, NULL, 0},
	};
	struct seen s = {0};
	struct err e = ERR_INIT;

	T_ASSERT(make_archive("outer.tar", TM_TAR, m, 2) == 0);
	T_OK(run_unpack("outer.tar", NULL, &s, &e), &e);
	T_EQ_INT(s.n, 2);
	T_EQ_INT(s.is_archive[0], 1);
	T_EQ_INT(s.is_archive[1], 0);
}

T_TEST(unpack_corrupt_refused_plain_whole)
{
	struct seen s = {0};
	struct err e = ERR_INIT;
	const struct tm_member m[] = {{"a.csv", "0123456789", 0, 0, NULL, 0}};
	FILE *f;
	long len;
	char *buf;

	/* Callers sniff first; a plain file given anyway comes out whole as
	 * one member (the raw format) rather than as an error. */
	T_ASSERT(t_write_file("plain.csv", "sku,qty\n") == 0);
	T_OK(run_unpack("plain.csv", NULL, &s, &e), &e);
	T_EQ_INT(s.n, 1);
	T_EQ_STR(s.name[0], "plain.csv");
	T_EQ_STR(t_read_file("out/00001_plain.csv"), "sku,qty\n");
	s.n = 0;
	/* A truncated tar.gz: the header is there, the data is not. */
	T_ASSERT(make_archive("in.tgz", TM_TGZ, m, 1) == 0);
	T_ASSERT((f = fopen("in.tgz", "rb")) != NULL);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	buf = malloc((size_t)len);
	T_ASSERT(buf && fread(buf, 1, (size_t)len, f) == (size_t)len);
	fclose(f);
	T_ASSERT((f = fopen("cut.tgz", "wb")) != NULL);
	fwrite(buf, 1, (size_t)len / 2, f);
	fclose(f);
	free(buf);
	err_clear(&e);
	T_EQ_INT(run_unpack("cut.tgz", NULL, &s, &e), -1);
	T_EQ_INT(e.code, E_PARSE);
	err_clear(&e);
	T_EQ_INT(run_unpack("missing.zip", NULL, &s, &e), -1);
	T_EQ_INT(e.code, E_IO);
}

T_TEST(unpack_callback_error_stops)
{
	const struct tm_member m[] = {
		{"1.csv", "a", 0, 0, NULL, 0},
		{"2.csv", "b", 0, 0, NULL, 0},
		{"3.csv", "c", 0, 0, NULL, 0},
	};
	struct seen s = {0};
	struct err e = ERR_INIT;

	s.stop_at = 2;
	T_ASSERT(make_archive("in.zip", TM_ZIP, m, 3) == 0);
	T_EQ_INT(run_unpack("in.zip", NULL, &s, &e), -1);
	T_EQ_INT(e.code, E_MAP);
	T_EQ_STR(e.reason, "stopped by the callback");
	T_EQ_INT(s.n, 2);
	T_ASSERT(!exists("out/00003_3.csv"));
}

T_TEST(unpack_sniff_kinds)
{
	unsigned char tar[512] = {0};

	T_EQ_INT(unpack_sniff((const unsigned char *)"PK\3\4rest", 8), UNPACK_ZIP);
	T_EQ_INT(unpack_sniff((const unsigned char *)"PK\5\6", 4), UNPACK_ZIP);
	T_EQ_INT(unpack_sniff((const unsigned char *)"\x1f\x8b\x08", 3),
		 UNPACK_GZIP);
	T_EQ_INT(unpack_sniff((const unsigned char *)"BZh9", 4), UNPACK_BZIP2);
	T_EQ_INT(unpack_sniff((const unsigned char *)"\xfd" "7zXZ\0", 6),
		 UNPACK_XZ);
	memcpy(tar + 257, "ustar", 5);
	T_EQ_INT(unpack_sniff(tar, sizeof(tar)), UNPACK_TAR);
	T_EQ_INT(unpack_sniff(tar, 261), UNPACK_PLAIN);
	T_EQ_INT(unpack_sniff((const unsigned char *)"PK", 2), UNPACK_PLAIN);
	T_EQ_INT(unpack_sniff((const unsigned char *)"sku,qty", 7),
		 UNPACK_PLAIN);
	T_EQ_STR(unpack_kind_name(UNPACK_BZIP2), "bzip2");
	T_EQ_STR(unpack_kind_name((enum unpack_kind)99), "?");
}

/* A damaged upload: a gzip whose content is zero bytes. Zero blocks end a
 * tar, so it used to read as a tar with nothing in it ("0 members"); it is
 * now an error of the archive (the caller quarantines it), never a silent
 * nothing. */
T_TEST(unpack_zero_gzip_is_no_archive)
{
	const struct tm_member m[] = {{"ignored", NULL, 1 << 20, 0, NULL, 0}};
	struct seen s = {0};
	struct err e = ERR_INIT;

	T_ASSERT(make_archive("zeros.gz", TM_GZ, m, 1) == 0);
	T_EQ_INT(run_unpack("zeros.gz", NULL, &s, &e), -1);
	T_EQ_INT(e.code, E_PARSE);
	T_ASSERT(strstr(e.reason, "no member") != NULL);
	T_ASSERT(strstr(e.reason, "compressed content is no archive") != NULL);
	T_EQ_INT(s.n, 0);
}

/* An archive of nothing but a folder has nothing to load either. */
T_TEST(unpack_empty_archive_is_an_error)
{
	const struct tm_member m[] = {{"dir/", NULL, 0, AE_IFDIR, NULL, 0}};
	struct seen s = {0};
	struct err e = ERR_INIT;

	T_ASSERT(make_archive("empty.zip", TM_ZIP, m, 1) == 0);
	T_EQ_INT(run_unpack("empty.zip", NULL, &s, &e), -1);
	T_EQ_INT(e.code, E_PARSE);
	T_ASSERT(strstr(e.reason, "an empty archive") != NULL);
}

/* A zip member named in UTF-8 (the zip's language-encoding flag), read in
 * the C locale the tests and cron run in: the name as stored, not "". */
T_TEST(unpack_zip_utf8_member_name)
{
	struct archive *a = archive_write_new();
	struct archive_entry *ae = archive_entry_new();
	struct seen s = {0};
	struct err e = ERR_INIT;
	const char *name = "Bestand_M\xc3\xbcnchen.csv";

	locale_t l = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0), prev;

	if (!l) {
		archive_write_free(a);
		archive_entry_free(ae);
		T_SKIP("no C.UTF-8 locale to write the zip with");
	}
	/* the writer, too, converts from the locale: written under UTF-8
	 * (as zip tools do), read back in the C locale by unpack_archive */
	prev = uselocale(l);
	T_ASSERT(a && ae);
	archive_write_set_format_zip(a);
	T_ASSERT(archive_write_open_filename(a, "u.zip") == ARCHIVE_OK);
	archive_entry_set_pathname(ae, name);
	archive_entry_set_filetype(ae, AE_IFREG);
	archive_entry_set_perm(ae, 0644);
	archive_entry_set_size(ae, 4);
	T_ASSERT(archive_write_header(a, ae) == ARCHIVE_OK);
	T_ASSERT(archive_write_data(a, "a,b\n", 4) == 4);
	T_ASSERT(archive_write_close(a) == ARCHIVE_OK);
	archive_write_free(a);
	archive_entry_free(ae);
	uselocale(prev);
	freelocale(l);
	T_OK(run_unpack("u.zip", NULL, &s, &e), &e);
	T_EQ_INT(s.n, 1);
	T_EQ_STR(s.name[0], name);
	T_EQ_STR(s.refused[0], "");
	T_EQ_STR(s.path[0], "out/00001_Bestand_M__nchen.csv");
}

/* Two long member names that share their first 600 bytes: both reported
 * whole (the unit keys made from them are the stage's; see
 * tests/e2e/hostile_files.sh). */
T_TEST(unpack_long_names_reported_whole)
{
	static char n1[701], n2[701];
	const struct tm_member m[] = {{n1, "1\n", 0, 0, NULL, 0},
				      {n2, "2\n", 0, 0, NULL, 0}};
	struct seen s = {0};
	struct err e = ERR_INIT;
	char got[2][701];

	memset(n1, 'a', 700);
	memset(n2, 'a', 700);
	n1[699] = '1';
	n2[699] = '2';
	T_ASSERT(make_archive("long.tar", TM_TAR, m, 2) == 0);
	T_OK(run_unpack("long.tar", NULL, &s, &e), &e);
	T_EQ_INT(s.n, 2);
	T_EQ_STR(s.refused[0], "");
	T_EQ_STR(s.refused[1], "");
	/* seen keeps 127 bytes of a name; the files hold the content */
	snprintf(got[0], sizeof(got[0]), "%s", t_read_file(s.path[0]));
	snprintf(got[1], sizeof(got[1]), "%s", t_read_file(s.path[1]));
	T_EQ_STR(got[0], "1\n");
	T_EQ_STR(got[1], "2\n");
}
