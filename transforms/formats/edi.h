/* edi.h - what the X12 and EDIFACT readers hand to their consumers.
 *
 * Both readers (x12_reader.h, edifact_reader.h) are pull parsers over a
 * file descriptor: the consumer calls *_reader_next() and gets one event at
 * a time. The stream of events for a well-formed file is
 *
 *	SEGMENT(ISA) SEGMENT(GS) SEGMENT(ST) SEGMENT(...)... SEGMENT(SE)
 *	SET_END ... SEGMENT(GE) GROUP_END SEGMENT(IEA) INTERCHANGE_END
 *
 * (UNB/UNG/UNH/UNT/UNE/UNZ for EDIFACT; UNA is not a segment event, it only
 * sets the delimiters in the context). Envelope and syntax problems arrive
 * as ISSUE events in stream order, right before the segment they were found
 * on or before the *_END event they concern. A transaction set/message
 * whose segments were all delivered can turn out broken only at its
 * trailer (SE01 wrong, SE missing, ...), so a consumer that must not act on
 * broken sets collects a set's data and commits it on SET_END with ok = 1,
 * dropping it on ok = 0. Sibling sets are unaffected: one broken set does
 * not stop the reader. Interchange-level problems (bad ISA, IEA01 wrong,
 * missing IEA) make INTERCHANGE_END carry ok = 0; a consumer applying the
 * "all or nothing per interchange" rule (docs/reliability.md 4) defers
 * commits to INTERCHANGE_END.
 *
 * Memory: an event, its segment, issue and context point into the reader
 * and stay valid until the next *_reader_next() call. Nothing is allocated
 * per segment; the reader's buffers are sized once from the options.
 *
 * Segment access: a segment is tokenized in place into one reusable buffer.
 * Every value is NUL-terminated (the delimiter it ended at is overwritten),
 * release characters are already removed and EDIFACT text is already UTF-8.
 * Positions are 1-based as in the standards: element 1 is ISA01/UNB01
 * (element 0 is the tag), repeat 1 and component 1 are the first ones. A
 * value that is absent from the segment reads as NULL; an empty one as "".
 *
 *	const char *v = edi_seg_value(seg, 2, 1, 1);      // "PO1-02" etc.
 *	const char *q = edi_seg_value(seg, 2, 1, 2);      // component 2
 *	unsigned n = edi_seg_nrep(seg, 5);                // repeats of el. 5
 */
#ifndef STOCKPIPE_EDI_H
#define STOCKPIPE_EDI_H

#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

enum edi_format {
	EDI_FMT_UNKNOWN = 0,
	EDI_FMT_X12,      /* ISA/IEA (or UCS/DEX DXS/DXE) */
	EDI_FMT_EDIFACT,  /* UNA/UNB/UNZ */
	EDI_FMT_XML,
	EDI_FMT_CSV,
	EDI_FMT_EMPTY     /* no bytes, or only whitespace */
};

/* The format of a file from its first n bytes: sniff_head() (sniff.h)
 * without the dialect. Give it SNIFF_HEAD_MAX bytes where CSV matters
 * (a quoted record can be long). */
int edi_sniff(const unsigned char *head, size_t n);
/* "x12", "edifact", "xml", "csv", "empty" or "unknown". */
const char *edi_format_name(int fmt);

/* Delimiters of one interchange as bytes of the file; -1 = none. For an
 * EBCDIC X12 file these are the EBCDIC bytes (values are delivered in
 * ASCII). seg_tail holds the rest of a multi-byte terminator (a UTF-8
 * character used as X12 terminator: "C3 96" = 'Ö'). */
struct edi_delims {
	int elem;          /* element separator */
	int comp;          /* component (sub-element) separator */
	int rep;           /* repetition separator */
	int seg;           /* segment terminator (first byte) */
	int rel;           /* EDIFACT release character */
	int dec;           /* EDIFACT decimal mark */
	unsigned char seg_tail[3];
	unsigned nseg_tail;
};

