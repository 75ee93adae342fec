/* t_edi_scan.c - the EDI tokenizer's block scan (16 bytes per step,
 * SSE2 when built with it) against byte-by-byte references: the scan
 * alone with every special byte at every position and every tail length,
 * then whole X12 and EDIFACT documents of random segments (separators at
 * every alignment, release characters, CR/LF inside segments, bytes >=
 * 0x80, segments across the reader's 64 KiB buffer refills at every
 * offset) whose tokens must be what a plain splitter makes of them. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/buf.h"
#include "transforms/formats/edi.h"
#include "transforms/formats/edi_core.h"
#include "transforms/formats/edifact_reader.h"
#include "transforms/formats/x12_reader.h"
#include "t.h"

static uint64_t t_rng = 7;

static unsigned rnd(unsigned n)
{
	uint64_t z = (t_rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return (unsigned)((z ^ (z >> 31)) % n);
}

/* What core_scan_data() must return, from the class table byte by byte. */
static size_t naive_scan(const struct edi_core *c, const unsigned char *p,
			 size_t n, int *note)
{
	size_t i;

	*note = 0;
	for (i = 0; i < n; i++) {
		if (c->cls[p[i]] == C_NOTE)
			*note = 1;
		else if (c->cls[p[i]] != C_DATA)
			break;
	}
	return i;
}

static int scan_agrees(const struct edi_core *c, const unsigned char *p,
		       size_t n)
{
	int note_a = 0, note_b = 0, note_c = 0;
	size_t a = naive_scan(c, p, n, &note_a);
	size_t b = core_scan_data(c, p, n, &note_b);
	size_t d = core_scan_data_portable(c, p, n, &note_c);

	return a == b && a == d && note_a == note_b && note_a == note_c;
}

/* Every special byte (each delimiter, CR, LF) and a byte >= 0x80 at every
 * position of every length up to three blocks, in a heap buffer of
 * exactly that length (ASan would see a read past it). */
T_TEST(edi_scan_every_special_at_every_position)
{
	static const struct edi_delims sets[] = {
		{'*', '>', '^', '~', -1, -1, {0}, 0},      /* X12 00501 */
		{'*', ':', -1, '\n', -1, -1, {0}, 0},      /* LF terminator */
		{'+', ':', '*', '\'', '?', '.', {0}, 0},   /* EDIFACT v4 */
		{0x1D, 0x1F, -1, 0x1C, -1, -1, {0}, 0},    /* control bytes */
		{'|', 0xA7, -1, 0xC3, -1, -1, {0}, 0},     /* bytes >= 0x80 */
	};
	struct edi_core *c = calloc(1, sizeof(*c));
	size_t si, n, pos;

	T_ASSERT(c != NULL);
	for (si = 0; si < sizeof(sets) / sizeof(sets[0]); si++) {
		const struct edi_delims *d = &sets[si];
		const int specials[] = {d->elem, d->comp, d->rep, d->seg, d->rel,
					'\r', '\n', 0x80, 0xFF, 0xC3, 0};

		memset(c, 0, sizeof(*c));
		core_set_delims(c, d);
		for (n = 0; n <= 3 * EDI_BLOCK + 1; n++) {
			unsigned char *p = malloc(n ? n : 1);
			size_t k;

			T_ASSERT(p != NULL);
			for (pos = 0; pos < n; pos++) {
				for (k = 0; k < sizeof(specials) / sizeof(specials[0]); k++) {
					size_t i;

					if (specials[k] < 0)
						continue;
					for (i = 0; i < n; i++)
						p[i] = (unsigned char)('A' + i % 26);
					p[pos] = (unsigned char)specials[k];
					if (!scan_agrees(c, p, n)) {
						free(p);
						free(c);
						T_FAIL("set %zu: byte 0x%02x at %zu of %zu",
						       si, specials[k], pos, n);
					}
					/* a second special later on */
					if (pos + 5 < n) {
						p[pos + 5] = (unsigned char)d->elem;
						if (!scan_agrees(c, p, n)) {
							free(p);
							free(c);
							T_FAIL("set %zu: 0x%02x at %zu then elem, n %zu",
							       si, specials[k], pos, n);
						}
					}
				}
			}
			/* no special byte at all: the whole buffer, tail included */
			for (pos = 0; pos < n; pos++)
				p[pos] = (unsigned char)('a' + pos % 26);
			T_ASSERT(scan_agrees(c, p, n));
			free(p);
		}
		/* random bytes */
		for (n = 0; n < 2000; n++) {
			unsigned char buf[80];
			size_t len = rnd(sizeof(buf));

			for (pos = 0; pos < len; pos++)
				buf[pos] = (unsigned char)(rnd(8) ? 'a' + rnd(26)
							   : rnd(256));
			T_ASSERT(scan_agrees(c, buf, len));
		}
	}
	free(c);
}

