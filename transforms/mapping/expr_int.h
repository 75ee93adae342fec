/* expr_int.h - the expression language's private interface, shared by
 * expr_parse.c (text to tree, compile-time checks), expr_func.c (the
 * function library: each function's compile-time prep and run-time run)
 * and expr_eval.c (evaluation and questions about a compiled tree).
 * expr.h is the public contract; nothing outside transforms/mapping/expr_*.c
 * includes this file. */
#ifndef STOCKPIPE_EXPR_INT_H
#define STOCKPIPE_EXPR_INT_H

#include <regex.h>
#include <stddef.h>

#include "transforms/model/dec.h"
#include "expr.h"

/* ------------------------------------------------------------------ */
/* Trees                                                                */

enum node_kind { N_CONST, N_PATH, N_VAR, N_BARE, N_CALL, N_IF };

struct call;

struct expr {
	enum node_kind kind;
	const char *s;          /* N_CONST value (NUL-terminated) */
	size_t n;
	int id;                 /* N_PATH / N_VAR / N_BARE */
	struct call *term_call; /* N_CALL: a function used as the value */
	struct expr_cond *cond; /* N_IF */
	struct expr *then_e, *else_e;
	struct call **stages;
	size_t nstages;
	const char *src;        /* source text of the term (for messages) */
	size_t srclen;
	unsigned col;           /* 1-based column of the term */
	unsigned memo;          /* memo slot + 1 (expr_mark_memo); 0 none */
	uint64_t memo_dep;
	unsigned last;          /* expr_last slot + 1; 0 none */
};

struct call {
	const struct fn_def *fn;
	struct expr **args;
	size_t nargs;
	const char **names;     /* named arguments */
	struct expr **nvals;
	unsigned *ncols;
	size_t nnamed;
	void *data;             /* compiled by fn->prep */
	unsigned col;
	/* concat(): args [0, memo_n) joined are kept in memo slot
	 * memo - 1 (expr_mark_memo); memo 0: none */
	unsigned memo;
	size_t memo_n;
	uint64_t memo_dep;
};

enum cop { C_AND, C_OR, C_NOT, C_EQ, C_NE, C_LT, C_LE, C_GT, C_GE, C_IN,
	   C_EMPTY, C_MATCH };

struct expr_cond {
	enum cop op;
	int neg;                /* "not in", "is not empty" */
	struct expr_cond *l, *r;
	struct expr *a, *b;
	const char **list;
	size_t nlist;
	regex_t *re;
	const struct expr_re_class *rcls; /* C_MATCH without regexec */
	unsigned col;
};

/* ------------------------------------------------------------------ */
/* Compiler state                                                       */

struct cc {
	struct expr_pool *pool;
	const struct expr_scope *sc;
	const char *s;
	size_t n, pos;
	int const_depth;        /* >0: bare words are constants (named args) */
	struct err *err;
};

struct fn_def {
	const char *name;
	int input;              /* 1: needs a piped input; 0: none; 2: either */
	int min, max;           /* positional arguments */
	const char *named;      /* ",a,b," allowed names; "*" any (map) */
	int name_arg;           /* first positional argument is a name */
	int (*prep)(struct cc *cc, struct call *c);
	int (*run)(const struct call *c, struct expr_rt *rt,
		   struct expr_val *v, struct err *err);
};

/* expr_parse.c: compile-time helpers the function preps use. expr_cerr
 * sets err (E_CONFIG) at column pos of the text and returns -1. */
__attribute__((format(printf, 3, 4)))
int expr_cerr(struct cc *cc, size_t pos, const char *fmt, ...);
void *expr_cc_alloc(struct cc *cc, size_t n);
regex_t *expr_compile_re(struct cc *cc, const char *pat, size_t at,
			 int flags);

/* expr_func.c: the function named name (n bytes), or NULL; and the value
 * helpers evaluation shares with the functions. */
const struct fn_def *expr_fn_find(const char *name, size_t n);
const char *expr_cstr(struct expr_rt *rt, const struct expr_val *v,
		      struct err *err);
int expr_num_of(const struct expr_val *v, dec *x);
void expr_strip(struct expr_val *v, const char *set, int left, int right);

#endif
