/* mapping_edi_err.c - what the X12 and EDIFACT drivers say when a record
 * fails: where in the file (physical line and column of the element,
 * segment number, byte offset; struct src_loc through edi_locate()) and
 * what the set held where a path found nothing ("QTY segments in this
 * LIN group have qualifiers 1, 12; none has 145"). Only error paths run
 * here (map_edi_note_read(), per path read, is inline in
 * mapping_edi_int.h). */
#include <stdio.h>
#include <string.h>

#include "lib/suggest.h"
#include "mapping_edi_int.h"

#define EXPLAIN_MAX_VALS 16

static const struct segstore *dl_store(const struct erun *x,
				       const struct map_dloc *dl)
{
	switch (dl->store) {
	case 1: return &x->set;
	case 2: return &x->ic;
	case 3: return &x->grp;
	default: return NULL;
	}
}

static void locate_seg(struct erun *x, const struct segstore *s, size_t i,
		       unsigned e, unsigned r, unsigned c, struct src_loc *loc)
{
	const struct sseg *g = &s->seg[i];

	edi_locate(&x->loc, &x->delims, g->offset, g->line, g->num, e, r, c,
		   loc);
}

void map_edi_locate(struct map_run *run, const struct map_dloc *dl,
		    unsigned col, struct mapping_reject *rj)
{
	struct erun *x = run->drv;
	const struct segstore *s = NULL;
	struct src_loc loc;
	size_t i = 0;
	unsigned e = 0, r = 1, c = 1;

	(void)col; /* the element index; the walk finds its column */
	if (x->rj_is) {
		const struct edi_issue *is = x->rj_is;

		x->rj_is = NULL;
		x->rj_store = NULL;
		if (!is->seg_in_file)
			return; /* end of data: no segment to point at */
		edi_locate(&x->loc, &x->delims, is->offset, is->line,
			   is->seg_in_file, is->elem, 1, 1, &loc);
		goto found;
	}
	if (x->rj_store) {
		s = x->rj_store;
		i = x->rj_seg;
		x->rj_store = NULL;
	} else if (dl && dl->path && dl->store) {
		s = dl_store(x, dl);
		i = dl->seg;
		e = dl->elem;
		r = dl->rep;
		c = dl->comp;
	} else if (x->loop) {
		s = &x->set;
		i = x->scope_seg;
	}
	if (!s || i >= s->nseg)
		return;
	locate_seg(x, s, i, e, r, c, &loc);
found:
	rj->line = loc.line;
	rj->col = loc.col;
	rj->seg = loc.seg;
	rj->offset = loc.offset;
}

/* The distinct values of the qualifier element of sel's tag in segments
 * [a, b) of s, into vals (at most max); returns how many segments have
 * the tag, *nvals the distinct values, *nmore those that did not fit. */
static size_t qualifiers(const struct segstore *s, const struct esel *sel,
			 size_t a, size_t b, const char **vals, size_t max,
			 size_t *nvals, size_t *nmore)
{
	size_t i, k, nseg = 0;

	*nvals = *nmore = 0;
	for (i = a; i < b; i++) {
		struct edi_seg v;
		unsigned e;

		if (s->code[i] != sel->code || s->seg[i].tag[3])
			continue;
		nseg++;
		if (!sel->cond.elem)
			continue;
		map_edi_store_view(s, i, &v);
		for (e = sel->cond.elem; e <= v.nelem; e += 2) {
			const char *q = edi_seg_value(
				&v, e, 1, sel->cond.comp ? sel->cond.comp : 1);

			if (q && *q) {
				for (k = 0; k < *nvals; k++)
					if (!strcmp(vals[k], q))
						break;
				if (k == *nvals) {
					if (*nvals < max)
						vals[(*nvals)++] = q;
					else
						(*nmore)++;
				}
			}
			if (!sel->pairs || sel->cond.comp)
				break;
		}
	}
	return nseg;
}

/* "no QYT segment in this message (did you mean QTY?)" */
static void explain_no_tag(const struct erun *x, const struct esel *sel,
			   const char *unit, char *out, size_t n)
{
	const char *tags[64];
	const char *near;
	size_t i, k, nt = 0;

	for (i = 0; i < x->set.nseg && nt < 64; i++) {
		for (k = 0; k < nt; k++)
			if (!strcmp(tags[k], x->set.seg[i].tag))
				break;
		if (k == nt)
			tags[nt++] = x->set.seg[i].tag;
	}
	near = suggest_nearest(sel->tag, tags, nt, 1);
	if (near)
		snprintf(out, n, "no %s segment in this %s (did you mean %s?)",
			 sel->tag, unit, near);
	else
		snprintf(out, n, "no %s segment in this %s", sel->tag, unit);
}

