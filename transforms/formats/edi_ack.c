/* edi_ack.c - X12 997/999 and EDIFACT CONTRL from the mapping driver's
 * syntax verdicts (see edi_ack.h; codes in docs/mapping.md
 * "Acknowledgments").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edi_ack.h"
#include "lib/buf.h"

#define NO_GRP ((size_t)-1)

struct aset {
	char type[8], control[16], version[24];
	int ok, unsupported, too_large;
	int code;                 /* enum edi_issue_code, 0 = none */
	char seg_id[8];
	unsigned long pos;        /* segment position in the set, 0 = n/a */
	unsigned elem;
	char bad[40];
	unsigned long nseg;
	size_t ic, grp;
};

struct agrp {
	char id[8], sender[40], receiver[40], control[16], version[16];
	unsigned long index;
	int ended, ok, code;
	size_t ic;
};

struct aic {
	int x12, dex, ended, ok, skipped, code;
	char seg_id[8];
	unsigned long index;
	char sender[40], sender_q[8], receiver[40], receiver_q[8];
	char control[16], version[16], test[4], charset[8], syntax[4];
};

struct edi_ack_coll {
	int x12_kind, edifact_on;
	struct aset *sets;
	size_t nsets, capsets;
	struct agrp *grps;
	size_t ngrps, capgrps;
	struct aic *ics;
	size_t nics, capics;
};

static int grow(void **p, size_t *cap, size_t n, size_t size,
		struct err *err)
{
	if (n < *cap)
		return 0;
	if (alloc_grow(p, size, n + 1, cap))
		return err_set(err, E_NOMEM, "out of memory");
	return 0;
}

#define CP(dst, src) snprintf((dst), sizeof(dst), "%s", (src))

int edi_ack_new(struct edi_ack_coll **out, int x12_kind, int edifact_on,
		struct err *err)
{
	struct edi_ack_coll *c = calloc(1, sizeof(*c));

	if (!c)
		return err_set(err, E_NOMEM, "out of memory");
	c->x12_kind = x12_kind;
	c->edifact_on = edifact_on;
	*out = c;
	return 0;
}

void edi_ack_free(struct edi_ack_coll *c)
{
	if (!c)
		return;
	free(c->sets);
	free(c->grps);
	free(c->ics);
	free(c);
}

static struct aic *cur_ic(struct edi_ack_coll *c, const struct edi_ctx *x,
			  size_t *idx, struct err *err)
{
	struct aic *ic;

	if (c->nics && !c->ics[c->nics - 1].ended &&
	    c->ics[c->nics - 1].index == x->ic_index) {
		*idx = c->nics - 1;
		return &c->ics[*idx];
	}
	if (grow((void **)&c->ics, &c->capics, c->nics, sizeof(*c->ics), err))
		return NULL;
	ic = &c->ics[c->nics];
	memset(ic, 0, sizeof(*ic));
	ic->x12 = x->format == EDI_FMT_X12;
	ic->dex = x->dex;
	ic->ok = 1;
	ic->index = x->ic_index;
	CP(ic->sender, x->ic_sender);
	CP(ic->sender_q, x->ic_sender_qual);
	CP(ic->receiver, x->ic_receiver);
	CP(ic->receiver_q, x->ic_receiver_qual);
	CP(ic->control, x->ic_control);
	CP(ic->version, x->ic_version);
	CP(ic->test, x->ic_test);
	CP(ic->charset, x->charset);
	CP(ic->syntax, x->syntax_version);
	*idx = c->nics++;
	return ic;
}

static struct agrp *cur_grp(struct edi_ack_coll *c, size_t ic,
			    const struct edi_ctx *x, size_t *idx,
			    struct err *err)
{
	struct agrp *g;

	if (c->ngrps && c->grps[c->ngrps - 1].ic == ic &&
	    !c->grps[c->ngrps - 1].ended &&
	    c->grps[c->ngrps - 1].index == x->grp_index) {
		*idx = c->ngrps - 1;
		return &c->grps[*idx];
	}
	if (grow((void **)&c->grps, &c->capgrps, c->ngrps, sizeof(*c->grps),
		 err))
		return NULL;
	g = &c->grps[c->ngrps];
	memset(g, 0, sizeof(*g));
	g->ic = ic;
	g->ok = 1;
	g->index = x->grp_index;
	CP(g->id, x->grp_id);
	CP(g->sender, x->grp_sender);
	CP(g->receiver, x->grp_receiver);
	CP(g->control, x->grp_control);
	CP(g->version, x->grp_version);
	*idx = c->ngrps++;
	return g;
}

