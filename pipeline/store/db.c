/* db.c - the backend-neutral half of the SQL layer; see db.h. Picks a
 * backend by URL, keeps the list of live statements (so closing a
 * connection cannot leave a statement pointing at freed memory), and
 * holds the text helpers both backends use: the placeholder rewriting for
 * PostgreSQL and the short statement names in error messages. */
#include "db.h"
#include "db_impl.h"

#include "lib/buf.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_pg_url(const char *url)
{
	return !strncmp(url, "postgres://", 11) ||
	       !strncmp(url, "postgresql://", 13);
}

int db_open(const char *url, const char *password_env, struct db **out,
	    struct err *err)
{
	*out = NULL;
	if (!url || !*url)
		return err_set(err, E_CONFIG, "state store: empty location");
	if (is_pg_url(url))
		return db_pg_open(url, password_env, out, err);
	return db_sqlite_open(url, out, err);
}

void db_close(struct db *d)
{
	struct db_stmt *st;

	if (!d)
		return;
	/* Statements not finalized yet lose their connection now; their
	 * memory stays until db_finalize. */
	d->closing = 1;
	for (st = d->stmts; st; st = st->next) {
		d->ops->release(st);
		st->d = NULL;
	}
	d->ops->close(d);
}

enum db_kind db_kind_of(const struct db *d)
{
	return d->kind;
}

const char *db_where(const struct db *d)
{
	return d->where;
}

int db_exec(struct db *d, const char *sql, struct err *err)
{
	return d->ops->exec(d, sql, err);
}

int db_begin(struct db *d, struct err *err)
{
	return d->ops->begin(d, 1, err);
}

int db_begin_light(struct db *d, struct err *err)
{
	return d->ops->begin(d, 0, err);
}

int db_lock_store(struct db *d, struct err *err)
{
	char sql[96];

	if (!db_in_tx(d))
		return err_set(err, E_INTERNAL,
			       "state store: the writer lock is taken inside "
			       "a transaction");
	if (db_kind_of(d) != DB_POSTGRES)
		return 0;
	/* Re-entrant within a session: a second take is harmless. */
	snprintf(sql, sizeof(sql), "SELECT pg_advisory_xact_lock(%lld)",
		 (long long)DB_WRITER_LOCK);
	return db_exec(d, sql, err);
}

int db_commit(struct db *d, struct err *err)
{
	return d->ops->commit(d, err);
}

void db_rollback(struct db *d)
{
	d->ops->rollback(d);
}

int db_in_tx(const struct db *d)
{
	return d->ops->in_tx(d);
}

void db_stmt_init(struct db *d, struct db_stmt *st, const char *sql,
		  unsigned flags)
{
	st->d = d;
	st->flags = flags;
	st->prev = NULL;
	st->next = d->stmts;
	if (d->stmts)
		d->stmts->prev = st;
	d->stmts = st;
	db_sql_what(sql, st->what, sizeof(st->what));
}

struct db_stmt *db_prepare(struct db *d, const char *sql, unsigned flags,
			   struct err *err)
{
	return d->ops->prepare(d, sql, flags, err);
}

void db_finalize(struct db_stmt *st)
{
	if (!st)
		return;
	if (st->d) {
		st->d->ops->release(st);
		if (st->prev)
			st->prev->next = st->next;
		else
			st->d->stmts = st->next;
		if (st->next)
			st->next->prev = st->prev;
	}
	free(st);
}

/* A statement whose connection was closed answers like a finished one;
 * db_step reports the misuse. */
void db_reset(struct db_stmt *st)
{
	if (st->d)
		st->d->ops->reset(st);
}

void db_bind_int64(struct db_stmt *st, int i, int64_t v)
{
	if (st->d)
		st->d->ops->bind_int64(st, i, v);
}

void db_bind_text(struct db_stmt *st, int i, const char *v)
{
	if (st->d)
		st->d->ops->bind_text(st, i, v);
}

void db_bind_blob(struct db_stmt *st, int i, const void *p, size_t n)
{
	if (st->d)
		st->d->ops->bind_blob(st, i, p, n);
}

void db_bind_null(struct db_stmt *st, int i)
{
	if (st->d)
		st->d->ops->bind_null(st, i);
}

int db_step(struct db_stmt *st, struct err *err)
{
	if (!st->d)
		return err_set(err, E_INTERNAL,
			       "state store: %s: the connection is closed",
			       st->what);
	return st->d->ops->step(st, err);
}

int db_col_null(struct db_stmt *st, int i)
{
	return st->d ? st->d->ops->col_null(st, i) : 1;
}

int64_t db_col_int64(struct db_stmt *st, int i)
{
	return st->d ? st->d->ops->col_int64(st, i) : 0;
}

const char *db_col_text(struct db_stmt *st, int i)
{
	return st->d ? st->d->ops->col_text(st, i) : NULL;
}

const void *db_col_blob(struct db_stmt *st, int i, size_t *n)
{
	*n = 0;
	return st->d ? st->d->ops->col_blob(st, i, n) : NULL;
}

int64_t db_changes(struct db *d)
{
	return d->ops->changes(d);
}

int db_copy_begin(struct db *d, const char *sql, struct err *err)
{
	if (!d->ops->copy_begin)
		return err_set(err, E_INTERNAL,
			       "state store (%s): COPY is not supported",
			       d->ops->name);
	return d->ops->copy_begin(d, sql, err);
}

int db_copy_put(struct db *d, const void *p, size_t n, struct err *err)
{
	return d->ops->copy_put(d, p, n, err);
}

int db_copy_end(struct db *d, int ok, struct err *err)
{
	return d->ops->copy_end(d, ok, err);
}

