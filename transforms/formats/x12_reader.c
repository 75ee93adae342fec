/* x12_reader.c - see x12_reader.h. */
#include "x12_reader.h"
#include "edi_env.h"

#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ISA_MAX 160 /* raw ISA bytes we accept before giving up */

struct x12_reader {
	struct edi_env e;          /* first: the hooks cast back */
	unsigned long isa_seg;     /* seg_in_file of the current ISA */
	unsigned long isa_line;
	uint64_t isa_off;
};

static int x12_header(struct edi_env *e, const unsigned char *p, long n,
		      struct err *err);
static void isa16_missing(struct edi_env *e);

static const struct edi_env_field gs_fields[] = {
	ENV_FIELD(grp_id, 1, 1, 0),       ENV_FIELD(grp_sender, 2, 1, 0),
	ENV_FIELD(grp_receiver, 3, 1, 0), ENV_FIELD(grp_date, 4, 1, 0),
	ENV_FIELD(grp_time, 5, 1, 0),     ENV_FIELD(grp_control, 6, 1, 0),
	ENV_FIELD(grp_version, 8, 1, 0),
};
static const struct edi_env_field st_fields[] = {
	ENV_FIELD(set_type, 1, 1, 0),
	ENV_FIELD(set_control, 2, 1, 0),
	ENV_FIELD(set_version, 3, 1, 0),
};

/* GS..GE and ST..SE, the same inside ISA..IEA and DXS..DXE. */
#define X12_LEVELS                                                         \
	.format = EDI_FMT_X12,                                             \
	.grp = {"GS", EDI_TAG("GS"), gs_fields, ENV_N(gs_fields),          \
		ENV_TRL("GE", 1, 2, "GS06", "set count")},                  \
	.set = {"ST", EDI_TAG("ST"), st_fields, ENV_N(st_fields),          \
		ENV_TRL("SE", 1, 2, "ST02", "segment count")},              \
	.tag_min = 2, .tag_len = "2-3", .set_word = "transaction set",     \
	.between = {EDI_TAG("TA1"), EDI_TAG("ISB"), EDI_TAG("ISE")},        \
	.nbetween = 3, .final_ok = {EDI_TAG("IEA"), EDI_TAG("DXE")},       \
	.nfinal_ok = 2, .resync = "ISA\0DXS\0",                            \
	.not_this = "not X12: no ISA or DXS found", .peek = 3,             \
	.lead = {['I'] = 1, ['D'] = 1}, .header = x12_header,              \
	.recheck = isa16_missing,                                         \
	.env_lead = {['G'] = 1, ['S'] = 1, ['I'] = 1, ['D'] = 1}

const struct edi_env_desc edi_env_x12 = {
	X12_LEVELS,
	.ic = ENV_TRL("IEA", 1, 2, "ISA13", "group count"),
	.ic_counts = ENV_COUNT_GROUPS,
	.set_needs_grp = "ST outside a functional group (no GS)",
};

/* UCS/DEX: ST/SE directly inside DXS/DXE; DXE01 is the control number,
 * DXE02 counts sets. Once a file has had a DXS, its later interchanges
 * are read with this one too (ctx.dex stays set). */
const struct edi_env_desc edi_env_dex = {
	X12_LEVELS,
	.ic = ENV_TRL("DXE", 2, 1, "DXS04", "set count"),
	.ic_counts = ENV_COUNT_SETS,
	.grp_forbidden = "GS inside a DXS/DXE envelope",
};

static const unsigned char isa_width[17] = {
	3, 2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1};

static int x_alnum(int ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
	       (ch >= '0' && ch <= '9');
}

/* Copies value v with trailing spaces trimmed. */
static void cpy_trim(char *dst, size_t n, const char *v)
{
	size_t l;

	core_cpy(dst, n, v);
	l = strlen(dst);
	while (l && dst[l - 1] == ' ')
		dst[--l] = '\0';
}

/* The byte of the file for a (translated) delimiter value. */
static int file_byte(const struct edi_core *c, int v)
{
	int i;

	if (v < 0 || !c->ebcdic)
		return v;
	for (i = 0; i < 256; i++)
		if (c->xlat[i] == v)
			return i;
	return v;
}