/* One token: the value of one component of one repeat of one element. */
struct edi_tok {
	uint32_t off;      /* offset of the NUL-terminated value in data */
	uint32_t len;      /* length without the NUL */
	uint16_t elem;     /* 0 = tag, 1 = first element */
	uint16_t rep;      /* 1-based repeat */
	uint16_t comp;     /* 1-based component */
};

struct edi_seg {
	char tag[8];             /* "ISA", "PO1", "UNH"; NUL-terminated (cut
				  * to 7 bytes: a longer one is an error) */
	const char *data;        /* token values, see edi_tok.off */
	const struct edi_tok *tok;
	size_t ntok;
	const uint32_t *elem_first; /* tok index of element e's first token,
				      * e = 0..nelem; [nelem + 1] = ntok */
	unsigned nelem;          /* data elements, tag excluded */
	unsigned long num;       /* 1-based segment number in the file */
	unsigned long num_in_ic; /* ... in the interchange (ISA/UNB = 1) */
	unsigned long num_in_set;/* ... in the set (ST/UNH = 1); 0 = outside */
	unsigned long line;      /* physical line where the segment starts */
	uint64_t offset;         /* byte offset of the tag in the file */
	int truncated;           /* the data ended before its terminator */
};

/* Value of element e (1-based; 0 = the tag), repeat r, component c, or
 * NULL when the segment has no such value. */
const char *edi_seg_value(const struct edi_seg *s, unsigned e, unsigned r,
			  unsigned c);
/* Same with the length (values may hold NUL bytes only if the file did). */
const char *edi_seg_value_len(const struct edi_seg *s, unsigned e,
			      unsigned r, unsigned c, size_t *len);
/* Component 1 of repeat 1 of element e, "" when absent (convenience for
 * envelope values). */
const char *edi_seg_str(const struct edi_seg *s, unsigned e);
/* Number of repeats of element e (0 when the element is absent). */
unsigned edi_seg_nrep(const struct edi_seg *s, unsigned e);
/* Number of components in repeat r of element e (0 when absent). */
unsigned edi_seg_ncomp(const struct edi_seg *s, unsigned e, unsigned r);

/* The envelope around the current position. Strings are "" when unknown;
 * longer values are cut to the field size. */
struct edi_ctx {
	int format;                /* EDI_FMT_X12 or EDI_FMT_EDIFACT */
	int dex;                   /* X12 file uses the UCS DXS/DXE envelope */
	int ebcdic;                /* X12 file is EBCDIC (CP037) */
	/* interchange */
	unsigned long ic_index;    /* 1-based in the file; 0 = none yet */
	int ic_open;
	struct edi_delims delims;
	int una;                   /* EDIFACT: the interchange had a UNA */
	char charset[8];           /* EDIFACT UNB01:1 (UNOC...); X12 "" */
	char syntax_version[4];    /* EDIFACT UNB01:2 */
	char ic_sender[40], ic_sender_qual[8];     /* ISA06/05, UNB02:1/2 */
	char ic_receiver[40], ic_receiver_qual[8]; /* ISA08/07, UNB03:1/2 */
	char ic_date[12], ic_time[12];             /* ISA09/10, UNB04:1/2 */
	char ic_control[16];       /* ISA13, UNB05, DXS04 */
	char ic_version[16];       /* ISA12; EDIFACT: "" */
	char ic_test[4];           /* ISA15 (T/P), UNB11 */
	unsigned long ic_ngroups;  /* GS/UNG seen so far in the interchange */
	unsigned long ic_nsets;    /* ST/UNH seen so far in the interchange */
	unsigned long ic_errors;   /* errors so far in the interchange */
	uint64_t ic_offset;        /* file offset of ISA/UNA/UNB */
	uint64_t ic_bytes;         /* at INTERCHANGE_END: bytes hashed */
	char ic_sha256[65];        /* at INTERCHANGE_END: SHA-256 of the
				    * interchange's bytes as in the file, from
				    * ISA/UNA/UNB to the trailer's terminator */
	/* group */
	int grp_open;
	unsigned long grp_index;   /* 1-based in the interchange */
	char grp_id[8];            /* GS01 (PO, IB...), UNG01 */
	char grp_sender[40], grp_receiver[40];     /* GS02/03, UNG02/03 */
	char grp_date[12], grp_time[12];           /* GS04/05, UNG04 */
	char grp_control[16];      /* GS06, UNG05 */
	char grp_version[16];      /* GS08, UNG07 */
	unsigned long grp_nsets;
	unsigned long grp_errors;
	/* transaction set / message */
	int set_open;
	unsigned long set_index;   /* 1-based in the file */
	char set_type[8];          /* ST01 (846), UNH02:1 (INVRPT) */
	char set_control[16];      /* ST02, UNH01 */
	char set_version[24];      /* ST03; UNH02 "D:96A:UN:EAN008" */
	unsigned long set_errors;
	/* position of the current segment */
	unsigned long seg_in_file, seg_in_ic, seg_in_set;
};

