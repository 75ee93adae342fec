/* mapping_edi_set.c - the X12 and EDIFACT drivers' set buffer (the
 * segments of the open transaction set), reading paths from it, and
 * mapping its loops, exploding them when each: asks (see mapping_edi.c
 * for the rules). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mapping_edi_int.h"

void map_edi_store_reset(struct segstore *s)
{
	s->dlen = s->ntok = s->nef = s->nseg = 0;
}

void map_edi_store_free(struct segstore *s)
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
int map_edi_store_add(struct segstore *s, const struct edi_seg *g,
		      struct err *err)
{
	/* Tokens lie one after the other (the readers write them so):
	 * the data ends with the last one's NUL. */
	size_t dl = g->tok[g->ntok - 1].off + g->tok[g->ntok - 1].len + 1;
	struct sseg *x;

	/* Per segment: the capacities are checked here, grow() only runs
	 * when one is short. */
	if ((s->dlen + dl > s->dcap &&
	     grow((void **)&s->data, &s->dcap, s->dlen + dl, 1)) ||
	    (s->ntok + g->ntok > s->tokcap &&
	     grow((void **)&s->tok, &s->tokcap, s->ntok + g->ntok,
		  sizeof(*s->tok))) ||
	    (s->nef + g->nelem + 2 > s->efcap &&
	     grow((void **)&s->ef, &s->efcap, s->nef + g->nelem + 2,
		  sizeof(*s->ef))) ||
	    (s->nseg + 1 > s->segcap &&
	     grow((void **)&s->seg, &s->segcap, s->nseg + 1, sizeof(*s->seg))))
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
	/* every field is set below: no memset */
	x = &s->seg[s->nseg++];
	memcpy(x->tag, g->tag, sizeof(x->tag));
	x->data_off = s->dlen;
	x->tok_off = s->ntok;
	x->ef_off = s->nef;
	x->ntok = g->ntok;
	x->nelem = g->nelem;
	x->num = g->num;
	x->num_in_set = g->num_in_set;
	x->line = g->line;
	x->offset = g->offset;
	memcpy(s->data + s->dlen, g->data, dl);
	s->dlen += dl;
	memcpy(s->tok + s->ntok, g->tok, g->ntok * sizeof(*g->tok));
	s->ntok += g->ntok;
	memcpy(s->ef + s->nef, g->elem_first, (g->nelem + 2) * sizeof(*g->elem_first));
	s->nef += g->nelem + 2;
	return 0;
}

void map_edi_store_view(const struct segstore *s, size_t i,
			struct edi_seg *v)
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
	v->offset = x->offset;
}

/* Value (e, r, c) of segment i of s, what edi_seg_value_len() reads
 * from map_edi_store_view(), without building the view (per path, per record). */
static inline const char *sv_value(const struct segstore *s, size_t i,
				   unsigned e, unsigned r, unsigned c,
				   size_t *len)
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


/* edi_seg_nrep() of segment i. */
static inline unsigned sv_nrep(const struct segstore *s, size_t i, unsigned e)
{
	const struct sseg *g = &s->seg[i];

	if (e > g->nelem)
		return 0;
	return s->tok[g->tok_off + s->ef[g->ef_off + e + 1] - 1].rep;
}

