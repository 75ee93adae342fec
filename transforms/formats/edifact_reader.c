/* edifact_reader.c - see edifact_reader.h. */
#include "edifact_reader.h"
#include "edi_env.h"

#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/utf8.h"

struct edifact_reader {
	struct edi_env e;            /* first: the hooks cast back; its
				      * svc_pending: a UNA was read, its UNB
				      * not yet */
	struct edi_delims una;       /* that UNA's delimiters */
	uint64_t una_off;
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

static int edifact_header(struct edi_env *e, const unsigned char *p, long n,
			  struct err *err);
static void process_unb(struct edi_env *e);
static void convert_segment(struct edi_env *e);
static void missing_unb(struct edi_env *e);

static const struct edi_env_field ung_fields[] = {
	ENV_FIELD(grp_id, 1, 1, 0),       ENV_FIELD(grp_sender, 2, 1, 0),
	ENV_FIELD(grp_receiver, 3, 1, 0), ENV_FIELD(grp_date, 4, 1, 0),
	ENV_FIELD(grp_time, 4, 2, 0),     ENV_FIELD(grp_control, 5, 1, 0),
	ENV_FIELD(grp_version, 7, 1, 2),
};
static const struct edi_env_field unh_fields[] = {
	ENV_FIELD(set_control, 1, 1, 0),
	ENV_FIELD(set_type, 2, 1, 0),
	ENV_FIELD(set_version, 2, 2, 5),
};

/* UNG..UNE and UNH..UNT inside UNB..UNZ; groups are optional, so UNZ01
 * counts groups, or messages when there are none. */
const struct edi_env_desc edi_env_edifact = {
	.format = EDI_FMT_EDIFACT,
	.grp = {"UNG", EDI_TAG("UNG"), ung_fields, ENV_N(ung_fields),
		ENV_TRL("UNE", 1, 2, "UNG05", "message count")},
	.set = {"UNH", EDI_TAG("UNH"), unh_fields, ENV_N(unh_fields),
		ENV_TRL("UNT", 1, 2, "UNH01", "segment count")},
	.ic = ENV_TRL("UNZ", 1, 2, "UNB05", "group count"),
	.ic_counts = ENV_COUNT_GROUPS_OR_SETS,
	.tag_min = 3,
	.tag_len = "3",
	.set_word = "message",
	.final_ok = {EDI_TAG("UNZ")},
	.nfinal_ok = 1,
	.resync = "UNA\0UNB\0UNH\0",
	.not_this = "not EDIFACT: no UNB or UNH found",
	.svc_tag = "UNA",
	.peek = 4,
	.lead = {['U'] = 1},
	.header = edifact_header,
	.ic_hdr_code = EDI_TAG("UNB"),
	.ic_hdr = process_unb,
	.note = convert_segment,
	.recheck = missing_unb,
	.env_lead = {['U'] = 1},
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
	struct edi_core *c = &r->e.c;
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
 * when the segment holds bytes >= 0x80. UTF-8 is checked by lib/utf8.h's
 * validator (no overlongs, surrogates or code points past U+10FFFF), the
 * same answer the CSV reader gets; the warning names the first element
 * and byte it refused. */
static void convert_segment(struct edi_env *e)
{
	struct edifact_reader *r = (struct edifact_reader *)e;
	struct edi_core *c = &r->e.c;
	size_t i, k = 0;
	unsigned char *o = (unsigned char *)r->cb;
	int bad = 0, nonascii = 0;
	unsigned bad_elem = 0, bad_byte = 0;

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
					if (!bad) {
						bad = 1;
						bad_elem = t->elem;
						bad_byte = ch;
					}
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
				if (!bad) {
					bad = 1;
					bad_elem = t->elem;
					bad_byte = ch;
				}
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
			   "bytes not valid in %s (%s), the first in %s%02u: "
			   "0x%02X",
			   c->ctx.charset,
			   r->cs_mode == CS_TABLE ? "replaced by U+FFFD"
						  : "read as Latin-1",
			   c->seg.tag, bad_elem, bad_byte);
	}
}

/* ---- interchange start ------------------------------------------------- */

/* Opens an interchange at the current position with the pending UNA's
 * delimiters or the defaults (repetition decided by the UNB later). */
