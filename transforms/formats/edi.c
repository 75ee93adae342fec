/* edi.c - segment access, sniffing, issues, charsets and the scanner core
 * shared by the X12 and EDIFACT readers. See edi.h and edi_core.h. */
#include "edi.h"
#include "edi_core.h"
#include "transforms/formats/sniff.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#define EDI_SSE2 1
#endif

/* ---- segment access ---------------------------------------------------- */

const char *edi_seg_value_len(const struct edi_seg *s, unsigned e,
			      unsigned r, unsigned c, size_t *len)
{
	size_t i, end;

	if (!s || e > s->nelem || r == 0 || c == 0)
		return NULL;
	end = s->elem_first[e + 1];
	for (i = s->elem_first[e]; i < end; i++) {
		const struct edi_tok *t = &s->tok[i];

		if (t->rep == r && t->comp == c) {
			if (len)
				*len = t->len;
			return s->data + t->off;
		}
		if (t->rep > r)
			break;
	}
	return NULL;
}

const char *edi_seg_value(const struct edi_seg *s, unsigned e, unsigned r,
			  unsigned c)
{
	return edi_seg_value_len(s, e, r, c, NULL);
}

const char *edi_seg_str(const struct edi_seg *s, unsigned e)
{
	const char *v = edi_seg_value(s, e, 1, 1);

	return v ? v : "";
}

unsigned edi_seg_nrep(const struct edi_seg *s, unsigned e)
{
	if (!s || e > s->nelem)
		return 0;
	/* Tokens of an element are in (rep, comp) order: the last has the
	 * highest repeat. */
	return s->tok[s->elem_first[e + 1] - 1].rep;
}

unsigned edi_seg_ncomp(const struct edi_seg *s, unsigned e, unsigned r)
{
	size_t i;
	unsigned n = 0;

	if (!s || e > s->nelem)
		return 0;
	for (i = s->elem_first[e]; i < s->elem_first[e + 1]; i++)
		if (s->tok[i].rep == r)
			n = s->tok[i].comp;
	return n;
}

/* ---- sniffing ---------------------------------------------------------- */

/* One analysis everywhere: the rules live in sniff.c. */
int edi_sniff(const unsigned char *p, size_t n)
{
	return sniff_head(p, n, NULL);
}

const char *edi_format_name(int fmt)
{
	switch (fmt) {
	case EDI_FMT_X12:
		return "x12";
	case EDI_FMT_EDIFACT:
		return "edifact";
	case EDI_FMT_XML:
		return "xml";
	case EDI_FMT_CSV:
		return "csv";
	case EDI_FMT_EMPTY:
		return "empty";
	default:
		return "unknown";
	}
}

/* ---- issues ------------------------------------------------------------ */

const char *edi_issue_name(int code)
{
	static const char *const names[] = {
		"?",          "bad-header", "unreadable", "outside",
		"no-interchange", "no-terminator", "missing-trailer",
		"missing-header", "count", "control", "padding",
		"unexpected", "bad-tag", "wrapped", "charset", "trailing",
		"duplicate", "note"};

	if (code < 0 || (size_t)code >= sizeof(names) / sizeof(names[0]))
		return "?";
	return names[code];
}

void edi_issue_format(const struct edi_issue *is, const char *file,
		      char *out, size_t n)
{
	char where[200] = "", elem[32] = "";

	if (is->seg_in_file && is->seg_in_set)
		snprintf(where, sizeof(where),
			 ", segment %lu (%s, #%lu in interchange, #%lu in set "
			 "%s)",
			 is->seg_in_file, is->seg_id, is->seg_in_ic,
			 is->seg_in_set, is->set_control);
	else if (is->seg_in_file)
		snprintf(where, sizeof(where),
			 ", segment %lu (%s, #%lu in interchange)",
			 is->seg_in_file, is->seg_id, is->seg_in_ic);
	else if (is->code == EDI_I_OUTSIDE)
		snprintf(where, sizeof(where), ", between interchanges");
	else
		snprintf(where, sizeof(where), ", end of data");
	if (is->elem)
		snprintf(elem, sizeof(elem), ", element %s%02u", is->seg_id,
			 is->elem);
	snprintf(out, n, "%s: interchange %lu%s%s%s%s, line %lu%s: %s: %s",
		 file ? file : "-", is->ic_index, is->ic_control[0] ? " (" : "",
		 is->ic_control, is->ic_control[0] ? ")" : "", where,
		 is->line, elem,
		 is->severity == EDI_ERROR ? "error" : "warning", is->reason);
}

void edi_issue_to_err(const struct edi_issue *is, const char *file,
		      struct err *e)
{
	err_at(e, E_PARSE, file, is->seg_in_file, 0, "interchange %lu: %s",
	       is->ic_index, is->reason);
	if (is->elem)
		snprintf(e->field, sizeof(e->field), "%s%02u", is->seg_id,
			 is->elem);
	else if (is->seg_id[0])
		snprintf(e->field, sizeof(e->field), "%s", is->seg_id);
}

/* ---- charsets ---------------------------------------------------------- */