enum edi_severity { EDI_WARNING = 1, EDI_ERROR = 2 };

enum edi_issue_code {
	EDI_I_BAD_HEADER = 1, /* bad ISA/UNA/UNB (wrong widths, delimiters) */
	EDI_I_UNREADABLE,     /* header unusable: interchange skipped */
	EDI_I_OUTSIDE,        /* data outside any interchange */
	EDI_I_NO_INTERCHANGE, /* nothing readable in the file */
	EDI_I_NO_TERMINATOR,  /* segment runs to end of data */
	EDI_I_MISSING_TRAILER,/* IEA/GE/SE, UNZ/UNE/UNT, DXE missing */
	EDI_I_MISSING_HEADER, /* SE without ST, UNH without UNB, ... */
	EDI_I_COUNT,          /* IEA01/GE01/SE01, UNZ01/UNE01/UNT01 wrong */
	EDI_I_CONTROL,        /* IEA02/GE02/SE02, UNZ02/UNE02/UNT02 wrong */
	EDI_I_PADDING,        /* control numbers equal but for zero padding */
	EDI_I_UNEXPECTED,     /* segment where the envelope allows none */
	EDI_I_BAD_TAG,        /* segment tag not 2-3 letters/digits */
	EDI_I_WRAPPED,        /* line break inside a segment dropped */
	EDI_I_CHARSET,        /* bytes not valid in the declared charset */
	EDI_I_TRAILING,       /* NUL/0x1A junk, final terminator missing */
	EDI_I_DUPLICATE,      /* ST02/UNH01 repeated within a group */
	EDI_I_NOTE            /* other findings (ISA11 'U' in 00402+, ...) */
};

struct edi_issue {
	int severity;              /* enum edi_severity */
	int code;                  /* enum edi_issue_code */
	unsigned long ic_index;    /* 0 = before the first interchange */
	char ic_control[16];
	char set_control[16];      /* "" when not in a set */
	unsigned long seg_in_file; /* 0 = end of data */
	unsigned long seg_in_ic;
	unsigned long seg_in_set;
	char seg_id[8];            /* "" when not about one segment */
	unsigned elem;             /* 1-based element position; 0 = n/a */
	unsigned long line;
	uint64_t offset;
	char reason[256];          /* lowercase, git style */
};

/* Stable short name of an issue code: "count", "control", ... */
const char *edi_issue_name(int code);
/* One line: "FILE: interchange 1 (000000049), segment 35 (IEA, segment
 * 35 of interchange), element IEA02: error: REASON". */
void edi_issue_format(const struct edi_issue *is, const char *file,
		      char *out, size_t n);
/* Copies an issue into a struct err (E_PARSE; line = segment number in
 * the file, field = "IEA02") for the pipeline's reject handling. */
void edi_issue_to_err(const struct edi_issue *is, const char *file,
		      struct err *e);

