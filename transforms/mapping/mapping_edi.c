/* mapping_edi.c - the X12 and EDIFACT input drivers of the mapping engine
 * (see mapping_int.h for the driver interface, docs/mapping.md section 4
 * for the path syntax).
 *
 * Paths select a segment by tag, optionally with a qualifier condition or
 * an occurrence, and read one element / component / repeat of it:
 *
 *	N1[01=ST].04   LIN[02=VN].03   QTY[C186.01=33].C186.02   REF.02[*]
 *	UNB.S002.0004  parent(HL[03=S]).TD5.05   pair.id  pair.value
 *
 * A transaction set (X12 ST..SE, EDIFACT UNH..UNT) is the unit of
 * commitment: the reader reports a broken set only at its end (SET_END
 * ok = 0), so the driver keeps the segments of the open set in one
 * reusable buffer and maps them when the set closes well-formed. A broken
 * set becomes one reject naming the interchange, the segment number, the
 * segment id, the element and the reason; its siblings are mapped as
 * usual. Memory is therefore bounded by one set: input.max_set_segments
 * segments and input.max_set_bytes bytes of values (a larger set is
 * rejected, its remaining segments skipped), plus the reader's own
 * buffers (input.max_segment per segment). The buffers grow by doubling
 * to the largest set seen and are reused, so the steady state allocates
 * nothing per segment.
 *
 * Inside a set, each: marks loops: a loop starts at its anchor segment
 * and runs to the next segment with the anchor's tag, a segment listed in
 * until: (default CTT for X12; UNS, CNT for EDIFACT) or the set trailer.
 * A path reads the first matching segment of the record's scope: the
 * explode item (an SDQ pair's segment, a LOC group), the loop (nearest
 * segment before the explode item first), then the segments before the
 * loop that belong to no loop of the same anchor (the set header and the
 * enclosing N1/LOC/HL levels), nearest first, then the envelope
 * (ISA/GS, UNB/UNG). parent() follows the HL02 (CPS02, LIN C829.1082)
 * parent ids from the loop's HL (CPS, LIN) segment; child() and sibling()
 * read the loops that link to it or to its parent.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/suggest.h"
#include "mapping_edi_int.h"

/* ------------------------------------------------------------------ */
/* EDIFACT segment directory (the ids analysts may write instead of     */
/* positions). Per segment: the elements in position order; a composite */
/* lists its components after ':'. Ids from the UN/EDIFACT D.96A-D.01B  */
/* directories and ISO 9735 for the service segments.                   */

struct eddir {
	const char *tag;
	const char *elems;
};

static const struct eddir edifact_dir[] = {
	{"UNB", "S001:0001,0002,0080,0133 S002:0004,0007,0008,0042 "
		"S003:0010,0007,0014,0046 S004:0017,0019 0020 S005:0022,0025 "
		"0026 0029 0031 0032 0035"},
	{"UNG", "0038 S006:0040,0007 S007:0044,0007 S004:0017,0019 0048 0051 "
		"S008:0052,0054,0057 0058"},
	{"UNH", "0062 S009:0065,0052,0054,0051,0057,0110,0113 0068 "
		"S010:0070,0073"},
	{"UNT", "0074 0062"},
	{"BGM", "C002:1001,1131,3055,1000 C106:1004,1056,1060 1225 4343"},
	{"DTM", "C507:2005,2380,2379"},
	{"NAD", "3035 C082:3039,1131,3055 C058:3124,3124,3124,3124,3124 "
		"C080:3036,3036,3036,3036,3036,3045 C059:3042,3042,3042,3042 "
		"3164 C819:3229,1131,3055,3228 3251 3207"},
	{"LIN", "1082 1229 C212:7140,7143,1131,3055 C829:5495,1082 1222 7083"},
	{"PIA", "4347 C212:7140,7143,1131,3055 C212:7140,7143,1131,3055 "
		"C212:7140,7143,1131,3055 C212:7140,7143,1131,3055 "
		"C212:7140,7143,1131,3055"},
	{"IMD", "7077 C272:7081,1131,3055 C273:7009,1131,3055,7008,7008,3453 "
		"3453"},
	{"QTY", "C186:6063,6060,6411"},
	{"LOC", "3227 C517:3225,1131,3055,3224 C519:3223,1131,3055,3222 "
		"C553:3233,1131,3055,3232 5479"},
	{"PRI", "C509:5125,5118,5375,5387,5284,6411 5213"},
	{"CUX", "C504:6347,6345,6343,6348 C504:6347,6345,6343,6348 5402 6341"},
	{"MOA", "C516:5025,5004,6345,6343,4405"},
	{"RFF", "C506:1153,1154,1156,4000,1060"},
	{"CPS", "7164 7166 7075"},
	{"PAC", "7224 C531:7075,7233,7073 C202:7065,1131,3055,7064 "
		"C402:7077,7064,7143,7064,7143 C532:8395,8393"},
	{"GIN", "7405 C208:7402,7402 C208:7402,7402 C208:7402,7402 "
		"C208:7402,7402 C208:7402,7402"},
	{"TDT", "8051 8028 C220:8067,8066 C228:8179,8178 "
		"C040:3127,1131,3055,3128 8101 C401:8457,8459,7130 "
		"C222:8213,1131,3055,8212,8453 8281"},
	{"ALI", "3239 9213 4183 4183 4183 4183 4183"},
	{"UNS", "0081"},
	{"CNT", "C270:6069,6066,6411"},
	{"INV", "4501 7491 4499 4503 C522:4403,4401,1131,3055,4400 "
		"C523:6350,6353"},
	{"FTX", "4451 4453 C107:4441,1131,3055 C108:4440,4440,4440,4440,4440 "
		"3453 4447"},
	{"SEQ", "1245 C286:1050,1159,1131,3055"},
	{"DOC", "C002:1001,1131,3055,1000 C503:1004,1373,1366,3453 3153 1220 "
		"1218"},
	{NULL, NULL}};

