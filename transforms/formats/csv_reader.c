/* csv_reader.c - see csv_reader.h.
 *
 * How line numbers are kept although libcsv does not report positions: the
 * decoded text is fed to libcsv in segments that end at every CR or LF.
 * libcsv can only end a record at an (unquoted) CR or LF, so at most one
 * record completes per segment, and after each segment the reader knows
 * the physical line it is on. A record's first line is the line of the
 * first segment fed while libcsv was between records.
 */
#include "csv_reader.h"

#include <csv.h>
#include <errno.h>
#include <fcntl.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/utf8.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define RD_IN_SIZE (256u * 1024u)    /* raw bytes per read(2) */
#define RD_DEC_SIZE (768u * 1024u)   /* decoded bytes: 3x for 1-byte charsets */
#define RD_DEFAULT_MAX (1u << 20)

enum rd_mode {
	RD_NORMAL,    /* feeding records to libcsv */
	RD_SKIP,      /* dropping the rest of a comment line */
	RD_PREAMBLE,  /* collecting a preamble line */
	RD_RESYNC     /* after a quoting error: collect the rest of the line */
};

struct csv_reader {
	int fd;
	int own_fd;
	const char *name;
	struct csv_reader_opts o;
	iconv_t cd;
	int utf8;                /* the input is UTF-8: copy what is valid */
	int started;             /* BOM check done */
	int eof_in;              /* read(2) returned 0 */
	int ilseq;               /* invalid input found after the decoded data */
	int finished;            /* csv_fini done */
	unsigned char *in;
	size_t in_len;
	char *dec;
	size_t dec_pos, dec_len;

	struct csv_parser p;
	int p_init;
	struct buf fields;       /* field bytes, each followed by a NUL */
	size_t *offs, *lens;
	const char **ptrs;
	size_t nf, capf;
	int rec_done;
	int field_nul;
	int field_long;          /* a field past max_field was delivered */
	const char *bad;

	struct buf raw;          /* raw bytes of the current record */
	unsigned long line;      /* physical line of the next byte */
	int prev_cr;             /* last byte fed was CR (CRLF = one line) */
	int in_rec;              /* a record has started */
	unsigned long rec_line;
	enum rd_mode mode;
	unsigned long index;

	struct csv_row row;
	int pending;             /* 0 none, 1 a row read ahead, 2 EOF ahead */
	int have_header;
	struct csv_row hdr;
	struct buf hdr_bytes;
	size_t *hdr_lens;
	const char **hdr_ptrs;

	struct buf pre;          /* preamble lines, each followed by a NUL */
	size_t *pre_offs;
	unsigned npre;
};

void csv_reader_opts_init(struct csv_reader_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->delimiter = ',';
	o->quote = '"';
	o->header = 1;
	o->skip_blank = 1;
}

static int no_space(unsigned char c)
{
	(void)c;
	return 0;
}

/* Makes room for one more field's offset, length and pointer. Returns 0,
 * or -1 with fields.err set (checked after the feed). */
static int field_slot(struct csv_reader *r)
{
	size_t cap = r->capf ? r->capf * 2 : 64;
	size_t *o, *l = NULL;
	const char **pp = NULL;

	if (r->nf < r->capf)
		return 0;
	o = realloc(r->offs, cap * sizeof(*o));
	if (o)
		r->offs = o;
	l = o ? realloc(r->lens, cap * sizeof(*l)) : NULL;
	if (l)
		r->lens = l;
	pp = l ? realloc(r->ptrs, cap * sizeof(*pp)) : NULL;
	if (pp)
		r->ptrs = pp;
	if (!o || !l || !pp) {
		r->fields.err = E_NOMEM;
		return -1;
	}
	r->capf = cap;
	return 0;
}

static void on_field(void *s, size_t n, void *ud)
{
	struct csv_reader *r = ud;

	if (field_slot(r))
		return;
	if (n && memchr(s, '\0', n))
		r->field_nul = 1;
	/* libcsv's entry_pos only shows the field still in progress when a
	 * feed returns; a longer field completed inside the feed shows here
	 * (checked after the feed, as fields.err is). */
	if (n > r->o.max_field)
		r->field_long = 1;
	r->offs[r->nf] = r->fields.len;
	r->lens[r->nf] = n;
	buf_add(&r->fields, s, n);
	buf_addc(&r->fields, '\0');
	r->nf++;
}

