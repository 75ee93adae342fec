/* state_acks.c - acknowledgments back: the tables ack_expect,
 * ack_received and ack_received_errors (schema 8); see state_acks.h.
 */
#include "state_acks.h"
#include "db.h"
#include "state_int.h"

#include <string.h>

/* This file's statements (state_int.h). */
const struct state_sql state_acks_sql[S_NSTMTS] = {
	[SK_EXP_ADD] = {"INSERT INTO ack_expect(target, file_name, run_id,"
			" delivered_at, format, ic_control, grp_control,"
			" set_type, set_control, ic_key, grp_key, set_key)"
			" VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
			" ON CONFLICT DO NOTHING", 0},
	[SK_EXPECTED] = {"SELECT 1 FROM ack_expect WHERE target = ?"
			 " AND file_name = ? LIMIT 1", 0},
	[SK_IN_ADD] = {"INSERT INTO ack_received(target, file, line, run_id,"
		       " read_at, ack_type, level, sender, ic_control,"
		       " grp_control, set_type, set_control, status, code,"
		       " error) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
		       " ?, ?) RETURNING id", 0},
	[SK_ERR_ADD] = {"INSERT INTO ack_received_errors(ack_id, n, kind,"
			" seg_id, seg_pos, loop_id, elem, comp, rep, elem_ref,"
			" code, value, line) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?,"
			" ?, ?, ?, ?)", 0},
	/* An empty key matches any: the level decides which are given. */
	[SK_MATCH] = {"UPDATE ack_expect SET status = ?1, ack_id = ?2,"
		      " acked_at = ?3 WHERE target = ?4 AND format = ?5"
		      " AND (CAST(?6 AS TEXT) = '' OR ic_key = ?6)"
		      " AND (CAST(?7 AS TEXT) = '' OR grp_key = ?7)"
		      " AND (CAST(?8 AS TEXT) = '' OR set_key = ?8)"
		      " AND (?9 = 0 OR status = 0)", 0},
	[SK_MATCHED] = {"UPDATE ack_received SET matched = 1 WHERE id = ?", 0},
	[SK_DELIVS] = {"SELECT e.target, e.file_name, e.format, e.ic_control,"
		       " e.grp_control, e.set_type, e.set_control, e.run_id,"
		       " e.delivered_at, e.status, e.ack_id, e.acked_at,"
		       " r.file, r.ack_type, r.code, r.line FROM ack_expect e"
		       " LEFT JOIN ack_received r ON r.id = e.ack_id"
		       " WHERE (?1 = 0 OR e.run_id = ?1)"
		       " AND (CAST(?2 AS TEXT) = '' OR e.target = ?2)"
		       " ORDER BY e.target, e.delivered_at, e.file_name,"
		       " e.grp_key, e.set_key", 0},
	[SK_UNMATCHED] = {"SELECT id, line, level, status, matched, target,"
			  " file, ack_type, sender, ic_control, grp_control,"
			  " set_type, set_control, code, error"
			  " FROM ack_received WHERE run_id = ? AND matched = 0"
			  " ORDER BY id", 0},
	[SK_ERRORS] = {"SELECT kind, seg_id, seg_pos, loop_id, elem, comp,"
		       " rep, elem_ref, code, value, line"
		       " FROM ack_received_errors WHERE ack_id = ?"
		       " ORDER BY n", 0},
	[SK_OVERDUE] = {"SELECT count(DISTINCT file_name) FROM ack_expect"
			" WHERE target = ? AND status = 0"
			" AND delivered_at <= ?", 0},
	[SK_REJECTED] = {"SELECT count(DISTINCT file_name) FROM ack_expect"
			 " WHERE target = ? AND status = 4", 0},
	[SK_UNREADABLE] = {"SELECT count(*) FROM ack_received"
			   " WHERE run_id = ? AND level = 0", 0},
};

_Static_assert(ACK_REJECTED == 4, "SK_REJECTED counts status 4");

void state_acks_key(const char *control, char *out, size_t n)
{
	while (control[0] == '0' && control[1])
		control++;
	str_copy_cut(out, n, control);
}

int state_acks_expect_add(struct state *s, const struct state_acks_expect *x,
			  struct err *err)
{
	char ic[16], grp[16], set[16];

	state_acks_key(x->ic_control, ic, sizeof(ic));
	state_acks_key(x->grp_control, grp, sizeof(grp));
	state_acks_key(x->set_control, set, sizeof(set));
	return state_exec(s, SK_EXP_ADD,
			  SA(SA_T(x->target), SA_T(x->file_name),
			     SA_I(x->run_id), SA_I(x->delivered_at),
			     SA_T(x->format), SA_T(x->ic_control),
			     SA_T(x->grp_control), SA_T(x->set_type),
			     SA_T(x->set_control), SA_T(ic), SA_T(grp),
			     SA_T(set)),
			  err);
}

