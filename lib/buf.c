/* buf.c - see buf.h. */
#include "buf.h"
#include "utf8.h"
#include "err.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char buf_slop[1];

void buf_init(struct buf *b, size_t max)
{
	b->ptr = buf_slop;
	b->len = 0;
	b->cap = 0;
	b->max = max;
	b->err = 0;
}

int buf_grow(struct buf *b, size_t extra)
{
	size_t want, ncap;
	char *p;

	if (b->err)
		return -1;
	/* len + extra + 1 must not wrap around either. */
	if (extra > b->max || b->len > b->max - extra ||
	    b->len + extra == (size_t)-1) {
		b->err = E_TOOBIG;
		return -1;
	}
	want = b->len + extra + 1;
	if (want <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 64;
	while (ncap < want)
		ncap = ncap < ((size_t)-1) / 2 ? ncap * 2 : want;
	p = realloc(b->cap ? b->ptr : NULL, ncap);
	if (!p) {
		b->err = E_NOMEM;
		return -1;
	}
	if (!b->cap)
		p[0] = '\0';
	b->ptr = p;
	b->cap = ncap;
	return 0;
}

int buf_add(struct buf *b, const void *p, size_t n)
{
	/* Fits already (the usual case when a buffer is reused per row):
	 * no call to buf_grow. */
	if (n < b->cap - b->len && b->len <= b->max &&
	    n <= b->max - b->len && !b->err) {
		if (n)
			memcpy(b->ptr + b->len, p, n);
		b->len += n;
		b->ptr[b->len] = '\0';
		return 0;
	}
	if (buf_grow(b, n) < 0)
		return -1;
	if (n)
		memcpy(b->ptr + b->len, p, n);
	b->len += n;
	b->ptr[b->len] = '\0';
	return 0;
}

int buf_adds(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

int buf_addc(struct buf *b, char c)
{
	if (b->len + 1 < b->cap && b->len < b->max && !b->err) {
		b->ptr[b->len++] = c;
		b->ptr[b->len] = '\0';
		return 0;
	}
	return buf_add(b, &c, 1);
}

int buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->err)
		return -1;
	va_start(ap, fmt);
	n = vsnprintf(b->cap ? b->ptr + b->len : NULL,
		      b->cap ? b->cap - b->len : 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->err = E_INTERNAL;
		return -1;
	}
	if (b->cap && (size_t)n < b->cap - b->len) {
		if (b->len + (size_t)n > b->max) {
			b->ptr[b->len] = '\0';
			b->err = E_TOOBIG;
			return -1;
		}
		b->len += (size_t)n;
		return 0;
	}
	if (buf_grow(b, (size_t)n) < 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(b->ptr + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

/* Nonzero when one of the 8 bytes of w needs a JSON escape (< 0x20, '"'
 * or '\\'): the bit-twiddling "has a byte less than n" and "has a zero
 * byte" tests, exact as yes/no answers. */
/* U+FFFD REPLACEMENT CHARACTER, written for each byte that is not part of
 * a well-formed UTF-8 character: JSON output is always valid UTF-8. */
#define JSON_BAD_BYTE "\xEF\xBF\xBD"

static uint64_t json_special8(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101ULL;
	const uint64_t high = 0x8080808080808080ULL;
	uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');

	/* A byte >= 0x80 is special too: it must be checked as UTF-8. */
	return (((w - ones * 0x20) & ~w) | ((q - ones) & ~q) |
		((b - ones) & ~b) | w) &
	       high;
}

/* What a byte >= 0x80 at s becomes in a JSON string: a well-formed UTF-8
 * character is copied (returns its length, 2..4); a byte that does not
 * start one is written as U+FFFD (returns 1, adds 2 to *extra). */
static size_t utf8_span(const char *s, size_t n, size_t *extra)
{
	unsigned cp;
	size_t k = utf8_char((const unsigned char *)s, n, &cp);

	if (k)
		return k;
	*extra += 2;
	return 1;
}

size_t json_str_len(const char *s, size_t n)
{
	size_t i = 0, extra = 0;
	uint64_t w;

	/* Almost every value (SKUs, codes, numbers, times) needs no escape:
	 * look at 8 bytes per step until one might; the last step is the
	 * string's last 8 bytes (overlapping), so there is no tail. */
	if (n < 8) {
		/* A short value in one step: padded with spaces, which
		 * need no escape (zero bytes would look like controls). */
		w = 0x2020202020202020ULL;
		memcpy(&w, s, n);
		if (!json_special8(w))
			return n + 2;
	} else {
		while (i + 8 <= n) {
			memcpy(&w, s + i, 8);
			if (json_special8(w))
				break;
			i += 8;
		}
		if (i < n && i + 8 > n) {
			memcpy(&w, s + n - 8, 8);
			if (!json_special8(w))
				return n + 2;
		}
	}
	for (; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t')
			extra += 1;
		else if (c < 0x20)
			extra += 5;
		else if (c >= 0x80)
			i += utf8_span(s + i, n - i, &extra) - 1;
	}
	return n + extra + 2;
}

/* json_special8 for one byte. */
static int json_special1(unsigned char c)
{
	return c < 0x20 || c == '"' || c == '\\' || c >= 0x80;
}

char *json_str_put_plain(char *w, const char *s, size_t n)
{
	uint64_t x;
	uint32_t a, b;
	size_t i;

	*w++ = '"';
	if (n >= 8) {
		/* Checked and copied 8 bytes per step; the last word
		 * overlaps the one before, so there is no tail loop. */
		for (i = 0; i + 8 <= n; i += 8) {
			memcpy(&x, s + i, 8);
			if (json_special8(x))
				return NULL;
			memcpy(w + i, &x, 8);
		}
		memcpy(&x, s + n - 8, 8);
		if (json_special8(x))
			return NULL;
		memcpy(w + n - 8, &x, 8);
	} else if (n >= 4) {
		/* two overlapping 4-byte words, checked as one 8-byte word */
		memcpy(&a, s, 4);
		memcpy(&b, s + n - 4, 4);
		if (json_special8((uint64_t)a << 32 | b))
			return NULL;
		memcpy(w, &a, 4);
		memcpy(w + n - 4, &b, 4);
	} else {
		for (i = 0; i < n; i++) {
			if (json_special1((unsigned char)s[i]))
				return NULL;
			w[i] = s[i];
		}
	}
	w += n;
	*w++ = '"';
	return w;
}

char *json_str_put(char *w, const char *s, size_t n, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;
	unsigned cp;

	*w++ = '"';
	if (len == n + 2) {
		memcpy(w, s, n);
		w += n;
		*w++ = '"';
		return w;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x80) {
			size_t k = utf8_char((const unsigned char *)s + i,
					     n - i, &cp);

			if (k) {
				memcpy(w, s + i, k);
				w += k;
				i += k - 1;
			} else {
				memcpy(w, JSON_BAD_BYTE, 3);
				w += 3;
			}
			continue;
		}
		if (c >= 0x20 && c != '"' && c != '\\') {
			*w++ = (char)c;
			continue;
		}
		*w++ = '\\';
		switch (c) {
		case '"': *w++ = '"'; break;
		case '\\': *w++ = '\\'; break;
		case '\n': *w++ = 'n'; break;
		case '\r': *w++ = 'r'; break;
		case '\t': *w++ = 't'; break;
		default:
			memcpy(w, "u00", 3);
			w[3] = hex[c >> 4];
			w[4] = hex[c & 15];
			w += 5;
		}
	}
	*w++ = '"';
	return w;
}

size_t json_str_fit(const char *s, size_t n, size_t room)
{
	size_t o = 0, i;

	size_t k, extra;

	for (i = 0; i < n && o + 7 < room;) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t')
			k = 1, o += 2;
		else if (c < 0x20)
			k = 1, o += 6;
		else if (c < 0x80)
			k = 1, o += 1;
		else {
			extra = 0;
			k = utf8_span(s + i, n - i, &extra);
			o += k + extra;
		}
		i += k;
	}
	if (i == n)
		return i;
	/* Cut: drop the last character too, so a cut line visibly ends
	 * early and never inside one (the loop stops on a boundary). */
	if (i > 0 && ((unsigned char)s[i - 1] & 0x80)) {
		while (i > 0 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
			i--;
		if (i > 0 && ((unsigned char)s[i - 1] & 0xC0) == 0xC0)
			i--;
	}
	return i;
}

int buf_add_json_str(struct buf *b, const char *s, size_t n)
{
	size_t len = json_str_len(s, n);

	if (buf_grow(b, len) < 0)
		return -1;
	json_str_put(b->ptr + b->len, s, n, len);
	b->len += len;
	b->ptr[b->len] = '\0';
	return 0;
}

void buf_setlen(struct buf *b, size_t len)
{
	if (!b->cap)
		return;
	b->len = len < b->cap ? len : b->cap - 1;
	b->ptr[b->len] = '\0';
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	b->err = 0;
	if (b->cap)
		b->ptr[0] = '\0';
}

void buf_release(struct buf *b)
{
	if (b->cap)
		free(b->ptr);
	buf_init(b, b->max);
}

char *buf_detach(struct buf *b, size_t *len)
{
	char *p;

	if (!b->cap) {
		p = malloc(1);
		if (p)
			p[0] = '\0';
	} else {
		p = b->ptr;
	}
	if (len)
		*len = b->len;
	buf_init(b, b->max);
	return p;
}

int alloc_grow(void *pp, size_t elem, size_t nr, size_t *alloc)
{
	size_t n = *alloc ? *alloc : 8;
	void *p, *np;

	while (n < nr) {
		if (n > SIZE_MAX / 2)
			return -1;
		n *= 2;
	}
	if (elem && n > SIZE_MAX / elem)
		return -1;
	/* The array pointer is copied, not cast through void **: its
	 * type is the caller's (struct x *), and memcpy may alias it. */
	memcpy(&p, pp, sizeof(p));
	if (!(np = realloc(p, n * elem)))
		return -1;
	memcpy(pp, &np, sizeof(np));
	*alloc = n;
	return 0;
}

size_t str_ulong(char out[21], unsigned long v)
{
	/* Two digits per division, written from the end: a line number
	 * per record and the record numbers of txn_ids went through here. */
	static const char d2[] =
		"00010203040506070809101112131415161718192021222324"
		"25262728293031323334353637383940414243444546474849"
		"50515253545556575859606162636465666768697071727374"
		"75767778798081828384858687888990919293949596979899";
	unsigned long p = 10;
	size_t n = 1, i;

	/* The length by comparisons with powers of ten (a multiply by ten
	 * is one lea), not by dividing v down: a chain of dependent
	 * divisions that cost as much as writing the digits. 20 digits
	 * at most; the last p *= 10 may wrap and is not read. */
	while (n < 20 && v >= p) {
		p *= 10;
		n++;
	}
	out[n] = '\0';
	i = n;
	while (v >= 100) {
		unsigned long r = v % 100;

		v /= 100;
		i -= 2;
		memcpy(out + i, d2 + 2 * r, 2);
	}
	if (v >= 10) {
		memcpy(out, d2 + 2 * v, 2);
	} else {
		out[0] = (char)('0' + v);
	}
	return n;
}

size_t str_ulong_memo(struct str_ulong_memo *m, unsigned long v)
{
	size_t i;

	if (m->n && v == m->v)
		return m->n;
	if (m->n && v > m->v && v - m->v <= 9) {
		/* + d (1-9: an X12 852's records are every third line): d
		 * goes on the last digit, a carry on the ones before it,
		 * or a 1 goes in front (v fits, so n < 20) */
		unsigned carry = (unsigned)(v - m->v);

		for (i = m->n; i > 0 && carry; i--) {
			unsigned d = (unsigned)(m->s[i - 1] - '0') + carry;

			carry = d >= 10;
			m->s[i - 1] = (char)('0' + (carry ? d - 10 : d));
		}
		if (carry) {
			memmove(m->s + 1, m->s, m->n + 1);
			m->s[0] = '1';
			m->n++;
		}
		m->v = v;
		return m->n;
	}
	m->n = str_ulong(m->s, v);
	m->v = v;
	return m->n;
}

int str_copy(char *dst, size_t n, const char *src)
{
	size_t len = strlen(src);

	if (!n)
		return -1;
	if (len >= n) {
		memcpy(dst, src, n - 1);
		dst[n - 1] = '\0';
		return -1;
	}
	memcpy(dst, src, len + 1);
	return 0;
}

void str_copy_cut(char *dst, size_t n, const char *src)
{
	size_t len = strlen(src);

	if (!n)
		return;
	if (len >= n)
		len = n - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}
