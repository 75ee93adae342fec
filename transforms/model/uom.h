/* uom.h - units of measure: parsing, conversion factors, exact conversion.
 *
 * Every item has a base unit (the item master's base_uom, else the
 * mapping's units.base_uom, else EA). Positions, stock events and prices
 * are kept in base units: a stock or price record in another unit is
 * converted when it is loaded, with a factor (base units in one of the
 * record's unit) taken, in this order, from
 *   1. the record: a composite unit "CA>>12" (X12 C001: unit, exponent,
 *      multiplier) or its pack_size field;
 *   2. the item master's pack sizes ("CA=12,PK=6");
 *   3. the mapping's uom table (CSV: from, to, factor).
 * A unit no factor covers is an error with the reason; the load stage
 * rejects that record (docs/mapping.md "Units of measure").
 *
 * Pure: no I/O except uom_table_load(), no state store. Quantities are
 * exact decimals (dec.h): a quantity is multiplied by the factor and a
 * price divided by it; a result with more than DEC_DIGITS decimals is
 * rounded half to even at DEC_DIGITS (the caller is told it was rounded).
 */
#ifndef STOCKPIPE_UOM_H
#define STOCKPIPE_UOM_H

#include <stddef.h>

#include "lib/err.h"
#include "dec.h"

#define UOM_CODE_MAX 16	 /* longest unit code */
#define UOM_PACKS_MAX 16 /* pack sizes per item */
#define UOM_DEFAULT_BASE "EA"

/* A unit as a record writes it: a code and an optional multiplier. */
struct uom_unit {
	char code[UOM_CODE_MAX + 1];
	dec factor; /* base units in one; 0 = not given */
};

/* One pack size of an item master: one `code` holds `factor` base units. */
struct uom_pack {
	char code[UOM_CODE_MAX + 1];
	dec factor;
};

/* Parses "CA", or the composite "CA>>12" (unit, exponent, multiplier;
 * the separator is the first character that is not a letter or digit:
 * '>' in X12, ':' for EDIFACT-style text). The exponent must be empty
 * or 1; the multiplier a decimal above zero. Returns 0, or -1 with err
 * (E_VALIDATE, field "uom") saying what is wrong. */
int uom_parse(const char *s, struct uom_unit *out, struct err *err);

/* Parses an item master's pack sizes, "CA=12,PK=6" (blanks around items
 * allowed), into out[0..*n) (at most max). A code twice, a factor that is
 * not a decimal above zero or a malformed item is an error (E_VALIDATE,
 * field "pack_sizes"). "" gives *n = 0. */
int uom_packs_parse(const char *s, struct uom_pack *out, size_t max, size_t *n,
		    struct err *err);

/* A uom table: rows (from, to, factor): one `from` is `factor` `to`. */
struct uom_table;

/* Parses the CSV text of a table: a header naming the columns from, to
 * and factor (any order, other columns ignored), '#' comment lines, blank
 * lines skipped. name is used in messages (E_CONFIG at name:line). A
 * (from, to) pair twice or a factor not above zero is an error. */
int uom_table_parse(const char *name, const char *text, size_t n,
		    struct uom_table **out, struct err *err);
/* Reads and parses the file at path. */
int uom_table_load(const char *path, struct uom_table **out, struct err *err);
void uom_table_free(struct uom_table *t);
size_t uom_table_size(const struct uom_table *t);
/* 1 and *factor when the table has (from, to), else 0. */
int uom_table_factor(const struct uom_table *t, const char *from,
		     const char *to, dec *factor);

/* What a conversion may draw on besides the record. */
struct uom_sources {
	const char *sku;	      /* for messages */
	const char *item_base;	      /* item master's base_uom; NULL: no
					  * item (or none given) */
	const struct uom_pack *packs; /* item master's pack sizes */
	size_t npacks;
	const char *map_base;	       /* the mapping's units.base_uom */
	const struct uom_table *table; /* the mapping's uom table, NULL */
};

enum uom_origin {
	UOM_SAME,   /* already in the base unit (or no unit given) */
	UOM_RECORD, /* the record's composite or pack_size */
	UOM_ITEM,   /* the item master's pack sizes */
	UOM_TABLE   /* the mapping's uom table */
};

struct uom_conv {
	char base[UOM_CODE_MAX + 1]; /* the item's base unit */
	char unit[UOM_CODE_MAX + 1]; /* the record's unit code ("" none) */
	dec factor;		     /* base units in one unit (1: same) */
	enum uom_origin origin;
};

/* The item's base unit for s (item master, mapping, EA). */
const char *uom_base(const struct uom_sources *s);

/* Decides how a record's quantity or price in `uom` (NULL/"" = the base
 * unit) with the record's `pack_size` field (NULL = none) becomes base
 * units. Returns 0 with *out, or -1 with err (E_VALIDATE, err->field
 * "uom" or "pack_size"): a malformed unit, a record factor that
 * contradicts itself, or no factor anywhere:
 *   cannot convert 'KG' to base unit 'EA' of item 'X': no factor in the
 *   record, the item master or the uom lookup */
int uom_resolve(const char *uom, const char *pack_size,
		const struct uom_sources *s, struct uom_conv *out,
		struct err *err);

/* q * factor (a quantity in base units). *rounded = 1 when the exact
 * result had more than DEC_DIGITS decimals (rounded half to even).
 * -1 on overflow. */
int uom_qty(dec q, dec factor, dec *out, int *rounded);
/* p / factor (a price per base unit), factor > 0; rounding as above. */
int uom_price(dec p, dec factor, dec *out, int *rounded);
/* q / factor: a base quantity in another unit (outbound), factor > 0. */
int uom_from_base(dec q, dec factor, dec *out, int *rounded);

#endif