static void on_record(int c, void *ud)
{
	struct csv_reader *r = ud;

	(void)c;
	r->rec_done = 1;
}

static int parser_init(struct csv_reader *r, struct err *err)
{
	if (r->p_init)
		csv_free(&r->p);
	r->p_init = 0;
	if (csv_init(&r->p, CSV_STRICT | CSV_STRICT_FINI))
		return err_set(err, E_NOMEM, "out of memory");
	r->p_init = 1;
	csv_set_delim(&r->p, (unsigned char)r->o.delimiter);
	csv_set_quote(&r->p, (unsigned char)r->o.quote);
	if (!r->o.trim)
		csv_set_space_func(&r->p, no_space);
	return 0;
}

static int fail(struct csv_reader *r, struct err *err, int code,
		unsigned long line, const char *what)
{
	err_at(err, code, r->name, line, 0, "%s", what);
	return -1;
}

/* Refills r->dec. Returns 1 when decoded bytes are available, 0 at the end
 * of the input, -1 on error. */
static int fill(struct csv_reader *r, struct err *err)
{
	r->dec_pos = r->dec_len = 0;
	for (;;) {
		char *ip, *op;
		size_t il, ol, rc;

		if (r->ilseq)
			return fail(r, err, E_PARSE, r->line,
				    r->o.encoding && *r->o.encoding
					    ? "invalid byte for the declared encoding"
					    : "invalid UTF-8 byte sequence");
		if (!r->eof_in && r->in_len < RD_IN_SIZE) {
			ssize_t n = read(r->fd, r->in + r->in_len,
					 RD_IN_SIZE - r->in_len);

			if (n < 0) {
				if (errno == EINTR)
					continue;
				err_sys(err, "cannot read '%s'", r->name);
				return -1;
			}
			if (n == 0)
				r->eof_in = 1;
			r->in_len += (size_t)n;
		}
		if (!r->in_len)
			return 0;
		ip = (char *)r->in;
		il = r->in_len;
		op = r->dec;
		ol = RD_DEC_SIZE;
		rc = 0;
		if (r->utf8) {
			/* UTF-8 to UTF-8 changes nothing that is valid: copy
			 * that, and leave iconv the rest (an invalid or cut
			 * character first), so errors are what they were.
			 * The iconv pass was 8% of the CSV map stage. */
			size_t k = utf8_check(r->in, il);

			memcpy(op, ip, k);
			ip += k;
			il -= k;
			op += k;
			ol -= k;
		}
		if (il)
			rc = iconv(r->cd, &ip, &il, &op, &ol);
		if (rc == (size_t)-1 && errno == EILSEQ)
			r->ilseq = 1; /* reported once the good part is used */
		else if (rc == (size_t)-1 && errno == EINVAL && r->eof_in)
			r->ilseq = 1; /* truncated character at the end */
		memmove(r->in, ip, il);
		r->in_len = il;
		r->dec_len = (size_t)(op - r->dec);
		if (!r->started && r->dec_len) {
			r->started = 1;
			if (r->dec_len >= 3 && !memcmp(r->dec, "\xEF\xBB\xBF", 3))
				r->dec_pos = 3;
		}
		if (r->dec_pos < r->dec_len)
			return 1;
		r->dec_pos = r->dec_len = 0;
		if (r->eof_in && !r->in_len && !r->ilseq)
			return 0;
	}
}

static void count_lines(struct csv_reader *r, const char *seg, size_t n)
{
	char last = seg[n - 1];

	if (last == '\n') {
		if (!(n == 1 && r->prev_cr))
			r->line++;
		r->prev_cr = 0;
	} else if (last == '\r') {
		r->line++;
		r->prev_cr = 1;
	} else {
		r->prev_cr = 0;
	}
}

static void row_reset(struct csv_reader *r)
{
	buf_reset(&r->fields);
	buf_reset(&r->raw);
	r->nf = 0;
	r->rec_done = 0;
	r->field_nul = 0;
	r->in_rec = 0;
	r->bad = NULL;
}

