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
 * (ISA/GS, UNB/UNG). parent() follows the HL02 (CPS02) parent ids from
 * the loop's HL (CPS) segment.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/buf.h"
#include "transforms/formats/edi.h"
#include "transforms/formats/edifact_reader.h"
#include "mapping_int.h"
#include "transforms/formats/x12_reader.h"

#define E_MAX_PATHS 512
#define E_MAX_UNTIL 16
#define E_MAX_VALS 8
#define E_DEFAULT_MAX_SET_SEGMENTS 100000
#define E_DEFAULT_MAX_SET_BYTES (16u << 20)
#define E_REP_ALL UINT_MAX

#define TAGC(s)                                                           \
	((uint32_t)(unsigned char)(s)[0] |                                 \
	 (uint32_t)(unsigned char)(s)[1] << 8 |                            \
	 (uint32_t)(unsigned char)(s)[2] << 16)

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

/* ------------------------------------------------------------------ */
/* Compiled paths                                                        */

struct eref {
	unsigned elem;          /* 1-based element; 0 = none */
	unsigned comp;          /* 1-based component; 0 = the first */
	unsigned rep;           /* 1-based repeat; 0 = first; E_REP_ALL */
};

struct esel {
	char tag[4];
	uint32_t code;
	struct eref cond;       /* cond.elem 0: no condition */
	const char *vals[E_MAX_VALS];
	size_t vlen[E_MAX_VALS];
	size_t nvals;
	unsigned nth;           /* [N]: Nth occurrence in the loop, 0 = any */
	int pairs;              /* qualifier/value pairs (LIN, PO1, ...) */
};

enum { EP_SEG, EP_PAIR_ID, EP_PAIR_VALUE, EP_PAIR_INDEX };
enum { ENV_NONE, ENV_IC, ENV_GRP };

struct epath {
	int kind;
	int has_parent;
	struct esel parent;
	struct esel sel;
	struct eref at;
	int env;                /* the segment is ISA/UNB or GS/UNG */
	int ctx;                /* compiled in context: no loop segments */
	int sid;                /* paths with the same sid find the same
				 * segment (ZA[01=QA].02 and .03) */
	const char *text;
};

enum { EX_NONE, EX_PAIRS, EX_SEG, EX_REPS };

struct eanchor {
	int whole_set;          /* each: ST / UNH: the whole set */
	struct esel sel;
	uint32_t until[E_MAX_UNTIL];
	size_t nuntil;
	int explode;
	struct esel xsel;
	struct eref xat;
	const char *t_each, *t_until, *t_explode;
};

struct edi_map {
	int x12;
	const char *want[E_MAX_VALS];   /* transaction: / message: */
	size_t nwant;
	struct edi_opts ro;
	size_t max_set_segments, max_set_bytes;
	struct epath paths[E_MAX_PATHS];
	size_t npaths;
	struct eanchor anchors[MAP_MAX_RECORDS];
	size_t nanchors;
	int cur_anchor;         /* while compiling a record's fields */
};

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
	if (c->n >= 7 && !memcmp(c->s, "parent(", 7)) {
		c->i = 7;
		if (pc_sel(c, &p->parent))
			return -1;
		if (c->i >= c->n || c->s[c->i] != ')')
			return pc_err(c, "missing ')' after parent(%s", p->parent.tag);
		c->i++;
		if (strcmp(p->parent.tag, c->em->x12 ? "HL" : "CPS"))
			return pc_err(c, "parent() follows the %s hierarchy: parent(%s[...])", c->em->x12 ? "HL" : "CPS", c->em->x12 ? "HL[03=S]" : "CPS[...]");
		if (c->m->in_context || !an || strcmp(an->sel.tag, p->parent.tag))
			return pc_err(c, "parent(%s...) needs a record with each: %s (the loop whose parents are followed)", p->parent.tag, p->parent.tag);
		if (c->i >= c->n || c->s[c->i] != '.')
			return pc_err(c, "parent(...) is followed by a path: parent(HL[03=S]).TD5.05");
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

/* ------------------------------------------------------------------ */
/* The set buffer                                                        */

struct sseg {
	char tag[8];
	size_t data_off, tok_off, ef_off;
	size_t ntok;
	unsigned nelem;
	unsigned long num, num_in_set, line;
};

struct segstore {
	char *data;
	size_t dlen, dcap;
	struct edi_tok *tok;
	size_t ntok, tokcap;
	uint32_t *ef;
	size_t nef, efcap;
	struct sseg *seg;
	size_t nseg, segcap;
	/* Per segment, apart from seg[] so that scans over a set touch 4
	 * bytes a segment: the tag code (TAGC, 0 for a tag shorter than 2)
	 * and bit a set when the segment is inside a loop of anchor a. */
	uint32_t *code, *loops;
	size_t codecap;
};

static void store_reset(struct segstore *s)
{
	s->dlen = s->ntok = s->nef = s->nseg = 0;
}

static void store_free(struct segstore *s)
{
	free(s->data);
	free(s->tok);
	free(s->ef);
	free(s->seg);
	free(s->code);
	free(s->loops);
	memset(s, 0, sizeof(*s));
}

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t c = *cap ? *cap : 64;
	void *n;

	if (need <= *cap)
		return 0;
	while (c < need)
		c *= 2;
	if (!(n = realloc(*p, c * size)))
		return -1;
	*p = n;
	*cap = c;
	return 0;
}

/* Copies a reader segment into the store. */
static int store_add(struct segstore *s, const struct edi_seg *g,
		     struct err *err)
{
	/* Tokens lie one after the other (the readers write them so):
	 * the data ends with the last one's NUL. */
	size_t dl = g->tok[g->ntok - 1].off + g->tok[g->ntok - 1].len + 1;
	struct sseg *x;

	if (grow((void **)&s->data, &s->dcap, s->dlen + dl, 1) ||
	    grow((void **)&s->tok, &s->tokcap, s->ntok + g->ntok,
		 sizeof(*s->tok)) ||
	    grow((void **)&s->ef, &s->efcap, s->nef + g->nelem + 2,
		 sizeof(*s->ef)) ||
	    grow((void **)&s->seg, &s->segcap, s->nseg + 1, sizeof(*s->seg)))
		return err_set(err, E_NOMEM, "out of memory");
	if (s->nseg + 1 > s->codecap) {
		size_t cap = s->codecap;

		if (grow((void **)&s->code, &cap, s->nseg + 1, sizeof(*s->code)) ||
		    grow((void **)&s->loops, &s->codecap, s->nseg + 1,
			 sizeof(*s->loops)))
			return err_set(err, E_NOMEM, "out of memory");
	}
	s->code[s->nseg] = g->tag[0] && g->tag[1] ? TAGC(g->tag) : 0;
	s->loops[s->nseg] = 0;
	x = &s->seg[s->nseg++];
	memset(x, 0, sizeof(*x));
	memcpy(x->tag, g->tag, sizeof(x->tag));
	x->data_off = s->dlen;
	x->tok_off = s->ntok;
	x->ef_off = s->nef;
	x->ntok = g->ntok;
	x->nelem = g->nelem;
	x->num = g->num;
	x->num_in_set = g->num_in_set;
	x->line = g->line;
	memcpy(s->data + s->dlen, g->data, dl);
	s->dlen += dl;
	memcpy(s->tok + s->ntok, g->tok, g->ntok * sizeof(*g->tok));
	s->ntok += g->ntok;
	memcpy(s->ef + s->nef, g->elem_first, (g->nelem + 2) * sizeof(*g->elem_first));
	s->nef += g->nelem + 2;
	return 0;
}

