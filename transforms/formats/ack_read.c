/* ack_read.c - received 997/999/TA1 and CONTRL acknowledgments; see
 * ack_read.h. One pass over the reader's events: a segment opens, fills
 * or closes a record; an envelope error of the reader ends the read. */
#include "ack_read.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/buf.h"
#include "edi.h"
#include "edifact_reader.h"
#include "x12_reader.h"

struct rd {
	const char *name;
	struct ack_read_result *out;
	struct err *err;
	int edifact;
	int in_set;            /* inside an acknowledgment set */
	char type[8];          /* its type: 997, 999, CONTRL */
	long grp;              /* open AK1 / UCF record, -1 */
	long set;              /* open AK2 / UCM record, -1 */
	long ic;               /* open UCI record, -1 */
	int grp_done;          /* AK9 seen for the open AK1 */
	int set_done;          /* AK5/IK5 seen for the open AK2 */
	unsigned long st_line; /* line of its ST/UNH */
};

static int fail(struct rd *r, unsigned long line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct rd *r, unsigned long line, const char *fmt, ...)
{
	char why[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return err_at(r->err, E_PARSE, r->name, line, 0,
		      "not a readable acknowledgment: %s", why);
}

/* Copies element e (component c) of seg into dst; a value longer than
 * dst is an error of the file (a control number cut short would match
 * the wrong delivery). */
static int take(struct rd *r, const struct edi_seg *s, unsigned e,
		unsigned c, char *dst, size_t n)
{
	const char *v = edi_seg_value(s, e, 1, c);

	if (!v)
		v = "";
	if (str_copy(dst, n, v) < 0)
		return fail(r, s->line, "%s%02u is longer than %zu characters",
			    s->tag, e, n - 1);
	return 0;
}

static unsigned long num(const struct edi_seg *s, unsigned e, unsigned c)
{
	const char *v = edi_seg_value(s, e, 1, c);

	return v ? strtoul(v, NULL, 10) : 0;
}

static long add_ack(struct rd *r, const struct edi_seg *s, int level,
		    const struct edi_ctx *ctx)
{
	struct ack_read_result *o = r->out;
	struct ack_read_ack *a;

	if (ALLOC_GROW(o->acks, o->nacks + 1, o->acap) < 0)
		return err_set(r->err, E_NOMEM, "out of memory");
	a = &o->acks[o->nacks];
	memset(a, 0, sizeof(*a));
	a->level = level;
	a->line = s->line;
	str_copy_cut(a->type, sizeof(a->type), level == ACK_LVL_IC &&
						       !r->edifact
					       ? "TA1"
					       : r->type);
	str_copy_cut(a->format, sizeof(a->format),
		     r->edifact ? "edifact" : "x12");
	str_copy_cut(a->sender, sizeof(a->sender), ctx->ic_sender);
	str_copy_cut(a->receiver, sizeof(a->receiver), ctx->ic_receiver);
	return (long)o->nacks++;
}

static struct ack_read_err *add_err(struct rd *r, const struct edi_seg *s,
				    long ack)
{
	struct ack_read_result *o = r->out;
	struct ack_read_err *e;

	if (ALLOC_GROW(o->errs, o->nerrs + 1, o->ecap) < 0) {
		err_set(r->err, E_NOMEM, "out of memory");
		return NULL;
	}
	e = &o->errs[o->nerrs++];
	memset(e, 0, sizeof(*e));
	str_copy_cut(e->kind, sizeof(e->kind), s->tag);
	e->line = s->line;
	e->ack = (size_t)ack;
	o->acks[ack].nerr++;
	return e;
}

/* The codes of a status segment from element first to last, each a
 * detail of record ack (AK502-06, AK905-09, TA105 when not 000). */
static int status_codes(struct rd *r, const struct edi_seg *s, long ack,
			unsigned first, unsigned last)
{
	unsigned e;

	for (e = first; e <= last; e++) {
		const char *v = edi_seg_value(s, e, 1, 1);
		struct ack_read_err *d;

		if (!v || !*v || (!strcmp(s->tag, "TA1") && !strcmp(v, "000")))
			continue;
		if (!(d = add_err(r, s, ack)))
			return -1;
		if (take(r, s, e, 1, d->code, sizeof(d->code)) < 0)
			return -1;
	}
	return 0;
}

/* X12 status code of segment s element 1 into record ack. allow_p: the
 * group level knows "partially accepted". */
static int x12_status(struct rd *r, const struct edi_seg *s, long ack,
		      int allow_p)
{
	struct ack_read_ack *a = &r->out->acks[ack];
	const char *v = edi_seg_str(s, 1);

	if (!strcmp(v, "A"))
		a->status = ACK_ACCEPTED;
	else if (!strcmp(v, "E"))
		a->status = ACK_ACCEPTED_ERRORS;
	else if (allow_p && !strcmp(v, "P"))
		a->status = ACK_PARTIAL;
	else if (!strcmp(v, "R") || (strcmp(s->tag, "TA1") &&
				     (!strcmp(v, "M") || !strcmp(v, "W") ||
				      !strcmp(v, "X"))))
		a->status = ACK_REJECTED;
	else
		return fail(r, s->line, "%s01 status '%s' is not one of %s",
			    s->tag, v,
			    allow_p ? "A E P R M W X" : "A E R M W X");
	str_copy_cut(a->code, sizeof(a->code), v);
	return 0;
}

/* AK3/IK3 (a segment in error) and AK4/IK4 (an element in error). */
static int x12_detail(struct rd *r, const struct edi_seg *s)
{
	struct ack_read_err *d;
	int seg = !strcmp(s->tag + 1, "K3");

	if (r->set < 0 || r->set_done)
		return fail(r, s->line, "%s outside an AK2 ... %s loop",
			    s->tag, r->type[2] == '9' ? "IK5" : "AK5");
	if (!(d = add_err(r, s, r->set)))
		return -1;
	if (seg) {
		d->seg_pos = num(s, 2, 1);
		return take(r, s, 1, 1, d->seg_id, sizeof(d->seg_id)) < 0 ||
			       take(r, s, 3, 1, d->loop, sizeof(d->loop)) < 0 ||
			       take(r, s, 4, 1, d->code, sizeof(d->code)) < 0
		       ? -1
		       : 0;
	}
	d->elem = (unsigned)num(s, 1, 1);
	d->comp = (unsigned)num(s, 1, 2);
	d->rep = (unsigned)num(s, 1, 3);
	/* The copy of the bad value is shown, never matched: cut with a
	 * visible mark when long. */
	str_copy_cut(d->value, sizeof(d->value),
		     edi_seg_value(s, 4, 1, 1) ? edi_seg_value(s, 4, 1, 1)
					       : "");
	return take(r, s, 2, 1, d->elem_ref, sizeof(d->elem_ref)) < 0 ||
		       take(r, s, 3, 1, d->code, sizeof(d->code)) < 0
	       ? -1
	       : 0;
}

/* A segment of a 997/999 set. */
static int x12_segment(struct rd *r, const struct edi_seg *s,
		       const struct edi_ctx *ctx)
{
	const char *t = s->tag;
	struct ack_read_ack *a;

	if (!strcmp(t, "AK1")) {
		if (r->grp >= 0)
			return fail(r, s->line, "a second AK1 in one set");
		if ((r->grp = add_ack(r, s, ACK_LVL_GROUP, ctx)) < 0)
			return -1;
		a = &r->out->acks[r->grp];
		if (take(r, s, 1, 1, a->grp_id, sizeof(a->grp_id)) < 0 ||
		    take(r, s, 2, 1, a->grp_control, sizeof(a->grp_control)) < 0)
			return -1;
		if (!a->grp_control[0])
			return fail(r, s->line, "AK102 (group control number) "
				    "is empty");
		return 0;
	}
	if (!strcmp(t, "AK2")) {
		if (r->grp < 0 || r->grp_done)
			return fail(r, s->line, "AK2 outside an AK1 ... AK9 "
				    "loop");
		if (r->set >= 0 && !r->set_done)
			return fail(r, r->out->acks[r->set].line,
				    "AK2 without its %s",
				    r->type[2] == '9' ? "IK5" : "AK5");
		if ((r->set = add_ack(r, s, ACK_LVL_SET, ctx)) < 0)
			return -1;
		r->set_done = 0;
		a = &r->out->acks[r->set];
		str_copy_cut(a->grp_id, sizeof(a->grp_id),
			     r->out->acks[r->grp].grp_id);
		str_copy_cut(a->grp_control, sizeof(a->grp_control),
			     r->out->acks[r->grp].grp_control);
		if (take(r, s, 1, 1, a->set_type, sizeof(a->set_type)) < 0 ||
		    take(r, s, 2, 1, a->set_control, sizeof(a->set_control)) < 0)
			return -1;
		if (!a->set_control[0])
			return fail(r, s->line, "AK202 (transaction set "
				    "control number) is empty");
		return 0;
	}
	if (!strcmp(t, "AK3") || !strcmp(t, "AK4") || !strcmp(t, "IK3") ||
	    !strcmp(t, "IK4"))
		return x12_detail(r, s);
	if (!strcmp(t, "AK5") || !strcmp(t, "IK5")) {
		if (r->set < 0 || r->set_done)
			return fail(r, s->line, "%s without its AK2", t);
		r->set_done = 1;
		return x12_status(r, s, r->set, 0) < 0 ||
				       status_codes(r, s, r->set, 2, 6) < 0
			       ? -1
			       : 0;
	}
	if (!strcmp(t, "AK9")) {
		if (r->grp < 0 || r->grp_done)
			return fail(r, s->line, "AK9 without its AK1");
		if (r->set >= 0 && !r->set_done)
			return fail(r, r->out->acks[r->set].line,
				    "AK2 without its %s",
				    r->type[2] == '9' ? "IK5" : "AK5");
		r->grp_done = 1;
		a = &r->out->acks[r->grp];
		a->nsets = num(s, 2, 1);
		a->nrecv = num(s, 3, 1);
		a->naccepted = num(s, 4, 1);
		return x12_status(r, s, r->grp, 1) < 0 ||
				       status_codes(r, s, r->grp, 5, 9) < 0
			       ? -1
			       : 0;
	}
	if (!strcmp(t, "CTX") || !strcmp(t, "SE") || !strcmp(t, "ST"))
		return 0;
	return fail(r, s->line, "segment %s has no place in a %s", t,
		    r->type);
}

/* TA1: the partner's answer to our interchange envelope (ISA13). */
static int x12_ta1(struct rd *r, const struct edi_seg *s,
		   const struct edi_ctx *ctx)
{
	long i = add_ack(r, s, ACK_LVL_IC, ctx);
	struct ack_read_ack *a;

	if (i < 0)
		return -1;
	a = &r->out->acks[i];
	if (take(r, s, 1, 1, a->ic_control, sizeof(a->ic_control)) < 0)
		return -1;
	if (!a->ic_control[0])
		return fail(r, s->line, "TA101 (interchange control number) "
			    "is empty");
	{
		/* TA104 is the status */
		const char *v = edi_seg_value(s, 4, 1, 1);

		if (!v || (strcmp(v, "A") && strcmp(v, "E") && strcmp(v, "R")))
			return fail(r, s->line, "TA104 status '%s' is not one "
				    "of A E R", v ? v : "");
		a->status = !strcmp(v, "A")   ? ACK_ACCEPTED
			    : !strcmp(v, "E") ? ACK_ACCEPTED_ERRORS
					      : ACK_REJECTED;
		str_copy_cut(a->code, sizeof(a->code), v);
	}
	return status_codes(r, s, i, 5, 5);
}

/* EDIFACT action code 0083 of s element e into record ack. */
static int contrl_action(struct rd *r, const struct edi_seg *s, unsigned e,
			 long ack)
{
	struct ack_read_ack *a = &r->out->acks[ack];
	const char *v = edi_seg_value(s, e, 1, 1);

	if (!v || (strcmp(v, "4") && strcmp(v, "7") && strcmp(v, "8")))
		return fail(r, s->line, "%s%02u action code '%s' is not one "
			    "of 4 (rejected), 7 (acknowledged), 8 (received)",
			    s->tag, e, v ? v : "");
	a->status = !strcmp(v, "4") ? ACK_REJECTED : ACK_ACCEPTED;
	str_copy_cut(a->code, sizeof(a->code), v);
	return 0;
}

/* The error code and the erroneous service segment/element a UCI, UCF
 * or UCM names (elements code_e, code_e + 1, code_e + 2). */
static int contrl_own_error(struct rd *r, const struct edi_seg *s,
			    long ack, unsigned code_e)
{
	const char *v = edi_seg_value(s, code_e, 1, 1);
	struct ack_read_err *d;

	if (!v || !*v)
		return 0;
	if (!(d = add_err(r, s, ack)))
		return -1;
	d->elem = (unsigned)num(s, code_e + 2, 1);
	d->comp = (unsigned)num(s, code_e + 2, 2);
	return take(r, s, code_e, 1, d->code, sizeof(d->code)) < 0 ||
		       take(r, s, code_e + 1, 1, d->seg_id,
			    sizeof(d->seg_id)) < 0
	       ? -1
	       : 0;
}

/* A segment of a CONTRL message. */
static int contrl_segment(struct rd *r, const struct edi_seg *s,
			  const struct edi_ctx *ctx)
{
	const char *t = s->tag;
	struct ack_read_ack *a;
	long i;

	if (!strcmp(t, "UCI")) {
		if (r->ic >= 0)
			return fail(r, s->line, "a second UCI in one CONTRL");
		if ((r->ic = add_ack(r, s, ACK_LVL_IC, ctx)) < 0)
			return -1;
		a = &r->out->acks[r->ic];
		if (take(r, s, 1, 1, a->ic_control, sizeof(a->ic_control)) < 0)
			return -1;
		if (!a->ic_control[0])
			return fail(r, s->line, "UCI01 (interchange control "
				    "reference) is empty");
		return contrl_action(r, s, 4, r->ic) < 0 ||
				       contrl_own_error(r, s, r->ic, 5) < 0
			       ? -1
			       : 0;
	}
	if (r->ic < 0)
		return !strcmp(t, "UNH") || !strcmp(t, "UNT")
			       ? 0
			       : fail(r, s->line, "%s before the UCI", t);
	if (!strcmp(t, "UCF") || !strcmp(t, "UCM")) {
		int m = t[2] == 'M';

		if ((i = add_ack(r, s, m ? ACK_LVL_SET : ACK_LVL_GROUP,
				 ctx)) < 0)
			return -1;
		a = &r->out->acks[i];
		str_copy_cut(a->ic_control, sizeof(a->ic_control),
			     r->out->acks[r->ic].ic_control);
		if (!m) {
			r->grp = i;
			r->set = -1;
			if (take(r, s, 1, 1, a->grp_control,
				 sizeof(a->grp_control)) < 0)
				return -1;
		} else {
			r->set = i;
			if (r->grp >= 0)
				str_copy_cut(a->grp_control,
					     sizeof(a->grp_control),
					     r->out->acks[r->grp].grp_control);
			if (take(r, s, 1, 1, a->set_control,
				 sizeof(a->set_control)) < 0 ||
			    take(r, s, 2, 1, a->set_type,
				 sizeof(a->set_type)) < 0)
				return -1;
		}
		if (!(m ? a->set_control : a->grp_control)[0])
			return fail(r, s->line, "%s01 (%s reference) is empty",
				    t, m ? "message" : "group");
		return contrl_action(r, s, m ? 3 : 4, i) < 0 ||
				       contrl_own_error(r, s, i, m ? 4 : 5) < 0
			       ? -1
			       : 0;
	}
	if (!strcmp(t, "UCS") || !strcmp(t, "UCD")) {
		struct ack_read_err *d;

		i = r->set >= 0 ? r->set : r->grp >= 0 ? r->grp : r->ic;
		if (!(d = add_err(r, s, i)))
			return -1;
		if (t[2] == 'S') {
			d->seg_pos = num(s, 1, 1);
			return take(r, s, 2, 1, d->code, sizeof(d->code));
		}
		d->elem = (unsigned)num(s, 2, 1);
		d->comp = (unsigned)num(s, 2, 2);
		return take(r, s, 1, 1, d->code, sizeof(d->code));
	}
	if (!strcmp(t, "UNT") || !strcmp(t, "UCX"))
		return 0;
	return fail(r, s->line, "segment %s has no place in a CONTRL", t);
}

static int on_header(struct rd *r, const struct edi_seg *s,
		     const struct edi_ctx *ctx)
{
	const char *ty = ctx->set_type;

	if ((!r->edifact && strcmp(ty, "997") && strcmp(ty, "999")) ||
	    (r->edifact && strcmp(ty, "CONTRL")))
		return fail(r, s->line, "%s '%s' is not an acknowledgment "
			    "(%s)", r->edifact ? "message" : "transaction set",
			    ty, r->edifact ? "CONTRL" : "997 or 999");
	r->in_set = 1;
	r->st_line = s->line;
	str_copy_cut(r->type, sizeof(r->type), ty);
	r->grp = r->set = r->ic = -1;
	r->grp_done = r->set_done = 0;
	return 0;
}

/* At SE/UNT: every loop closed; CONTRL's "7" with errors below it is
 * "accepted with errors". */
static int on_set_end(struct rd *r, const struct edi_event *ev)
{
	struct ack_read_result *o = r->out;
	size_t i;

	r->in_set = 0;
	if (!r->edifact && r->set >= 0 && !r->set_done)
		return fail(r, o->acks[r->set].line, "AK2 without its %s",
			    r->type[2] == '9' ? "IK5" : "AK5");
	if (!r->edifact && r->grp >= 0 && !r->grp_done)
		return fail(r, o->acks[r->grp].line, "AK1 without its AK9");
	if (!r->edifact && r->grp < 0)
		return fail(r, r->st_line, "%s set %s has no AK1", r->type,
			    ev->ctx->set_control);
	if (r->edifact && r->ic < 0)
		return fail(r, r->st_line, "CONTRL message %s has no UCI",
			    ev->ctx->set_control);
	for (i = 0; r->edifact && i < o->nacks; i++)
		if (o->acks[i].status == ACK_ACCEPTED && o->acks[i].nerr &&
		    !strcmp(o->acks[i].code, "7"))
			o->acks[i].status = ACK_ACCEPTED_ERRORS;
	return 0;
}

static int on_event(struct rd *r, const struct edi_event *ev)
{
	const struct edi_seg *s = ev->seg;

	switch (ev->kind) {
	case EDI_EV_ISSUE:
		if (ev->issue->severity != EDI_ERROR)
			return 0;
		return err_at(r->err, E_PARSE, r->name, ev->issue->line, 0,
			      "not a readable acknowledgment: %s%s%s",
			      ev->issue->seg_id[0] ? ev->issue->seg_id : "",
			      ev->issue->seg_id[0] ? ": " : "",
			      ev->issue->reason);
	case EDI_EV_SET_END:
		return ev->ok ? on_set_end(r, ev)
			      : fail(r, r->st_line, "set %s is broken",
				     ev->ctx->set_control);
	case EDI_EV_SEGMENT:
		break;
	default:
		return 0;
	}
	if (!strcmp(s->tag, "ST") || !strcmp(s->tag, "UNH")) {
		if (on_header(r, s, ev->ctx) < 0)
			return -1;
	}
	if (r->in_set)
		return r->edifact ? contrl_segment(r, s, ev->ctx)
				  : x12_segment(r, s, ev->ctx);
	if (!r->edifact && !strcmp(s->tag, "TA1"))
		return x12_ta1(r, s, ev->ctx);
	return 0;
}

int ack_read_fd(int fd, const char *name, struct ack_read_result *out,
		struct err *err)
{
	struct x12_reader *xr = NULL;
	struct edifact_reader *er = NULL;
	unsigned char head[4096];
	struct edi_event ev;
	struct rd r;
	ssize_t n;
	off_t at = lseek(fd, 0, SEEK_CUR);
	int fmt, rc = -1;

	memset(out, 0, sizeof(*out));
	memset(&r, 0, sizeof(r));
	r.name = name;
	r.out = out;
	r.err = err;
	n = read(fd, head, sizeof(head));
	if (n < 0 || lseek(fd, at, SEEK_SET) < 0)
		return err_sys(err, "cannot read '%s'", name);
	fmt = edi_sniff(head, (size_t)n);
	if (fmt != EDI_FMT_X12 && fmt != EDI_FMT_EDIFACT)
		return err_at(err, E_PARSE, name, 1, 0,
			      "not a readable acknowledgment: the file is %s, "
			      "not X12 (997, 999, TA1) or EDIFACT (CONTRL)",
			      edi_format_name(fmt));
	r.edifact = fmt == EDI_FMT_EDIFACT;
	if ((r.edifact ? edifact_reader_open_fd(&er, fd, name, NULL, err)
		       : x12_reader_open_fd(&xr, fd, name, NULL, err)) < 0)
		goto out;
	for (;;) {
		int got = xr ? x12_reader_next(xr, &ev, err)
			     : edifact_reader_next(er, &ev, err);

		if (got < 0)
			goto out;
		if (got == 0)
			break;
		if (on_event(&r, &ev) < 0)
			goto out;
	}
	if (!out->nacks) {
		err_at(err, E_PARSE, name, 1, 0,
		       "not a readable acknowledgment: no %s in the file",
		       r.edifact ? "CONTRL" : "997, 999 or TA1");
		goto out;
	}
	rc = 0;
out:
	if (rc < 0)
		err_locate(err, name, 0, 0, NULL);
	x12_reader_free(xr);
	edifact_reader_free(er);
	return rc;
}

int ack_read_path(const char *path, const char *name,
		  struct ack_read_result *out, struct err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

	memset(out, 0, sizeof(*out));
	if (fd < 0)
		return err_sys(err, "cannot open '%s'", path);
	rc = ack_read_fd(fd, name, out, err);
	close(fd);
	return rc;
}

void ack_read_release(struct ack_read_result *r)
{
	free(r->acks);
	free(r->errs);
	memset(r, 0, sizeof(*r));
}

const char *ack_read_status_name(int status)
{
	switch (status) {
	case ACK_ACCEPTED:
		return "accepted";
	case ACK_ACCEPTED_ERRORS:
		return "accepted with errors";
	case ACK_PARTIAL:
		return "partially accepted";
	case ACK_REJECTED:
		return "rejected";
	default:
		return "none";
	}
}

const char *ack_read_level_name(int level)
{
	return level == ACK_LVL_IC      ? "interchange"
	       : level == ACK_LVL_GROUP ? "group"
					: "set";
}

void ack_read_err_format(const struct ack_read_err *e, char *out, size_t n)
{
	size_t l;

	snprintf(out, n, "%s", e->kind);
	l = strlen(out);
	if (e->seg_id[0] && l < n)
		l += (size_t)snprintf(out + l, n - l, " segment %s", e->seg_id);
	if (e->seg_pos && l < n)
		l += (size_t)snprintf(out + l, n - l, " at position %lu",
				      e->seg_pos);
	if (e->loop[0] && l < n)
		l += (size_t)snprintf(out + l, n - l, " (loop %s)", e->loop);
	if (e->elem && l < n)
		l += (size_t)snprintf(out + l, n - l, " element %u", e->elem);
	if (e->comp && l < n)
		l += (size_t)snprintf(out + l, n - l, ":%u", e->comp);
	if (e->rep && l < n)
		l += (size_t)snprintf(out + l, n - l, " repeat %u", e->rep);
	if (e->elem_ref[0] && l < n)
		l += (size_t)snprintf(out + l, n - l, " (ref %s)", e->elem_ref);
	if (e->code[0] && l < n)
		l += (size_t)snprintf(out + l, n - l, ": code %s", e->code);
	if (e->value[0] && l < n)
		snprintf(out + l, n - l, ", value '%s'", e->value);
}