static int row_build(struct csv_reader *r, struct err *err)
{
	size_t i, n;

	if (r->fields.err || r->raw.err)
		return err_set(err, E_NOMEM, "out of memory");
	for (i = 0; i < r->nf; i++)
		r->ptrs[i] = r->fields.ptr + r->offs[i];
	n = r->raw.len;
	while (n && (r->raw.ptr[n - 1] == '\n' || r->raw.ptr[n - 1] == '\r'))
		n--;
	if (r->raw.len)
		r->raw.ptr[n] = '\0'; /* raw is a C string too */
	r->row.n = r->nf;
	r->row.f = r->ptrs;
	r->row.len = r->lens;
	r->row.line = r->rec_line;
	r->row.raw = r->raw.ptr;
	r->row.raw_len = n;
	r->row.bad = r->bad;
	if (!r->bad && r->field_nul)
		r->row.bad = "field contains a NUL byte";
	return 0;
}

static int is_blank_seg(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return 0;
	return 1;
}

/* A line while skipping a comment (RD_SKIP) or keeping a preamble line
 * (RD_PREAMBLE): the line ends the mode when it is complete. */
static int skip_line(struct csv_reader *r, const char *seg, size_t n,
		     int term, struct err *err)
{
	struct buf *b = r->mode == RD_SKIP ? NULL : &r->pre;

	if (b) {
		buf_add(b, seg, n - (term ? 1 : 0));
		if (b->err)
			return fail(r, err, E_TOOBIG, r->line,
				    "preamble line too long");
	}
	count_lines(r, seg, n);
	if (term) {
		if (b) {
			buf_addc(b, '\0');
			r->npre++;
			r->pre_offs[r->npre] = b->len;
		}
		r->mode = RD_NORMAL;
	}
	return 0;
}

/* Between records: decides what the line at seg is. Returns 1 when it
 * is no record (the LF of a CRLF, a blank line) or starts another mode
 * (preamble, comment; the line is read again), 0 when a record starts. */
static int between_records(struct csv_reader *r, const char *seg, size_t n,
			   int term)
{
	if (n == 1 && seg[0] == '\n' && r->prev_cr) {
		r->prev_cr = 0; /* the LF of a CRLF */
		return 1;
	}
	if (r->npre < r->o.skip_lines) {
		r->mode = RD_PREAMBLE;
		r->dec_pos -= n;
		return 1;
	}
	if (term && is_blank_seg(seg, n)) {
		count_lines(r, seg, n);
		return 1;
	}
	if (r->o.comment && seg[0] == r->o.comment) {
		r->mode = RD_SKIP;
		r->dec_pos -= n;
		return 1;
	}
	r->in_rec = 1;
	r->rec_line = r->line;
	return 0;
}

/* A line without a quote character, [p, end): its fields are the bytes
 * between delimiters, copied as on_field would copy them, with one NUL
 * check for the whole line and the room for all of them made once (the
 * fields and their NULs take exactly the line's length plus one). A
 * failure leaves fields.err set, which the caller reports after the
 * feed as for on_field. */
static void split_unquoted(struct csv_reader *r, const char *p,
			   const char *end)
{
	size_t len = (size_t)(end - p);
	unsigned char dl = (unsigned char)r->o.delimiter;
	struct buf *f = &r->fields;
	const char *d;

	if (buf_grow(f, len + 1) < 0)
		return;
	if (len && memchr(p, '\0', len))
		r->field_nul = 1;
	for (;;) {
		size_t k;

		d = memchr(p, dl, (size_t)(end - p));
		k = (size_t)((d ? d : end) - p);
		if (field_slot(r))
			return;
		if (k > r->o.max_field)
			r->field_long = 1;
		r->offs[r->nf] = f->len;
		r->lens[r->nf] = k;
		memcpy(f->ptr + f->len, p, k);
		f->len += k;
		f->ptr[f->len++] = '\0';
		r->nf++;
		if (!d)
			break;
		p = d + 1;
	}
	f->ptr[f->len] = '\0';
}

/* A whole physical line that starts a record, split here with memchr
 * when libcsv would only split it: no quote character, or quotes only
 * around whole fields with none inside ("a",b). Blanks are kept (trim is
 * off) and the line's CR or LF ends the record, as in libcsv. libcsv's
 * state machine with a call per byte was a fifth of the CSV map stage.
 * Returns 1 when the line was taken, 0 when libcsv must read it (nothing
 * of the line is kept then). */
