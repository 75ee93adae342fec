/* t_csv_reader.c - streaming CSV: encodings, BOM, line numbers of records
 * that span lines, bounds, ragged rows, strict-mode resynchronisation, and
 * the shared real-world files when they are present. */
#include <iconv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <csv.h>

#include "lib/buf.h"
#include "transforms/formats/csv_reader.h"
#include "t.h"

static int write_bytes(const char *path, const char *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	int rc;

	if (!f)
		return -1;
	rc = fwrite(p, 1, n, f) == n ? 0 : -1;
	if (fclose(f))
		rc = -1;
	return rc;
}

static struct csv_reader *open_csv(const char *path, int header,
				   const char *enc, char delim,
				   struct err *e)
{
	struct csv_reader_opts o;
	struct csv_reader *r = NULL;

	csv_reader_opts_init(&o);
	o.header = header;
	o.encoding = enc;
	if (delim)
		o.delimiter = delim;
	if (csv_reader_open(&r, path, path, &o, e))
		return NULL;
	return r;
}

T_TEST(csv_bom_crlf_and_header)
{
	static const char data[] = "\xEF\xBB\xBFsku,qty\r\nA1,3\r\n\r\nB2,4\r\n";
	struct err e = ERR_INIT;
	struct csv_reader *r;
	const struct csv_row *row, *h;

	T_ASSERT(write_bytes("in.csv", data, sizeof(data) - 1) == 0);
	r = open_csv("in.csv", 1, NULL, 0, &e);
	T_ASSERT(r != NULL);
	h = csv_reader_header(r);
	T_ASSERT(h != NULL);
	T_EQ_INT(h->n, 2);
	T_EQ_STR(h->f[0], "sku"); /* the BOM is gone */
	T_EQ_INT(csv_reader_column(r, "qty"), 1);
	T_EQ_INT(csv_reader_next(r, &row, &e), 1);
	T_EQ_STR(row->f[0], "A1");
	T_EQ_INT(row->line, 2);
	T_EQ_INT(row->raw_len, 4);
	T_EQ_INT(csv_reader_next(r, &row, &e), 1);
	T_EQ_STR(row->f[1], "4");
	T_EQ_INT(row->line, 4); /* the blank line is skipped but counted */
	T_EQ_INT(row->index, 2);
	T_EQ_INT(csv_reader_next(r, &row, &e), 0);
	csv_reader_free(r);
}

T_TEST(csv_quoted_newlines_keep_start_lines)
{
	static const char data[] =
		"id,text\n"
		"1,\"two\nlines\"\n"
		"2,\"three\r\nline\r\nfield\"\n"
		"3,plain\n";
	struct err e = ERR_INIT;
	struct csv_reader *r;
	const struct csv_row *row;

	T_ASSERT(write_bytes("q.csv", data, sizeof(data) - 1) == 0);
	r = open_csv("q.csv", 1, NULL, 0, &e);
	T_ASSERT(r != NULL);
	T_EQ_INT(csv_reader_next(r, &row, &e), 1);
	T_EQ_INT(row->line, 2);
	T_EQ_STR(row->f[1], "two\nlines");
	T_EQ_INT(csv_reader_next(r, &row, &e), 1);
	T_EQ_INT(row->line, 4);
	T_EQ_STR(row->f[1], "three\r\nline\r\nfield");
	T_ASSERT(row->raw_len == strlen("2,\"three\r\nline\r\nfield\""));
	T_EQ_INT(csv_reader_next(r, &row, &e), 1);
	T_EQ_INT(row->line, 7);
	T_EQ_STR(row->f[1], "plain");
	T_EQ_INT(csv_reader_next(r, &row, &e), 0);
	csv_reader_free(r);
}

