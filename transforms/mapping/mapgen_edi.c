/* mapgen_edi.c - the plan for an X12 or EDIFACT file: one record per
 * item line (X12 LIN, PO1, IT1, SLN, W01, G83; EDIFACT LIN), the item
 * from the product id qualifiers present (X12 UP/EN/VN/BP/IN ...,
 * EDIFACT LIN C212 and PIA), quantities from the QTY (or SDQ, PO1)
 * qualifiers, prices from CTP/PRI, locations from LOC/NAD/N1 and dates
 * from DTM/BIA/XQ or, last, the envelope. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mapgen_int.h"

static const struct mapgen_seg *seg_get(const struct mapgen_edi *e,
					const char *tag)
{
	size_t i;

	for (i = 0; i < e->nseg; i++)
		if (!strcmp(e->seg[i].tag, tag))
			return &e->seg[i];
	return NULL;
}

static const struct mapgen_epos *pos_get(const struct mapgen_seg *s,
					 unsigned elem, unsigned comp)
{
	size_t i;

	for (i = 0; s && i < s->npos; i++)
		if (s->pos[i].elem == elem && s->pos[i].comp == comp)
			return &s->pos[i];
	return NULL;
}

static int has_code(const struct mapgen_epos *p, const char *q)
{
	const char *c = p ? p->codes : NULL;
	size_t n = strlen(q);

	while (c && *c) {
		if (!strncmp(c, q, n) && (c[n] == ' ' || !c[n]))
			return 1;
		c = strchr(c, ' ');
		if (c)
			c++;
	}
	return 0;
}

/* The code of p with the lowest rank(x12, code) >= 0 into out; 0 when
 * none fits. With fallback the first code is taken when none ranks. */
static int best_code(const struct mapgen_epos *p, int x12,
		     int (*rank)(int, const char *), int fallback, char *out,
		     size_t n)
{
	const char *c = p ? p->codes : NULL;
	int best = -1;

	out[0] = 0;
	while (c && *c) {
		const char *e = strchr(c, ' ');
		size_t len = e ? (size_t)(e - c) : strlen(c);
		char q[24];
		int r;

		if (len < sizeof(q)) {
			memcpy(q, c, len);
			q[len] = 0;
			r = rank(x12, q);
			if ((r >= 0 && (best < 0 || r < best)) ||
			    (fallback && !out[0])) {
				if (r >= 0)
					best = r;
				str_copy_cut(out, n, q);
			}
		}
		c = e ? e + 1 : NULL;
	}
	return out[0] != 0;
}

/* A date() format for a value by its length (CCYYMMDD, YYMMDD, ...). */
static const char *fmt_by_len(const char *v)
{
	size_t n = v ? strlen(v) : 0;

	return n == 8 ? "%Y%m%d" : n == 6 ? "%y%m%d" : n == 12 ? "%Y%m%d%H%M"
	     : NULL;
}

/* For best_code() with fallback: the first code. */
static int first_rank(int x12, const char *q)
{
	(void)x12;
	(void)q;
	return -1;
}

static const char *num(const struct mapgen_in *in)
{
	return in->edi.decimal_comma ? "decimal(comma:true)" : "decimal";
}

/* Appends " A B C" (the codes of a qualifier position) to a field's
 * note. */
static void note_codes(struct plan *p, enum pf f, const char *codes)
{
	size_t n = strlen(p->note[f]);

	snprintf(p->note[f] + n, sizeof(p->note[f]) - n, " %s", codes ? codes : "");
}

/* ---- X12 --------------------------------------------------------------- */

static const struct x12_item {
	const char *tag;
	unsigned pairs;   /* first qualifier of the qualifier/value pairs */
	unsigned id;      /* an element that is an id by itself (UPC) */
	unsigned qty, price;
} x12_items[] = {
	{"LIN", 2, 0, 0, 0},
	{"PO1", 6, 0, 2, 4},
	{"IT1", 6, 0, 2, 4},
	{"SLN", 9, 0, 4, 6},
	{"W01", 4, 3, 1, 0},
	{"G83", 0, 4, 2, 9},
};

struct x12_ids {
	char sku[64], gtin[64], supp[64];
	char other[64];   /* the first pair with a qualifier not known */
	int rs, rg, rv;
};

static void x12_pairs(const struct mapgen_seg *s, const struct x12_item *it,
		      struct x12_ids *ids)
{
	unsigned el;

