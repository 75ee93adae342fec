/* sniff.h - what a file is and what is in it: the one content analysis
 * behind `inspect`, content routes (routes with `format:`), `map try` and
 * `map new`.
 *
 * Two levels:
 *
 *  - sniff_head() / sniff_path_head(): the format (and for CSV the
 *    dialect) from a bounded head of the file, SNIFF_HEAD_MAX bytes at
 *    most. Cheap; this is what routes and readers call per document.
 *
 *  - sniff_file(): the whole file streamed once with bounded memory (the
 *    readers' own buffers plus the capped tables below), filling a struct
 *    sniff: for CSV the dialect, header, column samples, row count and the
 *    rows that do not fit; for X12/EDIFACT the delimiters, versions,
 *    envelope counts and their mismatches, message types, segment tags and
 *    the qualifier values seen per element; for XML the namespaces and the
 *    element paths with counts and a sample value. This is what `inspect`
 *    prints and `map new` writes a mapping from.
 *
 * Every list is capped (the caps are in struct sniff_opts); what did not
 * fit is counted in the list's n*_more field, never dropped silently.
 * Strings are NUL-terminated UTF-8 owned by the struct sniff (one arena),
 * valid until sniff_free().
 */
#ifndef STOCKPIPE_SNIFF_H
#define STOCKPIPE_SNIFF_H

#include <stddef.h>
#include <stdint.h>

#include "lib/arena.h"
#include "lib/err.h"
#include "transforms/formats/edi.h"

/* Bytes read from the start of a file to decide its format and CSV
 * dialect: enough for a few records of an export with long quoted HTML
 * descriptions (Magento), small enough to read per routed document. */
#define SNIFF_HEAD_MAX (64 * 1024)

/* The values equal the EDI_FMT_* ones (edi_sniff() is sniff_head()). */
enum sniff_format {
	SNIFF_UNKNOWN = EDI_FMT_UNKNOWN,
	SNIFF_X12 = EDI_FMT_X12,
	SNIFF_EDIFACT = EDI_FMT_EDIFACT,
	SNIFF_XML = EDI_FMT_XML,
	SNIFF_CSV = EDI_FMT_CSV,
	SNIFF_EMPTY = EDI_FMT_EMPTY,
	SNIFF_ARCHIVE = 16   /* zip, tar, gzip, ... (see unpack.h) */
};

/* "x12", "edifact", "xml", "csv", "empty", "archive" or "unknown": the
 * names routes match (`format:`). */
const char *sniff_format_name(int format);

enum sniff_eol {
	SNIFF_EOL_NONE = 0,  /* no line end in what was read */
	SNIFF_EOL_LF,
	SNIFF_EOL_CRLF,
	SNIFF_EOL_CR,        /* classic Mac exports */
	SNIFF_EOL_MIXED
};
/* "none", "LF", "CRLF", "CR", "mixed". */
const char *sniff_eol_name(int eol);

/* Text encoding and CSV dialect, as found in the head. */
struct sniff_dialect {
	char encoding[16];   /* iconv name: "UTF-8", "UTF-16LE", "UTF-16BE",
			      * "ISO-8859-1", "WINDOWS-1252"; "" = not text */
	int bom;             /* the file starts with a byte order mark */
	int eol;             /* enum sniff_eol (line ends outside quotes) */
	/* CSV only (format SNIFF_CSV): */
	char delimiter;      /* ',' ';' '\t' '|' */
	char quote;          /* '"' or '\''; 0 = no field is quoted */
	char escape;         /* '"' = doubled quote (RFC 4180), '\\' =
			      * backslash; 0 = no escaped quote seen */
	int quoted_newlines; /* a quoted field spans lines */
	unsigned ncols;      /* fields of the first record */
	int header;          /* the first record looks like column names
			      * (guess: no field of it is a number, and it
			      * has no empty or duplicate name) */
};

/* Format of the n bytes at head (the start of a file), with the text
 * encoding and, for CSV, the dialect in *d (may be NULL). Quote-aware:
 * a delimiter splits the complete records in head (quoted newlines, CR,
 * LF or CRLF line ends, UTF-16 decoded first) into the same number (> 1)
 * of fields. A text file of one field per record (a single-column list,
 * a header-only file) is CSV too when no line looks like EDI or XML and
 * it holds no control bytes. Never fails. */
int sniff_head(const unsigned char *head, size_t n, struct sniff_dialect *d);

/* sniff_head() on the first SNIFF_HEAD_MAX bytes of path; archives give
 * SNIFF_ARCHIVE. Returns the format, or -1 with err (E_IO) when the file
 * cannot be read. */