T_TEST(csv_windows1252_to_utf8)
{
	/* "Käse" with 0xE4, the euro sign 0x80, "crêpe" with 0xEA. */
	static const char data[] = "name;price\r\nK\xE4se;3\x80\r\ncr\xEApe;2\r\n";
	struct err e = ERR_INIT;
	struct csv_reader *r;
	const struct csv_row *row;

	T_ASSERT(write_bytes("w.csv", data, sizeof(data) - 1) == 0);
	r = open_csv("w.csv", 1, "windows-1252", ';', &e);
	T_ASSERT(r != NULL);
	T_EQ_INT(csv_reader_next(r, &row, &e), 1);
	T_EQ_STR(row->f[0], "K\xC3\xA4se");
	T_EQ_STR(row->f[1], "3\xE2\x82\xAC");
	T_EQ_INT(csv_reader_next(r, &row, &e), 1);
	T_EQ_STR(row->f[0], "cr\xC3\xAApe");
	csv_reader_free(r);
}

T_TEST(csv_invalid_bytes_name_the_line)
{
	static const char bad_utf8[] = "a,b\n1,2\n3,\xFF\n4,5\n";
	static const char bad_1252[] = "a;b\n1;2\n3;4\n5;\x81\n";
	struct err e = ERR_INIT;
	struct csv_reader *r;
	const struct csv_row *row;
	int rc;

	T_ASSERT(write_bytes("u.csv", bad_utf8, sizeof(bad_utf8) - 1) == 0);
	r = open_csv("u.csv", 1, NULL, 0, &e);
	T_ASSERT(r != NULL);
	T_EQ_INT(csv_reader_next(r, &row, &e), 1);
	rc = csv_reader_next(r, &row, &e);
	T_EQ_INT(rc, -1);
	T_EQ_INT(e.code, E_PARSE);
	T_EQ_INT(e.line, 3);
	T_ASSERT(strstr(e.reason, "UTF-8") != NULL);
	csv_reader_free(r);

	err_clear(&e);
	T_ASSERT(write_bytes("c.csv", bad_1252, sizeof(bad_1252) - 1) == 0);
	r = open_csv("c.csv", 1, "windows-1252", ';', &e);
	T_ASSERT(r != NULL);
	while ((rc = csv_reader_next(r, &row, &e)) == 1)
		;
	T_EQ_INT(rc, -1);
	T_EQ_INT(e.line, 4);
	csv_reader_free(r);
}

T_TEST(csv_unknown_encoding_is_config_error)
{
	struct err e = ERR_INIT;

	T_ASSERT(t_write_file("x.csv", "a\n1\n") == 0);
	T_ASSERT(open_csv("x.csv", 1, "klingon-8", 0, &e) == NULL);
	T_EQ_INT(e.code, E_CONFIG);
}

T_TEST(csv_record_bound_names_the_line)
{
	struct csv_reader_opts o;
	struct csv_reader *r = NULL;
	const struct csv_row *row;
	struct err e = ERR_INIT;
	char big[400];
	FILE *f = fopen("big.csv", "wb");
	int rc;

	T_ASSERT(f != NULL);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	fprintf(f, "a,b\n1,2\n3,\"%s\"\n", big);
	fclose(f);
	csv_reader_opts_init(&o);
	o.max_record = 100;
	T_OK(csv_reader_open(&r, "big.csv", "big.csv", &o, &e), &e);
	T_EQ_INT(csv_reader_next(r, &row, &e), 1);
	rc = csv_reader_next(r, &row, &e);
	T_EQ_INT(rc, -1);
	T_EQ_INT(e.code, E_TOOBIG);
	T_EQ_INT(e.line, 3);
	csv_reader_free(r);
}

/* Found by fuzz_csv: only the field still in progress at the end of a
 * feed was checked against max_field, so a long field followed by more
 * fields on its line came through whole. */
