/* edifact_reader.c - see edifact_reader.h. */
#include "edifact_reader.h"
#include "edi_core.h"

#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/utf8.h"

struct edifact_reader {
	struct edi_core c;
	int in_garbage;
	int wrap_warned;
	int una_pending;             /* a UNA was read, its UNB not yet */
	struct edi_delims una;       /* that UNA's delimiters */
	uint64_t una_off;
	int hdr_bad;
	unsigned long ngroups, nsets;
	/* charset of the current interchange */
	int cs_mode;                 /* CS_* */
	int cs_warned;
	char cs_name[8];             /* syntax id the table was built for */
	unsigned char u8[256][4];    /* 8-bit charset -> UTF-8 */
	unsigned char u8len[256];    /* 0 = byte invalid in the charset */
	char *cb;                    /* converted segment, 4 * max + 1 */
	size_t cbcap;
};

enum {
	CS_PASS = 0, /* no conversion (ASCII data, or unknown: pass) */
	CS_ASCII,    /* UNOA/UNOB: >= 0x80 is a partner error */
	CS_UTF8,     /* UNOW/UNOY: validate */
	CS_TABLE     /* 8-bit charset through u8[] */
};

static const struct edi_delims una_default = {'+', ':', -1, '\'', '?', '.',
					      {0}, 0};

static int e_alnum(int ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
	       (ch >= '0' && ch <= '9');
}

/* ---- charsets ---------------------------------------------------------- */

static void latin1(unsigned char ch, unsigned char *o, size_t *k)
{
	o[(*k)++] = (unsigned char)(0xC0 | (ch >> 6));
	o[(*k)++] = (unsigned char)(0x80 | (ch & 0x3F));
}

/* Sets up the conversion for syntax identifier id. */
static void charset_setup(struct edifact_reader *r, const char *id)
{
	struct edi_core *c = &r->c;
	int utf8 = 0;
	const char *ic = edi_charset_iconv(id, &utf8);
	unsigned b;
	iconv_t cd;

	r->cs_warned = 0;
	if (!ic) {
		core_issue(c, EDI_WARNING, EDI_I_CHARSET, NULL, 1,
			   "unknown syntax identifier '%s': bytes passed "
			   "through unconverted",
			   id);
		r->cs_mode = CS_PASS;
		return;
	}
	if (!strcmp(id, "UNOX")) {
		r->cs_mode = CS_PASS;
		return;
	}
	if (!strcmp(ic, "ASCII")) {
		r->cs_mode = CS_ASCII;
		return;
	}
	if (utf8) {
		r->cs_mode = CS_UTF8;
		return;
	}
	r->cs_mode = CS_TABLE;
	if (!strcmp(r->cs_name, id))
		return; /* table already built */
	cd = iconv_open("UTF-8", ic);
	if (cd == (iconv_t)-1) {
		core_issue(c, EDI_WARNING, EDI_I_CHARSET, NULL, 1,
			   "no converter for %s (%s): bytes passed through",
			   id, ic);
		r->cs_mode = CS_PASS;
		r->cs_name[0] = '\0';
		return;
	}
	for (b = 0; b < 256; b++) {
		char in = (char)b, *ip = &in, *op = (char *)r->u8[b];
		size_t il = 1, ol = 4;

		if (b < 0x80) {
			r->u8[b][0] = (unsigned char)b;
			r->u8len[b] = 1;
			continue;
		}
		if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1)
			r->u8len[b] = 0;
		else
			r->u8len[b] = (unsigned char)(4 - ol);
		iconv(cd, NULL, NULL, NULL, NULL);
	}
	iconv_close(cd);
	core_cpy(r->cs_name, sizeof(r->cs_name), id);
}

/* Converts the current segment's values to UTF-8 into r->cb. Called only
 * when the segment holds bytes >= 0x80. */
