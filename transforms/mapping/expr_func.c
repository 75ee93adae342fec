/* expr_func.c - the function library of the expression language: for
 * each function its compile-time prep (checks constant arguments, builds
 * c->data) and its run-time run, and the table that names them. */
#include "expr_int.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/suggest.h"
#include "transforms/model/dec.h"
#include "transforms/model/dt.h"

/* ------------------------------------------------------------------ */
/* Compile-time helpers for functions                                   */

static int const_arg(struct cc *cc, struct call *c, size_t i, const char **s)
{
	struct expr *e = c->args[i];

	if (e->kind != N_CONST || e->nstages)
		return expr_cerr(cc, e->col - cc->sc->col,
			    "argument %zu of %s() must be a constant", i + 1,
			    c->fn->name);
	*s = e->s;
	return 0;
}

static int int_arg(struct cc *cc, struct call *c, size_t i, long lo, long hi,
		   long *out)
{
	const char *s;
	char *end;
	long v;

	if (const_arg(cc, c, i, &s))
		return -1;
	v = strtol(s, &end, 10);
	if (!*s || *end || v < lo || v > hi)
		return expr_cerr(cc, c->args[i]->col - cc->sc->col,
			    "argument %zu of %s() must be a whole number from %ld to %ld",
			    i + 1, c->fn->name, lo, hi);
	*out = v;
	return 0;
}

static struct expr *named(const struct call *c, const char *name,
			  unsigned *col)
{
	size_t i;

	for (i = 0; i < c->nnamed; i++)
		if (!strcmp(c->names[i], name)) {
			if (col)
				*col = c->ncols[i];
			return c->nvals[i];
		}
	return NULL;
}

static int named_const(struct cc *cc, struct call *c, const char *name,
		       const char **s)
{
	unsigned col;
	struct expr *e = named(c, name, &col);

	*s = NULL;
	if (!e)
		return 0;
	if (e->kind != N_CONST || e->nstages)
		return expr_cerr(cc, col - cc->sc->col,
			    "option '%s' of %s() must be a constant", name,
			    c->fn->name);
	*s = e->s;
	return 1;
}

static int named_bool(struct cc *cc, struct call *c, const char *name,
		      int *out)
{
	const char *s;
	int rc = named_const(cc, c, name, &s);

	*out = 0;
	if (rc <= 0)
		return rc;
	if (!strcmp(s, "true") || !strcmp(s, "yes"))
		*out = 1;
	else if (strcmp(s, "false") && strcmp(s, "no")) {
		unsigned col;

		named(c, name, &col);
		return expr_cerr(cc, col - cc->sc->col,
			    "option '%s' of %s() is true or false, not '%s'",
			    name, c->fn->name, s);
	}
	return 0;
}

static struct tz *pool_tz(struct cc *cc, const char *name, unsigned col)
{
	struct expr_pool *p = cc->pool;
	struct tz *z;
	size_t i;
	struct err e = ERR_INIT;

	for (i = 0; i < p->ntz; i++)
		if (!strcmp(tz_name(p->tzs[i]), name))
			return p->tzs[i];
	if (tz_load(name, &z, &e)) {
		expr_cerr(cc, col - cc->sc->col, "%s", e.reason);
		cc->err->code = e.code;
		return NULL;
	}
	if (p->ntz == p->captz) {
		size_t cap = p->captz ? p->captz * 2 : 4;
		struct tz **t = realloc(p->tzs, cap * sizeof(*t));

		if (!t) {
			tz_free(z);
			err_set(cc->err, E_NOMEM, "out of memory");
			return NULL;
		}
		p->tzs = t;
		p->captz = cap;
	}
	p->tzs[p->ntz++] = z;
	return z;
}

/* ------------------------------------------------------------------ */
/* Evaluation helpers                                                   */

static int eval_arg(const struct expr *e, struct expr_rt *rt,
		    struct expr_val *v, struct err *err)
{
	return expr_eval(e, rt, v, err);
}

static int absent(const struct expr_val *v)
{
	return !v->s || !v->n;
}

/* Values are views into NUL-terminated storage; copy only when a view
 * ends before the terminator. */
const char *expr_cstr(struct expr_rt *rt, const struct expr_val *v,
		      struct err *err)
{
	char *p;

	if (!v->s)
		return "";
	if (v->s[v->n] == '\0')
		return v->s;
	if (!(p = arena_strndup(rt->a, v->s, v->n)))
		err_set(err, E_NOMEM, "out of memory");
	return p;
}

static int mapfail(struct err *err, const char *what, const struct expr_val *v)
{
	return err_set(err, E_MAP, "%s: '%.*s'", what,
		       (int)(v->n > 80 ? 80 : v->n), v->s ? v->s : "");
}

static char *rt_alloc(struct expr_rt *rt, size_t n, struct err *err)
{
	char *p = arena_alloc(rt->a, n + 1);

	if (!p)
		err_set(err, E_NOMEM, "out of memory");
	return p;
}

static size_t u8len(const char *s, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			k++;
	return k;
}

/* Byte offset of the k-th code point (0-based), or n. */
static size_t u8off(const char *s, size_t n, size_t k)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (((unsigned char)s[i] & 0xC0) != 0x80) {
			if (!k)
				return i;
			k--;
		}
	}
	return n;
}

/* ------------------------------------------------------------------ */
/* The functions                                                        */

