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

#endif
