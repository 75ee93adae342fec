/* edi_env.c - see edi_env.h. */
#include "edi_env.h"

#include <stdio.h>
#include <string.h>

/* ---- helpers ----------------------------------------------------------- */

static int env_alnum(int ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
	       (ch >= '0' && ch <= '9');
}

static int tag_in(uint32_t tc, const uint32_t *list, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (tc == list[i])
			return 1;
	return 0;
}

void env_fields(struct edi_ctx *x, const struct edi_seg *s,
		const struct edi_env_field *f, unsigned n)
{
	unsigned i, k;

	for (i = 0; i < n; i++) {
		char *dst = (char *)x + f[i].off;
		const char *v = edi_seg_value(s, f[i].elem, 1, f[i].comp);
		size_t l;

		core_cpy(dst, f[i].size, v);
		l = strlen(dst);
		for (k = f[i].comp + 1u; k <= f[i].last && l + 1 < f[i].size;
		     k++) {
			v = edi_seg_value(s, f[i].elem, 1, k);
			if (!v)
				break;
			/* cut to the field, as snprintf does */
			l += (size_t)snprintf(dst + l, f[i].size - l, ":%s", v);
		}
	}
}

/* The count of trailer t: element count_elem must be n (what it counts
 * is what), element ctl_elem the header's control number ctl. */
static void check_trailer(struct edi_core *c, const struct edi_env_trailer *t,
			  unsigned long n, const char *what, const char *ctl)
{
	if (t->count_elem < t->ctl_elem) {
		core_check_count(c, t->count_elem, n, what);
		core_check_ctl(c, t->ctl_elem, ctl, t->ctl_name);
	} else {
		core_check_ctl(c, t->ctl_elem, ctl, t->ctl_name);
		core_check_count(c, t->count_elem, n, what);
	}
}

/* ---- closing ----------------------------------------------------------- */

/* A group or set cut off (level l, its header's control number ctl):
 * its trailer reported missing, the unit ended broken. */
static void close_missing(struct edi_env *e, const struct edi_env_level *l,
			  const char *ctl, int kind, int *open)
{
	core_issue(&e->c, EDI_ERROR, EDI_I_MISSING_TRAILER, NULL, 0,
		   "missing %s (%s=%s still open)", l->trl.tag,
		   l->trl.ctl_name, ctl);
	core_push_end(&e->c, kind, 0);
	*open = 0;
}

static void close_set_missing(struct edi_env *e)
{
	struct edi_ctx *x = &e->c.ctx;

	close_missing(e, &e->d->set, x->set_control, EDI_EV_SET_END,
		      &x->set_open);
	x->seg_in_set = 0;
}

static void close_group_missing(struct edi_env *e)
{
	struct edi_ctx *x = &e->c.ctx;

	close_missing(e, &e->d->grp, x->grp_control, EDI_EV_GROUP_END,
		      &x->grp_open);
}

void env_close_all(struct edi_env *e, const char *why)
{
	struct edi_core *c = &e->c;

	if (c->ctx.set_open)
		close_set_missing(e);
	if (c->ctx.grp_open)
		close_group_missing(e);
	if (c->ctx.ic_open) {
		core_issue(c, EDI_ERROR, EDI_I_MISSING_TRAILER, NULL, 0,
			   "missing %s %s (end of data inside interchange "
			   "%lu)",
			   e->d->ic.tag, why, c->ctx.ic_index);
		core_hash_end(c);
		core_push_end(c, EDI_EV_IC_END, 0);
		c->ctx.ic_open = 0;
	}
}

void env_begin_ic(struct edi_env *e)
{
	struct edi_ctx *x = &e->c.ctx;
	unsigned long idx, sf, si;
	int dex, ebc;

	if (x->ic_open)
		env_close_all(e, "before the next interchange");
	idx = x->ic_index;
	sf = x->seg_in_file;
	si = x->set_index;
	dex = x->dex;
	ebc = x->ebcdic;
	memset(x, 0, sizeof(*x));
	x->format = e->d->format;
	x->ic_index = idx + 1;
	x->delims.elem = x->delims.comp = x->delims.rep = -1;
	x->delims.seg = x->delims.rel = x->delims.dec = -1;
	x->seg_in_file = sf;
	x->set_index = si;
	x->dex = dex;
	x->ebcdic = ebc;
	e->in_garbage = 0;
	e->hdr_bad = 0;
	e->wrap_warned = 0;
	e->recheck = 0;
}