static int isblank_c(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int in_set(const char *set, char c)
{
	return set ? strchr(set, c) != NULL && c : isblank_c(c);
}

void expr_strip(struct expr_val *v, const char *set, int left, int right)
{
	if (!v->s)
		return;
	if (!set && v->n) {
		/* Most values start and end with a visible byte that is
		 * not part of U+00A0: nothing to strip. */
		unsigned char a = (unsigned char)v->s[0];
		unsigned char z = (unsigned char)v->s[v->n - 1];

		if ((!left || (a > ' ' && a != 0xC2)) &&
		    (!right || (z > ' ' && z != 0xA0)))
			return;
	}
	while (left && v->n && in_set(set, v->s[0]))
		v->s++, v->n--;
	while (right && v->n && in_set(set, v->s[v->n - 1]))
		v->n--;
	/* Also treat U+00A0 (no-break space) as blank for trim: partner
	 * exports from spreadsheets are full of it. */
	if (!set) {
		while (left && v->n >= 2 && (unsigned char)v->s[0] == 0xC2 &&
		       (unsigned char)v->s[1] == 0xA0) {
			v->s += 2;
			v->n -= 2;
			while (v->n && isblank_c(v->s[0]))
				v->s++, v->n--;
		}
		while (right && v->n >= 2 &&
		       (unsigned char)v->s[v->n - 2] == 0xC2 &&
		       (unsigned char)v->s[v->n - 1] == 0xA0) {
			v->n -= 2;
			while (v->n && isblank_c(v->s[v->n - 1]))
				v->n--;
		}
	}
}

static int f_trim(const struct call *c, struct expr_rt *rt,
		  struct expr_val *v, struct err *err)
{
	const char *set = c->data;
	/* trim/strip both sides, ltrim/lstrip the left, rtrim/rstrip the
	 * right: the first letter says (four strcmp per value before) */
	int l = c->fn->name[0] != 'r';
	int r = c->fn->name[0] != 'l';

	(void)rt;
	(void)err;
	expr_strip(v, set, l, r);
	return 0;
}

static int p_strip(struct cc *cc, struct call *c)
{
	const char *s = NULL;

	if (const_arg(cc, c, 0, &s))
		return -1;
	if (!*s)
		return expr_cerr(cc, c->args[0]->col - cc->sc->col,
			    "%s() needs at least one character to strip",
			    c->fn->name);
	c->data = (void *)s;
	return 0;
}

/* ASCII and Latin-1 letters (U+00C0-U+00FE), enough for the European
 * product names partners send, with no locale involved. */
static int f_case(const struct call *c, struct expr_rt *rt,
		  struct expr_val *v, struct err *err)
{
	int up = c->fn->name[0] == 'u';
	char *p;
	size_t i;

	if (!v->s)
		return 0;
	/* Most codes are already in the wanted case: the value is kept
	 * as it is (a view, like trim's) when no byte would change. ASCII
	 * words without a letter to change are passed 8 bytes at a time
	 * (for a byte b < 0x80, b + 0x1f reaches bit 7 from 'a' on and
	 * b + 0x05 from '{' on; 0x3f and 0x25 bound 'A'..'Z'; no carry
	 * crosses a byte), the rest byte by byte as before. */
	for (i = 0; i + 8 <= v->n; i += 8) {
		const uint64_t ones = 0x0101010101010101ULL, high = ones * 0x80;
		uint64_t w;

		memcpy(&w, v->s + i, 8);
		if (w & high)
			break;
		if ((up ? (w + ones * 0x1f) & ~(w + ones * 0x05)
			: (w + ones * 0x3f) & ~(w + ones * 0x25)) & high)
			break;
	}
	for (; i < v->n; i++) {
		unsigned char ch = (unsigned char)v->s[i];

		if (up ? ch >= 'a' && ch <= 'z' : ch >= 'A' && ch <= 'Z')
			break;
		if (ch == 0xC3 && i + 1 < v->n)
			break;
	}
	if (i == v->n)
		return 0;
	if (!(p = rt_alloc(rt, v->n, err)))
		return -1;
	memcpy(p, v->s, v->n);
	p[v->n] = '\0';
	for (i = 0; i < v->n; i++) {
		unsigned char ch = (unsigned char)p[i];

		if (up && ch >= 'a' && ch <= 'z')
			p[i] = (char)(ch - 32);
		else if (!up && ch >= 'A' && ch <= 'Z')
			p[i] = (char)(ch + 32);
		else if (ch == 0xC3 && i + 1 < v->n) {
			unsigned char n2 = (unsigned char)p[i + 1];

			if (up && n2 >= 0xA0 && n2 <= 0xBE && n2 != 0xB7)
				p[i + 1] = (char)(n2 - 0x20);
			else if (!up && n2 >= 0x80 && n2 <= 0x9E && n2 != 0x97)
				p[i + 1] = (char)(n2 + 0x20);
			i++;
		}
	}
	v->s = p;
	return 0;
}

struct pad_data {
	long width;
	const char *fill;
	size_t fill_len;
};

static int p_pad(struct cc *cc, struct call *c)
{
	struct pad_data *d = expr_cc_alloc(cc, sizeof(*d));

	if (!d || int_arg(cc, c, 0, 1, 1000, &d->width))
		return -1;
	d->fill = " ";
	if (c->nargs > 1 && const_arg(cc, c, 1, &d->fill))
		return -1;
	d->fill_len = strlen(d->fill);
	if (u8len(d->fill, d->fill_len) != 1)
		return expr_cerr(cc, c->args[1]->col - cc->sc->col,
			    "the fill of %s() must be one character",
			    c->fn->name);
	c->data = d;
	return 0;
}

static int f_pad(const struct call *c, struct expr_rt *rt,
		 struct expr_val *v, struct err *err)
{
	const struct pad_data *d = c->data;
	size_t have, need, i;
	char *p, *q;
	int right = c->fn->name[0] == 'r';

	if (!v->s)
		return 0;
	have = u8len(v->s, v->n);
	if (have >= (size_t)d->width)
		return 0; /* never truncates: that would change a code */
	need = (size_t)d->width - have;
	if (!(p = rt_alloc(rt, v->n + need * d->fill_len, err)))
		return -1;
	q = p;
	if (right) {
		memcpy(q, v->s, v->n);
		q += v->n;
	}
	for (i = 0; i < need; i++, q += d->fill_len)
		memcpy(q, d->fill, d->fill_len);
	if (!right) {
		memcpy(q, v->s, v->n);
		q += v->n;
	}
	*q = '\0';
	v->s = p;
	v->n = (size_t)(q - p);
	return 0;
}

struct substr_data {
	long start, len;
};

static int p_substr(struct cc *cc, struct call *c)
{
	struct substr_data *d = expr_cc_alloc(cc, sizeof(*d));

	if (!d || int_arg(cc, c, 0, 1, 100000, &d->start))
		return -1;
	d->len = -1;
	if (c->nargs > 1 && int_arg(cc, c, 1, 0, 100000, &d->len))
		return -1;
	c->data = d;
	return 0;
}

static int f_substr(const struct call *c, struct expr_rt *rt,
		    struct expr_val *v, struct err *err)
{
	const struct substr_data *d = c->data;
	size_t a, b;

	(void)rt;
	(void)err;
	if (!v->s)
		return 0;
	a = u8off(v->s, v->n, (size_t)d->start - 1);
	b = d->len < 0 ? v->n
		       : u8off(v->s, v->n, (size_t)(d->start - 1 + d->len));
	v->s += a;
	v->n = b - a;
	return 0;
}

static int p_replace(struct cc *cc, struct call *c)
{
	const char *a, *b;

	if (const_arg(cc, c, 0, &a) || const_arg(cc, c, 1, &b))
		return -1;
	if (!*a)
		return expr_cerr(cc, c->args[0]->col - cc->sc->col,
			    "replace() cannot replace an empty string");
	return 0;
}

static int f_replace(const struct call *c, struct expr_rt *rt,
		     struct expr_val *v, struct err *err)
{
	const char *from = c->args[0]->s, *to = c->args[1]->s;
	size_t fl = c->args[0]->n, tl = c->args[1]->n, i, k = 0, hits = 0;
	char *p;

	if (!v->s)
		return 0;
	for (i = 0; i + fl <= v->n; i++)
		if (!memcmp(v->s + i, from, fl)) {
			hits++;
			i += fl - 1;
		}
	if (!hits)
		return 0;
	if (!(p = rt_alloc(rt, v->n + hits * tl, err)))
		return -1;
	for (i = 0; i < v->n;) {
		if (i + fl <= v->n && !memcmp(v->s + i, from, fl)) {
			memcpy(p + k, to, tl);
			k += tl;
			i += fl;
		} else {
			p[k++] = v->s[i++];
		}
	}
	p[k] = '\0';
	v->s = p;
	v->n = k;
	return 0;
}

/* The memoized prefix of a concat() (expr_mark_memo: no piped input)
 * as parts[0], or nothing when it is absent: the context's kept value,
 * or its arguments joined and kept. *np is 0 or 1 after. */
static int concat_prefix(const struct call *c, struct expr_rt *rt,
			 struct expr_val *parts, size_t *np, struct err *err)
{
	size_t i, n = 0, total = 0, k = 0;
	int r = rt->memo_get(rt->ud, c->memo - 1, c->memo_dep, &parts[0],
			     &rt->col);
	char *p;

	if (r <= 0) {
		for (i = 0; i < c->memo_n; i++) {
			if (eval_arg(c->args[i], rt, &parts[n], err))
				return -1;
			if (parts[n].s)
				total += parts[n++].n;
		}
		if (!n) {
			parts[0].s = NULL;
			parts[0].n = 0;
		} else if (n > 1) {
			if (!(p = rt_alloc(rt, total, err)))
				return -1;
			for (i = 0; i < n; i++) {
				memcpy(p + k, parts[i].s, parts[i].n);
				k += parts[i].n;
			}
			p[k] = '\0';
			parts[0].s = p;
			parts[0].n = k;
		}
		if (!r && rt->memo_put(rt->ud, c->memo - 1, &parts[0], rt->col,
				       err))
			return -1;
	}
	*np = parts[0].s ? 1 : 0;
	return 0;
}

static int f_concat(const struct call *c, struct expr_rt *rt,
		    struct expr_val *v, struct err *err)
{
	struct expr_val parts[32];
	size_t i = 0, np = 0, total = 0, k = 0;
	char *p;

	if (v->s) { /* piped: the input comes first */
		parts[np++] = *v;
	} else if (c->memo && rt->memo_get &&
		   !(c->memo_dep & *rt->memo_vary)) {
		if (concat_prefix(c, rt, parts, &np, err))
			return -1;
		if (np)
			total = parts[0].n;
		i = c->memo_n;
	}
	for (; i < c->nargs && np < 32; i++) {
		if (eval_arg(c->args[i], rt, &parts[np], err))
			return -1;
		if (parts[np].s)
			total += parts[np++].n;
	}
	if (np && parts[0].s == v->s && v->s)
		total += v->n;
	if (!(p = rt_alloc(rt, total, err)))
		return -1;
	for (i = 0; i < np; i++) {
		memcpy(p + k, parts[i].s, parts[i].n);
		k += parts[i].n;
	}
	p[k] = '\0';
	v->s = p;
	v->n = k;
	return 0;
}

static int p_concat(struct cc *cc, struct call *c)
{
	if (c->nargs > 31)
		return expr_cerr(cc, 0, "concat() takes at most 31 arguments");
	return 0;
}

struct split_data {
	const char *sep;
	long n;
};

static int p_split(struct cc *cc, struct call *c)
{
	struct split_data *d = expr_cc_alloc(cc, sizeof(*d));

	if (!d || const_arg(cc, c, 0, &d->sep) ||
	    int_arg(cc, c, 1, 1, 10000, &d->n))
		return -1;
	if (!*d->sep)
		return expr_cerr(cc, c->args[0]->col - cc->sc->col,
			    "split() needs a separator");
	c->data = d;
	return 0;
}

static int f_split(const struct call *c, struct expr_rt *rt,
		   struct expr_val *v, struct err *err)
{
	const struct split_data *d = c->data;
	size_t sl = strlen(d->sep), i = 0, start = 0;
	long part = 1;

	(void)rt;
	(void)err;
	if (!v->s)
		return 0;
	for (;;) {
		const char *hit = NULL;

		for (i = start; i + sl <= v->n; i++)
			if (!memcmp(v->s + i, d->sep, sl)) {
				hit = v->s + i;
				break;
			}
		if (part == d->n) {
			v->s += start;
			v->n = (hit ? (size_t)(hit - v->s) + 0 : v->n - start);
			if (hit)
				v->n = (size_t)(hit - v->s);
			return 0;
		}
		if (!hit) {
			v->s = NULL; /* fewer parts: absent */
			v->n = 0;
			return 0;
		}
		start = (size_t)(hit - v->s) + sl;
		part++;
	}
}

struct match_data {
	regex_t *re;
	long group;
};

static int p_match(struct cc *cc, struct call *c)
{
	struct match_data *d = expr_cc_alloc(cc, sizeof(*d));
	const char *pat;

	if (!d || const_arg(cc, c, 0, &pat))
		return -1;
	d->group = 0;
	if (c->nargs > 1 && int_arg(cc, c, 1, 0, 9, &d->group))
		return -1;
	if (!(d->re = expr_compile_re(cc, pat, c->args[0]->col - cc->sc->col, 0)))
		return -1;
	if ((size_t)d->group > d->re->re_nsub)
		return expr_cerr(cc, c->args[1]->col - cc->sc->col,
			    "the expression has only %zu group%s",
			    d->re->re_nsub, d->re->re_nsub == 1 ? "" : "s");
	c->data = d;
	return 0;
}

static int f_match(const struct call *c, struct expr_rt *rt,
		   struct expr_val *v, struct err *err)
{
	const struct match_data *d = c->data;
	regmatch_t m[10];
	const char *s;

	if (!v->s)
		return 0;
	if (!(s = expr_cstr(rt, v, err)))
		return -1;
	if (regexec(d->re, s, 10, m, 0) || m[d->group].rm_so < 0) {
		v->s = NULL; /* no match: absent, so default() can apply */
		v->n = 0;
		return 0;
	}
	v->s = s + m[d->group].rm_so;
	v->n = (size_t)(m[d->group].rm_eo - m[d->group].rm_so);
	return 0;
}

struct dec_data {
	char mark;
	const char *thousands;
	long implied;
	int trailing_minus;
};

static int p_decimal(struct cc *cc, struct call *c)
{
	struct dec_data *d = expr_cc_alloc(cc, sizeof(*d));
	const char *s;
	int comma;

	if (!d || named_bool(cc, c, "comma", &comma) ||
	    named_bool(cc, c, "trailing_minus", &d->trailing_minus))
		return -1;
	d->mark = comma ? ',' : '.';
	if (named_const(cc, c, "implied", &s) < 0)
		return -1;
	if (s) {
		char *end;

		d->implied = strtol(s, &end, 10);
		if (!*s || *end || d->implied < 0 || d->implied > 6) {
			unsigned col;

			named(c, "implied", &col);
			return expr_cerr(cc, col - cc->sc->col,
				    "implied: takes 0 to 6 decimals");
		}
	}
	if (named_const(cc, c, "thousands", &d->thousands) < 0)
		return -1;
	if (d->thousands && (strlen(d->thousands) != 1 ||
			     d->thousands[0] == d->mark)) {
		unsigned col;

		named(c, "thousands", &col);
		return expr_cerr(cc, col - cc->sc->col,
			    "thousands: is one character other than the decimal mark");
	}
	c->data = d;
	return 0;
}

static int f_decimal(const struct call *c, struct expr_rt *rt,
		     struct expr_val *v, struct err *err)
{
	const struct dec_data *d = c->data;
	char tmp[64], *out;
	size_t i, k = 0, a = 0, b;
	int neg = 0;
	dec x;

	if (absent(v))
		return 0;
	b = v->n;
	while (a < b && isblank_c(v->s[a]))
		a++;
	while (b > a && isblank_c(v->s[b - 1]))
		b--;
	if (b - a >= sizeof(tmp) - 2)
		return mapfail(err, "not a number", v);
	/* 1-12 digits without a leading zero (or "0") are their own
	 * canonical text: the value is the (trimmed) input itself, no
	 * parse and format. A store count is this on every row. */
	if (!d->implied && b > a && b - a <= 12 &&
	    (v->s[a] != '0' || b - a == 1)) {
		for (i = a; i < b && (unsigned)(v->s[i] - '0') <= 9; i++)
			;
		if (i == b) {
			v->s += a;
			v->n = b - a;
			return 0;
		}
	}
	if (d->trailing_minus && b > a && v->s[b - 1] == '-') {
		neg = 1;
		b--;
	}
	if (a < b && (v->s[a] == '-' || v->s[a] == '+')) {
		if (v->s[a] == '-')
			neg = !neg;
		a++;
	}
	if (neg)
		tmp[k++] = '-';
	if (d->thousands) {
		/* A group separator is accepted only where it belongs: the
		 * first group has 1-3 digits, every later group exactly 3;
		 * "1.2.3" or "12.34" with thousands:"." is not a number. */
		size_t end = a, group = 0;
		int seen = 0;

		while (end < b && v->s[end] != d->mark)
			end++;
		for (i = a; i < end; i++) {
			if (v->s[i] == d->thousands[0]) {
				if (seen ? group != 3 : (group < 1 || group > 3))
					return mapfail(err, "not a number", v);
				seen = 1;
				group = 0;
				continue;
			}
			group++;
			tmp[k++] = v->s[i];
		}
		if (seen && group != 3)
			return mapfail(err, "not a number", v);
		for (; i < b; i++)
			tmp[k++] = v->s[i];
	} else {
		memcpy(tmp + k, v->s + a, b - a);
		k += b - a;
	}
	if (dec_parse(tmp, k, d->mark, (int)d->implied, &x))
		return mapfail(err, "not a number", v);
	if (!(out = rt_alloc(rt, 24, err)))
		return -1;
	v->n = dec_format(x, out);
	v->s = out;
	return 0;
}

int expr_num_of(const struct expr_val *v, dec *x)
{
	return v->s ? dec_parse(v->s, v->n, '.', 0, x) : -1;
}

static int f_multiply(const struct call *c, struct expr_rt *rt,
		      struct expr_val *v, struct err *err)
{
	struct expr_val f;
	dec a, b, r;
	char *out;

	if (absent(v))
		return 0;
	if (eval_arg(c->args[0], rt, &f, err))
		return -1;
	if (expr_num_of(v, &a))
		return mapfail(err, "not a number (use decimal first)", v);
	if (absent(&f) || expr_num_of(&f, &b))
		return mapfail(err, "factor is not a number", &f);
	if (dec_mul(a, b, &r))
		return mapfail(err, "number too large", v);
	if (!(out = rt_alloc(rt, 24, err)))
		return -1;
	v->n = dec_format(r, out);
	v->s = out;
	return 0;
}

static int f_negate(const struct call *c, struct expr_rt *rt,
		    struct expr_val *v, struct err *err)
{
	dec a;
	char *out;

	(void)c;
	if (absent(v))
		return 0;
	if (expr_num_of(v, &a))
		return mapfail(err, "not a number (use decimal first)", v);
	if (!(out = rt_alloc(rt, 24, err)))
		return -1;
	v->n = dec_format(-a, out);
	v->s = out;
	return 0;
}

static int p_places(struct cc *cc, struct call *c)
{
	long *n = expr_cc_alloc(cc, sizeof(*n));

	if (!n || int_arg(cc, c, 0, 0, DEC_DIGITS, n))
		return -1;
	c->data = n;
	return 0;
}

/* Rounds half away from zero to n decimals: the commercial rounding
 * partners and finance expect (not banker's rounding). */
static dec round_to(dec a, long places)
{
	dec step = 1, half, r;
	long i;

	for (i = places; i < DEC_DIGITS; i++)
		step *= 10;
	if (step == 1)
		return a;
	half = step / 2;
	r = a < 0 ? -((-a + half) / step * step) : (a + half) / step * step;
	return r;
}

static int f_round(const struct call *c, struct expr_rt *rt,
		   struct expr_val *v, struct err *err)
{
	long places = *(const long *)c->data;
	dec a;
	char *out;
	size_t n;

	if (absent(v))
		return 0;
	if (expr_num_of(v, &a))
		return mapfail(err, "not a number", v);
	a = round_to(a, places);
	if (!(out = rt_alloc(rt, 32, err)))
		return -1;
	n = dec_format(a, out);
	if (c->fn->name[0] == 'f' && places > 0) {
		/* fixed(): exactly `places` decimals. */
		char *dot = strchr(out, '.');
		size_t have = dot ? n - (size_t)(dot - out) - 1 : 0;

		if (!dot)
			out[n++] = '.';
		while (have < (size_t)places) {
			out[n++] = '0';
			have++;
		}
		out[n] = '\0';
	}
	v->s = out;
	v->n = n;
	return 0;
}

/* date()'s results by input text. date() is a pure function of its
 * input for one call site (format, zone and ambiguity rule fixed when
 * compiled), and an export's timestamps repeat: a CSV of store counts
 * has a few hundred distinct times in 50 000 rows (2048 slots, so few
 * of them share one). Parsing, the zone rules and formatting were 9% of
 * the CSV map stage's CPU. Only successes are kept: a bad value fails
 * the same way every time. The memo lives in the compiled mapping,
 * which one thread at a time evaluates (the map stage; the only other
 * thread in the program is the workers' heartbeat). */
#define DATE_MEMO_BITS 11
#define DATE_MEMO_SLOTS (1u << DATE_MEMO_BITS)
#define DATE_MEMO_KEY 24        /* longer inputs are not kept */

struct date_memo {
	unsigned char len;      /* 0 = empty slot (inputs are never empty) */
	char in[DATE_MEMO_KEY];
	char out[DT_ISO_LEN];
};

struct date_data {
	const char *fmt;        /* NULL = ISO 8601 */
	struct tz *tz;          /* NULL = UTC */
	enum tz_ambiguous amb;
	struct date_memo *memo; /* date() only; NULL for format_date() */
};

/* The first and last 8 bytes of an input of 8 or more (overlapping
 * when shorter than 16), else its bytes; two words, not a byte loop: a
 * multiply per byte (FNV) cost as much as the parse it saves. */
static void date_memo_words(const char *s, size_t n, uint64_t *a,
			    uint64_t *b)
{
	*a = 0;
	*b = 0;
	if (n >= 8) {
		memcpy(a, s, 8);
		memcpy(b, s + n - 8, 8);
	} else {
		memcpy(a, s, n);
	}
}

/* The memo slot of an input. */
static size_t date_memo_slot(const char *s, size_t n)
{
	uint64_t a, b, h;

	date_memo_words(s, n, &a, &b);
	h = (a * 0x9E3779B97F4A7C15u) ^ (b * 0xC2B2AE3D27D4EB4Fu) ^ n;
	/* the top bits: the only ones every input byte reaches */
	return (size_t)(h >> (64 - DATE_MEMO_BITS));
}

/* Whether slot m holds that input. */
static int date_memo_has(const struct date_memo *m, const char *s, size_t n)
{
	uint64_t a, b, x, y;

	if (m->len != n)
		return 0;
	if (n < 8)
		return !memcmp(m->in, s, n);
	date_memo_words(s, n, &a, &b);
	date_memo_words(m->in, n, &x, &y);
	return a == x && b == y &&
	       (n <= 16 || !memcmp(m->in + 8, s + 8, n - 16));
}

static int check_fmt(struct cc *cc, struct call *c, const char *fmt,
		     const char *allowed)
{
	const char *p;

	for (p = fmt; *p; p++) {
		if (*p != '%')
			continue;
		p++;
		if (!*p || !strchr(allowed, *p))
			return expr_cerr(cc, c->args[0]->col - cc->sc->col,
				    "%s(): unsupported directive '%%%c' (use %s)",
				    c->fn->name, *p ? *p : ' ',
				    !strcmp(c->fn->name, "date")
					    ? "%Y %y %m %d %H %M %S %b %%"
					    : "%Y %m %d %H %M %S %j %%");
	}
	return 0;
}

static int p_date(struct cc *cc, struct call *c)
{
	struct date_data *d = expr_cc_alloc(cc, sizeof(*d));
	const char *tz, *amb;
	unsigned col;

	if (!d)
		return -1;
	if (c->nargs && const_arg(cc, c, 0, &d->fmt))
		return -1;
	if (d->fmt && check_fmt(cc, c, d->fmt,
				c->fn->name[0] == 'd' ? "YymdHMSb%" : "YmdHMSj%"))
		return -1;
	if (named_const(cc, c, "tz", &tz) < 0)
		return -1;
	if (tz) {
		named(c, "tz", &col);
		if (!(d->tz = pool_tz(cc, tz, col)))
			return -1;
	}
	d->amb = TZ_EARLIER;
	if (named_const(cc, c, "ambiguous", &amb) < 0)
		return -1;
	if (amb) {
		if (!strcmp(amb, "later"))
			d->amb = TZ_LATER;
		else if (!strcmp(amb, "reject"))
			d->amb = TZ_REJECT_AMBIGUOUS;
		else if (strcmp(amb, "earlier")) {
			named(c, "ambiguous", &col);
			return expr_cerr(cc, col - cc->sc->col,
				    "ambiguous: is earlier, later or reject");
		}
	}
	if (c->fn->name[0] == 'd' &&
	    !(d->memo = expr_cc_alloc(cc, DATE_MEMO_SLOTS * sizeof(*d->memo))))
		return -1;
	c->data = d;
	return 0;
}

static int digits(const char **p, const char *end, int min, int max, int *out)
{
	int k = 0, v = 0;

	while (*p < end && k < max && **p >= '0' && **p <= '9') {
		v = v * 10 + (**p - '0');
		(*p)++;
		k++;
	}
	*out = v;
	return k >= min ? 0 : -1;
}

static int parse_fmt(const char *fmt, const char *s, size_t n, int64_t *out)
{
	static const char mon[] = "janfebmaraprmayjunjulaugsepoctnovdec";
	const char *p = s, *end = s + n;
	int y = 1970, mo = 1, d = 1, h = 0, mi = 0, se = 0, v, i;

	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			if (*fmt == ' ') {
				if (p >= end || (*p != ' ' && *p != 'T'))
					return -1;
				while (p < end && *p == ' ')
					p++;
				if (p < end && *p == 'T' && fmt[1] == '%')
					p++;
				continue;
			}
			if (p >= end || *p != *fmt)
				return -1;
			p++;
			continue;
		}
		switch (*++fmt) {
		case 'Y': if (digits(&p, end, 4, 4, &y)) return -1; break;
		case 'y':
			if (digits(&p, end, 2, 2, &v))
				return -1;
			y = v < 69 ? 2000 + v : 1900 + v; /* POSIX window */
			break;
		case 'm': if (digits(&p, end, 1, 2, &mo)) return -1; break;
		case 'd': if (digits(&p, end, 1, 2, &d)) return -1; break;
		case 'H': if (digits(&p, end, 1, 2, &h)) return -1; break;
		case 'M': if (digits(&p, end, 1, 2, &mi)) return -1; break;
		case 'S': if (digits(&p, end, 1, 2, &se)) return -1; break;
		case 'b':
			if (end - p < 3)
				return -1;
			for (i = 0; i < 12; i++)
				if ((p[0] | 32) == mon[i * 3] &&
				    (p[1] | 32) == mon[i * 3 + 1] &&
				    (p[2] | 32) == mon[i * 3 + 2])
					break;
			if (i == 12)
				return -1;
			mo = i + 1;
			p += 3;
			break;
		case '%':
			if (p >= end || *p != '%')
				return -1;
			p++;
			break;
		default:
			return -1;
		}
	}
	if (p != end)
		return -1;
	return dt_from_civil(y, mo, d, h, mi, se, out);
}