	ids->rs = ids->rg = ids->rv = 99;
	for (el = it->pairs; it->pairs && el < 40; el += 2) {
		const struct mapgen_epos *p = pos_get(s, el, 1);
		const char *c = p ? p->codes : NULL;

		while (c && *c) {
			const char *e = strchr(c, ' ');
			size_t len = e ? (size_t)(e - c) : strlen(c);
			char q[8], path[64];
			int r;
			enum mapgen_field f;

			if (len < sizeof(q) && pos_get(s, el + 1, 1)) {
				memcpy(q, c, len);
				q[len] = 0;
				f = mapgen_x12_idq(q, &r);
				snprintf(path, sizeof(path), "%s[%02u=%s].%02u",
					 s->tag, el, q, el + 1);
				if (f == MGF_SKU && r < ids->rs) {
					ids->rs = r;
					str_copy_cut(ids->sku, sizeof(ids->sku), path);
				} else if (f == MGF_GTIN && r < ids->rg) {
					ids->rg = r;
					str_copy_cut(ids->gtin, sizeof(ids->gtin), path);
				} else if (f == MGF_SUPPLIER_SKU && r < ids->rv) {
					ids->rv = r;
					str_copy_cut(ids->supp, sizeof(ids->supp), path);
				} else if (f == MGF_NONE && !ids->other[0]) {
					str_copy_cut(ids->other, sizeof(ids->other), path);
				}
			}
			c = e ? e + 1 : NULL;
		}
	}
}

/* sku, gtin and supplier_sku of an X12 item line; -1 when no id. */
static int x12_item_fields(struct plan *p, const struct mapgen_seg *s,
			   const struct x12_item *it, struct err *err,
			   const char *file)
{
	struct x12_ids ids;
	char e[200];

	memset(&ids, 0, sizeof(ids));
	x12_pairs(s, it, &ids);
	if (!ids.gtin[0] && it->id && pos_get(s, it->id, 1))
		snprintf(ids.gtin, sizeof(ids.gtin), "%s.%02u", s->tag, it->id);
	if (ids.sku[0]) {
		snprintf(e, sizeof(e), "%s | trim | required", ids.sku);
		mapgen_plan_set(p, PF_SKU, e, NULL);
	} else if (ids.supp[0] || ids.gtin[0]) {
		snprintf(e, sizeof(e), "%s | trim | required",
			 ids.supp[0] ? ids.supp : ids.gtin);
		mapgen_plan_set(p, PF_SKU, e,
				ids.supp[0] ? "the vendor's item number is the SKU (a lookup can translate it)"
					    : "the GTIN/UPC is the SKU (a lookup can translate it)");
	} else if (ids.other[0]) {
		snprintf(e, sizeof(e), "%s | trim | required", ids.other);
		mapgen_plan_set(p, PF_SKU, e,
				"TODO: the only product id qualifier is not one map new knows\n"
				"(UP, EN, VN, BP, IN, SK, ...): check what it identifies");
	} else {
		return err_set(err, E_PARSE,
			       "%s: the %s segments carry no product id qualifier (UP, EN, VN, BP, IN, SK, ...): no item to map",
			       file, s->tag);
	}
	if (ids.gtin[0]) {
		snprintf(e, sizeof(e), "%s | trim", ids.gtin);
		if (p->kind == MAPGEN_ITEM)
			mapgen_plan_set(p, PF_GTIN, e, NULL);
	}
	if (ids.supp[0] && ids.sku[0]) {
		snprintf(e, sizeof(e), "%s | trim", ids.supp);
		if (p->kind == MAPGEN_ITEM)
			mapgen_plan_set(p, PF_SUPPLIER_SKU, e, NULL);
	}
	return 0;
}

/* as_of of an X12 set: BIA04 (846), XQ03 (852), a DTM, else GS04. */
static void x12_as_of(const struct mapgen_in *in, struct plan *p)
{
	const struct mapgen_edi *ed = &in->edi;
	const struct mapgen_epos *v;
	char q[16], e[200];

	if ((v = pos_get(seg_get(ed, "BIA"), 4, 1)) && fmt_by_len(v->sample))
		snprintf(e, sizeof(e), "BIA.04 | date(\"%s\") | required",
			 fmt_by_len(v->sample));
	else if ((v = pos_get(seg_get(ed, "XQ"), 3, 1)) && fmt_by_len(v->sample))
		snprintf(e, sizeof(e), "XQ.03 | date(\"%s\") | required",
			 fmt_by_len(v->sample));
	else if (best_code(pos_get(seg_get(ed, "DTM"), 1, 1), 1,
			   first_rank, 1, q, sizeof(q)) &&
		 (v = pos_get(seg_get(ed, "DTM"), 2, 1)) && fmt_by_len(v->sample))
		snprintf(e, sizeof(e), "DTM[01=%s].02 | date(\"%s\") | required",
			 q, fmt_by_len(v->sample));
	else if ((v = pos_get(seg_get(ed, "GS"), 4, 1)) && fmt_by_len(v->sample))
		snprintf(e, sizeof(e), "GS.04 | date(\"%s\") | required",
			 fmt_by_len(v->sample));
	else {
		mapgen_plan_as_of(p, in, "no date segment in the sets");
		return;
	}
	mapgen_plan_set(p, PF_AS_OF, e,
			"a date without tz: is UTC midnight; add tz:\"America/New_York\"\n"
			"(the partner's zone) to date()");
}