/* Finds element id (4 chars) in segment tag's directory entry: sets *pos
 * (1-based) and copies the component list into comps. 0 found, -1 when
 * the segment is unknown, -2 when the id is not one of its elements. */
static int dir_elem(const char *tag, const char *id, unsigned *pos,
		    char *comps, size_t compsn)
{
	const struct eddir *d;
	const char *p;
	unsigned k = 1;

	for (d = edifact_dir; d->tag; d++)
		if (!strcmp(d->tag, tag))
			break;
	if (!d->tag)
		return -1;
	for (p = d->elems; *p; k++) {
		const char *sp = strchr(p, ' ');
		size_t n = sp ? (size_t)(sp - p) : strlen(p);

		if (n >= 4 && !memcmp(p, id, 4) && (n == 4 || p[4] == ':')) {
			*pos = k;
			comps[0] = '\0';
			if (n > 5)
				snprintf(comps, compsn, "%.*s", (int)(n - 5), p + 5);
			return 0;
		}
		p += n;
		while (*p == ' ')
			p++;
	}
	return -2;
}

static const char *dir_list(const char *tag)
{
	const struct eddir *d;

	for (d = edifact_dir; d->tag; d++)
		if (!strcmp(d->tag, tag))
			return d->elems;
	return "";
}

/* The directory's tag nearest to a misspelt one (QYT -> QTY), or NULL:
 * a typo should not be answered with "write positions", which then
 * compiles and rejects every record (issue 17). */
static const char *dir_nearest(const char *tag)
{
	const char *tags[128];
	size_t n = 0;
	const struct eddir *d;

	for (d = edifact_dir; d->tag && n < 128; d++)
		tags[n++] = d->tag;
	return suggest_nearest(tag, tags, n, 2);
}

static int is_upper(int c)
{
	return c >= 'A' && c <= 'Z';
}

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int is_alnum(int c)
{
	return is_upper(c) || is_digit(c);
}

/* X12 segments whose elements repeat as qualifier/value pairs. */
static int pair_segment(const char *tag)
{
	return !strcmp(tag, "LIN") || !strcmp(tag, "PO1") ||
	       !strcmp(tag, "IT1") || !strcmp(tag, "SLN") ||
	       !strcmp(tag, "PID");
}

struct pc {                     /* path compile cursor */
	struct mapping *m;
	struct edi_map *em;
	const char *s;
	size_t n, i;
	char *msg;
	size_t msgn;
};

static int pc_err(struct pc *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int pc_err(struct pc *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->msg, c->msgn, fmt, ap);
	va_end(ap);
	return -1;
}

/* A tag at c->i: 2-3 upper-case letters/digits starting with a letter. */
static size_t tag_len(const char *s, size_t n)
{
	size_t k = 0;

	if (!n || !is_upper((unsigned char)s[0]))
		return 0;
	while (k < n && k < 4 && is_alnum((unsigned char)s[k]))
		k++;
	if (k < 2 || k > 3)
		return 0;
	return k;
}

static int envelope_kind(const struct edi_map *em, const char *tag)
{
	if (em->x12)
		return !strcmp(tag, "ISA") ? ENV_IC
		       : !strcmp(tag, "GS") ? ENV_GRP
					    : ENV_NONE;
	return !strcmp(tag, "UNB") ? ENV_IC
	       : !strcmp(tag, "UNG") ? ENV_GRP
				     : ENV_NONE;
}

