/* mapping.h - declarative mapping files: the analysts' language.
 *
 * A mapping file (YAML, see docs/mapping.md) says which records of an input
 * document (CSV rows; later X12/EDIFACT segments and XML elements) become
 * which canonical records, with paths, context, lookups, value maps,
 * conversions, defaults, filters and validation rules. mapping_load()
 * compiles the file once and reports every mistake at file:line:column
 * before any data is read; mapping_run() then streams one document through
 * it in memory bounded by one record plus its context.
 */
#ifndef STOCKPIPE_MAPPING_H
#define STOCKPIPE_MAPPING_H

#include <stddef.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "transforms/model/canon.h"
#include "transforms/formats/edi.h"
#include "filepat.h"

struct mapping;

/* Compiles the mapping at path. Lookup tables named in it are loaded from
 * paths relative to the mapping file's directory. Returns 0, or -1 with err
 * (code E_CONFIG) at file:line:col. Caller frees with mapping_free(). */
int mapping_load(const char *path, struct mapping **out, struct err *err);
void mapping_free(struct mapping *m);

/* The mapping's name (the `mapping:` key, or the file name). */
const char *mapping_name(const struct mapping *m);
/* The input format: "csv", "x12", "edifact" or "xml". */
const char *mapping_format(const struct mapping *m);
/* Calls cb for the mapping file and each lookup table it loaded, with the
 * SHA-256 of the bytes that were compiled, so a run records exactly what it
 * used. */
void mapping_each_dep(const struct mapping *m,
		      void (*cb)(void *ud, const char *path,
				 const char *sha256_hex),
		      void *ud);

/* What is known about the file a document came from: the variables
 * $file.name, $file.mtime, $file.fetched_at, $run.started_at (= $now) and
 * $file.NAME for the captures of the source's file pattern (filepat.h;
 * docs/mapping.md section 5). Times are ISO-8601 UTC
 * ("2026-11-20T06:00:00Z"); NULL means unknown (the variable is absent).
 * Everything is borrowed for the duration of mapping_run(). */
struct mapping_facts {
	const char *file_name;   /* the file as fetched (an archive's name for
				  * its members); NULL: the document name */
	const char *mtime;       /* its modification time at the source */
	const char *fetched_at;  /* when the pipeline fetched it */
	const char *run_started; /* when the run began */
	const struct filepat_caps *caps; /* NULL: no captures */
};

/* The mapping's `units:` section (docs/mapping.md "Units of measure"),
 * read by the load stage: base_uom NULL and table NULL when not declared. */
struct uom_table;
struct mapping_units {
	const char *base_uom;           /* base unit of items the item master
					 * does not describe */
	const struct uom_table *table;  /* from, to, factor (uom.h) */
};
const struct mapping_units *mapping_units(const struct mapping *m);

/* One input document to map. */
struct mapping_doc {
	const char *source;  /* source name for lineage ("" in map try) */
	const char *name;    /* document name for lineage and messages */
	const char *path;    /* local file to read */
	const char *sha256;  /* content hash (hex); the base of default txn_ids */
	const struct mapping_facts *facts; /* NULL: only $file.name (= name) */
};

/* A record that could not be mapped. All strings are borrowed for the
 * duration of the callback. */
struct mapping_reject {
	const char *file;     /* document name */
	unsigned long line;   /* 1-based line (or segment number) */
	unsigned col;         /* 1-based column/element, 0 if unknown */
	const char *field;    /* canonical field or input column, "" if none */
	const char *reason;   /* lowercase, no final period */
	int code;             /* enum err_code: E_PARSE (not readable as a
			       * record), E_MAP (a rule failed) or what the
			       * failing step raised (E_VALIDATE, ...) */
	const char *raw;      /* the input record as read, for the reject file */
	size_t raw_len;
	/* EDI: line and col above are the physical ones of the element
	 * (struct src_loc); seg is its segment's number in the file and
	 * offset the element's byte offset. seg 0: not located so. */
	unsigned long seg;
	unsigned long long offset;
};