static void store_view(const struct segstore *s, size_t i, struct edi_seg *v)
{
	const struct sseg *x = &s->seg[i];

	memset(v, 0, sizeof(*v));
	memcpy(v->tag, x->tag, sizeof(v->tag));
	v->data = s->data + x->data_off;
	v->tok = s->tok + x->tok_off;
	v->ntok = x->ntok;
	v->elem_first = s->ef + x->ef_off;
	v->nelem = x->nelem;
	v->num = x->num;
	v->num_in_set = x->num_in_set;
	v->line = x->line;
}

/* Value (e, r, c) of segment i of s, what edi_seg_value_len() reads
 * from store_view(), without building the view (per path, per record). */
static const char *sv_value(const struct segstore *s, size_t i, unsigned e,
			    unsigned r, unsigned c, size_t *len)
{
	const struct sseg *g = &s->seg[i];
	const struct edi_tok *t, *end;
	const uint32_t *ef;

	if (e > g->nelem || r == 0 || c == 0)
		return NULL;
	ef = s->ef + g->ef_off;
	end = s->tok + g->tok_off + ef[e + 1];
	for (t = s->tok + g->tok_off + ef[e]; t < end; t++) {
		if (t->rep == r && t->comp == c) {
			if (len)
				*len = t->len;
			return s->data + g->data_off + t->off;
		}
		if (t->rep > r)
			break;
	}
	return NULL;
}

/* A bit per tag code (of 64) for a loop's summary of the tags in it. */
static uint64_t tag_bit(uint32_t code)
{
	return (uint64_t)1 << ((code * 0x9E3779B1u) >> 26);
}

/* edi_seg_nrep() of segment i. */
static unsigned sv_nrep(const struct segstore *s, size_t i, unsigned e)
{
	const struct sseg *g = &s->seg[i];

	if (e > g->nelem)
		return 0;
	return s->tok[g->tok_off + s->ef[g->ef_off + e + 1] - 1].rep;
}

/* ------------------------------------------------------------------ */
/* Run                                                                  */

struct eloop {
	size_t start, end;      /* segment indexes [start, end) */
	int anchor;
	size_t nfree;           /* free segments of the anchor before start */
};

/* The segments of a set that are in no loop of one anchor, in order: what
 * a path that is not in the loop searches backward from the loop's start
 * (the set header, enclosing levels). Without this list that search
 * walked every earlier loop's segments for every path of every record,
 * which made a set of n lines cost O(n^2). */
struct efree {
	uint32_t *seg;
	size_t n, cap;
};

/* Where a path outside the loop was found (find_free) for one set,
 * anchor and free-segment prefix, and the value read there (anchor -1:
 * an envelope path, the same for the whole set). Values of [*] paths are
 * made per record, so only their segment is kept. */
struct efound {
	unsigned long set;      /* erun.nsets_mapped; 0 = nothing yet */
	int anchor;
	size_t nfree;
	long at;
	unsigned pair_at;
	int have_val;
	struct expr_val val;
	unsigned col;
};

struct erun {
	const struct edi_map *em;
	struct x12_reader *xr;
	struct edifact_reader *fr;
	struct segstore set, ic, grp;
	int set_open, set_over;
	char set_over_why[160];
	struct edi_issue set_issue, ic_issue, grp_issue, env_issue;
	/* for verdicts: the first group-level error of the open group, the
	 * first error of the interchange's own envelope (not in a set or
	 * group; kept from an ISA/UNB issue reported before the header) */
	int have_grp_issue, have_env_issue;
	/* data the reader skipped (unreadable headers, junk between
	 * interchanges): rejects at the end, or the document's failure when
	 * no interchange could be read at all */
	struct edi_issue lost[8];
	unsigned nlost, nlost_more;
	unsigned long nic_read;
	int have_set_issue, have_ic_issue;
	struct edi_delims delims;
	/* interchange */
	int ic_skip;
	unsigned long ic_num, ic_sets;
	struct mapping_interchange mic;
	char ic_sender[40], ic_receiver[40], ic_control[16];
	char set_control[16];
	/* loops of the set being mapped */
	struct eloop *loops;    /* grouped by anchor, in start order */
	size_t nloops, loopcap;
	struct eloop *order;    /* the same by (start, anchor) */
	size_t ordercap;
	struct efree free[MAP_MAX_RECORDS];
	struct efound found[E_MAX_PATHS];
	unsigned long nsets_mapped;
	/* per path sid: the segment found in the current scope */
	struct {
		unsigned long scope;    /* nscopes when found; 0 = never */
		long at;
		unsigned pair_at;
		int from_free;
	} sfound[E_MAX_PATHS];
	unsigned long nscopes;
	/* The context was evaluated for this anchor and free-segment prefix
	 * of the set being mapped (ctx_ok); it reads only the envelope and
	 * the free segments before the loop, so it is the same for every
	 * loop of the anchor that has the same free segments before it. */
	int ctx_ok, ctx_anchor;
	size_t ctx_nfree;
	/* the scope being mapped */
	const struct eloop *loop;
	uint64_t loop_tags;     /* tag_bit() of every segment in loop */
	size_t xs, xe;          /* explode item: segments [xs, xe) */
	int xkind;
	const char *pair_id, *pair_val;
	unsigned long pair_index;
	char pair_index_buf[24];
	unsigned long nscope[MAP_MAX_RECORDS];
	char where[96];
	struct buf raw, tmp;
};