/* Parses a number of 1-3 digits at c->i. */
static int pc_num(struct pc *c, unsigned *out, size_t *len)
{
	size_t k = 0;
	unsigned v = 0;

	while (c->i + k < c->n && is_digit((unsigned char)c->s[c->i + k]) &&
	       k < 4)
		v = v * 10 + (unsigned)(c->s[c->i + k++] - '0');
	*len = k;
	*out = v;
	return k ? 0 : -1;
}

/* An element reference after the tag's '.': X12 NN or NN.M; EDIFACT NN,
 * NN.MM, an element/composite id (0062, C186) optionally followed by
 * .MM or a component id (.0004). */
static int pc_eref(struct pc *c, const char *tag, struct eref *r)
{
	unsigned v;
	size_t len;
	char comps[200] = "";
	int have_comps = 0;

	memset(r, 0, sizeof(*r));
	if (c->i < c->n && is_digit((unsigned char)c->s[c->i]) &&
	    (c->i + 2 >= c->n || !is_digit((unsigned char)c->s[c->i + 2]) ||
	     c->em->x12)) {
		pc_num(c, &v, &len);
		if (len > 2 && !c->em->x12)
			goto byid;
		if (len > 2 || v < 1)
			return pc_err(c, "element positions are 01 to 99 (%s.01 is the first element)", tag);
		c->i += len;
		r->elem = v;
	} else {
byid:		if (c->em->x12)
			return pc_err(c, "X12 paths use positions: %s.NN or %s.NN.M", tag, tag);
		if (c->i + 4 > c->n || !is_alnum((unsigned char)c->s[c->i]) ||
		    !is_digit((unsigned char)c->s[c->i + 1]) ||
		    !is_digit((unsigned char)c->s[c->i + 2]) ||
		    !is_digit((unsigned char)c->s[c->i + 3]) ||
		    (c->i + 4 < c->n && is_alnum((unsigned char)c->s[c->i + 4])))
			return pc_err(c, "expected an element position (%s.01) or an element id (C186, 0062) after '%s.'", tag, tag);
		{
			char id[5];
			int rc;

			memcpy(id, c->s + c->i, 4);
			id[4] = '\0';
			rc = dir_elem(tag, id, &r->elem, comps, sizeof(comps));
			if (rc == -1 && dir_nearest(tag))
				return pc_err(c, "segment %s is not in stockpipe's directory: did you mean %s? (a segment it does not know takes positions: %s.01, %s.02.01)", tag, dir_nearest(tag), tag, tag);
			if (rc == -1)
				return pc_err(c, "segment %s has no element ids in stockpipe's directory: write positions (%s.01, %s.02.01)", tag, tag, tag);
			if (rc == -2)
				return pc_err(c, "segment %s has no element %s (elements: %s)", tag, id, dir_list(tag));
			have_comps = comps[0] != '\0';
			c->i += 4;
		}
	}
	if (c->i + 1 < c->n && c->s[c->i] == '.' &&
	    is_alnum((unsigned char)c->s[c->i + 1])) {
		size_t save = c->i;

		c->i++;
		if (c->i + 4 <= c->n && is_digit((unsigned char)c->s[c->i]) &&
		    is_digit((unsigned char)c->s[c->i + 1]) &&
		    is_digit((unsigned char)c->s[c->i + 2]) &&
		    is_digit((unsigned char)c->s[c->i + 3])) {
			/* a component id */
			const char *p = comps;
			unsigned k = 1;

			if (!have_comps)
				return pc_err(c, "%s: element %u of %s is not a composite with component ids; write .01, .02 for components", tag, r->elem, tag);
			while (*p) {
				if (!memcmp(p, c->s + c->i, 4))
					break;
				p = strchr(p, ',');
				if (!p)
					break;
				p++;
				k++;
			}
			if (!p || !*p)
				return pc_err(c, "component %.4s is not in %s element %u (components: %s)", c->s + c->i, tag, r->elem, comps);
			r->comp = k;
			c->i += 4;
		} else if (pc_num(c, &v, &len) == 0 && len <= 2 && v >= 1) {
			r->comp = v;
			c->i += len;
		} else {
			c->i = save;
			return pc_err(c, "a component is .1 to .99 (or a component id such as .0004)");
		}
	}
	if (c->i < c->n && c->s[c->i] == '[') {
		if (c->i + 2 < c->n && c->s[c->i + 1] == '*' &&
		    c->s[c->i + 2] == ']') {
			r->rep = E_REP_ALL;
			c->i += 3;
		} else {
			c->i++;
			if (pc_num(c, &v, &len) || v < 1 || c->i + len >= c->n ||
			    c->s[c->i + len] != ']')
				return pc_err(c, "a repeat is [N] with N from 1, or [*] for all");
			r->rep = v;
			c->i += len + 1;
		}
	}
	return 0;
}