int edi_ack_verdict(void *ud, const struct mapping_verdict *v,
		    struct err *err)
{
	struct edi_ack_coll *c = ud;
	const struct edi_ctx *x = v->ctx;
	size_t ici, gi = NO_GRP;
	struct aic *ic = cur_ic(c, x, &ici, err);
	struct agrp *g;
	struct aset *s;

	if (!ic)
		return -1;
	if (v->level == MAPPING_V_IC) {
		ic->ended = 1;
		ic->ok = v->ok;
		ic->skipped = v->skipped;
		if (v->issue) {
			ic->code = v->issue->code;
			CP(ic->seg_id, v->issue->seg_id);
		}
		return 0;
	}
	if (v->level == MAPPING_V_GROUP) {
		if (!(g = cur_grp(c, ici, x, &gi, err)))
			return -1;
		g->ended = 1;
		g->ok = v->ok;
		g->code = v->issue ? v->issue->code : 0;
		return 0;
	}
	if (x->grp_open && x->grp_index) {
		if (!cur_grp(c, ici, x, &gi, err))
			return -1;
	}
	if (grow((void **)&c->sets, &c->capsets, c->nsets, sizeof(*c->sets),
		 err))
		return -1;
	s = &c->sets[c->nsets++];
	memset(s, 0, sizeof(*s));
	s->ic = ici;
	s->grp = gi;
	CP(s->type, x->set_type);
	CP(s->control, x->set_control);
	CP(s->version, x->set_version);
	s->ok = v->ok;
	s->unsupported = v->unsupported;
	s->too_large = v->too_large;
	s->nseg = v->nseg;
	if (v->issue) {
		s->code = v->issue->code;
		CP(s->seg_id, v->issue->seg_id);
		s->pos = v->issue->seg_in_set;
		s->elem = v->issue->elem;
		CP(s->bad, v->bad_value ? v->bad_value : "");
	}
	return 0;
}

/* Acknowledgment i: an X12 group (*grp) or an EDIFACT interchange. */
static int unit_at(const struct edi_ack_coll *c, size_t i, size_t *ic,
		   size_t *grp)
{
	size_t k, n = 0;

	for (k = 0; k < c->nics; k++) {
		const struct aic *a = &c->ics[k];
		size_t g;

		if (!a->ended || a->skipped)
			continue;
		if (!a->x12) {
			if (!c->edifact_on)
				continue;
			if (n++ == i) {
				*ic = k;
				*grp = NO_GRP;
				return 1;
			}
			continue;
		}
		if (a->dex || c->x12_kind == EDI_ACK_X12_NONE)
			continue;
		for (g = 0; g < c->ngrps; g++)
			if (c->grps[g].ic == k && n++ == i) {
				*ic = k;
				*grp = g;
				return 1;
			}
	}
	return 0;
}

size_t edi_ack_count(const struct edi_ack_coll *c)
{
	size_t n = 0, ic, g;

	while (unit_at(c, n, &ic, &g))
		n++;
	return n;
}

static const char *x12_type(const struct edi_ack_coll *c,
			    const struct agrp *g)
{
	if (c->x12_kind == EDI_ACK_997)
		return "997";
	if (c->x12_kind == EDI_ACK_999)
		return "999";
	return strncmp(g->version, "00501", 5) ? "997" : "999";
}

static void partner_name(const char *id, char *out, size_t n)
{
	size_t i, j = 0;

	for (i = 0; id[i] && j + 1 < n; i++) {
		char ch = id[i];

		if (ch == ' ')
			continue;
		out[j++] = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
				   (ch >= '0' && ch <= '9') || ch == '-' ||
				   ch == '.'
			   ? ch
			   : '_';
	}
	out[j] = '\0';
	if (!j)
		snprintf(out, n, "partner");
}

static void counts(const struct edi_ack_coll *c, size_t ic, size_t grp,
		   unsigned long *sets, unsigned long *acc)
{
	size_t k;

	*sets = *acc = 0;
	for (k = 0; k < c->nsets; k++) {
		const struct aset *s = &c->sets[k];

		if (s->ic != ic || (grp != NO_GRP && s->grp != grp))
			continue;
		(*sets)++;
		*acc += s->ok != 0;
	}
}