int sniff_path_head(const char *path, struct sniff_dialect *d,
		    struct err *err);

/* ---- the full analysis ------------------------------------------------ */

struct sniff_opts {
	unsigned max_samples;   /* sample values per column/element/path;
				 * 0 = 3 */
	unsigned max_columns;   /* CSV columns described; 0 = 256 */
	unsigned max_bad_rows;  /* CSV rows that do not fit, listed; 0 = 20 */
	unsigned max_tags;      /* EDI segment tags; 0 = 256 */
	unsigned max_quals;     /* distinct qualifier values per element
				 * position before it counts as data;
				 * 0 = 24 */
	unsigned max_paths;     /* XML element/attribute paths; 0 = 1000 */
	size_t max_segment;     /* EDI segment bound; 0 = reader default */
	unsigned max_findings;  /* EDI findings listed; 0 = 200 */
};

/* Fills the defaults above (all 0 = default). */
void sniff_opts_init(struct sniff_opts *o);

/* -- CSV -- */

struct sniff_column {
	const char *name;        /* header text; "" without a header */
	const char *samples[8];  /* first distinct non-empty values */
	unsigned nsamples;
	unsigned long nonempty;  /* records with a non-empty value */
};

struct sniff_bad_row {
	unsigned long line;      /* physical line where the record starts */
	unsigned long index;     /* 1-based data record (header excluded) */
	unsigned nfields;        /* 0 when unreadable */
	const char *why;         /* "12 fields, header has 11", reader text */
};

struct sniff_csv {
	struct sniff_column *cols;
	unsigned ncols;          /* header fields (or first record's) */
	unsigned ncols_more;     /* columns past max_columns, not described */
	unsigned long rows;      /* data records (header excluded) */
	unsigned long lines;     /* physical lines */
	unsigned long nbad;      /* records that do not fit (all of them) */
	struct sniff_bad_row *bad;
	unsigned nbad_listed;    /* <= max_bad_rows */
	const char *error;       /* NULL, or why reading stopped early (bad
				  * byte for the encoding, unterminated quote)
				  * with its line */
};

/* -- X12 / EDIFACT -- */

struct sniff_code {
	const char *value;
	unsigned long n;
};

/* One element position of one segment tag: QTY01-1 (EDIFACT QTY+21:10),
 * LIN03 (X12 qualifier), PIA02-2 ... */
struct sniff_elem {
	unsigned elem;           /* 1-based element */
	unsigned comp;           /* 1-based component (1 for simple ones) */
	unsigned long n;         /* segments with a non-empty value here */
	const char *sample;      /* first value seen */
	int is_code;             /* a qualifier: every value was a short
				  * code (<= 3 letters/digits), at most
				  * max_quals distinct, and they repeat
				  * (n >= 2 x distinct, or <= 2 distinct),
				  * so LIN01 line numbers 1, 2, 3 are not */
	struct sniff_code *codes;/* the distinct values, counted, in order of
				  * first appearance, while every value was
				  * a short code and there were at most
				  * max_quals (ncodes = 0 otherwise) */
	unsigned ncodes;
	int repeated;            /* the element had repeats (split on the
				  * repetition separator) */
};

struct sniff_segment {
	char tag[8];
	unsigned long n;         /* occurrences in the file */
	unsigned long first_seg; /* segment number of the first one */
	struct sniff_elem *elems;/* positions seen, by (elem, comp) */
	unsigned nelems;
};

/* A message type with its version: X12 "846" with GS08 "004010",
 * EDIFACT "PRICAT" with "D:96A:UN:EAN008". */
struct sniff_message {
	char type[8];
	char version[24];
	unsigned long n;
};

/* A finding that does not stop reading: envelope count mismatch, version
 * conflict, a value cut by the repetition separator, and the readers'
 * own issues. */
struct sniff_finding {
	int severity;            /* EDI_WARNING or EDI_ERROR */
	const char *code;        /* edi_issue_name(), or "version",
				  * "repetition" */
	unsigned long segment;   /* 1-based segment in the file; 0 = n/a */
	unsigned long line;      /* physical line; 0 = n/a */
	const char *text;        /* readable, with the values involved */
	struct edi_issue issue;  /* the whole location: interchange, segment
				  * in interchange and set, element, ...
				  * (code EDI_I_NOTE for "version" and
				  * "repetition") */
};