static int sel_match(const struct esel *sel, const struct segstore *s,
		     size_t i, unsigned *pair_at)
{
	const char *x;
	size_t k, n;
	unsigned e, nelem = s->seg[i].nelem;

	if (!sel->cond.elem)
		return 1;
	for (e = sel->cond.elem; e <= nelem; e += 2) {
		x = sv_value(s, i, e, 1, sel->cond.comp ? sel->cond.comp : 1, &n);
		/* strcmp(x, val) == 0: a value is NUL-terminated in the
		 * store, so x[len(val)] is readable when n >= len(val) */
		for (k = 0; x && k < sel->nvals; k++)
			if (n >= sel->vlen[k] && x[sel->vlen[k]] == '\0' &&
			    !memcmp(x, sel->vals[k], sel->vlen[k])) {
				if (pair_at)
					*pair_at = e;
				return 1;
			}
		if (!sel->pairs || sel->cond.comp)
			break;
	}
	return 0;
}

static int seg_matches(const struct esel *sel, const struct segstore *s,
		       size_t i, unsigned *pair_at)
{
	/* The same as strcmp(tag, sel->tag) == 0: sel->tag has 2-3
	 * characters, code holds the first three bytes of the NUL-padded
	 * tag, so a longer tag differs at tag[3]. */
	if (s->code[i] != sel->code || s->seg[i].tag[3])
		return 0;
	*pair_at = 0;
	return sel_match(sel, s, i, pair_at);
}

/* Reads the value p->at of segment i of store sv into out (in the row
 * arena). */
static int read_value(struct map_run *run, const struct epath *p,
		      const struct segstore *sv, size_t i, unsigned pair_at,
		      struct expr_val *out, unsigned *col, struct err *err)
{
	struct erun *x = run->drv;
	unsigned e = p->at.elem, c = p->at.comp ? p->at.comp : 1;
	const char *s;
	size_t n;

	/* LIN[02=VN].03: the value after the matching qualifier. */
	if (p->sel.pairs && pair_at && p->sel.cond.elem &&
	    !p->sel.cond.comp && e == p->sel.cond.elem + 1)
		e = pair_at + 1;
	*col = e;
	if (p->at.rep == E_REP_ALL) {
		unsigned r, nr = sv_nrep(sv, i, e);

		buf_reset(&x->tmp);
		for (r = 1; r <= nr; r++) {
			s = sv_value(sv, i, e, r, c, &n);
			if (!s)
				continue;
			if (x->tmp.len)
				buf_addc(&x->tmp, ',');
			buf_add(&x->tmp, s, n);
		}
		if (!nr)
			return 0;
		if (x->tmp.err)
			return err_set(err, E_NOMEM, "out of memory");
		if (!(out->s = arena_strndup(&run->row_arena,
					     x->tmp.ptr ? x->tmp.ptr : "",
					     x->tmp.len)))
			return err_set(err, E_NOMEM, "out of memory");
		out->n = x->tmp.len;
		return 0;
	}
	s = sv_value(sv, i, e, p->at.rep ? p->at.rep : 1, c, &n);
	if (!s)
		return 0;
	/* ISA elements are fixed width, padded with blanks. */
	if (p->env == ENV_IC && x->em->x12)
		while (n && s[n - 1] == ' ')
			n--;
	out->s = s;
	out->n = n;
	return 0;
}

/* Searches segments [a, b) forward (dir 1) or backward for sel. */
static long find_in(const struct segstore *s, const struct esel *sel,
		    size_t a, size_t b, int dir, unsigned *pair_at,
		    unsigned *nth_seen)
{
	size_t i;

	if (a >= b)
		return -1;
	for (i = dir > 0 ? a : b - 1;; i = dir > 0 ? i + 1 : i - 1) {
		if (dir > 0 ? i >= b : 0)
			break;
		if (s->code[i] == sel->code &&
		    seg_matches(sel, s, i, pair_at)) {
			if (!sel->nth || ++*nth_seen == sel->nth)
				return (long)i;
		}
		if (dir < 0 && i == a)
			break;
	}
	return -1;
}

/* Searches the first nfree segments of free list f backward (nearest
 * first): the segments before a loop that belong to no loop of its
 * anchor. */
static long find_free(const struct segstore *s, const struct esel *sel,
		      const struct efree *f, size_t nfree, unsigned *pair_at)
{
	while (nfree-- > 0)
		if (seg_matches(sel, s, f->seg[nfree], pair_at))
			return (long)f->seg[nfree];
	return -1;
}

/* The HL (CPS) segment that is the parent of segment i, or -1. */
static long hl_parent(const struct segstore *s, size_t i)
{
	const char *pid;
	size_t j;

	pid = sv_value(s, i, 2, 1, 1, NULL);
	if (!pid || !*pid)
		return -1;
	for (j = i; j-- > 0;) {
		const char *id;

		if (s->code[j] != s->code[i])
			continue;
		id = sv_value(s, j, 1, 1, 1, NULL);
		if (id && !strcmp(id, pid))
			return (long)j;
	}
	return -1;
}

static size_t block_end(const struct segstore *s, size_t i)
{
	size_t j;

	for (j = i + 1; j < s->nseg; j++)
		if (s->code[j] == s->code[i])
			break;
	return j;
}