/* ---- headers ----------------------------------------------------------- */

/* Reports an unusable header, closes the interchange it opened and skips
 * to the next one. */
static int header_unreadable(struct x12_reader *r, const char *what,
			     struct err *err)
{
	struct edi_core *c = &r->e.c;

	core_issue(c, EDI_ERROR, EDI_I_UNREADABLE, NULL, 0,
		   "unreadable %s (cannot determine delimiters): interchange "
		   "skipped",
		   what);
	c->ctx.ic_open = 1; /* so the end event counts it as broken */
	core_hash_end(c);
	core_push_end(c, EDI_EV_IC_END, 0);
	c->ctx.ic_open = 0;
	r->e.in_garbage = 1;
	return core_resync(c, r->e.d->resync, err) < 0 ? -1 : 0;
}

/* Starts the context of a new interchange at the current position. */
static void begin_ic(struct x12_reader *r)
{
	struct edi_core *c = &r->e.c;

	env_begin_ic(&r->e);
	c->ctx.seg_in_file++;
	c->ctx.seg_in_ic = 1;
	c->ctx.ic_offset = c->roff + c->rpos;
	r->isa_seg = c->ctx.seg_in_file;
	r->isa_line = c->line;
	r->isa_off = c->ctx.ic_offset;
	core_hash_begin(c, c->rpos, NULL, 0, NULL);
	c->seg.tag[0] = '\0';
	c->seg_line = c->line;
	c->seg_off = c->ctx.ic_offset;
}

/* Tokenizes the raw header bytes raw[0..n) (without terminator) as a
 * segment with element separator es only, then appends tail as data. */
static void tokenize_raw(struct x12_reader *r, const unsigned char *raw,
			 size_t n, int es, int tail, unsigned long line,
			 uint64_t off)
{
	struct edi_core *c = &r->e.c;
	struct edi_delims d = {-1, -1, -1, -1, -1, -1, {0}, 0};
	const unsigned char *p = raw;

	d.elem = es;
	core_set_delims(c, &d);
	core_seg_begin(c);
	core_seg_feed(c, &p, raw + n);
	if (tail >= 0)
		c->sb[c->slen++] = (char)tail;
	core_seg_end(c, 0);
	c->seg.line = c->seg_line = line;
	c->seg.offset = c->seg_off = off;
}

/* Byte 4 of an ISA is the element separator; it cannot be a letter,
 * digit, blank or line break. Returns 1 when es is usable, 0 after
 * reporting why not. */
static int isa_sep_ok(struct edi_core *c, int es)
{
	char shown[8];

	if (!(es < 0 || x_alnum(es) || es == ' ' || es == '\r' || es == '\n' ||
	      es == '\t' || es == 0))
		return 1;
	if (es < 0)
		snprintf(shown, sizeof(shown), "EOF");
	else if (es >= 0x21 && es < 0x7F)
		snprintf(shown, sizeof(shown), "'%c'", es);
	else
		snprintf(shown, sizeof(shown), "0x%02X", es);
	core_issue(c, EDI_ERROR, EDI_I_BAD_HEADER, "ISA", 0,
		   "bad ISA: element separator (byte 4) is %s", shown);
	return 0;
}

/* Reads ISA01..ISA15 into raw (cap bytes, *n used so far) up to the 16th
 * separator, noting in epos where each element starts. Up to there CR/LF
 * are line wrapping, not data (*wrapped). Returns 1, 0 when the header
 * is unreadable (reported), -1 with err. */
static int isa_elements(struct edi_core *c, int es, unsigned char *raw,
			size_t cap, size_t *n, size_t *epos, int *wrapped,
			struct err *err)
{
	unsigned nsep = 1;
	int ch;