static int plain_line(struct csv_reader *r, const char *seg, size_t n,
		      int term)
{
	const char *p = seg, *end, *d;
	size_t nf = r->nf, flen = r->fields.len;
	unsigned char dl = (unsigned char)r->o.delimiter;
	unsigned char qc = (unsigned char)r->o.quote;

	if (!term || r->o.trim || r->raw.len != n || r->p.pstate != 0 ||
	    r->p.entry_pos != 0 || r->mode != RD_NORMAL || dl == qc)
		return 0;
	end = seg + n - 1; /* without the CR or LF */
	/* Most lines have no quote at all: one scan of the line instead
	 * of one per field. */
	if (!memchr(p, qc, (size_t)(end - p))) {
		split_unquoted(r, p, end);
		r->rec_done = 1;
		return 1;
	}
	for (;;) {
		if (p < end && (unsigned char)*p == qc) {
			const char *cq = memchr(p + 1, qc, (size_t)(end - p - 1));

			if (!cq || (cq + 1 < end && (unsigned char)cq[1] != dl))
				goto slow; /* "" inside, or text after it */
			on_field((void *)(p + 1), (size_t)(cq - p - 1), r);
			d = cq + 1 < end ? cq + 1 : NULL;
		} else {
			d = memchr(p, dl, (size_t)(end - p));
			if (memchr(p, qc, (size_t)((d ? d : end) - p)))
				goto slow; /* a quote inside an unquoted field */
			on_field((void *)p, (size_t)((d ? d : end) - p), r);
		}
		if (!d)
			break;
		p = d + 1;
	}
	r->rec_done = 1;
	return 1;
slow:
	r->nf = nf;
	r->fields.len = flen;
	r->field_nul = 0;
	r->field_long = 0;
	return 0;
}

/* Feeds a piece of a record to libcsv. Returns 1 when a record is
 * complete (or a bad one ends), 0 for more input, -1. */
static int record_part(struct csv_reader *r, const char *seg, size_t n,
		       int term, struct err *err)
{
	size_t used;

	buf_add(&r->raw, seg, n);
	if (r->raw.len > r->o.max_record) {
		char m[160];

		snprintf(m, sizeof(m),
			 "record starting at line %lu is longer than %zu bytes",
			 r->rec_line, r->o.max_record);
		return fail(r, err, E_TOOBIG, r->rec_line, m);
	}
	if (r->mode == RD_RESYNC) {
		count_lines(r, seg, n);
		if (term) {
			r->mode = RD_NORMAL;
			return 1;
		}
		return 0;
	}
	if (plain_line(r, seg, n, term))
		used = n;
	else
		used = csv_parse(&r->p, seg, n, on_field, on_record, r);
	if (r->fields.err)
		return err_set(err, E_NOMEM, "out of memory");
	if (r->p.entry_pos > r->o.max_field || r->field_long) {
		char m[160];

		snprintf(m, sizeof(m), "field longer than %zu bytes",
			 r->o.max_field);
		return fail(r, err, E_TOOBIG, r->line, m);
	}
	if (used < n) {
		if (csv_error(&r->p) != CSV_EPARSE)
			return err_set(err, E_NOMEM, "out of memory");
		/* A stray quote: drop what libcsv holds and take the
		 * rest of this physical line as the bad record. */
		r->bad = r->p.quoted ? "malformed quoted field"
				     : "quote character inside an unquoted field";
		if (parser_init(r, err))
			return -1;
		r->rec_done = 0;
		count_lines(r, seg, n);
		if (term)
			return 1;
		r->mode = RD_RESYNC;
		return 0;
	}
	count_lines(r, seg, n);
	return r->rec_done ? 1 : 0;
}

/* At the end of the input: libcsv gives up what it holds. Returns 1 when
 * that is a record, 0 when nothing is left, -1. */
static int end_of_input(struct csv_reader *r, struct err *err)
{
	if (r->finished)
		return 0;
	r->finished = 1;
	if (csv_fini(&r->p, on_field, on_record, r)) {
		char m[160];

		snprintf(m, sizeof(m),
			 "unterminated quoted field in the record starting at line %lu",
			 r->rec_line);
		return fail(r, err, E_PARSE, r->rec_line, m);
	}
	if (r->fields.err)
		return err_set(err, E_NOMEM, "out of memory");
	if (!r->rec_done && !(r->in_rec && r->bad))
		return 0;
	return 1;
}

/* Notes delimiter offset at (from the line's start) as field k's end
 * in r->offs. Returns 0, or -1 when there is no room (fields.err set). */