T_TEST(csv_field_bound_applies_to_every_field)
{
	struct csv_reader_opts o;
	struct csv_reader *r = NULL;
	const struct csv_row *row;
	struct err e = ERR_INIT;

	T_ASSERT(t_write_file("f.csv", "a,b\n1,2\nxxxxxxxxxxxx,3\n4,5\n") == 0);
	csv_reader_opts_init(&o);
	o.header = 1;
	o.max_field = 8;
	T_OK(csv_reader_open(&r, "f.csv", "f.csv", &o, &e), &e);
	T_EQ_INT(csv_reader_next(r, &row, &e), 1);
	T_EQ_STR(row->f[0], "1");
	T_EQ_INT(csv_reader_next(r, &row, &e), -1);
	T_EQ_INT(e.code, E_TOOBIG);
	T_EQ_INT(e.line, 3);
	csv_reader_free(r);
}

T_TEST(csv_ragged_rows_are_not_file_errors)
{
	struct err e = ERR_INIT;
	struct csv_reader *r;
	const struct csv_row *row;

	T_ASSERT(t_write_file("r.csv", "a,b,c\n1,2,3,4\n5\n6,7,8\n") == 0);
	r = open_csv("r.csv", 1, NULL, 0, &e);
	T_ASSERT(r != NULL);
	T_EQ_INT(csv_reader_next(r, &row, &e), 1);
	T_EQ_INT(row->n, 4);
	T_EQ_INT(csv_reader_next(r, &row, &e), 1);
	T_EQ_INT(row->n, 1);
	T_EQ_INT(csv_reader_next(r, &row, &e), 1);
	T_EQ_INT(row->n, 3);
	T_ASSERT(row->bad == NULL);
	csv_reader_free(r);
}

T_TEST(csv_strict_error_resynchronises)
{
	struct err e = ERR_INIT;
	struct csv_reader *r;
	const struct csv_row *row;

	T_ASSERT(t_write_file("s.csv",
			      "a,b\n1,12\" pizza\n2,\"ok\"x\n3,fine\n") == 0);
	r = open_csv("s.csv", 1, NULL, 0, &e);
	T_ASSERT(r != NULL);
	T_EQ_INT(csv_reader_next(r, &row, &e), 1);
	T_EQ_INT(row->line, 2);
	T_ASSERT(row->bad != NULL);
	T_EQ_STR(row->raw, "1,12\" pizza");
	T_EQ_INT(csv_reader_next(r, &row, &e), 1);
	T_EQ_INT(row->line, 3);
	T_ASSERT(row->bad != NULL);
	T_EQ_INT(csv_reader_next(r, &row, &e), 1);
	T_EQ_INT(row->line, 4);
	T_ASSERT(row->bad == NULL);
	T_EQ_STR(row->f[1], "fine");
	csv_reader_free(r);
}

T_TEST(csv_unterminated_quote_fails_the_file)
{
	struct err e = ERR_INIT;
	struct csv_reader *r;
	const struct csv_row *row;

	T_ASSERT(t_write_file("t.csv", "a,b\n1,2\n3,\"open\nstill open\n") == 0);
	r = open_csv("t.csv", 1, NULL, 0, &e);
	T_ASSERT(r != NULL);
	T_EQ_INT(csv_reader_next(r, &row, &e), 1);
	T_EQ_INT(csv_reader_next(r, &row, &e), -1);
	T_EQ_INT(e.code, E_PARSE);
	T_EQ_INT(e.line, 3);
	csv_reader_free(r);
}

T_TEST(csv_comments_preamble_and_nul)
{
	static const char data[] = "Stand: 20.11.2026\r\nFiliale 12\r\n"
				   "a,b\r\n# a comment\r\n1,2\r\nx\0y,3\r\n";
	struct csv_reader_opts o;
	struct csv_reader *r = NULL;
	const struct csv_row *row;
	struct err e = ERR_INIT;

	T_ASSERT(write_bytes("p.csv", data, sizeof(data) - 1) == 0);
	csv_reader_opts_init(&o);
	o.comment = '#';
	o.skip_lines = 2;
	T_OK(csv_reader_open(&r, "p.csv", "p.csv", &o, &e), &e);
	T_EQ_STR(csv_reader_preamble(r, 1), "Stand: 20.11.2026");
	T_EQ_STR(csv_reader_preamble(r, 2), "Filiale 12");
	T_EQ_STR(csv_reader_preamble(r, 3), "");
	T_EQ_INT(csv_reader_header(r)->line, 3);
	T_EQ_INT(csv_reader_next(r, &row, &e), 1);
	T_EQ_INT(row->line, 5);
	T_EQ_INT(csv_reader_next(r, &row, &e), 1);
	T_EQ_INT(row->line, 6);
	T_ASSERT(row->bad != NULL && strstr(row->bad, "NUL"));
	csv_reader_free(r);
}