/* ---- documents against a plain splitter ---------------------------- */

struct xtok {
	unsigned elem, rep, comp;
	size_t off, len;   /* in the expectation buffer */
};

struct expect {
	struct buf vals;          /* token values, back to back */
	struct xtok *tok;
	size_t ntok, captok;
	size_t *seg_first;        /* first token of each segment */
	unsigned long *seg_line;  /* line of each segment's tag */
	size_t nseg, capseg;
	int latin1;               /* values >= 0x80 arrive as UTF-8 */
};

static void x_seg(struct expect *x, unsigned long line)
{
	if (x->nseg == x->capseg) {
		x->capseg = x->capseg ? 2 * x->capseg : 64;
		x->seg_first = realloc(x->seg_first, x->capseg * sizeof(size_t));
		x->seg_line = realloc(x->seg_line,
				      x->capseg * sizeof(unsigned long));
	}
	x->seg_first[x->nseg] = x->ntok;
	x->seg_line[x->nseg++] = line;
}

static void x_tok(struct expect *x, unsigned e, unsigned r, unsigned c,
		  const unsigned char *v, size_t n)
{
	size_t i;

	if (x->ntok == x->captok) {
		x->captok = x->captok ? 2 * x->captok : 256;
		x->tok = realloc(x->tok, x->captok * sizeof(*x->tok));
	}
	x->tok[x->ntok].elem = e;
	x->tok[x->ntok].rep = r;
	x->tok[x->ntok].comp = c;
	x->tok[x->ntok].off = x->vals.len;
	for (i = 0; i < n; i++) {
		if (x->latin1 && v[i] >= 0x80) {
			buf_addc(&x->vals, (char)(0xC0 | (v[i] >> 6)));
			buf_addc(&x->vals, (char)(0x80 | (v[i] & 0x3F)));
		} else {
			buf_addc(&x->vals, (char)v[i]);
		}
	}
	x->tok[x->ntok].len = x->vals.len - x->tok[x->ntok].off;
	x->ntok++;
}

/* Splits one segment's bytes (no terminator) as the standards say:
 * a release character makes the next byte data, CR and LF that are no
 * delimiter are dropped (hard-wrapped lines). */
static void x_split(struct expect *x, const struct edi_delims *d,
		    const unsigned char *s, size_t n, unsigned long line)
{
	unsigned char v[4096];
	size_t i, k = 0;
	unsigned e = 0, r = 1, c = 1;

	x_seg(x, line);
	for (i = 0; i < n; i++) {
		int b = s[i];

		if (d->rel >= 0 && b == d->rel && i + 1 < n) {
			v[k++] = s[++i];
			continue;
		}
		if (b == d->elem || b == d->comp || b == d->rep) {
			x_tok(x, e, r, c, v, k);
			k = 0;
			if (b == d->elem)
				e++, r = 1, c = 1;
			else if (b == d->comp)
				c++;
			else
				r++, c = 1;
			continue;
		}
		if (b == '\r' || b == '\n')
			continue;
		v[k++] = (unsigned char)b;
	}
	x_tok(x, e, r, c, v, k);
}

/* A random data byte: letters and digits mostly, spaces, bytes >= 0x80
 * (Latin-1 letters), never a delimiter, CR or LF unless asked. */
static unsigned char data_byte(const struct edi_delims *d, int high)
{
	for (;;) {
		unsigned k = rnd(40);
		unsigned char b = k < 26 ? (unsigned char)('A' + k)
				  : k < 36 ? (unsigned char)('0' + k - 26)
				  : k < 38 ? ' '
				  : high ? (unsigned char)(0xC0 + rnd(0x3F))
					 : '-';

		if (b != d->elem && b != d->comp && b != d->rep &&
		    b != d->seg && b != d->rel)
			return b;
	}
}

/* Appends n bytes to doc, counting the lines they end. */
static void app(struct buf *doc, unsigned long *line, const void *p, size_t n)
{
	const char *s = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] == '\n')
			++*line;
	buf_add(doc, p, n);
}

