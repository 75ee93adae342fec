/* mapping_int.h - the mapping engine's internal interface, private to
 * transforms/mapping*.c.
 *
 * mapping.c is the format-independent core: it reads the YAML, compiles
 * context, records, fields, filters and rules, and maps one input *scope*
 * (a CSV row, an XML record element, an EDI segment group) into canonical
 * records or one reject (map_scope). Everything that depends on the input
 * format is a driver (struct map_driver): the input: keys, what a path
 * looks like in an expression, what each: means, and the reader loop that
 * turns a document into scopes. CSV lives in mapping_csv.c, XML in
 * mapping_xml.c, X12 and EDIFACT in mapping_edi*.c; a new format adds one
 * driver and one line in map_driver_find().
 */
#ifndef STOCKPIPE_MAPPING_INT_H
#define STOCKPIPE_MAPPING_INT_H

#include <stdint.h>

#include "lib/arena.h"
#include "lib/io.h"
#include "lib/ytree.h"
#include "transforms/model/uom.h"
#include "expr.h"
#include "filepat.h"
#include "lookup.h"
#include "mapping.h"

#define MAP_MAX_RECORDS 16
#define MAP_MAX_RULES 32
#define MAP_MAX_VARS 64
#define MAP_MAX_CAPS FILEPAT_MAX_CAPS

/* Built-in variables (mapping_vars.c); the context variables follow
 * (VAR_NBUILTIN + i), then the $file.NAME captures read (VAR_CAP0 + k). */
enum {
	VAR_FILE, VAR_SOURCE, VAR_LINE, VAR_ROW,
	VAR_FILE_NAME, VAR_FILE_MTIME, VAR_FILE_FETCHED, VAR_RUN_STARTED,
	VAR_NOW, VAR_NBUILTIN
};
#define VAR_CAP0 (VAR_NBUILTIN + MAP_MAX_VARS)
#define VAR_NALL (VAR_CAP0 + MAP_MAX_CAPS)

struct map_run;

struct map_rule {
	struct expr_cond *cond;
	const char *text;
	const char *message;
};

struct map_record {
	enum canon_kind kind;
	int anchor;             /* driver's each: id (0 for csv rows) */
	int txn;                /* canon_txn_field(kind) */
	struct expr *fields[CANON_MAX_FIELDS];
	unsigned fcol[CANON_MAX_FIELDS];
	/* each field's expression: its line in the mapping file and text,
	 * for errors that name the expression (with fcol) */
	unsigned long fline[CANON_MAX_FIELDS];
	const char *ftext[CANON_MAX_FIELDS];
	struct expr_cond *when;
	struct map_rule rules[MAP_MAX_RULES];
	size_t nrules;
	/* explode: of a CSV or XML record (mapping_explode.c): records of
	 * one anchor with the same explode: text form group xgroup (0 =
	 * not exploded); each piece of the value (xexpr split at xsep) or
	 * each element the driver's path xpath finds is one scope. */
	int xgroup;
	struct expr *xexpr;     /* NULL: an element explode (xpath) */
	const char *xsep;
	int xpath;
	unsigned long xmax;     /* explode_max: more pieces reject the scope */
	const char *xtext;
	unsigned long xline;
	unsigned xcol;
};

/* pair.value and pair.index of a CSV or XML explode: path ids above any
 * driver's (mapping_explode.c answers them, not the driver). */
#define MAP_PAIR_VALUE_ID 0x40000000
#define MAP_PAIR_INDEX_ID (MAP_PAIR_VALUE_ID + 1)
#define MAP_EXPLODE_MAX_DEFAULT 1000
#define MAP_EXPLODE_MAX_LIMIT 99999