/* A segment selector: TAG, TAG[cond], TAG[N]. */
static int pc_sel(struct pc *c, struct esel *sel)
{
	size_t k = tag_len(c->s + c->i, c->n - c->i);

	memset(sel, 0, sizeof(*sel));
	if (!k)
		return pc_err(c, "expected a segment tag (LIN, N1, QTY)");
	memcpy(sel->tag, c->s + c->i, k);
	sel->tag[k] = '\0';
	sel->code = TAGC(sel->tag);
	if (!c->em->x12 && k != 3)
		return pc_err(c, "EDIFACT segment tags have three letters ('%s')", sel->tag);
	c->i += k;
	if (c->i < c->n && c->s[c->i] == '[') {
		unsigned v;
		size_t len;

		c->i++;
		if (pc_num(c, &v, &len) == 0 && c->i + len < c->n &&
		    c->s[c->i + len] == ']') {
			if (v < 1)
				return pc_err(c, "occurrences are counted from 1 (%s[2])", sel->tag);
			sel->nth = v;
			c->i += len + 1;
			return 0;
		}
		if (pc_eref(c, sel->tag, &sel->cond))
			return -1;
		if (sel->cond.rep)
			return pc_err(c, "a condition reads one value: no [N] inside [...]");
		if (c->i >= c->n || c->s[c->i] != '=')
			return pc_err(c, "a condition is [NN=VALUE] (N1[01=ST])");
		c->i++;
		for (;;) {
			size_t a = c->i;
			const char *v0;

			if (c->i < c->n && (c->s[c->i] == '"' || c->s[c->i] == '\'')) {
				char q = c->s[c->i++];

				a = c->i;
				while (c->i < c->n && c->s[c->i] != q)
					c->i++;
				if (c->i >= c->n)
					return pc_err(c, "unterminated quote in a condition");
				v0 = arena_strndup(&c->m->pool.arena, c->s + a, c->i - a);
				c->i++;
			} else {
				while (c->i < c->n && c->s[c->i] != ']' &&
				       c->s[c->i] != '|' && c->s[c->i] != ' ')
					c->i++;
				if (c->i == a)
					return pc_err(c, "a condition needs a value after '=' ([01=ST])");
				v0 = arena_strndup(&c->m->pool.arena, c->s + a, c->i - a);
			}
			if (!v0)
				return pc_err(c, "out of memory");
			if (sel->nvals == E_MAX_VALS)
				return pc_err(c, "at most %d values in one condition", E_MAX_VALS);
			sel->vlen[sel->nvals] = strlen(v0);
			sel->vals[sel->nvals++] = v0;
			if (c->i < c->n && c->s[c->i] == '|') {
				c->i++;
				continue;
			}
			break;
		}
		if (c->i >= c->n || c->s[c->i] != ']')
			return pc_err(c, "missing ']' after the condition");
		c->i++;
	}
	if (c->em->x12 && pair_segment(sel->tag))
		sel->pairs = 1;
	return 0;
}

static int check_tag(struct pc *c, const char *tag)
{
	static const char *const x12_trailers[] = {"IEA", "GE", NULL};
	static const char *const edi_trailers[] = {"UNZ", "UNE", NULL};
	const char *const *t = c->em->x12 ? x12_trailers : edi_trailers;
	size_t i;

	for (i = 0; t[i]; i++)
		if (!strcmp(t[i], tag))
			return pc_err(c, "%s comes after the records (a trailer): its values are not available while streaming", tag);
	if (c->em->x12 && (!strcmp(tag, "UNB") || !strcmp(tag, "UNH") ||
			   !strcmp(tag, "UNG")))
		return pc_err(c, "%s is an EDIFACT segment; this mapping reads x12", tag);
	if (!c->em->x12 && (!strcmp(tag, "ISA") || !strcmp(tag, "GS") ||
			    !strcmp(tag, "ST")))
		return pc_err(c, "%s is an X12 segment; this mapping reads edifact", tag);
	return 0;
}

/* parent(, child( or sibling( at the start of s: its length and kind,
 * or 0. */
static size_t rel_prefix(const char *s, size_t n, int *rel)
{
	static const struct {
		const char *p;
		int rel;
	} t[] = {{"parent(", REL_PARENT}, {"child(", REL_CHILD},
		 {"sibling(", REL_SIBLING}};
	size_t i, l;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		l = strlen(t[i].p);
		if (n >= l && !memcmp(s, t[i].p, l)) {
			*rel = t[i].rel;
			return l;
		}
	}
	return 0;
}

static const char *rel_name(int rel)
{
	return rel == REL_PARENT ? "parent" : rel == REL_CHILD ? "child" : "sibling";
}