/* Appends a random segment TAG... to doc and its expectation. */
static void gen_segment(struct buf *doc, struct expect *x,
			const struct edi_delims *d, const char *tag,
			unsigned long *line, int high, int wraps, size_t maxel)
{
	unsigned char s[4096];
	size_t n = 0, i;
	unsigned e, ne = 1 + rnd(8);

	memcpy(s, tag, strlen(tag));
	n = strlen(tag);
	for (e = 1; e <= ne; e++) {
		unsigned r, nr = d->rep >= 0 && !rnd(5) ? 2 + rnd(2) : 1;

		s[n++] = (unsigned char)d->elem;
		for (r = 1; r <= nr; r++) {
			unsigned c, nc = !rnd(3) ? 2 + rnd(3) : 1;

			if (r > 1)
				s[n++] = (unsigned char)d->rep;
			for (c = 1; c <= nc; c++) {
				size_t len = rnd((unsigned)maxel + 1);

				if (c > 1)
					s[n++] = (unsigned char)d->comp;
				for (i = 0; i < len && n < sizeof(s) - 8; i++) {
					if (d->rel >= 0 && !rnd(12)) {
						const int esc[] = {d->elem, d->comp,
								   d->seg, d->rel};

						s[n++] = (unsigned char)d->rel;
						s[n++] = (unsigned char)esc[rnd(4)];
						continue;
					}
					if (wraps && !rnd(60)) {
						s[n++] = '\r';
						s[n++] = '\n';
						continue;
					}
					s[n++] = data_byte(d, high);
				}
			}
		}
	}
	x_split(x, d, s, n, *line);
	s[n++] = (unsigned char)d->seg;
	app(doc, line, s, n);
	/* whitespace between segments: none, LF, CRLF or blanks */
	switch (rnd(4)) {
	case 1:
		app(doc, line, "\n", 1);
		break;
	case 2:
		app(doc, line, "\r\n", 2);
		break;
	case 3:
		app(doc, line, "   ", 1 + rnd(3));
		break;
	default:
		break;
	}
}

static void x_free(struct expect *x)
{
	buf_release(&x->vals);
	free(x->tok);
	free(x->seg_first);
	free(x->seg_line);
	memset(x, 0, sizeof(*x));
}

/* Reads path with the reader and checks the tokens of every segment
 * whose tag is in tags (space separated) against x, in order. Returns the
 * number of segments checked, or -1 (a message printed). */
static long check_doc(const char *path, int fmt, const struct expect *x,
		      const char *skip_tags, const struct edi_opts *o)
{
	struct x12_reader *xr = NULL;
	struct edifact_reader *fr = NULL;
	struct edi_event ev;
	struct err e = ERR_INIT;
	int fd = open(path, O_RDONLY), rc;
	size_t k = 0;

	if (fd < 0)
		return -1;
	rc = fmt == EDI_FMT_X12 ? x12_reader_open_fd(&xr, fd, path, o, &e)
				: edifact_reader_open_fd(&fr, fd, path, o, &e);
	while (rc == 0 &&
	       (rc = xr ? x12_reader_next(xr, &ev, &e)
			: edifact_reader_next(fr, &ev, &e)) == 1) {
		const struct edi_seg *g = ev.seg;
		char key[12];
		size_t t, first, ntok;

		rc = 0;
		if (ev.kind == EDI_EV_ISSUE &&
		    ev.issue->severity == EDI_ERROR) {
			fprintf(stderr, "    issue: %s\n", ev.issue->reason);
			rc = -1;
			break;
		}
		if (ev.kind != EDI_EV_SEGMENT)
			continue;
		snprintf(key, sizeof(key), " %s ", g->tag);
		if (strstr(skip_tags, key))
			continue;
		if (k >= x->nseg) {
			fprintf(stderr, "    extra segment %s\n", g->tag);
			rc = -1;
			break;
		}
		first = x->seg_first[k];
		ntok = (k + 1 < x->nseg ? x->seg_first[k + 1] : x->ntok) - first;
		if (g->ntok != ntok || g->line != x->seg_line[k]) {
			fprintf(stderr, "    segment %zu (%s, line %lu): %zu tokens, want %zu at line %lu\n",
				k, g->tag, g->line, g->ntok, ntok, x->seg_line[k]);
			rc = -1;
			break;
		}
		for (t = 0; t < ntok; t++) {
			const struct xtok *w = &x->tok[first + t];
			const struct edi_tok *h = &g->tok[t];

			if (h->elem != w->elem || h->rep != w->rep ||
			    h->comp != w->comp || h->len != w->len ||
			    memcmp(g->data + h->off, x->vals.ptr + w->off, w->len) ||
			    g->data[h->off + h->len] != '\0') {
				fprintf(stderr, "    segment %zu (%s) token %zu: %u.%u.%u '%.*s', want %u.%u.%u '%.*s'\n",
					k, g->tag, t, h->elem, h->rep, h->comp,
					(int)h->len, g->data + h->off, w->elem,
					w->rep, w->comp, (int)w->len,
					x->vals.ptr + w->off);
				rc = -1;
				break;
			}
		}
		if (rc < 0)
			break;
		k++;
	}
	x12_reader_free(xr);
	edifact_reader_free(fr);
	close(fd);
	if (rc < 0)
		return -1;
	if (k != x->nseg) {
		fprintf(stderr, "    %zu segments read, want %zu\n", k, x->nseg);
		return -1;
	}
	return (long)k;
}