void edi_ack_key(const struct edi_ack_coll *c, size_t i,
		 struct edi_ack_key *k)
{
	size_t ic = 0, grp = NO_GRP;
	const struct aic *a;

	memset(k, 0, sizeof(*k));
	if (!unit_at(c, i, &ic, &grp))
		return;
	a = &c->ics[ic];
	k->format = a->x12 ? "x12" : "edifact";
	k->sender = a->sender;
	k->receiver = a->receiver;
	k->control = a->control;
	k->group = grp == NO_GRP ? "" : c->grps[grp].control;
	k->type = grp == NO_GRP ? "CONTRL" : x12_type(c, &c->grps[grp]);
	snprintf(k->counter, sizeof(k->counter), "%s:%s:%s:%s:%s", k->format,
		 a->receiver_q, a->receiver, a->sender_q, a->sender);
	partner_name(a->sender, k->partner, sizeof(k->partner));
	counts(c, ic, grp, &k->sets, &k->accepted);
}

/* ---- X12 ------------------------------------------------------------- */

/* A value without the delimiters of the acknowledgment (* ~ > ^) or
 * control characters, cut to max bytes. */
static void x12_val(struct buf *b, const char *s, size_t max)
{
	size_t i;

	for (i = 0; s[i] && i < max; i++) {
		char ch = s[i];

		buf_addc(b, (unsigned char)ch < 0x20 || ch == '*' || ch == '~' ||
				     ch == '>' || ch == '^'
			     ? ' '
			     : ch);
	}
}

static void x12_pad(struct buf *b, const char *s, size_t w)
{
	size_t n = strlen(s);

	x12_val(b, s, w);
	for (; n < w; n++)
		buf_addc(b, ' ');
}

/* AK5/IK5 code and AK3/AK4 detail of a rejected set. */
static void x12_set_codes(const struct aset *s, const char **ak5,
			  const char **ak3, const char **ak4,
			  const char **ref)
{
	int located = s->pos > 0;

	*ak3 = *ak4 = *ref = NULL;
	if (s->unsupported) {
		*ak5 = "1";
		return;
	}
	*ak5 = "5";
	switch (s->code) {
	case EDI_I_COUNT:
		*ak5 = "4";
		*ak3 = "8";
		*ak4 = "7";
		*ref = !strcmp(s->seg_id, "SE") && s->elem == 1 ? "96" : NULL;
		break;
	case EDI_I_CONTROL:
	case EDI_I_PADDING:
		*ak5 = "3";
		*ak3 = "8";
		*ak4 = "7";
		*ref = !strcmp(s->seg_id, "SE") && s->elem == 2 ? "329" : NULL;
		break;
	case EDI_I_MISSING_TRAILER:
		*ak5 = "2";
		*ak3 = "3";
		located = 1;
		break;
	case EDI_I_DUPLICATE:
		*ak5 = "23";
		located = 0;
		break;
	case EDI_I_UNEXPECTED:
		*ak3 = "2";
		break;
	case EDI_I_BAD_TAG:
		*ak3 = "1";
		break;
	case EDI_I_CHARSET:
		*ak3 = "8";
		*ak4 = "6";
		break;
	default:
		*ak3 = s->elem ? "8" : "2";
		*ak4 = s->elem ? "7" : NULL;
		break;
	}
	if (!located)
		*ak3 = *ak4 = NULL;
	if (!s->elem)
		*ak4 = NULL;
}

static const char *x12_ak9_code(int code)
{
	switch (code) {
	case EDI_I_COUNT: return "5";
	case EDI_I_CONTROL:
	case EDI_I_PADDING: return "4";
	case EDI_I_MISSING_TRAILER: return "3";
	default: return NULL;
	}
}

#define SEG_END "~\n"

