/* db_impl.h - what db.c shares with its backends (db_sqlite.c, db_pg.c);
 * not for other modules. Each backend embeds struct db and struct db_stmt
 * as the first member of its own structs and fills a method table, as
 * SQLite's VFS or redis' ae backends do. */
#ifndef STOCKPIPE_DB_IMPL_H
#define STOCKPIPE_DB_IMPL_H

#include "db.h"

struct db_ops {
	const char *name;         /* "sqlite", "postgresql" */
	void (*close)(struct db *d);
	int (*exec)(struct db *d, const char *sql, struct err *err);
	int (*begin)(struct db *d, int writer_lock, struct err *err);
	int (*commit)(struct db *d, struct err *err);
	void (*rollback)(struct db *d);
	int (*in_tx)(const struct db *d);
	struct db_stmt *(*prepare)(struct db *d, const char *sql,
				   unsigned flags, struct err *err);
	/* Releases everything of st but the struct (st->d may be NULL then:
	 * the connection is gone). */
	void (*release)(struct db_stmt *st);
	void (*reset)(struct db_stmt *st);
	void (*bind_int64)(struct db_stmt *st, int i, int64_t v);
	void (*bind_text)(struct db_stmt *st, int i, const char *v);
	void (*bind_blob)(struct db_stmt *st, int i, const void *p, size_t n);
	void (*bind_null)(struct db_stmt *st, int i);
	int (*step)(struct db_stmt *st, struct err *err);
	int (*col_null)(struct db_stmt *st, int i);
	int64_t (*col_int64)(struct db_stmt *st, int i);
	const char *(*col_text)(struct db_stmt *st, int i);
	const void *(*col_blob)(struct db_stmt *st, int i, size_t *n);
	int64_t (*changes)(struct db *d);
	/* NULL when the backend has no COPY (db_copy_begin) */
	int (*copy_begin)(struct db *d, const char *sql, struct err *err);
	int (*copy_put)(struct db *d, const void *p, size_t n,
			struct err *err);
	int (*copy_end)(struct db *d, int ok, struct err *err);
};

struct db {
	const struct db_ops *ops;
	enum db_kind kind;
	char where[1024];         /* path, or URL without password */
	struct db_stmt *stmts;    /* live statements, for db_close */
	int closing;              /* in db_close: no more round trips */
};

struct db_stmt {
	struct db *d;             /* NULL once the connection is closed */
	struct db_stmt *prev, *next;
	unsigned flags;
	char what[64];            /* "insert into units": for messages */
};

/* Backends' open functions; db_open picks one by the URL. */
int db_sqlite_open(const char *path, struct db **out, struct err *err);
int db_pg_open(const char *url, const char *password_env, struct db **out,
	       struct err *err);

/* Links a new statement into d's list and names it after its SQL. */
void db_stmt_init(struct db *d, struct db_stmt *st, const char *sql,
		  unsigned flags);
/* A short description of sql for messages: "insert into units",
 * "select from positions", "begin". */
void db_sql_what(const char *sql, char *out, size_t n);
/* url with any password in it replaced by "***" (for messages). */
void db_url_redact(const char *url, char *out, size_t n);

#endif