const char *edi_charset_iconv(const char *id, int *utf8)
{
	static const struct {
		const char *id, *iconv;
		int utf8;
	} tab[] = {
		{"UNOA", "ASCII", 1},       {"UNOB", "ASCII", 1},
		{"UNOC", "ISO-8859-1", 0},  {"UNOD", "ISO-8859-2", 0},
		{"UNOE", "ISO-8859-5", 0},  {"UNOF", "ISO-8859-7", 0},
		{"UNOG", "ISO-8859-3", 0},  {"UNOH", "ISO-8859-4", 0},
		{"UNOI", "ISO-8859-6", 0},  {"UNOJ", "ISO-8859-8", 0},
		{"UNOK", "ISO-8859-9", 0},  {"UNOL", "ISO-8859-15", 0},
		{"UNOM", "ISO-8859-10", 0}, {"UNOW", "UTF-8", 1},
		{"UNOY", "UTF-8", 1},       {"UNOX", "ISO-2022", 1},
		{"KECA", "EUC-KR", 0},
	};
	size_t i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (id && !strcmp(id, tab[i].id)) {
			if (utf8)
				*utf8 = tab[i].utf8;
			return tab[i].iconv;
		}
	return NULL;
}

/* ---- core: setup ------------------------------------------------------- */

int core_init(struct edi_core *c, int fd, const char *name,
	      const struct edi_opts *o, struct err *err)
{
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->name = name ? name : "-";
	if (o)
		c->opts = *o;
	if (!c->opts.max_segment)
		c->opts.max_segment = EDI_DEFAULT_MAX_SEGMENT;
	if (c->opts.max_segment > ((size_t)1 << 30))
		return err_set(err, E_CONFIG, "max segment size too large");
	c->smax = c->opts.max_segment;
	/* Each token but the first needs one delimiter byte. */
	c->tokmax = c->smax + 2;
	c->tokcap = 256;
	c->line = 1;
	c->rb = malloc(EDI_RBUF);
	c->sb = malloc(c->smax + 1 + EDI_SB_SLACK);
	c->tok = malloc(c->tokcap * sizeof(*c->tok));
	c->ef = malloc((c->tokcap + 1) * sizeof(*c->ef));
	c->q = calloc(EDI_QMAX, sizeof(*c->q));
	if (!c->rb || !c->sb || !c->tok || !c->ef || !c->q) {
		core_release(c);
		return err_set(err, E_NOMEM, "out of memory");
	}
	return 0;
}

void core_release(struct edi_core *c)
{
	if (c->hashing)
		sha256_release(&c->sha);
	c->hashing = 0;
	free(c->rb);
	free(c->sb);
	free(c->tok);
	free(c->ef);
	free(c->q);
	c->rb = NULL;
	c->sb = NULL;
	c->tok = NULL;
	c->ef = NULL;
	c->q = NULL;
}

/* ---- core: input ------------------------------------------------------- */

long core_fill(struct edi_core *c, size_t need, struct err *err)
{
	size_t avail = c->rlen - c->rpos;

	if (avail >= need || c->eof)
		return (long)avail;
	/* Bytes already consumed are hashed before they move away. */
	if (c->hashing && c->rpos > c->hash_from) {
		sha256_update(&c->sha, c->rb + c->hash_from,
			      c->rpos - c->hash_from);
		c->hash_bytes += c->rpos - c->hash_from;
	}
	memmove(c->rb, c->rb + c->rpos, avail);
	c->roff += c->rpos;
	c->rlen = avail;
	c->rpos = 0;
	c->hash_from = 0;
	while (c->rlen < need && !c->eof) {
		ssize_t n = read(c->fd, c->rb + c->rlen, EDI_RBUF - c->rlen);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			err_sys(err, "cannot read '%s'", c->name);
			return -1;
		}
		if (n == 0) {
			c->eof = 1;
			break;
		}
		if (c->ebcdic) {
			unsigned char *p = c->rb + c->rlen;
			ssize_t i;

			for (i = 0; i < n; i++)
				p[i] = c->xlat[p[i]];
		}
		/* a memchr per read (64 KiB): what lets the mapping take
		 * each value's length as its string's (edi_nul_seen) */
		if (!c->nul_seen && memchr(c->rb + c->rlen, 0, (size_t)n))
			c->nul_seen = 1;
		c->rlen += (size_t)n;
	}
	return (long)(c->rlen - c->rpos);
}

int core_getc(struct edi_core *c, struct err *err)
{
	long n = core_fill(c, 1, err);

	if (n < 0)
		return -2;
	if (n == 0)
		return -1;
	return c->rb[c->rpos++];
}

int core_skip_ws(struct edi_core *c, struct err *err)
{
	for (;;) {
		const unsigned char *p, *end;

		if (c->rpos == c->rlen) {
			long n = core_fill(c, 1, err);

			if (n < 0)
				return -1;
			if (n == 0)
				return 0;
		}
		p = c->rb + c->rpos;
		end = c->rb + c->rlen;
		while (p < end && c->ws[*p]) {
			if (*p == '\n')
				c->line++;
			if (c->ws[*p] == 2)
				c->junk = 1;
			p++;
		}
		c->rpos = (size_t)(p - c->rb);
		if (p < end)
			return 1;
	}
}