static void convert_segment(struct edifact_reader *r)
{
	struct edi_core *c = &r->c;
	size_t i, k = 0;
	unsigned char *o = (unsigned char *)r->cb;
	int bad = 0, nonascii = 0;

	if (r->cs_mode == CS_PASS)
		return;
	for (i = 0; i < c->ntok; i++) {
		struct edi_tok *t = &c->tok[i];
		const unsigned char *p = (const unsigned char *)c->sb + t->off;
		size_t j = 0, start = k;

		while (j < t->len) {
			unsigned char ch = p[j];
			unsigned cp;
			size_t l;

			if (ch < 0x80) {
				o[k++] = ch;
				j++;
				continue;
			}
			nonascii = 1;
			if (r->cs_mode == CS_TABLE) {
				if (r->u8len[ch]) {
					memcpy(o + k, r->u8[ch], r->u8len[ch]);
					k += r->u8len[ch];
				} else {
					memcpy(o + k, "\xEF\xBF\xBD", 3);
					k += 3;
					bad = 1;
				}
				j++;
				continue;
			}
			l = utf8_char(p + j, t->len - j, &cp);
			if (l) {
				memcpy(o + k, p + j, l);
				k += l;
				j += l;
			} else {
				/* Not UTF-8: the commonest mistake is
				 * Latin-1; read it so. */
				latin1(ch, o, &k);
				j++;
				bad = 1;
			}
		}
		o[k++] = '\0';
		t->off = (uint32_t)start;
		t->len = (uint32_t)(k - 1 - start);
	}
	c->seg.data = r->cb;
	if (r->cs_warned)
		return;
	if (r->cs_mode == CS_ASCII && nonascii) {
		r->cs_warned = 1;
		core_issue(c, EDI_WARNING, EDI_I_CHARSET, NULL, 0,
			   "%s declared but the data has non-ASCII bytes "
			   "(%s)",
			   c->ctx.charset,
			   bad ? "read as Latin-1" : "kept as UTF-8");
	} else if (bad) {
		r->cs_warned = 1;
		core_issue(c, EDI_WARNING, EDI_I_CHARSET, NULL, 0,
			   "bytes not valid in %s (%s)", c->ctx.charset,
			   r->cs_mode == CS_TABLE ? "replaced by U+FFFD"
						  : "read as Latin-1");
	}
}

/* ---- closing ----------------------------------------------------------- */

static void close_set_missing(struct edifact_reader *r)
{
	struct edi_core *c = &r->c;

	core_issue(c, EDI_ERROR, EDI_I_MISSING_TRAILER, NULL, 0,
		   "missing UNT (UNH01=%s still open)", c->ctx.set_control);
	core_push_end(c, EDI_EV_SET_END, 0);
	c->ctx.set_open = 0;
	c->ctx.seg_in_set = 0;
}

static void close_group_missing(struct edifact_reader *r)
{
	struct edi_core *c = &r->c;

	core_issue(c, EDI_ERROR, EDI_I_MISSING_TRAILER, NULL, 0,
		   "missing UNE (UNG05=%s still open)", c->ctx.grp_control);
	core_push_end(c, EDI_EV_GROUP_END, 0);
	c->ctx.grp_open = 0;
}

static void close_all_missing(struct edifact_reader *r, const char *why)
{
	struct edi_core *c = &r->c;

	if (c->ctx.set_open)
		close_set_missing(r);
	if (c->ctx.grp_open)
		close_group_missing(r);
	if (c->ctx.ic_open) {
		core_issue(c, EDI_ERROR, EDI_I_MISSING_TRAILER, NULL, 0,
			   "missing UNZ %s (end of data inside interchange "
			   "%lu)",
			   why, c->ctx.ic_index);
		core_hash_end(c);
		core_push_end(c, EDI_EV_IC_END, 0);
		c->ctx.ic_open = 0;
	}
}

/* ---- interchange start ------------------------------------------------- */