struct map_driver {
	const char *format;      /* "csv", "xml", ... */
	const char *input_keys;  /* allowed input: keys, ",format,...," */
	/* Compiles input: (keys already checked against input_keys). */
	int (*compile_input)(struct mapping *m, const struct ynode *in,
			     struct err *err);
	/* The expr_scope path hook; ud is the struct mapping. m->in_context
	 * says whether a context expression is being compiled. */
	int (*path)(void *ud, const char *s, size_t n, int *id, char *msg,
		    size_t msgn);
	/* Compiles a record's each: (en NULL when absent) into *anchor. */
	int (*compile_each)(struct mapping *m, const struct ynode *en,
			    int *anchor, struct err *err);
	/* Cross checks after all records compiled; may be NULL. */
	int (*finish)(struct mapping *m, struct err *err);
	/* Reads the document; calls map_scope() for each scope. Returns 0 or
	 * -1 with err (document failure). */
	int (*run)(struct map_run *run, struct err *err);
	/* Frees m->drv; may be NULL. */
	void (*free)(struct mapping *m);
	/* An element explode: (XML): compiles the path of the repeated
	 * element below the record; counts the elements in the scope and
	 * makes element k (1-based; 0: none) the one paths read first.
	 * NULL: the driver explodes values only (split). */
	int (*explode_path)(struct mapping *m, const char *s, size_t n,
			    int *id, char *msg, size_t msgn);
	size_t (*explode_count)(struct map_run *run, int id);
	int (*explode_select)(struct map_run *run, int id, size_t k,
			      struct expr_val *text, struct err *err);
	/* expr_scope.path_dep for the driver's path id (never called in a
	 * context expression); the run's vary bits (map_run.memo_vary)
	 * are the driver's to set per scope. NULL: none is fixed. */
	int (*path_dep)(const struct mapping *m, int id, uint64_t *dep);
};

/* Extra keys a record may have with driver d (",until,explode," for the
 * EDI drivers, which read them in compile_each() from m->cur_record), or
 * NULL. */
const char *map_driver_record_keys(const struct map_driver *d);

struct mapping {
	char *path;
	char *dir;
	char *name;
	const char *format;
	const struct map_driver *drv_ops;
	void *drv;              /* driver's compiled input (xml paths...) */
	char sha[SHA256_HEX_LEN];
	struct ytree *yt;
	struct expr_pool pool;

	struct lookup *lookups[32];
	size_t nlookups;

	const char *vars[MAP_MAX_VARS];   /* context names */
	struct expr *var_e[MAP_MAX_VARS];
	size_t nvars;
	/* $file.NAME captures read, with their first use for errors */
	struct {
		const char *name;
		unsigned long line;
		unsigned col;
	} caps[MAP_MAX_CAPS];
	size_t ncaps;
	int reads_facts;        /* a file fact, $run.started_at or $now */
	int has_explode;        /* a record has a CSV/XML explode: */

	struct map_record recs[MAP_MAX_RECORDS];
	size_t nrecs;

	struct mapping_test *tests;
	size_t ntests;

	/* units: (mapping_units.c) */
	struct mapping_units units;
	struct uom_table *units_table;
	const char *units_path;
	char units_sha[SHA256_HEX_LEN];

	/* compile state */
	int in_context;         /* compiling context: no columns, no $line */
	size_t cur_nvars;       /* context variables visible so far */
	enum canon_kind cur_kind;
	const struct ynode *cur_record; /* the record being compiled */
	unsigned long cur_line; /* line of the expression being compiled */
	unsigned cur_col;
	const char *cur_text;   /* its text, and the column it starts at */
	unsigned cur_tcol;
};

/* The input scope being mapped, filled by the driver before map_scope(). */
struct map_scope {
	unsigned long line;     /* where it starts: lineage, rejects, $line */
	unsigned long index;    /* $row: 1-based scope number */
	unsigned long seq;      /* the default txn_id's position number */
	const char *raw;        /* input as read, for rejects... */
	size_t raw_len;
	/* ...or, when raw is NULL, made on demand (only for a reject) */
	const char *(*raw_fn)(struct map_run *run, size_t *len);
	const char *where;      /* lineage detail (_where), NULL = none */
	unsigned where_len;     /* where's canon_text_len(), set with it */
};

/* What a driver's path hook read last, for errors that locate it and
 * say what was there (the EDI drivers: store, segment index, element,
 * repeat, component and the path id; path 0 = nothing read). Opaque to
 * mapping.c, which keeps one per field. */
struct map_dloc {
	uint32_t seg;
	uint16_t path;          /* path id + 1 */
	uint16_t elem;
	uint8_t store, rep, comp, spare;
};

