/* connector.h - one vtable for every endpoint stockpipe reads or writes.
 *
 * A source or target URL names its connector by scheme ("file://dir",
 * later "sftp://host/dir"), curl-style: each scheme is a const table of
 * operations, found with conn_find(). The stages only ever talk to this
 * interface, so a new transport never touches the pipeline.
 *
 * Remote names handed to fetch/put/remove are plain file names inside the
 * endpoint's directory: a name containing '/' or equal to "." or ".." is
 * refused by conn_name_ok(), so a hostile listing cannot make stockpipe
 * read or write outside the configured folder.
 */
#ifndef STOCKPIPE_CONNECTOR_H
#define STOCKPIPE_CONNECTOR_H

#include <stddef.h>
#include <stdint.h>

#include "../pipeline/err.h"

struct conn_entry {
	char name[256];   /* file name inside the endpoint directory */
	uint64_t size;
	int64_t mtime;    /* seconds since the epoch */
};

struct conn;

struct conn_ops {
	/* Opens the endpoint of url (scheme included). */
	int (*open)(struct conn *c, const char *url, struct err *err);
	/* Calls each() for every regular file directly in the directory. */
	int (*list)(struct conn *c,
		    int (*each)(void *ud, const struct conn_entry *e),
		    void *ud, struct err *err);
	/* Copies remote name into local_path (published atomically), and
	 * hashes it: sha_hex receives the SHA-256, *size the byte count. */
	int (*fetch)(struct conn *c, const char *name, const char *local_path,
		     char *sha_hex, uint64_t *size, struct err *err);
	/* Publishes local_path as name: uploaded under a temporary name,
	 * then renamed, so the far side never sees a partial file. */
	int (*put)(struct conn *c, const char *local_path, const char *name,
		   struct err *err);
	/* Moves name into subdir (created if needed) of the endpoint. */
	int (*move)(struct conn *c, const char *name, const char *subdir,
		    struct err *err);
	int (*remove)(struct conn *c, const char *name, struct err *err);
	/* Size of name, or -1 with err E_NOTFOUND. */
	int (*stat)(struct conn *c, const char *name, struct conn_entry *out,
		    struct err *err);
	void (*close)(struct conn *c); /* idempotent, safe after failed open */
};

struct conn_scheme {
	const char *scheme;          /* "file" */
	const struct conn_ops *ops;
	size_t state_size;           /* private state, calloc'ed by conn_open */
};

struct conn {
	const struct conn_scheme *scheme;
	char url[1024];
	void *state;
};

const struct conn_scheme *conn_find(const char *url);
/* Opens a connection for url; E_CONFIG when the scheme is unknown. The
 * caller frees with conn_close(). */
int conn_open(const char *url, struct conn **out, struct err *err);
void conn_close(struct conn *c);
int conn_name_ok(const char *name);

/* Shell-style glob match on a file name (* ? [..]). */
int conn_glob_match(const char *pattern, const char *name);

extern const struct conn_scheme conn_scheme_file;

#endif