static int note_delim(struct csv_reader *r, size_t k, size_t at)
{
	if (k >= r->capf) {
		int rc;

		r->nf = k;
		rc = field_slot(r);
		r->nf = 0;
		if (rc)
			return -1;
	}
	r->offs[k] = at;
	return 0;
}

/* Scans the line at seg (up to end) for its LF, noting every delimiter
 * in r->offs. Returns the line's length without the LF, with *nd the
 * number of delimiters, or -1 when the line is not plain: a CR, quote
 * or NUL before the LF, no LF before end, or no room. SSE2 compares 16
 * bytes at once where it is there (baseline on x86-64); the byte loop
 * is the same scan. */
static long plain_scan(struct csv_reader *r, const char *seg,
		       const char *end, size_t *nd)
{
	unsigned char dl = (unsigned char)r->o.delimiter;
	unsigned char qc = (unsigned char)r->o.quote;
	const char *p = seg;
	size_t k = 0;

#ifdef __SSE2__
	const __m128i vdl = _mm_set1_epi8((char)dl), vqc = _mm_set1_epi8((char)qc);
	const __m128i vlf = _mm_set1_epi8('\n'), vcr = _mm_set1_epi8('\r');
	const __m128i vz = _mm_setzero_si128();

	while (end - p >= 16) {
		__m128i b = _mm_loadu_si128((const __m128i *)(const void *)p);
		unsigned md = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(b, vdl));
		unsigned ms = (unsigned)_mm_movemask_epi8(_mm_or_si128(
			_mm_or_si128(_mm_cmpeq_epi8(b, vlf), _mm_cmpeq_epi8(b, vcr)),
			_mm_or_si128(_mm_cmpeq_epi8(b, vqc), _mm_cmpeq_epi8(b, vz))));
		unsigned stop = ms ? (unsigned)__builtin_ctz(ms) : 16;

		if (stop < 16) {
			if (p[stop] != '\n')
				return -1;
			md &= (1u << stop) - 1;
		}
		while (md) {
			if (note_delim(r, k++, (size_t)(p - seg) +
					       (unsigned)__builtin_ctz(md)))
				return -1;
			md &= md - 1;
		}
		if (stop < 16) {
			*nd = k;
			return (long)(p - seg) + (long)stop;
		}
		p += 16;
	}
#endif
	for (; p < end; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == dl) {
			if (note_delim(r, k++, (size_t)(p - seg)))
				return -1;
		} else if (c == '\n') {
			*nd = k;
			return (long)(p - seg);
		} else if (c == '\r' || c == qc || c == '\0') {
			return -1;
		}
	}
	return -1;
}

/* The usual record, taken whole from the decoded buffer: a line that
 * starts between records, lies in the buffer up to its LF and has no
 * CR, quote or NUL. One scan finds the LF and the delimiters; the line
 * is copied once for raw and once for the fields, each delimiter
 * becoming the NUL that ends a field. The state it leaves is what
 * between_records, record_part and split_unquoted leave for that line
 * (the general path's memchr for LF, CR, quote and NUL and one per
 * field were a fifth of the reader). Anything else, a line that could
 * be blank, a comment, a preamble line or a field past max_field goes
 * to the general path with nothing changed. Returns 1 when taken. */
static int fast_line(struct csv_reader *r)
{
	const char *seg = r->dec + r->dec_pos, *end = r->dec + r->dec_len;
	unsigned char dl = (unsigned char)r->o.delimiter;
	unsigned char qc = (unsigned char)r->o.quote;
	size_t nd = 0, i, start;
	long len;
	char *w;

	if (r->mode != RD_NORMAL || r->in_rec || r->p.pstate != 0 ||
	    r->p.entry_pos != 0 || r->prev_cr || r->o.trim || dl == qc ||
	    dl == '\n' || dl == '\r' || !dl || r->npre < r->o.skip_lines ||
	    seg == end || *seg == ' ' || *seg == '\t' || *seg == '\n' ||
	    (r->o.comment && *seg == r->o.comment))
		return 0;
	len = plain_scan(r, seg, end, &nd);
	if (len <= 0 || (size_t)len + 1 > r->o.max_record)
		return 0;
	for (i = 0, start = 0; i <= nd; i++) {
		size_t e = i < nd ? r->offs[i] : (size_t)len;

		if (e - start > r->o.max_field)
			return 0;
		start = e + 1;
	}
	if (nd + 1 > r->capf && note_delim(r, nd, 0))
		return 0;
	/* a failure here is reported as the general path would: fields.err
	 * by record_part, raw.err by row_build */
	if (buf_grow(&r->fields, (size_t)len + 1) < 0)
		return 0;
	buf_add(&r->raw, seg, (size_t)len + 1);
	w = r->fields.ptr;
	memcpy(w, seg, (size_t)len);
	w[len] = '\0';
	w[len + 1] = '\0';
	for (i = 0, start = 0; i <= nd; i++) {
		size_t e = i < nd ? r->offs[i] : (size_t)len;

		w[e] = '\0';
		r->offs[i] = start;
		r->lens[i] = e - start;
		start = e + 1;
	}
	r->fields.len = (size_t)len + 1;
	r->nf = nd + 1;
	r->in_rec = 1;
	r->rec_line = r->line;
	r->line++;
	r->dec_pos += (size_t)len + 1;
	r->rec_done = 1;
	return 1;
}

