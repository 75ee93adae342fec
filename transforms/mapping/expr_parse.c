/* expr_parse.c - see expr.h. A recursive-descent compiler from text into
 * the small tree of expr_int.h; trees are tiny (a term and a few stages),
 * so nothing cleverer pays off. */
#include "expr_int.h"

#include <limits.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((format(printf, 3, 4)))
int expr_cerr(struct cc *cc, size_t pos, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	err_at(cc->err, E_CONFIG, cc->sc->file, cc->sc->line,
	       cc->sc->col + (unsigned)pos, "%s", msg);
	return -1;
}

void *expr_cc_alloc(struct cc *cc, size_t n)
{
	void *p = arena_alloc(&cc->pool->arena, n);

	if (p)
		memset(p, 0, n);
	else
		err_set(cc->err, E_NOMEM, "out of memory");
	return p;
}

static char *cc_strndup(struct cc *cc, const char *s, size_t n)
{
	char *p = arena_strndup(&cc->pool->arena, s, n);

	if (!p)
		err_set(cc->err, E_NOMEM, "out of memory");
	return p;
}

static void skip_ws(struct cc *cc)
{
	while (cc->pos < cc->n &&
	       (cc->s[cc->pos] == ' ' || cc->s[cc->pos] == '\t' ||
		cc->s[cc->pos] == '\n' || cc->s[cc->pos] == '\r'))
		cc->pos++;
}

static int peek(struct cc *cc)
{
	skip_ws(cc);
	return cc->pos < cc->n ? (unsigned char)cc->s[cc->pos] : -1;
}

