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

/* Decodes the character at s (n >= 1 bytes left). Returns its length
 * (1..4) with the code point in *cp, or 0 when s does not start a
 * well-formed character (*cp untouched). */
size_t utf8_char(const unsigned char *s, size_t n, unsigned *cp);

/* Offset of the first byte of s[0..n) that does not begin a well-formed
 * character, n when all of it is UTF-8. A character cut by the end of the
 * buffer counts as bad: its lead byte's offset is returned. ASCII runs
 * are checked 8 bytes per step. */
size_t utf8_check(const unsigned char *s, size_t n);

#endif
