/* expr.h - the expression language shared by inbound and outbound mappings.
 *
 * An expression is a value piped through functions:
 *
 *     col("Menge") | trim | decimal(comma:true) | multiply(12)
 *     "EUR"                      a constant (quoted in the expression)
 *     $as_of                     a context variable
 *     on_hand if col(S) == "OK" else damaged
 *
 * A condition (`when:`, `rules:`, the `if` above) compares expressions:
 * ==, !=, <, <=, >, >=, in (...), is empty, is not empty, matches "re",
 * combined with and / or / not and parentheses.
 *
 * The language is closed: the function table in expr_func.c is the whole
 * library. What a *path* is depends on who embeds the language (CSV
 * `col(...)`, an outbound row field name), so paths, bare words, variables
 * and lookups are resolved through hooks (struct expr_scope at compile
 * time, struct expr_rt at run time). Everything that can be checked before
 * data is read is checked at compile time, with file:line:col: function
 * names, argument counts and names, constant arguments (formats, regexes,
 * time zones, map tables), lookup names.
 *
 * Values are byte strings (s, n); s == NULL means absent. Most functions
 * pass an absent or empty value through unchanged, so `| default(x)` or
 * `| required` at the end decides what a missing value means.
 */
#ifndef STOCKPIPE_EXPR_H
#define STOCKPIPE_EXPR_H

#include <stddef.h>
#include <stdint.h>

#include "lib/arena.h"
#include "lib/err.h"
#include "lookup.h"
#include "transforms/model/tz.h"

struct expr;
struct expr_cond;

struct expr_val {
	const char *s;  /* NULL = absent */
	size_t n;
};

/* Owner of compiled expressions and what they hold (regexes, zones). */
struct expr_pool {
	struct arena arena;
	void **regs;            /* regex_t *, freed with the pool */
	size_t nregs, capregs;
	struct tz **tzs;        /* loaded zones, shared by name */
	size_t ntz, captz;
	unsigned nmemo;         /* memo slots handed out (expr_rt.memo_get) */
	unsigned nlast;         /* expr_last slots handed out */
};

/* The last input and result of a field that is one path piped through
 * functions with constant arguments (col(store) | trim | upper |
 * lookup(stores)): a record that repeats the value of the one before
 * (a store code, a status) skips the functions, which are functions of
 * their input alone. A slot that mostly misses turns itself off. One
 * per expr_pool.nlast, zeroed before use, owned by the embedder
 * (expr_last_release). */
struct expr_last {
	char *in, *out;         /* copies, NUL-terminated */
	size_t inn, outn, incap, outcap;
	int have, in_abs, out_abs, off;
	unsigned long hits, misses;
};

void expr_last_release(struct expr_last *l, size_t n);

void expr_pool_init(struct expr_pool *p);
void expr_pool_release(struct expr_pool *p);

/* Compile-time view of the embedding module. All hooks may be NULL. */
struct expr_scope {
	/* Recognises a path at s (n bytes available). Returns the number of
	 * bytes it used (> 0) with *id set, 0 when s is not a path, or -1
	 * with a message in msg (msgn bytes). */
	int (*path)(void *ud, const char *s, size_t n, int *id, char *msg,
		    size_t msgn);
	/* A bare word: returns 1 with *id set when it names something (a
	 * field), 0 when not. */
	int (*bare)(void *ud, const char *name, int *id);
	/* $name: returns 1 with *id set, 0 when unknown. */
	int (*var)(void *ud, const char *name, int *id);
	/* A declared lookup table, or NULL. */
	struct lookup *(*lookup)(void *ud, const char *name);
	/* The declared lookups' names into names (at most max); returns
	 * how many there are (for "unknown lookup" messages). */
	size_t (*lookup_names)(void *ud, const char **names, size_t max);
	/* 1 when path id gives the same value in every scope of one
	 * context, except in a scope whose vary bits (expr_rt.memo_get)
	 * meet *dep; 0 when it may change from scope to scope. Set by an
	 * embedder whose paths have such values (EDI envelope and header
	 * segments); NULL: no expression is memoized. */
	int (*path_dep)(void *ud, int id, uint64_t *dep);
	void *ud;
	int bare_const;         /* unknown bare words are constants */
	const char *bare_what;  /* "field" / "row field": for messages */
	/* Where the text starts, for file:line:col in errors. */
	const char *file;
	unsigned long line;
	unsigned col;
};

/* Run-time hooks. col is set to the 1-based input column of the last path
 * read, so a reject can point at it. */