static void x12_location(const struct mapgen_in *in, struct plan *p)
{
	const struct mapgen_edi *ed = &in->edi;
	const struct mapgen_epos *n1 = pos_get(seg_get(ed, "N1"), 1, 1);
	static const char *const qs[] = {"ST", "WH", "BY", "SU", "SF", NULL};
	char e[200];
	int i;

	/* a set without the segment falls back to the sender */
	if (has_code(pos_get(seg_get(ed, "REF"), 1, 1), "IA")) {
		mapgen_plan_set(p, PF_LOCATION,
				"REF[01=IA].02 | trim if REF[01=IA].02 is not empty else ISA.06 | trim",
				"the reporting location (REF*IA), else the sender (ISA06); a\n"
				"lookup can translate it");
		return;
	}
	for (i = 0; qs[i]; i++)
		if (has_code(n1, qs[i]) && pos_get(seg_get(ed, "N1"), 4, 1)) {
			snprintf(e, sizeof(e),
				 "N1[01=%s].04 | trim if N1[01=%s].04 is not empty else ISA.06 | trim",
				 qs[i], qs[i]);
			mapgen_plan_set(p, PF_LOCATION, e,
					"the party's id (N104), else the sender (ISA06); a lookup\n"
					"can translate it");
			return;
		}
	mapgen_plan_set(p, PF_LOCATION, "ISA.06 | trim | required",
			"TODO: no location in the sets: the sender (ISA06) is a placeholder");
}

static void x12_stock(const struct mapgen_in *in, struct plan *p,
		      const struct mapgen_seg *s, const struct x12_item *it)
{
	const struct mapgen_edi *ed = &in->edi;
	const struct mapgen_seg *qty = seg_get(ed, "QTY");
	char q[16], e[200];

	if (seg_get(ed, "SDQ") && !strcmp(s->tag, "LIN")) {
		const struct mapgen_epos *za = pos_get(seg_get(ed, "ZA"), 1, 1);

		str_copy_cut(p->explode, sizeof(p->explode), "SDQ.pairs(03)");
		mapgen_plan_set(p, PF_LOCATION, "pair.id | trim | required",
				"the SDQ location id of each quantity; a lookup can translate it");
		snprintf(e, sizeof(e), "pair.value | %s | required", num(in));
		mapgen_plan_set(p, PF_QUANTITY, e, NULL);
		if (za && za->codes && best_code(za, 1, mapgen_qty_rank, 1, q, sizeof(q))) {
			snprintf(e, sizeof(e), "ZA.01 | map(%s:on_hand, default:ignored)", q);
			mapgen_plan_set(p, PF_STATE, e,
					"ZA01 says what the quantities are; codes in the file:");
			note_codes(p, PF_STATE, za->codes);
			str_copy_cut(p->when, sizeof(p->when), "state != \"ignored\"");
		}
	} else if (qty && best_code(pos_get(qty, 1, 1), 1, mapgen_qty_rank, 1,
				    q, sizeof(q))) {
		snprintf(e, sizeof(e), "QTY[01=%s].02 | %s | required", q, num(in));
		mapgen_plan_set(p, PF_QUANTITY, e, "QTY01 qualifiers in the file:");
		note_codes(p, PF_QUANTITY, pos_get(qty, 1, 1)->codes);
		if (pos_get(qty, 3, 1)) {
			snprintf(e, sizeof(e), "QTY[01=%s].03", q);
			mapgen_plan_hint(p, PF_UOM, e);
		}
	} else if (it->qty) {
		snprintf(e, sizeof(e), "%s.%02u | %s | required", s->tag, it->qty,
			 num(in));
		mapgen_plan_set(p, PF_QUANTITY, e, NULL);
	}
	if (!p->expr[PF_LOCATION][0])
		x12_location(in, p);
	if (!p->expr[PF_STATE][0])
		mapgen_plan_set(p, PF_STATE, "on_hand",
				"TODO: the state of the quantity (on_hand, in_transit, ...)");
	x12_as_of(in, p);
}