static int render_x12(const struct edi_ack_coll *c, size_t ic, size_t grp,
		      int64_t control, const struct tm *t, struct buf *b)
{
	const struct aic *a = &c->ics[ic];
	const struct agrp *g = &c->grps[grp];
	const char *type = x12_type(c, g);
	int v999 = !strcmp(type, "999");
	const char *ver = a->version[0] ? a->version : "00401";
	const char *gver = g->version[0] ? g->version : "004010";
	unsigned long nseg = 0, sets, acc;
	char ctl[16];
	const char *st;
	size_t k;

	snprintf(ctl, sizeof(ctl), "%09lld", (long long)control);
	buf_adds(b, "ISA*00*          *00*          *");
	x12_pad(b, a->receiver_q[0] ? a->receiver_q : "ZZ", 2);
	buf_addc(b, '*');
	x12_pad(b, a->receiver, 15);
	buf_addc(b, '*');
	x12_pad(b, a->sender_q[0] ? a->sender_q : "ZZ", 2);
	buf_addc(b, '*');
	x12_pad(b, a->sender, 15);
	buf_addf(b, "*%02d%02d%02d*%02d%02d*%c*", t->tm_year % 100,
		 t->tm_mon + 1, t->tm_mday, t->tm_hour, t->tm_min,
		 strcmp(ver, "00402") >= 0 ? '^' : 'U');
	x12_pad(b, ver, 5);
	buf_addf(b, "*%s*0*%c*>" SEG_END, ctl,
		 a->test[0] == 'T' ? 'T' : 'P');
	buf_adds(b, "GS*FA*");
	x12_val(b, g->receiver[0] ? g->receiver : a->receiver, 15);
	buf_addc(b, '*');
	x12_val(b, g->sender[0] ? g->sender : a->sender, 15);
	buf_addf(b, "*%04d%02d%02d*%02d%02d*%lld*X*", t->tm_year + 1900,
		 t->tm_mon + 1, t->tm_mday, t->tm_hour, t->tm_min,
		 (long long)control);
	x12_val(b, gver, 12);
	buf_adds(b, SEG_END);
	buf_addf(b, "ST*%s*0001%s" SEG_END, type, v999 ? "*005010X231A1" : "");
	buf_adds(b, "AK1*");
	x12_val(b, g->id, 2);
	buf_addc(b, '*');
	x12_val(b, g->control, 9);
	if (v999) {
		buf_addc(b, '*');
		x12_val(b, gver, 12);
	}
	buf_adds(b, SEG_END);
	nseg = 2;
	for (k = 0; k < c->nsets; k++) {
		const struct aset *s = &c->sets[k];
		const char *ak5, *ak3, *ak4, *ref;

		if (s->grp != grp)
			continue;
		buf_adds(b, "AK2*");
		x12_val(b, s->type, 3);
		buf_addc(b, '*');
		x12_val(b, s->control, 9);
		if (v999 && s->version[0]) {
			buf_addc(b, '*');
			x12_val(b, s->version, 35);
		}
		buf_adds(b, SEG_END);
		nseg++;
		if (s->ok) {
			buf_addf(b, "%s*A" SEG_END, v999 ? "IK5" : "AK5");
			nseg++;
			continue;
		}
		x12_set_codes(s, &ak5, &ak3, &ak4, &ref);
		if (ak3) {
			/* a missing SE is named where it should have been */
			int miss = s->code == EDI_I_MISSING_TRAILER;

			buf_addf(b, "%s*", v999 ? "IK3" : "AK3");
			x12_val(b, miss || !s->seg_id[0] ? "SE" : s->seg_id, 3);
			buf_addf(b, "*%lu**%s" SEG_END,
				 miss || !s->pos ? s->nseg + 1 : s->pos, ak3);
			nseg++;
		}
		if (ak4) {
			buf_addf(b, "%s*%u*%s*%s", v999 ? "IK4" : "AK4", s->elem,
				 ref ? ref : "", ak4);
			if (s->bad[0]) {
				buf_addc(b, '*');
				x12_val(b, s->bad, 99);
			}
			buf_adds(b, SEG_END);
			nseg++;
		}
		buf_addf(b, "%s*R*%s" SEG_END, v999 ? "IK5" : "AK5", ak5);
		nseg++;
	}
	counts(c, ic, grp, &sets, &acc);
	st = !sets ? (g->ok ? "A" : "R")
	     : acc == sets ? (g->ok ? "A" : "E")
	     : acc == 0 ? "R"
			: "P";
	buf_addf(b, "AK9*%s*%lu*%lu*%lu", st, sets, sets, acc);
	if (!g->ok && x12_ak9_code(g->code))
		buf_addf(b, "*%s", x12_ak9_code(g->code));
	buf_adds(b, SEG_END);
	nseg += 2;
	buf_addf(b, "SE*%lu*0001" SEG_END, nseg);
	buf_addf(b, "GE*1*%lld" SEG_END, (long long)control);
	buf_addf(b, "IEA*1*%s" SEG_END, ctl);
	return 0;
}