static int has_zone(const char *s, size_t n)
{
	size_t i;

	for (i = 11; i < n; i++)
		if (s[i] == 'Z' || s[i] == '+' || s[i] == '-')
			return 1;
	return 0;
}

static int f_date(const struct call *c, struct expr_rt *rt,
		  struct expr_val *v, struct err *err)
{
	const struct date_data *d = c->data;
	struct expr_val t = *v;
	int64_t local, utc;
	char *out;
	int rc;
	struct date_memo *m = NULL;

	if (absent(v))
		return 0;
	expr_strip(&t, NULL, 1, 1);
	if (d->memo && t.n && t.n <= DATE_MEMO_KEY) {
		m = &d->memo[date_memo_slot(t.s, t.n)];
		if (date_memo_has(m, t.s, t.n)) {
			if (!(out = rt_alloc(rt, DT_ISO_LEN, err)))
				return -1;
			memcpy(out, m->out, DT_ISO_LEN);
			v->s = out;
			v->n = DT_ISO_LEN - 1;
			return 0;
		}
	}
	if (d->fmt ? parse_fmt(d->fmt, t.s, t.n, &local)
		   : dt_parse_iso(t.s, t.n, &local))
		return err_set(err, E_MAP, "not a date/time in the form '%s': '%.*s'",
			       d->fmt ? d->fmt : "YYYY-MM-DD[THH:MM[:SS]]",
			       (int)(v->n > 60 ? 60 : v->n), v->s);
	utc = local;
	if (d->tz && !(!d->fmt && has_zone(t.s, t.n))) {
		rc = tz_local_to_utc(d->tz, local, d->amb, &utc);
		if (rc < 0) {
			char iso[DT_ISO_LEN];

			dt_format_iso(local, iso);
			iso[16] = '\0';
			iso[10] = ' ';
			return err_set(err, E_MAP,
				       d->amb == TZ_REJECT_AMBIGUOUS &&
						       tz_local_to_utc(d->tz, local, TZ_EARLIER, &utc) >= 0
					       ? "local time %s is ambiguous in %s (clocks go back)"
					       : "local time %s does not exist in %s (clocks go forward)",
				       iso, tz_name(d->tz));
		}
	}
	if (!(out = rt_alloc(rt, DT_ISO_LEN, err)))
		return -1;
	dt_format_iso(utc, out);
	if (m) {
		m->len = (unsigned char)t.n;
		memcpy(m->in, t.s, t.n);
		memcpy(m->out, out, DT_ISO_LEN);
	}
	v->s = out;
	v->n = DT_ISO_LEN - 1;
	return 0;
}