static void x12_price(const struct mapgen_in *in, struct plan *p,
		      const struct mapgen_seg *s, const struct x12_item *it)
{
	const struct mapgen_edi *ed = &in->edi;
	const struct mapgen_epos *cur = pos_get(seg_get(ed, "CUR"), 1, 1);
	char q[16], e[200];

	if (best_code(pos_get(seg_get(ed, "CTP"), 2, 1), 1, mapgen_price_rank,
		      1, q, sizeof(q))) {
		snprintf(e, sizeof(e), "CTP[02=%s].03 | %s | required", q, num(in));
		mapgen_plan_set(p, PF_AMOUNT, e, "CTP02 price identifiers in the file:");
		note_codes(p, PF_AMOUNT, pos_get(seg_get(ed, "CTP"), 2, 1)->codes);
	} else if (it->price && pos_get(s, it->price, 1)) {
		snprintf(e, sizeof(e), "%s.%02u | %s | required", s->tag,
			 it->price, num(in));
		mapgen_plan_set(p, PF_AMOUNT, e, "the unit price of the line");
	}
	if (cur && pos_get(seg_get(ed, "CUR"), 2, 1)) {
		snprintf(e, sizeof(e), "CUR.02 | trim | required");
		mapgen_plan_set(p, PF_CURRENCY, e, NULL);
	} else {
		mapgen_plan_set(p, PF_CURRENCY, "USD",
				"TODO: no CUR segment; USD is a placeholder");
	}
}

static void x12_item(const struct mapgen_in *in, struct plan *p)
{
	const struct mapgen_edi *ed = &in->edi;
	const struct mapgen_seg *pid = seg_get(ed, "PID");

	if (pid && has_code(pos_get(pid, 1, 1), "F") && pos_get(pid, 5, 1))
		mapgen_plan_set(p, PF_DESCRIPTION, "PID[01=F].05 | trim", NULL);
	if (seg_get(ed, "GS") && pos_get(seg_get(ed, "GS"), 2, 1))
		mapgen_plan_set(p, PF_SUPPLIER_ID, "GS.02 | trim",
				"the sender's application id (GS02)");
}

/* ---- EDIFACT ------------------------------------------------------------ */

static void edifact_ids(const struct mapgen_in *in, struct plan *p,
			int *ok)
{
	const struct mapgen_edi *ed = &in->edi;
	const struct mapgen_seg *lin = seg_get(ed, "LIN");
	const struct mapgen_seg *pia = seg_get(ed, "PIA");
	const struct mapgen_epos *t = pos_get(lin, 3, 2);
	const struct mapgen_epos *pt = pos_get(pia, 2, 2);
	static const char *const buyer[] = {"IN", "BP", "SA", "MF", "SRV", NULL};
	char pia_path[80] = "";
	int i;

	for (i = 0; pt && buyer[i]; i++)
		if (has_code(pt, buyer[i])) {
			snprintf(pia_path, sizeof(pia_path), "PIA[02.02=%s].02.01",
				 buyer[i]);
			break;
		}
	*ok = 1;
	if (pos_get(lin, 3, 1)) {
		mapgen_plan_set(p, PF_SKU, "LIN.03.01 | trim | required",
				"the item number of LIN C212 (a GTIN in EANCOM); a lookup can\n"
				"translate it to your SKU");
		if (p->kind == MAPGEN_ITEM &&
		    (has_code(t, "EN") || has_code(t, "SRS") || has_code(t, "UP")))
			mapgen_plan_set(p, PF_GTIN, "LIN.03.01 | trim", NULL);
		if (p->kind == MAPGEN_ITEM && pia_path[0]) {
			char e[120];

			snprintf(e, sizeof(e), "%s | trim", pia_path);
			mapgen_plan_set(p, PF_SUPPLIER_SKU, e, NULL);
		}
	} else if (pia && pos_get(pia, 2, 1)) {
		char e[120];

		snprintf(e, sizeof(e), "%s | trim | required",
			 pia_path[0] ? pia_path : "PIA.02.01");
		mapgen_plan_set(p, PF_SKU, e, "the LIN has no item number: PIA gives it");
	} else {
		*ok = 0;
	}
}

static void edifact_as_of(const struct mapgen_in *in, struct plan *p)
{
	const struct mapgen_edi *ed = &in->edi;
	const struct mapgen_seg *dtm = seg_get(ed, "DTM");
	const struct mapgen_epos *q = pos_get(dtm, 1, 1), *f = pos_get(dtm, 1, 3);
	const struct mapgen_epos *unb = pos_get(seg_get(ed, "UNB"), 4, 1);
	static const char *const pref[] = {"137", "366", "194", "9", NULL};
	const char *fmt = NULL;
	char e[200], code[16] = "";
	int i;

	if (f && f->codes) {
		snprintf(code, sizeof(code), "%.*s", (int)strcspn(f->codes, " "),
			 f->codes);
		fmt = mapgen_dtm_format(code);
	}
	for (i = 0; q && fmt && pref[i]; i++)
		if (has_code(q, pref[i])) {
			snprintf(e, sizeof(e),
				 "DTM[01.01=%s].01.02 | date(\"%s\") | required",
				 pref[i], fmt);
			mapgen_plan_set(p, PF_AS_OF, e,
					"the document date (DTM 137 or the first found); a date\n"
					"without tz: is UTC, add tz:\"Europe/Berlin\" to date()");
			return;
		}
	if (unb && fmt_by_len(unb->sample)) {
		snprintf(e, sizeof(e), "UNB.04.01 | date(\"%s\") | required",
			 fmt_by_len(unb->sample));
		mapgen_plan_set(p, PF_AS_OF, e,
				"TODO: no document date (DTM 137): the interchange date (UNB04)");
		return;
	}
	mapgen_plan_as_of(p, in, "no document date (DTM 137) in the messages");
}

