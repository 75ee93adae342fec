/* state_edi.c - the EDI ledgers of the state store: interchanges seen
 * (duplicate detection at map) and acknowledgments; see state.h. The
 * statements are state.c's table (state_stmt, state_int.h).
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

int state_interchange_find(struct state *s, const char *format,
			   const char *sender, const char *receiver,
			   const char *control, struct state_interchange *out,
			   int *found, struct err *err)
{
	struct db_stmt *p = state_stmt(s, S_IC_FIND, err);
	int rc;

	*found = 0;
	if (!p)
		return -1;
	db_bind_text(p, 1, format);
	db_bind_text(p, 2, sender);
	db_bind_text(p, 3, receiver);
	db_bind_text(p, 4, control);
	rc = db_step(p, err);
	if (rc == 1) {
		memset(out, 0, sizeof(*out));
		snprintf(out->format, sizeof(out->format), "%s", format);
		snprintf(out->sender, sizeof(out->sender), "%s", sender);
		snprintf(out->receiver, sizeof(out->receiver), "%s", receiver);
		snprintf(out->control, sizeof(out->control), "%s", control);
		state_col_copy(p, 0, out->sha256, sizeof(out->sha256));
		state_col_copy(p, 1, out->source, sizeof(out->source));
		state_col_copy(p, 2, out->doc, sizeof(out->doc));
		state_col_copy(p, 3, out->doc_sha, sizeof(out->doc_sha));
		out->run_id = db_col_int64(p, 4);
		*found = 1;
	}
	db_reset(p);
	return rc < 0 ? -1 : 0;
}

int state_interchange_add(struct state *s, const struct state_interchange *ic,
			  struct err *err)
{
	struct db_stmt *p = state_stmt(s, S_IC_ADD, err);

	if (!p)
		return -1;
	db_bind_text(p, 1, ic->format);
	db_bind_text(p, 2, ic->sender);
	db_bind_text(p, 3, ic->receiver);
	db_bind_text(p, 4, ic->control);
	db_bind_text(p, 5, ic->sha256);
	db_bind_text(p, 6, ic->source);
	db_bind_text(p, 7, ic->doc);
	db_bind_text(p, 8, ic->doc_sha);
	db_bind_int64(p, 9, ic->run_id);
	return state_step_done(p, err);
}

int state_ack_find(struct state *s, const struct state_ack *key,
		   char *file_name, size_t n, int *found, struct err *err)
{
	struct db_stmt *p = state_stmt(s, S_ACK_FIND, err);
	int rc;

	*found = 0;
	if (!p)
		return -1;
	db_bind_text(p, 1, key->source);
	db_bind_text(p, 2, key->format);
	db_bind_text(p, 3, key->sender);
	db_bind_text(p, 4, key->receiver);
	db_bind_text(p, 5, key->control);
	db_bind_text(p, 6, key->grp);
	rc = db_step(p, err);
	if (rc == 1) {
		state_col_copy(p, 0, file_name, n);
		*found = 1;
	}
	db_reset(p);
	return rc < 0 ? -1 : 0;
}

int state_ack_add(struct state *s, const struct state_ack *a,
		  struct err *err)
{
	struct db_stmt *p = state_stmt(s, S_ACK_ADD, err);

	if (!p)
		return -1;
	db_bind_text(p, 1, a->source);
	db_bind_text(p, 2, a->format);
	db_bind_text(p, 3, a->sender);
	db_bind_text(p, 4, a->receiver);
	db_bind_text(p, 5, a->control);
	db_bind_text(p, 6, a->grp);
	db_bind_text(p, 7, a->doc);
	db_bind_int64(p, 8, a->run_id);
	db_bind_text(p, 9, a->ack_type);
	db_bind_int64(p, 10, a->ack_control);
	db_bind_text(p, 11, a->file_name);
	db_bind_blob(p, 12, a->content ? a->content : "", a->len);
	return state_step_done(p, err);
}

int state_acks_unsent_each(struct state *s, const char *source,
			   int (*cb)(void *ud, const struct state_ack *a),
			   void *ud, struct err *err)
{
	struct db_stmt *p = state_stmt(s, S_ACKS_UNSENT, err);
	struct state_ack a;
	int rc;

	if (!p)
		return -1;
	db_bind_text(p, 1, source);
	while ((rc = db_step(p, err)) == 1) {
		memset(&a, 0, sizeof(a));
		snprintf(a.source, sizeof(a.source), "%s", source);
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
		if (cb(ud, &a)) {
			rc = 0;
			break;
		}
	}
	db_reset(p);
	return rc < 0 ? -1 : 0;
}

int state_ack_sent(struct state *s, const char *source,
		   const char *file_name, int64_t at, struct err *err)
{
	struct db_stmt *p = state_stmt(s, S_ACK_SENT, err);

	if (!p)
		return -1;
	db_bind_text(p, 1, source);
	db_bind_text(p, 2, file_name);
	db_bind_int64(p, 3, at > 0 ? at : 1);
	return state_step_done(p, err);
}