static int f_format_date(const struct call *c, struct expr_rt *rt,
			 struct expr_val *v, struct err *err)
{
	const struct date_data *d = c->data;
	int64_t t;
	char *out;
	int n;

	if (absent(v))
		return 0;
	if (dt_parse_iso(v->s, v->n, &t))
		return mapfail(err, "not an ISO 8601 date/time", v);
	if (d->tz)
		t += tz_offset_at(d->tz, t);
	if (!(out = rt_alloc(rt, 64, err)))
		return -1;
	if (d->fmt) {
		n = dt_format(t, d->fmt, out, 64);
		if (n < 0)
			return mapfail(err, "cannot format date", v);
	} else {
		dt_format_iso(t, out);
		n = DT_ISO_LEN - 1;
	}
	v->s = out;
	v->n = (size_t)n;
	return 0;
}

static int f_default(const struct call *c, struct expr_rt *rt,
		     struct expr_val *v, struct err *err)
{
	if (!absent(v))
		return 0;
	return eval_arg(c->args[0], rt, v, err);
}

static int f_required(const struct call *c, struct expr_rt *rt,
		      struct expr_val *v, struct err *err)
{
	(void)c;
	(void)rt;
	if (absent(v))
		return err_set(err, E_MAP, "required value is empty");
	return 0;
}

