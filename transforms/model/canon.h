/* canon.h - the canonical model every mapping writes to.
 *
 * A canonical record is a kind plus an array of text values indexed by the
 * kind's field table; NULL means absent. Values are arena-owned by whoever
 * built the record. canon_validate() fills defaults and normalises values to
 * one spelling (decimals without trailing zeros, times as UTC ISO 8601), so
 * two mappings that mean the same thing produce byte-identical records.
 *
 * On disk (canonical/ artifacts, `map try`, goldens) a record is one JSON
 * object per line: "kind" first (the record kind), then its fields in table
 * order (a price's own "kind" field comes later), then the lineage keys
 * "_source", "_file", "_line" and optionally "_where".
 */
#ifndef STOCKPIPE_CANON_H
#define STOCKPIPE_CANON_H

#include <stddef.h>
#include <string.h>

#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "stock.h"

enum canon_kind { CANON_ITEM, CANON_LOCATION, CANON_PRICE, CANON_STOCK,
		  CANON_NKINDS };

enum canon_type {
	CT_TEXT,      /* any text, trimmed of nothing */
	CT_DECIMAL,   /* exact decimal, see dec.h */
	CT_DATETIME,  /* ISO 8601, stored as UTC "YYYY-MM-DDTHH:MM:SSZ" */
	CT_ENUM       /* one of enum_values ("a|b|c") */
};

enum canon_field_flags {
	CF_REQUIRED = 1 << 0,   /* a record without it is rejected */
	CF_KEY = 1 << 1,        /* part of the record's identity */
	CF_NONNEG = 1 << 2,     /* decimal must be >= 0 */
	CF_IDENT = 1 << 3       /* an identifier or code: no control
				 * characters (a quoted CR in a SKU) */
};

struct canon_field {
	const char *name;
	size_t name_len;         /* strlen(name), for the JSON writer */
	enum canon_type type;
	unsigned flags;          /* enum canon_field_flags */
	const char *enum_values; /* "a|b|c" for CT_ENUM, else NULL */
	const char *def;         /* default when absent, or NULL */
};

#define CANON_MAX_FIELDS 16

/* Field indexes for the kinds the pipeline core reads directly. */
enum { ITEM_SKU, ITEM_GTIN, ITEM_DESCRIPTION, ITEM_BRAND, ITEM_CATEGORY,
       ITEM_BASE_UOM, ITEM_PACK_SIZE, ITEM_STATUS, ITEM_SUPPLIER_ID,
       ITEM_SUPPLIER_SKU, ITEM_AS_OF, ITEM_TXN_ID, ITEM_NFIELDS };
/* The item fields past ITEM_NFIELDS are not columns of the items table
 * (nor outbound item row fields): pack_sizes ("CA=12,PK=6", uom.h) is
 * loaded into item_units. */
enum { ITEM_PACK_SIZES = ITEM_NFIELDS, ITEM_NALLFIELDS };
enum { LOC_LOCATION_ID, LOC_TYPE, LOC_NAME, LOC_REGION, LOC_TIMEZONE,
       LOC_AS_OF, LOC_TXN_ID, LOC_NFIELDS };
enum { PRICE_SKU, PRICE_PRICE_LIST, PRICE_CURRENCY, PRICE_AMOUNT,
       PRICE_VALID_FROM, PRICE_VALID_TO, PRICE_KIND, PRICE_AS_OF,
       PRICE_TXN_ID, PRICE_UOM, PRICE_PACK_SIZE, PRICE_NFIELDS };
enum { STOCK_SKU, STOCK_LOCATION, STOCK_STATE, STOCK_QUANTITY, STOCK_MODE,
       STOCK_AS_OF, STOCK_TXN_ID, STOCK_UOM, STOCK_PACK_SIZE,
       STOCK_NFIELDS };

/* The stock states, in the order of enum stock_state (stock.h): the
 * values of a stock record's state field. */
#define CANON_STATES STOCK_STATE_NAMES

struct canon_lineage {
	const char *source;     /* source name from the config, or "" */
	const char *file;       /* document name as received (archive!member) */
	unsigned long line;     /* line, segment number or XML line; 0 = n/a */
	const char *where;      /* optional detail: "segment LIN", "column 3" */
};