void core_set_delims(struct edi_core *c, const struct edi_delims *d)
{
	unsigned i;

	memset(c->cls, C_DATA, sizeof(c->cls));
	for (i = 0x80; i < 256; i++)
		c->cls[i] = C_NOTE;
	c->cls['\r'] = C_NL;
	c->cls['\n'] = C_NL;
	if (d->elem >= 0)
		c->cls[d->elem] = C_ELEM;
	if (d->comp >= 0)
		c->cls[d->comp] = C_COMP;
	if (d->rep >= 0)
		c->cls[d->rep] = C_REP;
	if (d->rel >= 0)
		c->cls[d->rel] = C_REL;
	if (d->seg >= 0)
		c->cls[d->seg] = C_TERM;
	{
		const int v[] = {'\r', '\n', d->elem, d->comp, d->rep, d->rel,
				 d->seg};
		unsigned k = 0;

		for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
			if (v[i] >= 0)
				c->spec[k++] = (unsigned char)v[i];
		while (k < EDI_NSPEC) /* repeats compare the same */
			c->spec[k++] = '\r';
		for (k = 0; k < EDI_NSPEC; k++)
			memset(c->specv[k], c->spec[k], EDI_BLOCK);
	}
	memset(c->ws, 0, sizeof(c->ws));
	c->ws[' '] = c->ws['\t'] = c->ws['\r'] = c->ws['\n'] = 1;
	c->ws[0] = c->ws[0x1A] = 2;
	/* The rest of a multi-byte terminator is skipped like whitespace. */
	for (i = 0; i < d->nseg_tail; i++)
		c->ws[d->seg_tail[i]] = 1;
	/* An EBCDIC NL (0x85 after translation) ends records. */
	if (c->ebcdic)
		c->ws[0x85] = 1;
}

/* ---- core: tokenizer --------------------------------------------------- */

/* The tokenizer finds the end of a data run 16 bytes at a time: one
 * compare per special byte (delimiters, CR, LF: c->spec) and the sign
 * bits for C_NOTE bytes (>= 0x80 that are no delimiter). Before, a
 * class-table lookup per byte was the largest cost of reading EDI. */
#ifdef EDI_SSE2
struct specv {
	__m128i d[EDI_NSPEC];
};

static void specv_init(struct specv *v, const struct edi_core *c)
{
	unsigned i;

	for (i = 0; i < EDI_NSPEC; i++)
		v->d[i] = _mm_load_si128((const __m128i *)(const void *)c->specv[i]);
}

/* Loads 16 bytes at p into *x; returns the bits of the special bytes
 * and sets *hi to those of the other bytes >= 0x80. */
static inline unsigned block_mask(const struct specv *v,
				  const unsigned char *p, unsigned *hi,
				  __m128i *x)
{
	__m128i b = _mm_loadu_si128((const __m128i *)(const void *)p);
	__m128i m = _mm_or_si128(
		_mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(b, v->d[0]),
					  _mm_cmpeq_epi8(b, v->d[1])),
			     _mm_or_si128(_mm_cmpeq_epi8(b, v->d[2]),
					  _mm_cmpeq_epi8(b, v->d[3]))),
		_mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(b, v->d[4]),
					  _mm_cmpeq_epi8(b, v->d[5])),
			     _mm_or_si128(_mm_cmpeq_epi8(b, v->d[6]),
					  _mm_cmpeq_epi8(b, v->d[7]))));
	unsigned sp = (unsigned)_mm_movemask_epi8(m);

	*hi = (unsigned)_mm_movemask_epi8(b) & ~sp;
	*x = b;
	return sp;
}
#endif

size_t core_scan_data_portable(const struct edi_core *c,
			       const unsigned char *p, size_t n, int *note)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char k = c->cls[p[i]];

		if (k == C_NOTE)
			*note = 1;
		else if (k != C_DATA)
			break;
	}
	return i;
}

size_t core_scan_data(const struct edi_core *c, const unsigned char *p,
		      size_t n, int *note)
{
	size_t i = 0;
#ifdef EDI_SSE2
	struct specv sv;

	specv_init(&sv, c);
	while (n - i >= EDI_BLOCK) {
		__m128i x;
		unsigned hi, m = block_mask(&sv, p + i, &hi, &x);

		if (m) {
			m = (unsigned)__builtin_ctz(m);
			if (hi & ((1u << m) - 1))
				*note = 1;
			return i + m;
		}
		if (hi)
			*note = 1;
		i += EDI_BLOCK;
	}
#endif
	return i + core_scan_data_portable(c, p + i, n - i, note);
}

static int tok_grow(struct edi_core *c)
{
	size_t ncap = c->tokcap * 2;
	struct edi_tok *t;
	uint32_t *ef;

	if (c->tokcap >= c->tokmax)
		return -1;
	if (ncap > c->tokmax)
		ncap = c->tokmax;
	t = realloc(c->tok, ncap * sizeof(*t));
	if (!t)
		return -1;
	c->tok = t;
	ef = realloc(c->ef, (ncap + 1) * sizeof(*ef));
	if (!ef)
		return -1;
	c->ef = ef;
	c->tokcap = ncap;
	return 0;
}