static void ctx_reset_ic(struct edi_core *c)
{
	struct edi_ctx *x = &c->ctx;
	unsigned long idx = x->ic_index, sf = x->seg_in_file;
	unsigned long si = x->set_index;

	memset(x, 0, sizeof(*x));
	x->format = EDI_FMT_EDIFACT;
	x->ic_index = idx;
	x->delims.elem = x->delims.comp = x->delims.rep = -1;
	x->delims.seg = x->delims.rel = x->delims.dec = -1;
	x->seg_in_file = sf;
	x->set_index = si;
}

/* Opens an interchange at the current position with the pending UNA's
 * delimiters or the defaults (repetition decided by the UNB later). */
static void begin_ic(struct edifact_reader *r)
{
	struct edi_core *c = &r->c;
	struct edi_delims d = r->una_pending ? r->una : una_default;

	if (c->ctx.ic_open)
		close_all_missing(r, "before the next interchange");
	ctx_reset_ic(c);
	c->ctx.ic_index++;
	c->ctx.ic_open = 1;
	c->ctx.una = r->una_pending;
	c->ctx.delims = d;
	d.rep = -1;
	core_set_delims(c, &d);
	if (!r->una_pending) {
		c->ctx.ic_offset = c->roff + c->rpos;
		core_hash_begin(c, c->rpos, NULL, 0, NULL);
	} else {
		c->ctx.ic_offset = r->una_off;
	}
	r->una_pending = 0;
	r->wrap_warned = 0;
	r->in_garbage = 0;
	r->hdr_bad = 0;
	r->cs_mode = CS_PASS;
	r->cs_warned = 0;
}

/* UNA + six characters. */
static int read_una(struct edifact_reader *r, struct err *err)
{
	struct edi_core *c = &r->c;
	long n;
	const unsigned char *p;
	struct edi_delims d = una_default;
	int i, j;

	if (c->ctx.ic_open)
		close_all_missing(r, "before the next interchange");
	c->seg_line = c->line;
	c->seg_off = c->roff + c->rpos;
	n = core_fill(c, 9, err);
	if (n < 0)
		return -1;
	p = c->rb + c->rpos;
	memcpy(c->seg.tag, "UNA", 4);
	if (n < 9) {
		core_issue(c, EDI_ERROR, EDI_I_BAD_HEADER, "UNA", 0,
			   "bad UNA: fewer than 6 characters before end of "
			   "data");
		c->rpos = c->rlen;
		return 0;
	}
	d.comp = p[3];
	d.elem = p[4];
	d.dec = p[5];
	d.rel = p[6] == ' ' ? -1 : p[6];
	d.rep = p[7] == ' ' ? -1 : p[7];
	d.seg = p[8];
	{
		int v[5] = {d.comp, d.elem, d.rel, d.rep, d.seg};

		for (i = 0; i < 5; i++) {
			if (v[i] < 0)
				continue;
			if (e_alnum(v[i]) || v[i] == '\r' || v[i] == '\n')
				goto bad;
			for (j = i + 1; j < 5; j++)
				if (v[i] == v[j])
					goto bad;
		}
	}
	core_hash_begin(c, c->rpos, NULL, 0, NULL);
	c->rpos += 9;
	r->una = d;
	r->una_off = c->seg_off;
	r->una_pending = 1;
	r->in_garbage = 0;
	return 0;
bad:
	core_issue(c, EDI_ERROR, EDI_I_UNREADABLE, "UNA", 0,
		   "bad UNA '%.9s': delimiters must be distinct and not "
		   "letters or digits; interchange skipped",
		   (const char *)p);
	r->in_garbage = 1;
	return core_resync(c, "UNB\0UNA\0", err) < 0 ? -1 : 0;
}