	while (nsep < 16) {
		ch = core_getc(c, err);
		if (ch == -2)
			return -1;
		if (ch < 0) {
			core_issue(c, EDI_ERROR, EDI_I_BAD_HEADER, "ISA", 0,
				   "bad ISA: shorter than 106 characters "
				   "before end of data");
			return 0;
		}
		if (ch == '\r' || ch == '\n') {
			if (ch == '\n')
				c->line++;
			*wrapped = 1;
			continue;
		}
		if (*n == cap) {
			core_issue(c, EDI_ERROR, EDI_I_BAD_HEADER, "ISA", 0,
				   "bad ISA: no 16 elements within %zu bytes",
				   cap);
			return 0;
		}
		raw[(*n)++] = (unsigned char)ch;
		if (ch == es)
			epos[++nsep] = *n;
	}
	return 1;
}

/* A UTF-8 character as terminator: its continuation bytes follow; they
 * become the terminator's tail in d. */
static int isa_term_tail(struct edi_core *c, int term, struct edi_delims *d,
			 struct err *err)
{
	unsigned want, k;
	long av;

	if (c->ebcdic || term < 0xC2 || term > 0xF4)
		return 0;
	want = term >= 0xF0 ? 3 : term >= 0xE0 ? 2 : 1;
	av = core_fill(c, want, err);
	if (av < 0)
		return -1;
	for (k = 0; k < want && (long)k < av; k++)
		if ((c->rb[c->rpos + k] & 0xC0) != 0x80)
			break;
	if (k == want) {
		memcpy(d->seg_tail, c->rb + c->rpos, want);
		d->nseg_tail = want;
		c->rpos += want;
	}
	return 0;
}

/* Widths: ISA01..ISA15 between separators, ISA16 is one byte. Lists the
 * elements of the wrong width in bad ("" when none). */
static void isa_widths(const size_t *epos, char *bad, size_t badn)
{
	unsigned i;

	for (i = 1; i <= 15; i++) {
		size_t w = epos[i + 1] - 1 - epos[i];

		if (w != isa_width[i]) {
			size_t l = strlen(bad);

			snprintf(bad + l, badn - l, "%sISA%02u", l ? "," : "",
				 i);
		}
	}
}

/* Repetition separator: ISA11 from 00402 on, when not alphanumeric.
 * Returns it, or -1 for none. */
static int isa_rep(struct edi_core *c, const unsigned char *raw,
		   const size_t *epos, int es, int comp, int term)
{
	const unsigned char *v11 = raw + epos[11];
	size_t w11 = epos[12] - 1 - epos[11];
	char ver[6] = "";
	size_t w12 = epos[13] - 1 - epos[12];
	int rep = -1;

	if (w12 >= 5)
		memcpy(ver, raw + epos[12], 5);
	if (w11 == 1 && strcmp(ver, "00402") >= 0) {
		if (!x_alnum(*v11) && *v11 != ' ' && *v11 != es &&
		    *v11 != comp && *v11 != term)
			rep = *v11;
		else
			core_issue(c, EDI_WARNING, EDI_I_NOTE, "ISA", 11,
				   "ISA12 is %s but ISA11 is '%c': no "
				   "repetition separator",
				   ver, *v11);
	}
	return rep;
}

/* The interchange's parties, date, version and control number from the
 * tokenized ISA in c->seg. */
static void isa_ctx(struct edi_core *c)
{
	struct edi_ctx *x = &c->ctx;

	core_cpy(x->ic_sender_qual, sizeof(x->ic_sender_qual),
		 edi_seg_str(&c->seg, 5));
	cpy_trim(x->ic_sender, sizeof(x->ic_sender), edi_seg_str(&c->seg, 6));
	core_cpy(x->ic_receiver_qual, sizeof(x->ic_receiver_qual),
		 edi_seg_str(&c->seg, 7));
	cpy_trim(x->ic_receiver, sizeof(x->ic_receiver),
		 edi_seg_str(&c->seg, 8));
	core_cpy(x->ic_date, sizeof(x->ic_date), edi_seg_str(&c->seg, 9));
	core_cpy(x->ic_time, sizeof(x->ic_time), edi_seg_str(&c->seg, 10));
	core_cpy(x->ic_version, sizeof(x->ic_version),
		 edi_seg_str(&c->seg, 12));
	core_cpy(x->ic_control, sizeof(x->ic_control),
		 edi_seg_str(&c->seg, 13));
	core_cpy(x->ic_test, sizeof(x->ic_test), edi_seg_str(&c->seg, 15));
}