/* The segments whose loops link to each other: an id and a parent id. */
static int rel_tag_ok(const struct edi_map *em, const char *tag)
{
	if (em->x12)
		return !strcmp(tag, "HL");
	return !strcmp(tag, "CPS") || !strcmp(tag, "LIN");
}

/* Parses a whole path; returns bytes used, 0 when s is no path, -1. */
static int parse_epath(struct pc *c, struct epath *p)
{
	const struct eanchor *an = c->em->cur_anchor >= 0
					   ? &c->em->anchors[c->em->cur_anchor]
					   : NULL;
	size_t k;

	memset(p, 0, sizeof(*p));
	if (c->n >= 5 && !memcmp(c->s, "pair.", 5)) {
		static const char *const names[] = {"id", "value", "index"};
		size_t j;

		for (j = 0; j < 3; j++) {
			size_t l = strlen(names[j]);

			if (c->n >= 5 + l && !memcmp(c->s + 5, names[j], l) &&
			    (c->n == 5 + l || !is_alnum((unsigned char)c->s[5 + l])))
				break;
		}
		if (j == 3)
			return pc_err(c, "pair. is followed by id, value or index");
		if (c->m->in_context || !an || an->explode == EX_NONE)
			return pc_err(c, "pair.%s needs explode: in the record", names[j]);
		if (j < 2 && an->explode == EX_SEG)
			return pc_err(c, "pair.%s needs explode: SEG.pairs(NN) or SEG.NN[*]; an explode by segment (explode: %s) has pair.index only, read the segment's elements with paths", names[j], an->xsel.tag);
		p->kind = j == 0 ? EP_PAIR_ID : j == 1 ? EP_PAIR_VALUE : EP_PAIR_INDEX;
		return (int)(5 + strlen(names[j]));
	}
	if ((k = rel_prefix(c->s, c->n, &p->rel)) > 0) {
		const char *rn = rel_name(p->rel);

		c->i = k;
		if (pc_sel(c, &p->parent))
			return -1;
		if (c->i >= c->n || c->s[c->i] != ')')
			return pc_err(c, "missing ')' after %s(%s", rn, p->parent.tag);
		c->i++;
		if (!rel_tag_ok(c->em, p->parent.tag))
			return pc_err(c, "%s() follows the %s: %s(%s)", rn,
				      c->em->x12 ? "HL hierarchy (HL01 id, HL02 parent)"
						 : "CPS hierarchy or the LIN sub-lines (C829)",
				      rn, c->em->x12 ? "HL[03=S]" : "LIN");
		if (c->m->in_context || !an || strcmp(an->sel.tag, p->parent.tag))
			return pc_err(c, "%s(%s...) needs a record with each: %s (the loop whose %s are followed)", rn, p->parent.tag, p->parent.tag,
				      p->rel == REL_PARENT ? "parents" : p->rel == REL_CHILD ? "children" : "siblings");
		if (c->i >= c->n || c->s[c->i] != '.')
			return pc_err(c, "%s(...) is followed by a path: %s", rn,
				      c->em->x12 ? "parent(HL[03=S]).TD5.05" : "child(LIN).QTY[C186.01=59].C186.02");
		c->i++;
		p->has_parent = 1;
	} else {
		k = tag_len(c->s, c->n);
		/* A path is TAG. followed by an element, or TAG[ ... */
		if (!k || k >= c->n)
			return 0;
		if (c->s[k] == '[') {
			if (k + 1 >= c->n || !is_alnum((unsigned char)c->s[k + 1]))
				return 0;
		} else if (c->s[k] != '.' || k + 1 >= c->n ||
			   !is_alnum((unsigned char)c->s[k + 1])) {
			return 0;
		}
		c->i = 0;
	}
	if (pc_sel(c, &p->sel) || check_tag(c, p->sel.tag))
		return -1;
	if (c->i >= c->n || c->s[c->i] != '.')
		return pc_err(c, "a path reads an element: %s.01 (or %s[...].02)", p->sel.tag, p->sel.tag);
	c->i++;
	if (pc_eref(c, p->sel.tag, &p->at))
		return -1;
	p->env = envelope_kind(c->em, p->sel.tag);
	if (p->env && (p->sel.cond.elem || p->sel.nth || p->has_parent))
		return pc_err(c, "%s is an envelope segment: read it directly (%s.06)", p->sel.tag, p->sel.tag);
	p->ctx = c->m->in_context;
	return (int)c->i;
}

static int same_sel(const struct esel *a, const struct esel *b)
{
	size_t i;

	if (a->code != b->code || strcmp(a->tag, b->tag) ||
	    a->cond.elem != b->cond.elem || a->cond.comp != b->cond.comp ||
	    a->cond.rep != b->cond.rep || a->nvals != b->nvals ||
	    a->nth != b->nth || a->pairs != b->pairs)
		return 0;
	for (i = 0; i < a->nvals; i++)
		if (strcmp(a->vals[i], b->vals[i]))
			return 0;
	return 1;
}