struct expr_rt {
	int (*path)(void *ud, int id, struct expr_val *out, unsigned *col,
		    struct err *err);
	int (*bare)(void *ud, int id, struct expr_val *out, struct err *err);
	int (*var)(void *ud, int id, struct expr_val *out, struct err *err);
	void *ud;
	struct arena *a;        /* temporaries; reset by the caller */
	unsigned col;
	int first_bare;         /* id of the first bare word read, or -1 */
	/* Memo of the parts of expressions that read only paths whose
	 * value is fixed for a context (expr_scope.path_dep), one slot per
	 * part (expr_pool.nmemo). memo_get returns 1 with the value kept
	 * for the current context in *out and the col its evaluation left
	 * (the embedder restores whatever else its path reads note), 0
	 * when there is none yet (evaluate, then memo_put), -1 when this
	 * scope's vary bits meet dep (evaluate, keep nothing). memo_put
	 * copies v (the embedder owns the copy until the context ends).
	 * memo_vary: the scope's vary bits, checked inline first (a part
	 * that varies costs no call). NULL: no memo. */
	int (*memo_get)(void *ud, unsigned slot, uint64_t dep,
			struct expr_val *out, unsigned *col);
	const uint64_t *memo_vary;
	struct expr_last *last; /* expr_pool.nlast slots; NULL: none */
	int (*memo_put)(void *ud, unsigned slot, const struct expr_val *v,
			unsigned col, struct err *err);
};

/* Compiles text (n bytes). literal: take text as a constant as it stands
 * (mapping files do not use this: YAML quoting only escapes YAML, the
 * expression inside is parsed either way, see docs/mapping.md). Returns 0 or -1 with err (E_CONFIG) at
 * sc->file:line:col+offset. The expression lives in pool. */
int expr_compile(struct expr_pool *pool, const struct expr_scope *sc,
		 const char *text, size_t n, int literal, struct expr **out,
		 struct err *err);
int expr_cond_compile(struct expr_pool *pool, const struct expr_scope *sc,
		      const char *text, size_t n, struct expr_cond **out,
		      struct err *err);

/* Evaluates e. On failure returns -1 with err (E_MAP, reason like
 * "not a number: '12,5x'"); *out is then unspecified. */
int expr_eval(const struct expr *e, struct expr_rt *rt, struct expr_val *out,
	      struct err *err);
int expr_cond_eval(const struct expr_cond *c, struct expr_rt *rt, int *res,
		   struct err *err);

/* True when e is a plain constant; *s receives it. */
int expr_is_const(const struct expr *e, const char **s);
/* Calls cb with every value e can produce when that set is closed (a
 * constant, a map() with constant results, if/else of those). Returns 1
 * when closed, 0 otherwise (cb not called). col is the 1-based column of
 * the value in the source line, for errors. */
int expr_each_output(const struct expr *e,
		     int (*cb)(void *ud, const char *v, unsigned col),
		     void *ud);
/* True when condition c reads bare word id (a field) somewhere. */
int expr_cond_uses_bare(const struct expr_cond *c, int id);
/* Hands out memo slots (pool->nmemo) to the parts of e that read
 * paths sc->path_dep says are fixed for a context and nothing else that
 * may change (variables, fields, if/else): e itself when it is more
 * than a plain path, else the leading arguments of a concat() (its
 * constant prefix: concat(ISA.06, "-", ST.02, "-", LIN.03)) and any
 * such argument of a call. expr_compile calls it. */
void expr_mark_memo(struct expr_pool *pool, const struct expr_scope *sc,
		    struct expr *e);
/* Gives e a struct expr_last slot (pool->nlast) when it is one path
 * piped through functions whose arguments are constants. For a whole
 * field's expression: the embedder calls it (a part of a field would
 * be evaluated more than once per record). */
void expr_mark_last(struct expr_pool *pool, struct expr *e);
/* True when e reads a path or a bare word somewhere. */
int expr_uses_input(const struct expr *e);

/* Calls cb with every input path e reads (its id, its text as written,
 * its 1-based column), in the order they are read (an if's condition
 * first), also inside function arguments; stops at the first cb that returns
 * non-zero and returns its value (expr_walk.c; for error messages). */
int expr_each_path(const struct expr *e,
		   int (*cb)(void *ud, int id, const char *src, size_t n,
			     unsigned col),
		   void *ud);

/* `matches` with a pattern of the form ^[set]Q$ (Q one of + * {n} {n,}
 * {n,m} or nothing; the set made of ASCII letters, digits, ranges within
 * digits, lower or upper case letters, and printable punctuation other
 * than [ \ ] ^, a '-' only first or last; no negation, classes or
 * escapes): "^[0-9]+$", "^[0-9A-Z-]{6,20}$". Such a
 * pattern is checked byte by byte against this set instead of by
 * regexec, which took ~3 % of an XML map stage's CPU for a one-line rule
 * (docs/performance.md, w-xml4). Same answer as regexec in the C locale
 * the program runs in: every byte is one character, the value ends at
 * its first NUL as regexec's string does. */
struct expr_re_class {
	unsigned char set[32];   /* bit b: byte b is in the set */
	unsigned min, max;       /* repetitions */
};

/* 1 when pat has that form (*rc filled), 0 when regexec must check it. */
int expr_re_class_parse(const char *pat, struct expr_re_class *rc);
/* Whether s (n bytes, or up to its first NUL) matches. */
int expr_re_class_match(const struct expr_re_class *rc, const char *s,
			size_t n);

/* The function names, NULL-terminated (for docs and tests). */
extern const char *const expr_function_names[];

#endif
