/* state_edi.c - the EDI ledgers of the state store: interchanges seen
 * (duplicate detection at map) and acknowledgments; see state.h. Each
 * function is its statement and a call of the binder (state_int.h).
 *
 * Tables: edi_interchanges, edi_acks.
 */
#include "state.h"
#include "state_int.h"

#include <stdio.h>
#include <string.h>

/* This file's statements (state_int.h): SQL in the common dialect
 * of db.h, prepared once per handle by state_stmt. */
const struct state_sql state_edi_sql[S_NSTMTS] = {
	/* The EDI ledgers (state.h). */
	[S_IC_FIND] = {"SELECT sha256, source, doc, doc_sha, run_id"
		      " FROM edi_interchanges WHERE format = ?1 AND"
		      " sender = ?2 AND receiver = ?3 AND control = ?4", 0},
	[S_IC_ADD] = {"INSERT INTO edi_interchanges(format, sender, receiver,"
		     " control, sha256, source, doc, doc_sha, run_id)"
		     " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
		     " ON CONFLICT(format, sender, receiver, control)"
		     " DO UPDATE SET sha256 = excluded.sha256,"
		     " source = excluded.source, doc = excluded.doc,"
		     " doc_sha = excluded.doc_sha, run_id = excluded.run_id", 0},
	[S_ACK_FIND] = {"SELECT file_name FROM edi_acks WHERE source = ?1"
		       " AND format = ?2 AND sender = ?3 AND"
		       " receiver = ?4 AND control = ?5 AND grp = ?6", 0},
	[S_ACK_ADD] = {"INSERT INTO edi_acks(source, format, sender,"
		      " receiver, control, grp, doc, run_id, ack_type,"
		      " ack_control, file_name, content, sent_at, seq)"
		      " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10,"
		      " ?11, ?12, 0,"
		      " (SELECT coalesce(max(seq), 0) + 1 FROM edi_acks))", 0},
	[S_ACKS_UNSENT] = {"SELECT format, sender, receiver, control, grp,"
			  " doc, run_id, ack_type, ack_control, file_name,"
			  " content FROM edi_acks WHERE source = ?1 AND"
			  " sent_at = 0 ORDER BY seq", 0},
	[S_ACK_SENT] = {"UPDATE edi_acks SET sent_at = ?3 WHERE"
		       " source = ?1 AND file_name = ?2", 0},
};

struct ic_out {
	struct state_interchange *out;
	const char *format, *sender, *receiver, *control;
	int found;
};

static int ic_row(void *ud, struct db_stmt *p)
{
	struct ic_out *x = ud;
	struct state_interchange *out = x->out;

	memset(out, 0, sizeof(*out));
	snprintf(out->format, sizeof(out->format), "%s", x->format);
	snprintf(out->sender, sizeof(out->sender), "%s", x->sender);
	snprintf(out->receiver, sizeof(out->receiver), "%s", x->receiver);
	snprintf(out->control, sizeof(out->control), "%s", x->control);
	state_col_copy(p, 0, out->sha256, sizeof(out->sha256));
	state_col_copy(p, 1, out->source, sizeof(out->source));
	state_col_copy(p, 2, out->doc, sizeof(out->doc));
	state_col_copy(p, 3, out->doc_sha, sizeof(out->doc_sha));
	out->run_id = db_col_int64(p, 4);
	x->found = 1;
	return 1;
}

int state_interchange_find(struct state *s, const char *format,
			   const char *sender, const char *receiver,
			   const char *control, struct state_interchange *out,
			   int *found, struct err *err)
{
	struct ic_out x = {out, format, sender, receiver, control, 0};

	*found = 0;
	if (state_rows(s, S_IC_FIND,
		       SA(SA_T(format), SA_T(sender), SA_T(receiver),
			  SA_T(control)),
		       ic_row, &x, err) < 0)
		return -1;
	*found = x.found;
	return 0;
}

int state_interchange_add(struct state *s, const struct state_interchange *ic,
			  struct err *err)
{
	return state_exec(s, S_IC_ADD,
			  SA(SA_T(ic->format), SA_T(ic->sender),
			     SA_T(ic->receiver), SA_T(ic->control),
			     SA_T(ic->sha256), SA_T(ic->source), SA_T(ic->doc),
			     SA_T(ic->doc_sha), SA_I(ic->run_id)),
			  err);
}

int state_ack_find(struct state *s, const struct state_ack *key,
		   char *file_name, size_t n, int *found, struct err *err)
{
	struct state_text t = {file_name, n, 0};

	*found = 0;
	if (state_rows(s, S_ACK_FIND,
		       SA(SA_T(key->source), SA_T(key->format),
			  SA_T(key->sender), SA_T(key->receiver),
			  SA_T(key->control), SA_T(key->grp)),
		       state_row_text, &t, err) < 0)
		return -1;
	*found = t.found;
	return 0;
}

int state_ack_add(struct state *s, const struct state_ack *a,
		  struct err *err)
{
	return state_exec(s, S_ACK_ADD,
			  SA(SA_T(a->source), SA_T(a->format), SA_T(a->sender),
			     SA_T(a->receiver), SA_T(a->control), SA_T(a->grp),
			     SA_T(a->doc), SA_I(a->run_id), SA_T(a->ack_type),
			     SA_I(a->ack_control), SA_T(a->file_name),
			     SA_B(a->content ? a->content : "", a->len)),
			  err);
}

struct acks_cb {
	const char *source;
	int (*cb)(void *ud, const struct state_ack *a);
	void *ud;
};

static int ack_row(void *ud, struct db_stmt *p)
{
	struct acks_cb *c = ud;
	struct state_ack a;

	memset(&a, 0, sizeof(a));
	snprintf(a.source, sizeof(a.source), "%s", c->source);
	state_col_copy(p, 0, a.format, sizeof(a.format));
	state_col_copy(p, 1, a.sender, sizeof(a.sender));
	state_col_copy(p, 2, a.receiver, sizeof(a.receiver));
	state_col_copy(p, 3, a.control, sizeof(a.control));
	state_col_copy(p, 4, a.grp, sizeof(a.grp));
	state_col_copy(p, 5, a.doc, sizeof(a.doc));
	a.run_id = db_col_int64(p, 6);
	state_col_copy(p, 7, a.ack_type, sizeof(a.ack_type));
	a.ack_control = db_col_int64(p, 8);
	state_col_copy(p, 9, a.file_name, sizeof(a.file_name));
	a.content = db_col_blob(p, 10, &a.len);
	if (!a.content)
		a.content = "";
	/* the callback's nonzero only stops the walk */
	return c->cb(c->ud, &a) != 0;
}

int state_acks_unsent_each(struct state *s, const char *source,
			   int (*cb)(void *ud, const struct state_ack *a),
			   void *ud, struct err *err)
{
	struct acks_cb c = {source, cb, ud};

	return state_rows(s, S_ACKS_UNSENT, SA(SA_T(source)), ack_row, &c,
			  err);
}

int state_ack_sent(struct state *s, const char *source,
		   const char *file_name, int64_t at, struct err *err)
{
	return state_exec(s, S_ACK_SENT,
			  SA(SA_T(source), SA_T(file_name),
			     SA_I(at > 0 ? at : 1)),
			  err);
}