static int edi_rt_path(struct map_run *run, int id, struct expr_val *out,
		       unsigned *col, struct err *err)
{
	struct erun *x = run->drv;
	const struct epath *p = &x->em->paths[id];
	const struct segstore *s = &x->set;
	unsigned pair_at = 0, seen = 0;
	long at = -1;
	int from_free = 0;

	*col = 0;
	out->s = NULL;
	out->n = 0;
	switch (p->kind) {
	case EP_PAIR_ID:
		out->s = x->pair_id;
		out->n = x->pair_id ? strlen(x->pair_id) : 0;
		return 0;
	case EP_PAIR_VALUE:
		out->s = x->pair_val;
		out->n = x->pair_val ? strlen(x->pair_val) : 0;
		return 0;
	case EP_PAIR_INDEX:
		snprintf(x->pair_index_buf, sizeof(x->pair_index_buf), "%lu",
			 x->pair_index);
		out->s = x->pair_index_buf;
		out->n = strlen(out->s);
		return 0;
	default:
		break;
	}
	if (p->env) {
		const struct segstore *es = p->env == ENV_IC ? &x->ic : &x->grp;
		struct efound *f = &x->found[id];

		if (f->have_val && f->set == x->nsets_mapped && f->anchor == -1) {
			*out = f->val;
			*col = f->col;
			return 0;
		}
		if (es->nseg && read_value(run, p, es, 0, 0, out, col, err))
			return -1;
		f->set = x->nsets_mapped;
		f->anchor = -1;
		f->have_val = p->at.rep != E_REP_ALL;
		f->val = *out;
		f->col = *col;
		return 0;
	}
	if (!x->loop)
		return 0;
	if (p->has_parent) {
		long h = (long)x->loop->start;

		while ((h = hl_parent(s, (size_t)h)) >= 0) {
			if (seg_matches(&p->parent, s, (size_t)h, &pair_at))
				break;
		}
		if (h < 0)
			return 0;
		at = find_in(s, &p->sel, (size_t)h, block_end(s, (size_t)h), 1,
			     &pair_at, &seen);
		if (at < 0)
			return 0;
		return read_value(run, p, s, (size_t)at, pair_at, out, col, err);
	}
	if (x->sfound[p->sid].scope == x->nscopes) {
		/* another path of this selector found it in this scope */
		at = x->sfound[p->sid].at;
		pair_at = x->sfound[p->sid].pair_at;
		from_free = x->sfound[p->sid].from_free;
	} else {
		if (!p->ctx && (x->loop_tags & tag_bit(p->sel.code))) {
			if (x->xkind != EX_NONE)
				at = find_in(s, &p->sel, x->xs, x->xe, 1, &pair_at,
					     &seen);
			if (at < 0 && x->xkind != EX_NONE && !p->sel.nth) {
				at = find_in(s, &p->sel, x->loop->start, x->xs,
					     -1, &pair_at, &seen);
				if (at < 0)
					at = find_in(s, &p->sel, x->xe,
						     x->loop->end, 1, &pair_at,
						     &seen);
			} else if (at < 0) {
				at = find_in(s, &p->sel, x->loop->start,
					     x->loop->end, 1, &pair_at, &seen);
			}
		}
		if (at < 0 && !p->sel.nth) {
			/* The same for every loop with the same free
			 * segments before it: found once per set, anchor
			 * and prefix. */
			struct efound *f = &x->found[id];

			if (f->set != x->nsets_mapped ||
			    f->anchor != x->loop->anchor ||
			    f->nfree != x->loop->nfree) {
				f->at = find_free(s, &p->sel,
						  &x->free[x->loop->anchor],
						  x->loop->nfree, &f->pair_at);
				f->set = x->nsets_mapped;
				f->anchor = x->loop->anchor;
				f->nfree = x->loop->nfree;
				f->have_val = 0;
			}
			at = f->at;
			pair_at = f->pair_at;
			from_free = 1;
		}
		x->sfound[p->sid].scope = x->nscopes;
		x->sfound[p->sid].at = at;
		x->sfound[p->sid].pair_at = pair_at;
		x->sfound[p->sid].from_free = from_free;
	}
	if (at < 0)
		return 0;
	if (from_free && p->at.rep != E_REP_ALL) {
		/* a header value: the same for the loops that share the
		 * free segments before them */
		struct efound *f = &x->found[id];

		if (f->have_val && f->set == x->nsets_mapped &&
		    f->anchor == x->loop->anchor && f->nfree == x->loop->nfree) {
			*out = f->val;
			*col = f->col;
			return 0;
		}
		if (read_value(run, p, s, (size_t)at, pair_at, out, col, err))
			return -1;
		f->set = x->nsets_mapped;
		f->anchor = x->loop->anchor;
		f->nfree = x->loop->nfree;
		f->at = at;
		f->pair_at = pair_at;
		f->have_val = 1;
		f->val = *out;
		f->col = *col;
		return 0;
	}
	return read_value(run, p, s, (size_t)at, pair_at, out, col, err);
}

static void raw_seg(struct erun *x, const struct segstore *s, size_t i)
{
	const struct sseg *g = &s->seg[i];
	char el = x->em->x12 ? '*' : '+', co = x->em->x12 ? '>' : ':';
	char rp = x->em->x12 ? '^' : '*', te = x->em->x12 ? '~' : '\'';
	size_t t;

	if (x->delims.elem > 0 && x->delims.seg > 0 && x->delims.elem < 128 &&
	    x->delims.seg < 128) {
		el = (char)x->delims.elem;
		te = (char)x->delims.seg;
		if (x->delims.comp > 0 && x->delims.comp < 128)
			co = (char)x->delims.comp;
		if (x->delims.rep > 0 && x->delims.rep < 128)
			rp = (char)x->delims.rep;
	}
	buf_adds(&x->raw, g->tag);
	for (t = 0; t < g->ntok; t++) {
		const struct edi_tok *k = &s->tok[g->tok_off + t];

		if (k->elem == 0)
			continue;
		buf_addc(&x->raw, k->comp > 1 ? co : k->rep > 1 ? rp : el);
		buf_add(&x->raw, s->data + g->data_off + k->off, k->len);
	}
	buf_addc(&x->raw, te);
}

/* The scope's segments in the interchange's syntax, for the reject file. */
static const char *edi_raw(struct map_run *run, size_t *len)
{
	struct erun *x = run->drv;
	size_t i, a, b;

	buf_reset(&x->raw);
	if (x->loop) {
		a = x->xkind == EX_SEG ? x->xs : x->loop->start;
		b = x->xkind == EX_SEG ? x->xe : x->loop->end;
		if (x->xkind == EX_PAIRS || x->xkind == EX_REPS) {
			raw_seg(x, &x->set, x->loop->start);
			if (x->xs != x->loop->start)
				raw_seg(x, &x->set, x->xs);
		} else {
			for (i = a; i < b && x->raw.len < 4096; i++)
				raw_seg(x, &x->set, i);
		}
	}
	if (x->raw.err) {
		*len = 0;
		return NULL;
	}
	*len = x->raw.len;
	return x->raw.ptr ? x->raw.ptr : "";
}

static void set_where(struct map_run *run, size_t seg)
{
	struct erun *x = run->drv;
	const struct sseg *g = &x->set.seg[seg];

	char *w = x->where;
	size_t l;

	/* "ic %s set %s %s#%lu" by hand: snprintf per record was ~6% of the
	 * map stage. Every part is bounded by its array. */
	_Static_assert(sizeof(x->where) >= 3 + sizeof(x->ic_control) + 5 +
						   sizeof(x->set_control) + 1 +
						   sizeof(g->tag) + 1 + 21,
		       "where[] holds the longest text");
	memcpy(w, "ic ", 3);
	w += 3;
	l = strlen(x->ic_control);
	memcpy(w, x->ic_control, l);
	w += l;
	memcpy(w, " set ", 5);
	w += 5;
	l = strlen(x->set_control);
	memcpy(w, x->set_control, l);
	w += l;
	*w++ = ' ';
	l = strlen(g->tag);
	memcpy(w, g->tag, l);
	w += l;
	*w++ = '#';
	str_ulong(w, g->num_in_set);
	run->scope.where = x->where;
}

static void map_item(struct map_run *run, int a, size_t seg,
		     unsigned long sub)
{
	struct erun *x = run->drv;

	x->nscopes++;
	run->scope.line = x->set.seg[seg].num;
	run->scope.index = ++x->nscope[a];
	run->scope.seq = x->set.seg[seg].num * 1000 + sub;
	run->scope.raw = NULL;
	run->scope.raw_len = 0;
	run->scope.raw_fn = edi_raw;
	set_where(run, seg);
}

