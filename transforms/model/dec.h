/* dec.h - exact decimal numbers for quantities and prices.
 *
 * Quantities and prices never go through double: 0.1 + 0.2 must stay 0.3 and
 * a 13-digit EAN-sized count must not lose its last digit. A dec is a signed
 * 64-bit count of millionths (DEC_SCALE), which covers +/- 9.2 trillion units
 * with six decimals, more than any stock or price field needs.
 */
#ifndef STOCKPIPE_DEC_H
#define STOCKPIPE_DEC_H

#include <stddef.h>
#include <stdint.h>

#define DEC_DIGITS 6
#define DEC_SCALE INT64_C(1000000)

typedef int64_t dec;

/* Parses [+-]digits[.digits] with optional surrounding blanks. decimal_mark
 * is '.' or ','; a thousands separator is never accepted (ambiguous).
 * implied > 0 divides by 10^implied (X12 N2 style: "1250" -> 12.50).
 * Returns 0, or -1 when the text is not a number, has more than DEC_DIGITS
 * decimals that are not zero, or overflows. */
int dec_parse(const char *s, size_t n, char decimal_mark, int implied,
	      dec *out);
/* Writes the shortest exact text ("12", "12.5", "-0.25") into out, which
 * needs 24 bytes. Returns the length. */
size_t dec_format(dec v, char *out);
/* Saturating add/multiply helpers return -1 on overflow. */
int dec_add(dec a, dec b, dec *out);
int dec_mul(dec a, dec b, dec *out);
/* Rounds toward negative infinity to a multiple of step (step > 0). */
dec dec_floor_to(dec v, dec step);

#define DEC_FROM_INT(i) ((dec)(i) * DEC_SCALE)

#endif