/* A path that found no segment: what there is instead. */
static int explain_missing(struct erun *x, const struct epath *p, char *out,
			   size_t n)
{
	const struct esel *sel = &p->sel;
	const char *unit = x->em->x12 ? "set" : "message";
	const char *vals[EXPLAIN_MAX_VALS];
	char group[40] = "", list[200], want[120];
	size_t a = 0, b = x->set.nseg, nseg, nv, nmore, k, o = 0;

	if (x->loop && !p->ctx) {
		a = x->loop->start;
		b = x->loop->end;
		snprintf(group, sizeof(group), "%s group",
			 x->set.seg[a].tag);
	}
	nseg = qualifiers(&x->set, sel, a, b, vals, EXPLAIN_MAX_VALS, &nv,
			  &nmore);
	if (!nseg && group[0]) {
		group[0] = '\0';
		nseg = qualifiers(&x->set, sel, 0, x->set.nseg, vals,
				  EXPLAIN_MAX_VALS, &nv, &nmore);
	}
	if (!nseg) {
		explain_no_tag(x, sel, unit, out, n);
		return 1;
	}
	if (sel->nth && nseg < sel->nth) {
		snprintf(out, n, "this %s has %zu %s segment%s; [%u] asks for "
			 "number %u", group[0] ? group : unit, nseg, sel->tag,
			 nseg == 1 ? "" : "s", sel->nth, sel->nth);
		return 1;
	}
	if (!sel->cond.elem)
		return 0;
	want[0] = '\0';
	for (k = 0; k < sel->nvals && o + 8 < sizeof(want); k++)
		o += (size_t)snprintf(want + o, sizeof(want) - o, "%s%.*s",
				      k ? " or " : "", (int)sel->vlen[k],
				      sel->vals[k]);
	if (!nv) {
		snprintf(out, n, "%s segments in this %s have no %s%02u; none "
			 "has %s", sel->tag, group[0] ? group : unit,
			 sel->tag, sel->cond.elem, want);
		return 1;
	}
	suggest_list(list, sizeof(list), vals, nv, ", ");
	if (nmore)
		snprintf(list + strlen(list), sizeof(list) - strlen(list),
			 " \xe2\x80\xa6 and %zu more", nmore);
	snprintf(out, n, "%s segments in this %s have qualifiers %s; none "
		 "has %s", sel->tag, group[0] ? group : unit, list, want);
	return 1;
}

int map_edi_explain(struct map_run *run, const struct map_dloc *dl,
		    char *out, size_t n)
{
	struct erun *x = run->drv;
	const struct epath *p;
	const struct segstore *s;
	struct edi_seg v;
	struct src_loc loc;
	const char *val;

	if (!dl->path || dl->path > x->em->npaths)
		return 0;
	p = &x->em->paths[dl->path - 1];
	if (p->kind != EP_SEG || p->has_parent)
		return 0;
	s = dl_store(x, dl);
	if (!s)
		return explain_missing(x, p, out, n);
	if (dl->seg >= s->nseg)
		return 0;
	map_edi_store_view(s, dl->seg, &v);
	val = edi_seg_value(&v, dl->elem, dl->rep, dl->comp);
	locate_seg(x, s, dl->seg, dl->elem, dl->rep, dl->comp, &loc);
	if (dl->comp > 1)
		snprintf(out, n, "%s%02u:%u of segment %lu (%s, line %lu:%u) "
			 "is %s", v.tag, dl->elem, dl->comp, v.num, v.tag,
			 loc.line, loc.col, val ? "empty" : "absent");
	else
		snprintf(out, n, "%s%02u of segment %lu (%s, line %lu:%u) is %s",
			 v.tag, dl->elem, v.num, v.tag, loc.line, loc.col,
			 val ? "empty" : "absent");
	return 1;
}

/* ---- warnings ---------------------------------------------------------- */

int map_edi_warn(struct map_run *run, const struct src_loc *loc,
		 const char *code, const char *msg, struct err *err)
{
	struct mapping_warning w;

	w.file = run->doc->name;
	w.loc = *loc;
	w.code = code;
	w.message = msg;
	run->st.warnings++;
	if (run->sink->warning)
		return run->sink->warning(run->sink->ud, &w, err);
	return 0;
}

int map_edi_warn_issue(struct map_run *run, const struct edi_issue *is,
		       const char *msg, struct err *err)
{
	struct erun *x = run->drv;
	struct src_loc loc;

	memset(&loc, 0, sizeof(loc));
	if (is->seg_in_file)
		edi_locate(&x->loc, &x->delims, is->offset, is->line,
			   is->seg_in_file, is->elem, 1, 1, &loc);
	return map_edi_warn(run, &loc, edi_issue_name(is->code), msg, err);
}