int state_acks_expected(struct state *s, const char *target,
			const char *file_name, int *found, struct err *err)
{
	*found = 0;
	return state_rows(s, SK_EXPECTED, SA(SA_T(target), SA_T(file_name)),
			  state_row_found, found, err);
}

int state_acks_in_add(struct state *s, const struct state_acks_in *in,
		      size_t index, const struct ack_read_result *res,
		      int64_t *id, struct err *err)
{
	const struct ack_read_ack *a = in->a;
	size_t i;
	int64_t n = 0;

	*id = 0;
	if (state_rows(s, SK_IN_ADD,
		       SA(SA_T(in->target), SA_T(in->file),
			  SA_I(a ? (int64_t)a->line : (int64_t)in->line),
			  SA_I(in->run_id), SA_I(in->read_at),
			  SA_T(a ? a->type : ""), SA_I(a ? a->level : 0),
			  SA_T(a ? a->sender : NULL),
			  SA_T(a ? a->ic_control : NULL),
			  SA_T(a ? a->grp_control : NULL),
			  SA_T(a ? a->set_type : NULL),
			  SA_T(a ? a->set_control : NULL),
			  SA_I(a ? a->status : 0), SA_T(a ? a->code : NULL),
			  SA_T(in->error)),
		       state_row_int, id, err) < 0)
		return -1;
	if (*id <= 0)
		return err_set(err, E_INTERNAL,
			       "state store: no id from insert into "
			       "ack_received");
	for (i = 0; a && res && i < res->nerrs; i++) {
		const struct ack_read_err *e = &res->errs[i];

		if (e->ack != index)
			continue;
		if (state_exec(s, SK_ERR_ADD,
			       SA(SA_I(*id), SA_I(++n), SA_T(e->kind),
				  SA_T(e->seg_id), SA_I((int64_t)e->seg_pos),
				  SA_T(e->loop), SA_I(e->elem), SA_I(e->comp),
				  SA_I(e->rep), SA_T(e->elem_ref),
				  SA_T(e->code), SA_T(e->value),
				  SA_I((int64_t)e->line)),
			       err) < 0)
			return -1;
	}
	return 0;
}

int state_acks_match(struct state *s, const char *target,
		     const struct ack_read_ack *a, int64_t id, int64_t at,
		     int64_t *n, struct err *err)
{
	char ic[16] = "", grp[16] = "", set[16] = "";
	int edifact = !strcmp(a->format, "edifact");
	int weak = !strcmp(a->type, "TA1") && a->status != ACK_REJECTED;

	*n = 0;
	/* X12 997/999 name no interchange; EDIFACT sets are known by the
	 * interchange and message reference (UNH 0062 is per interchange) */
	if (a->level == ACK_LVL_IC || edifact)
		state_acks_key(a->ic_control, ic, sizeof(ic));
	if (a->level == ACK_LVL_GROUP || (a->level == ACK_LVL_SET && !edifact))
		state_acks_key(a->grp_control, grp, sizeof(grp));
	if (a->level == ACK_LVL_SET)
		state_acks_key(a->set_control, set, sizeof(set));
	if (state_exec(s, SK_MATCH,
		       SA(SA_I(a->status), SA_I(id), SA_I(at), SA_T(target),
			  SA_T(a->format), SA_T(ic), SA_T(grp), SA_T(set),
			  SA_I(weak)),
		       err) < 0)
		return -1;
	*n = state_changes(s);
	if (*n > 0 && state_exec(s, SK_MATCHED, SA(SA_I(id)), err) < 0)
		return -1;
	return 0;
}

struct deliv_walk {
	int (*cb)(void *ud, const struct state_acks_row *r);
	void *ud;
};

static int deliv_row(void *ud, struct db_stmt *p)
{
	struct deliv_walk *w = ud;
	struct state_acks_row r;

	memset(&r, 0, sizeof(r));
	state_col_copy(p, 0, r.target, sizeof(r.target));
	state_col_copy(p, 1, r.file_name, sizeof(r.file_name));
	state_col_copy(p, 2, r.format, sizeof(r.format));
	state_col_copy(p, 3, r.ic_control, sizeof(r.ic_control));
	state_col_copy(p, 4, r.grp_control, sizeof(r.grp_control));
	state_col_copy(p, 5, r.set_type, sizeof(r.set_type));
	state_col_copy(p, 6, r.set_control, sizeof(r.set_control));
	r.run_id = db_col_int64(p, 7);
	r.delivered_at = db_col_int64(p, 8);
	r.status = db_col_int64(p, 9);
	r.ack_id = db_col_int64(p, 10);
	r.acked_at = db_col_int64(p, 11);
	state_col_copy(p, 12, r.ack_file, sizeof(r.ack_file));
	state_col_copy(p, 13, r.ack_type, sizeof(r.ack_type));
	state_col_copy(p, 14, r.code, sizeof(r.code));
	r.ack_line = db_col_int64(p, 15);
	return w->cb(w->ud, &r);
}