/* An EDI interchange (X12 ISA..IEA, EDIFACT UNB..UNZ) of the document,
 * for the sink's optional interchange() hook. Strings are borrowed for the
 * duration of the call. */
struct mapping_interchange {
	const char *format;     /* "x12" or "edifact" */
	const char *sender;     /* ISA06 (blanks trimmed), UNB02:1 */
	const char *receiver;   /* ISA08, UNB03:1 */
	const char *control;    /* ISA13, UNB05 */
	const char *sha256;     /* at the end: SHA-256 (hex) of the
				 * interchange's bytes; "" at the start */
	unsigned long index;    /* 1-based in the document */
	unsigned long segment;  /* segment number of ISA/UNB in the document */
	unsigned long sets;     /* at the end: transaction sets/messages read */
	int ok;                 /* at the end: no envelope or set error */
	int skipped;            /* at the end: the start call skipped it */
};

enum { MAPPING_IC_START = 0, MAPPING_IC_END = 1 };

/* A finding that does not stop the data (EDI: an envelope count that
 * does not match, ISA12 and GS08 versions that disagree, a value the
 * repetition separator cut, the reader's warnings), with where it is.
 * Borrowed for the duration of the call. */
struct mapping_warning {
	const char *file;       /* document name */
	struct src_loc loc;     /* physical line:col, segment, offset */
	const char *code;       /* short stable name: "count", "version",
				 * "repetition", or the reader's issue name */
	const char *message;    /* lowercase, no final period */
};

struct mapping_sink {
	/* A valid, normalised canonical record (canon_validate passed). The
	 * record and its strings are only valid during the call. Return 0 or
	 * -1 with err set to stop the document. */
	int (*record)(void *ud, const struct canon_record *r, struct err *err);
	/* A rejected input record; the document goes on. */
	int (*reject)(void *ud, const struct mapping_reject *rj,
		      struct err *err);
	void *ud;
	/* Optional (NULL: every interchange is mapped); EDI input only.
	 * MAPPING_IC_START, after the interchange header: return 1 to skip
	 * the interchange (none of its sets is mapped: a duplicate), 0 to map
	 * it. MAPPING_IC_END, after its trailer (or where it was cut off):
	 * return 0, or 1 with a reason in why (whyn bytes) to reject it once,
	 * located at its header (a skipped interchange whose control number
	 * was seen with other content). -1 with err stops the document. */
	int (*interchange)(void *ud, int phase,
			   const struct mapping_interchange *ic, char *why,
			   size_t whyn, struct err *err);
	/* Optional (NULL: warnings are only counted): a warning; return 0
	 * or -1 with err to stop the document. */
	int (*warning)(void *ud, const struct mapping_warning *w,
		       struct err *err);
	/* A source's `strict: true`: every warning is a reject instead (the
	 * set it is found in is not loaded; a record that read a cut value
	 * is rejected; a trailer found after its sets is a reject of its
	 * own). The warning() hook still sees it. */
	int strict;
};

/* The syntax verdict on one unit of an EDI document, for the verdict
 * callback of mapping_run_verdicts() (acknowledgments, docs/mapping.md "Acknowledg-
 * ments"). Called at the end of every transaction set/message
 * (MAPPING_V_SET), functional group (MAPPING_V_GROUP) and interchange
 * (MAPPING_V_IC), in stream order. Pointers are borrowed for the call. */
enum { MAPPING_V_SET = 1, MAPPING_V_GROUP = 2, MAPPING_V_IC = 3 };

