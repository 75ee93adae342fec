/* edi_env.c - see edi_env.h. */
#include "edi_env.h"

#include <string.h>

int x_alnum(int ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
	       (ch >= '0' && ch <= '9');
}

/* ---- set/group/interchange closing ------------------------------------- */

void close_set_missing(struct x12_reader *r)
{
	struct edi_core *c = &r->c;

	core_issue(c, EDI_ERROR, EDI_I_MISSING_TRAILER, NULL, 0,
		   "missing SE (ST02=%s still open)", c->ctx.set_control);
	core_push_end(c, EDI_EV_SET_END, 0);
	c->ctx.set_open = 0;
	c->ctx.seg_in_set = 0;
}

void close_group_missing(struct x12_reader *r)
{
	struct edi_core *c = &r->c;

	core_issue(c, EDI_ERROR, EDI_I_MISSING_TRAILER, NULL, 0,
		   "missing GE (GS06=%s still open)", c->ctx.grp_control);
	core_push_end(c, EDI_EV_GROUP_END, 0);
	c->ctx.grp_open = 0;
}

/* Closes whatever is open; why = "before the next ISA" or "at end of
 * data". */
void close_all_missing(struct x12_reader *r, const char *why)
{
	struct edi_core *c = &r->c;

	if (c->ctx.set_open)
		close_set_missing(r);
	if (c->ctx.grp_open)
		close_group_missing(r);
	if (c->ctx.ic_open) {
		core_issue(c, EDI_ERROR, EDI_I_MISSING_TRAILER, NULL, 0,
			   "missing %s %s (end of data inside interchange "
			   "%lu)",
			   c->ctx.dex ? "DXE" : "IEA", why, c->ctx.ic_index);
		core_hash_end(c);
		core_push_end(c, EDI_EV_IC_END, 0);
		c->ctx.ic_open = 0;
	}
}

/* 2 alphanumeric tag of the standard's length, 1 other length, 0 empty or
 * not alphanumeric. */
int tag_ok(const struct edi_seg *s)
{
	size_t l = s->tok[0].len, i;

	if (l == 0)
		return 0;
	for (i = 0; i < l; i++)
		if (!x_alnum((unsigned char)s->data[i]))
			return 0;
	return l >= 2 && l <= 3 ? 2 : 1;
}

/* What any segment is checked for: its tag, wrapped lines (once per
 * interchange), a missing terminator at the end of the data. */
void check_segment(struct x12_reader *r, uint32_t tc, int truncated)
{
	struct edi_core *c = &r->c;
	int k = tag_ok(&c->seg);

	if (k == 0)
		core_issue(c, EDI_ERROR, EDI_I_BAD_TAG, NULL, 0,
			   "bad segment tag '%.8s'", c->seg.data);
	else if (k == 1)
		core_issue(c, EDI_WARNING, EDI_I_BAD_TAG, NULL, 0,
			   "segment tag '%.8s' is not 2-3 characters long",
			   c->seg.data);
	if (c->seg_wrapped && !r->wrap_warned) {
		r->wrap_warned = 1;
		core_issue(c, EDI_WARNING, EDI_I_WRAPPED, NULL, 0,
			   "line break inside segment (wrapped lines) "
			   "removed");
	}
	if (truncated) {
		if (tc == EDI_TAG("IEA") || tc == EDI_TAG("DXE"))
			core_issue(c, EDI_WARNING, EDI_I_TRAILING, NULL, 0,
				   "final segment lacks its terminator");
		else
			core_issue(c, EDI_ERROR, EDI_I_NO_TERMINATOR, NULL, 0,
				   "no segment terminator found (segment runs "
				   "to end of data)");
	}
}

void on_gs(struct x12_reader *r)
{
	struct edi_core *c = &r->c;
	struct edi_ctx *x = &c->ctx;

	if (x->set_open)
		close_set_missing(r);
	if (x->grp_open)
		close_group_missing(r);
	x->grp_open = 1;
	x->grp_index = ++x->ic_ngroups;
	r->ngroups++;
	x->grp_nsets = 0;
	x->grp_errors = 0;
	core_cpy(x->grp_id, sizeof(x->grp_id), edi_seg_str(&c->seg, 1));
	core_cpy(x->grp_sender, sizeof(x->grp_sender),
		 edi_seg_str(&c->seg, 2));
	core_cpy(x->grp_receiver, sizeof(x->grp_receiver),
		 edi_seg_str(&c->seg, 3));
	core_cpy(x->grp_date, sizeof(x->grp_date),
		 edi_seg_str(&c->seg, 4));
	core_cpy(x->grp_time, sizeof(x->grp_time),
		 edi_seg_str(&c->seg, 5));
	core_cpy(x->grp_control, sizeof(x->grp_control),
		 edi_seg_str(&c->seg, 6));
	core_cpy(x->grp_version, sizeof(x->grp_version),
		 edi_seg_str(&c->seg, 8));
	if (x->dex)
		core_issue(c, EDI_ERROR, EDI_I_UNEXPECTED, NULL, 0,
			   "GS inside a DXS/DXE envelope");
	core_push_seg(c);
}