static int is_id0(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static int is_id(int c)
{
	return is_id0(c) || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
	       c >= 0x80;
}

static size_t ident_len(struct cc *cc, size_t at)
{
	size_t i = at;

	if (i >= cc->n || !(is_id0((unsigned char)cc->s[i]) ||
			    (unsigned char)cc->s[i] >= 0x80))
		return 0;
	while (i < cc->n && is_id((unsigned char)cc->s[i]))
		i++;
	return i - at;
}

static int peek_word(struct cc *cc, const char *w)
{
	size_t len = strlen(w);

	skip_ws(cc);
	return ident_len(cc, cc->pos) == len &&
	       !memcmp(cc->s + cc->pos, w, len);
}

/* "..." or '...' with backslash escapes; returns the unescaped text. */
static int parse_string(struct cc *cc, const char **out, size_t *outn)
{
	char q = cc->s[cc->pos];
	size_t start = cc->pos++, k = 0;
	char *buf = expr_cc_alloc(cc, cc->n - start + 1);

	if (!buf)
		return -1;
	while (cc->pos < cc->n && cc->s[cc->pos] != q) {
		char c = cc->s[cc->pos++];

		if (c == '\\' && cc->pos < cc->n) {
			c = cc->s[cc->pos++];
			if (c == 'n')
				c = '\n';
			else if (c == 't')
				c = '\t';
		}
		buf[k++] = c;
	}
	if (cc->pos >= cc->n)
		return expr_cerr(cc, start, "unterminated string");
	cc->pos++;
	buf[k] = '\0';
	*out = buf;
	*outn = k;
	return 0;
}

static struct expr *new_expr(struct cc *cc, enum node_kind k, size_t at)
{
	struct expr *e = expr_cc_alloc(cc, sizeof(*e));

	if (e) {
		e->kind = k;
		e->col = cc->sc->col + (unsigned)at;
		e->src = cc->s + at;
	}
	return e;
}

static int add_ptr(struct cc *cc, void ***arr, size_t *n, void *p)
{
	/* Argument lists are short; grow by copying into the pool. */
	void **na = expr_cc_alloc(cc, (*n + 1) * sizeof(*na));

	if (!na)
		return -1;
	if (*n)
		memcpy(na, *arr, *n * sizeof(*na));
	na[(*n)++] = p;
	*arr = na;
	return 0;
}

static struct expr *parse_pipeline(struct cc *cc, int allow_if);
static struct expr_cond *parse_or(struct cc *cc);
static struct call *parse_call(struct cc *cc, size_t name_at, size_t nlen,
			       int piped);

static struct expr *parse_term(struct cc *cc)
{
	size_t at;
	int c = peek(cc), id;
	struct expr *e;
	size_t len;

	at = cc->pos;
	if (c < 0) {
		expr_cerr(cc, at, "expected a value");
		return NULL;
	}
	if (c == '"' || c == '\'') {
		if (!(e = new_expr(cc, N_CONST, at)) ||
		    parse_string(cc, &e->s, &e->n))
			return NULL;
		e->srclen = cc->pos - at;
		return e;
	}
	if (c == '$') {
		char name[128];

		len = ident_len(cc, at + 1);
		if (!len || len >= sizeof(name)) {
			expr_cerr(cc, at, "expected a variable name after '$'");
			return NULL;
		}
		memcpy(name, cc->s + at + 1, len);
		name[len] = '\0';
		if (!(e = new_expr(cc, N_VAR, at)))
			return NULL;
		if (!cc->sc->var || !cc->sc->var(cc->sc->ud, name, &e->id)) {
			expr_cerr(cc, at, "unknown variable '$%s'", name);
			return NULL;
		}
		cc->pos = at + 1 + len;
		e->srclen = len + 1;
		return e;
	}
	if (cc->sc->path) {
		char msg[300] = "";
		int used = cc->sc->path(cc->sc->ud, cc->s + at, cc->n - at, &id,
					msg, sizeof(msg));

		if (used < 0) {
			expr_cerr(cc, at, "%s", msg);
			return NULL;
		}
		if (used > 0) {
			if (!(e = new_expr(cc, N_PATH, at)))
				return NULL;
			e->id = id;
			e->srclen = (size_t)used;
			cc->pos = at + (size_t)used;
			return e;
		}
	}
	if ((c >= '0' && c <= '9') ||
	    ((c == '-' || c == '+') && at + 1 < cc->n &&
	     cc->s[at + 1] >= '0' && cc->s[at + 1] <= '9')) {
		/* A number, or a word starting with a digit such as a date
		 * 2026-11-20 or a code 4711-A: a constant either way. */
		size_t i = at + 1;

		while (i < cc->n && is_id((unsigned char)cc->s[i]))
			i++;
		if (!(e = new_expr(cc, N_CONST, at)) ||
		    !(e->s = cc_strndup(cc, cc->s + at, i - at)))
			return NULL;
		e->n = e->srclen = i - at;
		cc->pos = i;
		return e;
	}
	len = ident_len(cc, at);
	if (!len) {
		expr_cerr(cc, at, "expected a value, not '%c'", c);
		return NULL;
	}
	cc->pos = at + len;
	if (peek(cc) == '(') {
		if (!(e = new_expr(cc, N_CALL, at)) ||
		    !(e->term_call = parse_call(cc, at, len, 0)))
			return NULL;
		e->srclen = cc->pos - at;
		return e;
	}
	{
		char name[128];

		if (len >= sizeof(name)) {
			expr_cerr(cc, at, "name too long");
			return NULL;
		}
		memcpy(name, cc->s + at, len);
		name[len] = '\0';
		if (!cc->const_depth && cc->sc->bare &&
		    cc->sc->bare(cc->sc->ud, name, &id)) {
			if (!(e = new_expr(cc, N_BARE, at)))
				return NULL;
			e->id = id;
		} else if (cc->const_depth || cc->sc->bare_const) {
			if (!(e = new_expr(cc, N_CONST, at)) ||
			    !(e->s = cc_strndup(cc, name, len)))
				return NULL;
			e->n = len;
		} else {
			expr_cerr(cc, at,
			     "unknown %s '%s' (write constants in quotes)",
			     cc->sc->bare_what ? cc->sc->bare_what : "name",
			     name);
			return NULL;
		}
		e->srclen = len;
		return e;
	}
}

/* An input path written prefix:name (an XML path such as cbc:ID) in an
 * argument is a value, not an option, unless the function has an option
 * of that name or takes any key (map). */
static int arg_is_path(struct cc *cc, const struct call *c, size_t at,
		       const char *key, size_t klen)
{
	char pat[80], msg[300];
	int id;

	if (!cc->sc->path || c->fn->named[0] == '*' || klen + 3 > sizeof(pat) ||
	    cc->pos >= cc->n || cc->s[cc->pos] != ':')
		return 0;
	snprintf(pat, sizeof(pat), ",%.*s,", (int)klen, key);
	if (strstr(c->fn->named, pat))
		return 0;
	return cc->sc->path(cc->sc->ud, cc->s + at, cc->n - at, &id, msg,
			    sizeof(msg)) > 0;
}

static int parse_args(struct cc *cc, struct call *c)
{
	size_t open_at = cc->pos;

	cc->pos++; /* '(' */
	if (peek(cc) == ')') {
		cc->pos++;
		return 0;
	}
	for (;;) {
		size_t at, save, klen = 0;
		const char *key = NULL;
		int ch = peek(cc);

		at = save = cc->pos;
		/* A named argument: key followed by ':' or '=' (not '=='). */
		if (ch == '"' || ch == '\'') {
			if (parse_string(cc, &key, &klen))
				return -1;
		} else if (ch >= 0 && (is_id((unsigned char)ch) || ch == '+')) {
			size_t i = cc->pos;

			while (i < cc->n && (is_id((unsigned char)cc->s[i]) ||
					     cc->s[i] == '+'))
				i++;
			klen = i - cc->pos;
			key = cc->s + cc->pos;
			cc->pos = i;
		}
		if (key && !arg_is_path(cc, c, at, key, klen) &&
		    (peek(cc) == ':' ||
		     (peek(cc) == '=' &&
		      !(cc->pos + 1 < cc->n && cc->s[cc->pos + 1] == '=')))) {
			struct expr *v;
			char *k = cc_strndup(cc, key, klen);

			cc->pos++;
			cc->const_depth++;
			v = parse_pipeline(cc, 0);
			cc->const_depth--;
			if (!k || !v)
				return -1;
			if (c->fn->named[0] != '*') {
				char pat[80];

				snprintf(pat, sizeof(pat), ",%s,", k);
				if (!strstr(c->fn->named, pat))
					return expr_cerr(cc, at,
						    "%s() has no option '%s'",
						    c->fn->name, k);
			}
			{
				unsigned *cols = expr_cc_alloc(
					cc, (c->nnamed + 1) * sizeof(*cols));

				if (!cols)
					return -1;
				if (c->nnamed)
					memcpy(cols, c->ncols,
					       c->nnamed * sizeof(*cols));
				cols[c->nnamed] = cc->sc->col + (unsigned)at;
				c->ncols = cols;
			}
			if (add_ptr(cc, (void ***)&c->nvals, &c->nnamed, v))
				return -1;
			c->nnamed--;
			if (add_ptr(cc, (void ***)&c->names, &c->nnamed, k))
				return -1;
		} else {
			struct expr *v;

			cc->pos = save;
			if (c->fn->name_arg && !c->nargs) {
				size_t len = ident_len(cc, cc->pos);

				if (!len)
					return expr_cerr(cc, at,
						    "%s() needs a name here",
						    c->fn->name);
				if (!(v = new_expr(cc, N_CONST, at)) ||
				    !(v->s = cc_strndup(cc, cc->s + at, len)))
					return -1;
				v->n = v->srclen = len;
				cc->pos += len;
			} else if (!(v = parse_pipeline(cc, 0))) {
				return -1;
			}
			if (c->fn->named[0] == '*')
				return expr_cerr(cc, at,
					    "%s() takes only key:value pairs",
					    c->fn->name);
			if (add_ptr(cc, (void ***)&c->args, &c->nargs, v))
				return -1;
		}
		ch = peek(cc);
		if (ch == ',') {
			cc->pos++;
			continue;
		}
		if (ch == ')') {
			cc->pos++;
			return 0;
		}
		return expr_cerr(cc, ch < 0 ? open_at : cc->pos,
			    ch < 0 ? "missing ')'" : "expected ',' or ')'");
	}
}

static struct call *parse_call(struct cc *cc, size_t name_at, size_t nlen,
			       int piped)
{
	const struct fn_def *fn = expr_fn_find(cc->s + name_at, nlen);
	struct call *c;

	if (!fn) {
		expr_cerr(cc, name_at, "unknown function '%.*s'", (int)nlen,
		     cc->s + name_at);
		return NULL;
	}
	if (!(c = expr_cc_alloc(cc, sizeof(*c))))
		return NULL;
	c->fn = fn;
	c->col = cc->sc->col + (unsigned)name_at;
	if (peek(cc) == '(' && parse_args(cc, c))
		return NULL;
	if (piped && fn->input == 0) {
		expr_cerr(cc, name_at, "%s() makes a value; it cannot follow '|'",
		     fn->name);
		return NULL;
	}
	if (!piped && fn->input == 1) {
		expr_cerr(cc, name_at,
		     "%s() works on a value: write <value> | %s(...)",
		     fn->name, fn->name);
		return NULL;
	}
	if ((int)c->nargs < fn->min || (int)c->nargs > fn->max) {
		if (fn->min == fn->max)
			expr_cerr(cc, name_at, "%s() takes %d argument%s, not %zu",
			     fn->name, fn->min, fn->min == 1 ? "" : "s",
			     c->nargs);
		else
			expr_cerr(cc, name_at,
			     "%s() takes %d to %d arguments, not %zu",
			     fn->name, fn->min, fn->max, c->nargs);
		return NULL;
	}
	if (fn->prep) {
		size_t save = cc->pos;

		cc->pos = name_at;
		if (fn->prep(cc, c))
			return NULL;
		cc->pos = save;
	}
	return c;
}

static struct expr *parse_pipeline(struct cc *cc, int allow_if)
{
	struct expr *e = parse_term(cc);

	if (!e)
		return NULL;
	while (peek(cc) == '|') {
		size_t at, len;
		struct call *c;

		cc->pos++;
		skip_ws(cc);
		at = cc->pos;
		len = ident_len(cc, at);
		if (!len) {
			expr_cerr(cc, at, "expected a function name after '|'");
			return NULL;
		}
		cc->pos += len;
		if (!(c = parse_call(cc, at, len, 1)) ||
		    add_ptr(cc, (void ***)&e->stages, &e->nstages, c))
			return NULL;
	}
	if (allow_if && peek_word(cc, "if")) {
		struct expr *ife = new_expr(cc, N_IF, cc->pos);

		if (!ife)
			return NULL;
		cc->pos += 2;
		ife->then_e = e;
		if (!(ife->cond = parse_or(cc)))
			return NULL;
		if (!peek_word(cc, "else")) {
			expr_cerr(cc, cc->pos, "expected 'else' after the condition");
			return NULL;
		}
		cc->pos += 4;
		if (!(ife->else_e = parse_pipeline(cc, 1)))
			return NULL;
		return ife;
	}
	return e;
}

static int const_list(struct cc *cc, struct expr_cond *c)
{
	int close = cc->s[cc->pos] == '(' ? ')' : ']';

	cc->pos++;
	for (;;) {
		struct expr *v;

		cc->const_depth++;
		v = parse_term(cc);
		cc->const_depth--;
		if (!v)
			return -1;
		if (v->kind != N_CONST)
			return expr_cerr(cc, v->col - cc->sc->col,
				    "'in' takes a list of constants");
		if (add_ptr(cc, (void ***)&c->list, &c->nlist, (void *)v->s))
			return -1;
		if (peek(cc) == ',') {
			cc->pos++;
			continue;
		}
		if (peek(cc) == close) {
			cc->pos++;
			return 0;
		}
		return expr_cerr(cc, cc->pos, "expected ',' or '%c'", close);
	}
}

static struct expr_cond *new_cond(struct cc *cc, enum cop op, size_t at)
{
	struct expr_cond *c = expr_cc_alloc(cc, sizeof(*c));

	if (c) {
		c->op = op;
		c->col = cc->sc->col + (unsigned)at;
	}
	return c;
}

/* An upper bound of the nodes glibc's regcomp() builds for an ERE. It
 * copies the operand of x+ (as x x*) and of x{n,m} (m copies), so
 * stacked or nested repetition grows exponentially: "a" with twenty '+'
 * after it, or twenty nested "(...)+", take over a gigabyte and seconds
 * to compile (found by fuzz_ytree). Atoms cost 1, a repetition multiplies
 * its operand (x+ by 2, x{n,m} by max(n, m)), alternatives add up. The
 * result saturates at limit + 1; nesting past RE_MAX_DEPTH counts as too
 * much. */
#define RE_MAX_NODES 20000
#define RE_MAX_DEPTH 32

static size_t re_cost(const char *p, size_t limit)
{
	size_t seq[RE_MAX_DEPTH], alt[RE_MAX_DEPTH];
	size_t last = 0;
	unsigned d = 0;

	seq[0] = alt[0] = 0;
	while (*p) {
		size_t mult = 0;

		switch (*p) {
		case '(':
			if (++d >= RE_MAX_DEPTH)
				return limit + 1;
			seq[d] = alt[d] = 0;
			last = 0;
			p++;
			continue;
		case ')':
			if (d == 0) { /* a literal ')' in ERE */
				last = 1;
				break;
			}
			last = alt[d] + seq[d] + 1;
			d--;
			break;
		case '|':
			alt[d] += seq[d];
			seq[d] = last = 0;
			p++;
			continue;
		case '*': case '?':
			mult = 1;
			break;
		case '+':
			mult = 2;
			break;
		case '{': {
			char *e;
			unsigned long n = strtoul(p + 1, &e, 10), m = n;

			if (*e == ',')
				m = e[1] == '}' ? n + 1 : strtoul(e + 1, &e, 10);
			if (e[0] == ',' && e[1] == '}')
				e++;
			mult = m > n ? m : n;
			if (!mult)
				mult = 1;
			p = *e == '}' ? e : p;
			break;
		}
		case '[': /* a bracket expression is one node */
			p++;
			if (*p == '^')
				p++;
			if (*p == ']')
				p++;
			while (*p && *p != ']') {
				if (p[0] == '[' && (p[1] == ':' || p[1] == '.' ||
						    p[1] == '=')) {
					const char *q = strchr(p + 2, p[1]);

					p = q && q[1] == ']' ? q + 1 : p;
				}
				p++;
			}
			last = 1;
			break;
		case '\\':
			if (p[1])
				p++;
			/* fall through */
		default:
			last = 1;
			break;
		}
		if (mult) { /* replace the operand by its copies */
			size_t grown = last > limit / mult ? limit + 1
							   : last * mult;

			seq[d] -= last;
			last = grown;
		}
		seq[d] = seq[d] + last > limit ? limit + 1 : seq[d] + last;
		if (alt[d] + seq[d] > limit)
			return limit + 1;
		if (*p)
			p++;
	}
	while (d > 0) { /* unbalanced: regcomp refuses it anyway */
		seq[d - 1] += alt[d] + seq[d];
		d--;
	}
	return alt[0] + seq[0];
}

/* One item of a bracket expression: a byte that stands for itself there
 * (ASCII, printable, none of [ \ ] - ^, which start classes, escape,
 * end, make ranges or negate), and which of digits / lower / upper it is
 * (0 = none, -1 = not a plain item). */
static int class_byte(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return 1;
	if (c >= 'a' && c <= 'z')
		return 2;
	if (c >= 'A' && c <= 'Z')
		return 3;
	return c >= ' ' && c <= '~' && !strchr("[\\]-^", c) ? 0 : -1;
}

/* A repetition count of {n,m}: digits up to RE_DUP_MAX. */
static int rep_count(const char **p, unsigned *v)
{
	unsigned long n = 0;
	const char *s = *p;

	if (*s < '0' || *s > '9')
		return -1;
	while (*s >= '0' && *s <= '9' && n <= RE_DUP_MAX)
		n = n * 10 + (unsigned long)(*s++ - '0');
	if (n > RE_DUP_MAX)
		return -1;
	*v = (unsigned)n;
	*p = s;
	return 0;
}

static int class_quant(const char *p, struct expr_re_class *rc)
{
	rc->min = rc->max = 1;
	if (*p == '+' || *p == '*') {
		rc->min = *p == '+';
		rc->max = UINT_MAX;
		p++;
	} else if (*p == '{') {
		p++;
		if (rep_count(&p, &rc->min))
			return 0;
		rc->max = rc->min;
		if (*p == ',') {
			p++;
			rc->max = UINT_MAX;
			if (*p != '}' && rep_count(&p, &rc->max))
				return 0;
		}
		if (*p++ != '}' || rc->max < rc->min)
			return 0;
	}
	return p[0] == '$' && !p[1];
}

int expr_re_class_parse(const char *pat, struct expr_re_class *rc)
{
	const char *p = pat;

	memset(rc, 0, sizeof(*rc));
	if (p[0] != '^' || p[1] != '[')
		return 0;
	p += 2;
	if (*p == '-') /* first: a literal '-' */
		rc->set['-' / 8] |= (unsigned char)(1u << ('-' % 8));
	p += *p == '-';
	if (*p == ']') /* empty set, or ']' as its first member */
		return 0;
	while (*p != ']') {
		unsigned char a = (unsigned char)*p, z = a;
		int k = class_byte(a);
		unsigned c;

		if (*p == '-' && p[1] == ']') { /* last: a literal '-' */
			rc->set['-' / 8] |= (unsigned char)(1u << ('-' % 8));
			p++;
			break;
		}
		if (k < 0)
			return 0;
		if (p[1] == '-' && p[2] != ']') {
			z = (unsigned char)p[2];
			if (k == 0 || class_byte(z) != k || z < a)
				return 0;
			p += 2;
		}
		p++;
		for (c = a; c <= z; c++)
			rc->set[c / 8] |= (unsigned char)(1u << (c % 8));
	}
	return class_quant(p + 1, rc);
}

regex_t *expr_compile_re(struct cc *cc, const char *pat, size_t at,
			 int flags)
{
	regex_t *re;
	struct expr_pool *p = cc->pool;
	int rc;

	if (re_cost(pat, RE_MAX_NODES) > RE_MAX_NODES) {
		expr_cerr(cc, at, "regular expression \"%s\" is too complex "
		     "(its repetitions expand past %d nodes)", pat,
		     RE_MAX_NODES);
		return NULL;
	}
	re = calloc(1, sizeof(*re));
	if (!re) {
		err_set(cc->err, E_NOMEM, "out of memory");
		return NULL;
	}
	rc = regcomp(re, pat, REG_EXTENDED | flags);
	if (rc) {
		char m[200];

		regerror(rc, re, m, sizeof(m));
		free(re);
		expr_cerr(cc, at, "bad regular expression \"%s\": %s", pat, m);
		return NULL;
	}
	if (p->nregs == p->capregs) {
		size_t cap = p->capregs ? p->capregs * 2 : 8;
		void **r = realloc(p->regs, cap * sizeof(*r));

		if (!r) {
			regfree(re);
			free(re);
			err_set(cc->err, E_NOMEM, "out of memory");
			return NULL;
		}
		p->regs = r;
		p->capregs = cap;
	}
	p->regs[p->nregs++] = re;
	return re;
}

static struct expr_cond *parse_cmp(struct cc *cc)
{
	size_t at = (skip_ws(cc), cc->pos);
	struct expr *a = parse_pipeline(cc, 0);
	struct expr_cond *c;
	int ch;

	if (!a)
		return NULL;
	ch = peek(cc);
	if (ch == '=' || ch == '!' || ch == '<' || ch == '>') {
		enum cop op;
		size_t opat = cc->pos;
		int two = cc->pos + 1 < cc->n && cc->s[cc->pos + 1] == '=';

		if (ch == '=' && two)
			op = C_EQ;
		else if (ch == '!' && two)
			op = C_NE;
		else if (ch == '<')
			op = two ? C_LE : C_LT;
		else if (ch == '>')
			op = two ? C_GE : C_GT;
		else {
			expr_cerr(cc, opat, "expected '==' or '!='");
			return NULL;
		}
		cc->pos += two ? 2 : 1;
		if (!(c = new_cond(cc, op, opat)))
			return NULL;
		c->a = a;
		if (!(c->b = parse_pipeline(cc, 0)))
			return NULL;
		return c;
	}
	if (peek_word(cc, "not") || peek_word(cc, "in")) {
		size_t opat = cc->pos;
		int neg = peek_word(cc, "not");

		if (neg) {
			cc->pos += 3;
			if (!peek_word(cc, "in")) {
				expr_cerr(cc, cc->pos, "expected 'in' after 'not'");
				return NULL;
			}
		}
		cc->pos += 2;
		if (!(c = new_cond(cc, C_IN, opat)))
			return NULL;
		c->neg = neg;
		c->a = a;
		ch = peek(cc);
		if (ch != '(' && ch != '[') {
			expr_cerr(cc, cc->pos, "expected a list after 'in': (\"a\", \"b\")");
			return NULL;
		}
		if (const_list(cc, c))
			return NULL;
		return c;
	}
	if (peek_word(cc, "is")) {
		size_t opat = cc->pos;

		cc->pos += 2;
		if (!(c = new_cond(cc, C_EMPTY, opat)))
			return NULL;
		c->a = a;
		if (peek_word(cc, "not")) {
			c->neg = 1;
			cc->pos += 3;
		}
		if (!peek_word(cc, "empty")) {
			expr_cerr(cc, cc->pos, "expected 'empty' after 'is'");
			return NULL;
		}
		cc->pos += 5;
		return c;
	}
	if (peek_word(cc, "matches")) {
		size_t opat = cc->pos;
		struct expr_re_class rc;
		const char *pat;
		size_t plen;

		cc->pos += 7;
		if (!(c = new_cond(cc, C_MATCH, opat)))
			return NULL;
		c->a = a;
		ch = peek(cc);
		if (ch != '"' && ch != '\'') {
			expr_cerr(cc, cc->pos, "'matches' takes a quoted regular expression");
			return NULL;
		}
		opat = cc->pos;
		if (parse_string(cc, &pat, &plen) ||
		    !(c->re = expr_compile_re(cc, pat, opat, REG_NOSUB)))
			return NULL;
		/* regcomp accepted it (and still says why not when it does
		 * not); a plain character class is then checked without it */
		if (expr_re_class_parse(pat, &rc)) {
			struct expr_re_class *k = expr_cc_alloc(cc, sizeof(*k));

			if (!k)
				return NULL;
			*k = rc;
			c->rcls = k;
		}
		return c;
	}
	expr_cerr(cc, ch < 0 ? cc->n : cc->pos,
	     "expected a comparison after the value (==, !=, <, <=, >, >=, in, is empty, matches)");
	(void)at;
	return NULL;
}

static struct expr_cond *parse_not(struct cc *cc)
{
	if (peek_word(cc, "not")) {
		size_t at = cc->pos;
		struct expr_cond *c = new_cond(cc, C_NOT, at);

		cc->pos += 3;
		if (!c || !(c->l = parse_not(cc)))
			return NULL;
		return c;
	}
	if (peek(cc) == '(') {
		size_t at = cc->pos;
		struct expr_cond *c;

		cc->pos++;
		if (!(c = parse_or(cc)))
			return NULL;
		if (peek(cc) != ')') {
			expr_cerr(cc, at, "missing ')'");
			return NULL;
		}
		cc->pos++;
		return c;
	}
	return parse_cmp(cc);
}

static struct expr_cond *parse_and(struct cc *cc)
{
	struct expr_cond *l = parse_not(cc);

	while (l && peek_word(cc, "and")) {
		struct expr_cond *c = new_cond(cc, C_AND, cc->pos);

		cc->pos += 3;
		if (!c || !(c->r = parse_not(cc)))
			return NULL;
		c->l = l;
		l = c;
	}
	return l;
}

static struct expr_cond *parse_or(struct cc *cc)
{
	struct expr_cond *l = parse_and(cc);

	while (l && peek_word(cc, "or")) {
		struct expr_cond *c = new_cond(cc, C_OR, cc->pos);

		cc->pos += 2;
		if (!c || !(c->r = parse_and(cc)))
			return NULL;
		c->l = l;
		l = c;
	}
	return l;
}

int expr_compile(struct expr_pool *pool, const struct expr_scope *sc,
		 const char *text, size_t n, int literal, struct expr **out,
		 struct err *err)
{
	struct cc cc = {pool, sc, text, n, 0, 0, err};
	struct expr *e;

	if (literal) {
		if (!(e = new_expr(&cc, N_CONST, 0)) ||
		    !(e->s = cc_strndup(&cc, text, n)))
			return -1;
		e->n = e->srclen = n;
		*out = e;
		return 0;
	}
	if (!(e = parse_pipeline(&cc, 1)))
		return -1;
	if (peek(&cc) >= 0)
		return expr_cerr(&cc, cc.pos,
			    "unexpected '%c' (functions are chained with '|')",
			    cc.s[cc.pos]);
	expr_mark_memo(pool, sc, e);
	*out = e;
	return 0;
}

int expr_cond_compile(struct expr_pool *pool, const struct expr_scope *sc,
		      const char *text, size_t n, struct expr_cond **out,
		      struct err *err)
{
	struct cc cc = {pool, sc, text, n, 0, 0, err};
	struct expr_cond *c = parse_or(&cc);

	if (!c)
		return -1;
	if (peek(&cc) >= 0)
		return expr_cerr(&cc, cc.pos, "unexpected '%c' in the condition",
			    cc.s[cc.pos]);
	*out = c;
	return 0;
}

void expr_pool_init(struct expr_pool *p)
{
	memset(p, 0, sizeof(*p));
	arena_init(&p->arena, 16384, 0);
}

void expr_pool_release(struct expr_pool *p)
{
	size_t i;

	for (i = 0; i < p->nregs; i++) {
		regfree(p->regs[i]);
		free(p->regs[i]);
	}
	for (i = 0; i < p->ntz; i++)
		tz_free(p->tzs[i]);
	free(p->regs);
	free(p->tzs);
	arena_release(&p->arena);
	memset(p, 0, sizeof(*p));
}