void core_seg_begin(struct edi_core *c)
{
	c->slen = 0;
	c->ntok = 1;
	c->tok[0].off = 0;
	c->tok[0].elem = 0;
	c->tok[0].rep = 1;
	c->tok[0].comp = 1;
	c->ef[0] = 0;
	c->cur_elem = 0;
	c->cur_rep = 1;
	c->cur_comp = 1;
	c->in_rel = 0;
	c->seg_wrapped = 0;
	c->seg_note = 0;
	c->seg_line = c->line;
	c->seg_off = c->roff + c->rpos;
}

/* The tokenizer's hot state while core_seg_feed() runs. Everything hot
 * lives here, in a local of core_seg_feed() whose address never leaves
 * the inlined steps below: stores through the char buffer may alias any
 * field of c, so the compiler would reload c's fields after every byte
 * written; a local it can keep in registers. Written back at the exit
 * (feed_save). */
struct feed {
	const unsigned char *p, *end;
	const unsigned char *cls;
	char *sb;
	struct edi_tok *tok;
	size_t slen, smax, ntok, tokcap;
	unsigned elem, rep, comp;
#ifdef EDI_SSE2
	unsigned note; /* bytes >= 0x80 seen by the block step */
	struct specv sv;
#endif
};

static inline __attribute__((always_inline)) void
feed_load(struct feed *f, struct edi_core *c, const unsigned char *p,
	  const unsigned char *end)
{
	f->p = p;
	f->end = end;
	f->cls = c->cls;
	f->sb = c->sb;
	f->tok = c->tok;
	f->slen = c->slen;
	f->smax = c->smax;
	f->ntok = c->ntok;
	f->tokcap = c->tokcap;
	f->elem = c->cur_elem;
	f->rep = c->cur_rep;
	f->comp = c->cur_comp;
#ifdef EDI_SSE2
	f->note = 0;
	specv_init(&f->sv, c);
#endif
}

static inline __attribute__((always_inline)) void
feed_save(const struct feed *f, struct edi_core *c, const unsigned char **pp)
{
#ifdef EDI_SSE2
	if (f->note)
		c->seg_note = 1;
#endif
	*pp = f->p;
	c->slen = f->slen;
	c->ntok = f->ntok;
	c->cur_elem = f->elem;
	c->cur_rep = f->rep;
	c->cur_comp = f->comp;
}

/* Ends the current token at slen (its NUL) and starts token (e, r, cm)
 * after it. Returns -1 when the segment has too many tokens or an index
 * does not fit 16 bits. */
static inline __attribute__((always_inline)) int
feed_tok_next(struct feed *f, struct edi_core *c, unsigned e, unsigned r,
	      unsigned cm)
{
	struct edi_tok *t;

	if (f->ntok == f->tokcap) {
		c->ntok = f->ntok;
		if (tok_grow(c) < 0)
			return -1;
		f->tok = c->tok;
		f->tokcap = c->tokcap;
	}
	if (e > 0xFFFF || r > 0xFFFF || cm > 0xFFFF)
		return -1;
	t = f->tok;
	t[f->ntok - 1].len = (uint32_t)(f->slen - t[f->ntok - 1].off);
	f->sb[f->slen++] = '\0';
	t[f->ntok].off = (uint32_t)f->slen;
	t[f->ntok].elem = (uint16_t)e;
	t[f->ntok].rep = (uint16_t)r;
	t[f->ntok].comp = (uint16_t)cm;
	f->ntok++;
	return 0;
}

/* An element, component or repetition separator (class k) at slen.
 * Returns -1 as feed_tok_next(). */
static inline __attribute__((always_inline)) int
feed_delim(struct feed *f, struct edi_core *c, unsigned char k)
{
	if (k == C_ELEM) {
		f->elem++;
		f->rep = f->comp = 1;
		if (feed_tok_next(f, c, f->elem, 1, 1) < 0)
			return -1;
		c->ef[f->elem] = (uint32_t)(f->ntok - 1);
	} else if (k == C_COMP) {
		f->comp++;
		if (feed_tok_next(f, c, f->elem, f->rep, f->comp) < 0)
			return -1;
	} else {
		f->rep++;
		f->comp = 1;
		if (feed_tok_next(f, c, f->elem, f->rep, 1) < 0)
			return -1;
	}
	return 0;
}

#ifdef EDI_SSE2
/* The hot path, 16 bytes per step while they fit below smax: the block
 * is stored into sb as it is (EDI_SB_SLACK bytes of room past smax),
 * then each separator in it becomes the NUL that ends a token, in
 * place, found from the block's bit mask. A terminator, release
 * character or CR/LF ends the step at that byte for the byte-wise step
 * (feed_byte), as does the end of the input or of the segment bound.
 * Returns 1 at the segment's terminator, 0 when the byte-wise step
 * takes over, -1 when the segment is too long. */
