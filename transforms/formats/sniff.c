/* sniff.c - the content analysis of sniff.h: the head sniff (format, text
 * encoding, CSV dialect), the CSV pass of sniff_file() and the dispatch.
 * The X12/EDIFACT and XML passes are in sniff_doc.c.
 *
 * The head sniff decodes UTF-16 (with or without BOM) to UTF-8 first, so
 * every later rule sees ASCII-compatible text, then asks in order: EDI
 * headers (the rules edi_sniff() always had), '<' for XML, and last the
 * CSV dialect: every candidate delimiter is tried with a quote-aware
 * record scanner (quoted fields may hold delimiters and line ends; CR, LF
 * and CRLF all end a record), and the delimiter whose field count the
 * records agree on wins. Counting per LF line, as before, called most
 * real exports (Mac CR line ends, a quoted newline in a description)
 * "unknown".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "lib/buf.h"
#include "lib/utf8.h"
#include "transforms/formats/csv_reader.h"
#include "transforms/formats/sniff_int.h"
#include "transforms/formats/unpack.h"

const char *sniff_format_name(int format)
{
	if (format == SNIFF_ARCHIVE)
		return "archive";
	return edi_format_name(format);
}

const char *sniff_eol_name(int eol)
{
	static const char *const names[] = {"none", "LF", "CRLF", "CR",
					    "mixed"};

	if (eol < 0 || (size_t)eol >= sizeof(names) / sizeof(names[0]))
		return "none";
	return names[eol];
}

/* ---- text encoding ----------------------------------------------------- */

/* 'L' or 'B' when the bytes look like UTF-16 without a BOM: most of the
 * first code units have a zero high byte (ASCII text). */
static int utf16_guess(const unsigned char *p, size_t n)
{
	size_t i, lo0 = 0, hi0 = 0, pairs = 0;

	for (i = 0; i + 1 < n && pairs < 256; i += 2, pairs++) {
		if (p[i] == 0 && p[i + 1] != 0)
			hi0++; /* big endian: 00 41 */
		else if (p[i] != 0 && p[i + 1] == 0)
			lo0++; /* little endian: 41 00 */
	}
	if (pairs < 2)
		return 0;
	if (lo0 * 10 >= pairs * 8)
		return 'L';
	if (hi0 * 10 >= pairs * 8)
		return 'B';
	return 0;
}