/* Whether two segment paths always find the same segment in a scope:
 * the same selector searched the same way. */
static int same_segment(const struct epath *a, const struct epath *b)
{
	return a->kind == EP_SEG && b->kind == EP_SEG && !a->env && !b->env &&
	       !a->has_parent && !b->has_parent && a->ctx == b->ctx &&
	       same_sel(&a->sel, &b->sel);
}

static int edi_path(void *ud, const char *s, size_t n, int *id, char *msg,
		    size_t msgn)
{
	struct mapping *m = ud;
	struct edi_map *em = m->drv;
	struct pc c = {m, em, s, n, 0, msg, msgn};
	struct epath p;
	size_t i;
	int used = parse_epath(&c, &p);

	if (used <= 0)
		return used;
	for (i = 0; i < em->npaths; i++)
		if (strlen(em->paths[i].text) == (size_t)used &&
		    !memcmp(em->paths[i].text, s, (size_t)used) &&
		    em->paths[i].ctx == p.ctx) {
			*id = (int)i;
			return used;
		}
	if (em->npaths == E_MAX_PATHS) {
		snprintf(msg, msgn, "too many paths in one mapping (%d)",
			 E_MAX_PATHS);
		return -1;
	}
	if (!(p.text = arena_strndup(&m->pool.arena, s, (size_t)used))) {
		snprintf(msg, msgn, "out of memory");
		return -1;
	}
	p.sid = (int)em->npaths;
	p.tagbit = map_edi_tag_bit(p.sel.code);
	p.note_rep = (uint8_t)(p.at.rep == E_REP_ALL || !p.at.rep ? 1
			       : p.at.rep > 0xFF		  ? 0xFF
								  : p.at.rep);
	p.note_comp = (uint8_t)(p.at.comp > 0xFF ? 0xFF
				: p.at.comp	 ? p.at.comp
						 : 1);
	p.fast = p.kind != EP_SEG || p.has_parent || p.at.rep == E_REP_ALL
			 ? PF_GENERIC
		 : p.env ? PF_ENV
			 : PF_LOOP;
	for (i = 0; i < em->npaths; i++)
		if (same_segment(&em->paths[i], &p)) {
			p.sid = em->paths[i].sid;
			break;
		}
	em->paths[em->npaths] = p;
	*id = (int)em->npaths++;
	return used;
}

static int edi_compile_input(struct mapping *m, const struct ynode *in,
			     struct err *err)
{
	struct edi_map *em = calloc(1, sizeof(*em));
	const char *key;
	const struct ynode *t;
	unsigned long v;

	if (!em)
		return err_set(err, E_NOMEM, "out of memory");
	m->drv = em;
	em->x12 = !strcmp(m->format, "x12");
	em->cur_anchor = -1;
	em->max_set_segments = E_DEFAULT_MAX_SET_SEGMENTS;
	em->max_set_bytes = E_DEFAULT_MAX_SET_BYTES;
	em->ro.max_segment = EDI_DEFAULT_MAX_SEGMENT;
	key = em->x12 ? "transaction" : "message";
	t = ynode_get(in, key);
	if (t) {
		size_t i, n = t->type == Y_SEQ ? t->n : 1;

		if (t->type != Y_SCALAR && t->type != Y_SEQ)
			return ynode_err(m->yt, t, err, E_CONFIG,
					 "%s: is one type or a list", key);
		if (n > E_MAX_VALS || !n)
			return ynode_err(m->yt, t, err, E_CONFIG,
					 "%s: lists 1 to %d types", key,
					 E_MAX_VALS);
		for (i = 0; i < n; i++) {
			const struct ynode *x = t->type == Y_SEQ ? t->items[i] : t;
			size_t j, ok = x->type == Y_SCALAR && x->len >= 3 &&
				       x->len <= 6;

			for (j = 0; ok && j < x->len; j++)
				if (!is_alnum((unsigned char)x->value[j]))
					ok = 0;
			if (!ok)
				return ynode_err(m->yt, x, err, E_CONFIG,
						 em->x12 ? "transaction: is an X12 transaction set id such as \"846\" (quote it)"
							 : "message: is an EDIFACT message type such as INVRPT");
			em->want[em->nwant++] = x->value;
		}
	}
	v = em->ro.max_segment;
	if (map_parse_uint(m, in, "max_segment", 1ul << 26, &v, err))
		return -1;
	em->ro.max_segment = v ? v : EDI_DEFAULT_MAX_SEGMENT;
	v = em->max_set_segments;
	if (map_parse_uint(m, in, "max_set_segments", 10000000, &v, err))
		return -1;
	em->max_set_segments = v ? v : E_DEFAULT_MAX_SET_SEGMENTS;
	v = em->max_set_bytes;
	if (map_parse_uint(m, in, "max_set_bytes", 1ul << 30, &v, err))
		return -1;
	em->max_set_bytes = v ? v : E_DEFAULT_MAX_SET_BYTES;
	return 0;
}