struct canon_record {
	enum canon_kind kind;
	const char *v[CANON_MAX_FIELDS];
	struct canon_lineage lin;
	/* v[i]'s length + 1 where its producer knew it (the mapping, for
	 * drivers whose values hold no NUL), 0 where not: then strlen.
	 * Validation and the JSON line read it through canon_vlen (a strlen
	 * per value and field was a twentieth of the CSV map stage). Who
	 * changes v[i] sets len[i] again, 0 will do; a zeroed record is
	 * right as it is. */
	unsigned len[CANON_MAX_FIELDS];
	/* lin.source, lin.file and lin.where (CANON_LIN_*) in len[]'s
	 * form, set by the mapping (the same for a whole document, or made
	 * with the scope's where): length + 1, CANON_LEN_PLAIN when its
	 * JSON needs no escape; 0 where not known, then strlen and a check
	 * as before. A zeroed record is right as it is. */
	unsigned lin_len[3];
};

enum { CANON_LIN_SOURCE, CANON_LIN_FILE, CANON_LIN_WHERE };

/* The high bit of len[i], set by canon_validate only: v[i] is printable
 * ASCII without '"' or '\\' (or a validated decimal, time or enum
 * value), so its JSON is the value in quotes and canon_to_jsonl copies
 * it without checking it again. Whoever sets len[i] anew clears it. A
 * known length is below CANON_LEN_MAX. */
#define CANON_LEN_PLAIN 0x80000000u
#define CANON_LEN_MAX 0x7fffffffu

/* The length of r->v[i] (not NULL). */
static inline size_t canon_vlen(const struct canon_record *r, size_t i)
{
	unsigned l = r->len[i] & ~CANON_LEN_PLAIN;

	return l ? l - 1 : strlen(r->v[i]);
}

/* s[0..n) in len[]'s form (canon_record.lin_len): n + 1, with
 * CANON_LEN_PLAIN when it is printable ASCII without '"' or '\\' (its
 * JSON is itself in quotes); 0 when n is CANON_LEN_MAX or more. */
unsigned canon_text_len(const char *s, size_t n);

const char *canon_kind_name(enum canon_kind k);
/* Returns the kind for "item", "location", "price", "stock", or -1. */
int canon_kind_from_name(const char *name);
/* The field table of a kind; *n receives its length. */
const struct canon_field *canon_fields(enum canon_kind k, size_t *n);
/* Index of a field by name in kind k, or -1. */
int canon_field_index(enum canon_kind k, const char *name);
/* Index of the txn_id and as_of fields of a kind. */
int canon_txn_field(enum canon_kind k);
int canon_as_of_field(enum canon_kind k);

/* Fills defaults, checks required fields, enum values and types, and
 * rewrites values to their canonical spelling (new strings from a). On a
 * bad record returns -1 with err->code E_VALIDATE, err->field naming the
 * field and err->reason saying why. */
int canon_validate(struct canon_record *r, struct arena *a, struct err *err);

/* What canon_validate_memo() remembers between records: the last
 * date/time value that was already canonical (a document date repeated
 * on every record is then parsed once) and the last unit of measure
 * that passed. Zero it before the first use. */
struct canon_memo {
	char dt[24];
	/* the last unit name that passed (uom_parse), unit_n its
	 * length + 1; 0: none */
	char unit[24];
	size_t unit_n;
};

/* canon_validate() with a memo (NULL: none); the result is the same. */
int canon_validate_memo(struct canon_record *r, struct arena *a,
			struct err *err, struct canon_memo *m);

/* Appends r as one JSON line (with trailing newline) to out. */
int canon_to_jsonl(const struct canon_record *r, struct buf *out);
/* Parses a line written by canon_to_jsonl (unknown keys are errors);
 * strings are allocated from a. Returns 0 or -1 with err set. */
int canon_from_jsonl(const char *line, size_t n, struct canon_record *r,
		     struct arena *a, struct err *err);
/* The two readers canon_from_jsonl is made of (exposed for tests): the
 * fast one (the line copied once, strings cut in place) returns 0, or 1
 * for any line it leaves to the general one (an escape, an error: then
 * nothing is reported); the general one reads every line and names
 * what is wrong. On the lines both read, the records are equal. */
int canon_from_jsonl_fast(const char *line, size_t n, struct canon_record *r,
			  struct arena *a);
int canon_from_jsonl_general(const char *line, size_t n,
			     struct canon_record *r, struct arena *a,
			     struct err *err);

#endif
