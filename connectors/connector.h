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

#include "lib/err.h"

struct conn_entry {
	char name[256];   /* file name inside the endpoint directory */
	uint64_t size;
	int64_t mtime;    /* seconds since the epoch */
};

struct conn;

/* Per-endpoint options from the config (the `ssh:` map and `done_suffix`).
 * Every pointer is borrowed: it must outlive the connection (the config's
 * tree owns them). A connector ignores what does not apply to it; file://
 * uses only done_suffix. Secrets never appear here, only the names of the
 * environment variables that hold them. */
struct conn_opts {
	const char *key_file;         /* private key file; NULL = no key */
	const char *passphrase_env;   /* env var with the key's passphrase */
	const char *password_env;     /* env var with the login password */
	const char *known_hosts;      /* OpenSSH known_hosts file */
	const char *host_fingerprint; /* pinned "SHA256:base64" host key */
	int64_t timeout_ms;           /* per blocking operation (> 0) */
	int64_t connect_timeout_ms;   /* TCP connect + banner (> 0) */
	int64_t keepalive_s;          /* SSH keepalive interval, 0 = off */
	int retries;                  /* extra attempts on network errors */
	int64_t retry_time_ms;        /* no new attempt after this long */
	const char *done_suffix;      /* list X only when X<suffix> exists */
	int key_perm_ignore;          /* ssh.key_permissions: ignore */
	int file_mode;                /* put: mode of published files
				       * (e.g. 0640); 0 = the default */
};

/* The defaults config.c applies, and conn_open() when opts is NULL. */
#define CONN_TIMEOUT_MS 30000
#define CONN_CONNECT_TIMEOUT_MS 10000
#define CONN_KEEPALIVE_S 15
#define CONN_RETRIES 2
#define CONN_RETRY_TIME_MS 60000

/* Sets every field of o to its default (no key, no host key source). */
void conn_opts_init(struct conn_opts *o);

struct conn_ops {
	/* Opens the endpoint of url (scheme included) with opts (never
	 * NULL here: conn_open passes defaults). */
	int (*open)(struct conn *c, const char *url,
		    const struct conn_opts *opts, struct err *err);
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
	struct conn_opts opts;       /* copy of the options it was opened with */
	void *state;
};

const struct conn_scheme *conn_find(const char *url);
/* Opens a connection for url with opts (NULL = defaults; the strings it
 * points to are borrowed for the connection's lifetime); E_CONFIG when the
 * scheme is unknown. The caller frees with conn_close(). */
int conn_open(const char *url, const struct conn_opts *opts,
	      struct conn **out, struct err *err);
void conn_close(struct conn *c);

/* The operations of an open connection, as struct conn_ops says: what
 * the pipeline calls, so that no stage reaches into c->scheme->ops. */
int conn_list(struct conn *c,
	      int (*each)(void *ud, const struct conn_entry *e), void *ud,
	      struct err *err);
int conn_fetch(struct conn *c, const char *name, const char *local_path,
	       char *sha_hex, uint64_t *size, struct err *err);
int conn_put(struct conn *c, const char *local_path, const char *name,
	     struct err *err);
int conn_move(struct conn *c, const char *name, const char *subdir,
	      struct err *err);
int conn_remove(struct conn *c, const char *name, struct err *err);
int conn_stat(struct conn *c, const char *name, struct conn_entry *out,
	      struct err *err);
int conn_name_ok(const char *name);
/* SHA-256 of name as it is now at the endpoint, where that is cheap (a
 * local folder; never a symlink or fifo): 0 with sha_hex, 1 when the
 * scheme cannot tell (remote), -1 with err. */
int conn_digest(struct conn *c, const char *name, char *sha_hex,
		struct err *err);
int conn_local_digest(struct conn *c, const char *name, char *sha_hex,
		      struct err *err);

/* Why a name from a remote listing is refused, or NULL when it is safe:
 * conn_name_ok() plus no control characters (C0, DEL). */
const char *conn_name_refusal(const char *name);

/* Writes name with control and non-ASCII bytes as \xNN escapes, for
 * warnings about hostile names (out is always NUL-terminated). */
void conn_name_escape(const char *name, char *out, size_t n);

/* done_suffix convention: true when name is itself a marker (ends with
 * suffix and is longer than it). */
int conn_is_marker(const char *name, const char *suffix);

/* Shell-style glob match on a file name (* ? [..]). */
int conn_glob_match(const char *pattern, const char *name);

extern const struct conn_scheme conn_scheme_file;
extern const struct conn_scheme conn_scheme_sftp;

/* Parts of sftp://[user@]host[:port]/path (exposed for the unit tests).
 * "/~/dir" is relative to the login directory; "/~" is that directory. */
struct sftp_url {
	char user[128];
	char host[256];
	unsigned port;     /* 22 when not given */
	char path[2048];   /* "/abs/dir" or "rel/dir" ("" = login directory) */
};
/* E_CONFIG for a malformed URL, a missing user or a password in it. */
int sftp_url_parse(const char *url, struct sftp_url *u, struct err *err);

/* Compares a pinned host key fingerprint ("SHA256:" optional, base64 with
 * or without '=' padding) with the raw 32-byte SHA-256 of the key; 1 when
 * equal. b64 receives the unpadded base64 of raw (for messages). */
int sftp_fingerprint_match(const char *pin, const unsigned char raw[32],
			   char b64[48]);

#endif