/* ---- segments ---------------------------------------------------------- */

/* 2 alphanumeric tag of the standard's length, 1 other length, 0 empty or
 * not alphanumeric. */
static int tag_ok(const struct edi_seg *s, unsigned min)
{
	size_t l = s->tok[0].len, i;

	if (l == 0)
		return 0;
	for (i = 0; i < l; i++)
		if (!env_alnum((unsigned char)s->data[i]))
			return 0;
	return l >= min && l <= 3 ? 2 : 1;
}

/* What any segment is checked for: its tag, wrapped lines (once per
 * interchange), a missing terminator at the end of the data. */
static void check_segment(struct edi_env *e, uint32_t tc, int truncated)
{
	struct edi_core *c = &e->c;
	int k = tag_ok(&c->seg, e->d->tag_min);

	if (k == 0)
		core_issue(c, EDI_ERROR, EDI_I_BAD_TAG, NULL, 0,
			   "bad segment tag '%.8s'", c->seg.data);
	else if (k == 1)
		core_issue(c, EDI_WARNING, EDI_I_BAD_TAG, NULL, 0,
			   "segment tag '%.8s' is not %s characters long",
			   c->seg.data, e->d->tag_len);
	if (c->seg_wrapped && !e->wrap_warned) {
		e->wrap_warned = 1;
		core_issue(c, EDI_WARNING, EDI_I_WRAPPED, NULL, 0,
			   "line break inside segment (wrapped lines) "
			   "removed");
	}
	if (truncated) {
		if (tag_in(tc, e->d->final_ok, e->d->nfinal_ok))
			core_issue(c, EDI_WARNING, EDI_I_TRAILING, NULL, 0,
				   "final segment lacks its terminator");
		else
			core_issue(c, EDI_ERROR, EDI_I_NO_TERMINATOR, NULL, 0,
				   "no segment terminator found (segment runs "
				   "to end of data)");
	}
}

static void on_grp_hdr(struct edi_env *e)
{
	struct edi_core *c = &e->c;
	struct edi_ctx *x = &c->ctx;

	if (x->set_open)
		close_set_missing(e);
	if (x->grp_open)
		close_group_missing(e);
	x->grp_open = 1;
	x->grp_index = ++x->ic_ngroups;
	e->ngroups++;
	x->grp_nsets = 0;
	x->grp_errors = 0;
	env_fields(x, &c->seg, e->d->grp.fields, e->d->grp.nfields);
	if (e->d->grp_forbidden)
		core_issue(c, EDI_ERROR, EDI_I_UNEXPECTED, NULL, 0, "%s",
			   e->d->grp_forbidden);
	core_push_seg(c);
}

/* A group or set trailer (level l, its unit open in *open): without its
 * header it is reported; else its count (n) and control number are
 * checked and the unit ends, ok when no error was found in it (*errors,
 * read after the checks, which add theirs) nor in the interchange header.
 */
static void on_trl(struct edi_env *e, const struct edi_env_level *l,
		   int *open, unsigned long n, const char *ctl, int kind,
		   const unsigned long *errors)
{
	struct edi_core *c = &e->c;

	if (!*open) {
		core_issue(c, EDI_ERROR, EDI_I_MISSING_HEADER, NULL, 0,
			   "%s without %s", l->trl.tag, l->hdr);
		core_push_seg(c);
		return;
	}
	check_trailer(c, &l->trl, n, l->trl.count_what, ctl);
	core_push_seg(c);
	core_push_end(c, kind, *errors == 0 && !e->hdr_bad);
	*open = 0;
}