static void edifact_stock(const struct mapgen_in *in, struct plan *p)
{
	const struct mapgen_edi *ed = &in->edi;
	const struct mapgen_seg *qty = seg_get(ed, "QTY");
	const struct mapgen_seg *loc = seg_get(ed, "LOC");
	const struct mapgen_seg *nad = seg_get(ed, "NAD");
	const struct mapgen_seg *lin = seg_get(ed, "LIN");
	static const char *const lq[] = {"162", "18", "14", "7", "11", NULL};
	static const char *const nq[] = {"WH", "ST", "SU", "BY", "DP", "SE", NULL};
	char q[16], e[200];
	int i;

	if (best_code(pos_get(qty, 1, 1), 0, mapgen_qty_rank, 1, q, sizeof(q))) {
		int sold = !strcmp(q, "153");

		snprintf(e, sizeof(e), "QTY[01.01=%s].01.02 | %s | required%s",
			 q, num(in), sold ? " | negate" : "");
		mapgen_plan_set(p, PF_QUANTITY, e, "QTY qualifiers (6063) in the file:");
		note_codes(p, PF_QUANTITY, pos_get(qty, 1, 1)->codes);
		if (sold)
			mapgen_plan_set(p, PF_MODE, "delta",
					"QTY 153 are sold units: they leave on-hand stock");
	}
	for (i = 0; loc && lq[i]; i++)
		if (has_code(pos_get(loc, 1, 1), lq[i]) && pos_get(loc, 2, 1)) {
			snprintf(e, sizeof(e), "LOC[01=%s].02.01 | trim | required",
				 lq[i]);
			mapgen_plan_set(p, PF_LOCATION, e,
					"a lookup can translate the location code");
			/* a LOC before the first LIN is a group the LINs sit
			 * under: the next one closes the loop */
			if (lin && loc->first < lin->first)
				str_copy_cut(p->until, sizeof(p->until),
					     "[LOC, UNS, CNT]");
			break;
		}
	for (i = 0; !p->expr[PF_LOCATION][0] && nad && nq[i]; i++)
		if (has_code(pos_get(nad, 1, 1), nq[i]) && pos_get(nad, 2, 1)) {
			snprintf(e, sizeof(e), "NAD[01=%s].02.01 | trim | required",
				 nq[i]);
			mapgen_plan_set(p, PF_LOCATION, e,
					"the party's GLN; a lookup can translate it");
		}
	if (!p->expr[PF_LOCATION][0])
		mapgen_plan_set(p, PF_LOCATION, "UNB.02.01 | trim | required",
				"TODO: no LOC or NAD: the sender (UNB02) is a placeholder");
	mapgen_plan_set(p, PF_STATE, "on_hand",
			"TODO: the state of the quantity (on_hand, in_transit, ...)");
	edifact_as_of(in, p);
}

static void edifact_price(const struct mapgen_in *in, struct plan *p)
{
	const struct mapgen_edi *ed = &in->edi;
	const struct mapgen_seg *pri = seg_get(ed, "PRI");
	const struct mapgen_epos *cux = pos_get(seg_get(ed, "CUX"), 1, 2);
	char q[16], e[200];

	if (best_code(pos_get(pri, 1, 1), 0, mapgen_price_rank, 1, q, sizeof(q))) {
		snprintf(e, sizeof(e), "PRI[01.01=%s].01.02 | %s | required", q,
			 num(in));
		mapgen_plan_set(p, PF_AMOUNT, e, "PRI qualifiers (5125) in the file:");
		note_codes(p, PF_AMOUNT, pos_get(pri, 1, 1)->codes);
	}
	if (cux)
		mapgen_plan_set(p, PF_CURRENCY, "CUX.01.02 | trim | required", NULL);
	else
		mapgen_plan_set(p, PF_CURRENCY, "EUR",
				"TODO: no CUX segment; EUR is a placeholder");
}

/* ---- parties (kind location) ------------------------------------------- */

/* The qualifier codes of a position, or its first sample when the
 * sniffer did not take it for a code position (*all = 0: other codes may
 * follow). */
static const char *codes_or_sample(const struct mapgen_epos *q, int *all)
{
	*all = q && q->codes;
	return !q ? NULL : q->codes ? q->codes : q->sample;
}

/* One location per party loop: X12 N1 (N2/N3/N4 inside), EDIFACT NAD
 * (name and address in the segment). The id is the party's code (N104,
 * NAD C082.3039); the canonical location has no street or city, so the
 * address elements are named in a comment only. */