int state_acks_deliveries_each(struct state *s, int64_t run_id,
			       const char *target,
			       int (*cb)(void *ud,
					 const struct state_acks_row *r),
			       void *ud, struct err *err)
{
	struct deliv_walk w = {cb, ud};

	return state_rows(s, SK_DELIVS,
			  SA(SA_I(run_id), SA_T(target ? target : "")),
			  deliv_row, &w, err);
}

struct recv_walk {
	int (*cb)(void *ud, const struct state_acks_recv *r);
	void *ud;
};

static int recv_row(void *ud, struct db_stmt *p)
{
	struct recv_walk *w = ud;
	struct state_acks_recv r;

	memset(&r, 0, sizeof(r));
	r.id = db_col_int64(p, 0);
	r.line = db_col_int64(p, 1);
	r.level = db_col_int64(p, 2);
	r.status = db_col_int64(p, 3);
	r.matched = db_col_int64(p, 4);
	state_col_copy(p, 5, r.target, sizeof(r.target));
	state_col_copy(p, 6, r.file, sizeof(r.file));
	state_col_copy(p, 7, r.ack_type, sizeof(r.ack_type));
	state_col_copy(p, 8, r.sender, sizeof(r.sender));
	state_col_copy(p, 9, r.ic_control, sizeof(r.ic_control));
	state_col_copy(p, 10, r.grp_control, sizeof(r.grp_control));
	state_col_copy(p, 11, r.set_type, sizeof(r.set_type));
	state_col_copy(p, 12, r.set_control, sizeof(r.set_control));
	state_col_copy(p, 13, r.code, sizeof(r.code));
	state_col_copy(p, 14, r.error, sizeof(r.error));
	return w->cb(w->ud, &r);
}

int state_acks_unmatched_each(struct state *s, int64_t run_id,
			      int (*cb)(void *ud,
					const struct state_acks_recv *r),
			      void *ud, struct err *err)
{
	struct recv_walk w = {cb, ud};

	return state_rows(s, SK_UNMATCHED, SA(SA_I(run_id)), recv_row, &w,
			  err);
}

struct err_walk {
	int (*cb)(void *ud, const struct ack_read_err *e);
	void *ud;
};

static int err_row(void *ud, struct db_stmt *p)
{
	struct err_walk *w = ud;
	struct ack_read_err e;

	memset(&e, 0, sizeof(e));
	state_col_copy(p, 0, e.kind, sizeof(e.kind));
	state_col_copy(p, 1, e.seg_id, sizeof(e.seg_id));
	e.seg_pos = (unsigned long)db_col_int64(p, 2);
	state_col_copy(p, 3, e.loop, sizeof(e.loop));
	e.elem = (unsigned)db_col_int64(p, 4);
	e.comp = (unsigned)db_col_int64(p, 5);
	e.rep = (unsigned)db_col_int64(p, 6);
	state_col_copy(p, 7, e.elem_ref, sizeof(e.elem_ref));
	state_col_copy(p, 8, e.code, sizeof(e.code));
	state_col_copy(p, 9, e.value, sizeof(e.value));
	e.line = (unsigned long)db_col_int64(p, 10);
	return w->cb(w->ud, &e);
}

int state_acks_errors_each(struct state *s, int64_t id,
			   int (*cb)(void *ud, const struct ack_read_err *e),
			   void *ud, struct err *err)
{
	struct err_walk w = {cb, ud};

	return state_rows(s, SK_ERRORS, SA(SA_I(id)), err_row, &w, err);
}

int state_acks_counts(struct state *s, const char *target, int64_t before,
		      int64_t *overdue, int64_t *rejected, struct err *err)
{
	*overdue = *rejected = 0;
	if (state_rows(s, SK_OVERDUE, SA(SA_T(target), SA_I(before)),
		       state_row_int, overdue, err) < 0)
		return -1;
	return state_rows(s, SK_REJECTED, SA(SA_T(target)), state_row_int,
			  rejected, err);
}

int state_acks_unreadable(struct state *s, int64_t run_id, int64_t *n,
			  struct err *err)
{
	*n = 0;
	return state_rows(s, SK_UNREADABLE, SA(SA_I(run_id)), state_row_int,
			  n, err);
}