static inline __attribute__((always_inline)) int
feed_blocks(struct feed *f, struct edi_core *c)
{
	while (f->end - f->p >= EDI_BLOCK && f->smax - f->slen >= EDI_BLOCK) {
		const unsigned char *p = f->p;
		__m128i x;
		unsigned hi, j = EDI_BLOCK;
		unsigned m = block_mask(&f->sv, p, &hi, &x);
		size_t base = f->slen;

		_mm_storeu_si128((__m128i *)(void *)(f->sb + base), x);
		for (; m; m &= m - 1) {
			unsigned char k;

			j = (unsigned)__builtin_ctz(m);
			k = f->cls[p[j]];
			if (k == C_TERM) {
				/* the segment's end: as feed_byte's C_TERM */
				f->note |= hi & ((1u << j) - 1);
				f->slen = base + j;
				if (p[j] == '\n')
					c->line++;
				f->p = p + j + 1;
				return 1;
			}
			if (k != C_ELEM && k != C_COMP && k != C_REP)
				break;
			f->slen = base + j;
			if (feed_delim(f, c, k) < 0) {
				f->p = p;
				return -1;
			}
			j = EDI_BLOCK;
		}
		if (j < EDI_BLOCK) {
			f->note |= hi & ((1u << j) - 1);
			f->slen = base + j;
			f->p = p + j;
			return 0;
		}
		f->note |= hi;
		f->slen = base + EDI_BLOCK;
		f->p = p + EDI_BLOCK;
	}
	return 0;
}
#endif

/* A run's last bytes (fewer than a block) and the delimiter after them,
 * one by one. Returns 1 at the segment's terminator, 0 to go on (the
 * caller stops at the end of the input), -1 when the segment is too
 * long. */
static inline __attribute__((always_inline)) int
feed_byte(struct feed *f, struct edi_core *c)
{
	const unsigned char *p = f->p, *q = p, *end = f->end;
	const unsigned char *cls = f->cls;
	size_t n;

	while (p < end && cls[*p] == C_DATA)
		p++;
	n = (size_t)(p - q);
	f->p = p;
	if (n) {
		if (n > f->smax - f->slen)
			return -1;
		memcpy(f->sb + f->slen, q, n);
		f->slen += n;
		if (p == end)
			return 0;
	}
	/* Room for a delimiter's NUL (or one more data byte). */
	if (f->slen >= f->smax && cls[*p] != C_TERM && cls[*p] != C_NL)
		return -1;
	switch (cls[*p]) {
	case C_NOTE:
		c->seg_note = 1;
		f->sb[f->slen++] = (char)*p++;
		break;
	case C_ELEM:
	case C_COMP:
	case C_REP:
		f->p = ++p;
		return feed_delim(f, c, cls[p[-1]]);
	case C_REL:
		p++;
		if (p == end) {
			c->in_rel = 1;
			break;
		}
		if (*p == '\n')
			c->line++;
		f->sb[f->slen++] = (char)*p++;
		break;
	case C_NL:
		if (*p == '\n')
			c->line++;
		p++;
		c->seg_wrapped = 1;
		break;
	default: /* C_TERM */
		if (*p == '\n')
			c->line++;
		f->p = p + 1;
		return 1;
	}
	f->p = p;
	return 0;
}

int core_seg_feed(struct edi_core *c, const unsigned char **pp,
		  const unsigned char *end)
{
	struct feed f;
	int rc = 0;

	feed_load(&f, c, *pp, end);
	if (c->in_rel && f.p < end) {
		if (f.slen >= f.smax) {
			rc = -1;
			goto out;
		}
		f.sb[f.slen++] = (char)*f.p++;
		c->in_rel = 0;
	}
	while (f.p < end) {
#ifdef EDI_SSE2
		rc = feed_blocks(&f, c);
		if (rc != 0)
			goto out;
		if (f.p == end)
			break;
#endif
		rc = feed_byte(&f, c);
		if (rc != 0)
			goto out;
	}
out:
	feed_save(&f, c, pp);
	return rc;
}

void core_seg_end(struct edi_core *c, int truncated)
{
	struct edi_seg *s = &c->seg;
	size_t tl;

	c->tok[c->ntok - 1].len = (uint32_t)(c->slen - c->tok[c->ntok - 1].off);
	c->sb[c->slen] = '\0';
	c->ef[c->cur_elem + 1] = (uint32_t)c->ntok;
	s->data = c->sb;
	s->tok = c->tok;
	s->ntok = c->ntok;
	s->elem_first = c->ef;
	s->nelem = c->cur_elem;
	s->truncated = truncated;
	s->line = c->seg_line;
	s->offset = c->seg_off;
	tl = c->tok[0].len;
	if (tl > sizeof(s->tag) - 1)
		tl = sizeof(s->tag) - 1;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	{
		/* The tag's bytes, NUL-padded, as one 8-byte word (sb has
		 * room: EDI_SB_SLACK), not a memcpy and a memset call. */
		uint64_t w;

		memcpy(&w, c->sb, sizeof(w));
		w &= ((uint64_t)1 << (8 * tl)) - 1;
		memcpy(s->tag, &w, sizeof(w));
	}
#else
	memcpy(s->tag, c->sb, tl);
	memset(s->tag + tl, 0, sizeof(s->tag) - tl);
#endif
	c->tag_code = c->tok[0].len <= 3 ? EDI_TAG(s->tag) : 0;
}