static void edi_location(const struct mapgen_in *in, struct plan *p,
			 const struct mapgen_seg *party,
			 const struct mapgen_seg *item)
{
	const struct mapgen_edi *ed = &in->edi;
	int x12 = ed->x12;
	const char *tag = party->tag, *codes;
	char e[200], asof[200];
	int all;

	snprintf(p->each, sizeof(p->each), "%s", tag);
	/* party loops in the header end where the item lines begin */
	if (item)
		snprintf(p->until, sizeof(p->until), "[%s]", item->tag);
	if (pos_get(party, x12 ? 4 : 2, 1)) {
		snprintf(e, sizeof(e), "%s | trim | required",
			 x12 ? "N1.04" : "NAD.02.01");
		mapgen_plan_set(p, PF_LOCATION_ID, e, x12
				? "the party's id (N104; N103 names its code list: 92 the\n"
				  "buyer's own, 1 DUNS, UL GLN); a lookup can translate it"
				: "the party's id (C082.3039; 3055 names its code list: 9\n"
				  "GLN, 92 the buyer's own); a lookup can translate it");
	} else {
		const char *nm = x12 ? "N1.02" : pos_get(party, 4, 1) ? "NAD.04.01"
							       : "NAD.03.01";

		snprintf(e, sizeof(e), "%s | trim | required", nm);
		mapgen_plan_set(p, PF_LOCATION_ID, e, x12
				? "TODO: no party has an id (N104): the name is a placeholder"
				: "TODO: no party has an id (C082.3039): the name is a placeholder");
	}
	codes = codes_or_sample(pos_get(party, 1, 1), &all);
	mapgen_plan_party_type(p, x12 ? "N1.01" : "NAD.01", codes, all,
			       x12 ? "N101" : "NAD 3035");
	if (x12 && pos_get(party, 2, 1))
		mapgen_plan_set(p, PF_NAME, "N1.02 | trim", NULL);
	else if (!x12 && pos_get(party, 4, 1))
		mapgen_plan_set(p, PF_NAME, "NAD.04.01 | trim", "C080 party name");
	else if (!x12 && pos_get(party, 3, 1))
		mapgen_plan_set(p, PF_NAME, "NAD.03.01 | trim",
				"C058 name and address (unstructured)");
	if (x12 && pos_get(seg_get(ed, "N4"), 2, 1))
		mapgen_plan_set(p, PF_REGION, "N4.02 | trim",
				"the state or province (N402); not mapped: N3 street, N401 city,\n"
				"N403 postal code, N404 country (the canonical location has no\n"
				"address)");
	else if (!x12 && pos_get(party, 7, 1))
		mapgen_plan_set(p, PF_REGION, "NAD.07.01 | trim",
				"the country sub-entity (C819); not mapped: 05 street, 06 city,\n"
				"08 postal code, 09 country (the canonical location has no\n"
				"address)");
	/* as_of is optional for a location: suggested, not mapped, since a
	 * document date in another format than its code says would reject
	 * every party */
	if (x12)
		x12_as_of(in, p);
	else
		edifact_as_of(in, p);
	str_copy_cut(asof, sizeof(asof), p->expr[PF_AS_OF]);
	p->expr[PF_AS_OF][0] = 0;
	p->note[PF_AS_OF][0] = 0;
	mapgen_plan_hint(p, PF_AS_OF, asof);
}

/* ---- both --------------------------------------------------------------- */

/* Envelope and trailer segments: their codes are counts and ids. */
static int envelope(const char *tag)
{
	static const char *const t[] = {"ISA", "GS", "ST", "SE", "GE", "IEA",
					"DXS", "DXE", "UNA", "UNB", "UNG", "UNH",
					"UNT", "UNE", "UNZ", "CTT", "CNT", NULL};
	int i;

	for (i = 0; t[i]; i++)
		if (!strcmp(tag, t[i]))
			return 1;
	return 0;
}

static void found(const struct mapgen_in *in, struct plan *p,
		  const struct mapgen_seg *loop)
{
	const struct mapgen_edi *ed = &in->edi;
	size_t i, j;

	mapgen_plan_found(p, "The file: %s %s%s%s, %lu set(s)%s%s.",
			  ed->x12 ? "X12" : "EDIFACT", ed->message,
			  ed->version[0] ? " " : "", ed->version, ed->nsets,
			  ed->others[0] ? "; also " : "", ed->others);
	mapgen_plan_found(p, "\nSegments:");
	for (i = 0; i < ed->nseg; i++)
		mapgen_plan_found(p, " %s", ed->seg[i].tag);
	mapgen_plan_found(p, "\nQualifiers:");
	for (i = 0; i < ed->nseg; i++)
		for (j = 0; j < ed->seg[i].npos; j++) {
			const struct mapgen_epos *q = &ed->seg[i].pos[j];

			if (!q->codes || envelope(ed->seg[i].tag))
				continue;
			if (q->comp > 1)
				mapgen_plan_found(p, " %s%02u-%u=%s;", ed->seg[i].tag,
						  q->elem, q->comp, q->codes);
			else
				mapgen_plan_found(p, " %s%02u=%s;", ed->seg[i].tag,
						  q->elem, q->codes);
		}
	mapgen_plan_found(p, "\nOne record per %s loop.", loop->tag);
}