static int write_buf(const char *path, const struct buf *b)
{
	FILE *f = fopen(path, "wb");
	int rc;

	if (!f)
		return -1;
	rc = fwrite(b->ptr, 1, b->len, f) == b->len ? 0 : -1;
	return fclose(f) ? -1 : rc;
}

/* X12: ISA/GS/ST..SE/GE/IEA around random segments; the ISA's own
 * delimiters ('*' '>' '^' '~' from 00501). pad shifts everything by that
 * many bytes of leading whitespace. */
static void gen_x12(struct buf *doc, struct expect *x, size_t nseg,
		    size_t pad, int wraps, size_t maxel)
{
	static const struct edi_delims d = {'*', '>', '^', '~', -1, -1, {0}, 0};
	static const char *const tags[] = {"LIN", "ZA", "QTY", "N1", "PID",
					   "REF", "DTM", "SDQ"};
	unsigned long line = 1;
	size_t i;
	char h[200];

	for (i = 0; i < pad; i++)
		app(doc, &line, i % 7 ? " " : "\n", 1);
	snprintf(h, sizeof(h),
		 "ISA*00*          *00*          *ZZ*SENDER         *ZZ*"
		 "RECEIVER       *261120*0600*^*00501*000000001*0*P*>~\n"
		 "GS*PD*S*R*20261120*0600*1*X*005010~\nST*852*0001~\n");
	app(doc, &line, h, strlen(h));
	for (i = 0; i < nseg; i++)
		gen_segment(doc, x, &d, tags[rnd(8)], &line, 1, wraps, maxel);
	snprintf(h, sizeof(h), "SE*%zu*0001~\nGE*1*1~\nIEA*1*000000001~\n",
		 nseg + 2);
	buf_adds(doc, h);
}

static void gen_edifact(struct buf *doc, struct expect *x, size_t nseg,
			size_t pad, int wraps, size_t maxel)
{
	static const struct edi_delims d = {'+', ':', '*', '\'', '?', '.', {0}, 0};
	static const char *const tags[] = {"LIN", "PIA", "IMD", "QTY", "LOC",
					   "NAD", "FTX", "RFF"};
	static const char head[] =
		"UNA:+.?*'\nUNB+UNOC:4+S:14+R:14+261120:0600+R1'\n"
		"UNH+M1+INVRPT:D:96A:UN:EAN008'\n";
	unsigned long line = 1;
	size_t i;
	char h[200];

	for (i = 0; i < pad; i++)
		app(doc, &line, i % 7 ? " " : "\n", 1);
	/* syntax 4: '*' repeats; Latin-1 (UNOC) arrives as UTF-8 */
	app(doc, &line, head, sizeof(head) - 1);
	x->latin1 = 1;
	for (i = 0; i < nseg; i++)
		gen_segment(doc, x, &d, tags[rnd(8)], &line, 1, wraps, maxel);
	snprintf(h, sizeof(h), "UNT+%zu+M1'\nUNZ+1+R1'\n", nseg + 2);
	buf_adds(doc, h);
}

/* Many small documents: separators land at every offset of the 16-byte
 * blocks, with release characters, wrapped lines and Latin-1 bytes. */
