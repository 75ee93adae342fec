/* utf8.h - the one strict UTF-8 validator (Unicode 3.9, table 3-7).
 *
 * Well-formed means: no overlong forms (C0, C1, E0 80..9F, F0 80..8F), no
 * surrogates (ED A0..BF), nothing past U+10FFFF (F4 90.., F5..FF), no
 * stray continuation byte and no sequence cut short. Every reader and
 * writer that asks "is this UTF-8?" asks here, so the CSV reader, the
 * EDIFACT reader and the outbound writers agree on the answer.
 */
#ifndef STOCKPIPE_UTF8_H
#define STOCKPIPE_UTF8_H

#include <stddef.h>
#include <stdio.h>

/* Decodes the character at s (n >= 1 bytes left). Returns its length
 * (1..4) with the code point in *cp, or 0 when s does not start a
 * well-formed character (*cp untouched). */
size_t utf8_char(const unsigned char *s, size_t n, unsigned *cp);

/* Offset of the first byte of s[0..n) that does not begin a well-formed
 * character, n when all of it is UTF-8. A character cut by the end of the
 * buffer counts as bad: its lead byte's offset is returned. ASCII runs
 * are checked 8 bytes per step. */
size_t utf8_check(const unsigned char *s, size_t n);

/* Text for a terminal: writes s[0..n) to f with every byte that could
 * move the cursor, clear the screen or switch the terminal's state written
 * as \xNN instead: C0 controls (an ESC in a file name), DEL, C1 controls
 * (U+0080..U+009F, the 8-bit CSI) and every byte that is not part of a
 * well-formed UTF-8 character. Tab stays; newline stays when keep_nl
 * (a block of lines), else it is \x0a too. Text with nothing to escape is
 * written unchanged. Returns 0, or -1 when the write failed. */
int utf8_put_term(FILE *f, const char *s, size_t n, int keep_nl);
/* The same rule into out (size cap, NUL-terminated): returns the length
 * written; a result that would not fit is cut on an escape boundary and
 * ends in "..." (a message shown to a person, never data). */
size_t utf8_term_copy(char *out, size_t cap, const char *s, size_t n,
		      int keep_nl);

#endif