static int read_isa(struct x12_reader *r, struct err *err)
{
	struct edi_core *c = &r->e.c;
	struct edi_ctx *x = &c->ctx;
	unsigned char raw[ISA_MAX];
	size_t n = 0, epos[18];
	int es, comp, term, wrapped = 0, rep, rc;
	char bad[80] = "";
	struct edi_delims d = {-1, -1, -1, -1, -1, -1, {0}, 0};
	unsigned long line;
	uint64_t off;

	begin_ic(r);
	line = c->line;
	off = x->ic_offset;
	c->seg.tag[0] = 'I';
	c->seg.tag[1] = 'S';
	c->seg.tag[2] = 'A';
	c->seg.tag[3] = '\0';
	if (core_fill(c, 4, err) < 0)
		return -1;
	es = c->rlen - c->rpos >= 4 ? c->rb[c->rpos + 3] : -1;
	if (!isa_sep_ok(c, es))
		return header_unreadable(r, "ISA", err);
	c->rpos += 4;
	memcpy(raw, "ISA", 3);
	raw[3] = (unsigned char)es;
	n = 4;
	epos[0] = 0;
	epos[1] = 4;
	rc = isa_elements(c, es, raw, sizeof(raw), &n, epos, &wrapped, err);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return header_unreadable(r, "ISA", err);
	comp = core_getc(c, err);
	term = comp >= 0 ? core_getc(c, err) : comp;
	if (comp == -2 || term == -2)
		return -1;
	if (comp < 0 || term < 0) {
		core_issue(c, EDI_ERROR, EDI_I_BAD_HEADER, "ISA", 0,
			   "bad ISA: shorter than 106 characters before end "
			   "of data");
		return header_unreadable(r, "ISA", err);
	}
	if (term == '\n')
		c->line++;
	if (x_alnum(term) || term == ' ' || term == es || term == comp) {
		core_issue(c, EDI_ERROR, EDI_I_BAD_HEADER, "ISA", 0,
			   "bad ISA: segment terminator (byte 106) is '%c'",
			   term >= 0x20 && term < 0x7F ? term : '?');
		return header_unreadable(r, "ISA", err);
	}
	if (x_alnum(comp) || comp == es) {
		core_issue(c, EDI_ERROR, EDI_I_BAD_HEADER, "ISA", 16,
			   "bad ISA: component separator ISA16 is '%c'",
			   comp >= 0x20 && comp < 0x7F ? comp : '?');
		r->e.hdr_bad = 1;
	}
	if (isa_term_tail(c, term, &d, err))
		return -1;
	epos[17] = n + 1; /* ISA16 would start at n; one past its end */
	isa_widths(epos, bad, sizeof(bad));
	rep = isa_rep(c, raw, epos, es, comp, term);
	tokenize_raw(r, raw, n, es, comp, line, off);
	if (bad[0]) {
		core_issue(c, EDI_ERROR, EDI_I_BAD_HEADER, "ISA", 0,
			   "bad ISA: element width wrong for %s", bad);
		r->e.hdr_bad = 1;
	}
	if (wrapped)
		core_issue(c, EDI_WARNING, EDI_I_WRAPPED, "ISA", 0,
			   "ISA split by line breaks (removed)");
	d.elem = es;
	d.comp = comp;
	d.rep = rep;
	d.seg = term;
	core_set_delims(c, &d);
	x->delims = d;
	x->delims.elem = file_byte(c, es);
	x->delims.comp = file_byte(c, comp);
	x->delims.rep = file_byte(c, rep);
	x->delims.seg = file_byte(c, term);
	x->ic_open = 1;
	isa_ctx(c);
	/* "...*P*~" then LF: the '~' may be the terminator with ISA16
	 * missing; the next segment tells (it would end in '~' too). */
	r->e.recheck = term == '\r' || term == '\n';
	core_push_seg(c);
	return 0;
}

