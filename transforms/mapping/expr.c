/* expr.c - see expr.h. A recursive-descent compiler into a small tree and
 * a tree-walking evaluator; trees are tiny (a term and a few stages), so
 * nothing cleverer pays off. */
#include "expr.h"

#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transforms/model/dec.h"
#include "transforms/model/dt.h"

/* ------------------------------------------------------------------ */
/* Trees                                                                */

enum node_kind { N_CONST, N_PATH, N_VAR, N_BARE, N_CALL, N_IF };

struct call;

struct expr {
	enum node_kind kind;
	const char *s;          /* N_CONST value (NUL-terminated) */
	size_t n;
	int id;                 /* N_PATH / N_VAR / N_BARE */
	struct call *term_call; /* N_CALL: a function used as the value */
	struct expr_cond *cond; /* N_IF */
	struct expr *then_e, *else_e;
	struct call **stages;
	size_t nstages;
	const char *src;        /* source text of the term (for messages) */
	size_t srclen;
	unsigned col;           /* 1-based column of the term */
};

struct call {
	const struct fn_def *fn;
	struct expr **args;
	size_t nargs;
	const char **names;     /* named arguments */
	struct expr **nvals;
	unsigned *ncols;
	size_t nnamed;
	void *data;             /* compiled by fn->prep */
	unsigned col;
};

enum cop { C_AND, C_OR, C_NOT, C_EQ, C_NE, C_LT, C_LE, C_GT, C_GE, C_IN,
	   C_EMPTY, C_MATCH };

struct expr_cond {
	enum cop op;
	int neg;                /* "not in", "is not empty" */
	struct expr_cond *l, *r;
	struct expr *a, *b;
	const char **list;
	size_t nlist;
	regex_t *re;
	unsigned col;
};

/* ------------------------------------------------------------------ */
/* Compiler state                                                       */

struct cc {
	struct expr_pool *pool;
	const struct expr_scope *sc;
	const char *s;
	size_t n, pos;
	int const_depth;        /* >0: bare words are constants (named args) */
	struct err *err;
};

struct fn_def {
	const char *name;
	int input;              /* 1: needs a piped input; 0: none; 2: either */
	int min, max;           /* positional arguments */
	const char *named;      /* ",a,b," allowed names; "*" any (map) */
	int name_arg;           /* first positional argument is a name */
	int (*prep)(struct cc *cc, struct call *c);
	int (*run)(const struct call *c, struct expr_rt *rt,
		   struct expr_val *v, struct err *err);
};

static const struct fn_def *fn_find(const char *name, size_t n);

__attribute__((format(printf, 3, 4)))
static int cerr(struct cc *cc, size_t pos, const char *fmt, ...)
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

static void *cc_alloc(struct cc *cc, size_t n)
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
	char *buf = cc_alloc(cc, cc->n - start + 1);

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
		return cerr(cc, start, "unterminated string");
	cc->pos++;
	buf[k] = '\0';
	*out = buf;
	*outn = k;
	return 0;
}

