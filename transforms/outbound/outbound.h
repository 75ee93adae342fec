/* outbound.h - outbound mappings: which canonical values go where in a
 * target's file (CSV columns, JSON Lines keys, XML elements and
 * attributes, X12 or EDIFACT segments inside their envelopes).
 *
 * The same expression language and functions as inbound mappings (see
 * docs/mapping.md), read in reverse: each column is an expression over the
 * fields of one published row. The renderer (pipeline/render.c) supplies
 * rows; this module turns a row into bytes.
 *
 * Row fields a stock snapshot provides:
 *   sku, location ("" when the target sums over locations), available,
 *   on_hand, reserved, in_transit, as_of, gtin, description, brand, category
 * Row fields an item master provides:
 *   every canonical item field, plus price, currency (regular price of the
 *   "default" price list, when known)
 */
#ifndef STOCKPIPE_OUTBOUND_H
#define STOCKPIPE_OUTBOUND_H

#include <stddef.h>
#include <stdint.h>

#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/err.h"

struct outbound;

/* Compiles the outbound mapping at path; errors at file:line:col with
 * code E_CONFIG (unknown function, unknown row field for its kind, bad
 * format). Caller frees with outbound_free(). */
int outbound_load(const char *path, struct outbound **out, struct err *err);
void outbound_free(struct outbound *o);
/* "stock" or "item". */
const char *outbound_kind(const struct outbound *o);
/* "csv", "jsonl", "xml", "x12" or "edifact" (also the file name's
 * {ext}). */
const char *outbound_format(const struct outbound *o);
/* The target's csv_formula_guard: CSV text cells starting with = + - @
 * are written with a ' in front (spreadsheet formula injection); number
 * columns are numbers already and stay as they are. Off after load. */
void outbound_set_formula_guard(struct outbound *o, int on);
/* The row fields of the mapping's kind (see above), *n of them; for
 * naming a row's values in a reject file. */
const char *const *outbound_fields(const struct outbound *o, size_t *n);
/* SHA-256 (hex) of the file as compiled. */
const char *outbound_sha256(const struct outbound *o);
/* What a document's envelope needs: EDI interchange headers and trailers,
 * an XML root with a creation time. */
struct outbound_env {
	const char *target;   /* target name */
	int64_t now;          /* run clock, seconds since the epoch, UTC */
	int64_t control;      /* control number for this document (>= 1), or
				 0 when outbound_counter() is NULL */
	int64_t rows;         /* rows written so far (used by the footer) */
	int64_t segments;     /* EDI segments the rows made: the sum of
				 outbound_row()'s results (SE01/UNT01) */
};

/* Name of the state-store counter this mapping draws control numbers
 * from, one per partner envelope (e.g. "x12:ZZ:SENDER:ZZ:RECEIVER"), or
 * NULL when the format needs none (csv, jsonl). The caller takes the next
 * value once per document and passes it in env->control. */
const char *outbound_counter(const struct outbound *o);
/* Appends what precedes the first row: the CSV header line (when the
 * mapping wants one), an EDI envelope, an XML root. */
int outbound_header(const struct outbound *o, const struct outbound_env *env,
		    struct buf *out, struct err *err);
/* Appends what follows the last row: EDI trailers with their counts,
 * closing XML tags; nothing for csv and jsonl. */
int outbound_footer(const struct outbound *o, const struct outbound_env *env,
		    struct buf *out, struct err *err);
/* 1 when header and footer do not depend on env (csv: the column names;
 * jsonl: none), so they may be written before the rows are counted; 0
 * for xml and EDI envelopes (times, counts, control numbers). */
int outbound_header_fixed(const struct outbound *o);
/* Appends one rendered row (with its line end) to out. get() returns the
 * value of a row field or NULL when absent; temporaries come from a, which
 * the caller resets per row. Returns -1 with err (nothing appended), or
 * the number of EDI segments appended (0 for csv, jsonl and xml; an EDI
 * row may make none when every segment has a false when:), which the
 * caller sums into env->segments for the footer. */
int outbound_row(const struct outbound *o,
		 const char *(*get)(void *ud, const char *name), void *ud,
		 struct arena *a, struct buf *out, struct err *err);

#endif