/* Parses a single selector (each:, until: items, explode:) from a node. */
static int node_sel(struct mapping *m, const struct ynode *n, struct esel *sel,
		    struct eref *at, int *explode, struct err *err)
{
	struct edi_map *em = m->drv;
	char msg[300];
	struct pc c = {m, em, n->value, n->len, 0, msg, sizeof(msg)};

	if (pc_sel(&c, sel))
		return ynode_err(m->yt, n, err, E_CONFIG, "%s", msg);
	if (check_tag(&c, sel->tag))
		return ynode_err(m->yt, n, err, E_CONFIG, "%s", msg);
	if (explode) {
		*explode = EX_SEG;
		if (c.i + 7 <= c.n && !memcmp(c.s + c.i, ".pairs(", 7)) {
			unsigned v;
			size_t len;

			c.i += 7;
			if (pc_num(&c, &v, &len) || v < 1 || len > 2 ||
			    c.i + len >= c.n || c.s[c.i + len] != ')')
				return ynode_err(m->yt, n, err, E_CONFIG,
						 "explode: %s.pairs(NN) names the element of the first qualifier (SDQ.pairs(03))",
						 sel->tag);
			at->elem = v;
			c.i += len + 1;
			*explode = EX_PAIRS;
		} else if (c.i < c.n && c.s[c.i] == '.') {
			c.i++;
			if (pc_eref(&c, sel->tag, at))
				return ynode_err(m->yt, n, err, E_CONFIG, "%s", msg);
			if (at->rep != E_REP_ALL)
				return ynode_err(m->yt, n, err, E_CONFIG,
						 "explode: by repeats is written %s.NN[*]",
						 sel->tag);
			*explode = EX_REPS;
		}
	}
	if (c.i != c.n)
		return ynode_err(m->yt, n, err, E_CONFIG,
				 "unexpected '%s' (write one segment: %s)",
				 c.s + c.i,
				 explode ? "SDQ.pairs(03), LOC or REF.02[*]"
					 : "LIN, HL[03=I]");
	return 0;
}

static int edi_each(struct mapping *m, const struct ynode *en, int *anchor,
		    struct err *err)
{
	struct edi_map *em = m->drv;
	const struct ynode *rn = m->cur_record;
	const struct ynode *un = ynode_get(rn, "until");
	const struct ynode *xn = ynode_get(rn, "explode");
	struct eanchor a;
	size_t i;