struct map_run {
	const struct mapping *m;
	const struct mapping_doc *doc;
	/* the document's SHA-256 (hex) for default txn_ids: doc->sha256,
	 * or computed into doc_sha_buf on first use; NULL until then */
	const char *doc_sha;
	char doc_sha_buf[SHA256_HEX_LEN];
	const struct mapping_sink *sink;
	/* mapping_run_verdicts(): EDI syntax verdicts (NULL: none) */
	int (*verdict)(void *vud, const struct mapping_verdict *v,
		       struct err *err);
	void *verdict_ud;
	struct mapping_stats st;
	struct expr_val vars[VAR_NALL];
	char linebuf[24], rowbuf[24];
	/* Context values are made when a record first reads one (lazy) and
	 * kept until map_scope(ctx = 1) starts a new context: per context
	 * variable 0 not made yet, 1 made, 2 failed with the reject reason
	 * in vfail. ctx_fail is the variable whose failure rejects the
	 * scope being mapped (-1 none). */
	unsigned char vstate[MAP_MAX_VARS];
	const char *vfail[MAP_MAX_VARS];
	int ctx_fail;
	struct arena doc_arena;
	struct arena row_arena;  /* reset by map_scope() */
	struct arena ctx_arena;  /* context values, see vstate */
	struct map_scope scope;
	int have_scope;          /* scope is set (for error locations) */
	/* the driver's run state and its path reader */
	void *drv;
	/* set by a driver whose values hold no NUL byte (CSV: a row with
	 * one is rejected whole): the record keeps each value's length */
	int nul_free;
	/* canon_text_len() of the document's source and name, the
	 * lineage of every record (CANON_LIN_SOURCE, CANON_LIN_FILE) */
	unsigned lin_len[2];
	int (*path)(struct map_run *run, int id, struct expr_val *out,
		    unsigned *col, struct err *err);
	/* the record being built */
	const struct map_record *rec;
	struct expr_val fv[CANON_MAX_FIELDS];
	unsigned fcol[CANON_MAX_FIELDS];
	unsigned char fstate[CANON_MAX_FIELDS]; /* 0 todo, 1 busy, 2 done */
	const struct canon_record *validated;   /* rules read this */
	int fail_field;
	unsigned fail_col;
	/* the next map_reject's enum err_code; 0 = E_MAP */
	int rej_code;
	/* the driver's note of the last path read (set by its path hook),
	 * kept per field and for the failing one */
	struct map_dloc path_loc, fail_loc;
	struct map_dloc floc[CANON_MAX_FIELDS];
	/* Optional driver hooks for errors (NULL: none). locate() turns
	 * the scope and dl into the reject's physical location (EDI: line,
	 * col, seg, offset); explain() writes what the input held where dl
	 * read nothing ("QTY segments in this message have qualifiers 1,
	 * 12; none has 145"), returning 0 when it has nothing to say. */
	void (*locate)(struct map_run *run, const struct map_dloc *dl,
		       unsigned col, struct mapping_reject *rj);
	int (*explain)(struct map_run *run, const struct map_dloc *dl,
		       char *out, size_t n);
	/* the location map_reject() uses (reset after each reject) */
	struct map_dloc rej_loc;
	/* map_scope()'s error for a record that fails: cleared after use,
	 * not per scope (a struct err is 1.2 KB) */
	struct err serr;
	struct canon_memo cmemo;
	/* the default txn_id's scope number, last written (map_one) */
	struct str_ulong_memo seq_memo;
	/* the explode piece being mapped (mapping_explode.c): pair.value,
	 * pair.index; xcopy holds the exploded value through its scopes */
	const char *xval;
	size_t xlen;
	unsigned long xindex;
	char xindex_buf[24];
	char *xcopy;
	size_t xcap;
	/* The memo of expression parts fixed for a context (expr.h,
	 * memo_get): m->pool.nmemo slots, valid when their gen is
	 * memo_gen, which every new context (map_var_new_context) moves
	 * on; values live in ctx_arena, reset at the same time. memo_vary:
	 * the driver's bits of what changes in the scope being mapped. */
	struct map_memo *memo;
	unsigned long memo_gen;
	uint64_t memo_vary;
	/* the fields' last input and result (expr.h, struct expr_last):
	 * m->pool.nlast slots, for the whole document */
	struct expr_last *last;
};

/* 0: no memo (the tests compare both ways); 1 by default. */
extern int map_memo_on;

struct map_memo {
	unsigned long gen;      /* 0: never */
	struct expr_val val;
	unsigned col;
	struct map_dloc loc;    /* the driver's note after the evaluation */
};