static void on_set_hdr(struct edi_env *e)
{
	struct edi_core *c = &e->c;
	struct edi_ctx *x = &c->ctx;

	if (x->set_open)
		close_set_missing(e);
	x->set_open = 1;
	x->seg_in_set = 1;
	x->set_errors = 0;
	x->set_index++;
	e->nsets++;
	x->ic_nsets++;
	if (x->grp_open)
		x->grp_nsets++;
	env_fields(x, &c->seg, e->d->set.fields, e->d->set.nfields);
	if (!x->grp_open && e->d->set_needs_grp)
		core_issue(c, EDI_ERROR, EDI_I_MISSING_HEADER, NULL, 0, "%s",
			   e->d->set_needs_grp);
	core_push_seg(c);
}

/* The interchange trailer: closes what is still open. */
static void on_ic_trl(struct edi_env *e)
{
	struct edi_core *c = &e->c;
	struct edi_ctx *x = &c->ctx;
	const struct edi_env_desc *d = e->d;
	int groups = d->ic_counts == ENV_COUNT_GROUPS ||
		     (d->ic_counts == ENV_COUNT_GROUPS_OR_SETS && x->ic_ngroups);

	if (x->set_open)
		close_set_missing(e);
	if (x->grp_open)
		close_group_missing(e);
	check_trailer(c, &d->ic, groups ? x->ic_ngroups : x->ic_nsets,
		      groups ? d->ic.count_what : d->grp.trl.count_what,
		      x->ic_control);
	core_push_seg(c);
	core_hash_end(c);
	core_push_end(c, EDI_EV_IC_END, x->ic_errors == 0);
	x->ic_open = 0;
}

/* A segment whose tag starts like an envelope tag: handles it and returns
 * 1 when it is one. */
static int envelope(struct edi_env *e, uint32_t tc)
{
	struct edi_ctx *x = &e->c.ctx;
	const struct edi_env_desc *d = e->d;

	if (tc == d->ic_hdr_code) {
		core_push_seg(&e->c);
	} else if (tc == d->grp.hdr_code) {
		on_grp_hdr(e);
	} else if (tc == d->grp.trl.code) {
		if (x->set_open)
			close_set_missing(e);
		on_trl(e, &d->grp, &x->grp_open, x->grp_nsets, x->grp_control,
		       EDI_EV_GROUP_END, &x->grp_errors);
	} else if (tc == d->set.hdr_code) {
		on_set_hdr(e);
	} else if (tc == d->set.trl.code) {
		/* SE/UNT counts itself; with no set open seg_in_set is 0 */
		if (x->set_open)
			x->seg_in_set++;
		on_trl(e, &d->set, &x->set_open, x->seg_in_set, x->set_control,
		       EDI_EV_SET_END, &x->set_errors);
		x->seg_in_set = 0;
	} else if (tc == d->ic.code) {
		on_ic_trl(e);
	} else {
		return 0;
	}
	return 1;
}

/* The segment just read: counters, hooks, checks, envelopes, event. */
static void segment(struct edi_env *e, int truncated)
{
	struct edi_core *c = &e->c;
	struct edi_ctx *x = &c->ctx;
	const struct edi_env_desc *d = e->d;
	uint32_t tc = c->tag_code;
	/* tc & 0xFF is the tag's first byte (0 for a longer tag, whose
	 * tag_code is 0): a non-zero tc when env is set */
	int env = d->env_lead[tc & 0xFF];

	x->seg_in_file++;
	x->seg_in_ic++;
	if (e->recheck)
		d->recheck(e);
	if (env && tc == d->ic_hdr_code)
		d->ic_hdr(e);
	if (c->seg_note && d->note)
		d->note(e);
	check_segment(e, tc, truncated);
	if (env && envelope(e, tc))
		return;
	if (x->set_open)
		x->seg_in_set++;
	else if (x->grp_open || !tag_in(tc, d->between, d->nbetween))
		core_issue(c, EDI_ERROR, EDI_I_UNEXPECTED, NULL, 0,
			   "segment %s outside a %s", c->seg.tag, d->set_word);
	core_push_seg(c);
}

/* ---- driver ------------------------------------------------------------ */