static inline int sel_match(const struct esel *sel, const struct segstore *s,
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

static inline int seg_matches(const struct esel *sel, const struct segstore *s,
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
	map_edi_note_read(run, (int)(p - x->em->paths), sv, i, e);
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
	if (!p->at.rep && x->delims.rep > 0 && sv_nrep(sv, i, e) > 1 &&
	    map_edi_rep_cut(run, p, sv, i, e, c, err))
		return -1;
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

/* The id (parent 0) or the parent id (parent 1) of segment i, which
 * links loops: HL01/HL02 (X12), CPS 7164/7166, and for an EDIFACT LIN
 * its line number 1082 and the sub-line's parent line C829.1082
 * (LIN+2++4000862141404:SRS+1:1' is a sub-line of line 1). */
static const char *link_id(const struct segstore *s, size_t i, int parent)
{
	if (!strcmp(s->seg[i].tag, "LIN"))
		return parent ? sv_value(s, i, 4, 1, 2, NULL)
			      : sv_value(s, i, 1, 1, 1, NULL);
	return sv_value(s, i, parent ? 2 : 1, 1, 1, NULL);
}

/* The segment with the tag of i that is the parent of segment i, or -1. */
static long hl_parent(const struct segstore *s, size_t i)
{
	const char *pid;
	size_t j;

	pid = link_id(s, i, 1);
	if (!pid || !*pid)
		return -1;
	for (j = i; j-- > 0;) {
		const char *id;

		if (s->code[j] != s->code[i] || strcmp(s->seg[j].tag, s->seg[i].tag))
			continue;
		id = link_id(s, j, 0);
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

/* pair.id, pair.value, pair.index: the explode item's, set by map_loop().
 * Returns 1 when p is one of them (out set), 0 otherwise. */
static int read_pair(struct erun *x, const struct epath *p,
		     struct expr_val *out)
{
	switch (p->kind) {
	case EP_PAIR_ID:
		out->s = x->pair_id;
		out->n = x->pair_id ? strlen(x->pair_id) : 0;
		return 1;
	case EP_PAIR_VALUE:
		out->s = x->pair_val;
		out->n = x->pair_val ? strlen(x->pair_val) : 0;
		return 1;
	case EP_PAIR_INDEX:
		snprintf(x->pair_index_buf, sizeof(x->pair_index_buf), "%lu",
			 x->pair_index);
		out->s = x->pair_index_buf;
		out->n = strlen(out->s);
		return 1;
	default:
		return 0;
	}
}

/* An envelope path (ISA/GS, UNB/UNG): the same value for the whole set,
 * so it is read once per set. */
static int read_env(struct map_run *run, int id, struct expr_val *out,
		    unsigned *col, struct err *err)
{
	struct erun *x = run->drv;
	const struct epath *p = &x->em->paths[id];
	const struct segstore *es = p->env == ENV_IC ? &x->ic : &x->grp;
	struct efound *f = &x->found[id];

	if (f->have_val && f->set == x->nsets_mapped && f->anchor == -1) {
		*out = f->val;
		*col = f->col;
		map_edi_note_read(run, id, es, 0, f->col);
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

/* Where the loop that starts at segment i ends: the next segment that
 * closes a loop of the current anchor (its each: tag, an until: tag or
 * the set's trailer), as map_edi_map_set() cuts them. */
static size_t rel_block_end(const struct erun *x, size_t i)
{
	const struct eanchor *an = &x->em->anchors[x->loop->anchor];
	const struct segstore *s = &x->set;
	uint32_t trailer = TAGC(x->em->x12 ? "SE\0" : "UNT");
	size_t j, u;

	for (j = i + 1; j < s->nseg; j++) {
		uint32_t c = s->code[j];

		if (c == trailer || c == an->sel.code)
			return j;
		for (u = 0; u < an->nuntil; u++)
			if (c == an->until[u])
				return j;
	}
	return j;
}

/* Reads p in the related loop that starts at segment h: 1 when found
 * (out set), 0 when the loop has no such segment. */
static int read_in_block(struct map_run *run, const struct epath *p,
			 size_t h, size_t end, struct expr_val *out,
			 unsigned *col, struct err *err)
{
	const struct segstore *s = &((struct erun *)run->drv)->set;
	unsigned pair_at = 0, seen = 0;
	long at = find_in(s, &p->sel, h, end, 1, &pair_at, &seen);

	if (at < 0)
		return 0;
	if (read_value(run, p, s, (size_t)at, pair_at, out, col, err))
		return -1;
	return 1;
}

/* child(SEG[...]).path and sibling(SEG[...]).path: the first loop after
 * the current one whose segment links to it (child) or to its parent
 * (sibling, the parent's other children, before and after it) and
 * matches the selector, in which the path finds a segment. Children
 * follow their parent (X12 HL, EANCOM sub-lines), so the search forward
 * stops at the next segment of the tag that has no parent (a new
 * top-level line): the cost is the subtree, not the set. */
static int read_related(struct map_run *run, const struct epath *p,
			struct expr_val *out, unsigned *col, struct err *err)
{
	struct erun *x = run->drv;
	const struct segstore *s = &x->set;
	size_t me = x->loop->start, j, from;
	const char *want;
	unsigned pair_at = 0;
	long par = -1;
	int r;

	if (p->rel == REL_CHILD) {
		want = link_id(s, me, 0);
		from = me + 1;
	} else {
		par = hl_parent(s, me);
		if (par < 0)
			return 0;       /* a top-level line has no siblings */
		want = link_id(s, (size_t)par, 0);
		from = (size_t)par + 1;
	}
	if (!want || !*want)
		return 0;
	for (j = from; j < s->nseg; j++) {
		const char *pid;

		if (s->code[j] != s->code[me] || strcmp(s->seg[j].tag, s->seg[me].tag))
			continue;
		pid = link_id(s, j, 1);
		if (!pid || !*pid)
			break;          /* the next top-level line */
		if (j == me || strcmp(pid, want) ||
		    !seg_matches(&p->parent, s, j, &pair_at))
			continue;
		r = read_in_block(run, p, j, rel_block_end(x, j), out, col, err);
		if (r)
			return r < 0 ? -1 : 0;
	}
	return 0;
}

/* parent(HL[...]).path: climbs the parent ids (HL02, CPS 7166, LIN
 * C829.1082) from the loop's segment until one matches the parent
 * selector, then searches that parent's block; child() and sibling()
 * in read_related(). */
static int read_parent(struct map_run *run, const struct epath *p,
		       struct expr_val *out, unsigned *col, struct err *err)
{
	struct erun *x = run->drv;
	const struct segstore *s = &x->set;
	unsigned pair_at = 0;
	long h = (long)x->loop->start;

	if (p->rel != REL_PARENT)
		return read_related(run, p, out, col, err);
	while ((h = hl_parent(s, (size_t)h)) >= 0) {
		if (seg_matches(&p->parent, s, (size_t)h, &pair_at))
			break;
	}
	if (h < 0)
		return 0;
	if (!strcmp(s->seg[h].tag, "LIN"))
		return read_in_block(run, p, (size_t)h,
				     rel_block_end(x, (size_t)h), out, col,
				     err) < 0 ? -1 : 0;
	return read_in_block(run, p, (size_t)h, block_end(s, (size_t)h),
			     out, col, err) < 0 ? -1 : 0;
}

/* A path's segment in the free segments before the loop: the same for
 * every loop with the same free segments before it, so it is found once
 * per set, anchor and prefix and kept in x->found[id]. */
static inline __attribute__((always_inline)) long
free_find(struct erun *x, int id, const struct epath *p, unsigned *pair_at)
{
	struct efound *f = &x->found[id];

	if (f->set != x->nsets_mapped || f->anchor != x->loop->anchor ||
	    f->nfree != x->loop->nfree) {
		f->at = find_free(&x->set, &p->sel, &x->free[x->loop->anchor],
				  x->loop->nfree, &f->pair_at);
		f->set = x->nsets_mapped;
		f->anchor = x->loop->anchor;
		f->nfree = x->loop->nfree;
		f->have_val = 0;
	}
	*pair_at = f->pair_at;
	return f->at;
}

/* The segment path id reads in the current scope (-1: none): the explode
 * item, the loop (nearest before the item first), then the free segments
 * before the loop. What a selector found is kept for the scope (paths
 * with the same sid share it), and what the free segments gave for the
 * set, anchor and free-segment prefix, because every loop with the same
 * prefix finds the same segment there. *from_free says it came from the
 * free segments. */
static long find_scope(struct erun *x, int id, unsigned *pair_at_out,
		       int *from_free_out)
{
	const struct epath *p = &x->em->paths[id];
	const struct segstore *s = &x->set;
	unsigned pair_at = 0, seen = 0;
	long at = -1;
	int from_free = 0;

	if (x->sfound[p->sid].scope == x->nscopes) {
		/* another path of this selector found it in this scope */
		*pair_at_out = x->sfound[p->sid].pair_at;
		*from_free_out = x->sfound[p->sid].from_free;
		return x->sfound[p->sid].at;
	}
	if (!p->ctx && (x->loop_tags & map_edi_tag_bit(p->sel.code))) {
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
		at = free_find(x, id, p, &pair_at);
		from_free = 1;
	}
	x->sfound[p->sid].scope = x->nscopes;
	x->sfound[p->sid].at = at;
	x->sfound[p->sid].pair_at = pair_at;
	x->sfound[p->sid].from_free = from_free;
	*pair_at_out = pair_at;
	*from_free_out = from_free;
	return at;
}

/* A header value (found in the free segments): the same for the loops
 * that share the free segments before them, so it is read once per set,
 * anchor and free-segment prefix. */
static int read_free_value(struct map_run *run, int id, long at,
			   unsigned pair_at, struct expr_val *out,
			   unsigned *col, struct err *err)
{
	struct erun *x = run->drv;
	const struct epath *p = &x->em->paths[id];
	struct efound *f = &x->found[id];

	if (f->have_val && f->set == x->nsets_mapped &&
	    f->anchor == x->loop->anchor && f->nfree == x->loop->nfree) {
		*out = f->val;
		*col = f->col;
		map_edi_note_read(run, id, &x->set, (size_t)f->at, f->col);
		return 0;
	}
	if (read_value(run, p, &x->set, (size_t)at, pair_at, out, col, err))
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

/* Every path by the general rules: the reference the compiled reads
 * below are checked against (t_mapping_edi, map_edi_compiled = 0). */
static int rt_path_generic(struct map_run *run, int id, struct expr_val *out,
			   unsigned *col, struct err *err)
{
	struct erun *x = run->drv;
	const struct epath *p = &x->em->paths[id];
	unsigned pair_at;
	int from_free;
	long at;

	*col = 0;
	out->s = NULL;
	out->n = 0;
	map_edi_note_read(run, id, NULL, 0, 0);
	if (read_pair(x, p, out))
		return 0;
	if (p->env)
		return read_env(run, id, out, col, err);
	if (!x->loop)
		return 0;
	if (p->has_parent)
		return read_parent(run, p, out, col, err);
	at = find_scope(x, id, &pair_at, &from_free);
	if (at < 0)
		return 0;
	if (from_free && p->at.rep != E_REP_ALL)
		return read_free_value(run, id, at, pair_at, out, col, err);
	return read_value(run, p, &x->set, (size_t)at, pair_at, out, col,
			  err);
}

int map_edi_compiled = 1;

/* The segment a PF_LOOP path reads in a scope that is not exploded, as
 * find_scope() finds it then: the first match in the loop (the loop's
 * tag summary and the path's tag bit, both resolved ahead, skip loops
 * without the tag), else the free segments before the loop (kept per
 * set, anchor and prefix). */
static inline __attribute__((always_inline)) long
loop_find(struct erun *x, int id, const struct epath *p, unsigned *pair_at,
	  int *from_free)
{
	const struct segstore *s = &x->set;
	long at = -1;

	*pair_at = 0;
	*from_free = 0;
	if (x->sfound[p->sid].scope == x->nscopes) {
		*pair_at = x->sfound[p->sid].pair_at;
		*from_free = x->sfound[p->sid].from_free;
		return x->sfound[p->sid].at;
	}
	if (!p->ctx && (x->loop_tags & p->tagbit)) {
		const uint32_t *code = s->code;
		size_t i, end = x->loop->end;
		unsigned seen = 0;

		for (i = x->loop->start; i < end; i++)
			if (code[i] == p->sel.code &&
			    seg_matches(&p->sel, s, i, pair_at) &&
			    (!p->sel.nth || ++seen == p->sel.nth)) {
				at = (long)i;
				break;
			}
	}
	if (at < 0 && !p->sel.nth) {
		at = free_find(x, id, p, pair_at);
		*from_free = 1;
	}
	x->sfound[p->sid].scope = x->nscopes;
	x->sfound[p->sid].at = at;
	x->sfound[p->sid].pair_at = *pair_at;
	x->sfound[p->sid].from_free = *from_free;
	return at;
}

/* The compiled read of a PF_LOOP path (what rt_path_generic() gives for
 * it when the scope is not exploded): one search or the scope's memo,
 * then the element read in place. A value cut by the repetition
 * separator goes the general way, which warns about it. Returns 1 when
 * done, 0 when the general read must do it. */
static inline __attribute__((always_inline)) int
read_loop(struct map_run *run, struct erun *x, int id, const struct epath *p,
	  struct expr_val *out, unsigned *col, int *rc, struct err *err)
{
	const struct segstore *s = &x->set;
	unsigned pair_at, e, c;
	int from_free;
	long at = loop_find(x, id, p, &pair_at, &from_free);
	const char *v;
	size_t n;

	if (at < 0) {
		map_edi_note_read(run, id, NULL, 0, 0);
		return 1;
	}
	if (from_free) {
		*rc = read_free_value(run, id, at, pair_at, out, col, err);
		return 1;
	}
	e = p->at.elem;
	c = p->at.comp ? p->at.comp : 1;
	if (p->sel.pairs && pair_at && p->sel.cond.elem &&
	    !p->sel.cond.comp && e == p->sel.cond.elem + 1)
		e = pair_at + 1;
	if (!p->at.rep && x->delims.rep > 0 && sv_nrep(s, (size_t)at, e) > 1)
		return 0;
	*col = e;
	map_edi_note_read(run, id, s, (size_t)at, e);
	v = sv_value(s, (size_t)at, e, p->at.rep ? p->at.rep : 1, c, &n);
	if (v) {
		out->s = v;
		out->n = n;
	}
	return 1;
}

/* A PF_LOOP path read the compiled way the first time in a scope; the
 * value is kept for the scope's later reads of the same path (x->pv).
 * Out of line: its frame is what the hits in map_edi_rt_path() skip. */
static __attribute__((noinline)) int
read_loop_first(struct map_run *run, struct erun *x, int id,
		const struct epath *p, struct expr_val *out, unsigned *col,
		struct err *err)
{
	int rc = 0;

	*col = 0;
	out->s = NULL;
	out->n = 0;
	if (!read_loop(run, x, id, p, out, col, &rc, err))
		return rt_path_generic(run, id, out, col, err);
	if (!rc) {
		x->pv[id].scope = x->nscopes;
		x->pv[id].val = *out;
		x->pv[id].col = *col;
		x->pv[id].loc = run->path_loc;
	}
	return rc;
}

int map_edi_rt_path(struct map_run *run, int id, struct expr_val *out,
		    unsigned *col, struct err *err)
{
	struct erun *x = run->drv;
	const struct epath *p = &x->em->paths[id];

	if (map_edi_compiled && p->fast == PF_LOOP && x->loop &&
	    x->xkind == EX_NONE) {
		if (x->pv[id].scope == x->nscopes) {
			*out = x->pv[id].val;
			*col = x->pv[id].col;
			run->path_loc = x->pv[id].loc;
			return 0;
		}
		return read_loop_first(run, x, id, p, out, col, err);
	}
	if (map_edi_compiled && p->fast == PF_ENV) {
		/* read once per set (read_env()): the kept value */
		const struct efound *f = &x->found[id];

		if (f->have_val && f->set == x->nsets_mapped &&
		    f->anchor == -1) {
			*out = f->val;
			*col = f->col;
			map_edi_note_read(run, id,
					  p->env == ENV_IC ? &x->ic : &x->grp,
					  0, f->col);
			return 0;
		}
	}
	return rt_path_generic(run, id, out, col, err);
}

void map_edi_raw_seg(struct erun *x, const struct segstore *s, size_t i)
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
			map_edi_raw_seg(x, &x->set, x->loop->start);
			if (x->xs != x->loop->start)
				map_edi_raw_seg(x, &x->set, x->xs);
		} else {
			for (i = a; i < b && x->raw.len < 4096; i++)
				map_edi_raw_seg(x, &x->set, i);
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
	size_t l, k;
	int plain;

	/* "ic %s set %s %s#%lu" by hand: snprintf per record was ~6% of the
	 * map stage. Every part is bounded by its array. The "ic X set Y "
	 * part is written once per set. */
	_Static_assert(sizeof(x->where) >= 3 + sizeof(x->ic_control) + 5 +
						   sizeof(x->set_control) + 1 +
						   sizeof(g->tag) + 1 + 21,
		       "where[] holds the longest text");
	if (x->where_set != x->nsets_mapped) {
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
		x->where_pre = (size_t)(w - x->where);
		x->where_set = x->nsets_mapped;
		x->where_pre_plain = (canon_text_len(x->where, x->where_pre) &
				      CANON_LEN_PLAIN) != 0;
	}
	/* The text's length and whether its JSON needs an escape go with
	 * it (scope.where_len): the control numbers are checked once per
	 * set, the tag here, the digits need none. */
	w = x->where + x->where_pre;
	l = strlen(g->tag);
	memcpy(w, g->tag, l);
	plain = x->where_pre_plain;
	for (k = 0; k < l; k++)
		if ((unsigned char)w[k] < 0x20 || (unsigned char)w[k] > 0x7E ||
		    w[k] == '"' || w[k] == '\\')
			plain = 0;
	w += l;
	*w++ = '#';
	l = str_ulong_memo(&x->where_num, g->num_in_set);
	memcpy(w, x->where_num.s, l + 1);
	w += l;
	run->scope.where = x->where;
	run->scope.where_len = ((unsigned)(w - x->where) + 1) |
			       (plain ? CANON_LEN_PLAIN : 0);
}

static void map_item(struct map_run *run, int a, size_t seg,
		     unsigned long sub)
{
	struct erun *x = run->drv;

	x->nscopes++;
	x->scope_seg = seg;
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
		x->loop_tags |= map_edi_tag_bit(s->code[i]);
	/* a memoized part that reads a tag of this loop is made per scope
	 * (edi_path_dep()) */
	run->memo_vary = x->loop_tags;
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
int map_edi_map_set(struct map_run *run, struct err *err)
{
	struct erun *x = run->drv;
	const struct edi_map *em = x->em;
	struct segstore *s = &x->set;
	uint32_t trailer = TAGC(em->x12 ? "SE\0" : "UNT");
	const struct eloop *ord;
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
	/* One anchor's loops are in start order already. */
	ord = x->loops;
	if (em->nanchors > 1) {
		if (order_loops(x, err))
			return -1;
		ord = x->order;
	}
	x->ctx_ok = 0;
	for (i = 0; i < x->nloops; i++)
		if (map_loop(run, &ord[i], err))
			return -1;
	x->loop = NULL;
	return 0;
}