void core_seg_drop_last_empty(struct edi_core *c)
{
	struct edi_tok *t = &c->tok[c->ntok - 1];

	if (c->ntok > 1 && t->len == 0 && t->comp > 1) {
		char tag[8];

		memcpy(tag, c->seg.tag, sizeof(tag));
		c->ntok--;
		c->slen = t->off - 1;
		c->cur_comp--;
		core_seg_end(c, c->seg.truncated);
		memcpy(c->seg.tag, tag, sizeof(tag));
	}
}

#ifdef EDI_SSE2
/* read_fast() stops at a release character or CR/LF: the state
 * core_seg_begin() and core_seg_feed() would have left there, so the
 * byte-wise path goes on from that byte (an EDIFACT value with a
 * release character was read twice). Out of line: it is the rare
 * case, and inlined it cost the hot loop registers. */
static __attribute__((noinline)) void
fast_handover(struct edi_core *c, size_t ntok, size_t start, size_t at,
	      unsigned elem, unsigned rep, unsigned comp, int note)
{
	c->tok[ntok - 1].off = (uint32_t)start;
	c->tok[0].elem = 0;
	c->tok[0].rep = 1;
	c->tok[0].comp = 1;
	c->ef[0] = 0;
	c->ntok = ntok;
	c->slen = at;
	c->cur_elem = elem;
	c->cur_rep = rep;
	c->cur_comp = comp;
	c->in_rel = 0;
	c->seg_wrapped = 0;
	c->seg_note = note;
	c->seg_line = c->line;
	c->seg_off = c->roff + c->rpos;
}
#endif

/* The common case of core_read_segment(): a segment that lies wholly in
 * the buffer, below smax by a block, with no release character, CR or
 * LF inside. It is tokenized 16 bytes per step: each block is copied to
 * sb as it is, and the separators found in its bit mask become the NULs
 * that end tokens, in place. The result is what core_seg_begin(),
 * core_seg_feed() and core_seg_end() make of the same bytes. Returns 1
 * with the segment read; 2 at a release character or CR/LF, having read
 * the bytes before it as core_seg_begin() and core_seg_feed() would (the
 * byte-wise path goes on from there); 0 having consumed nothing (the
 * byte-wise path then reads it from its start). */
static int read_fast(struct edi_core *c)
{
#ifdef EDI_SSE2
	const unsigned char *p = c->rb + c->rpos, *end = c->rb + c->rlen;
	const unsigned char *cls = c->cls;
	char *sb = c->sb;
	struct edi_tok *tok = c->tok;
	uint32_t *ef = c->ef;
	size_t slen = 0, smax = c->smax, ntok = 1, start = 0;
	unsigned elem = 0, rep = 1, comp = 1, note = 0;
	struct specv sv;

	specv_init(&sv, c);
	while (end - p >= EDI_BLOCK && smax - slen >= EDI_BLOCK) {
		__m128i x;
		unsigned hi, m;

		/* Up to 16 tokens end in a block; ntok stays below tokmax
		 * (each token but the first took a byte below smax). */
		if (c->tokcap - ntok < EDI_BLOCK + 1) {
			c->ntok = ntok;
			if (tok_grow(c) < 0)
				return 0;
			tok = c->tok;
			ef = c->ef;
		}
		m = block_mask(&sv, p, &hi, &x);
		_mm_storeu_si128((__m128i *)(void *)(sb + slen), x);
		for (; m; m &= m - 1) {
			unsigned j = (unsigned)__builtin_ctz(m);
			size_t at = slen + j;

			switch (cls[p[j]]) {
			case C_ELEM:
				if (++elem > 0xFFFF)
					return 0;
				rep = comp = 1;
				ef[elem] = (uint32_t)ntok;
				break;
			case C_COMP:
				if (++comp > 0xFFFF)
					return 0;
				break;
			case C_REP:
				if (++rep > 0xFFFF)
					return 0;
				comp = 1;
				break;
			case C_TERM:
				note |= hi & ((1u << j) - 1);
				tok[ntok - 1].off = (uint32_t)start;
				c->ntok = ntok;
				c->slen = at;
				c->cur_elem = elem;
				c->cur_rep = rep;
				c->cur_comp = comp;
				c->in_rel = 0;
				c->seg_wrapped = 0;
				c->seg_note = note != 0;
				c->seg_line = c->line;
				c->seg_off = c->roff + c->rpos;
				tok[0].elem = 0;
				tok[0].rep = 1;
				tok[0].comp = 1;
				ef[0] = 0;
				if (p[j] == '\n')
					c->line++;
				c->rpos = (size_t)(p + j + 1 - c->rb);
				core_seg_end(c, 0);
				return 1;
			default:
				/* C_REL, C_NL: the byte-wise path goes on from
				 * this byte with what is read so far */
				fast_handover(c, ntok, start, at, elem, rep,
					      comp, (note | (hi & ((1u << j) - 1))) != 0);
				c->rpos = (size_t)(p + j - c->rb);
				return 2;
			}
			tok[ntok - 1].off = (uint32_t)start;
			tok[ntok - 1].len = (uint32_t)(at - start);
			sb[at] = '\0';
			start = at + 1;
			tok[ntok].elem = (uint16_t)elem;
			tok[ntok].rep = (uint16_t)rep;
			tok[ntok].comp = (uint16_t)comp;
			ntok++;
		}
		note |= hi;
		slen += EDI_BLOCK;
		p += EDI_BLOCK;
	}
#else
	(void)c;
#endif
	return 0;
}

