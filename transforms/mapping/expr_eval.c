/* expr_eval.c - evaluation of compiled expressions and conditions (a
 * tree walk), and the questions the mapping compiler asks about a tree. */
#include "expr_int.h"

#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "transforms/model/dec.h"
#include "transforms/model/dt.h"

/* ------------------------------------------------------------------ */
/* Evaluation                                                           */

/* The tree walk: every shape. The value is built in *out itself: a
 * local copied out at the end was read back as one 16-byte load right
 * after the stages stored its two halves, a store-forwarding stall that
 * was a third of this function's time. */
static int eval_body(const struct expr *e, struct expr_rt *rt,
		     struct expr_val *out, struct err *err)
{
	struct expr_val *v = out;
	size_t i;

	v->s = NULL;
	v->n = 0;

	switch (e->kind) {
	case N_CONST:
		v->s = e->s;
		v->n = e->n;
		break;
	case N_PATH:
		if (rt->path(rt->ud, e->id, v, &rt->col, err))
			return -1;
		break;
	case N_VAR:
		if (rt->var(rt->ud, e->id, v, err))
			return -1;
		break;
	case N_BARE:
		if (rt->first_bare < 0)
			rt->first_bare = e->id;
		if (rt->bare(rt->ud, e->id, v, err))
			return -1;
		break;
	case N_CALL:
		if (e->term_call->fn->run(e->term_call, rt, v, err))
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
		if (e->stages[i]->fn->run(e->stages[i], rt, v, err))
			return -1;
	return 0;
}

/* A memoized part (expr_mark_memo): the context's kept value, or
 * evaluated and kept. A failure is not kept: every record that reads
 * the part fails the same way, with its own message. */
static __attribute__((noinline)) int
eval_memo(const struct expr *e, struct expr_rt *rt, struct expr_val *out,
	  struct err *err)
{
	int r = rt->memo_get(rt->ud, e->memo - 1, e->memo_dep, out, &rt->col);

	if (r > 0)
		return 0;
	if (eval_body(e, rt, out, err))
		return -1;
	if (!r && rt->memo_put(rt->ud, e->memo - 1, out, rt->col, err))
		return -1;
	return 0;
}

/* a and b (n bytes each) are equal: whole overlapping words for the
 * short values eval_last compares (a code, a status), memcmp beyond */
static inline int same_bytes(const char *a, const char *b, size_t n)
{
	uint64_t x, y, u, w;
	uint32_t c, d, e, f;

	if (n > 16)
		return !memcmp(a, b, n);
	if (n >= 8) {
		memcpy(&x, a, 8);
		memcpy(&y, b, 8);
		memcpy(&u, a + n - 8, 8);
		memcpy(&w, b + n - 8, 8);
		return !((x ^ y) | (u ^ w));
	}
	if (n >= 4) {
		memcpy(&c, a, 4);
		memcpy(&d, b, 4);
		memcpy(&e, a + n - 4, 4);
		memcpy(&f, b + n - 4, 4);
		return !((c ^ d) | (e ^ f));
	}
	while (n && a[n - 1] == b[n - 1])
		n--;
	return !n;
}

static int keep_copy(char **p, size_t *cap, const struct expr_val *v,
		     struct err *err)
{
	if (!v->s)
		return 0;
	if (v->n + 1 > *cap) {
		size_t c = v->n + 1 < 64 ? 64 : v->n + 1;
		char *q = realloc(*p, c);

		if (!q)
			return err_set(err, E_NOMEM, "out of memory");
		*p = q;
		*cap = c;
	}
	memcpy(*p, v->s, v->n);
	(*p)[v->n] = '\0';
	return 0;
}

/* A path piped through functions with constant arguments (struct
 * expr_last): the path is read as always (its column and note are the
 * record's), the functions run only when its value differs from the
 * last one. A failure is not kept. */
static __attribute__((noinline)) int
eval_last(const struct expr *e, struct expr_rt *rt, struct expr_val *out,
	  struct err *err)
{
	struct expr_last *l = &rt->last[e->last - 1];
	struct expr_val in;
	size_t i;