static size_t put_utf8(unsigned char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (unsigned char)(0xC0 | (cp >> 6));
		o[1] = (unsigned char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (unsigned char)(0xE0 | (cp >> 12));
		o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		o[2] = (unsigned char)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (unsigned char)(0xF0 | (cp >> 18));
	o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
	o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
	o[3] = (unsigned char)(0x80 | (cp & 0x3F));
	return 4;
}

/* UTF-16 (order 'L' or 'B') to UTF-8 in a new buffer (*out, *on); a lone
 * surrogate becomes U+FFFD, an odd last byte (the head cut mid-unit) is
 * dropped. Returns 0, or -1 when memory is short. */
static int utf16_decode(const unsigned char *p, size_t n, int order,
			unsigned char **out, size_t *on)
{
	unsigned char *o = malloc(n / 2 * 3 + 8);
	size_t i, k = 0;

	if (!o)
		return -1;
	for (i = 0; i + 1 < n; i += 2) {
		unsigned u = order == 'L' ? p[i] | (unsigned)p[i + 1] << 8
					  : (unsigned)p[i] << 8 | p[i + 1];

		if (u >= 0xD800 && u < 0xDC00 && i + 3 < n) {
			unsigned v = order == 'L'
					     ? p[i + 2] | (unsigned)p[i + 3] << 8
					     : (unsigned)p[i + 2] << 8 | p[i + 3];

			if (v >= 0xDC00 && v < 0xE000) {
				u = 0x10000 + ((u - 0xD800) << 10) +
				    (v - 0xDC00);
				i += 2;
			} else {
				u = 0xFFFD;
			}
		} else if (u >= 0xD800 && u < 0xE000) {
			u = 0xFFFD;
		}
		k += put_utf8(o + k, u);
	}
	*out = o;
	*on = k;
	return 0;
}

/* Names the 8-bit encoding of p: UTF-8 when it validates (a character cut
 * by the end of the head does not count against it), else Windows-1252
 * when its C1 range is used only where 1252 has letters, else Latin-1. */
static void encoding_8bit(const unsigned char *p, size_t n, char *enc,
			  size_t encn)
{
	size_t bad = utf8_check(p, n), i;
	int c1 = 0, undef = 0;

	if (bad == n || (n >= SNIFF_HEAD_MAX && n - bad < 4 && p[bad] >= 0xC2)) {
		snprintf(enc, encn, "UTF-8");
		return;
	}
	for (i = 0; i < n; i++) {
		if (p[i] >= 0x80 && p[i] < 0xA0)
			c1 = 1;
		if (p[i] == 0x81 || p[i] == 0x8D || p[i] == 0x8F ||
		    p[i] == 0x90 || p[i] == 0x9D)
			undef = 1;
	}
	snprintf(enc, encn, "%s", c1 && !undef ? "WINDOWS-1252" : "ISO-8859-1");
}

/* ---- EDI and XML by their first bytes ---------------------------------- */

static int is_upper(int ch)
{
	return ch >= 'A' && ch <= 'Z';
}

static int is_alnum(int ch)
{
	return is_upper(ch) || (ch >= '0' && ch <= '9') ||
	       (ch >= 'a' && ch <= 'z');
}

static int find_tag(const unsigned char *p, size_t n, const char *tag)
{
	size_t i;

	for (i = 0; i + 4 <= n; i++)
		if ((i == 0 || p[i - 1] == '\n' || p[i - 1] == '\'' ||
		     p[i - 1] == '~') &&
		    !memcmp(p + i, tag, 3) && !is_alnum(p[i + 3]))
			return 1;
	return 0;
}

/* p, n: text after the BOM and leading blanks. */
static int markup_format(const unsigned char *p, size_t n)
{
	if (n >= 4 && (!memcmp(p, "ISA", 3) || !memcmp(p, "DXS", 3)))
		return SNIFF_X12;
	if (n >= 4 && (!memcmp(p, "UNA", 3) || !memcmp(p, "UNB", 3) ||
		       !memcmp(p, "UNH", 3)))
		return SNIFF_EDIFACT;
	if (p[0] == '<')
		return SNIFF_XML;
	if (find_tag(p, n, "ISA"))
		return SNIFF_X12;
	if (find_tag(p, n, "UNB") || find_tag(p, n, "UNA"))
		return SNIFF_EDIFACT;
	/* Bare EDIFACT segments ("BGM+380+...'"): a message body without
	 * envelope. The reader then reports it as such. */
	if (n >= 5 && is_upper(p[0]) && is_upper(p[1]) && is_alnum(p[2]) &&
	    p[3] == '+' && memchr(p, '\'', n))
		return SNIFF_EDIFACT;
	return SNIFF_UNKNOWN;
}

/* ---- CSV dialect ------------------------------------------------------- */

#define SCAN_RECORDS 1000   /* records looked at per candidate */
#define SCAN_COUNTS 16      /* distinct field counts tracked */

struct csv_scan {
	unsigned long nrec;          /* non-blank complete records */
	unsigned first;              /* fields of the first record */
	unsigned cnt[SCAN_COUNTS];   /* distinct field counts ... */
	unsigned long freq[SCAN_COUNTS]; /* ... and how often */
	unsigned ncnt;
	unsigned long lf, crlf, cr;  /* line ends outside quotes */
	unsigned long quoted, doubled, backslash;
	int qnl;                     /* a quoted field spans lines */
	int blanks;                  /* an unquoted blank in a record of one
				      * field (single-column test) */
};

static void scan_record(struct csv_scan *s, unsigned fields)
{
	unsigned i;

	if (!s->nrec)
		s->first = fields;
	s->nrec++;
	for (i = 0; i < s->ncnt && s->cnt[i] != fields; i++)
		;
	if (i == s->ncnt) {
		if (s->ncnt == SCAN_COUNTS)
			return; /* a wildly ragged file: the mode still wins */
		s->cnt[s->ncnt++] = fields;
	}
	s->freq[i]++;
}

/* Splits p[0..n) into records on delim (-1 = none: one field per record)
 * with '"' quoting. whole: p is the whole file, so a last record without
 * a line end counts; otherwise it may be cut and is ignored, like a
 * record whose quote is still open at the end. */
static void csv_scan(const unsigned char *p, size_t n, int delim, int whole,
		     struct csv_scan *s)
{
	size_t i = 0;
	unsigned fields = 1;
	int in_q = 0, fstart = 1, empty = 1;

	memset(s, 0, sizeof(*s));
	while (i < n && s->nrec < SCAN_RECORDS) {
		int c = p[i];

		if (in_q) {
			if (c == '"' && i + 1 < n && p[i + 1] == '"') {
				s->doubled++;
				i += 2;
				continue;
			}
			if (c == '"') {
				in_q = 0;
			} else if (c == '\\' && i + 2 < n && p[i + 1] == '"' &&
				   p[i + 2] != delim && p[i + 2] != '\r' &&
				   p[i + 2] != '\n') {
				s->backslash++;
				i++;
			} else if (c == '\r' || c == '\n') {
				s->qnl = 1;
			}
			i++;
			continue;
		}
		if (c == '"' && fstart) {
			in_q = 1;
			s->quoted++;
			fstart = empty = 0;
			i++;
			continue;
		}
		if (c == delim) {
			fields++;
			fstart = 1;
			empty = 0;
			i++;
			continue;
		}
		if (c == '\r' || c == '\n') {
			if (c == '\r' && i + 1 < n && p[i + 1] == '\n') {
				s->crlf++;
				i++;
			} else if (c == '\r') {
				s->cr++;
			} else {
				s->lf++;
			}
			i++;
			if (!empty)
				scan_record(s, fields);
			fields = 1;
			fstart = empty = 1;
			continue;
		}
		if ((c == ' ' || c == '\t') && delim < 0)
			s->blanks = 1;
		fstart = empty = 0;
		i++;
	}
	if (i == n && whole && !in_q && !empty)
		scan_record(s, fields);
}

/* The field count most records agree on (> 1) and how many do; ties go
 * to the first record's count. */
static unsigned scan_mode(const struct csv_scan *s, unsigned long *k)
{
	unsigned i, best = 0;
	unsigned long bk = 0;

	for (i = 0; i < s->ncnt; i++) {
		if (s->cnt[i] < 2)
			continue;
		if (s->freq[i] > bk ||
		    (s->freq[i] == bk && s->cnt[i] == s->first)) {
			best = s->cnt[i];
			bk = s->freq[i];
		}
	}
	*k = bk;
	return best;
}

/* Splits the first record of p on delim and reports whether it looks like
 * column names: every field non-empty, none a number, no two alike. */
static int first_is_header(const unsigned char *p, size_t n, int delim)
{
	const unsigned char *f[256];
	size_t len[256], i = 0;
	unsigned nf = 0, a, b;

	while (nf < 256) {
		size_t st = i, e;

		if (i < n && p[i] == '"') {
			for (i++; i < n; i++) {
				if (p[i] != '"')
					continue;
				if (i + 1 < n && p[i + 1] == '"')
					i++;
				else
					break;
			}
			if (i < n)
				i++;
		}
		while (i < n && p[i] != delim && p[i] != '\r' && p[i] != '\n')
			i++;
		e = i;
		while (st < e && (p[st] == ' ' || p[st] == '"'))
			st++;
		while (e > st && (p[e - 1] == ' ' || p[e - 1] == '"'))
			e--;
		f[nf] = p + st;
		len[nf++] = e - st;
		if (i >= n || p[i] != delim)
			break;
		i++;
	}
	for (a = 0; a < nf; a++) {
		size_t j = 0, digits = 0;

		if (!len[a])
			return 0;
		if (f[a][0] == '-' || f[a][0] == '+')
			j++;
		for (; j < len[a]; j++) {
			if (f[a][j] >= '0' && f[a][j] <= '9')
				digits++;
			else if (f[a][j] != '.' && f[a][j] != ',')
				break;
		}
		if (j == len[a] && digits)
			return 0;
		for (b = 0; b < a; b++)
			if (len[a] == len[b] && !memcmp(f[a], f[b], len[a]))
				return 0;
	}
	return 1;
}

/* A one-column file: at least two records, the first a plain column name
 * and no unquoted blank anywhere (so a text note is not taken for a
 * list), no control bytes. */
static int single_column(const unsigned char *p, size_t n,
			 const struct csv_scan *s)
{
	size_t i;

	if (s->nrec < 2 || s->blanks)
		return 0;
	for (i = 0; i < n; i++)
		if (p[i] < 0x20 && p[i] != '\r' && p[i] != '\n' && p[i] != '\t')
			return 0;
	i = p[0] == '"';
	if (!(is_alnum(p[i]) || p[i] == '_'))
		return 0;
	for (; i < n && p[i] != '\r' && p[i] != '\n'; i++)
		if (!is_alnum(p[i]) && !strchr("_-./#\"", p[i]))
			return 0;
	return 1;
}

static void dialect_eol(struct sniff_dialect *d, const struct csv_scan *s)
{
	int kinds = (s->lf > 0) + (s->crlf > 0) + (s->cr > 0);

	d->eol = kinds > 1   ? SNIFF_EOL_MIXED
		 : s->crlf   ? SNIFF_EOL_CRLF
		 : s->cr     ? SNIFF_EOL_CR
		 : s->lf     ? SNIFF_EOL_LF
			     : SNIFF_EOL_NONE;
}

/* Too many control bytes for a text file (a PDF, an image): a tab, CR or
 * LF is text; one NUL in a field is a broken CSV, not a binary file. */
static int looks_binary(const unsigned char *p, size_t n)
{
	size_t i, ctl = 0;

	for (i = 0; i < n; i++)
		if (p[i] < 0x20 && p[i] != '\t' && p[i] != '\r' && p[i] != '\n')
			ctl++;
	return ctl > n / 32 + 1;
}

/* The CSV verdict on text p (UTF-8, BOM and leading blanks kept out). */
static int csv_dialect(const unsigned char *p, size_t n, int whole,
		       struct sniff_dialect *d)
{
	static const char cands[] = ",;\t|";
	struct csv_scan s, best;
	unsigned i, bf = 0, bpct = 0;
	int bd = -1;

	if (looks_binary(p, n))
		return SNIFF_UNKNOWN;
	for (i = 0; i < sizeof(cands) - 1; i++) {
		unsigned long k;
		unsigned f, pct;

		csv_scan(p, n, cands[i], whole, &s);
		f = scan_mode(&s, &k);
		if (!f || (s.nrec > 1 && (k < 2 || 2 * k < s.nrec)))
			continue;
		/* Agreement first (90 % and up count as full: a few ragged
		 * rows must not hand the file to a delimiter that happens
		 * to appear twice per line), then the wider split. */
		pct = (unsigned)(k * 100 / s.nrec);
		if (pct >= 90)
			pct = 100;
		if (bd < 0 || pct > bpct || (pct == bpct && f > bf)) {
			bd = cands[i];
			bf = f;
			bpct = pct;
			best = s;
		}
	}
	if (bd < 0) {
		csv_scan(p, n, -1, whole, &s);
		if (!single_column(p, n, &s))
			return SNIFF_UNKNOWN;
		best = s;
		bd = ',';
		bf = 1;
	}
	d->delimiter = (char)bd;
	d->quote = best.quoted ? '"' : 0;
	d->escape = best.backslash ? '\\' : best.doubled ? '"' : 0;
	d->quoted_newlines = best.qnl;
	d->ncols = bf;
	d->header = first_is_header(p, n, bd);
	dialect_eol(d, &best);
	return SNIFF_CSV;
}

/* Line ends of any text as they are (CSV counts them again outside
 * quotes): an EDI file's segments may or may not be on lines. */
static void raw_eol(const unsigned char *p, size_t n, struct sniff_dialect *d)
{
	struct csv_scan s;
	size_t i;

	memset(&s, 0, sizeof(s));
	for (i = 0; i < n; i++) {
		if (p[i] == '\r' && i + 1 < n && p[i + 1] == '\n') {
			s.crlf++;
			i++;
		} else if (p[i] == '\r') {
			s.cr++;
		} else if (p[i] == '\n') {
			s.lf++;
		}
	}
	dialect_eol(d, &s);
}

static int sniff_text(const unsigned char *p, size_t n, int whole,
		      struct sniff_dialect *d)
{
	size_t i = 0;
	int fmt;

	raw_eol(p, n, d);

	if (n >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF)
		i = 3;
	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' ||
			 p[i] == '\n'))
		i++;
	if (i == n)
		return SNIFF_EMPTY;
	fmt = markup_format(p + i, n - i);
	if (fmt != SNIFF_UNKNOWN)
		return fmt;
	/* The BOM is no data, leading blank lines are no records; blanks
	 * at the start of the first line may be an empty first field. */
	i = n >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF ? 3 : 0;
	while (i < n && (p[i] == '\r' || p[i] == '\n'))
		i++;
	return csv_dialect(p + i, n - i, whole, d);
}