struct sniff_interchange {
	const char *control, *sender, *receiver, *date, *time;
	const char *sender_qual, *receiver_qual;  /* ISA05/07, UNB02:2/03:2 */
	const char *test;        /* ISA15, UNB11 */
	const char *sha256;      /* of the interchange's bytes */
	const char *version;     /* ISA12; EDIFACT syntax version UNB01:2 */
	const char *charset;     /* EDIFACT UNB01:1; X12 "" or EBCDIC */
	struct edi_delims delims;
	int una;                 /* EDIFACT: delimiters from a UNA */
	unsigned long groups, sets;            /* counted */
	long declared_groups;    /* IEA01/UNZ01 (groups or messages); -1 */
	int ok;
};

struct sniff_edi {
	struct edi_delims delims;/* of the first interchange */
	int una;
	int dex, ebcdic;         /* X12: UCS DXS/DXE envelope; EBCDIC file */
	const char *version;     /* ISA12 / UNB01:2 of the first interchange */
	const char *charset;
	unsigned long ninterchanges, ngroups, nsets;
	struct sniff_interchange *ics;
	unsigned nics;
	unsigned long nics_more;
	struct sniff_message *messages;
	unsigned nmessages;
	unsigned long nmessages_more;
	struct sniff_segment *segs;   /* in order of first appearance */
	unsigned nsegs;
	unsigned long nsegs_more;     /* segments of tags past max_tags */
	struct sniff_finding *findings;
	unsigned nfindings;
	unsigned long nfindings_more;
	unsigned long nerrors, nwarnings; /* all findings, listed or not */
	unsigned long rep_splits;     /* element values split on the
				       * repetition separator (an element
				       * with more than one repeat); each
				       * position is also a finding */
};

/* -- XML -- */

struct sniff_ns {
	const char *prefix;      /* "" for the default namespace */
	const char *uri;
};

struct sniff_xpath {
	const char *path;        /* "/Invoice/cac:InvoiceLine/cbc:ID" with
				  * the prefixes as written; attributes
				  * end in "/@unitCode" */
	const char *ns;          /* namespace URI of the last step; "" */
	unsigned depth;          /* 1 = the root */
	unsigned long n;
	const char *sample;      /* first non-blank text; NULL if none */
};

struct sniff_xml {
	const char *root, *root_ns;
	const char *encoding;    /* declared or detected */
	unsigned long elements;
	struct sniff_ns *ns;
	unsigned nns, nns_more;
	struct sniff_xpath *paths;    /* in document order of first sight */
	unsigned npaths;
	unsigned long npaths_more;    /* element/attribute occurrences whose
				       * path did not fit in max_paths */
	const char *error;       /* NULL, or the first error "file:l:c: ..." */
};

/* -- the file -- */

struct sniff {
	const char *path;
	int format;              /* enum sniff_format */
	uint64_t size;           /* bytes */
	struct sniff_dialect dialect;  /* encoding, BOM, line ends, CSV */
	char archive[16];        /* SNIFF_ARCHIVE: unpack_kind_name() */
	/* The main message type and version: the most frequent ST01/UNH02,
	 * or for XML the root element's local name ("Invoice") and
	 * namespace; "" for CSV. */
	char message[32];
	char message_version[64];
	union {
		struct sniff_csv csv;
		struct sniff_edi edi;
		struct sniff_xml xml;
	} u;
	int valid;               /* CSV: every row fits; EDI: no error;
				  * XML: well-formed */
	struct arena arena;      /* owns every string and array above */
};

/* Analyses the file at path (streamed once; memory bounded by the opts'
 * caps and the readers' record/segment bounds). name is the file name used
 * in texts (NULL = path). *out is set on success and must be given to
 * sniff_free(). Returns 0, also for an unknown, empty, invalid or archive
 * file (format and valid say so); -1 with err only when the file cannot
 * be opened or read, or memory runs out. */
int sniff_file(const char *path, const char *name,
	       const struct sniff_opts *o, struct sniff **out,
	       struct err *err);

/* Frees s and everything it owns; NULL is fine. */
void sniff_free(struct sniff *s);

/* Whether tag is an envelope segment (ISA, GS, ST, SE, GE, IEA, UNA,
 * UNB, UNG, UNH, UNT, UNE, UNZ, DXS, DXE): its values are the envelope's,
 * not data a mapping reads. */
int sniff_is_envelope(const char *tag);

/* The element position (elem, comp) of a segment tag in s, or NULL. */
const struct sniff_elem *sniff_edi_elem(const struct sniff *s,
					const char *tag, unsigned elem,
					unsigned comp);

#endif