T_TEST(edi_scan_documents_match_a_plain_splitter)
{
	struct edi_opts o = {0, 1};
	int round, fmt;

	for (fmt = 0; fmt < 2; fmt++)
		for (round = 0; round < 60; round++) {
			struct buf doc = BUF_INIT(1 << 24);
			struct expect x;
			long n;

			memset(&x, 0, sizeof(x));
			buf_init(&x.vals, 1 << 24);
			if (fmt)
				gen_edifact(&doc, &x, 200, (size_t)round % 20,
					    round % 3 == 0, 3 + (size_t)round % 40);
			else
				gen_x12(&doc, &x, 200, (size_t)round % 20,
					round % 3 == 0, 3 + (size_t)round % 40);
			T_ASSERT(write_buf("doc.edi", &doc) == 0);
			n = check_doc("doc.edi", fmt ? EDI_FMT_EDIFACT : EDI_FMT_X12,
				      &x, fmt ? " UNB UNH UNT UNZ " : " ISA GS ST SE GE IEA ",
				      &o);
			buf_release(&doc);
			x_free(&x);
			if (n != 200)
				T_FAIL("%s round %d: tokens differ",
				       fmt ? "EDIFACT" : "X12", round);
		}
}

/* The reader refills its 64 KiB buffer: a run of segments whose start
 * is shifted byte by byte over the boundary, so that every separator,
 * release character and terminator of them is split from what precedes
 * it by a refill somewhere in the series. */
T_TEST(edi_scan_segments_across_buffer_refills)
{
	struct edi_opts o = {0, 1};
	int fmt;
	size_t shift;

	for (fmt = 0; fmt < 2; fmt++)
		for (shift = 0; shift < 48; shift += 1) {
			struct buf doc = BUF_INIT(1 << 24);
			struct expect x;
			long n;

			memset(&x, 0, sizeof(x));
			buf_init(&x.vals, 1 << 24);
			t_rng = 1000 + shift;
			/* ~64 KiB of segments of about 30 bytes: the shift
			 * moves the refill point through the ones around
			 * the boundary */
			if (fmt)
				gen_edifact(&doc, &x, 2300, shift, shift % 2, 12);
			else
				gen_x12(&doc, &x, 2300, shift, shift % 2, 12);
			T_ASSERT(doc.len > EDI_RBUF + 100);
			T_ASSERT(write_buf("doc.edi", &doc) == 0);
			n = check_doc("doc.edi", fmt ? EDI_FMT_EDIFACT : EDI_FMT_X12,
				      &x, fmt ? " UNB UNH UNT UNZ " : " ISA GS ST SE GE IEA ",
				      &o);
			buf_release(&doc);
			x_free(&x);
			if (n != 2300)
				T_FAIL("%s shift %zu: tokens differ",
				       fmt ? "EDIFACT" : "X12", shift);
		}
}

/* Segments near max_segment: the block steps stop where a block would
 * pass the bound and the byte-wise path takes the rest, so the bound is
 * exact for every max_segment and length around it (a segment of
 * max_segment bytes reads, with a separator or data as its last byte;
 * one more byte is E_TOOBIG naming it). */
T_TEST(edi_scan_segment_bound_exact)
{
	size_t max, len;
	int tailsep;

	for (max = 256; max <= 290; max++)
		for (len = max - 3; len <= max + 3; len++)
			for (tailsep = 0; tailsep < 2; tailsep++) {
				struct edi_opts o = {max, 1};
				size_t k, body = len - 3; /* after "FTX" */
				struct buf doc = BUF_INIT(1 << 20);
				struct edifact_reader *r = NULL;
				struct edi_event ev;
				struct err e = ERR_INIT;
				int fd, rc;

				buf_adds(&doc, "UNB+UNOA:3+S+R+261120:0600+R1'"
					       "UNH+M1+INVRPT:D:96A:UN'FTX");
				for (k = 0; k < body; k++)
					buf_addc(&doc, k % 9 == 0 ||
							       (tailsep && k == body - 1)
						       ? '+'
						       : 'A');
				buf_adds(&doc, "'UNT+3+M1'UNZ+1+R1'");
				T_ASSERT(write_buf("big.edi", &doc) == 0);
				buf_release(&doc);
				fd = open("big.edi", O_RDONLY);
				T_ASSERT(fd >= 0);
				T_ASSERT(edifact_reader_open_fd(&r, fd, "big.edi", &o,
								&e) == 0);
				while ((rc = edifact_reader_next(r, &ev, &e)) == 1)
					;
				edifact_reader_free(r);
				close(fd);
				if (len <= max && rc != 0)
					T_FAIL("max %zu, %zu bytes: %s", max, len,
					       e.reason);
				if (len > max &&
				    (rc != -1 || e.code != E_TOOBIG ||
				     !strstr(e.reason, "segment 3 (FTX) is longer than")))
					T_FAIL("max %zu, %zu bytes: rc %d '%s'", max,
					       len, rc, e.reason);
			}
}