/* A file several read buffers long, with a multibyte character on every
 * line, so characters and records straddle buffer boundaries. */
T_TEST(csv_large_file_streams)
{
	FILE *f = fopen("l.csv", "wb");
	struct err e = ERR_INIT;
	struct csv_reader *r;
	const struct csv_row *row;
	unsigned long n = 0, i, bad = 0;
	int rc;

	T_ASSERT(f != NULL);
	fputs("sku,name\n", f);
	for (i = 0; i < 60000; i++)
		fprintf(f, "S%06lu,\"M\xC3\xBChle %lu\"\n", i, i);
	fclose(f);
	r = open_csv("l.csv", 1, NULL, 0, &e);
	T_ASSERT(r != NULL);
	while ((rc = csv_reader_next(r, &row, &e)) == 1) {
		char want[32];

		snprintf(want, sizeof(want), "S%06lu", n);
		if (strcmp(row->f[0], want) || row->line != n + 2 ||
		    strncmp(row->f[1], "M\xC3\xBChle ", 7))
			bad++;
		n++;
	}
	T_EQ_INT(rc, 0);
	T_EQ_INT(n, 60000);
	T_EQ_INT(bad, 0);
	csv_reader_free(r);
}

/* The shared real-world files, when this checkout has them. */
static int shared(const char *rel, char *out, size_t n)
{
	const char *src = getenv("STOCKPIPE_SRCDIR");

	snprintf(out, n, "%s/../shared/data/%s", src ? src : ".", rel);
	if (access(out, R_OK)) {
		printf("  skip: %s not present\n", rel);
		return -1;
	}
	return 0;
}

T_TEST(csv_shared_real_files)
{
	char p[4096];
	struct err e = ERR_INIT;
	struct csv_reader *r;
	const struct csv_row *row;
	int rc;

	if (shared("csv", p, sizeof(p)))
		T_SKIP("shared data not present (%s)", p);
	if (!shared("csv/encoding/csvkit_test_utf8_bom.csv", p, sizeof(p))) {
		r = open_csv(p, 1, NULL, 0, &e);
		T_ASSERT(r != NULL);
		T_EQ_STR(csv_reader_header(r)->f[0], "foo");
		T_EQ_INT(csv_reader_next(r, &row, &e), 1);
		T_EQ_INT(csv_reader_next(r, &row, &e), 1);
		T_EQ_STR(row->f[2], "\xCA\xA4"); /* U+02A4 */
		csv_reader_free(r);
	}
	if (!shared("csv/encoding/csvkit_test_latin1.csv", p, sizeof(p))) {
		/* Read as UTF-8 it must fail at line 3; as latin-1 it is ©. */
		r = open_csv(p, 1, NULL, 0, &e);
		T_ASSERT(r != NULL);
		while ((rc = csv_reader_next(r, &row, &e)) == 1)
			;
		T_EQ_INT(rc, -1);
		T_EQ_INT(e.line, 3);
		csv_reader_free(r);
		err_clear(&e);
		r = open_csv(p, 1, "iso-8859-1", 0, &e);
		T_ASSERT(r != NULL);
		T_EQ_INT(csv_reader_next(r, &row, &e), 1);
		T_EQ_INT(csv_reader_next(r, &row, &e), 1);
		T_EQ_STR(row->f[2], "\xC2\xA9");
		csv_reader_free(r);
	}
	if (!shared("csv/errors/csvkit_bad_ragged_rows.csv", p, sizeof(p))) {
		size_t counts[3];
		int k = 0;

		r = open_csv(p, 1, NULL, 0, &e);
		T_ASSERT(r != NULL);
		while ((rc = csv_reader_next(r, &row, &e)) == 1 && k < 3)
			counts[k++] = row->n;
		T_EQ_INT(k, 3);
		T_EQ_INT(counts[0], 4); /* longer than the header */
		T_EQ_INT(counts[1], 2); /* shorter */
		T_EQ_INT(counts[2], 3);
		csv_reader_free(r);
	}
	if (!shared("csv/item-master/magento_products_gear_watches_qty_embedded-newline.csv",
		    p, sizeof(p))) {
		unsigned long prev = 0;
		int monotonic = 1, n = 0;

		r = open_csv(p, 1, NULL, 0, &e);
		T_ASSERT(r != NULL);
		while ((rc = csv_reader_next(r, &row, &e)) == 1) {
			monotonic &= row->line > prev;
			prev = row->line;
			n++;
		}
		T_EQ_INT(rc, 0);
		T_ASSERT(n > 0 && monotonic);
		csv_reader_free(r);
	}
}

