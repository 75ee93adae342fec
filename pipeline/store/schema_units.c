/* schema_units.c - version 6's typed unit columns for the units of an
 * older store; see schema.h.
 *
 * Before version 6 the stages kept some of a unit's state in its detail
 * text and read it back: a fetch unit's "SIZE MTIME" and " posted", a map
 * unit's "released by ..." and QUARANTINE_ACCEPT_TAG, "rejects: PATH",
 * a render unit's "control=N", a render's "held" and a delivery's
 * "delivered" prefix. This is the one place that text is still read: once,
 * when a store is migrated, with the same tests the old readers made, so
 * an old store's units carry on exactly where they were.
 */
#include "schema.h"
#include "state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What one old unit's detail said. */
struct old_unit {
	int64_t id;
	int listed, posted, standin, accept, outcome;
	int64_t size, mtime, conflicts, control;
	char *released_by, *release_note, *rejects_path; /* malloc'd or NULL */
};

/* The tag `quarantine release --accept` put into a map unit's detail
 * (pipeline/run.h QUARANTINE_ACCEPT_TAG; spelled here because this text
 * belongs to old stores and must not change with the program). */
#define OLD_ACCEPT_TAG "[accept-rejects]"
/* The tail of a map unit's detail after its reject file. */
#define OLD_IC_NOTE " duplicate interchange(s) not loaded again, "

static char *dup_n(const char *p, size_t n, struct err *err)
{
	char *s = malloc(n + 1);

	if (!s) {
		err_set(err, E_NOMEM, "out of memory");
		return NULL;
	}
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

/* The last "rejects: " of detail: the reject file that follows it (a
 * release note ahead of it may say "rejects: " too; the path never
 * does). Without cut_ic the path runs to the end. */
static int old_rejects(const char *detail, int cut_ic, struct old_unit *o,
		       struct err *err)
{
	const char *p = NULL, *q, *end;
	long long dup, conflicts;

	for (q = detail; (q = strstr(q, "rejects: ")); q++)
		p = q + 9;
	if (!p)
		return 0;
	end = p + strlen(p);
	for (q = p; cut_ic && (q = strstr(q, "; ")); q++)
		if (sscanf(q, "; %lld" OLD_IC_NOTE "%lld", &dup, &conflicts) ==
		    2) {
			end = q;
			o->conflicts = conflicts;
			break;
		}
	return (o->rejects_path = dup_n(p, (size_t)(end - p), err)) ? 0 : -1;
}

/* Fills o from the unit's stage, key and detail as the old readers did. */
static int old_parse(const char *stage, const char *ukey, const char *detail,
		     struct old_unit *o, struct err *err)
{
	unsigned long long size;
	long long mtime, control;
	const char *p;

	if (!strcmp(stage, "fetch")) {
		o->standin = !strcmp(ukey, "(list)");
		if (sscanf(detail, "%llu %lld", &size, &mtime) == 2) {
			o->listed = 1;
			o->size = (int64_t)size;
			o->mtime = mtime;
		}
		o->posted = strstr(detail, " posted") != NULL;
	} else if (!strcmp(stage, "map")) {
		o->accept = strstr(detail, OLD_ACCEPT_TAG) != NULL;
		if (!strncmp(detail, "released by ", 12)) {
			p = strstr(detail + 12, " at ");
			if (!(o->released_by = dup_n(
				      detail + 12,
				      p ? (size_t)(p - detail - 12)
					: strlen(detail + 12),
				      err)) ||
			    !(o->release_note =
				      dup_n(detail, strlen(detail), err)))
				return -1;
		}
		return old_rejects(detail, 1, o, err);
	} else if (!strcmp(stage, "render")) {
		p = strstr(detail, "control=");
		if (p && sscanf(p + 8, "%lld", &control) == 1 && control > 0)
			o->control = control;
		if (!strncmp(detail, "held", 4))
			o->outcome = UO_HELD;
		return old_rejects(detail, 0, o, err);
	} else if (!strcmp(stage, "deliver")) {
		if (!strncmp(detail, "delivered", 9))
			o->outcome = UO_DELIVERED;
	}
	return 0;
}

static void old_free(struct old_unit *o, size_t n)
{
	size_t i;

	for (i = 0; o && i < n; i++) {
		free(o[i].released_by);
		free(o[i].release_note);
		free(o[i].rejects_path);
	}
	free(o);
}

/* Reads every unit with a detail (or the "(list)" key) into *out. The
 * rows are read first and written after: SQLite's cursor would see its
 * own updates. */
static int old_read(struct db *d, struct old_unit **out, size_t *nout,
		    struct err *err)
{
	struct db_stmt *st = db_prepare(
		d,
		"SELECT id, stage, ukey, detail FROM units"
		" WHERE detail IS NOT NULL OR ukey = '(list)' ORDER BY id",
		0, err);
	struct old_unit *o = NULL, *grown;
	size_t n = 0, cap = 0;
	int rc;

	if (!st)
		return -1;
	while ((rc = db_step(st, err)) == 1) {
		const char *stage = db_col_text(st, 1),
			   *ukey = db_col_text(st, 2),
			   *detail = db_col_text(st, 3);

		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			if (!(grown = realloc(o, cap * sizeof(*o)))) {
				rc = err_set(err, E_NOMEM, "out of memory");
				break;
			}
			o = grown;
		}
		memset(&o[n], 0, sizeof(o[n]));
		o[n].id = db_col_int64(st, 0);
		if (old_parse(stage ? stage : "", ukey ? ukey : "",
			      detail ? detail : "", &o[n++], err) < 0) {
			rc = -1;
			break;
		}
	}
	db_finalize(st);
	if (rc < 0) {
		old_free(o, n);
		return -1;
	}
	*out = o;
	*nout = n;
	return 0;
}

int schema_units_fill(struct db *d, struct err *err)
{
	struct old_unit *o = NULL;
	struct db_stmt *st = NULL;
	size_t n = 0, i;
	int rc = -1;

	if (old_read(d, &o, &n, err) < 0)
		return -1;
	if (!(st = db_prepare(d,
			      "UPDATE units SET listed = ?, file_size = ?,"
			      " file_mtime = ?, posted = ?, list_standin = ?,"
			      " accept_rejects = ?, released_by = ?,"
			      " release_note = ?, ic_conflicts = ?,"
			      " rejects_path = ?, control_no = ?, outcome = ?"
			      " WHERE id = ?",
			      0, err)))
		goto cleanup;
	for (i = 0; i < n; i++) {
		db_bind_int64(st, 1, o[i].listed);
		db_bind_int64(st, 2, o[i].size);
		db_bind_int64(st, 3, o[i].mtime);
		db_bind_int64(st, 4, o[i].posted);
		db_bind_int64(st, 5, o[i].standin);
		db_bind_int64(st, 6, o[i].accept);
		db_bind_text(st, 7, o[i].released_by);
		db_bind_text(st, 8, o[i].release_note);
		db_bind_int64(st, 9, o[i].conflicts);
		db_bind_text(st, 10, o[i].rejects_path);
		db_bind_int64(st, 11, o[i].control);
		db_bind_int64(st, 12, o[i].outcome);
		db_bind_int64(st, 13, o[i].id);
		if (db_step(st, err) < 0)
			goto cleanup;
		db_reset(st);
	}
	rc = db_exec(d, "UPDATE meta SET value = '6' WHERE key = 'schema'",
		     err);
cleanup:
	db_finalize(st);
	old_free(o, n);
	return rc;
}