int sniff_head(const unsigned char *head, size_t n, struct sniff_dialect *d)
{
	struct sniff_dialect dd;
	unsigned char *dec = NULL;
	size_t dn = 0;
	int order = 0, fmt;

	if (!d)
		d = &dd;
	memset(d, 0, sizeof(*d));
	if (n >= 3 && head[0] == 0xC9 && head[1] == 0xE2 && head[2] == 0xC1) {
		snprintf(d->encoding, sizeof(d->encoding), "IBM037");
		return SNIFF_X12; /* "ISA" in EBCDIC */
	}
	if (n >= 2 && head[0] == 0xFF && head[1] == 0xFE)
		order = 'L';
	else if (n >= 2 && head[0] == 0xFE && head[1] == 0xFF)
		order = 'B';
	if (order) {
		d->bom = 1;
		head += 2;
		n -= 2;
	} else {
		order = utf16_guess(head, n);
	}
	if (order) {
		snprintf(d->encoding, sizeof(d->encoding), "UTF-16%s",
			 order == 'L' ? "LE" : "BE");
		if (utf16_decode(head, n, order, &dec, &dn) < 0)
			return SNIFF_UNKNOWN;
		/* Decoding can only shrink a head below the bound when it
		 * was the whole file. */
		fmt = sniff_text(dec, dn, n + 2 * d->bom < SNIFF_HEAD_MAX, d);
		free(dec);
		return fmt;
	}
	if (n >= 3 && head[0] == 0xEF && head[1] == 0xBB && head[2] == 0xBF)
		d->bom = 1;
	encoding_8bit(head, n, d->encoding, sizeof(d->encoding));
	return sniff_text(head, n, n < SNIFF_HEAD_MAX, d);
}