/* UTF-8 input is copied as it is where it is well-formed and only the
 * rest goes through iconv: for random mixes of ASCII, every length of
 * well-formed character, and the ill-formed edge cases (overlong,
 * surrogate, past U+10FFFF, cut, stray continuation), at every offset,
 * the reader gives what iconv gives for the whole file: the same field,
 * or the invalid-UTF-8 error. */
T_TEST(csv_utf8_copy_matches_iconv)
{
	static const char *const pieces[] = {
		"a", "Zz9", "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80",
		"\xC2\x80", "\xDF\xBF", "\xE0\xA0\x80", "\xED\x9F\xBF",
		"\xEE\x80\x80", "\xF4\x8F\xBF\xBF", "\xF0\x90\x80\x80",
		/* ill-formed */
		"\xC0\xAF", "\xC1\xBF", "\xE0\x9F\xBF", "\xED\xA0\x80",
		"\xF4\x90\x80\x80", "\xF5\x80\x80\x80", "\x80", "\xBF",
		"\xC3", "\xE2\x82", "\xF0\x9F\x98", "\xFE", "\xFF"};
	uint64_t rng = 99;
	int round;

	for (round = 0; round < 3000; round++) {
		char data[256];
		size_t n = 0, k, np, i;
		iconv_t cd = iconv_open("UTF-8", "UTF-8");
		char out[1024], *ip = data, *op = out;
		size_t il, ol = sizeof(out);
		int ok;
		struct err e = ERR_INIT;
		struct csv_reader *r;
		const struct csv_row *row;
		int rc;

		T_ASSERT(cd != (iconv_t)-1);
		memcpy(data, "h\nx", 3);
		n = 3;
		np = 1 + (size_t)(round % 12);
		for (i = 0; i < np; i++) {
			rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
			/* mostly well-formed pieces, an ill-formed one in
			 * a quarter of the rounds */
			k = (size_t)(rng >> 33) %
			    (round % 4 == 0 ? sizeof(pieces) / sizeof(pieces[0]) : 12);
			memcpy(data + n, pieces[k], strlen(pieces[k]));
			n += strlen(pieces[k]);
			/* ASCII runs of every length, so the 8-byte steps
			 * meet the characters at every alignment */
			for (k = (size_t)(rng >> 50) % 11; k; k--)
				data[n++] = 'q';
		}
		data[n++] = '\n';
		il = n;
		ok = iconv(cd, &ip, &il, &op, &ol) != (size_t)-1;
		iconv_close(cd);
		T_ASSERT(write_bytes("m.csv", data, n) == 0);
		r = open_csv("m.csv", 1, NULL, 0, &e);
		T_ASSERT(r != NULL);
		rc = csv_reader_next(r, &row, &e);
		if (ok) {
			size_t want = (size_t)(op - out) - 2 - 1;

			if (rc != 1 || row->len[0] != want ||
			    memcmp(row->f[0], out + 2, want))
				T_FAIL("round %d: rc %d, field differs from iconv's",
				       round, rc);
		} else if (rc != -1 || !strstr(e.reason, "UTF-8")) {
			T_FAIL("round %d: ill-formed input read (rc %d)", round,
			       rc);
		}
		csv_reader_free(r);
	}
}