/* Maps the current scope of loop x->loop; the context is evaluated again
 * only when the loop's anchor or its free segments differ from the last
 * evaluation (see struct erun). */
static int scope_one(struct map_run *run, int a, struct err *err)
{
	struct erun *x = run->drv;
	int ctx = !x->ctx_ok || x->ctx_anchor != a ||
		  x->ctx_nfree != x->loop->nfree;

	if (ctx) {
		x->ctx_ok = 0;
		x->ctx_anchor = a;
		x->ctx_nfree = x->loop->nfree;
	}
	if (map_scope(run, a, ctx, err))
		return -1;
	if (ctx)
		x->ctx_ok = 1;
	return 0;
}

/* Maps one loop of anchor a, exploding it when asked. */
static int map_loop(struct map_run *run, const struct eloop *lp,
		    struct err *err)
{
	struct erun *x = run->drv;
	const struct eanchor *an = &x->em->anchors[lp->anchor];
	const struct segstore *s = &x->set;
	unsigned pair_at;
	unsigned long idx = 0;
	size_t i;

	x->loop = lp;
	/* Which tags the loop holds: a path whose tag is not among them
	 * (a header segment, an envelope value) skips the loop search. */
	x->loop_tags = 0;
	for (i = lp->start; i < lp->end; i++)
		x->loop_tags |= tag_bit(s->code[i]);
	x->xkind = an->explode;
	x->pair_id = x->pair_val = NULL;
	x->pair_index = 0;
	x->xs = x->xe = lp->start;
	if (an->explode == EX_NONE) {
		map_item(run, lp->anchor, lp->start, 0);
		return scope_one(run, lp->anchor, err);
	}
	for (i = lp->start; i < lp->end; i++) {
		if (!seg_matches(&an->xsel, s, i, &pair_at))
			continue;
		if (an->explode == EX_SEG) {
			size_t j;

			for (j = i + 1; j < lp->end; j++)
				if (s->code[j] == an->xsel.code)
					break;
			x->xs = i;
			x->xe = j;
			x->pair_index = ++idx;
			map_item(run, lp->anchor, i, 0);
			if (scope_one(run, lp->anchor, err))
				return -1;
		} else if (an->explode == EX_PAIRS) {
			unsigned e, k = 0;

			for (e = an->xat.elem; e <= s->seg[i].nelem; e += 2) {
				const char *id = sv_value(s, i, e, 1, 1, NULL);
				const char *val = sv_value(s, i, e + 1, 1, 1, NULL);

				if ((!id || !*id) && (!val || !*val))
					continue;
				x->xs = i;
				x->xe = i + 1;
				x->pair_id = id;
				x->pair_val = val;
				x->pair_index = ++idx;
				map_item(run, lp->anchor, i, ++k);
				if (scope_one(run, lp->anchor, err))
					return -1;
			}
		} else {
			unsigned r, nr = sv_nrep(s, i, an->xat.elem);

			for (r = 1; r <= nr; r++) {
				const char *val = sv_value(
					s, i, an->xat.elem, r,
					an->xat.comp ? an->xat.comp : 1, NULL);

				if (!val || !*val)
					continue;
				x->xs = i;
				x->xe = i + 1;
				x->pair_id = NULL;
				x->pair_val = val;
				x->pair_index = ++idx;
				map_item(run, lp->anchor, i, r);
				if (scope_one(run, lp->anchor, err))
					return -1;
			}
			break; /* the first matching segment's repeats */
		}
	}
	return 0;
}

/* Orders x->loops by (start, anchor) into x->order. The loops were added
 * anchor by anchor, each anchor's in start order, so this is a merge of
 * sorted runs (qsort of every set's loops was 3% of the map stage). */
static int order_loops(struct erun *x, struct err *err)
{
	size_t head[MAP_MAX_RECORDS], end[MAP_MAX_RECORDS];
	size_t nruns = 0, i, k;

	if (grow((void **)&x->order, &x->ordercap, x->nloops + 1,
		 sizeof(*x->order)))
		return err_set(err, E_NOMEM, "out of memory");
	for (i = 0; i < x->nloops; i++) {
		if (!i || x->loops[i].anchor != x->loops[i - 1].anchor) {
			head[nruns] = i;
			nruns++;
		}
		end[nruns - 1] = i + 1;
	}
	for (k = 0; k < x->nloops; k++) {
		size_t r, best = nruns;

		/* Runs are in anchor order: on equal starts the first
		 * run's loop wins, as (start, anchor) ordering wants. */
		for (r = 0; r < nruns; r++)
			if (head[r] < end[r] &&
			    (best == nruns ||
			     x->loops[head[r]].start < x->loops[head[best]].start))
				best = r;
		x->order[k] = x->loops[head[best]++];
	}
	return 0;
}

/* Builds x->free[a] for every anchor and counts each loop's free
 * segments before its start. */
static int free_lists(struct erun *x, struct err *err)
{
	const struct segstore *s = &x->set;
	size_t a, i, l;

	for (a = 0; a < x->em->nanchors; a++) {
		struct efree *f = &x->free[a];

		f->n = 0;
		if (grow((void **)&f->seg, &f->cap, s->nseg, sizeof(*f->seg)))
			return err_set(err, E_NOMEM, "out of memory");
		for (i = 0; i < s->nseg; i++)
			if (!(s->loops[i] & (1u << a)))
				f->seg[f->n++] = (uint32_t)i;
	}
	/* Loops are still grouped by anchor in start order here. */
	for (l = 0; l < x->nloops; l++) {
		const struct efree *f = &x->free[x->loops[l].anchor];
		size_t k = l && x->loops[l - 1].anchor == x->loops[l].anchor
				   ? x->loops[l - 1].nfree
				   : 0;

		while (k < f->n && f->seg[k] < x->loops[l].start)
			k++;
		x->loops[l].nfree = k;
	}
	return 0;
}

static int add_loop(struct erun *x, size_t start, size_t end, int anchor,
		    struct err *err)
{
	size_t i;

	if (grow((void **)&x->loops, &x->loopcap, x->nloops + 1,
		 sizeof(*x->loops)))
		return err_set(err, E_NOMEM, "out of memory");
	x->loops[x->nloops].start = start;
	x->loops[x->nloops].end = end;
	x->loops[x->nloops].anchor = anchor;
	x->loops[x->nloops].nfree = 0;
	x->nloops++;
	for (i = start; i < end; i++)
		x->set.loops[i] |= 1u << anchor;
	return 0;
}

/* The set in x->set closed well-formed: find the loops, map them in
 * input order. */
