/* dec.c - see dec.h. */
#include "dec.h"

#include <string.h>

int dec_parse(const char *s, size_t n, char decimal_mark, int implied,
	      dec *out)
{
	const char *p = s, *end = s + n;
	int neg = 0, digits = 0, frac = -1;
	uint64_t v = 0;
	int i;

	/* An optional minus and 1-12 digits, nothing else (a count, a
	 * rule's constant): the value at once, the same as below. A
	 * quantity is parsed by decimal() and again by a rule reading it. */
	if (!implied && n && n <= 13) {
		size_t k = *p == '-';

		if (k < n && n - k <= 12) {
			for (; k < n && (unsigned)(s[k] - '0') <= 9; k++)
				v = v * 10 + (uint64_t)(s[k] - '0');
			if (k == n) {
				*out = (*p == '-' ? -(dec)v : (dec)v) * DEC_SCALE;
				return 0;
			}
			v = 0;
		}
	}
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (p < end && (*p == '+' || *p == '-'))
		neg = *p++ == '-';
	for (; p < end; p++) {
		if (*p >= '0' && *p <= '9') {
			if (frac >= 0 && frac >= DEC_DIGITS) {
				/* Extra decimals are allowed only when zero. */
				if (*p != '0')
					return -1;
				digits++;
				continue;
			}
			if (v > (UINT64_MAX - 9) / 10)
				return -1;
			v = v * 10 + (uint64_t)(*p - '0');
			digits++;
			if (frac >= 0)
				frac++;
		} else if (*p == decimal_mark && frac < 0) {
			frac = 0;
		} else {
			return -1;
		}
	}
	if (!digits)
		return -1;
	if (frac < 0)
		frac = 0;
	frac += implied;
	/* Scale up to DEC_DIGITS decimals in one step (v * 10^k fits
	 * exactly when v <= UINT64_MAX / 10^k, as it did ten at a time),
	 * or down if implied pushed past. */
	if (frac >= 0 && frac < DEC_DIGITS) {
		static const uint64_t p10[] = {1, 10, 100, 1000, 10000,
					       100000, 1000000, 10000000,
					       100000000, 1000000000};
		int k = DEC_DIGITS - frac;

		_Static_assert(DEC_DIGITS < 10, "p10 covers DEC_DIGITS");
		if (v > UINT64_MAX / p10[k])
			return -1;
		v *= p10[k];
	}
	for (i = frac; i < DEC_DIGITS && frac < 0; i++) {
		if (v > UINT64_MAX / 10)
			return -1;
		v *= 10;
	}
	for (i = frac; i > DEC_DIGITS; i--) {
		if (v % 10)
			return -1;
		v /= 10;
	}
	if (v > (uint64_t)INT64_MAX)
		return -1;
	*out = neg ? -(dec)v : (dec)v;
	return 0;
}

size_t dec_format(dec v, char *out)
{
	char tmp[32];
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	uint64_t ip = u / (uint64_t)DEC_SCALE, fp = u % (uint64_t)DEC_SCALE;
	size_t n = 0, len = 0;
	int i, last;
	char fd[DEC_DIGITS];

	if (v < 0)
		out[len++] = '-';
	do {
		tmp[n++] = (char)('0' + ip % 10);
		ip /= 10;
	} while (ip);
	while (n)
		out[len++] = tmp[--n];
	if (fp) {
		for (i = DEC_DIGITS - 1; i >= 0; i--) {
			fd[i] = (char)('0' + fp % 10);
			fp /= 10;
		}
		last = DEC_DIGITS - 1;
		while (fd[last] == '0')
			last--;
		out[len++] = '.';
		memcpy(out + len, fd, (size_t)last + 1);
		len += (size_t)last + 1;
	}
	out[len] = '\0';
	return len;
}

int dec_add(dec a, dec b, dec *out)
{
	if (__builtin_add_overflow(a, b, out))
		return -1;
	return 0;
}

int dec_mul(dec a, dec b, dec *out)
{
	__int128 r = (__int128)a * b / DEC_SCALE;

	if (r > INT64_MAX || r < INT64_MIN)
		return -1;
	*out = (dec)r;
	return 0;
}

dec dec_floor_to(dec v, dec step)
{
	dec r;

	if (step <= 0)
		return v;
	r = v % step;
	if (r < 0)
		r += step;
	return v - r;
}