struct mapping_verdict {
	int level;                    /* MAPPING_V_* */
	const struct edi_ctx *ctx;    /* the envelope of the unit that ended */
	int ok;                       /* no error in the unit */
	const struct edi_issue *issue;/* the first error found in the unit
				       * (NULL when none or not located) */
	const char *bad_value;        /* set: the value of the element the
				       * issue names, "" if unknown */
	unsigned long nseg;           /* set: segments read (ST..SE) */
	int unsupported;              /* set: type not read by the mapping */
	int too_large;                /* set: past input.max_set_* */
	int skipped;                  /* IC: the interchange() hook skipped
				       * it (a duplicate: not acknowledged) */
};

struct mapping_stats {
	unsigned long input_records;  /* rows/segment groups/elements read */
	unsigned long records_out;    /* canonical records emitted */
	unsigned long rejects;        /* input records rejected */
	unsigned long filtered;       /* input records no record entry
				       * produced output for (`when:`), not
				       * rejected: each counted once */
	unsigned long skipped;        /* EDI sets in interchanges the sink's
				       * interchange() hook skipped */
	unsigned long warnings;       /* warnings handed to the sink */
};

/* Streams doc through m. Returns 0 when the document was read to the end
 * (rejects are normal), or -1 when the document as a whole cannot be read
 * (unreadable, undecodable encoding, a line past the size bound, broken
 * structure) with err located at file:line; the caller then quarantines it
 * (E_PARSE/E_TOOBIG) or retries later (E_IO/E_NOMEM). stats may be NULL. */
int mapping_run(const struct mapping *m, const struct mapping_doc *doc,
		const struct mapping_sink *sink, struct mapping_stats *stats,
		struct err *err);

/* mapping_run() that also hands every EDI set, group and interchange's
 * syntax verdict to verdict(vud, ...) (struct mapping_verdict; return 0,
 * or -1 with err to stop the document). For CSV and XML input verdict is
 * never called. This is how the pipeline builds acknowledgments. */
int mapping_run_verdicts(const struct mapping *m, const struct mapping_doc *doc,
			 const struct mapping_sink *sink,
			 int (*verdict)(void *vud,
					const struct mapping_verdict *v,
					struct err *err),
			 void *vud, struct mapping_stats *stats,
			 struct err *err);

/* Compile-checks one mapping file without reading data: an inbound
 * mapping (mapping_load) or, when the file has a top-level `outbound:`
 * key, an outbound mapping (outbound_load). Returns 0 or -1 with err at
 * file:line:col (E_CONFIG). This is what `stockpipe check` and
 * `stockpipe map check` call. */
int mapping_check(const char *path, struct err *err);

/* Checks that each of the npats file patterns (a source's pattern:)
 * supplies every $file.NAME capture m reads. With npats 0 none does, and
 * hint (may be NULL) says how to give one. Returns 0, or -1 with err
 * (E_CONFIG) at the mapping's file:line:col of the first capture a
 * pattern lacks, naming the pattern and the captures it has. */
int mapping_check_patterns(const struct mapping *m, const char *const *pats,
			   size_t npats, const char *hint, struct err *err);

/* True when m reads a file fact or $run.started_at/$now (so `map try`
 * shows them). */
int mapping_reads_facts(const struct mapping *m);

/* Golden tests declared under `tests:` in the mapping file; paths are
 * already resolved against the mapping file's directory. */
struct mapping_test {
	const char *input;    /* sample input document */
	const char *expect;   /* expected JSONL (records and rejects) */
	const char *source;   /* source name for lineage, "" by default */
	const char *pattern;  /* file pattern for $file.NAME captures, or
			       * NULL */
	unsigned long line;   /* where the test is declared */
};
size_t mapping_ntests(const struct mapping *m);
const struct mapping_test *mapping_get_test(const struct mapping *m,
					    size_t i);

/* Appends a reject as one JSON line (see docs/mapping.md):
 * {"kind":"reject","_file":F,"_line":L,"_col":C,"field":X,"reason":R,
 *  "raw":RAW}  with _col and field left out when unknown. */
int mapping_reject_to_jsonl(const struct mapping_reject *rj,
			    struct buf *out);

#endif