int core_read_segment(struct edi_core *c, struct err *err)
{
	int fast = read_fast(c);

	if (fast == 1)
		return 1;
	if (fast == 0)
		core_seg_begin(c);
	for (;;) {
		const unsigned char *p;
		int rc;

		if (c->rpos == c->rlen) {
			long n = core_fill(c, 1, err);

			if (n < 0)
				return -1;
			if (n == 0) {
				core_seg_end(c, 1);
				return 2;
			}
		}
		p = c->rb + c->rpos;
		rc = core_seg_feed(c, &p, c->rb + c->rlen);
		c->rpos = (size_t)(p - c->rb);
		if (rc == 1) {
			core_seg_end(c, 0);
			return 1;
		}
		if (rc < 0) {
			char tag[8] = "";

			if (c->ntok > 1 && c->tok[0].len < 8)
				memcpy(tag, c->sb, c->tok[0].len);
			return err_at(err, E_TOOBIG, c->name, c->seg_line, 0,
				      "segment %lu%s%s%s is longer than %zu "
				      "bytes (or has too many elements)",
				      c->ctx.seg_in_file + 1, tag[0] ? " (" : "",
				      tag, tag[0] ? ")" : "", c->smax);
		}
	}
}

static int res_alnum(int ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
	       (ch >= '0' && ch <= '9');
}

int core_resync(struct edi_core *c, const char *tags, struct err *err)
{
	int prev = 'x';

	if (c->rpos < c->rlen)
		prev = c->rb[c->rpos++]; /* progress: it started the junk */
	for (;;) {
		long n = core_fill(c, 4, err);
		const unsigned char *p, *end;

		if (n < 0)
			return -1;
		p = c->rb + c->rpos;
		if (n < 4) {
			for (; p < c->rb + c->rlen; p++)
				if (*p == '\n')
					c->line++;
			c->rpos = c->rlen;
			return 0;
		}
		/* A tag counts only as a word of its own: "ISA*", not the
		 * "ISA" inside base64 or a name. */
		end = c->rb + c->rlen - 3;
		for (; p < end; prev = *p++) {
			const char *t;

			if (*p == '\n') {
				c->line++;
				continue;
			}
			if (res_alnum(prev) || res_alnum(p[3]))
				continue;
			for (t = tags; *t; t += 4)
				if (p[0] == (unsigned char)t[0] &&
				    p[1] == (unsigned char)t[1] &&
				    p[2] == (unsigned char)t[2]) {
					c->rpos = (size_t)(p - c->rb);
					return 1;
				}
		}
		c->rpos = (size_t)(p - c->rb);
	}
}

/* ---- core: hashing ----------------------------------------------------- */

void core_hash_begin(struct edi_core *c, size_t pos, const void *prefix,
		     size_t nprefix, struct err *err)
{
	struct err e2 = ERR_INIT;

	(void)err;
	if (c->opts.no_hash)
		return;
	if (c->hashing)
		sha256_release(&c->sha);
	c->hashing = 0;
	if (sha256_init(&c->sha, &e2) < 0)
		return; /* no hash: ctx.ic_sha256 stays "" */
	c->hashing = 1;
	c->hash_from = pos;
	c->hash_bytes = 0;
	if (nprefix) {
		sha256_update(&c->sha, prefix, nprefix);
		c->hash_bytes = nprefix;
	}
}

void core_hash_end(struct edi_core *c)
{
	if (!c->hashing) {
		c->ctx.ic_sha256[0] = '\0';
		c->ctx.ic_bytes = 0;
		return;
	}
	if (c->rpos > c->hash_from) {
		sha256_update(&c->sha, c->rb + c->hash_from,
			      c->rpos - c->hash_from);
		c->hash_bytes += c->rpos - c->hash_from;
	}
	sha256_final(&c->sha, c->ctx.ic_sha256);
	c->ctx.ic_bytes = c->hash_bytes;
	c->hashing = 0;
}

/* ---- core: events ------------------------------------------------------ */

static struct edi_qslot *q_push(struct edi_core *c)
{
	struct edi_qslot *s;

	if (c->qlen == EDI_QMAX)
		return NULL;
	s = &c->q[(c->qhead + c->qlen) % EDI_QMAX];
	c->qlen++;
	memset(&s->ev, 0, sizeof(s->ev));
	return s;
}