/* What libcsv itself makes of one line (strict, blanks kept): the
 * fields, or -1 when it stops at a quoting error. */
struct lc_fields {
	char f[8][16];
	size_t len[8];
	size_t n;
};

static void lc_field(void *s, size_t n, void *ud)
{
	struct lc_fields *lf = ud;

	if (lf->n < 8 && n < 16) {
		memcpy(lf->f[lf->n], s, n);
		lf->len[lf->n] = n;
	}
	lf->n++;
}

static int lc_space(unsigned char c)
{
	(void)c;
	return 0;
}

static int lc_parse(const char *line, struct lc_fields *lf)
{
	struct csv_parser p;
	size_t n = strlen(line);
	int rc = 0;

	memset(lf, 0, sizeof(*lf));
	if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI))
		return -2;
	csv_set_space_func(&p, lc_space);
	if (csv_parse(&p, line, n, lc_field, NULL, lf) < n)
		rc = -1;
	csv_free(&p);
	return rc;
}

/* The reader splits most lines itself (memchr) and leaves the others to
 * libcsv: every line built from fields that are plain, quoted, empty,
 * blank, doubled-quote or broken gives what libcsv alone gives. */
T_TEST(csv_split_lines_match_libcsv)
{
	static const char *const parts[] = {
		"", "a", " a ", "\"q\"", "\"q,r\"", "\"\"", "\"a\"\"b\"",
		"x\"y", "\"a\"b", "\"", "\t", "\"a\" ", "bc\"",
	};
	const size_t np = sizeof(parts) / sizeof(parts[0]);
	char line[64], file[80];
	struct err e = ERR_INIT;
	size_t i, j, k, x;

	for (i = 0; i < np; i++)
		for (j = 0; j < np; j++)
			for (k = 0; k < 3; k++) {
				struct lc_fields lf;
				struct csv_reader *r;
				const struct csv_row *row;
				int want;

				if (k == 2)
					snprintf(line, sizeof(line), "%s",
						 parts[i]);
				else
					snprintf(line, sizeof(line), "%s,%s%s",
						 parts[i], parts[j],
						 k ? ",z" : "");
				if (!*line || !strcmp(line, "\t"))
					continue; /* a blank line: no record */
				snprintf(file, sizeof(file), "%s\r\n", line);
				want = lc_parse(file, &lf);
				T_ASSERT(want != -2);
				T_ASSERT(t_write_file("m.csv", file) == 0);
				r = open_csv("m.csv", 0, NULL, 0, &e);
				T_ASSERT(r != NULL);
				if (csv_reader_next(r, &row, &e) != 1) {
					/* a quote left open: the file fails */
					T_ASSERT(want == 0);
					csv_reader_free(r);
					err_clear(&e);
					continue;
				}
				if (want < 0) {
					if (!row->bad)
						T_FAIL("[%s]: libcsv fails, reader does not",
						       line);
				} else if (row->bad || row->n != lf.n) {
					T_FAIL("[%s]: %zu fields, libcsv %zu", line,
					       row->n, lf.n);
				} else {
					for (x = 0; x < lf.n; x++)
						if (row->len[x] != lf.len[x] ||
						    memcmp(row->f[x], lf.f[x],
							   lf.len[x]))
							T_FAIL("[%s]: field %zu", line,
							       x);
				}
				csv_reader_free(r);
			}
}