/* After the UNB is tokenized: syntax, charset, repetition, values. */
static void process_unb(struct edifact_reader *r)
{
	struct edi_core *c = &r->c;
	struct edi_ctx *x = &c->ctx;
	const struct edi_seg *s = &c->seg;
	const char *ver;
	struct edi_delims d = x->delims;

	core_cpy(x->charset, sizeof(x->charset), edi_seg_str(s, 1));
	ver = edi_seg_value(s, 1, 1, 2);
	core_cpy(x->syntax_version, sizeof(x->syntax_version), ver);
	if (!ver || !*ver)
		core_issue(c, EDI_WARNING, EDI_I_NOTE, NULL, 1,
			   "UNB without syntax version");
	if (ver && !strcmp(ver, "4")) {
		if (!x->una)
			d.rep = '*';
	} else {
		d.rep = -1;
	}
	x->delims = d;
	core_set_delims(c, &d);
	core_cpy(x->ic_sender, sizeof(x->ic_sender), edi_seg_str(s, 2));
	core_cpy(x->ic_sender_qual, sizeof(x->ic_sender_qual),
		 edi_seg_value(s, 2, 1, 2));
	core_cpy(x->ic_receiver, sizeof(x->ic_receiver), edi_seg_str(s, 3));
	core_cpy(x->ic_receiver_qual, sizeof(x->ic_receiver_qual),
		 edi_seg_value(s, 3, 1, 2));
	core_cpy(x->ic_date, sizeof(x->ic_date), edi_seg_str(s, 4));
	core_cpy(x->ic_time, sizeof(x->ic_time), edi_seg_value(s, 4, 1, 2));
	core_cpy(x->ic_control, sizeof(x->ic_control), edi_seg_str(s, 5));
	core_cpy(x->ic_test, sizeof(x->ic_test), edi_seg_str(s, 11));
	if (!x->ic_control[0]) {
		core_issue(c, EDI_ERROR, EDI_I_BAD_HEADER, NULL, 5,
			   "bad UNB: no interchange control reference (UNB05)");
		r->hdr_bad = 1;
	}
	charset_setup(r, x->charset);
}

/* ---- segments ---------------------------------------------------------- */

/* 2 alphanumeric tag of the standard's length, 1 other length, 0 empty or
 * not alphanumeric. */
static int tag_ok(const struct edi_seg *s)
{
	size_t l = s->tok[0].len, i;

	if (l == 0)
		return 0;
	for (i = 0; i < l; i++)
		if (!e_alnum((unsigned char)s->data[i]))
			return 0;
	return l >= 3 && l <= 3 ? 2 : 1;
}

/* What any segment is checked for: its tag, wrapped lines (once per
 * interchange), a missing terminator at the end of the data. */
static void check_segment(struct edifact_reader *r, uint32_t tc,
			  int truncated)
{
	struct edi_core *c = &r->c;
	int k = tag_ok(&c->seg);

	if (k == 0)
		core_issue(c, EDI_ERROR, EDI_I_BAD_TAG, NULL, 0,
			   "bad segment tag '%.8s'", c->seg.data);
	else if (k == 1)
		core_issue(c, EDI_WARNING, EDI_I_BAD_TAG, NULL, 0,
			   "segment tag '%.8s' is not 3 characters long",
			   c->seg.data);
	if (c->seg_wrapped && !r->wrap_warned) {
		r->wrap_warned = 1;
		core_issue(c, EDI_WARNING, EDI_I_WRAPPED, NULL, 0,
			   "line break inside segment (wrapped lines) "
			   "removed");
	}
	if (truncated) {
		if (tc == EDI_TAG("UNZ"))
			core_issue(c, EDI_WARNING, EDI_I_TRAILING, NULL, 0,
				   "final segment lacks its terminator");
		else
			core_issue(c, EDI_ERROR, EDI_I_NO_TERMINATOR, NULL, 0,
				   "no segment terminator found (segment runs "
				   "to end of data)");
	}
}