void core_issue(struct edi_core *c, int severity, int code,
		const char *seg_id, unsigned elem, const char *fmt, ...)
{
	struct edi_qslot *s;
	struct edi_issue *is;
	va_list ap;

	c->nissues++;
	if (severity == EDI_ERROR) {
		c->nerrors++;
		if (c->ctx.set_open)
			c->ctx.set_errors++;
		if (c->ctx.grp_open)
			c->ctx.grp_errors++;
		if (c->ctx.ic_open)
			c->ctx.ic_errors++;
	}
	/* Keep room for the segment and end events that may follow. */
	if (c->qlen >= EDI_QMAX - 6 || !(s = q_push(c))) {
		c->ndropped++;
		return;
	}
	is = &s->issue;
	memset(is, 0, sizeof(*is));
	is->severity = severity;
	is->code = code;
	is->ic_index = c->ctx.ic_index;
	core_cpy(is->ic_control, sizeof(is->ic_control), c->ctx.ic_control);
	if (c->ctx.set_open)
		core_cpy(is->set_control, sizeof(is->set_control),
			 c->ctx.set_control);
	is->seg_in_file = c->ctx.seg_in_file;
	is->seg_in_ic = c->ctx.seg_in_ic;
	is->seg_in_set = c->ctx.set_open ? c->ctx.seg_in_set : 0;
	core_cpy(is->seg_id, sizeof(is->seg_id), seg_id ? seg_id : c->seg.tag);
	is->elem = elem;
	is->line = c->seg_line;
	is->offset = c->seg_off;
	va_start(ap, fmt);
	vsnprintf(is->reason, sizeof(is->reason), fmt, ap);
	va_end(ap);
	s->ctx = c->ctx;
	s->ev.kind = EDI_EV_ISSUE;
	s->ev.issue = is;
	s->ev.ctx = &s->ctx;
}

void core_push_seg(struct edi_core *c)
{
	struct edi_qslot *s = q_push(c);

	c->seg.num = c->ctx.seg_in_file;
	c->seg.num_in_ic = c->ctx.seg_in_ic;
	c->seg.num_in_set = c->ctx.set_open ? c->ctx.seg_in_set : 0;
	if (!s)
		return; /* cannot happen: issues leave room */
	s->ev.kind = EDI_EV_SEGMENT;
	s->ev.seg = &c->seg;
	/* A segment is the last event of its batch unless a trailer's end
	 * event follows it, so the live context is right for it; copying
	 * the context per segment would cost more than tokenizing. When an
	 * end event follows, core_push_end() snapshots it first. */
	s->ev.ctx = &c->ctx;
}

void core_push_end(struct edi_core *c, int kind, int ok)
{
	struct edi_qslot *s, *prev;

	if (c->qlen) {
		prev = &c->q[(c->qhead + c->qlen - 1) % EDI_QMAX];
		if (prev->ev.kind == EDI_EV_SEGMENT &&
		    prev->ev.ctx == &c->ctx) {
			prev->ctx = c->ctx;
			prev->ev.ctx = &prev->ctx;
		}
	}
	s = q_push(c);
	if (!s)
		return;
	s->ev.kind = kind;
	s->ev.ok = ok;
	s->ctx = c->ctx;
	s->ev.ctx = &s->ctx;
}

/* ---- core: helpers ----------------------------------------------------- */

static int all_digits(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

int core_ctl_cmp(const char *t, const char *h)
{
	if (!strcmp(t, h))
		return 0;
	if (all_digits(t) && all_digits(h)) {
		while (*t == '0' && t[1])
			t++;
		while (*h == '0' && h[1])
			h++;
		if (!strcmp(t, h))
			return 1;
	}
	return 2;
}

long long core_count(const char *s)
{
	long long v = 0;

	if (!s || !all_digits(s) || strlen(s) > 15)
		return -1;
	for (; *s; s++)
		v = v * 10 + (*s - '0');
	return v;
}

void core_check_count(struct edi_core *c, unsigned elem, unsigned long n,
		      const char *what)
{
	const char *v = edi_seg_str(&c->seg, elem);
	long long k = core_count(v);

	if (k < 0)
		core_issue(c, EDI_ERROR, EDI_I_COUNT, NULL, elem,
			   "%s%02u %s is not a number: '%s'", c->seg.tag, elem,
			   what, v);
	else if ((unsigned long long)k != n)
		core_issue(c, EDI_ERROR, EDI_I_COUNT, NULL, elem,
			   "%s%02u %s mismatch (says %s, actual %lu)",
			   c->seg.tag, elem, what, v, n);
}

void core_check_ctl(struct edi_core *c, unsigned elem, const char *hdr,
		    const char *hdr_name)
{
	const char *v = edi_seg_str(&c->seg, elem);
	int k = core_ctl_cmp(v, hdr);

	if (k == 1)
		core_issue(c, EDI_WARNING, EDI_I_PADDING, NULL, elem,
			   "%s%02u != %s (numerically equal, padding differs: "
			   "'%s' vs '%s')",
			   c->seg.tag, elem, hdr_name, v, hdr);
	else if (k == 2)
		core_issue(c, EDI_ERROR, EDI_I_CONTROL, NULL, elem,
			   "%s%02u != %s ('%s' vs header '%s')", c->seg.tag,
			   elem, hdr_name, v, hdr);
}

void core_cpy(char *dst, size_t n, const char *s)
{
	size_t l;

	if (!s)
		s = "";
	l = strlen(s);
	if (l >= n)
		l = n - 1;
	memcpy(dst, s, l);
	dst[l] = '\0';
}