static const struct {
	const char *type, *what;
} no_items[] = {
	{"997", "a functional acknowledgment"},
	{"999", "an implementation acknowledgment"},
	{"TA1", "an interchange acknowledgment"},
	{"214", "a shipment status message"},
	{"204", "a load tender"},
	{"855", "a purchase order acknowledgment"},
	{"CONTRL", "a syntax acknowledgment"},
	{"APERAK", "an application error message"},
	{"PARTIN", "party information"},
	{"IFCSUM", "a forwarding summary"},
};

static int no_item_error(const struct mapgen_in *in, struct err *err)
{
	const struct mapgen_edi *ed = &in->edi;
	const char *what = "a message";
	size_t i;

	if ((!ed->nsets || !ed->message[0]) && ed->first_error[0])
		return err_set(err, E_PARSE,
			       "%s: no %s could be read (%s), so there is nothing to map",
			       in->file, ed->x12 ? "transaction set" : "message",
			       ed->first_error);
	if ((!ed->nsets || !ed->message[0]) && seg_get(ed, ed->x12 ? "TA1" : "UCI"))
		return err_set(err, E_PARSE,
			       "%s: the file holds interchange acknowledgments (%s) and no %s, so there is nothing to map",
			       in->file, ed->x12 ? "TA1" : "UCI",
			       ed->x12 ? "transaction set" : "message");
	if (!ed->nsets || !ed->message[0])
		return err_set(err, E_PARSE,
			       "%s: no %s could be read, so there is nothing to map",
			       in->file, ed->x12 ? "transaction set" : "message");
	for (i = 0; i < sizeof(no_items) / sizeof(no_items[0]); i++)
		if (!strcmp(no_items[i].type, ed->message))
			what = no_items[i].what;
	return err_set(err, E_PARSE,
		       "%s: the %s %s (%s) %s no item lines (%s) and no parties (%s): no item, price, stock or location record can be made from it",
		       in->file, ed->x12 ? "X12" : "EDIFACT", ed->message, what,
		       ed->nsets > 1 ? "have" : "has",
		       ed->x12 ? "LIN, PO1, IT1, SLN, W01 or G83" : "LIN",
		       ed->x12 ? "N1" : "NAD");
}

/* input: with the message type, or every type of the file when it has
 * several (an 810 and an 850 in two groups), so no set is rejected for
 * its type: sets without the item segment just give no record. */
static void input_block(const struct mapgen_in *in, struct plan *p)
{
	const struct mapgen_edi *ed = &in->edi;
	const char *key = ed->x12 ? "transaction" : "message";
	const char *o = ed->others;
	size_t n;

	n = (size_t)snprintf(p->input, sizeof(p->input), "  format: %s\n  %s: ",
			     ed->x12 ? "x12" : "edifact", key);
	if (!*o) {
		snprintf(p->input + n, sizeof(p->input) - n, "\"%s\"\n", ed->message);
		return;
	}
	n += (size_t)snprintf(p->input + n, sizeof(p->input) - n, "[\"%s\"",
			      ed->message);
	/* others: "850x1 997x2" */
	while (*o && n + 16 < sizeof(p->input)) {
		size_t len = strcspn(o, " ");
		const char *x = memchr(o, 'x', len);

		while (x && memchr(x + 1, 'x', len - (size_t)(x + 1 - o)))
			x = memchr(x + 1, 'x', len - (size_t)(x + 1 - o));
		if (x)
			n += (size_t)snprintf(p->input + n, sizeof(p->input) - n,
					      ", \"%.*s\"", (int)(x - o), o);
		o += len;
		while (*o == ' ')
			o++;
	}
	snprintf(p->input + n, sizeof(p->input) - n, "]\n");
}

