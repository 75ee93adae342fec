/* utf8.c - see utf8.h. */
#include "utf8.h"

#include <stdint.h>
#include <string.h>

size_t utf8_char(const unsigned char *s, size_t n, unsigned *cp)
{
	unsigned c = s[0], lo = 0x80, hi = 0xBF;
	size_t k, i;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF)
		k = 2, c &= 0x1F;
	else if (c >= 0xE0 && c <= 0xEF)
		k = 3, c &= 0x0F;
	else if (c >= 0xF0 && c <= 0xF4)
		k = 4, c &= 0x07;
	else
		return 0;
	/* The second byte's range is what rules out overlongs, surrogates
	 * and code points past U+10FFFF (table 3-7). */
	if (s[0] == 0xE0)
		lo = 0xA0;
	else if (s[0] == 0xED)
		hi = 0x9F;
	else if (s[0] == 0xF0)
		lo = 0x90;
	else if (s[0] == 0xF4)
		hi = 0x8F;
	if (n < k || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 1; i < k; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3F);
	}
	*cp = c;
	return k;
}

size_t utf8_check(const unsigned char *s, size_t n)
{
	size_t i = 0, k;
	unsigned cp;

	while (i < n) {
		if (i + 8 <= n) {
			uint64_t w;

			memcpy(&w, s + i, 8);
			if (!(w & 0x8080808080808080ULL)) {
				i += 8;
				continue;
			}
		}
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if (!(k = utf8_char(s + i, n - i, &cp)))
			return i;
		i += k;
	}
	return i;
}