enum edi_event_kind {
	EDI_EV_SEGMENT = 1,   /* seg */
	EDI_EV_ISSUE,         /* issue */
	EDI_EV_SET_END,       /* after SE/UNT, or where a set was cut off */
	EDI_EV_GROUP_END,     /* after GE/UNE, or where a group was cut off */
	EDI_EV_IC_END         /* after IEA/UNZ/DXE or at a cut-off */
};

struct edi_event {
	int kind;
	const struct edi_seg *seg;     /* EDI_EV_SEGMENT */
	const struct edi_issue *issue; /* EDI_EV_ISSUE */
	const struct edi_ctx *ctx;     /* always; for *_END the context of
					* the unit that ended */
	int ok;                        /* *_END: no error in the unit nor in
					* the envelopes around it so far */
};

struct edi_opts {
	size_t max_segment;  /* bytes per segment after unescaping;
			      * 0 = 64 KiB. Longer: E_TOOBIG */
	int no_hash;         /* skip the per-interchange SHA-256 */
};

#define EDI_DEFAULT_MAX_SEGMENT 65536

/* Physical locations, found after the fact. The readers give every
 * segment its line and byte offset (struct edi_seg) and count nothing
 * more in the tokenizer's hot loop; where an element starts on its line
 * is worked out here, only for the few places an error names, by
 * reading the segment's bytes again from the file: back to the line's
 * start for the column (remembered, so the rejects of one long single-
 * line file do not scan it again each), then forward over the segment
 * with its delimiters, counting the line breaks of wrapped segments. */
struct edi_locator {
	const char *path;        /* borrowed */
	int fd;                  /* -1: not opened yet (or unreadable) */
	int failed;
	unsigned long line;      /* cache: physical line `line` starts */
	uint64_t lstart;         /* at byte lstart (line 0: none) */
};

void edi_locator_init(struct edi_locator *l, const char *path);
void edi_locator_release(struct edi_locator *l);
/* Fills loc for element e, repeat r, component c (1-based as in
 * edi_seg_value; e = 0: the tag) of the segment that starts at byte off
 * on physical line `line`, number segno in the file: the line and
 * column where the value's first byte is (where it would be, at the
 * segment's terminator, when the segment has no such value) and its
 * byte offset. d is the interchange's delimiters (as bytes of the file;
 * d->elem <= 0: unknown, then the segment's tag is given). When the
 * file cannot be read the segment's line is given with col 0. */
void edi_locate(struct edi_locator *l, const struct edi_delims *d,
		uint64_t off, unsigned long line, unsigned long segno,
		unsigned e, unsigned r, unsigned c, struct src_loc *loc);

/* Which iconv charset an EDIFACT syntax identifier (UNB01:1) decodes as.
 * Returns NULL for an unknown identifier. The table (edi.c):
 *	UNOA, UNOB        ASCII subset (ISO 646); bytes >= 0x80 are an error
 *	                  of the partner: kept if valid UTF-8, else Latin-1,
 *	                  with a warning either way
 *	UNOC ISO-8859-1   UNOD ISO-8859-2   UNOE ISO-8859-5   UNOF ISO-8859-7
 *	UNOG ISO-8859-3   UNOH ISO-8859-4   UNOI ISO-8859-6   UNOJ ISO-8859-8
 *	UNOK ISO-8859-9   UNOL ISO-8859-15  UNOM ISO-8859-10 (not in the
 *	                  standard's list everywhere; accepted)
 *	UNOW, UNOY        UTF-8 (ISO 10646-1), validated
 *	UNOX              ISO 2022 code extension: not decoded (stateful
 *	                  escapes cannot be converted value by value); bytes
 *	                  passed through with a warning if non-ASCII
 *	KECA              EUC-KR
 * *utf8 is set when the source is UTF-8 (or treated as such). */
const char *edi_charset_iconv(const char *syntax_id, int *utf8);

#endif