	out->s = NULL;
	out->n = 0;
	if (rt->path(rt->ud, e->id, out, &rt->col, err))
		return -1;
	/* member by member: a 16-byte load of the two halves the path
	 * hook has just stored stalls (store forwarding) */
	in.s = out->s;
	in.n = out->n;
	if (l->have && (in.s == NULL) == l->in_abs && in.n == l->inn &&
	    (!in.s || same_bytes(in.s, l->in, in.n))) {
		l->hits++;
		out->s = l->out_abs ? NULL : l->out;
		out->n = l->outn;
		return 0;
	}
	l->have = 0;
	for (i = 0; i < e->nstages; i++)
		if (e->stages[i]->fn->run(e->stages[i], rt, out, err))
			return -1;
	/* mostly new values (an item code): stop copying them */
	if (++l->misses > 64 && l->misses > l->hits) {
		l->off = 1;
		return 0;
	}
	if (keep_copy(&l->in, &l->incap, &in, err) ||
	    keep_copy(&l->out, &l->outcap, out, err))
		return -1;
	l->in_abs = !in.s;
	l->inn = in.n;
	l->out_abs = !out->s;
	l->outn = out->n;
	l->have = 1;
	return 0;
}

void expr_last_release(struct expr_last *l, size_t n)
{
	size_t i;

	for (i = 0; l && i < n; i++) {
		free(l[i].in);
		free(l[i].out);
	}
}

static int eval_tree(const struct expr *e, struct expr_rt *rt,
		     struct expr_val *out, struct err *err)
{
	if (e->memo && rt->memo_get && !(e->memo_dep & *rt->memo_vary))
		return eval_memo(e, rt, out, err);
	if (e->last && rt->last && !rt->last[e->last - 1].off)
		return eval_last(e, rt, out, err);
	return eval_body(e, rt, out, err);
}

/* The two shapes most fields and arguments have, a plain path and a
 * constant, go straight to their value here: no locals whose address
 * escapes, so no stack guard, no copy (a field read is most of the
 * EDI map stage's expression work). On failure *out is unspecified,
 * as every caller drops it then. Everything else walks the tree. */
int expr_eval(const struct expr *e, struct expr_rt *rt, struct expr_val *out,
	      struct err *err)
{
	if (!e->nstages) {
		if (e->kind == N_PATH) {
			out->s = NULL;
			out->n = 0;
			return rt->path(rt->ud, e->id, out, &rt->col, err) ? -1
									   : 0;
		}
		if (e->kind == N_CONST) {
			out->s = e->s;
			out->n = e->n;
			return 0;
		}
	}
	return eval_tree(e, rt, out, err);
}

static int cmp_values(const struct expr_val *a, const struct expr_val *b,
		      int *res, struct err *err)
{
	dec x, y;
	int64_t s, t;

	if (!expr_num_of(a, &x) && !expr_num_of(b, &y)) {
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

		/* an absent value (a path the scope does not have: an X12
		 * 852's `when: SDQ.01 is empty`) needs no strip call */
		if (t.n)
			expr_strip(&t, NULL, 1, 1);
		*res = c->neg ? t.n != 0 : t.n == 0;
		return 0;
	}
	case C_MATCH: {
		const char *s;

		if (c->rcls) {
			*res = expr_re_class_match(c->rcls, a.s, a.n);
			return 0;
		}
		if (!(s = expr_cstr(rt, &a, err)))
			return -1;
		*res = regexec(c->re, s, 0, NULL, 0) == 0;
		return 0;
	}
	default:
		return err_set(err, E_INTERNAL, "bad condition");
	}
}

