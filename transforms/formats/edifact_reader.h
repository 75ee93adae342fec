/* edifact_reader.h - streaming UN/EDIFACT reader with envelope validation.
 *
 * Same model as x12_reader.h: a fixed read buffer, one reusable segment
 * buffer bounded by opts.max_segment, events as described in edi.h.
 *
 * Delimiters: a UNA service string advice ("UNA:+.? '": component,
 * element, decimal mark, release, repetition, terminator) applies to the
 * interchange that follows it; an interchange without UNA gets the
 * defaults : + . ? and ' whatever an earlier interchange in the file used.
 * The repetition separator exists only in syntax version 4 (UNB01:2 = 4):
 * the UNA's 5th character, or '*' without UNA; in versions 1-3 that
 * position is reserved and ignored. The release character makes the next
 * byte data (?' ?+ ?: ?? ?*); values are delivered unescaped. Line breaks
 * that are not the terminator are dropped (wrapped lines: one warning per
 * interchange); CR/LF and spaces after a terminator are skipped.
 *
 * Character sets: values are converted from the UNB syntax identifier's
 * charset to UTF-8 (table in edi.h, edi_charset_iconv(); the 8-bit sets go
 * through a 256-entry table built once with iconv). UNOA/UNOB data with
 * bytes >= 0x80 gets a warning (kept when valid UTF-8, read as Latin-1
 * otherwise); so do bytes invalid in the declared set (replaced by
 * U+FFFD) and an unknown identifier (bytes passed through).
 *
 * Checked, as ISSUE events with location: UNA syntax, UNZ01 = number of
 * groups (or of messages without groups), UNZ02 = UNB05, UNE01 = number
 * of messages, UNE02 = UNG05, UNT01 = number of segments UNH..UNT, UNT02
 * = UNH01, missing UNT/UNE/UNZ, a message without UNB (reported, then
 * read as an interchange of its own), segments outside messages, data
 * outside interchanges (resynchronised at the next UNA/UNB/UNH), a
 * segment running to the end of the data, a file with no interchange.
 */
#ifndef STOCKPIPE_EDIFACT_READER_H
#define STOCKPIPE_EDIFACT_READER_H

#include "lib/err.h"
#include "edi.h"

struct edifact_reader;

/* As x12_reader_open_fd(). */
int edifact_reader_open_fd(struct edifact_reader **out, int fd,
			   const char *name, const struct edi_opts *opts,
			   struct err *err);
/* As x12_reader_next(). */
int edifact_reader_next(struct edifact_reader *r, struct edi_event *ev,
			struct err *err);
const struct edi_ctx *edifact_reader_ctx(const struct edifact_reader *r);
void edifact_reader_stats(const struct edifact_reader *r,
			  unsigned long *nissues, unsigned long *nerrors,
			  unsigned long *nic, unsigned long *ngroups,
			  unsigned long *nsets);
/* 1 once a NUL byte was among the bytes read (anywhere in the file so
 * far, even between segments); 0 while none was: then no value of a
 * segment or context handed out so far holds one, so a value's length
 * is its strlen (the mapping's nul_free). */
int edifact_reader_nul_seen(const struct edifact_reader *r);

void edifact_reader_free(struct edifact_reader *r);

#endif