/* ---- EDIFACT --------------------------------------------------------- */

/* A value with the release character before + : ' ? (composite: ':'
 * kept as the component separator). */
static void ef_val(struct buf *b, const char *s, int composite)
{
	for (; *s; s++) {
		if (*s == '+' || *s == '\'' || *s == '?' ||
		    (*s == ':' && !composite))
			buf_addc(b, '?');
		buf_addc(b, (unsigned char)*s < 0x20 ? ' ' : *s);
	}
}

static void ef_party(struct buf *b, const char *id, const char *q)
{
	ef_val(b, id, 0);
	if (q[0]) {
		buf_addc(b, ':');
		ef_val(b, q, 0);
	}
}

struct ef_codes {
	const char *code, *seg, *elem; /* UCM 0085, 0013, S011 */
	const char *ucs;               /* UCS/UCD 0085 when located inside */
};

static void ef_msg_codes(const struct aset *s, struct ef_codes *k)
{
	memset(k, 0, sizeof(*k));
	if (s->unsupported) {
		k->code = "14";
		k->seg = "UNH";
		k->elem = "0065";
		return;
	}
	switch (s->code) {
	case EDI_I_COUNT:
		k->code = "29", k->seg = "UNT", k->elem = "0074";
		return;
	case EDI_I_CONTROL:
	case EDI_I_PADDING:
		k->code = "28", k->seg = "UNT", k->elem = "0062";
		return;
	case EDI_I_MISSING_TRAILER:
		k->code = "13", k->seg = "UNT";
		return;
	case EDI_I_DUPLICATE:
		k->code = "26", k->seg = "UNH", k->elem = "0062";
		return;
	default:
		break;
	}
	if (s->pos > 0 && strcmp(s->seg_id, "UNH") && strcmp(s->seg_id, "UNT")) {
		k->ucs = s->code == EDI_I_UNEXPECTED ? "15"
			 : s->code == EDI_I_BAD_TAG  ? "14"
			 : s->code == EDI_I_CHARSET  ? "21"
						     : "12";
		return;
	}
	k->code = "18";
}

static const char *ef_ic_code(int code, const char **seg, const char **elem)
{
	*seg = *elem = NULL;
	switch (code) {
	case EDI_I_COUNT: *seg = "UNZ", *elem = "0036"; return "29";
	case EDI_I_CONTROL:
	case EDI_I_PADDING: *seg = "UNZ", *elem = "0020"; return "28";
	case EDI_I_MISSING_TRAILER: *seg = "UNZ"; return "13";
	default: return "18";
	}
}

static void ef_ucm(struct buf *b, const struct aset *s, unsigned long *nseg)
{
	struct ef_codes k;

	buf_adds(b, "UCM+");
	ef_val(b, s->control, 0);
	buf_addc(b, '+');
	ef_val(b, s->type, 0);
	if (s->version[0]) {
		buf_addc(b, ':');
		ef_val(b, s->version, 1);
	}
	if (s->ok) {
		buf_adds(b, "+7'\n");
		(*nseg)++;
		return;
	}
	ef_msg_codes(s, &k);
	buf_adds(b, "+4");
	if (k.code) {
		buf_addf(b, "+%s+%s", k.code, k.seg);
		if (k.elem)
			buf_addf(b, "+%s", k.elem);
	}
	buf_adds(b, "'\n");
	(*nseg)++;
	if (k.ucs) {
		buf_addf(b, "UCS+%lu+%s'\n", s->pos, k.ucs);
		(*nseg)++;
		if (s->elem) {
			buf_addf(b, "UCD+%s+%u'\n", k.ucs, s->elem);
			(*nseg)++;
		}
	}
}