static void finish(struct edi_env *e)
{
	struct edi_core *c = &e->c;

	c->ctx.seg_in_file = 0;
	c->ctx.seg_in_ic = 0;
	c->seg.tag[0] = '\0';
	c->seg_line = c->line;
	c->seg_off = c->roff + c->rpos;
	if (e->svc_pending && !c->ctx.ic_open)
		core_issue(c, EDI_ERROR, EDI_I_MISSING_HEADER, "", 0,
			   "%s without interchange", e->d->svc_tag);
	env_close_all(e, "at end of data");
	if (!c->ctx.ic_index) {
		if (c->roff + c->rpos == 0 || (!e->in_garbage && !e->svc_pending))
			core_issue(c, EDI_ERROR, EDI_I_NO_INTERCHANGE, "", 0,
				   "empty file");
		else
			core_issue(c, EDI_ERROR, EDI_I_NO_INTERCHANGE, "", 0,
				   "%s", e->d->not_this);
	}
	if (c->junk)
		core_issue(c, EDI_WARNING, EDI_I_TRAILING, "", 0,
			   "NUL or ^Z bytes between segments or after the "
			   "last interchange");
	c->done = 1;
}

/* Data where no interchange is open: reported once per run of it, then
 * skipped to the next header. */
static int outside(struct edi_env *e, struct err *err)
{
	struct edi_core *c = &e->c;

	if (!e->in_garbage) {
		c->seg_line = c->line;
		c->seg_off = c->roff + c->rpos;
		c->seg.tag[0] = '\0';
		if (c->ctx.ic_index)
			core_issue(c, EDI_ERROR, EDI_I_OUTSIDE, "", 0,
				   "data outside interchange (after "
				   "interchange %lu)",
				   c->ctx.ic_index);
		else
			core_issue(c, EDI_ERROR, EDI_I_OUTSIDE, "", 0,
				   "data outside interchange (before "
				   "the first interchange header)");
		e->in_garbage = 1;
	}
	return core_resync(c, e->d->resync, err) < 0 ? -1 : 0;
}

static int step(struct edi_env *e, struct err *err)
{
	struct edi_core *c = &e->c;
	const unsigned char *p;
	long n;
	int rc;

	rc = core_skip_ws_inline(c, err);
	if (rc < 0)
		return -1;
	if (rc == 0) {
		finish(e);
		return 0;
	}
	n = (long)(c->rlen - c->rpos);
	if (n < (long)e->d->peek && (n = core_fill(c, e->d->peek, err)) < 0)
		return -1;
	p = c->rb + c->rpos;
	if (!c->ctx.ic_open || e->d->lead[p[0]]) {
		rc = e->d->header(e, p, n, err);
		if (rc <= 0)
			return rc;
		if (!c->ctx.ic_open)
			return outside(e, err);
	}
	rc = core_read_segment(c, err);
	if (rc < 0)
		return -1;
	segment(e, rc == 2);
	return 0;
}

int env_next(struct edi_env *e, struct edi_event *ev, struct err *err)
{
	for (;;) {
		if (core_pop(&e->c, ev))
			return 1;
		if (e->c.done)
			return 0;
		if (step(e, err) < 0)
			return -1;
	}
}

int env_open(struct edi_env *e, int fd, const char *name,
	     const struct edi_opts *o, const struct edi_env_desc *d,
	     struct err *err)
{
	struct edi_delims none = {-1, -1, -1, -1, -1, -1, {0}, 0};
	long n;

	if (core_init(&e->c, fd, name, o, err) < 0)
		return -1;
	e->d = d;
	e->c.ctx.format = d->format;
	core_set_delims(&e->c, &none);
	n = core_fill(&e->c, 3, err);
	if (n < 0) {
		core_release(&e->c);
		return -1;
	}
	if (n >= 3 && !memcmp(e->c.rb, "\xEF\xBB\xBF", 3))
		e->c.rpos = 3;
	return 0;
}

void env_stats(const struct edi_env *e, unsigned long *nissues,
	       unsigned long *nerrors, unsigned long *nic,
	       unsigned long *ngroups, unsigned long *nsets)
{
	if (nissues)
		*nissues = e->c.nissues;
	if (nerrors)
		*nerrors = e->c.nerrors;
	if (nic)
		*nic = e->c.ctx.ic_index;
	if (ngroups)
		*ngroups = e->ngroups;
	if (nsets)
		*nsets = e->nsets;
}