struct lookup_data {
	struct lookup *l;
	enum lookup_missing missing;
	const char *def;
};

/* "unknown lookup 'store' (lookups: stores, units; did you mean
 * stores?)": the names declared and the nearest. */
static int unknown_lookup(struct cc *cc, const struct call *c,
			  const char *name)
{
	const char *names[32], *near;
	char list[300], hint[160] = "";
	size_t n = 0;

	if (cc->sc->lookup_names)
		n = cc->sc->lookup_names(cc->sc->ud, names, 32);
	if (!n)
		return expr_cerr(cc, c->args[0]->col - cc->sc->col,
				 "unknown lookup '%s' (declare it under lookups:)",
				 name);
	if (n > 32)
		n = 32;
	suggest_list(list, sizeof(list), names, n, ", ");
	near = suggest_nearest(name, names, n, suggest_max_edits(name));
	if (near)
		snprintf(hint, sizeof(hint), "; did you mean %s?", near);
	return expr_cerr(cc, c->args[0]->col - cc->sc->col,
			 "unknown lookup '%s' (lookups: %s%s)", name, list,
			 hint);
}

static int p_lookup(struct cc *cc, struct call *c)
{
	struct lookup_data *d = expr_cc_alloc(cc, sizeof(*d));
	const char *name = c->args[0]->s, *m;
	unsigned col;

	if (!d)
		return -1;
	if (!cc->sc->lookup || !(d->l = cc->sc->lookup(cc->sc->ud, name)))
		return unknown_lookup(cc, c, name);
	d->missing = lookup_missing_policy(d->l, &d->def);
	if (named_const(cc, c, "missing", &m) < 0)
		return -1;
	if (m) {
		named(c, "missing", &col);
		if (!strcmp(m, "reject"))
			d->missing = LOOKUP_REJECT;
		else if (!strcmp(m, "keep"))
			d->missing = LOOKUP_KEEP;
		else
			return expr_cerr(cc, col - cc->sc->col,
				    "missing: is reject or keep here (put a default in lookups:, or use | default(...))");
	}
	c->data = d;
	return 0;
}