static int render_edifact(const struct edi_ack_coll *c, size_t ic,
			  int64_t control, const struct tm *t, struct buf *b)
{
	const struct aic *a = &c->ics[ic];
	int v4 = !strcmp(a->syntax, "4");
	unsigned long nseg = 0, sets, acc;
	const char *code, *seg, *elem;
	size_t k, g;
	int any_grp = 0;

	buf_adds(b, "UNA:+.? '\nUNB+");
	ef_val(b, a->charset[0] ? a->charset : "UNOC", 0);
	buf_addc(b, ':');
	ef_val(b, a->syntax[0] ? a->syntax : "3", 0);
	buf_addc(b, '+');
	ef_party(b, a->receiver, a->receiver_q);
	buf_addc(b, '+');
	ef_party(b, a->sender, a->sender_q);
	if (v4)
		buf_addf(b, "+%04d%02d%02d", t->tm_year + 1900, t->tm_mon + 1,
			 t->tm_mday);
	else
		buf_addf(b, "+%02d%02d%02d", t->tm_year % 100, t->tm_mon + 1,
			 t->tm_mday);
	buf_addf(b, ":%02d%02d+%lld'\n", t->tm_hour, t->tm_min,
		 (long long)control);
	buf_addf(b, "UNH+1+CONTRL:%s:UN'\n", v4 ? "4:1" : "2:2");
	nseg = 1;
	counts(c, ic, NO_GRP, &sets, &acc);
	buf_adds(b, "UCI+");
	ef_val(b, a->control, 0);
	buf_addc(b, '+');
	ef_party(b, a->sender, a->sender_q);
	buf_addc(b, '+');
	ef_party(b, a->receiver, a->receiver_q);
	if (a->ok) {
		buf_adds(b, "+7");
	} else {
		code = ef_ic_code(a->code, &seg, &elem);
		buf_addf(b, "+%s+%s", acc ? "7" : "4", code);
		if (seg)
			buf_addf(b, "+%s", seg);
		if (elem)
			buf_addf(b, "+%s", elem);
	}
	buf_adds(b, "'\n");
	nseg++;
	for (k = 0; k < c->nsets; k++)
		if (c->sets[k].ic == ic && c->sets[k].grp == NO_GRP)
			ef_ucm(b, &c->sets[k], &nseg);
	for (g = 0; g < c->ngrps; g++) {
		const struct agrp *gr = &c->grps[g];
		unsigned long gs = 0, ga = 0;

		if (gr->ic != ic)
			continue;
		any_grp = 1;
		counts(c, ic, g, &gs, &ga);
		buf_adds(b, "UCF+");
		ef_val(b, gr->control, 0);
		buf_addc(b, '+');
		ef_val(b, gr->sender, 0);
		buf_addc(b, '+');
		ef_val(b, gr->receiver, 0);
		if (gr->ok) {
			buf_adds(b, "+7");
		} else {
			code = ef_ic_code(gr->code, &seg, &elem);
			buf_addf(b, "+%s+%s", ga ? "7" : "4", code);
			if (seg)
				buf_adds(b, "+UNE");
			if (elem)
				buf_addf(b, "+%s",
					 !strcmp(elem, "0036") ? "0060" : "0048");
		}
		buf_adds(b, "'\n");
		nseg++;
		for (k = 0; k < c->nsets; k++)
			if (c->sets[k].grp == g)
				ef_ucm(b, &c->sets[k], &nseg);
	}
	(void)any_grp;
	nseg++;
	buf_addf(b, "UNT+%lu+1'\n", nseg);
	buf_addf(b, "UNZ+1+%lld'\n", (long long)control);
	return 0;
}

int edi_ack_render(const struct edi_ack_coll *c, size_t i, int64_t control,
		   time_t at, struct buf *out, char *name, size_t namen,
		   struct err *err)
{
	size_t ic, grp;
	struct tm t;
	char partner[40];

	if (!unit_at(c, i, &ic, &grp))
		return err_set(err, E_INTERNAL, "no acknowledgment %zu", i);
	if (control < 1 || control > 999999999)
		return err_set(err, E_INTERNAL,
			       "acknowledgment control number %lld out of "
			       "range 1-999999999",
			       (long long)control);
	gmtime_r(&at, &t);
	partner_name(c->ics[ic].sender, partner, sizeof(partner));
	if (grp != NO_GRP) {
		const char *type = x12_type(c, &c->grps[grp]);

		snprintf(name, namen, "%s_%s_%09lld.x12", type, partner,
			 (long long)control);
		render_x12(c, ic, grp, control, &t, out);
	} else {
		snprintf(name, namen, "CONTRL_%s_%09lld.edi", partner,
			 (long long)control);
		render_edifact(c, ic, control, &t, out);
	}
	if (out->err)
		return err_set(err, E_TOOBIG, "acknowledgment too large");
	return 0;
}
