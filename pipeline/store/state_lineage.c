/* state_lineage.c - see state_lineage.h.
 *
 * Before schema 12 every stock event carried its source and file as
 * text: the same two strings for every event of a document, about 12
 * bytes a row (0.66x of the input after two runs of the bench's CSV).
 * They are the map unit's scope and key (stage_map.c names the document
 * so), and doc is that unit's id, so an event now stores them only when
 * they differ from the unit's (a hand-made canonical file, a test's
 * document without a unit): NULL means "the document's". A NULL source
 * of an older load (none is written by the map stage, which names its
 * source or "") reads as the unit's.
 *
 * Tables read: units.
 */
#include "state_lineage.h"
#include "state_int.h"

#include <stdlib.h>
#include <string.h>

/* This file's statements (state_int.h). */
const struct state_sql state_lineage_sql[S_NSTMTS] = {
	[SL_DOC] = {"SELECT scope, ukey, input_sha FROM units WHERE id = ?", 0},
};

static void names_clear(struct state_doc_names *n)
{
	free(n->scope);
	free(n->ukey);
	free(n->sha);
	n->scope = n->ukey = n->sha = NULL;
	n->known = 0;
}

void state_lineage_forget(struct state *s)
{
	s->docn.known = 0;
}

void state_lineage_free(struct state *s)
{
	names_clear(&s->docn);
}

/* Column i as a malloc'd copy into *out (NULL for NULL); -1 when out
 * of memory. */
static int col_dup(struct db_stmt *p, int i, char **out)
{
	const char *t = db_col_null(p, i) ? NULL : db_col_text(p, i);

	*out = NULL;
	if (!t)
		return 0;
	return (*out = strdup(t)) ? 0 : -1;
}

/* Reads the unit of document doc into s->docn. */
static int names_read(struct state *s, int64_t doc, struct err *err)
{
	struct state_doc_names *n = &s->docn;
	struct db_stmt *p = state_stmt(s, SL_DOC, err);
	int rc;

	names_clear(n);
	if (!p)
		return -1;
	db_bind_int64(p, 1, doc);
	rc = db_step(p, err);
	if (rc == 1 && (col_dup(p, 0, &n->scope) < 0 ||
			col_dup(p, 1, &n->ukey) < 0 ||
			col_dup(p, 2, &n->sha) < 0)) {
		db_reset(p);
		names_clear(n);
		return err_set(err, E_NOMEM, "out of memory");
	}
	db_reset(p);
	if (rc < 0)
		return -1;
	n->id = doc;
	n->known = 1;
	return 0;
}

static int same(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

int state_lineage_derive(struct state *s, struct lb_rec *e, struct err *err)
{
	struct state_doc_names *n = &s->docn;

	if ((!n->known || n->id != e->doc) && names_read(s, e->doc, err) < 0)
		return -1;
	e->src_doc = (unsigned char)same(e->source, n->scope);
	e->file_doc = (unsigned char)same(e->file, n->ukey);
	return 0;
}