/* COPY's text format reads a backslash as an escape and a tab, newline
 * or carriage return as a field or row end: those four are written as
 * escapes; everything else goes as it is (the server checks the
 * encoding, as it does for a bound text parameter). */
void db_copy_field(struct buf *b, const char *v)
{
	const char *run;

	if (!v) {
		buf_add(b, "\\N", 2);
		return;
	}
	for (run = v;; v++) {
		const char *esc;

		switch (*v) {
		case '\\': esc = "\\\\"; break;
		case '\t': esc = "\\t"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		case '\0': buf_add(b, run, (size_t)(v - run)); return;
		default: continue;
		}
		buf_add(b, run, (size_t)(v - run));
		buf_add(b, esc, 2);
		run = v + 1;
	}
}

/* ---- text helpers ------------------------------------------------------ */

/* Copies the next SQL word (letters, digits, _ . ") at *p, lowercased for
 * keywords; returns its length (0 at the end). */
static size_t next_word(const char **p, char *w, size_t n)
{
	const char *s = *p;
	size_t len = 0;

	while (*s && !(isalnum((unsigned char)*s) || *s == '_' || *s == '"'))
		s++;
	while (*s && (isalnum((unsigned char)*s) || *s == '_' || *s == '.' ||
		      *s == '"')) {
		if (len + 1 < n)
			w[len++] = (char)tolower((unsigned char)*s);
		s++;
	}
	w[len] = '\0';
	*p = s;
	return len;
}

void db_sql_what(const char *sql, char *out, size_t n)
{
	const char *p = sql;
	char verb[16], w[48];

	if (!next_word(&p, verb, sizeof(verb))) {
		snprintf(out, n, "empty statement");
		return;
	}
	if (!strcmp(verb, "insert") || !strcmp(verb, "delete")) {
		/* INSERT [OR x] INTO t / DELETE FROM t */
		while (next_word(&p, w, sizeof(w)) && strcmp(w, "into") &&
		       strcmp(w, "from"))
			;
		if (next_word(&p, w, sizeof(w))) {
			snprintf(out, n, "%s %s", verb[0] == 'i'
					   ? "insert into" : "delete from", w);
			return;
		}
	} else if (!strcmp(verb, "update")) {
		if (next_word(&p, w, sizeof(w))) {
			snprintf(out, n, "update %s", w);
			return;
		}
	} else if (!strcmp(verb, "select") || !strcmp(verb, "with")) {
		/* The first FROM names the main table often enough. */
		while (next_word(&p, w, sizeof(w)))
			if (!strcmp(w, "from") && next_word(&p, w, sizeof(w))) {
				snprintf(out, n, "select from %s", w);
				return;
			}
	} else if (!strcmp(verb, "create") || !strcmp(verb, "alter") ||
		   !strcmp(verb, "drop")) {
		snprintf(out, n, "schema change (%s)", verb);
		return;
	}
	snprintf(out, n, "%s", verb);
}

void db_url_redact(const char *url, char *out, size_t n)
{
	const char *scheme = strstr(url, "://"), *auth, *end, *at, *colon;
	const char *q;

	if (!scheme) {
		snprintf(out, n, "%s", url);
		return;
	}
	auth = scheme + 3;
	end = auth + strcspn(auth, "/?#");
	/* The last '@' before the host ends the user info. */
	for (at = NULL, q = auth; q < end; q++)
		if (*q == '@')
			at = q;
	colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
	if (colon)
		snprintf(out, n, "%.*s:***%s", (int)(colon - url), url, at);
	else
		snprintf(out, n, "%s", url);
	/* A password=... query parameter is hidden too. */
	if ((q = strstr(out, "password=")) != NULL) {
		size_t keep = (size_t)(q - out) + 9;
		const char *rest = q + 9 + strcspn(q + 9, "&#");
		char tail[512];

		snprintf(tail, sizeof(tail), "%s", rest);
		if (keep < n)
			snprintf(out + keep, n - keep, "***%s", tail);
	}
}

char *db_sql_to_pg(const char *sql, int *nparams)
{
	size_t len = strlen(sql), o = 0;
	/* Each '?' (1 byte) becomes at most "$32767" (6 bytes). */
	char *out = malloc(len * 6 + 1);
	const char *p = sql;
	int max = 0;

	*nparams = 0;
	if (!out)
		return NULL;
	while (*p) {
		char c = *p;

		if (c == '\'' || c == '"') {
			/* A literal or quoted identifier; a doubled quote
			 * inside is an escaped one and keeps us inside. */
			out[o++] = *p++;
			while (*p) {
				if (*p == c && p[1] == c) {
					out[o++] = *p++;
					out[o++] = *p++;
				} else if (*p == c) {
					out[o++] = *p++;
					break;
				} else {
					out[o++] = *p++;
				}
			}
		} else if (c == '-' && p[1] == '-') {
			while (*p && *p != '\n')
				out[o++] = *p++;
		} else if (c == '/' && p[1] == '*') {
			const char *e = strstr(p + 2, "*/");
			size_t k = e ? (size_t)(e + 2 - p) : strlen(p);

			memcpy(out + o, p, k);
			o += k;
			p += k;
		} else if (c == '?') {
			int num;

			p++;
			if (isdigit((unsigned char)*p)) {
				long v = 0;

				while (isdigit((unsigned char)*p) && v <= 32767)
					v = v * 10 + (*p++ - '0');
				if (v < 1 || v > 32767) {
					free(out);
					return NULL;
				}
				num = (int)v;
			} else {
				num = max + 1;
				if (num > 32767) {
					free(out);
					return NULL;
				}
			}
			if (num > max)
				max = num;
			o += (size_t)sprintf(out + o, "$%d", num);
		} else {
			out[o++] = *p++;
		}
	}
	out[o] = '\0';
	*nparams = max;
	return out;
}