static int map_set(struct map_run *run, struct err *err)
{
	struct erun *x = run->drv;
	const struct edi_map *em = x->em;
	struct segstore *s = &x->set;
	uint32_t trailer = TAGC(em->x12 ? "SE\0" : "UNT");
	size_t a, i, n = s->nseg;
	unsigned pair_at;

	x->nsets_mapped++;
	x->nloops = 0;
	for (i = 0; i < n; i++)
		s->loops[i] = 0;
	for (a = 0; a < em->nanchors; a++) {
		const struct eanchor *an = &em->anchors[a];
		long open = -1;

		if (an->whole_set) {
			if (add_loop(x, 0, n, (int)a, err))
				return -1;
			continue;
		}
		for (i = 0; i < n; i++) {
			uint32_t c = s->code[i];
			size_t u;
			int close = c == trailer || c == an->sel.code;

			for (u = 0; !close && u < an->nuntil; u++)
				close = c == an->until[u];
			if (close && open >= 0) {
				if (add_loop(x, (size_t)open, i, (int)a, err))
					return -1;
				open = -1;
			}
			if (c == an->sel.code && seg_matches(&an->sel, s, i, &pair_at))
				open = (long)i;
		}
		if (open >= 0 && add_loop(x, (size_t)open, n, (int)a, err))
			return -1;
	}
	if (free_lists(x, err))
		return -1;
	if (order_loops(x, err))
		return -1;
	x->ctx_ok = 0;
	for (i = 0; i < x->nloops; i++)
		if (map_loop(run, &x->order[i], err))
			return -1;
	x->loop = NULL;
	return 0;
}

/* One reject for a set that is not mapped, at the segment the problem was
 * found on (or the set header). */
static int reject_set(struct map_run *run, const struct edi_ctx *ctx,
		      const struct edi_issue *is, const char *why,
		      struct err *err)
{
	struct erun *x = run->drv;
	char reason[700], field[24] = "", where[200] = "";
	unsigned long segno = is ? is->seg_in_file : 0;
	size_t i;

	x->loop = NULL;
	buf_reset(&x->raw);
	if (is && is->seg_in_file) {
		for (i = 0; i < x->set.nseg; i++)
			if (x->set.seg[i].num == is->seg_in_file) {
				raw_seg(x, &x->set, i);
				break;
			}
		snprintf(where, sizeof(where), "segment %lu (%s%s%lu in set)",
			 is->seg_in_file, is->seg_id, is->seg_in_set ? ", #" : "",
			 is->seg_in_set);
		if (!is->seg_in_set)
			snprintf(where, sizeof(where), "segment %lu (%s)",
				 is->seg_in_file, is->seg_id);
		if (is->elem)
			snprintf(field, sizeof(field), "%.7s%02u", is->seg_id,
				 is->elem);
		else
			snprintf(field, sizeof(field), "%.7s", is->seg_id);
	} else if (x->set.nseg) {
		segno = x->set.seg[0].num;
		raw_seg(x, &x->set, 0);
		snprintf(where, sizeof(where), "segment %lu (%s)", segno,
			 x->set.seg[0].tag);
	}
	snprintf(reason, sizeof(reason),
		 "interchange %lu (%s), %s %s %s: %s%s%s: %s; the %s is not loaded",
		 ctx->ic_index, ctx->ic_control,
		 x->em->x12 ? "set" : "message", ctx->set_type,
		 ctx->set_control, where,
		 is && is->elem ? ", element " : "",
		 is && is->elem ? field : "", why,
		 x->em->x12 ? "set" : "message");
	run->scope.line = segno;
	run->scope.raw = x->raw.err ? "" : x->raw.ptr ? x->raw.ptr : "";
	run->scope.raw_len = x->raw.err ? 0 : x->raw.len;
	run->scope.raw_fn = NULL;
	run->have_scope = 1;
	run->st.input_records++;
	return map_reject(run, is ? is->elem : 0, field, reason, err);
}

static int type_wanted(const struct edi_map *em, const char *type)
{
	size_t i;

	if (!em->nwant)
		return 1;
	for (i = 0; i < em->nwant; i++)
		if (!strcmp(em->want[i], type))
			return 1;
	return 0;
}

/* The value of the element an issue names, from the stored set. */
static const char *issue_value(const struct erun *x,
			       const struct edi_issue *is)
{
	struct edi_seg v;
	const char *val;
	size_t i;

	if (!is || !is->elem || !is->seg_in_file)
		return "";
	for (i = 0; i < x->set.nseg; i++)
		if (x->set.seg[i].num == is->seg_in_file) {
			store_view(&x->set, i, &v);
			val = edi_seg_value(&v, is->elem, 1, 1);
			return val ? val : "";
		}
	return "";
}

static int send_verdict(struct map_run *run, int level,
			const struct edi_event *ev,
			const struct edi_issue *is, int unsupported,
			int too_large, struct err *err)
{
	struct erun *x = run->drv;
	struct mapping_verdict v;

	if (!run->verdict)
		return 0;
	memset(&v, 0, sizeof(v));
	v.level = level;
	v.ctx = ev->ctx;
	/* A set: its own verdict. A group or interchange: only errors of its
	 * own envelope (the reader's ok also counts the sets' errors). */
	v.ok = level == MAPPING_V_SET ? ev->ok && !unsupported && !too_large
				      : !is;
	v.issue = level == MAPPING_V_SET && ev->ok ? NULL : is;
	v.bad_value = level == MAPPING_V_SET ? issue_value(x, v.issue) : "";
	v.nseg = level == MAPPING_V_SET ? x->set.nseg : 0;
	v.unsupported = unsupported;
	v.too_large = too_large;
	v.skipped = x->ic_skip;
	return run->verdict(run->verdict_ud, &v, err);
}

static int on_grp_end(struct map_run *run, const struct edi_event *ev,
		      struct err *err)
{
	struct erun *x = run->drv;
	int rc = send_verdict(run, MAPPING_V_GROUP, ev,
			      x->have_grp_issue ? &x->grp_issue : NULL, 0, 0,
			      err);

	x->have_grp_issue = 0;
	return rc;
}

static int on_set_end(struct map_run *run, const struct edi_event *ev,
		      struct err *err)
{
	struct erun *x = run->drv;
	const struct edi_ctx *ctx = ev->ctx;
	int rc = 0;