int expr_re_class_match(const struct expr_re_class *rc, const char *s,
			size_t n)
{
	size_t i = 0;

	while (i < n && (rc->set[(unsigned char)s[i] / 8] >>
			 ((unsigned char)s[i] % 8)) & 1)
		i++;
	/* a byte outside the set, unless it is the NUL where regexec's
	 * string would end (NUL is never in the set) */
	if (i < n && s[i])
		return 0;
	return i >= rc->min && i <= rc->max;
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

/* ------------------------------------------------------------------ */
/* Memo slots                                                           */

static int fixed_call(const struct expr_scope *sc, const struct call *c,
		      uint64_t *dep, int *reads);

/* 1 when e's value is fixed for a context: constants and paths that
 * path_dep says are, through pure functions (every function of the
 * library is a function of its arguments alone). *reads: it reads at
 * least one path (a memo hit must restore what the read noted). */
static int fixed_expr(const struct expr_scope *sc, const struct expr *e,
		      uint64_t *dep, int *reads)
{
	uint64_t d = 0;
	size_t i;

	switch (e->kind) {
	case N_CONST:
		break;
	case N_PATH:
		if (!sc->path_dep(sc->ud, e->id, &d))
			return 0;
		*dep |= d;
		*reads = 1;
		break;
	case N_CALL:
		if (!fixed_call(sc, e->term_call, dep, reads))
			return 0;
		break;
	default: /* variables, fields, if/else */
		return 0;
	}
	for (i = 0; i < e->nstages; i++)
		if (!fixed_call(sc, e->stages[i], dep, reads))
			return 0;
	return 1;
}

static int fixed_call(const struct expr_scope *sc, const struct call *c,
		      uint64_t *dep, int *reads)
{
	size_t i;

	for (i = 0; i < c->nargs; i++)
		if (!fixed_expr(sc, c->args[i], dep, reads))
			return 0;
	for (i = 0; i < c->nnamed; i++)
		if (c->nvals[i] && !fixed_expr(sc, c->nvals[i], dep, reads))
			return 0;
	return 1;
}

static void mark_call(struct expr_pool *pool, const struct expr_scope *sc,
		      struct call *c, int term)
{
	size_t i, k = 0;
	uint64_t dep = 0;
	int reads = 0;

	/* A concat() that is the value (no piped input): the longest
	 * prefix of fixed arguments, when it reads a path and has more
	 * than one argument (one is the argument's own memo below). */
	if (term && !strcmp(c->fn->name, "concat")) {
		uint64_t d = 0;
		int r = 0;

		while (k < c->nargs && fixed_expr(sc, c->args[k], &d, &r)) {
			k++;
			dep = d;
			reads = r;
		}
		if (k >= 2 && reads) {
			c->memo = ++pool->nmemo;
			c->memo_n = k;
			c->memo_dep = dep;
		} else {
			k = 0;
		}
	}
	for (i = k; i < c->nargs; i++)
		expr_mark_memo(pool, sc, c->args[i]);
}

/* Every argument of c is a constant. */
static int const_call(const struct call *c)
{
	size_t i;

	for (i = 0; i < c->nargs; i++)
		if (c->args[i]->kind != N_CONST || c->args[i]->nstages)
			return 0;
	for (i = 0; i < c->nnamed; i++)
		if (c->nvals[i] &&
		    (c->nvals[i]->kind != N_CONST || c->nvals[i]->nstages))
			return 0;
	return 1;
}

void expr_mark_last(struct expr_pool *pool, struct expr *e)
{
	/* the functions whose work outweighs a compare and two copies
	 * (default(), trim or upper alone do not) */
	static const char *const dear[] = {"lookup", "date", "format_date",
					   "decimal", "map", "replace",
					   "match"};
	size_t i, k;
	int worth = 0;

	if (e->kind != N_PATH || !e->nstages)
		return;
	for (i = 0; i < e->nstages; i++) {
		if (!const_call(e->stages[i]))
			return;
		for (k = 0; k < sizeof(dear) / sizeof(dear[0]); k++)
			if (!strcmp(e->stages[i]->fn->name, dear[k]))
				worth = 1;
	}
	if (worth)
		e->last = ++pool->nlast;
}

void expr_mark_memo(struct expr_pool *pool, const struct expr_scope *sc,
		    struct expr *e)
{
	uint64_t dep = 0;
	int reads = 0;
	size_t i;

	if (!sc->path_dep)
		return;
	if (e->kind == N_PATH && !e->nstages)
		return; /* a plain read: the reader keeps its value already */
	if (e->kind != N_CONST && fixed_expr(sc, e, &dep, &reads) && reads) {
		e->memo = ++pool->nmemo;
		e->memo_dep = dep;
		/* Fixed unless the scope has a segment of its tags: in a
		 * scope that has, a part reading fewer of them may still be
		 * kept (the constant prefix of the txn_id's concat()). */
		if (!dep)
			return;
	}
	if (e->kind == N_CALL)
		mark_call(pool, sc, e->term_call, 1);
	else if (e->kind == N_IF) {
		expr_mark_memo(pool, sc, e->then_e);
		expr_mark_memo(pool, sc, e->else_e);
	}
	for (i = 0; i < e->nstages; i++)
		mark_call(pool, sc, e->stages[i], 0);
}