static struct expr *new_expr(struct cc *cc, enum node_kind k, size_t at)
{
	struct expr *e = cc_alloc(cc, sizeof(*e));

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
	void **na = cc_alloc(cc, (*n + 1) * sizeof(*na));

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
		cerr(cc, at, "expected a value");
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
			cerr(cc, at, "expected a variable name after '$'");
			return NULL;
		}
		memcpy(name, cc->s + at + 1, len);
		name[len] = '\0';
		if (!(e = new_expr(cc, N_VAR, at)))
			return NULL;
		if (!cc->sc->var || !cc->sc->var(cc->sc->ud, name, &e->id)) {
			cerr(cc, at, "unknown variable '$%s'", name);
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
			cerr(cc, at, "%s", msg);
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
		cerr(cc, at, "expected a value, not '%c'", c);
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
			cerr(cc, at, "name too long");
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
			cerr(cc, at,
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
					return cerr(cc, at,
						    "%s() has no option '%s'",
						    c->fn->name, k);
			}
			{
				unsigned *cols = cc_alloc(
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
					return cerr(cc, at,
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
				return cerr(cc, at,
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
		return cerr(cc, ch < 0 ? open_at : cc->pos,
			    ch < 0 ? "missing ')'" : "expected ',' or ')'");
	}
}

static struct call *parse_call(struct cc *cc, size_t name_at, size_t nlen,
			       int piped)
{
	const struct fn_def *fn = fn_find(cc->s + name_at, nlen);
	struct call *c;

	if (!fn) {
		cerr(cc, name_at, "unknown function '%.*s'", (int)nlen,
		     cc->s + name_at);
		return NULL;
	}
	if (!(c = cc_alloc(cc, sizeof(*c))))
		return NULL;
	c->fn = fn;
	c->col = cc->sc->col + (unsigned)name_at;
	if (peek(cc) == '(' && parse_args(cc, c))
		return NULL;
	if (piped && fn->input == 0) {
		cerr(cc, name_at, "%s() makes a value; it cannot follow '|'",
		     fn->name);
		return NULL;
	}
	if (!piped && fn->input == 1) {
		cerr(cc, name_at,
		     "%s() works on a value: write <value> | %s(...)",
		     fn->name, fn->name);
		return NULL;
	}
	if ((int)c->nargs < fn->min || (int)c->nargs > fn->max) {
		if (fn->min == fn->max)
			cerr(cc, name_at, "%s() takes %d argument%s, not %zu",
			     fn->name, fn->min, fn->min == 1 ? "" : "s",
			     c->nargs);
		else
			cerr(cc, name_at,
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
			cerr(cc, at, "expected a function name after '|'");
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
			cerr(cc, cc->pos, "expected 'else' after the condition");
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
			return cerr(cc, v->col - cc->sc->col,
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
		return cerr(cc, cc->pos, "expected ',' or '%c'", close);
	}
}

static struct expr_cond *new_cond(struct cc *cc, enum cop op, size_t at)
{
	struct expr_cond *c = cc_alloc(cc, sizeof(*c));

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

static regex_t *compile_re(struct cc *cc, const char *pat, size_t at,
			   int flags)
{
	regex_t *re;
	struct expr_pool *p = cc->pool;
	int rc;

	if (re_cost(pat, RE_MAX_NODES) > RE_MAX_NODES) {
		cerr(cc, at, "regular expression \"%s\" is too complex "
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
		cerr(cc, at, "bad regular expression \"%s\": %s", pat, m);
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
			cerr(cc, opat, "expected '==' or '!='");
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
				cerr(cc, cc->pos, "expected 'in' after 'not'");
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
			cerr(cc, cc->pos, "expected a list after 'in': (\"a\", \"b\")");
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
			cerr(cc, cc->pos, "expected 'empty' after 'is'");
			return NULL;
		}
		cc->pos += 5;
		return c;
	}
	if (peek_word(cc, "matches")) {
		size_t opat = cc->pos;
		const char *pat;
		size_t plen;

		cc->pos += 7;
		if (!(c = new_cond(cc, C_MATCH, opat)))
			return NULL;
		c->a = a;
		ch = peek(cc);
		if (ch != '"' && ch != '\'') {
			cerr(cc, cc->pos, "'matches' takes a quoted regular expression");
			return NULL;
		}
		opat = cc->pos;
		if (parse_string(cc, &pat, &plen) ||
		    !(c->re = compile_re(cc, pat, opat, REG_NOSUB)))
			return NULL;
		return c;
	}
	cerr(cc, ch < 0 ? cc->n : cc->pos,
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
			cerr(cc, at, "missing ')'");
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
		return cerr(&cc, cc.pos,
			    "unexpected '%c' (functions are chained with '|')",
			    cc.s[cc.pos]);
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
		return cerr(&cc, cc.pos, "unexpected '%c' in the condition",
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

/* ------------------------------------------------------------------ */
/* Compile-time helpers for functions                                   */

static int const_arg(struct cc *cc, struct call *c, size_t i, const char **s)
{
	struct expr *e = c->args[i];

	if (e->kind != N_CONST || e->nstages)
		return cerr(cc, e->col - cc->sc->col,
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
		return cerr(cc, c->args[i]->col - cc->sc->col,
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
		return cerr(cc, col - cc->sc->col,
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
		return cerr(cc, col - cc->sc->col,
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
		cerr(cc, col - cc->sc->col, "%s", e.reason);
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
static const char *cstr(struct expr_rt *rt, const struct expr_val *v,
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

static void strip(struct expr_val *v, const char *set, int left, int right)
{
	if (!v->s)
		return;
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
	strip(v, set, l, r);
	return 0;
}

static int p_strip(struct cc *cc, struct call *c)
{
	const char *s = NULL;

	if (const_arg(cc, c, 0, &s))
		return -1;
	if (!*s)
		return cerr(cc, c->args[0]->col - cc->sc->col,
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
	 * as it is (a view, like trim's) when no byte would change. */
	for (i = 0; i < v->n; i++) {
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
	struct pad_data *d = cc_alloc(cc, sizeof(*d));

	if (!d || int_arg(cc, c, 0, 1, 1000, &d->width))
		return -1;
	d->fill = " ";
	if (c->nargs > 1 && const_arg(cc, c, 1, &d->fill))
		return -1;
	d->fill_len = strlen(d->fill);
	if (u8len(d->fill, d->fill_len) != 1)
		return cerr(cc, c->args[1]->col - cc->sc->col,
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
	struct substr_data *d = cc_alloc(cc, sizeof(*d));

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
		return cerr(cc, c->args[0]->col - cc->sc->col,
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

static int f_concat(const struct call *c, struct expr_rt *rt,
		    struct expr_val *v, struct err *err)
{
	struct expr_val parts[32];
	size_t i, np = 0, total = 0, k = 0;
	char *p;

	if (v->s) /* piped: the input comes first */
		parts[np++] = *v;
	for (i = 0; i < c->nargs && np < 32; i++) {
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
		return cerr(cc, 0, "concat() takes at most 31 arguments");
	return 0;
}

struct split_data {
	const char *sep;
	long n;
};

static int p_split(struct cc *cc, struct call *c)
{
	struct split_data *d = cc_alloc(cc, sizeof(*d));

	if (!d || const_arg(cc, c, 0, &d->sep) ||
	    int_arg(cc, c, 1, 1, 10000, &d->n))
		return -1;
	if (!*d->sep)
		return cerr(cc, c->args[0]->col - cc->sc->col,
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
	struct match_data *d = cc_alloc(cc, sizeof(*d));
	const char *pat;

	if (!d || const_arg(cc, c, 0, &pat))
		return -1;
	d->group = 0;
	if (c->nargs > 1 && int_arg(cc, c, 1, 0, 9, &d->group))
		return -1;
	if (!(d->re = compile_re(cc, pat, c->args[0]->col - cc->sc->col, 0)))
		return -1;
	if ((size_t)d->group > d->re->re_nsub)
		return cerr(cc, c->args[1]->col - cc->sc->col,
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
	if (!(s = cstr(rt, v, err)))
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
	struct dec_data *d = cc_alloc(cc, sizeof(*d));
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
			return cerr(cc, col - cc->sc->col,
				    "implied: takes 0 to 6 decimals");
		}
	}
	if (named_const(cc, c, "thousands", &d->thousands) < 0)
		return -1;
	if (d->thousands && (strlen(d->thousands) != 1 ||
			     d->thousands[0] == d->mark)) {
		unsigned col;

		named(c, "thousands", &col);
		return cerr(cc, col - cc->sc->col,
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

static int num_of(const struct expr_val *v, dec *x)
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
	if (num_of(v, &a))
		return mapfail(err, "not a number (use decimal first)", v);
	if (absent(&f) || num_of(&f, &b))
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
	if (num_of(v, &a))
		return mapfail(err, "not a number (use decimal first)", v);
	if (!(out = rt_alloc(rt, 24, err)))
		return -1;
	v->n = dec_format(-a, out);
	v->s = out;
	return 0;
}

static int p_places(struct cc *cc, struct call *c)
{
	long *n = cc_alloc(cc, sizeof(*n));

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
	if (num_of(v, &a))
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

struct date_data {
	const char *fmt;        /* NULL = ISO 8601 */
	struct tz *tz;          /* NULL = UTC */
	enum tz_ambiguous amb;
};

static int check_fmt(struct cc *cc, struct call *c, const char *fmt,
		     const char *allowed)
{
	const char *p;

	for (p = fmt; *p; p++) {
		if (*p != '%')
			continue;
		p++;
		if (!*p || !strchr(allowed, *p))
			return cerr(cc, c->args[0]->col - cc->sc->col,
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
	struct date_data *d = cc_alloc(cc, sizeof(*d));
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
			return cerr(cc, col - cc->sc->col,
				    "ambiguous: is earlier, later or reject");
		}
	}
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

	if (absent(v))
		return 0;
	strip(&t, NULL, 1, 1);
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

static int p_lookup(struct cc *cc, struct call *c)
{
	struct lookup_data *d = cc_alloc(cc, sizeof(*d));
	const char *name = c->args[0]->s, *m;
	unsigned col;

	if (!d)
		return -1;
	if (!cc->sc->lookup || !(d->l = cc->sc->lookup(cc->sc->ud, name)))
		return cerr(cc, c->args[0]->col - cc->sc->col,
			    "unknown lookup '%s' (declare it under lookups:)",
			    name);
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
			return cerr(cc, col - cc->sc->col,
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
	struct map_data *d = cc_alloc(cc, sizeof(*d));
	size_t i, j;

	if (!d)
		return -1;
	if (!c->nnamed)
		return cerr(cc, 0, "map() needs at least one code:value pair");
	for (i = 0; i < c->nnamed; i++) {
		if (c->nvals[i]->kind != N_CONST || c->nvals[i]->nstages)
			return cerr(cc, c->ncols[i] - cc->sc->col,
				    "map() values must be constants");
		for (j = 0; j < i; j++)
			if (!strcmp(c->names[i], c->names[j]))
				return cerr(cc, c->ncols[i] - cc->sc->col,
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

		if (strlen(k) == v->n && !memcmp(k, v->s, v->n) &&
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

static const struct fn_def *fn_find(const char *name, size_t n)
{
	size_t i;

	for (i = 0; i < NFUNCTIONS; i++)
		if (strlen(functions[i].name) == n &&
		    !memcmp(functions[i].name, name, n))
			return &functions[i];
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Evaluation                                                           */

int expr_eval(const struct expr *e, struct expr_rt *rt, struct expr_val *out,
	      struct err *err)
{
	struct expr_val v = {NULL, 0};
	size_t i;

	switch (e->kind) {
	case N_CONST:
		v.s = e->s;
		v.n = e->n;
		break;
	case N_PATH:
		if (rt->path(rt->ud, e->id, &v, &rt->col, err))
			return -1;
		break;
	case N_VAR:
		if (rt->var(rt->ud, e->id, &v, err))
			return -1;
		break;
	case N_BARE:
		if (rt->first_bare < 0)
			rt->first_bare = e->id;
		if (rt->bare(rt->ud, e->id, &v, err))
			return -1;
		break;
	case N_CALL:
		if (e->term_call->fn->run(e->term_call, rt, &v, err))
			return -1;
		break;
	case N_IF: {
		int yes;

		if (expr_cond_eval(e->cond, rt, &yes, err))
			return -1;
		return expr_eval(yes ? e->then_e : e->else_e, rt, out, err);
	}
	}
	for (i = 0; i < e->nstages; i++)
		if (e->stages[i]->fn->run(e->stages[i], rt, &v, err))
			return -1;
	*out = v;
	return 0;
}

static int cmp_values(const struct expr_val *a, const struct expr_val *b,
		      int *res, struct err *err)
{
	dec x, y;
	int64_t s, t;

	if (!num_of(a, &x) && !num_of(b, &y)) {
		*res = x < y ? -1 : x > y;
		return 0;
	}
	if (a->s && b->s && !dt_parse_iso(a->s, a->n, &s) &&
	    !dt_parse_iso(b->s, b->n, &t)) {
		*res = s < t ? -1 : s > t;
		return 0;
	}
	return err_set(err, E_MAP, "cannot compare '%.*s' with '%.*s': not numbers or dates",
		       (int)(a->n > 40 ? 40 : a->n), a->s ? a->s : "",
		       (int)(b->n > 40 ? 40 : b->n), b->s ? b->s : "");
}

int expr_cond_eval(const struct expr_cond *c, struct expr_rt *rt, int *res,
		   struct err *err)
{
	struct expr_val a, b;
	int l, r = 0;
	size_t i;

	switch (c->op) {
	case C_AND:
	case C_OR:
		if (expr_cond_eval(c->l, rt, &l, err))
			return -1;
		if ((c->op == C_AND && !l) || (c->op == C_OR && l)) {
			*res = l;
			return 0;
		}
		if (expr_cond_eval(c->r, rt, &r, err))
			return -1;
		*res = r;
		return 0;
	case C_NOT:
		if (expr_cond_eval(c->l, rt, &l, err))
			return -1;
		*res = !l;
		return 0;
	default:
		break;
	}
	if (expr_eval(c->a, rt, &a, err))
		return -1;
	if (!a.s)
		a.s = "", a.n = 0;
	switch (c->op) {
	case C_EQ:
	case C_NE:
		if (expr_eval(c->b, rt, &b, err))
			return -1;
		if (!b.s)
			b.s = "", b.n = 0;
		l = a.n == b.n && !memcmp(a.s, b.s, a.n);
		*res = c->op == C_EQ ? l : !l;
		return 0;
	case C_LT:
	case C_LE:
	case C_GT:
	case C_GE:
		if (expr_eval(c->b, rt, &b, err) ||
		    cmp_values(&a, &b, &r, err))
			return -1;
		*res = c->op == C_LT   ? r < 0
		       : c->op == C_LE ? r <= 0
		       : c->op == C_GT ? r > 0
				       : r >= 0;
		return 0;
	case C_IN:
		l = 0;
		for (i = 0; i < c->nlist && !l; i++)
			l = strlen(c->list[i]) == a.n &&
			    !memcmp(c->list[i], a.s, a.n);
		*res = c->neg ? !l : l;
		return 0;
	case C_EMPTY: {
		struct expr_val t = a;

		strip(&t, NULL, 1, 1);
		*res = c->neg ? t.n != 0 : t.n == 0;
		return 0;
	}
	case C_MATCH: {
		const char *s = cstr(rt, &a, err);

		if (!s)
			return -1;
		*res = regexec(c->re, s, 0, NULL, 0) == 0;
		return 0;
	}
	default:
		return err_set(err, E_INTERNAL, "bad condition");
	}
}

/* ------------------------------------------------------------------ */
/* Introspection                                                        */

int expr_is_const(const struct expr *e, const char **s)
{
	if (e->kind != N_CONST || e->nstages)
		return 0;
	*s = e->s;
	return 1;
}

static int outputs(const struct expr *e,
		   int (*cb)(void *ud, const char *v, unsigned col), void *ud,
		   int call)
{
	size_t last = e->nstages;
	const struct call *m;
	size_t i;

	if (e->kind == N_IF)
		return outputs(e->then_e, cb, ud, call) &&
		       outputs(e->else_e, cb, ud, call);
	/* Trailing required/trim do not change the set of values. */
	while (last && (!strcmp(e->stages[last - 1]->fn->name, "required") ||
			!strcmp(e->stages[last - 1]->fn->name, "trim")))
		last--;
	if (!last) {
		if (e->kind != N_CONST)
			return 0;
		if (call && cb(ud, e->s, e->col))
			return 0;
		return 1;
	}
	m = e->stages[last - 1];
	if (strcmp(m->fn->name, "map"))
		return 0;
	for (i = 0; i < m->nnamed; i++)
		if (call && cb(ud, m->nvals[i]->s, m->nvals[i]->col))
			return 0;
	return 1;
}

int expr_each_output(const struct expr *e,
		     int (*cb)(void *ud, const char *v, unsigned col),
		     void *ud)
{
	if (!outputs(e, cb, ud, 0))
		return 0;
	outputs(e, cb, ud, 1);
	return 1;
}

static int cond_uses(const struct expr_cond *c);

static int uses_bare(const struct expr *e, int id);

static int cond_uses_bare(const struct expr_cond *c, int id)
{
	if (!c)
		return 0;
	if (c->l || c->r)
		return cond_uses_bare(c->l, id) || cond_uses_bare(c->r, id);
	return (c->a && uses_bare(c->a, id)) || (c->b && uses_bare(c->b, id));
}

static int uses_bare(const struct expr *e, int id)
{
	size_t i, j;

	if (e->kind == N_BARE && e->id == id)
		return 1;
	if (e->kind == N_IF)
		return cond_uses_bare(e->cond, id) || uses_bare(e->then_e, id) ||
		       uses_bare(e->else_e, id);
	if (e->kind == N_CALL)
		for (i = 0; i < e->term_call->nargs; i++)
			if (uses_bare(e->term_call->args[i], id))
				return 1;
	for (i = 0; i < e->nstages; i++)
		for (j = 0; j < e->stages[i]->nargs; j++)
			if (uses_bare(e->stages[i]->args[j], id))
				return 1;
	return 0;
}

int expr_cond_uses_bare(const struct expr_cond *c, int id)
{
	return cond_uses_bare(c, id);
}

int expr_uses_input(const struct expr *e)
{
	size_t i;

	if (e->kind == N_PATH || e->kind == N_BARE)
		return 1;
	if (e->kind == N_IF)
		return cond_uses(e->cond) || expr_uses_input(e->then_e) ||
		       expr_uses_input(e->else_e);
	if (e->kind == N_CALL)
		for (i = 0; i < e->term_call->nargs; i++)
			if (expr_uses_input(e->term_call->args[i]))
				return 1;
	for (i = 0; i < e->nstages; i++) {
		size_t j;

		for (j = 0; j < e->stages[i]->nargs; j++)
			if (expr_uses_input(e->stages[i]->args[j]))
				return 1;
	}
	return 0;
}

static int cond_uses(const struct expr_cond *c)
{
	if (!c)
		return 0;
	if (c->l || c->r)
		return cond_uses(c->l) || cond_uses(c->r);
	return (c->a && expr_uses_input(c->a)) ||
	       (c->b && expr_uses_input(c->b));
}