static void begin_ic(struct edifact_reader *r)
{
	struct edi_core *c = &r->e.c;
	struct edi_delims d = r->e.svc_pending ? r->una : una_default;

	env_begin_ic(&r->e);
	c->ctx.ic_open = 1;
	c->ctx.una = r->e.svc_pending;
	c->ctx.delims = d;
	d.rep = -1;
	core_set_delims(c, &d);
	if (!r->e.svc_pending) {
		c->ctx.ic_offset = c->roff + c->rpos;
		core_hash_begin(c, c->rpos, NULL, 0, NULL);
	} else {
		c->ctx.ic_offset = r->una_off;
	}
	r->e.svc_pending = 0;
	r->cs_mode = CS_PASS;
	r->cs_warned = 0;
}

/* UNA + six characters. */
static int read_una(struct edifact_reader *r, struct err *err)
{
	struct edi_core *c = &r->e.c;
	long n;
	const unsigned char *p;
	struct edi_delims d = una_default;
	int i, j;

	if (c->ctx.ic_open)
		env_close_all(&r->e, "before the next interchange");
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
	r->e.svc_pending = 1;
	r->e.in_garbage = 0;
	return 0;
bad:
	core_issue(c, EDI_ERROR, EDI_I_UNREADABLE, "UNA", 0,
		   "bad UNA '%.9s': delimiters must be distinct and not "
		   "letters or digits; interchange skipped",
		   (const char *)p);
	r->e.in_garbage = 1;
	return core_resync(c, "UNB\0UNA\0", err) < 0 ? -1 : 0;
}

/* After the UNB is tokenized: syntax, charset, repetition, values. */
static void process_unb(struct edi_env *e)
{
	struct edifact_reader *r = (struct edifact_reader *)e;
	struct edi_core *c = &r->e.c;
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
		r->e.hdr_bad = 1;
	}
	charset_setup(r, x->charset);
}

/* ---- driver ------------------------------------------------------------ */

/* A message without UNB (or a UNA without one) is read as an interchange
 * of its own so its counts are still checked: the engine reads its first
 * segment and calls this (the recheck hook) before checking it. */
static void missing_unb(struct edi_env *e)
{
	e->recheck = 0;
	core_issue(&e->c, EDI_ERROR, EDI_I_MISSING_HEADER, NULL, 0,
		   "missing UNB (message without interchange header)");
	e->hdr_bad = 1;
}

/* The engine's look at a segment start that may be a header. */
static int edifact_header(struct edi_env *e, const unsigned char *p, long n,
			  struct err *err)
{
	struct edifact_reader *r = (struct edifact_reader *)e;

	if (n >= 3 && !memcmp(p, "UNA", 3))
		return read_una(r, err);
	if (n >= 3 && !memcmp(p, "UNB", 3)) {
		begin_ic(r);
		return 1;
	}
	if (!e->c.ctx.ic_open &&
	    ((n >= 3 && !memcmp(p, "UNH", 3)) || e->svc_pending)) {
		begin_ic(r);
		e->recheck = 1;
	}
	return 1;
}

/* ---- public ------------------------------------------------------------ */

int edifact_reader_open_fd(struct edifact_reader **out, int fd,
			   const char *name, const struct edi_opts *opts,
			   struct err *err)
{
	struct edifact_reader *r = calloc(1, sizeof(*r));

	*out = NULL;
	if (!r)
		return err_set(err, E_NOMEM, "out of memory");
	if (env_open(&r->e, fd, name, opts, &edi_env_edifact, err) < 0) {
		free(r);
		return -1;
	}
	r->cbcap = 4 * r->e.c.smax + 4;
	r->cb = malloc(r->cbcap);
	if (!r->cb) {
		err_set(err, E_NOMEM, "out of memory");
		core_release(&r->e.c);
		free(r);
		return -1;
	}
	*out = r;
	return 0;
}

int edifact_reader_next(struct edifact_reader *r, struct edi_event *ev,
			struct err *err)
{
	return env_next(&r->e, ev, err);
}

const struct edi_ctx *edifact_reader_ctx(const struct edifact_reader *r)
{
	return &r->e.c.ctx;
}

void edifact_reader_stats(const struct edifact_reader *r,
			  unsigned long *nissues, unsigned long *nerrors,
			  unsigned long *nic, unsigned long *ngroups,
			  unsigned long *nsets)
{
	env_stats(&r->e, nissues, nerrors, nic, ngroups, nsets);
}

int edifact_reader_nul_seen(const struct edifact_reader *r)
{
	return r->e.c.nul_seen;
}

void edifact_reader_free(struct edifact_reader *r)
{
	if (!r)
		return;
	core_release(&r->e.c);
	free(r->cb);
	free(r);
}