/* A strict source's warning found outside a set: a reject of its own,
 * at the issue's place (the sets around it are what they are). */
int map_edi_strict_reject(struct map_run *run, const struct edi_issue *is,
			  const char *msg, struct err *err)
{
	struct erun *x = run->drv;
	char reason[600], field[24];

	snprintf(reason, sizeof(reason), "interchange %lu (%s): %s (a warning; "
		 "the source is strict: true)", is->ic_index, is->ic_control,
		 msg);
	if (is->elem)
		snprintf(field, sizeof(field), "%.7s%02u", is->seg_id, is->elem);
	else
		snprintf(field, sizeof(field), "%.7s", is->seg_id);
	x->loop = NULL;
	run->scope.line = is->seg_in_file;
	run->scope.raw = "";
	run->scope.raw_len = 0;
	run->scope.raw_fn = NULL;
	run->have_scope = 1;
	run->st.input_records++;
	x->rj_is = is;
	return map_reject(run, is->elem, field, reason, err);
}

/* ISA12 and GS08 name the version: the envelope is read by one, the
 * group's sets by the other (a Walmart-style 856: ISA12 00400, GS08
 * 004060). Checked at every GS; a warning, or with strict: true the
 * reason the group's sets are rejected (x->grp_strict_why). */
int map_edi_check_versions(struct map_run *run, const struct edi_seg *g,
			   const struct edi_ctx *ctx, struct err *err)
{
	struct erun *x = run->drv;
	const char *gs08 = edi_seg_str(g, 8);
	char msg[300];
	struct src_loc loc;

	x->grp_strict_why[0] = '\0';
	if (!x->em->x12 || ctx->dex || strlen(ctx->ic_version) < 5 ||
	    strlen(gs08) < 5 || !strncmp(ctx->ic_version, gs08, 5))
		return 0;
	snprintf(msg, sizeof(msg), "ISA12 version %s and GS08 version %s "
		 "disagree: the envelope is read as %s, the group's sets as "
		 "%s", ctx->ic_version, gs08, ctx->ic_version, gs08);
	edi_locate(&x->loc, &x->delims, g->offset, g->line, g->num, 8, 1, 1,
		   &loc);
	if (map_edi_warn(run, &loc, "version", msg, err))
		return -1;
	if (run->sink->strict)
		snprintf(x->grp_strict_why, sizeof(x->grp_strict_why),
			 "%s (a warning; the source is strict: true)", msg);
	return 0;
}

/* A path read repeat 1 of an element that holds more: the repetition
 * separator cut the value (X12 00406 with ISA11 '-': REF*BM*999999-001
 * reads as 999999). Correct by the standard, but the partner rarely
 * meant it: a warning once per path and document, or with strict: true
 * the record's failure. Returns 0 or -1 with err. */
int map_edi_rep_cut(struct map_run *run, const struct epath *p,
		    const struct segstore *sv, size_t i, unsigned e,
		    unsigned c, struct err *err)
{
	struct erun *x = run->drv;
	size_t id = (size_t)(p - x->em->paths);
	struct edi_seg v;
	struct src_loc loc;
	char whole[120], msg[400];
	unsigned r, nr;
	size_t o = 0;

	if (!run->sink->strict && (x->rep_warned[id / 8] & (1u << (id % 8))))
		return 0;
	x->rep_warned[id / 8] |= (unsigned char)(1u << (id % 8));
	map_edi_store_view(sv, i, &v);
	nr = edi_seg_nrep(&v, e);
	for (r = 1; r <= nr && o + 2 < sizeof(whole); r++) {
		const char *s = edi_seg_value(&v, e, r, c);

		o += (size_t)snprintf(whole + o, sizeof(whole) - o, "%s%s",
				      r > 1 ? (char[2]){(char)x->delims.rep, 0}
					    : "",
				      s ? s : "");
	}
	snprintf(msg, sizeof(msg), "%s%02u of segment %lu is '%s', cut by "
		 "the repetition separator '%c' (%s) into %u repeats: `%s` "
		 "reads '%s', the first (write [*] for all, [2] for the "
		 "second)", v.tag, e, v.num, whole, x->delims.rep,
		 x->em->x12 ? "ISA11" : "UNA", nr, p->text ? p->text : "?",
		 edi_seg_value(&v, e, 1, c) ? edi_seg_value(&v, e, 1, c) : "");
	if (run->sink->strict)
		return err_set(err, E_VALIDATE, "%s (strict: true)", msg);
	edi_locate(&x->loc, &x->delims, sv->seg[i].offset, sv->seg[i].line,
		   sv->seg[i].num, e, 2, c, &loc);
	return map_edi_warn(run, &loc, "repetition", msg, err);
}
