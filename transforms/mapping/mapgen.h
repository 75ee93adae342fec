/* mapgen.h - a starting mapping written from what a file contains
 * (`stockpipe map new`, docs/mapping.md "Starting a mapping").
 *
 * The caller analyses one input file into a struct mapgen_in (the CSV
 * dialect and columns with sample values, the EDI segments with their
 * qualifiers, the XML element tree) and mapgen_write() turns it into
 * mapping YAML: input format and message, one records block of one kind
 * with the paths filled where a canonical field is recognisable (GTIN/EAN
 * columns, LIN/QTY/PRI qualifiers, UBL and openTRANS elements) and every
 * other canonical field of the kind as a commented placeholder. The
 * recognizers are exported for the unit tests.
 */
#ifndef STOCKPIPE_MAPGEN_H
#define STOCKPIPE_MAPGEN_H

#include <stddef.h>

#include "lib/buf.h"
#include "lib/err.h"

enum mapgen_kind {
	MAPGEN_AUTO = 0, /* choose from the contents */
	MAPGEN_STOCK,
	MAPGEN_ITEM,
	MAPGEN_PRICE,
	MAPGEN_LOCATION          /* parties: EDI N1/NAD loops, XML party
				  * elements, CSV store lists */
};

/* The canonical fields the recognizers know (one meaning each). */
enum mapgen_field {
	MGF_NONE = 0,
	MGF_SKU, MGF_GTIN, MGF_SUPPLIER_SKU, MGF_DESC, MGF_BRAND,
	MGF_CATEGORY, MGF_UOM, MGF_PACK, MGF_STATUS,
	MGF_LOCATION, MGF_QTY, MGF_DATE, MGF_PRICE, MGF_CURRENCY,
	MGF_VALID_FROM, MGF_VALID_TO,
	MGF_REGION, MGF_LOCTYPE,
	MGF_COUNT
};

#define MAPGEN_SAMPLES 5

/* CSV: one column. */
struct mapgen_col {
	const char *name;                     /* header name; NULL: no header */
	const char *sample[MAPGEN_SAMPLES];   /* first non-empty values */
	unsigned nsample;
	unsigned long nonempty;               /* rows where it has a value */
};

struct mapgen_csv {
	char delimiter;          /* ',' ';' '\t' '|' */
	char quote;              /* '"' (0: the default) */
	int header;              /* the first row names the columns */
	const char *encoding;    /* iconv name; NULL: UTF-8 */
	unsigned skip_lines;     /* lines before the header */
	const struct mapgen_col *col;
	size_t ncol;
	unsigned long rows;      /* data rows */
};

/* EDI: one element position of a segment tag (QTY01-1, LIN02 ...) over
 * the sets of the file. */
struct mapgen_epos {
	unsigned elem, comp;     /* 1-based */
	unsigned long n;         /* segments with a value here */
	const char *sample;      /* first value seen */
	const char *codes;       /* a qualifier position: its distinct values
				  * in order of first appearance, space
				  * separated ("145 1 12"); NULL: data */
};

struct mapgen_seg {
	char tag[8];
	unsigned long n;         /* occurrences */
	unsigned long first;     /* segment number of the first one */
	const struct mapgen_epos *pos;
	size_t npos;
};

struct mapgen_edi {
	int x12;                 /* 1 X12, 0 EDIFACT */
	char message[8];         /* the most frequent ST01 / UNH 0065 */
	char version[24];        /* its GS08 / UNH version */
	unsigned long nsets;     /* sets of that type */
	char others[96];         /* other types with counts ("997x2 ...") */
	int decimal_comma;       /* EDIFACT UNA decimal mark ',' */
	const struct mapgen_seg *seg; /* in order of first appearance */
	size_t nseg;
	char first_error[240];   /* the reader's first error ("line 1: bad
				  * ISA: ..."), "" for none: why no set
				  * could be read */
};

/* XML: the distinct element and attribute paths, a tree in document
 * order (a parent before its children). */
struct mapgen_xnode {
	long parent;             /* index of the parent, -1 for the root */
	const char *uri;         /* namespace URI, NULL: none */
	const char *local;       /* local name */
	int attr;                /* an attribute of parent */
	unsigned long count;
	const char *sample;      /* first non-blank text/value, or NULL */
};

