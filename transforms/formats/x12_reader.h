/* x12_reader.h - streaming ANSI X12 reader with envelope validation.
 *
 * Reads a descriptor through a fixed 64 KiB buffer and hands out events
 * (see edi.h): segments, issues, and the ends of transaction sets, groups
 * and interchanges. Memory is bounded by opts.max_segment, whatever the
 * file size; nothing is allocated per segment.
 *
 * Delimiters come from each ISA as X12.5 defines them: the element
 * separator is the 4th byte, the component separator is ISA16 and the
 * segment terminator is the byte after ISA16. ISA11 is the repetition
 * separator only from version 00402 on (ISA12 >= "00402") and only when it
 * is not a letter, digit or space; before that it is the standards
 * identifier ('U'). Every ISA brings its own delimiters, so several
 * interchanges with different ones can follow each other. Tolerated: a
 * UTF-8 BOM and whitespace before the ISA, CR/LF (and spaces) after a
 * terminator, CR/LF inside a segment or the ISA when they are not
 * delimiters (dropped, with a warning: hard-wrapped files), a terminator
 * that is one UTF-8 character ('Ö'), EBCDIC (CP037) files (translated to
 * Latin-1 before scanning), and the UCS/DEX envelope DXS/DXE instead of
 * ISA/GS (ST/SE directly inside).
 *
 * Checked, each reported as an ISSUE event with its location:
 *	ISA fixed widths and delimiters (bad ISA; an ISA whose terminator
 *	  cannot be found is unreadable and the reader skips to the next ISA)
 *	ISA16 missing ("...*P*~" followed by lines ending in '~': the '~' is
 *	  taken as terminator, reported as a bad ISA)
 *	IEA01 = number of groups, IEA02 = ISA13
 *	GE01 = number of sets, GE02 = GS06
 *	SE01 = number of segments ST..SE, SE02 = ST02
 *	DXE01 = DXS04, DXE02 = number of sets
 *	missing SE/GE/IEA (at the next header or the end of data), trailers
 *	  without header, segments outside a set (TA1/ISB/ISE are allowed
 *	  between ISA and GS), bad segment tags, data outside interchanges
 *	  (the reader resynchronises at the next ISA), a file with no
 *	  interchange at all
 * Control numbers that differ only in zero padding ("3438" vs
 * "000003438") are a warning, not an error.
 *
 * The reader does not check element syntax (dates, code lists) nor
 * segment order inside a set: that is the mapping's business.
 */
#ifndef STOCKPIPE_X12_READER_H
#define STOCKPIPE_X12_READER_H

#include "lib/err.h"
#include "edi.h"

struct x12_reader;

/* Opens a reader on fd (borrowed: not closed by the reader; it reads from
 * the current position). name is used in messages and borrowed for the
 * reader's lifetime. opts may be NULL for the defaults. Returns 0, or -1
 * with err (E_NOMEM, E_CONFIG, E_IO). */
int x12_reader_open_fd(struct x12_reader **out, int fd, const char *name,
		       const struct edi_opts *opts, struct err *err);

/* Next event into *ev (valid until the next call). Returns 1 with an
 * event, 0 at the end (after all end events), or -1 with err when the
 * file cannot be read further: E_IO, E_NOMEM, or E_TOOBIG for a segment
 * past opts.max_segment (the reason names the segment number). Envelope
 * problems are not failures: they come as EDI_EV_ISSUE events. */
int x12_reader_next(struct x12_reader *r, struct edi_event *ev,
		    struct err *err);

/* The live context (current interchange, group, set). */
const struct edi_ctx *x12_reader_ctx(const struct x12_reader *r);

/* Totals so far: issues and errors (warnings = issues - errors);
 * interchanges, groups and sets seen. Any pointer may be NULL. */
void x12_reader_stats(const struct x12_reader *r, unsigned long *nissues,
		      unsigned long *nerrors, unsigned long *nic,
		      unsigned long *ngroups, unsigned long *nsets);

/* 1 once a NUL byte was among the bytes read (anywhere in the file so
 * far, even between segments); 0 while none was: then no value of a
 * segment or context handed out so far holds one, so a value's length
 * is its strlen (the mapping's nul_free). */
int x12_reader_nul_seen(const struct x12_reader *r);

void x12_reader_free(struct x12_reader *r);

#endif