/* The core loop; returns 1 with r->row filled, 0 at the end, -1. */
static int next_record(struct csv_reader *r, struct err *err)
{
	int rc;

	row_reset(r);
	for (;;) {
		const char *seg, *end, *q, *cr;
		size_t n;
		int term;

		if (r->dec_pos == r->dec_len) {
			rc = fill(r, err);
			if (rc < 0)
				return -1;
			if (rc == 0)
				break;
		}
		if (fast_line(r))
			goto emit;
		seg = r->dec + r->dec_pos;
		end = r->dec + r->dec_len;
		/* The next CR or LF: two memchr calls scan faster than a
		 * byte loop testing for both. */
		q = memchr(seg, '\n', (size_t)(end - seg));
		if (!q)
			q = end;
		if ((cr = memchr(seg, '\r', (size_t)(q - seg))))
			q = cr;
		term = q < end;
		n = (size_t)(q - seg) + (term ? 1 : 0);
		r->dec_pos += n;

		if (r->mode == RD_SKIP || r->mode == RD_PREAMBLE) {
			if (skip_line(r, seg, n, term, err))
				return -1;
			continue;
		}
		if (!r->in_rec && r->p.pstate == 0 &&
		    between_records(r, seg, n, term))
			continue;
		rc = record_part(r, seg, n, term, err);
		if (rc < 0)
			return -1;
		if (rc)
			goto emit;
	}
	rc = end_of_input(r, err);
	if (rc <= 0)
		return rc;
emit:
	if (row_build(r, err))
		return -1;
	return 1;
}

int csv_reader_next(struct csv_reader *r, const struct csv_row **row,
		    struct err *err)
{
	int rc;

	if (r->pending) {
		rc = r->pending == 1 ? 1 : 0;
		r->pending = 0;
	} else {
		rc = next_record(r, err);
	}

	if (rc == 1) {
		r->row.index = ++r->index;
		*row = &r->row;
	}
	return rc;
}

static int read_header(struct csv_reader *r, struct err *err)
{
	int rc = next_record(r, err);
	size_t i;

	if (rc <= 0)
		return rc;
	if (r->row.bad)
		return fail(r, err, E_PARSE, r->row.line, r->row.bad);
	r->hdr_lens = calloc(r->nf + 1, sizeof(*r->hdr_lens));
	r->hdr_ptrs = calloc(r->nf + 1, sizeof(*r->hdr_ptrs));
	if (!r->hdr_lens || !r->hdr_ptrs)
		return err_set(err, E_NOMEM, "out of memory");
	buf_add(&r->hdr_bytes, r->fields.ptr, r->fields.len);
	if (r->hdr_bytes.err)
		return err_set(err, E_NOMEM, "out of memory");
	for (i = 0; i < r->nf; i++) {
		/* Header names are trimmed: "Qty " and "Qty" are one name. */
		char *s = r->hdr_bytes.ptr + r->offs[i];
		size_t n = r->lens[i];

		while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
			s[--n] = '\0';
		while (n && (*s == ' ' || *s == '\t'))
			s++, n--;
		r->hdr_ptrs[i] = s;
		r->hdr_lens[i] = n;
	}
	r->hdr = r->row;
	r->hdr.f = r->hdr_ptrs;
	r->hdr.len = r->hdr_lens;
	r->hdr.raw = NULL;
	r->hdr.raw_len = 0;
	r->have_header = 1;
	return 1;
}