/* Maps run->scope through every record whose anchor is `anchor`: emits
 * them all, or rejects the scope once. ctx = 1 starts a new context: the
 * values made so far are forgotten (a driver passes 0 while it knows they
 * would not change: the rest of a CSV document, the loops of an EDI set
 * with the same header segments). A context value is made when a record
 * first reads it; one that fails rejects the scopes whose records read
 * it, naming the variable. Returns 0, or -1 with err when the document
 * must stop. */
int map_scope(struct map_run *run, int anchor, int ctx, struct err *err);
/* map_scope() for the records of anchor in explode group xgroup only. */
int map_scope_group(struct map_run *run, int anchor, int xgroup, int ctx,
		    struct err *err);

/* What a driver found where path id (written src, srcn bytes) read
 * for the record that failed: "the cell of column 'qty' (column 3) is
 * empty". Returns 1 with out written, 0 when it has nothing to say. */
typedef int map_describe_fn(struct map_run *run, int id, const char *src,
			    size_t srcn, char *out, size_t n);
/* The explain hook of a driver without map_dloc notes (CSV, XML): what
 * describe says of each path the failing field's expression reads,
 * joined by "; " (cut with "... and N more"). Returns 0 when nothing was
 * said. Only error paths call it. */
int map_explain_paths(struct map_run *run, map_describe_fn *describe,
		      char *out, size_t n);
/* 'value' for a message; over 40 bytes cut with an ellipsis and its
 * length. */
void map_explain_value(const char *s, size_t len, char *out, size_t n);

/* mapping_explode.c: explode: for CSV and XML records. Compiles a
 * record's explode: and explode_max: (nothing when absent); the path
 * hook that adds pair.value and pair.index to the driver's paths; their
 * run-time values; maps a scope whose anchor has exploded records. */
int map_explode_compile(struct mapping *m, const struct ynode *rn,
			struct map_record *r, struct err *err);
int map_explode_path(void *ud, const char *s, size_t n, int *id, char *msg,
		     size_t msgn);
int map_explode_rt(struct map_run *run, int id, struct expr_val *out);
int map_explode_scope(struct map_run *run, int anchor, int ctx,
		      struct err *err);
/* The compile-time scope for expression node n of m (mapping.c). */
void map_scope_at(struct mapping *m, struct expr_scope *sc,
		  const struct ynode *n);
/* The column in the mapping file of s, a pointer into the text of the
 * expression being compiled (a driver's path hook is told the text,
 * not where it is); the expression's column when s is not in it. */
unsigned map_text_col(const struct mapping *m, const char *s);
/* Sets up the expression run-time hooks over run (mapping.c). */
void map_rt_init(struct map_run *run, struct expr_rt *rt, struct arena *a);

/* mapping_vars.c: variables. The compile-time $name hook (ud is the
 * struct mapping), context compilation, the run-time hook (ud is the
 * struct map_run), the built-in values of a document (from doc and its
 * facts) and forgetting the context values. */
int map_var_scope(void *ud, const char *name, int *id);
int map_var_compile_context(struct mapping *m, struct err *err);
int map_var_rt(void *ud, int id, struct expr_val *out, struct err *err);
void map_var_doc_init(struct map_run *run);
void map_var_new_context(struct map_run *run);
/* Rejects run->scope for a reason found by the driver. */
int map_reject(struct map_run *run, unsigned col, const char *field,
	       const char *reason, struct err *err);

/* mapping.c helpers for drivers. */
/* Compiles the top-level units: section (mapping_units.c). */
int map_units_compile(struct mapping *m, struct err *err);
int map_check_keys(struct mapping *m, const struct ynode *map,
		   const char *allowed, const char *what, struct err *err);
int map_parse_uint(struct mapping *m, const struct ynode *in,
		   const char *key, unsigned long max, unsigned long *out,
		   struct err *err);
int map_parse_bool(struct mapping *m, const struct ynode *in,
		   const char *key, int *out, struct err *err);
int map_parse_char(struct mapping *m, const struct ynode *in,
		   const char *key, char *out, struct err *err);
/* The scalar value of key in map, def when absent; *bad_out = 1 (with
 * err) when it is not a scalar. */
const char *map_scalar(struct mapping *m, const struct ynode *map,
		       const char *key, const char *def, struct err *err,
		       int *bad_out);

/* Drivers (listed in map_driver_find() in mapping.c). */
extern const struct map_driver map_driver_csv;
extern const struct map_driver map_driver_xml;
extern const struct map_driver map_driver_x12;
extern const struct map_driver map_driver_edifact;

#endif