/* Lines without a quote are split in one pass (room for all fields made
 * once, one NUL check per line): every field of lines with 1 to 150
 * fields (the field tables grow past 64 inside a line), empty ones and
 * blanks, comes back whole and NUL-terminated, and a NUL byte marks its
 * own line only. */
T_TEST(csv_unquoted_lines_split_whole)
{
	static const char alpha[] = "ab \t;x9";
	struct buf file = BUF_INIT(1 << 24);
	struct csv_reader *r;
	const struct csv_row *row;
	struct err e = ERR_INIT;
	size_t i, j, k;

	for (i = 0; i < 300; i++) {
		size_t nf = 1 + (i * 37) % 150;

		for (j = 0; j < nf; j++) {
			if (j)
				buf_addc(&file, ',');
			for (k = 0; k < (i + j) % 7; k++)
				buf_addc(&file, alpha[(i + j + k) % 7]);
			if (i % 50 == 7 && j == nf / 2)
				buf_addc(&file, '\0');
		}
		if (i % 50 == 0 && nf == 1)
			buf_addc(&file, 'z'); /* no blank line */
		buf_add(&file, i % 2 ? "\r\n" : "\n", i % 2 ? 2 : 1);
	}
	T_ASSERT(!file.err);
	T_ASSERT(write_bytes("u.csv", file.ptr, file.len) == 0);
	buf_release(&file);
	r = open_csv("u.csv", 0, NULL, 0, &e);
	T_ASSERT(r != NULL);
	for (i = 0; i < 300; i++) {
		size_t nf = 1 + (i * 37) % 150;

		if (csv_reader_next(r, &row, &e) != 1) {
			csv_reader_free(r);
			T_FAIL("line %zu: no record", i + 1);
		}
		if (row->n != nf || row->line != i + 1 ||
		    (row->bad != NULL) != (i % 50 == 7)) {
			csv_reader_free(r);
			T_FAIL("line %zu: %zu fields (want %zu), line %lu, bad %s",
			       i + 1, row->n, nf, row->line,
			       row->bad ? row->bad : "-");
		}
		for (j = 0; j < nf; j++) {
			size_t want = (i + j) % 7 + (i % 50 == 7 && j == nf / 2);

			if (i % 50 == 0 && nf == 1)
				want++;
			if (row->len[j] != want || row->f[j][want] != '\0' ||
			    (want && row->f[j][0] != (i % 50 == 7 && j == nf / 2 &&
						      want == 1 ? '\0' :
						      i % 50 == 0 && nf == 1 &&
						      want == 1 ? 'z' :
						      alpha[(i + j) % 7]))) {
				csv_reader_free(r);
				T_FAIL("line %zu field %zu: %zu bytes, want %zu",
				       i + 1, j, row->len[j], want);
			}
		}
	}
	T_EQ_INT(csv_reader_next(r, &row, &e), 0);
	csv_reader_free(r);
}

/* Reads every record of the file at path (LF or CRLF) into out: per
 * record its line, bad mark, raw bytes and fields, or the error that
 * stopped the reader. */
static void dump_records(const char *path, size_t max_field, struct buf *out)
{
	struct csv_reader_opts o;
	struct csv_reader *r = NULL;
	const struct csv_row *row;
	struct err e = ERR_INIT;
	size_t i;
	int rc;

	csv_reader_opts_init(&o);
	o.header = 0;
	o.max_field = max_field;
	if (csv_reader_open(&r, path, path, &o, &e)) {
		buf_addf(out, "open: %s\n", e.reason);
		return;
	}
	while ((rc = csv_reader_next(r, &row, &e)) == 1) {
		buf_addf(out, "%lu %lu %s [%.*s]", row->line, row->index,
			 row->bad ? row->bad : "-", (int)row->raw_len, row->raw);
		for (i = 0; i < row->n; i++) {
			buf_addf(out, " %zu:", row->len[i]);
			buf_add(out, row->f[i], row->len[i]);
			if (row->f[i][row->len[i]] != '\0')
				buf_adds(out, "(no NUL)");
		}
		buf_addc(out, '\n');
	}
	if (rc < 0)
		buf_addf(out, "error %d at %lu: %s\n", e.code, e.line, e.reason);
	csv_reader_free(r);
}