int csv_reader_open_fd(struct csv_reader **out, int fd, const char *name,
		       const struct csv_reader_opts *opts, struct err *err)
{
	struct csv_reader *r = calloc(1, sizeof(*r));
	const char *enc;

	*out = NULL;
	if (!r)
		return err_set(err, E_NOMEM, "out of memory");
	r->fd = fd;
	r->name = name ? name : "";
	r->o = *opts;
	r->cd = (iconv_t)-1;
	if (!r->o.max_record)
		r->o.max_record = RD_DEFAULT_MAX;
	if (!r->o.max_field || r->o.max_field > r->o.max_record)
		r->o.max_field = r->o.max_record;
	if (!r->o.delimiter)
		r->o.delimiter = ',';
	if (!r->o.quote)
		r->o.quote = '"';
	r->line = 1;
	buf_init(&r->fields, r->o.max_record + 4096);
	buf_init(&r->raw, r->o.max_record + RD_DEC_SIZE);
	buf_init(&r->hdr_bytes, r->o.max_record + 4096);
	buf_init(&r->pre, (size_t)(r->o.skip_lines + 1) *
				  (r->o.max_record + 1));
	enc = r->o.encoding && *r->o.encoding ? r->o.encoding : "UTF-8";
	r->cd = iconv_open("UTF-8", enc);
	r->utf8 = !strcasecmp(enc, "UTF-8") || !strcasecmp(enc, "UTF8");
	if (r->cd == (iconv_t)-1) {
		err_set(err, E_CONFIG, "unknown encoding '%s'", enc);
		goto fail;
	}
	r->in = malloc(RD_IN_SIZE);
	r->dec = malloc(RD_DEC_SIZE);
	r->pre_offs = calloc(r->o.skip_lines + 1, sizeof(*r->pre_offs));
	if (!r->in || !r->dec || !r->pre_offs) {
		err_set(err, E_NOMEM, "out of memory");
		goto fail;
	}
	if (parser_init(r, err))
		goto fail;
	if (r->o.header && read_header(r, err) < 0)
		goto fail;
	if (!r->o.header && r->o.skip_lines) {
		/* Read ahead one record so the preamble is there for context
		 * before the first row is asked for. */
		int rc = next_record(r, err);

		if (rc < 0)
			goto fail;
		r->pending = rc == 1 ? 1 : 2;
	}
	*out = r;
	return 0;
fail:
	csv_reader_free(r);
	return -1;
}

int csv_reader_open(struct csv_reader **out, const char *path,
		    const char *name, const struct csv_reader_opts *opts,
		    struct err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*out = NULL;
	if (fd < 0) {
		err_sys(err, "cannot open '%s'", path);
		err_locate(err, name ? name : path, 0, 0, NULL);
		return -1;
	}
	if (csv_reader_open_fd(out, fd, name ? name : path, opts, err)) {
		close(fd);
		return -1;
	}
	(*out)->own_fd = 1;
	return 0;
}

const struct csv_row *csv_reader_header(const struct csv_reader *r)
{
	return r->have_header ? &r->hdr : NULL;
}

const char *csv_reader_preamble(const struct csv_reader *r, unsigned i)
{
	if (i < 1 || i > r->npre)
		return "";
	return r->pre.ptr + r->pre_offs[i - 1];
}

int csv_reader_column(const struct csv_reader *r, const char *name)
{
	size_t i;

	if (!r->have_header)
		return -1;
	for (i = 0; i < r->hdr.n; i++)
		if (!strcmp(r->hdr.f[i], name))
			return (int)i;
	return -1;
}

void csv_reader_free(struct csv_reader *r)
{
	if (!r)
		return;
	if (r->p_init)
		csv_free(&r->p);
	if (r->cd != (iconv_t)-1)
		iconv_close(r->cd);
	if (r->own_fd)
		close(r->fd);
	buf_release(&r->fields);
	buf_release(&r->raw);
	buf_release(&r->hdr_bytes);
	buf_release(&r->pre);
	free(r->in);
	free(r->dec);
	free(r->offs);
	free(r->lens);
	free(r->ptrs);
	free(r->hdr_lens);
	free(r->hdr_ptrs);
	free(r->pre_offs);
	free(r);
}