struct mapgen_xml {
	const struct mapgen_xnode *node;
	size_t nnode;
};

struct mapgen_in {
	const char *format;      /* "csv", "x12", "edifact", "xml" */
	const char *file;        /* the input's file name (comments, name) */
	const char *test_input;  /* tests: input path as the mapping reads it
				  * (relative to the mapping), or NULL: no
				  * tests: block */
	const char *test_expect; /* tests: expect path, with test_input */
	const char *today;       /* YYYY-MM-DD, the placeholder as_of date */
	struct mapgen_csv csv;
	struct mapgen_edi edi;
	struct mapgen_xml xml;
};

/* Writes the mapping for in as YAML to out. kind MAPGEN_AUTO chooses
 * from the contents; *chosen gets the kind written. Returns 0, or -1
 * with err: E_PARSE when the file cannot yield a record of any kind by
 * its nature (a 997 has no items; the reason names what is missing),
 * E_CONFIG when it cannot yield the asked kind (no quantity for stock),
 * E_NOMEM/E_TOOBIG from the buffer. */
int mapgen_write(const struct mapgen_in *in, enum mapgen_kind kind,
		 enum mapgen_kind *chosen, struct buf *out, struct err *err);

/* "stock", "item", "price", "location"; NULL for MAPGEN_AUTO. */
const char *mapgen_kind_name(enum mapgen_kind k);
/* The kind for a --kind value, or -1. */
int mapgen_kind_parse(const char *s);

/* ---- recognizers (exported for the unit tests) ---------------------- */

/* What a column or element name means: "EAN" -> MGF_GTIN, "Menge" ->
 * MGF_QTY, "Artikelnummer" -> MGF_SKU; MGF_NONE when not recognised.
 * Case, blanks, '_', '-', '/', '.' and German umlauts do not matter. */
enum mapgen_field mapgen_name_field(const char *name);
/* The canonical name of a field ("sku", "quantity", "as_of" for
 * MGF_DATE, ...). */
const char *mapgen_field_name(enum mapgen_field f);
/* True when s is a GTIN-8/12/13/14 with a correct check digit. */
int mapgen_is_gtin(const char *s);
/* The date() format of a sample value ("%Y-%m-%d", "%d.%m.%Y",
 * "%Y%m%d", ...), "" for ISO 8601 with a time (plain `date`), or NULL
 * when it is no date. */
const char *mapgen_date_format(const char *s);
/* 1 when s is a number with a decimal comma ("12,5", "1.234,50"), 0 for
 * a plain number, -1 for no number. */
int mapgen_number_kind(const char *s);
/* X12 product id qualifiers (LIN/PO1/IT1 pairs, 235): MGF_GTIN for UP,
 * EN, UK, UA, UI; MGF_SKU for SK, BP, IN, PN, CB; MGF_SUPPLIER_SKU for
 * VN, VP, VA, MG, SA; MGF_NONE otherwise. *rank (may be NULL) orders the
 * candidates of one meaning (lower is better). */
enum mapgen_field mapgen_x12_idq(const char *q, int *rank);
/* How well a quantity qualifier fits stock (lower is better; -1: not a
 * stock quantity). X12 QTY01 (33 available, 17 on hand, ...); EDIFACT
 * QTY C186 6063 (145 actual stock, 1, 12, 153 sold, ...). */
int mapgen_qty_rank(int x12, const char *q);
/* How well a price qualifier fits (lower is better, -1: no price): X12
 * CTP02 (RES, CON, UCP, ...), EDIFACT PRI C509 5125 (AAA, AAB, ...). */
int mapgen_price_rank(int x12, const char *q);
/* The canonical location type (store, dc, supplier) of a party
 * qualifier: X12 N101 (98) or EDIFACT NAD 3035 (ST BY DP -> store, SU SF
 * SE VN MF -> supplier, WH DC -> dc); NULL when it is not known. */
const char *mapgen_party_type(const char *q);
/* EDIFACT DTM format code (2379) as a date() format: 102 "%Y%m%d", 203
 * "%Y%m%d%H%M", ...; NULL when unknown. */
const char *mapgen_dtm_format(const char *code);

#endif