/* Reads up to max bytes from the start of fd into p. */
static ssize_t read_head(int fd, unsigned char *p, size_t max)
{
	size_t got = 0;

	while (got < max) {
		ssize_t n = read(fd, p + got, max - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* Format of an open file from its head (read from offset 0). */
static int head_of_fd(int fd, unsigned char *head, size_t *got,
		      struct sniff_dialect *d, char *archive, size_t an,
		      const char *path, struct err *err)
{
	ssize_t n = lseek(fd, 0, SEEK_SET) < 0 ? -1
					      : read_head(fd, head, SNIFF_HEAD_MAX);
	enum unpack_kind k;

	if (n < 0)
		return err_sys(err, "read %s", path);
	*got = (size_t)n;
	k = unpack_sniff(head, (size_t)n);
	if (k != UNPACK_PLAIN) {
		memset(d, 0, sizeof(*d));
		if (archive)
			snprintf(archive, an, "%s", unpack_kind_name(k));
		return SNIFF_ARCHIVE;
	}
	return sniff_head(head, (size_t)n, d);
}

int sniff_path_head(const char *path, struct sniff_dialect *d,
		    struct err *err)
{
	struct sniff_dialect dd;
	unsigned char *head = malloc(SNIFF_HEAD_MAX);
	size_t n;
	int fd, fmt;

	if (!d)
		d = &dd;
	memset(d, 0, sizeof(*d));
	if (!head)
		return err_set(err, E_NOMEM, "out of memory");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		free(head);
		return err_sys(err, "open %s", path);
	}
	fmt = head_of_fd(fd, head, &n, d, NULL, 0, path, err);
	close(fd);
	free(head);
	return fmt;
}

void sniff_opts_init(struct sniff_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->max_samples = 3;
	o->max_columns = 256;
	o->max_bad_rows = 20;
	o->max_tags = 256;
	o->max_quals = 24;
	o->max_paths = 1000;
	o->max_findings = 200;
}

char *sniff_sample_dup(struct arena *a, const char *s, size_t n)
{
	char *o;

	if (n <= SNIFF_SAMPLE_MAX)
		return arena_strndup(a, s, n);
	n = SNIFF_SAMPLE_MAX;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--; /* do not cut a character in two */
	o = arena_alloc(a, n + 4);
	if (o) {
		memcpy(o, s, n);
		memcpy(o + n, "...", 4);
	}
	return o;
}

/* ---- the CSV pass ------------------------------------------------------ */

/* Physical lines of fd (CR, LF, CRLF each one; a last line without an
 * end counts), in code units of 1 or 2 bytes ('L'/'B' order). */
static int count_lines(int fd, int order, unsigned long *lines,
		       struct err *err)
{
	unsigned char b[65536];
	unsigned long nl = 0;
	int prev_cr = 0, last = -1, odd = -1;
	ssize_t n;

	if (lseek(fd, 0, SEEK_SET) < 0)
		return err_sys(err, "seek");
	while ((n = read(fd, b, sizeof(b))) != 0) {
		ssize_t i;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_sys(err, "read");
		for (i = 0; i < n; i++) {
			int c = b[i];

			if (order) {
				/* Units can straddle reads: keep the first
				 * byte of an unfinished one. */
				if (odd < 0) {
					odd = c;
					continue;
				}
				c = order == 'L' ? (odd | c << 8)
						 : (odd << 8 | c);
				odd = -1;
			}
			if (c == '\n' && !prev_cr)
				nl++;
			if (c == '\r')
				nl++;
			prev_cr = c == '\r';
			last = c;
		}
	}
	if (last >= 0 && last != '\n' && last != '\r')
		nl++;
	*lines = nl;
	return 0;
}

static int csv_bad(struct sniff *s, const struct sniff_opts *o,
		   const struct csv_row *row, const char *why)
{
	struct sniff_csv *c = &s->u.csv;
	struct sniff_bad_row *b;

	c->nbad++;
	if (c->nbad_listed >= o->max_bad_rows)
		return 0;
	b = &c->bad[c->nbad_listed++];
	b->line = row->line;
	b->index = row->index;
	b->nfields = (unsigned)row->n;
	b->why = arena_strdup(&s->arena, why);
	return b->why ? 0 : -1;
}

static int csv_columns(struct sniff *s, const struct sniff_opts *o,
		       const struct csv_row *first, int named)
{
	struct sniff_csv *c = &s->u.csv;
	unsigned i, n = (unsigned)first->n;

	c->ncols = n;
	if (n > o->max_columns) {
		c->ncols_more = n - o->max_columns;
		n = o->max_columns;
	}
	c->cols = arena_alloc(&s->arena, (n ? n : 1) * sizeof(*c->cols));
	if (!c->cols)
		return -1;
	memset(c->cols, 0, (n ? n : 1) * sizeof(*c->cols));
	for (i = 0; i < n; i++) {
		c->cols[i].name = named ? sniff_sample_dup(&s->arena,
							   first->f[i],
							   first->len[i])
					: "";
		if (!c->cols[i].name)
			return -1;
	}
	return 0;
}

static int csv_sample(struct sniff *s, const struct sniff_opts *o,
		      const struct csv_row *row)
{
	struct sniff_csv *c = &s->u.csv;
	unsigned i, j, n = c->ncols - c->ncols_more;
	unsigned max = o->max_samples < 8 ? o->max_samples : 8;

	for (i = 0; i < n && i < row->n; i++) {
		struct sniff_column *col = &c->cols[i];

		if (!row->len[i])
			continue;
		col->nonempty++;
		if (col->nsamples >= max)
			continue;
		for (j = 0; j < col->nsamples; j++)
			if (!strncmp(col->samples[j], row->f[i], row->len[i]) &&
			    !col->samples[j][row->len[i]])
				break;
		if (j < col->nsamples)
			continue;
		col->samples[col->nsamples] =
			sniff_sample_dup(&s->arena, row->f[i], row->len[i]);
		if (!col->samples[col->nsamples++])
			return -1;
	}
	return 0;
}

/* Reads the file with the pipeline's own CSV reader in the sniffed
 * dialect, so "rows that do not fit" are the rows a mapping would
 * reject for their shape. */
static int sniff_csv_pass(struct sniff *s, int fd, const struct sniff_opts *o,
			  struct err *err)
{
	struct sniff_csv *c = &s->u.csv;
	struct csv_reader_opts ro;
	struct csv_reader *r = NULL;
	const struct csv_row *row;
	struct err re = ERR_INIT;
	char why[200], msg[1200];
	int rc, order = 0;

	if (!strcmp(s->dialect.encoding, "UTF-16LE"))
		order = 'L';
	else if (!strcmp(s->dialect.encoding, "UTF-16BE"))
		order = 'B';
	if (count_lines(fd, order, &c->lines, err) < 0)
		return -1;
	c->bad = arena_alloc(&s->arena,
			     (o->max_bad_rows + 1) * sizeof(*c->bad));
	if (!c->bad)
		return err_set(err, E_NOMEM, "out of memory");
	if (lseek(fd, 0, SEEK_SET) < 0)
		return err_sys(err, "seek %s", s->path);
	csv_reader_opts_init(&ro);
	ro.delimiter = s->dialect.delimiter;
	ro.header = s->dialect.header;
	ro.encoding = s->dialect.encoding;
	if (csv_reader_open_fd(&r, fd, s->path, &ro, &re) < 0)
		goto broken;
	if (ro.header) {
		const struct csv_row *h = csv_reader_header(r);

		if (h && csv_columns(s, o, h, 1) < 0)
			goto nomem;
	}
	while ((rc = csv_reader_next(r, &row, &re)) == 1) {
		if (!c->cols && csv_columns(s, o, row, 0) < 0)
			goto nomem;
		c->rows++;
		if (row->bad) {
			if (csv_bad(s, o, row, row->bad) < 0)
				goto nomem;
			continue;
		}
		if (row->n != c->ncols) {
			snprintf(why, sizeof(why), "%zu field%s, %s %u",
				 row->n, row->n == 1 ? "" : "s",
				 ro.header ? "the header has"
					   : "the first record has",
				 c->ncols);
			if (csv_bad(s, o, row, why) < 0)
				goto nomem;
		}
		if (csv_sample(s, o, row) < 0)
			goto nomem;
	}
	csv_reader_free(r);
	if (rc < 0)
		goto broken;
	s->valid = !c->nbad;
	return 0;
broken:
	if (re.code == E_NOMEM) {
		csv_reader_free(r);
		*err = re;
		return -1;
	}
	err_format(&re, msg, sizeof(msg));
	c->error = arena_strdup(&s->arena, msg);
	s->valid = 0;
	return c->error ? 0 : err_set(err, E_NOMEM, "out of memory");
nomem:
	csv_reader_free(r);
	return err_set(err, E_NOMEM, "out of memory");
}

/* ---- the file ---------------------------------------------------------- */

static void opts_fill(struct sniff_opts *o, const struct sniff_opts *in)
{
	struct sniff_opts d;

	sniff_opts_init(&d);
	*o = in ? *in : d;
	if (!o->max_samples)
		o->max_samples = d.max_samples;
	if (!o->max_columns)
		o->max_columns = d.max_columns;
	if (!o->max_bad_rows)
		o->max_bad_rows = d.max_bad_rows;
	if (!o->max_tags)
		o->max_tags = d.max_tags;
	if (!o->max_quals)
		o->max_quals = d.max_quals;
	if (!o->max_paths)
		o->max_paths = d.max_paths;
	if (!o->max_findings)
		o->max_findings = d.max_findings;
}

int sniff_file(const char *path, const char *name,
	       const struct sniff_opts *in, struct sniff **out,
	       struct err *err)
{
	struct sniff_opts o;
	struct sniff *s;
	struct stat st;
	unsigned char *head = NULL;
	size_t n = 0;
	int fd = -1, rc = -1;

	*out = NULL;
	opts_fill(&o, in);
	s = calloc(1, sizeof(*s));
	head = malloc(SNIFF_HEAD_MAX);
	if (!s || !head) {
		err_set(err, E_NOMEM, "out of memory");
		goto cleanup;
	}
	arena_init(&s->arena, 0, 0);
	s->path = arena_strdup(&s->arena, name ? name : path);
	if (!s->path) {
		err_set(err, E_NOMEM, "out of memory");
		goto cleanup;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err_sys(err, "open %s", path);
		goto cleanup;
	}
	if (fstat(fd, &st) == 0)
		s->size = (uint64_t)st.st_size;
	s->format = head_of_fd(fd, head, &n, &s->dialect, s->archive,
			       sizeof(s->archive), path, err);
	if (s->format < 0)
		goto cleanup;
	switch (s->format) {
	case SNIFF_CSV:
		rc = sniff_csv_pass(s, fd, &o, err);
		break;
	case SNIFF_X12:
	case SNIFF_EDIFACT:
		rc = sniff_doc_edi(s, fd, &o, err);
		break;
	case SNIFF_XML:
		rc = sniff_doc_xml(s, fd, &o, head, n, err);
		break;
	default:
		/* An archive is valid as far as this look goes; unknown and
		 * empty files are not. */
		s->valid = s->format == SNIFF_ARCHIVE;
		rc = 0;
		break;
	}
cleanup:
	if (fd >= 0)
		close(fd);
	free(head);
	if (rc < 0) {
		sniff_free(s);
		return -1;
	}
	*out = s;
	return 0;
}

void sniff_free(struct sniff *s)
{
	if (!s)
		return;
	arena_release(&s->arena);
	free(s);
}

const struct sniff_elem *sniff_edi_elem(const struct sniff *s,
					const char *tag, unsigned elem,
					unsigned comp)
{
	unsigned i, j;

	if (!s || (s->format != SNIFF_X12 && s->format != SNIFF_EDIFACT))
		return NULL;
	for (i = 0; i < s->u.edi.nsegs; i++) {
		const struct sniff_segment *g = &s->u.edi.segs[i];

		if (strcmp(g->tag, tag))
			continue;
		for (j = 0; j < g->nelems; j++)
			if (g->elems[j].elem == elem && g->elems[j].comp == comp)
				return &g->elems[j];
	}
	return NULL;
}