void on_ge(struct x12_reader *r)
{
	struct edi_core *c = &r->c;
	struct edi_ctx *x = &c->ctx;

	if (x->set_open)
		close_set_missing(r);
	if (!x->grp_open) {
		core_issue(c, EDI_ERROR, EDI_I_MISSING_HEADER, NULL, 0,
			   "GE without GS");
		core_push_seg(c);
		return;
	}
	core_check_count(c, 1, x->grp_nsets, "set count");
	core_check_ctl(c, 2, x->grp_control, "GS06");
	core_push_seg(c);
	core_push_end(c, EDI_EV_GROUP_END,
		      x->grp_errors == 0 && !r->hdr_bad);
	x->grp_open = 0;
}

void on_st(struct x12_reader *r)
{
	struct edi_core *c = &r->c;
	struct edi_ctx *x = &c->ctx;

	if (x->set_open)
		close_set_missing(r);
	x->set_open = 1;
	x->seg_in_set = 1;
	x->set_errors = 0;
	x->set_index++;
	r->nsets++;
	x->ic_nsets++;
	if (x->grp_open)
		x->grp_nsets++;
	core_cpy(x->set_type, sizeof(x->set_type),
		 edi_seg_str(&c->seg, 1));
	core_cpy(x->set_control, sizeof(x->set_control),
		 edi_seg_str(&c->seg, 2));
	core_cpy(x->set_version, sizeof(x->set_version),
		 edi_seg_str(&c->seg, 3));
	if (!x->grp_open && !x->dex)
		core_issue(c, EDI_ERROR, EDI_I_MISSING_HEADER, NULL, 0,
			   "ST outside a functional group (no GS)");
	core_push_seg(c);
}

void on_se(struct x12_reader *r)
{
	struct edi_core *c = &r->c;
	struct edi_ctx *x = &c->ctx;

	if (!x->set_open) {
		core_issue(c, EDI_ERROR, EDI_I_MISSING_HEADER, NULL, 0,
			   "SE without ST");
		core_push_seg(c);
		return;
	}
	x->seg_in_set++;
	core_check_count(c, 1, x->seg_in_set, "segment count");
	core_check_ctl(c, 2, x->set_control, "ST02");
	core_push_seg(c);
	core_push_end(c, EDI_EV_SET_END,
		      x->set_errors == 0 && !r->hdr_bad);
	x->set_open = 0;
	x->seg_in_set = 0;
}

/* IEA, or DXE for a DXS envelope: closes what is still open. */
void on_ic_end(struct x12_reader *r)
{
	struct edi_core *c = &r->c;
	struct edi_ctx *x = &c->ctx;

	if (x->set_open)
		close_set_missing(r);
	if (x->grp_open)
		close_group_missing(r);
	if (x->dex) {
		core_check_ctl(c, 1, x->ic_control, "DXS04");
		core_check_count(c, 2, x->ic_nsets, "set count");
	} else {
		core_check_count(c, 1, x->ic_ngroups, "group count");
		core_check_ctl(c, 2, x->ic_control, "ISA13");
	}
	core_push_seg(c);
	core_hash_end(c);
	core_push_end(c, EDI_EV_IC_END, x->ic_errors == 0);
	x->ic_open = 0;
}

void finish(struct x12_reader *r)
{
	struct edi_core *c = &r->c;

	c->ctx.seg_in_file = 0;
	c->ctx.seg_in_ic = 0;
	c->seg.tag[0] = '\0';
	c->seg_line = c->line;
	c->seg_off = c->roff + c->rpos;
	close_all_missing(r, "at end of data");
	if (!c->ctx.ic_index) {
		if (c->roff + c->rpos == 0 || !r->in_garbage)
			core_issue(c, EDI_ERROR, EDI_I_NO_INTERCHANGE, "", 0,
				   "empty file");
		else
			core_issue(c, EDI_ERROR, EDI_I_NO_INTERCHANGE, "", 0,
				   "not X12: no ISA or DXS found");
	}
	if (c->junk)
		core_issue(c, EDI_WARNING, EDI_I_TRAILING, "", 0,
			   "NUL or ^Z bytes between segments or after the "
			   "last interchange");
	c->done = 1;
}