/* A line that starts a record and has no CR, quote or NUL is taken whole
 * from the decoded buffer (fast_line, 16 bytes per step with SSE2); the
 * same document with CRLF line ends goes through the general path
 * (memchr and libcsv) for every line. Random documents of plain, quoted,
 * doubled-quote, broken, blank and empty fields, comment-free, lines of
 * 0 to 90 bytes so delimiters and line ends meet every alignment and
 * lines straddle the 768 KiB decode buffer, read both ways: the same
 * records (line, index, raw, fields), the same errors, also with a
 * max_field that some fields pass. */
T_TEST(csv_fast_lines_match_general_path)
{
	static const char *const parts[] = {
		"", "a", "bc", "0123456789abcdef", "x y", " lead", "trail ",
		"\"q\"", "\"q,r\"", "\"a\"\"b\"", "x\"y", "\t", "KW-0000013",
		"2026-11-20 09:47", "\xc3\xa9t\xc3\xa9",
	};
	const size_t np = sizeof(parts) / sizeof(parts[0]);
	struct buf lf = BUF_INIT(1 << 24), crlf = BUF_INIT(1 << 24);
	struct buf a = BUF_INIT(1 << 26), b = BUF_INIT(1 << 26);
	uint64_t rng = 20261206;
	int round;

	for (round = 0; round < 4; round++) {
		size_t bytes = round < 2 ? 4000 : 1800000, mf;

		buf_reset(&lf);
		buf_reset(&crlf);
		while (lf.len < bytes) {
			size_t nf, j;
			int quoted = 0;

			rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
			nf = 1 + (size_t)(rng >> 59) % 9;
			for (j = 0; j < nf; j++) {
				size_t k;

				rng = rng * 6364136223846793005ULL +
				      1442695040888963407ULL;
				/* mostly plain fields; a quote in a fifth of
				 * the lines */
				k = (size_t)(rng >> 33) % np;
				if (parts[k][0] == '"' || strchr(parts[k], '"')) {
					if ((rng >> 20) % 5 && !quoted)
						k = 1;
					quoted = 1;
				}
				if (j) {
					buf_addc(&lf, ',');
					buf_addc(&crlf, ',');
				}
				buf_adds(&lf, parts[k]);
				buf_adds(&crlf, parts[k]);
			}
			buf_addc(&lf, '\n');
			buf_adds(&crlf, "\r\n");
		}
		T_ASSERT(!lf.err && !crlf.err);
		T_ASSERT(write_bytes("f_lf.csv", lf.ptr, lf.len) == 0);
		T_ASSERT(write_bytes("f_crlf.csv", crlf.ptr, crlf.len) == 0);
		mf = round % 2 ? 12 : 0;
		buf_reset(&a);
		buf_reset(&b);
		dump_records("f_lf.csv", mf, &a);
		dump_records("f_crlf.csv", mf, &b);
		T_ASSERT(!a.err && !b.err);
		if (a.len != b.len || memcmp(a.ptr, b.ptr, a.len)) {
			size_t i = 0;

			while (i < a.len && i < b.len && a.ptr[i] == b.ptr[i])
				i++;
			while (i && a.ptr[i - 1] != '\n')
				i--;
			T_FAIL("round %d: LF and CRLF differ at\n%.200s\n%.200s",
			       round, a.ptr + i, b.ptr + i);
		}
		/* many records, or (max_field) the error both stop at */
		if (mf ? !strstr(a.ptr, "error ") : a.len <= bytes)
			T_FAIL("round %d: %zu bytes of records, ending\n%s", round,
			       a.len, a.len > 300 ? a.ptr + a.len - 300 : a.ptr);
	}
	buf_release(&lf);
	buf_release(&crlf);
	buf_release(&a);
	buf_release(&b);
}
