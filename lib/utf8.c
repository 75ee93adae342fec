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
	const uint64_t high = 0x8080808080808080ULL;
	size_t i = 0, k;
	unsigned cp;
	uint64_t w;
	uint32_t a, b;

	/* All ASCII, the usual case for a field value, in whole words: the
	 * last word overlaps the one before, and 4..7 bytes are two
	 * overlapping 4-byte words, so a short value costs no byte loop. */
	if (n >= 8) {
		while (i + 8 <= n) {
			memcpy(&w, s + i, 8);
			if (w & high)
				break;
			i += 8;
		}
		if (i + 8 > n) {
			if (i == n)
				return n;
			memcpy(&w, s + n - 8, 8);
			if (!(w & high))
				return n;
		}
	} else if (n >= 4) {
		memcpy(&a, s, 4);
		memcpy(&b, s + n - 4, 4);
		if (!((a | b) & (uint32_t)high))
			return n;
	}
	while (i < n) {
		if (i + 8 <= n) {
			memcpy(&w, s + i, 8);
			if (!(w & high)) {
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

/* Bytes of s[i..] to show as they are (0 when s[i] must be escaped). */
static size_t term_plain(const unsigned char *s, size_t n, size_t i,
			 int keep_nl)
{
	unsigned cp;
	size_t k;

	if (s[i] == '\t' || (keep_nl && s[i] == '\n'))
		return 1;
	if (s[i] < 0x20 || s[i] == 0x7F)
		return 0;
	if (s[i] < 0x80)
		return 1;
	k = utf8_char(s + i, n - i, &cp);
	return cp >= 0x80 && cp <= 0x9F ? 0 : k;
}

size_t utf8_term_copy(char *out, size_t cap, const char *s, size_t n,
		      int keep_nl)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, o = 0, k;

	if (!cap)
		return 0;
	while (i < n) {
		k = term_plain(u, n, i, keep_nl);
		if (o + (k ? k : 4) + 4 > cap) {
			/* Cut visibly: room for "..." and the NUL is kept
			 * by the + 4 above. */
			memcpy(out + o, "...", cap - o >= 4 ? 3 : 0);
			o += cap - o >= 4 ? 3 : 0;
			break;
		}
		if (k) {
			memcpy(out + o, s + i, k);
			o += k;
			i += k;
			continue;
		}
		out[o++] = '\\';
		out[o++] = 'x';
		out[o++] = hex[u[i] >> 4];
		out[o++] = hex[u[i] & 15];
		i++;
	}
	out[o] = '\0';
	return o;
}

int utf8_put_term(FILE *f, const char *s, size_t n, int keep_nl)
{
	const unsigned char *u = (const unsigned char *)s;
	char esc[5];
	size_t i = 0, k, run = 0;

	while (i < n) {
		k = term_plain(u, n, i, keep_nl);
		if (k) {
			i += k;
			continue;
		}
		/* Flush the plain run before the byte, then its escape. */
		if (i > run && fwrite(s + run, 1, i - run, f) != i - run)
			return -1;
		snprintf(esc, sizeof(esc), "\\x%02x", u[i]);
		if (fputs(esc, f) == EOF)
			return -1;
		run = ++i;
	}
	if (n > run && fwrite(s + run, 1, n - run, f) != n - run)
		return -1;
	return 0;
}