	if (!x->set_open)
		return 0;
	x->set_open = 0;
	x->ic_sets++;
	{
		const struct edi_issue *vis = x->have_set_issue ? &x->set_issue
					      : x->have_ic_issue ? &x->ic_issue
								 : NULL;

		if (send_verdict(run, MAPPING_V_SET, ev, vis,
				 ev->ok && !x->set_over && !x->ic_skip &&
					 !type_wanted(x->em, ctx->set_type),
				 ev->ok && x->set_over, err))
			return -1;
	}
	if (x->ic_skip) {
		run->st.skipped++;
	} else if (!ev->ok) {
		const struct edi_issue *is = x->have_set_issue ? &x->set_issue
					     : x->have_ic_issue ? &x->ic_issue
								: NULL;

		rc = reject_set(run, ctx, is,
				is ? is->reason : "the envelope around the set is broken",
				err);
	} else if (x->set_over) {
		rc = reject_set(run, ctx, NULL, x->set_over_why, err);
	} else if (!type_wanted(x->em, ctx->set_type)) {
		char why[200];

		snprintf(why, sizeof(why),
			 "%s %s is not read by this mapping (%s: %s%s)",
			 x->em->x12 ? "transaction set" : "message type",
			 ctx->set_type,
			 x->em->x12 ? "transaction" : "message", x->em->want[0],
			 x->em->nwant > 1 ? ", ..." : "");
		rc = reject_set(run, ctx, NULL, why, err);
	} else {
		rc = map_set(run, err);
	}
	store_reset(&x->set);
	x->have_set_issue = 0;
	return rc;
}

static void mic_fill(struct erun *x, const struct edi_ctx *ctx)
{
	snprintf(x->ic_sender, sizeof(x->ic_sender), "%s", ctx->ic_sender);
	snprintf(x->ic_receiver, sizeof(x->ic_receiver), "%s", ctx->ic_receiver);
	snprintf(x->ic_control, sizeof(x->ic_control), "%s", ctx->ic_control);
	memset(&x->mic, 0, sizeof(x->mic));
	x->mic.format = x->em->x12 ? "x12" : "edifact";
	x->mic.sender = x->ic_sender;
	x->mic.receiver = x->ic_receiver;
	x->mic.control = x->ic_control;
	x->mic.sha256 = "";
	x->mic.index = ctx->ic_index;
}

static int on_ic_start(struct map_run *run, const struct edi_event *ev,
		       struct err *err)
{
	struct erun *x = run->drv;
	const struct mapping_sink *sk = run->sink;
	char why[300] = "";
	int r;

	mic_fill(x, ev->ctx);
	x->mic.segment = ev->seg->num;
	x->nic_read++;
	x->ic_skip = 0;
	x->ic_sets = 0;
	x->ic_num = ev->seg->num;
	x->have_ic_issue = 0;
	x->have_grp_issue = 0;
	x->delims = ev->ctx->delims;
	if (ev->ctx->ebcdic)
		memset(&x->delims, 0, sizeof(x->delims));
	if (!sk->interchange)
		return 0;
	r = sk->interchange(sk->ud, MAPPING_IC_START, &x->mic, why,
			    sizeof(why), err);
	if (r < 0)
		return -1;
	x->ic_skip = r == 1;
	return 0;
}

static int on_ic_end(struct map_run *run, const struct edi_event *ev,
		     struct err *err)
{
	struct erun *x = run->drv;
	const struct mapping_sink *sk = run->sink;
	char why[400] = "";
	int r;

	if (x->set_open) {
		/* cut off inside a set: the reader ends it first; defensive */
		x->set_open = 0;
		store_reset(&x->set);
	}
	if (!x->ic_num)
		return 0;
	if (send_verdict(run, MAPPING_V_IC, ev,
			 x->have_env_issue ? &x->env_issue : NULL, 0, 0, err))
		return -1;
	x->have_env_issue = 0;
	x->mic.sha256 = ev->ctx->ic_sha256;
	x->mic.sets = x->ic_sets;
	x->mic.ok = ev->ok;
	x->mic.skipped = x->ic_skip;
	if (sk->interchange) {
		r = sk->interchange(sk->ud, MAPPING_IC_END, &x->mic, why,
				    sizeof(why), err);
		if (r < 0)
			return -1;
		if (r == 1) {
			char reason[600];

			snprintf(reason, sizeof(reason),
				 "interchange %lu (%s) from %s to %s: %s",
				 x->mic.index, x->ic_control, x->ic_sender,
				 x->ic_receiver, why);
			buf_reset(&x->raw);
			if (x->ic.nseg)
				raw_seg(x, &x->ic, 0);
			x->loop = NULL;
			run->scope.line = x->ic_num;
			run->scope.raw = x->raw.err ? "" : x->raw.ptr ? x->raw.ptr : "";
			run->scope.raw_len = x->raw.err ? 0 : x->raw.len;
			run->scope.raw_fn = NULL;
			run->have_scope = 1;
			run->st.input_records++;
			if (map_reject(run, 0, x->em->x12 ? "ISA13" : "UNB05",
				       reason, err))
				return -1;
		}
	}
	x->ic_num = 0;
	x->ic_skip = 0;
	store_reset(&x->ic);
	store_reset(&x->grp);
	return 0;
}

static int on_segment(struct map_run *run, const struct edi_event *ev,
		      struct err *err)
{
	struct erun *x = run->drv;
	const struct edi_map *em = x->em;
	const struct edi_seg *g = ev->seg;
	/* Tags by their code (tag[3] == 0: no longer tag shares it). */
	uint32_t tc = g->tag[3] ? 0 : TAGC(g->tag);
	int env = tc == (em->x12 ? TAGC("ISA") : TAGC("UNB")) ? ENV_IC
		  : tc == (em->x12 ? TAGC("GS\0") : TAGC("UNG")) ? ENV_GRP
								 : ENV_NONE;

	if (env == ENV_IC) {
		store_reset(&x->ic);
		store_reset(&x->grp);
		if (store_add(&x->ic, g, err))
			return -1;
		return on_ic_start(run, ev, err);
	}
	if (env == ENV_GRP) {
		x->have_grp_issue = 0;
		store_reset(&x->grp);
		return store_add(&x->grp, g, err);
	}
	if (tc == (em->x12 ? TAGC("ST\0") : TAGC("UNH"))) {
		store_reset(&x->set);
		x->set_open = 1;
		x->set_over = 0;
		snprintf(x->set_control, sizeof(x->set_control), "%s",
			 ev->ctx->set_control);
		x->have_set_issue = 0;
	}
	if (!x->set_open || x->set_over || x->ic_skip)
		return 0;
	if (x->set.nseg >= em->max_set_segments ||
	    x->set.dlen + g->ntok * 2 + 64 > em->max_set_bytes) {
		x->set_over = 1;
		snprintf(x->set_over_why, sizeof(x->set_over_why),
			 "the set is larger than %s (%zu) at segment %lu",
			 x->set.nseg >= em->max_set_segments
				 ? "input.max_set_segments"
				 : "input.max_set_bytes",
			 x->set.nseg >= em->max_set_segments
				 ? em->max_set_segments
				 : em->max_set_bytes,
			 g->num);
		store_reset(&x->set);
		return 0;
	}
	return store_add(&x->set, g, err);
}