static void on_ung(struct edifact_reader *r)
{
	struct edi_core *c = &r->c;
	struct edi_ctx *x = &c->ctx;

	if (x->set_open)
		close_set_missing(r);
	if (x->grp_open)
		close_group_missing(r);
	x->grp_open = 1;
	x->grp_index = ++x->ic_ngroups;
	r->ngroups++;
	x->grp_nsets = 0;
	x->grp_errors = 0;
	core_cpy(x->grp_id, sizeof(x->grp_id), edi_seg_str(&c->seg, 1));
	core_cpy(x->grp_sender, sizeof(x->grp_sender),
		 edi_seg_str(&c->seg, 2));
	core_cpy(x->grp_receiver, sizeof(x->grp_receiver),
		 edi_seg_str(&c->seg, 3));
	core_cpy(x->grp_date, sizeof(x->grp_date),
		 edi_seg_str(&c->seg, 4));
	core_cpy(x->grp_time, sizeof(x->grp_time),
		 edi_seg_value(&c->seg, 4, 1, 2));
	core_cpy(x->grp_control, sizeof(x->grp_control),
		 edi_seg_str(&c->seg, 5));
	snprintf(x->grp_version, sizeof(x->grp_version), "%s%s%s",
		 edi_seg_str(&c->seg, 7),
		 edi_seg_value(&c->seg, 7, 1, 2) ? ":" : "",
		 edi_seg_value(&c->seg, 7, 1, 2)
			 ? edi_seg_value(&c->seg, 7, 1, 2)
			 : "");
	core_push_seg(c);
}

static void on_une(struct edifact_reader *r)
{
	struct edi_core *c = &r->c;
	struct edi_ctx *x = &c->ctx;

	if (x->set_open)
		close_set_missing(r);
	if (!x->grp_open) {
		core_issue(c, EDI_ERROR, EDI_I_MISSING_HEADER, NULL, 0,
			   "UNE without UNG");
		core_push_seg(c);
		return;
	}
	core_check_count(c, 1, x->grp_nsets, "message count");
	core_check_ctl(c, 2, x->grp_control, "UNG05");
	core_push_seg(c);
	core_push_end(c, EDI_EV_GROUP_END,
		      x->grp_errors == 0 && !r->hdr_bad);
	x->grp_open = 0;
}

static void on_unh(struct edifact_reader *r)
{
	struct edi_core *c = &r->c;
	struct edi_ctx *x = &c->ctx;
	size_t i, l = 0;

	if (x->set_open)
		close_set_missing(r);
	x->set_open = 1;
	x->seg_in_set = 1;
	x->set_errors = 0;
	x->set_index++;
	r->nsets++;
	x->ic_nsets++;
	if (x->grp_open)
		x->grp_nsets++;
	core_cpy(x->set_control, sizeof(x->set_control),
		 edi_seg_str(&c->seg, 1));
	core_cpy(x->set_type, sizeof(x->set_type),
		 edi_seg_str(&c->seg, 2));
	x->set_version[0] = '\0';
	for (i = 2; i <= 5; i++) {
		const char *v = edi_seg_value(&c->seg, 2, 1, (unsigned)i);

		if (!v)
			break;
		l += (size_t)snprintf(x->set_version + l,
				      l < sizeof(x->set_version)
					      ? sizeof(x->set_version) - l
					      : 0,
				      "%s%s", i > 2 ? ":" : "", v);
		if (l >= sizeof(x->set_version))
			break;
	}
	core_push_seg(c);
}

static void on_unt(struct edifact_reader *r)
{
	struct edi_core *c = &r->c;
	struct edi_ctx *x = &c->ctx;

	if (!x->set_open) {
		core_issue(c, EDI_ERROR, EDI_I_MISSING_HEADER, NULL, 0,
			   "UNT without UNH");
		core_push_seg(c);
		return;
	}
	x->seg_in_set++;
	core_check_count(c, 1, x->seg_in_set, "segment count");
	core_check_ctl(c, 2, x->set_control, "UNH01");
	core_push_seg(c);
	core_push_end(c, EDI_EV_SET_END,
		      x->set_errors == 0 && !r->hdr_bad);
	x->set_open = 0;
	x->seg_in_set = 0;
}