static int f_lookup(const struct call *c, struct expr_rt *rt,
		    struct expr_val *v, struct err *err)
{
	const struct lookup_data *d = c->data;
	const char *r;

	(void)rt;
	if (absent(v))
		return 0;
	r = lookup_get(d->l, v->s, v->n);
	if (r) {
		v->s = r;
		v->n = strlen(r);
		return 0;
	}
	switch (d->missing) {
	case LOOKUP_KEEP:
		return 0;
	case LOOKUP_DEFAULT:
		v->s = d->def ? d->def : "";
		v->n = strlen(v->s);
		return 0;
	case LOOKUP_REJECT:
	default:
		return err_set(err, E_MAP, "'%.*s' not found in lookup '%s'",
			       (int)(v->n > 80 ? 80 : v->n), v->s,
			       lookup_name(d->l));
	}
}

struct map_data {
	const char *def;        /* NULL: unmatched values are rejected */
};

static int p_map(struct cc *cc, struct call *c)
{
	struct map_data *d = expr_cc_alloc(cc, sizeof(*d));
	size_t i, j;

	if (!d)
		return -1;
	if (!c->nnamed)
		return expr_cerr(cc, 0, "map() needs at least one code:value pair");
	for (i = 0; i < c->nnamed; i++) {
		if (c->nvals[i]->kind != N_CONST || c->nvals[i]->nstages)
			return expr_cerr(cc, c->ncols[i] - cc->sc->col,
				    "map() values must be constants");
		for (j = 0; j < i; j++)
			if (!strcmp(c->names[i], c->names[j]))
				return expr_cerr(cc, c->ncols[i] - cc->sc->col,
					    "map() lists '%s' twice",
					    c->names[i]);
		if (!strcmp(c->names[i], "default"))
			d->def = c->nvals[i]->s;
	}
	c->data = d;
	return 0;
}