static int on_issue(struct map_run *run, const struct edi_event *ev,
		    struct err *err)
{
	struct erun *x = run->drv;
	const struct edi_issue *is = ev->issue;

	if (is->severity != EDI_ERROR)
		return 0;
	if (is->code == EDI_I_NO_INTERCHANGE)
		return err_at(err, E_PARSE, run->doc->name, is->seg_in_file, 0,
			      "%s", is->reason);
	if (x->set_open || is->seg_in_set) {
		if (!x->have_set_issue) {
			x->set_issue = *is;
			x->have_set_issue = 1;
		}
	} else {
		if (!x->have_ic_issue) {
			x->ic_issue = *is;
			x->have_ic_issue = 1;
		}
		if (ev->ctx->grp_open || !strcmp(is->seg_id, "GE") ||
		    !strcmp(is->seg_id, "UNE")) {
			if (!x->have_grp_issue) {
				x->grp_issue = *is;
				x->have_grp_issue = 1;
			}
		} else if (!x->have_env_issue) {
			x->env_issue = *is;
			x->have_env_issue = 1;
		}
	}
	if (is->code == EDI_I_UNREADABLE || is->code == EDI_I_OUTSIDE) {
		if (x->nlost < sizeof(x->lost) / sizeof(x->lost[0]))
			x->lost[x->nlost++] = *is;
		else
			x->nlost_more++;
	}
	return 0;
}

/* At the end of the document: skipped data is a reject each (nothing of
 * it was loaded), or, when not one interchange was readable, the
 * document's failure. */
static int report_lost(struct map_run *run, struct err *err)
{
	struct erun *x = run->drv;
	unsigned i;

	if (!x->nlost)
		return 0;
	if (!x->nic_read)
		return err_at(err, E_PARSE, run->doc->name,
			      x->lost[0].seg_in_file, 0,
			      "no readable interchange: %s", x->lost[0].reason);
	for (i = 0; i < x->nlost; i++) {
		const struct edi_issue *is = &x->lost[i];
		char reason[400];

		snprintf(reason, sizeof(reason), "%s%s", is->reason,
			 i + 1 == x->nlost && x->nlost_more
				 ? " (and more skipped data after it)"
				 : "");
		x->loop = NULL;
		run->scope.line = is->seg_in_file;
		run->scope.raw = "";
		run->scope.raw_len = 0;
		run->scope.raw_fn = NULL;
		run->have_scope = 1;
		run->st.input_records++;
		if (map_reject(run, 0, is->seg_id, reason, err))
			return -1;
	}
	return 0;
}

static int edi_next(struct erun *x, struct edi_event *ev, struct err *err)
{
	return x->xr ? x12_reader_next(x->xr, ev, err)
		     : edifact_reader_next(x->fr, ev, err);
}

static int edi_run_doc(struct map_run *run, struct err *err)
{
	const struct edi_map *em = run->m->drv;
	struct erun *x = calloc(1, sizeof(*x));
	struct edi_event ev;
	struct edi_opts ro;
	unsigned char head[4096];
	ssize_t hn;
	size_t i;
	int fd = -1, rc = -1, n, fmt;

	if (!x)
		return err_set(err, E_NOMEM, "out of memory");
	x->em = em;
	buf_init(&x->raw, 1u << 20);
	buf_init(&x->tmp, em->ro.max_segment + 1024);
	run->drv = x;
	run->path = edi_rt_path;
	fd = open(run->doc->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err_sys(err, "open %s", run->doc->path);
		goto cleanup;
	}
	hn = pread(fd, head, sizeof(head), 0);
	if (hn < 0) {
		err_sys(err, "read %s", run->doc->path);
		goto cleanup;
	}
	fmt = edi_sniff(head, (size_t)hn);
	if ((fmt == EDI_FMT_X12 && !em->x12) ||
	    (fmt == EDI_FMT_EDIFACT && em->x12) ||
	    fmt == EDI_FMT_XML || fmt == EDI_FMT_EMPTY) {
		err_at(err, E_PARSE, run->doc->name, 0, 0,
		       "this is %s %s file, but the mapping reads %s",
		       fmt == EDI_FMT_EDIFACT || fmt == EDI_FMT_EMPTY ? "an" : "an",
		       edi_format_name(fmt), run->m->format);
		goto cleanup;
	}
	/* The per-interchange SHA-256 is only for the sink's interchange()
	 * hook (duplicate interchanges); without one it is not computed. */
	ro = em->ro;
	ro.no_hash = !run->sink->interchange;
	if (em->x12 ? x12_reader_open_fd(&x->xr, fd, run->doc->name, &ro, err)
		    : edifact_reader_open_fd(&x->fr, fd, run->doc->name, &ro, err))
		goto cleanup;
	while ((n = edi_next(x, &ev, err)) == 1) {
		int r = 0;

		switch (ev.kind) {
		case EDI_EV_SEGMENT: r = on_segment(run, &ev, err); break;
		case EDI_EV_ISSUE: r = on_issue(run, &ev, err); break;
		case EDI_EV_SET_END: r = on_set_end(run, &ev, err); break;
		case EDI_EV_GROUP_END: r = on_grp_end(run, &ev, err); break;
		case EDI_EV_IC_END: r = on_ic_end(run, &ev, err); break;
		default: break;
		}
		if (r)
			goto cleanup;
	}
	if (n < 0 || report_lost(run, err))
		goto cleanup;
	rc = 0;
cleanup:
	if (rc && !err->file[0])
		err_locate(err, run->doc->name, 0, 0, NULL);
	x12_reader_free(x->xr);
	edifact_reader_free(x->fr);
	if (fd >= 0)
		close(fd);
	store_free(&x->set);
	store_free(&x->ic);
	store_free(&x->grp);
	free(x->loops);
	free(x->order);
	for (i = 0; i < MAP_MAX_RECORDS; i++)
		free(x->free[i].seg);
	buf_release(&x->raw);
	buf_release(&x->tmp);
	free(x);
	run->drv = NULL;
	return rc;
}

const struct map_driver map_driver_x12 = {
	"x12",
	",format,transaction,max_segment,max_set_segments,max_set_bytes,",
	edi_compile_input,
	edi_path,
	edi_each,
	NULL,
	edi_run_doc,
	edi_free,
};

const struct map_driver map_driver_edifact = {
	"edifact",
	",format,message,max_segment,max_set_segments,max_set_bytes,",
	edi_compile_input,
	edi_path,
	edi_each,
	NULL,
	edi_run_doc,
	edi_free,
};

const char *map_driver_record_keys(const struct map_driver *d)
{
	return d == &map_driver_x12 || d == &map_driver_edifact
		       ? ",until,explode,"
		       : NULL;
}
