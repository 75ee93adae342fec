/* buf.h - growable byte buffer with a mandatory size cap.
 *
 * Shape of git's strbuf with curl dynbuf's cap and SQLite's sticky error:
 * ptr is never NULL and always NUL-terminated; once an append fails (out of
 * memory, or it would pass max) b->err is set, later appends do nothing and
 * the caller checks once. Every buffer that holds untrusted input gets its
 * max from configuration, which is how line, field and segment sizes are
 * bounded.
 */
#ifndef STOCKPIPE_BUF_H
#define STOCKPIPE_BUF_H

#include <stddef.h>

extern char buf_slop[1];

struct buf {
	char *ptr;   /* contents, NUL-terminated; buf_slop when nothing allocated */
	size_t len;  /* bytes used, excluding the NUL */
	size_t cap;  /* bytes allocated (0 while ptr == buf_slop) */
	size_t max;  /* hard cap on len; appends past it set err */
	int err;     /* 0, E_NOMEM or E_TOOBIG (enum err_code) */
};

#define BUF_INIT(maxlen) { buf_slop, 0, 0, (maxlen), 0 }

void buf_init(struct buf *b, size_t max);
/* Ensures room for extra more bytes plus the NUL. Returns 0 or -1 (err set). */
int buf_grow(struct buf *b, size_t extra);
int buf_add(struct buf *b, const void *p, size_t n);
int buf_adds(struct buf *b, const char *s);
int buf_addc(struct buf *b, char c);
int buf_addf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Appends s as a JSON string literal, quotes included. The literal is
 * always valid UTF-8: each byte of s that does not begin a well-formed
 * UTF-8 character (lib/utf8.h: overlongs, surrogates, > U+10FFFF, stray
 * or cut bytes) is written as U+FFFD, one U+FFFD per byte; control
 * characters are escaped (\n, \u001b). */
int buf_add_json_str(struct buf *b, const char *s, size_t n);
/* The same in two steps, for writers that reserve a whole line at once:
 * the length of s as a JSON string literal (quotes included), then the
 * literal written at w (room for len = json_str_len(s, n) bytes, no NUL
 * added); returns the end. */
size_t json_str_len(const char *s, size_t n);
char *json_str_put(char *w, const char *s, size_t n, size_t len);
/* The one-pass form for text that almost never needs a look: writes s
 * as a JSON string literal at w (room for n + 2 bytes) and returns the
 * end, or returns NULL (what was written is garbage) when a byte might
 * need an escape or is >= 0x80; the caller then uses the two steps. */
char *json_str_put_plain(char *w, const char *s, size_t n);
/* For a fixed-size line (the log): how many bytes of s to escape so the
 * string body surely fits room bytes. It stops once fewer than 7 bytes
 * would be left (the longest escape, \u00XX, plus a NUL); when it cuts,
 * it also drops the last, possibly partial, UTF-8 character so the line
 * never ends inside one. */
size_t json_str_fit(const char *s, size_t n, size_t room);
/* Sets len after writing directly into ptr (len must be <= cap). */
void buf_setlen(struct buf *b, size_t len);
/* len = 0 and err cleared; memory kept for reuse. */
void buf_reset(struct buf *b);
/* Frees the memory; back to the BUF_INIT state with the same max. */
void buf_release(struct buf *b);
/* Hands the memory to the caller, who frees it with free(). Never NULL
 * unless allocation fails. The buffer is left released. */
char *buf_detach(struct buf *b, size_t *len);

/* ALLOC_GROW(p, nr, alloc): makes the array p (alloc elements allocated,
 * a size_t) hold at least nr elements, git's shape. Grows by doubling
 * (at least 8); evaluates to 0, or -1 when memory is short or the size
 * would overflow, p and alloc then left as they were (the caller reports
 * E_NOMEM; nothing exits). */
#define ALLOC_GROW(p, nr, alloc) \
	((size_t)(nr) <= (alloc) ? 0 \
				 : alloc_grow(&(p), sizeof(*(p)), (nr), &(alloc)))
/* The function behind ALLOC_GROW: pp is the address of the array
 * pointer. */
int alloc_grow(void *pp, size_t elem, size_t nr, size_t *alloc);

/* Writes v in decimal into out (NUL-terminated) and returns its length:
 * what snprintf(out, 21, "%lu", v) gives, without the format parsing,
 * for per-record counters (line numbers, row indexes). */
size_t str_ulong(char out[21], unsigned long v);

/* The text of the last number str_ulong_memo() wrote. Zero it before the
 * first use. */
struct str_ulong_memo {
	unsigned long v;
	size_t n;               /* 0: nothing yet */
	char s[21];
};

/* m->s becomes v's decimal text (NUL-terminated), as str_ulong writes
 * it; returns its length. A number up to 9 above the last (a counter,
 * the line of every third segment) is the last text added to in place,
 * the same number again is kept: a line number per record costs a few
 * compares, not a division per two digits. */
size_t str_ulong_memo(struct str_ulong_memo *m, unsigned long v);

/* Copies src into dst of size n. Returns 0, or -1 when src does not fit
 * (dst then holds a truncated copy): callers decide, nothing is silently
 * cut. */
int str_copy(char *dst, size_t n, const char *src)
	__attribute__((warn_unused_result));
/* The same for text where a cut copy is what the caller wants (a message
 * or a report cell shown to a person, with a bounded field): the name says
 * it truncates on purpose, so no result to check. */
void str_copy_cut(char *dst, size_t n, const char *src);

#endif