static void on_unz(struct edifact_reader *r)
{
	struct edi_core *c = &r->c;
	struct edi_ctx *x = &c->ctx;

	if (x->set_open)
		close_set_missing(r);
	if (x->grp_open)
		close_group_missing(r);
	core_check_count(c, 1, x->ic_ngroups ? x->ic_ngroups : x->ic_nsets,
		    x->ic_ngroups ? "group count" : "message count");
	core_check_ctl(c, 2, x->ic_control, "UNB05");
	core_push_seg(c);
	core_hash_end(c);
	core_push_end(c, EDI_EV_IC_END, x->ic_errors == 0);
	x->ic_open = 0;
}

static void process(struct edifact_reader *r, int truncated)
{
	struct edi_core *c = &r->c;
	struct edi_ctx *x = &c->ctx;
	const char *tag = c->seg.tag;
	uint32_t tc;
	int is_unb;

	x->seg_in_file++;
	x->seg_in_ic++;
	tc = c->tag_code;
	is_unb = tc == EDI_TAG("UNB");
	if (is_unb)
		process_unb(r);
	if (c->seg_note)
		convert_segment(r);
	check_segment(r, tc, truncated);
	if (is_unb) {
		core_push_seg(c);
	} else if (tc == EDI_TAG("UNG")) {
		on_ung(r);
	} else if (tc == EDI_TAG("UNE")) {
		on_une(r);
	} else if (tc == EDI_TAG("UNH")) {
		on_unh(r);
	} else if (tc == EDI_TAG("UNT")) {
		on_unt(r);
	} else if (tc == EDI_TAG("UNZ")) {
		on_unz(r);
	} else if (x->set_open) {
		x->seg_in_set++;
		core_push_seg(c);
	} else {
		core_issue(c, EDI_ERROR, EDI_I_UNEXPECTED, NULL, 0,
			   "segment %s outside a message", tag);
		core_push_seg(c);
	}
}

/* ---- driver ------------------------------------------------------------ */

static void finish(struct edifact_reader *r)
{
	struct edi_core *c = &r->c;

	c->ctx.seg_in_file = 0;
	c->ctx.seg_in_ic = 0;
	c->seg.tag[0] = '\0';
	c->seg_line = c->line;
	c->seg_off = c->roff + c->rpos;
	if (r->una_pending && !c->ctx.ic_open)
		core_issue(c, EDI_ERROR, EDI_I_MISSING_HEADER, "", 0,
			   "UNA without interchange");
	close_all_missing(r, "at end of data");
	if (!c->ctx.ic_index) {
		if (c->roff + c->rpos == 0 || (!r->in_garbage && !r->una_pending))
			core_issue(c, EDI_ERROR, EDI_I_NO_INTERCHANGE, "", 0,
				   "empty file");
		else
			core_issue(c, EDI_ERROR, EDI_I_NO_INTERCHANGE, "", 0,
				   "not EDIFACT: no UNB or UNH found");
	}
	if (c->junk)
		core_issue(c, EDI_WARNING, EDI_I_TRAILING, "", 0,
			   "NUL or ^Z bytes between segments or after the "
			   "last interchange");
	c->done = 1;
}

