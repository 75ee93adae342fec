/* ytree.h - YAML documents as a small tree with a location on every node.
 *
 * Config and mapping files are read whole into this tree (they are small,
 * written by people) so that every later error can point at file:line:col.
 * All scalars stay text: there is no YAML 1.1 "yes/no/on" guessing, which
 * would turn a supplier code "NO" (Norway) into a boolean. Aliases and
 * anchors are refused: they are the YAML billion-laughs vector and analysts
 * do not need them. Nodes are allocated from the tree's arena and freed with
 * ytree_free().
 */
#ifndef STOCKPIPE_YTREE_H
#define STOCKPIPE_YTREE_H

#include <stddef.h>

#include "arena.h"
#include "err.h"

enum ynode_type { Y_SCALAR, Y_SEQ, Y_MAP };

struct ynode {
	enum ynode_type type;
	const char *value;       /* scalar text (NUL-terminated), else NULL */
	size_t len;              /* scalar length (may contain no NUL) */
	int quoted;              /* scalar was written '...' or "..." */
	unsigned long line;      /* 1-based position of the node's start */
	unsigned col;
	struct ynode **items;    /* SEQ: elements; MAP: key0,val0,key1,val1... */
	size_t n;                /* number of entries in items */
};

struct ytree {
	struct arena arena;
	struct ynode *root;      /* NULL for an empty document */
	char *path;              /* file name used in error messages */
};

/* Parses a YAML file (first document only). Returns 0 or -1 with err
 * located at file:line:col. The caller frees *out with ytree_free(). */
int ytree_load_file(const char *path, struct ytree **out, struct err *err);
/* Same from memory; name is used in messages. */
int ytree_load_mem(const char *name, const char *data, size_t n,
		   struct ytree **out, struct err *err);
void ytree_free(struct ytree *t);

/* Value of key in a MAP node, or NULL (also NULL when m is not a map). */
struct ynode *ynode_get(const struct ynode *m, const char *key);
/* The key node of key in m (for error positions), or NULL. */
struct ynode *ynode_key(const struct ynode *m, const char *key);
/* Scalar text of key in m, or def when absent or not a scalar. */
const char *ynode_str(const struct ynode *m, const char *key, const char *def);
/* Error helper: err_at(err, code, t->path, n->line, n->col, ...). */
int ynode_err(const struct ytree *t, const struct ynode *n, struct err *err,
	      int code, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* ---- key tables -----------------------------------------------------
 *
 * A loader describes the keys of one map as a table, nginx's
 * ngx_command_t shape: the key's name, a setter, the offset of the field
 * it fills in the loader's struct, and the setter's own data. ykey_apply
 * walks the table in order, so the first error a file shows is the one
 * the table's order gives; rows with no setter are keys the loader reads
 * itself (allowed, skipped here).
 */

/* Every key of map m must be in allowed (NULL-terminated). The message:
 *   what == NULL:        "unknown key 'x'"
 *   what, !list_known:   "unknown key 'x' in WHAT"
 *   what, list_known:    "unknown key 'x' in WHAT (known: a, b, c)"
 * located at the key, with " (did you mean 'y'?)" after WHAT when a
 * known key is near (ynode_hint). Returns 0 or -1. */
int ynode_check_keys(const struct ytree *t, const struct ynode *m,
		     const char *const *allowed, const char *what,
		     int list_known, struct err *err);

/* " (did you mean 'X'?)" into out (n bytes) when X in names
 * (NULL-terminated) is within an edit or two of word (lib/suggest.h),
 * else "". Returns out, for a "%s" right after the unknown name. */
const char *ynode_hint(const char *word, const char *const *names,
		       char *out, size_t n);

struct ykey;

/* What a setter sees: the tree (for messages), the map, the struct being
 * filled and the loader's own context. */
struct ykey_ctx {
	const struct ytree *t;
	const struct ynode *map;
	void *obj;
	void *ud;
	struct err *err;
};

/* Called only for a key present in the map, v its value; field is
 * (char *)obj + offset. Returns 0 or -1 with err set. */
typedef int (*ykey_set_fn)(const struct ykey_ctx *c, const struct ykey *k,
			   const struct ynode *v, void *field);

struct ykey {
	const char *name;
	ykey_set_fn set;   /* NULL: allowed, read by the loader itself */
	size_t offset;
	const void *arg;   /* the setter's data (ykey_choice: a ychoice) */
};

/* ykey_choice's data: the value must be one of names (NULL-terminated);
 * the int field gets values[i] (or i when values is NULL). Otherwise
 * the error is msg, followed by ", not 'VALUE'" when show_value. */
struct ychoice {
	const char *const *names;
	const int *values;
	const char *msg;
	int show_value;
};

/* The allowed-keys check of a table (see ynode_check_keys). */
int ykey_check(const struct ytree *t, const struct ynode *m,
	       const struct ykey *keys, const char *what, struct err *err);
/* Runs the setter of each table row whose key is in c->map, in order. */
int ykey_apply(const struct ykey_ctx *c, const struct ykey *keys);
/* The value as one scalar into *out, or "'KEY' must be a single value". */
int ykey_scalar(const struct ykey_ctx *c, const struct ykey *k,
		const struct ynode *v, const char **out);
/* Setters: a const char * field (the scalar's text); an int field from a
 * struct ychoice. */
int ykey_str(const struct ykey_ctx *c, const struct ykey *k,
	     const struct ynode *v, void *field);
int ykey_choice(const struct ykey_ctx *c, const struct ykey *k,
		const struct ynode *v, void *field);

/* Replaces ${VAR} and ${VAR:-default} in every scalar under n with the
 * environment's value (an unset or empty VAR takes the default). E_CONFIG
 * at the value's line for an unterminated '${', a bad name or an unset
 * variable without a default. */
int ytree_interpolate_env(struct ytree *t, struct ynode *n, struct err *err);

#endif