/* DXS*supplier*DX*version*control*receiver<terminator>: the UCS/DEX
 * envelope. The terminator is the first byte after the tag that is not a
 * letter, digit, space or the element separator. */
static int read_dxs(struct x12_reader *r, struct err *err)
{
	struct edi_core *c = &r->e.c;
	struct edi_ctx *x = &c->ctx;
	unsigned char raw[ISA_MAX];
	size_t n = 4;
	int es, ch;
	struct edi_delims d = {-1, -1, -1, -1, -1, -1, {0}, 0};
	unsigned long line;
	uint64_t off;

	begin_ic(r);
	x->dex = 1;
	r->e.d = &edi_env_dex;
	line = c->line;
	off = x->ic_offset;
	memcpy(c->seg.tag, "DXS", 4);
	es = c->rb[c->rpos + 3];
	if (x_alnum(es) || es == ' ' || es == '\r' || es == '\n') {
		core_issue(c, EDI_ERROR, EDI_I_BAD_HEADER, "DXS", 0,
			   "bad DXS: no element separator after the tag");
		return header_unreadable(r, "DXS", err);
	}
	memcpy(raw, c->rb + c->rpos, 4);
	c->rpos += 4;
	for (;;) {
		ch = core_getc(c, err);
		if (ch == -2)
			return -1;
		if (ch < 0 || n == sizeof(raw)) {
			core_issue(c, EDI_ERROR, EDI_I_BAD_HEADER, "DXS", 0,
				   "bad DXS: no segment terminator");
			return header_unreadable(r, "DXS", err);
		}
		if (x_alnum(ch) || ch == ' ' || ch == es) {
			raw[n++] = (unsigned char)ch;
			continue;
		}
		break;
	}
	if (ch == '\n')
		c->line++;
	tokenize_raw(r, raw, n, es, -1, line, off);
	d.elem = es;
	d.seg = ch;
	core_set_delims(c, &d);
	x->delims = d;
	x->ic_open = 1;
	cpy_trim(x->ic_sender, sizeof(x->ic_sender), edi_seg_str(&c->seg, 1));
	core_cpy(x->ic_version, sizeof(x->ic_version),
		 edi_seg_str(&c->seg, 3));
	core_cpy(x->ic_control, sizeof(x->ic_control),
		 edi_seg_str(&c->seg, 4));
	cpy_trim(x->ic_receiver, sizeof(x->ic_receiver),
		 edi_seg_str(&c->seg, 5));
	core_push_seg(c);
	return 0;
}

/* ---- segments inside an interchange ------------------------------------ */

/* The ISA ended in a line break: when the next segment ends like the ISA
 * did ('~' before the break), ISA16 is missing and '~' is the terminator.
 * Reports it on the ISA and goes on with '~' as the terminator and no
 * component separator. */
static void isa16_missing(struct edi_env *e)
{
	struct x12_reader *r = (struct x12_reader *)e;
	struct edi_core *c = &r->e.c;
	struct edi_ctx *x = &c->ctx;
	const struct edi_tok *t = &c->tok[c->ntok - 1];
	struct edi_delims d = x->delims;
	unsigned long sf = x->seg_in_file, si = x->seg_in_ic;
	unsigned long sl = c->seg_line;
	uint64_t so = c->seg_off;
	char cur[8];

	r->e.recheck = 0;
	if (!(c->ntok > 1 && t->len == 0 && t->comp > 1))
		return;
	memcpy(cur, c->seg.tag, sizeof(cur));
	x->seg_in_file = r->isa_seg;
	x->seg_in_ic = 1;
	c->seg_line = r->isa_line;
	c->seg_off = r->isa_off;
	core_issue(c, EDI_ERROR, EDI_I_BAD_HEADER, "ISA", 16,
		   "bad ISA: ISA16 missing ('%c' ends the ISA "
		   "and the following segments: it is the "
		   "segment terminator)",
		   d.comp >= 0x20 && d.comp < 0x7F ? d.comp : '?');
	x->seg_in_file = sf;
	x->seg_in_ic = si;
	c->seg_line = sl;
	c->seg_off = so;
	r->e.hdr_bad = 1;
	d.seg = d.comp;
	d.comp = -1;
	core_set_delims(c, &d);
	x->delims = d;
	core_seg_drop_last_empty(c);
	memcpy(c->seg.tag, cur, sizeof(cur));
}