static int step(struct edifact_reader *r, struct err *err)
{
	struct edi_core *c = &r->c;
	const unsigned char *p;
	long n;
	int rc, unb, unh;

	rc = core_skip_ws(c, err);
	if (rc < 0)
		return -1;
	if (rc == 0) {
		finish(r);
		return 0;
	}
	n = (long)(c->rlen - c->rpos);
	if (n < 4 && (n = core_fill(c, 4, err)) < 0)
		return -1;
	p = c->rb + c->rpos;
	if (n >= 3 && !memcmp(p, "UNA", 3))
		return read_una(r, err);
	unb = n >= 3 && !memcmp(p, "UNB", 3);
	unh = n >= 3 && !memcmp(p, "UNH", 3);
	if (unb) {
		begin_ic(r);
	} else if (!c->ctx.ic_open) {
		if (unh || r->una_pending) {
			/* A message without UNB: read it as an interchange
			 * of its own so its counts are still checked. */
			begin_ic(r);
			rc = core_read_segment(c, err);
			if (rc < 0)
				return -1;
			c->ctx.seg_in_file++;
			c->ctx.seg_in_ic++;
			core_issue(c, EDI_ERROR, EDI_I_MISSING_HEADER, NULL, 0,
				   "missing UNB (message without interchange "
				   "header)");
			r->hdr_bad = 1;
			c->ctx.seg_in_file--;
			c->ctx.seg_in_ic--;
			process(r, rc == 2);
			return 0;
		}
		if (!r->in_garbage) {
			c->seg_line = c->line;
			c->seg_off = c->roff + c->rpos;
			c->seg.tag[0] = '\0';
			if (c->ctx.ic_index)
				core_issue(c, EDI_ERROR, EDI_I_OUTSIDE, "", 0,
					   "data outside interchange (after "
					   "interchange %lu)",
					   c->ctx.ic_index);
			else
				core_issue(c, EDI_ERROR, EDI_I_OUTSIDE, "", 0,
					   "data outside interchange (before "
					   "the first interchange header)");
			r->in_garbage = 1;
		}
		return core_resync(c, "UNA\0UNB\0UNH\0", err) < 0 ? -1 : 0;
	}
	rc = core_read_segment(c, err);
	if (rc < 0)
		return -1;
	process(r, rc == 2);
	return 0;
}

int edifact_reader_open_fd(struct edifact_reader **out, int fd,
			   const char *name, const struct edi_opts *opts,
			   struct err *err)
{
	struct edifact_reader *r = calloc(1, sizeof(*r));
	struct edi_delims none = {-1, -1, -1, -1, -1, -1, {0}, 0};
	long n;

	*out = NULL;
	if (!r)
		return err_set(err, E_NOMEM, "out of memory");
	if (core_init(&r->c, fd, name, opts, err) < 0) {
		free(r);
		return -1;
	}
	r->c.ctx.format = EDI_FMT_EDIFACT;
	r->cbcap = 4 * r->c.smax + 4;
	r->cb = malloc(r->cbcap);
	if (!r->cb) {
		err_set(err, E_NOMEM, "out of memory");
		goto fail;
	}
	core_set_delims(&r->c, &none);
	n = core_fill(&r->c, 3, err);
	if (n < 0)
		goto fail;
	if (n >= 3 && !memcmp(r->c.rb, "\xEF\xBB\xBF", 3))
		r->c.rpos = 3;
	*out = r;
	return 0;
fail:
	core_release(&r->c);
	free(r->cb);
	free(r);
	return -1;
}

int edifact_reader_next(struct edifact_reader *r, struct edi_event *ev,
			struct err *err)
{
	for (;;) {
		if (core_pop(&r->c, ev))
			return 1;
		if (r->c.done)
			return 0;
		if (step(r, err) < 0)
			return -1;
	}
}

const struct edi_ctx *edifact_reader_ctx(const struct edifact_reader *r)
{
	return &r->c.ctx;
}

void edifact_reader_stats(const struct edifact_reader *r,
			  unsigned long *nissues, unsigned long *nerrors,
			  unsigned long *nic, unsigned long *ngroups,
			  unsigned long *nsets)
{
	if (nissues)
		*nissues = r->c.nissues;
	if (nerrors)
		*nerrors = r->c.nerrors;
	if (nic)
		*nic = r->c.ctx.ic_index;
	if (ngroups)
		*ngroups = r->ngroups;
	if (nsets)
		*nsets = r->nsets;
}

void edifact_reader_free(struct edifact_reader *r)
{
	if (!r)
		return;
	core_release(&r->c);
	free(r->cb);
	free(r);
}
