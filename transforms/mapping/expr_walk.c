/* expr_walk.c - which input paths a compiled expression reads, for the
 * messages that say what the input held where a required field came out
 * empty (mapping.c, map_explain_paths). Kept apart from expr_eval.c:
 * nothing here runs unless a record failed. */
#include "expr_int.h"

struct walk {
	int (*cb)(void *ud, int id, const char *src, size_t n, unsigned col);
	void *ud;
};

static int walk_expr(const struct walk *w, const struct expr *e);

static int walk_cond(const struct walk *w, const struct expr_cond *c)
{
	int r;

	if (!c)
		return 0;
	if ((r = walk_cond(w, c->l)) || (r = walk_cond(w, c->r)))
		return r;
	if (c->a && (r = walk_expr(w, c->a)))
		return r;
	return c->b ? walk_expr(w, c->b) : 0;
}

static int walk_call(const struct walk *w, const struct call *c)
{
	size_t i;
	int r;

	for (i = 0; i < c->nargs; i++)
		if ((r = walk_expr(w, c->args[i])))
			return r;
	for (i = 0; i < c->nnamed; i++)
		if (c->nvals[i] && (r = walk_expr(w, c->nvals[i])))
			return r;
	return 0;
}

static int walk_expr(const struct walk *w, const struct expr *e)
{
	size_t i;
	int r = 0;

	if (!e)
		return 0;
	switch (e->kind) {
	case N_PATH:
		r = w->cb(w->ud, e->id, e->src, e->srclen, e->col);
		break;
	case N_IF:
		if (!(r = walk_cond(w, e->cond)) &&
		    !(r = walk_expr(w, e->then_e)))
			r = walk_expr(w, e->else_e);
		break;
	case N_CALL:
		r = walk_call(w, e->term_call);
		break;
	default:
		break;
	}
	for (i = 0; !r && i < e->nstages; i++)
		r = walk_call(w, e->stages[i]);
	return r;
}

int expr_each_path(const struct expr *e,
		   int (*cb)(void *ud, int id, const char *src, size_t n,
			     unsigned col),
		   void *ud)
{
	struct walk w;

	w.cb = cb;
	w.ud = ud;
	return walk_expr(&w, e);
}
