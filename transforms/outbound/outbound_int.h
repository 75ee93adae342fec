/* outbound_int.h - what outbound.c (load, CSV, JSON Lines), outbound_xml.c
 * and outbound_edi.c (X12 and EDIFACT) share. Not for other modules: they
 * use outbound.h. */
#ifndef STOCKPIPE_OUTBOUND_INT_H
#define STOCKPIPE_OUTBOUND_INT_H

#include "outbound.h"

#include "lib/io.h"
#include "lib/utf8.h"
#include "lib/ytree.h"
#include "transforms/model/dt.h"
#include "transforms/mapping/expr.h"

#define OB_MAX_COLS 128
#define OB_MAX_SEGS 64    /* per segment list (header:, segments:, trailer:) */
#define OB_MAX_ELEMS 99   /* per segment */
#define OB_MAX_COMPS 20   /* per element */

enum ob_fmt { OB_CSV, OB_JSONL, OB_XML, OB_X12, OB_EDIFACT };

struct ob_col {
	const char *name;
	struct expr *e;
	int number;             /* type: number */
	/* XML: attribute of the record element ("@name") */
	int attr;
	unsigned long line;     /* of the value, for errors */
	unsigned col;
};

/* Envelope variables ($name) of header:/trailer: templates and XML root
 * attributes. The rows never see them: rows are hashed for the content
 * key, and these change with every document. */
enum ob_var { OV_CONTROL, OV_DATE, OV_TIME, OV_NOW, OV_ROWS, OV_TARGET, OV_N };
extern const char *const ob_var_names[OV_N + 1];

/* One EDI value template: literal text with {expression} parts. */
struct ob_part {
	const char *lit;        /* literal bytes, or NULL when e is set */
	size_t n;
	struct expr *e;
};
struct ob_tpl {
	struct ob_part *p;
	unsigned np;
	unsigned long line;     /* where the template text starts */
	unsigned col;
};
struct ob_elem {                /* an element: its components */
	struct ob_tpl *c;
	unsigned nc;
};
struct ob_seg {
	char tag[4];
	struct ob_elem *el;
	unsigned nel;
	struct expr_cond *when; /* row segments only; NULL = always */
};
struct ob_seglist {
	struct ob_seg *s;
	unsigned n;
};

struct ob_edi {
	char elem, comp, seg, rep, rel, dec; /* rep/rel 0 = none */
	const char *eol;        /* after every segment terminator */
	char sender_q[5], sender[36], receiver_q[5], receiver[36];
	char usage;             /* 'T' or 'P' */
	/* X12 */
	char isa12[6], gs08[13], gs01[3], st01[4], ack;
	char gs02[16], gs03[16];
	/* EDIFACT */
	char charset[5];        /* UNOA, UNOB, UNOC, UNOW, UNOY */
	int syntax;             /* UNB01:2, 1..4 */
	int una;
	char msg_type[7], msg_ver[4], msg_rel[4], msg_agency[3], msg_assoc[7];
	char app_ref[15];       /* UNB07 */
	char counter[128];
	struct ob_seglist header, rows, trailer;
};

struct ob_xml_attr {
	const char *name;
	struct expr *e;
};
struct ob_xml {
	const char *root, *record;
	const char *default_ns;
	const char *ns_prefix[16], *ns_uri[16];
	unsigned nns;
	struct ob_xml_attr attrs[16];
	unsigned nattrs;
	int indent;
};

struct outbound {
	char *path;
	char sha[SHA256_HEX_LEN];
	struct ytree *yt;
	struct expr_pool pool;
	const char *kind;
	enum ob_fmt fmt;
	char delim, quote;
	unsigned char csv_special[256]; /* 1 for delim, quote, CR, LF */
	int formula_guard;              /* target's csv_formula_guard */
	int header;
	const char *eol;
	const char *names[32];  /* row fields of the kind */
	size_t nnames;
	struct ob_col cols[OB_MAX_COLS];
	size_t ncols;
	struct ob_edi edi;
	struct ob_xml xml;
};

/* The run-time view of one row (get != NULL) or of the envelope (vars
 * set) for expression hooks. */
struct ob_row {
	const struct outbound *o;
	const char *(*get)(void *ud, const char *name);
	void *ud;
	const char *const *vars; /* OV_N values, or NULL in rows */
};

/* Envelope variable values for env, in fixed storage. */
struct ob_envvals {
	char control[24], date[9], time[5], now[DT_ISO_LEN], rows[24];
	const char *v[OV_N];
};

/* Compile scopes: rows (bare words are row fields, no $variables) and the
 * envelope (no row fields, $variables). */
void ob_scope_rows(struct outbound *o, struct expr_scope *sc,
		   const struct ynode *n);
void ob_scope_env(struct outbound *o, struct expr_scope *sc,
		  const struct ynode *n);
/* Run-time hooks over struct ob_row. */
void ob_rt_init(struct expr_rt *rt, struct ob_row *row, struct arena *a);
void ob_envvals(const struct outbound_env *env, struct ob_envvals *ev);
/* Names a row for messages: "sku 'X'" (and ", location 'Y'"). */
void ob_row_name(const struct ob_row *r, char *out, size_t n);

/* outbound_edi.c */
int ob_edi_load(struct outbound *o, const struct ynode *root, int edifact,
		struct err *err);
int ob_edi_header(const struct outbound *o, const struct outbound_env *env,
		  struct buf *out, struct err *err);
int ob_edi_footer(const struct outbound *o, const struct outbound_env *env,
		  struct buf *out, struct err *err);
int ob_edi_row(const struct outbound *o, struct ob_row *row,
	       struct arena *a, struct buf *out, struct err *err);

/* outbound_xml.c */
int ob_xml_load(struct outbound *o, const struct ynode *root,
		struct err *err);
int ob_xml_header(const struct outbound *o, const struct outbound_env *env,
		  struct buf *out, struct err *err);
int ob_xml_footer(const struct outbound *o, struct buf *out,
		  struct err *err);
/* Writes one record from the evaluated column values (v[i].s NULL =
 * absent: the attribute or element is left out). */
int ob_xml_row(const struct outbound *o, const struct ob_row *row,
	       const struct expr_val *v, struct buf *out, struct err *err);

#endif