static void choose_kind(const struct mapgen_in *in, struct plan *p,
			const struct mapgen_seg *item)
{
	const struct mapgen_edi *ed = &in->edi;
	const char *m = ed->message;

	if (p->kind != MAPGEN_AUTO) {
		snprintf(p->why, sizeof(p->why), "kind %s: as asked (--kind).",
			 mapgen_kind_name(p->kind));
		return;
	}
	if (!item) {
		p->kind = MAPGEN_LOCATION;
		snprintf(p->why, sizeof(p->why),
			 "kind location: %s %s has no item lines but names parties (%s).",
			 ed->x12 ? "X12" : "EDIFACT", m, ed->x12 ? "N1" : "NAD");
	} else if ((!strcmp(m, "852") && seg_get(ed, "SDQ")) ||
	    (!strcmp(m, "846") && seg_get(ed, "QTY")) ||
	    ((!strcmp(m, "INVRPT") || !strcmp(m, "SLSRPT")) && seg_get(ed, "QTY"))) {
		p->kind = MAPGEN_STOCK;
		snprintf(p->why, sizeof(p->why),
			 "kind stock: %s %s reports quantities per item.",
			 ed->x12 ? "X12" : "EDIFACT", m);
	} else if ((!strcmp(m, "832") && seg_get(ed, "CTP")) ||
		   (!strcmp(m, "PRICAT") && seg_get(ed, "PRI"))) {
		p->kind = MAPGEN_PRICE;
		snprintf(p->why, sizeof(p->why),
			 "kind price: %s %s is a catalogue with prices (%s).",
			 ed->x12 ? "X12" : "EDIFACT", m, ed->x12 ? "CTP" : "PRI");
	} else {
		p->kind = MAPGEN_ITEM;
		snprintf(p->why, sizeof(p->why),
			 "kind item: %s %s lists items but no stock report or price catalogue.",
			 ed->x12 ? "X12" : "EDIFACT", m);
	}
	str_copy_cut(p->why + strlen(p->why), sizeof(p->why) - strlen(p->why),
		     item ? " Another kind: --kind stock|item|price."
			  : " The other kinds need item lines.");
}

/* What the asked kind needs and the file lacks, as an error. */
static int kind_lacks(const struct mapgen_in *in, const struct plan *p,
		      struct err *err)
{
	if (p->kind == MAPGEN_STOCK && !p->expr[PF_QUANTITY][0])
		return err_set(err, E_CONFIG,
			       "%s: %s %s has no quantity (QTY, SDQ) for a stock record",
			       in->file, in->edi.x12 ? "X12" : "EDIFACT",
			       in->edi.message);
	if (p->kind == MAPGEN_PRICE && !p->expr[PF_AMOUNT][0])
		return err_set(err, E_CONFIG,
			       "%s: %s %s has no price (%s) for a price record",
			       in->file, in->edi.x12 ? "X12" : "EDIFACT",
			       in->edi.message, in->edi.x12 ? "CTP, PO1/IT1 unit price" : "PRI");
	return 0;
}

int mapgen_plan_edi(const struct mapgen_in *in, struct plan *p,
		    struct err *err)
{
	const struct mapgen_edi *ed = &in->edi;
	const struct mapgen_seg *item = NULL, *party;
	const struct x12_item *it = NULL;
	size_t i;
	int ok;

	if (ed->x12) {
		for (i = 0; !item && i < sizeof(x12_items) / sizeof(x12_items[0]); i++)
			if ((item = seg_get(ed, x12_items[i].tag)))
				it = &x12_items[i];
	} else {
		item = seg_get(ed, "LIN");
	}
	party = seg_get(ed, ed->x12 ? "N1" : "NAD");
	if (!ed->nsets || (!item && (!party || (p->kind != MAPGEN_AUTO &&
						p->kind != MAPGEN_LOCATION))))
		return no_item_error(in, err);
	if (p->kind == MAPGEN_LOCATION && !party)
		return err_set(err, E_CONFIG,
			       "%s: %s %s names no party (%s loops), so no location record can be made",
			       in->file, ed->x12 ? "X12" : "EDIFACT", ed->message,
			       ed->x12 ? "N1" : "NAD");
	choose_kind(in, p, item);
	input_block(in, p);
	if (p->kind == MAPGEN_LOCATION) {
		edi_location(in, p, party, item);
		found(in, p, party);
		return 0;
	}
	snprintf(p->each, sizeof(p->each), "%s", item->tag);
	if (ed->x12) {
		if (x12_item_fields(p, item, it, err, in->file) < 0)
			return -1;
		if (p->kind == MAPGEN_STOCK)
			x12_stock(in, p, item, it);
		else if (p->kind == MAPGEN_PRICE)
			x12_price(in, p, item, it);
		else
			x12_item(in, p);
	} else {
		edifact_ids(in, p, &ok);
		if (!ok)
			return err_set(err, E_PARSE,
				       "%s: the LIN segments carry no item number (LIN C212) and there is no PIA: no item to map",
				       in->file);
		if (p->kind == MAPGEN_STOCK)
			edifact_stock(in, p);
		else if (p->kind == MAPGEN_PRICE)
			edifact_price(in, p);
		else if (pos_get(seg_get(ed, "IMD"), 3, 4))
			mapgen_plan_set(p, PF_DESCRIPTION, "IMD.03.04 | trim", NULL);
	}
	if (kind_lacks(in, p, err) < 0)
		return -1;
	found(in, p, item);
	return 0;
}