static int f_map(const struct call *c, struct expr_rt *rt,
		 struct expr_val *v, struct err *err)
{
	const struct map_data *d = c->data;
	size_t i;

	(void)rt;
	if (absent(v))
		return 0;
	for (i = 0; i < c->nnamed; i++) {
		const char *k = c->names[i];

		/* the first byte before strlen: most keys differ there */
		if ((v->n ? k[0] == v->s[0] : !k[0]) && strlen(k) == v->n &&
		    !memcmp(k, v->s, v->n) &&
		    strcmp(k, "default")) {
			v->s = c->nvals[i]->s;
			v->n = c->nvals[i]->n;
			return 0;
		}
	}
	if (d->def) {
		v->s = d->def;
		v->n = strlen(d->def);
		return 0;
	}
	return mapfail(err, "no map() entry for", v);
}

static const struct fn_def functions[] = {
	/* name, input, min, max, named options, name_arg, prep, run */
	{"concat", 2, 1, 31, ",", 0, p_concat, f_concat},
	{"date", 1, 0, 1, ",tz,ambiguous,", 0, p_date, f_date},
	{"decimal", 1, 0, 0, ",comma,implied,thousands,trailing_minus,", 0,
	 p_decimal, f_decimal},
	{"default", 1, 1, 1, ",", 0, NULL, f_default},
	{"fixed", 1, 1, 1, ",", 0, p_places, f_round},
	{"format_date", 1, 0, 1, ",tz,", 0, p_date, f_format_date},
	{"lookup", 1, 1, 1, ",missing,", 1, p_lookup, f_lookup},
	{"lower", 1, 0, 0, ",", 0, NULL, f_case},
	{"lstrip", 1, 1, 1, ",", 0, p_strip, f_trim},
	{"ltrim", 1, 0, 0, ",", 0, NULL, f_trim},
	{"map", 1, 0, 0, "*", 0, p_map, f_map},
	{"match", 1, 1, 2, ",", 0, p_match, f_match},
	{"multiply", 1, 1, 1, ",", 0, NULL, f_multiply},
	{"negate", 1, 0, 0, ",", 0, NULL, f_negate},
	{"pad", 1, 1, 2, ",", 0, p_pad, f_pad},
	{"replace", 1, 2, 2, ",", 0, p_replace, f_replace},
	{"required", 1, 0, 0, ",", 0, NULL, f_required},
	{"round", 1, 1, 1, ",", 0, p_places, f_round},
	{"rpad", 1, 1, 2, ",", 0, p_pad, f_pad},
	{"rstrip", 1, 1, 1, ",", 0, p_strip, f_trim},
	{"rtrim", 1, 0, 0, ",", 0, NULL, f_trim},
	{"split", 1, 2, 2, ",", 0, p_split, f_split},
	{"strip", 1, 1, 1, ",", 0, p_strip, f_trim},
	{"substr", 1, 1, 2, ",", 0, p_substr, f_substr},
	{"trim", 1, 0, 0, ",", 0, NULL, f_trim},
	{"upper", 1, 0, 0, ",", 0, NULL, f_case},
};

#define NFUNCTIONS (sizeof(functions) / sizeof(functions[0]))

const char *const expr_function_names[] = {
	"concat", "date", "decimal", "default", "fixed", "format_date",
	"lookup", "lower", "lstrip", "ltrim", "map", "match", "multiply",
	"negate", "pad", "replace", "required", "round", "rpad", "rstrip",
	"rtrim", "split", "strip", "substr", "trim", "upper", NULL};

const struct fn_def *expr_fn_find(const char *name, size_t n)
{
	size_t i;

	for (i = 0; i < NFUNCTIONS; i++)
		if (strlen(functions[i].name) == n &&
		    !memcmp(functions[i].name, name, n))
			return &functions[i];
	return NULL;
}