	memset(&a, 0, sizeof(a));
	if (!en || en->type != Y_SCALAR)
		return ynode_err(m->yt, en ? en : rn, err, E_CONFIG,
				 "for %s input each: names the loop's first segment (each: LIN, each: HL[03=I]) or the set (each: %s)",
				 m->format, em->x12 ? "ST" : "UNH");
	if (node_sel(m, en, &a.sel, NULL, NULL, err))
		return -1;
	a.t_each = en->value;
	if (!strcmp(a.sel.tag, em->x12 ? "ST" : "UNH")) {
		a.whole_set = 1;
		if (a.sel.cond.elem || a.sel.nth)
			return ynode_err(m->yt, en, err, E_CONFIG,
					 "each: %s takes no condition (use transaction:/message: and when:)",
					 a.sel.tag);
	} else if (a.sel.nth) {
		return ynode_err(m->yt, en, err, E_CONFIG,
				 "each: takes no occurrence: it names every matching segment");
	} else if (envelope_kind(em, a.sel.tag) ||
		   !strcmp(a.sel.tag, em->x12 ? "SE" : "UNT")) {
		return ynode_err(m->yt, en, err, E_CONFIG,
				 "each: %s is an envelope segment, not a loop",
				 a.sel.tag);
	}
	a.t_until = "";
	if (un) {
		const struct ynode *const *items =
			un->type == Y_SEQ ? (const struct ynode *const *)un->items
					  : &un;
		size_t n = un->type == Y_SEQ ? un->n : 1;

		if (a.whole_set)
			return ynode_err(m->yt, un, err, E_CONFIG,
					 "until: closes loops; each: %s is the whole set",
					 a.sel.tag);
		if ((un->type != Y_SEQ && un->type != Y_SCALAR) || n > E_MAX_UNTIL)
			return ynode_err(m->yt, un, err, E_CONFIG,
					 "until: is a list of up to %d segment tags ([CTT, SE])",
					 E_MAX_UNTIL);
		for (i = 0; i < n; i++) {
			struct esel s;

			if (items[i]->type != Y_SCALAR ||
			    node_sel(m, items[i], &s, NULL, NULL, err))
				return err->code ? -1
						 : ynode_err(m->yt, items[i], err, E_CONFIG,
							     "until: lists segment tags");
			if (s.cond.elem || s.nth)
				return ynode_err(m->yt, items[i], err, E_CONFIG,
						 "until: lists plain segment tags (no [...])");
			a.until[a.nuntil++] = s.code;
		}
		{
			char *t = arena_alloc(&m->pool.arena, 4 * n + 1);

			if (!t)
				return err_set(err, E_NOMEM, "out of memory");
			t[0] = '\0';
			for (i = 0; i < n; i++) {
				strcat(t, items[i]->value);
				strcat(t, ",");
			}
			a.t_until = t;
		}
	} else if (em->x12) {
		a.until[a.nuntil++] = TAGC("CTT");
	} else {
		a.until[a.nuntil++] = TAGC("UNS");
		a.until[a.nuntil++] = TAGC("CNT");
	}
	a.t_explode = "";
	if (xn) {
		if (xn->type != Y_SCALAR)
			return ynode_err(m->yt, xn, err, E_CONFIG,
					 "explode: is one of SEG.pairs(NN), SEG or SEG.NN[*]");
		if (node_sel(m, xn, &a.xsel, &a.xat, &a.explode, err))
			return -1;
		if (a.explode == EX_PAIRS && (a.xsel.cond.elem || a.xsel.nth))
			return ynode_err(m->yt, xn, err, E_CONFIG,
					 "explode: SEG.pairs(NN) reads every %s of the loop (no [...])",
					 a.xsel.tag);
		if (a.xsel.code == a.sel.code && a.explode == EX_SEG)
			return ynode_err(m->yt, xn, err, E_CONFIG,
					 "explode: %s is the loop itself", a.xsel.tag);
		a.t_explode = xn->value;
	}
	for (i = 0; i < em->nanchors; i++) {
		const struct eanchor *b = &em->anchors[i];

		if (!strcmp(b->t_each, a.t_each) &&
		    !strcmp(b->t_until, a.t_until) &&
		    !strcmp(b->t_explode, a.t_explode)) {
			*anchor = (int)i;
			em->cur_anchor = (int)i;
			return 0;
		}
	}
	em->anchors[em->nanchors] = a;
	*anchor = (int)em->nanchors;
	em->cur_anchor = (int)em->nanchors++;
	return 0;
}

static void edi_free(struct mapping *m)
{
	free(m->drv);
	m->drv = NULL;
}

/* map_driver.path_dep: an envelope value is the set's; a segment
 * found by tag and qualifier (PF_LOOP) is the one in the free segments
 * before the loop, fixed for the set, anchor and free-segment prefix
 * (one context, see scope_one()), unless the loop has a segment of its
 * tag (its bit in map_run.memo_vary, the loop's tag summary). The rest
 * (pair.*, [*], related loops) is read per scope. */
static int edi_path_dep(const struct mapping *m, int id, uint64_t *dep)
{
	const struct edi_map *em = m->drv;
	const struct epath *p = &em->paths[id];

	if (p->ctx)
		return 0;
	if (p->fast == PF_ENV) {
		*dep = 0;
		return 1;
	}
	if (p->fast == PF_LOOP) {
		const struct eanchor *an = em->cur_anchor >= 0
						   ? &em->anchors[em->cur_anchor]
						   : NULL;

		/* every loop of the record's anchor holds its tag, and a
		 * whole set holds every tag: such a read is per scope */
		if (!an || an->whole_set || an->sel.code == p->sel.code)
			return 0;
		*dep = p->tagbit;
		return 1;
	}
	return 0;
}

const struct map_driver map_driver_x12 = {
	"x12",
	",format,transaction,max_segment,max_set_segments,max_set_bytes,",
	edi_compile_input,
	edi_path,
	edi_each,
	NULL,
	map_edi_run_doc,
	edi_free,
	NULL,
	NULL,
	NULL,
	edi_path_dep,
};

const struct map_driver map_driver_edifact = {
	"edifact",
	",format,message,max_segment,max_set_segments,max_set_bytes,",
	edi_compile_input,
	edi_path,
	edi_each,
	NULL,
	map_edi_run_doc,
	edi_free,
	NULL,
	NULL,
	NULL,
	edi_path_dep,
};

const char *map_driver_record_keys(const struct map_driver *d)
{
	return d == &map_driver_x12 || d == &map_driver_edifact
		       ? ",until,explode,"
		       : ",explode,explode_max,";
}