/* The engine's look at a segment start that may be a header. */
static int x12_header(struct edi_env *e, const unsigned char *p, long n,
		      struct err *err)
{
	struct x12_reader *r = (struct x12_reader *)e;

	if (n >= 3 && p[0] == 'I' && p[1] == 'S' && p[2] == 'A')
		return read_isa(r, err);
	if (n >= 4 && p[0] == 'D' && p[1] == 'X' && p[2] == 'S' &&
	    (!e->c.ctx.ic_open || e->c.ctx.dex))
		return read_dxs(r, err);
	return 1;
}

/* ---- public ------------------------------------------------------------ */

/* EBCDIC input: the ISA is C9 E2 C1. Builds the CP037 -> Latin-1 table
 * with iconv and translates what is already buffered. */
static int setup_ebcdic(struct edi_core *c, struct err *err)
{
	iconv_t cd = iconv_open("ISO-8859-1", "CP037");
	unsigned i;

	if (cd == (iconv_t)-1)
		return err_set(err, E_CONFIG,
			       "'%s' is EBCDIC but iconv has no CP037", c->name);
	for (i = 0; i < 256; i++) {
		char in = (char)i, out[4];
		char *ip = &in, *op = out;
		size_t il = 1, ol = sizeof(out);

		if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1 || ol != 3)
			c->xlat[i] = '?';
		else
			c->xlat[i] = (unsigned char)out[0];
		iconv(cd, NULL, NULL, NULL, NULL);
	}
	iconv_close(cd);
	c->ebcdic = 1;
	c->ctx.ebcdic = 1;
	for (i = (unsigned)c->rpos; i < c->rlen; i++)
		c->rb[i] = c->xlat[c->rb[i]];
	/* core_fill looked at these bytes untranslated */
	if (memchr(c->rb + c->rpos, 0, c->rlen - c->rpos))
		c->nul_seen = 1;
	return 0;
}

int x12_reader_open_fd(struct x12_reader **out, int fd, const char *name,
		       const struct edi_opts *opts, struct err *err)
{
	struct x12_reader *r = calloc(1, sizeof(*r));
	struct edi_core *c;
	struct edi_opts o = {0, 0};

	*out = NULL;
	if (!r)
		return err_set(err, E_NOMEM, "out of memory");
	if (opts)
		o = *opts;
	if (o.max_segment && o.max_segment < 256)
		o.max_segment = 256; /* an ISA must fit */
	if (env_open(&r->e, fd, name, &o, &edi_env_x12, err) < 0) {
		free(r);
		return -1;
	}
	c = &r->e.c;
	if (core_skip_ws(c, err) < 0 || core_fill(c, 3, err) < 0)
		goto fail;
	if (c->rlen - c->rpos >= 3 &&
	    !memcmp(c->rb + c->rpos, "\xC9\xE2\xC1", 3) &&
	    setup_ebcdic(c, err) < 0)
		goto fail;
	*out = r;
	return 0;
fail:
	core_release(c);
	free(r);
	return -1;
}

int x12_reader_next(struct x12_reader *r, struct edi_event *ev,
		    struct err *err)
{
	return env_next(&r->e, ev, err);
}

const struct edi_ctx *x12_reader_ctx(const struct x12_reader *r)
{
	return &r->e.c.ctx;
}

void x12_reader_stats(const struct x12_reader *r, unsigned long *nissues,
		      unsigned long *nerrors, unsigned long *nic,
		      unsigned long *ngroups, unsigned long *nsets)
{
	env_stats(&r->e, nissues, nerrors, nic, ngroups, nsets);
}

int x12_reader_nul_seen(const struct x12_reader *r)
{
	return r->e.c.nul_seen;
}

void x12_reader_free(struct x12_reader *r)
{
	if (!r)
		return;
	core_release(&r->e.c);
	free(r);
}
