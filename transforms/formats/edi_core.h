/* edi_core.h - the byte scanner and event queue shared by x12_reader.c and
 * edifact_reader.c. Private to those two files; consumers use edi.h.
 *
 * The scanner reads the descriptor through one fixed buffer (EDI_RBUF
 * bytes) and tokenizes a segment into c->sb, driven by a 256-entry class
 * table built from the interchange's delimiters. With SSE2 (x86-64) it
 * looks at 16 bytes per step: one compare per delimiter, CR and LF gives
 * a bit mask of the block's special bytes; the block is copied to sb as
 * it is and each separator in the mask becomes the NUL that ends a
 * token. A segment that lies in the buffer with no release character or
 * CR/LF inside takes only that path (read_fast in edi.c); the rest goes
 * byte by byte through the class table, which is also the whole
 * tokenizer without SSE2. Nothing is allocated per segment: the token
 * arrays grow by doubling up to a bound derived from max_segment, so a
 * steady state allocates nothing.
 */
#ifndef STOCKPIPE_EDI_CORE_H
#define STOCKPIPE_EDI_CORE_H

#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"
#include "lib/io.h"
#include "edi.h"

#define EDI_RBUF (64 * 1024)
#define EDI_QMAX 32
/* Bytes allocated after sb[smax]: core_seg_end() reads the tag as one
 * 8-byte word, whatever smax is. */
#define EDI_SB_SLACK 16
/* Bytes a tokenizer block looks at (SSE2 register). */
#define EDI_BLOCK 16

/* Byte classes while inside a segment. */
enum {
	C_DATA = 0,
	C_NOTE,   /* data that needs a look after the segment (>= 0x80, ...) */
	C_ELEM,
	C_COMP,
	C_REP,
	C_TERM,
	C_REL,
	C_NL      /* CR/LF that is no delimiter: dropped (wrapped lines) */
};

/* A tag as a number, for cheap comparisons: EDI_TAG("GS"). */
#define EDI_TAG(s)                                                        \
	((uint32_t)(unsigned char)(s)[0] |                                 \
	 (uint32_t)(unsigned char)(s)[1] << 8 |                            \
	 (uint32_t)(unsigned char)(s)[2] << 16)

struct edi_qslot {
	struct edi_event ev;
	struct edi_issue issue;
	struct edi_ctx ctx;
};

struct edi_core {
	int fd;
	const char *name;              /* borrowed, for messages */
	struct edi_opts opts;
	/* input */
	unsigned char *rb;             /* EDI_RBUF bytes */
	size_t rlen, rpos;
	int eof;
	uint64_t roff;                 /* file offset of rb[0] */
	unsigned long line;            /* current physical line */
	int ebcdic;                    /* translate input CP037 -> Latin-1 */
	unsigned char xlat[256];
	/* classes */
	unsigned char cls[256];
	/* The bytes whose class is neither C_DATA nor C_NOTE (delimiters,
	 * CR, LF), padded by repetition to EDI_NSPEC: what the block scan
	 * compares against. */
#define EDI_NSPEC 8
	unsigned char spec[EDI_NSPEC];
	/* spec[i] repeated over EDI_BLOCK bytes: the compare operands */
	_Alignas(16) unsigned char specv[EDI_NSPEC][EDI_BLOCK];
	unsigned char ws[256];         /* 1 skipped between segments,
					* 2 junk (NUL, ^Z) */
	/* segment being built */
	struct edi_seg seg;
	char *sb;                      /* max_segment + 1 bytes */
	size_t slen, smax;
	struct edi_tok *tok;
	uint32_t *ef;                  /* elem_first */
	size_t ntok, tokcap, tokmax;
	unsigned cur_elem, cur_rep, cur_comp;
	int in_rel;
	int seg_wrapped;               /* a CR/LF was dropped */
	int seg_note;                  /* a C_NOTE byte was seen */
	unsigned long seg_line;
	uint64_t seg_off;
	uint32_t tag_code;             /* EDI_TAG(seg.tag); 0 if longer */
	/* interchange hash */
	int hashing;
	size_t hash_from;
	uint64_t hash_bytes;
	struct sha256 sha;
	/* events */
	struct edi_qslot *q;           /* EDI_QMAX */
	unsigned qhead, qlen;
	unsigned long ndropped;        /* issues that did not fit the queue */
	struct edi_ctx ctx;
	unsigned long nissues, nerrors;
	int junk;                      /* NUL/^Z seen between segments */
	/* A NUL byte was among the bytes read so far (after the EBCDIC
	 * translation), anywhere: between segments or inside a value.
	 * Until it is set no value handed out holds one (edi.h,
	 * edi_nul_seen). */
	int nul_seen;
	int done;
};

int core_init(struct edi_core *c, int fd, const char *name,
	      const struct edi_opts *o, struct err *err);
void core_release(struct edi_core *c);

/* Makes at least need bytes available at rb + rpos unless the input ends
 * first. Returns the number available, or -1 (E_IO). */
long core_fill(struct edi_core *c, size_t need, struct err *err);
/* Skips whitespace between segments. Returns 1 when a byte is available
 * at rb + rpos, 0 at end of input, -1 on error. */
int core_skip_ws(struct edi_core *c, struct err *err);
/* core_skip_ws() for the two common cases inline: the next segment
 * starts at once, or after one LF (a segment per line). The call and
 * its loop were ~45 Ir per segment. */
static inline int core_skip_ws_inline(struct edi_core *c, struct err *err)
{
	if (c->rlen - c->rpos >= 2) {
		unsigned char b = c->rb[c->rpos];

		if (!c->ws[b])
			return 1;
		if (b == '\n' && c->ws['\n'] == 1 &&
		    !c->ws[c->rb[c->rpos + 1]]) {
			c->line++;
			c->rpos++;
			return 1;
		}
	}
	return core_skip_ws(c, err);
}
/* Consumes one byte; returns it or -1 at end of input (-2 on error). */
int core_getc(struct edi_core *c, struct err *err);

/* Resets the class tables for new delimiters (ws keeps space, tab, CR,
 * LF; extra bytes can be added by the caller). */
void core_set_delims(struct edi_core *c, const struct edi_delims *d);

/* Starts a segment at the current position. */
void core_seg_begin(struct edi_core *c);
/* Tokenizes bytes [p, end) of memory into the current segment (used for
 * the ISA, which is read raw first). Returns 1 at a terminator, 0 when
 * more is needed, -1 when the segment is too long. */
int core_seg_feed(struct edi_core *c, const unsigned char **pp,
		  const unsigned char *end);
/* The block scan of core_seg_feed() on its own, for tests: the number
 * of leading bytes of p[0..n) whose class is C_DATA or C_NOTE (stopping
 * at the first other byte), with *note set when one of them is C_NOTE.
 * Uses SSE2 when the build has it, else the class table; both give the
 * same answer. */
size_t core_scan_data(const struct edi_core *c, const unsigned char *p,
		      size_t n, int *note);
size_t core_scan_data_portable(const struct edi_core *c,
			       const unsigned char *p, size_t n, int *note);
/* Closes the segment (fills c->seg). */
void core_seg_end(struct edi_core *c, int truncated);
/* Reads one segment from the input with the current classes. Returns 1
 * complete, 2 cut off by the end of the input, -1 error (E_TOOBIG names
 * the segment number, E_IO). */
int core_read_segment(struct edi_core *c, struct err *err);
/* Drops the last token when it is an empty component (a delimiter that
 * turned out to be the terminator). */
void core_seg_drop_last_empty(struct edi_core *c);

/* Skips junk up to the next occurrence of one of tags ("ISA\0DXS\0\0":
 * 3-letter tags each followed by NUL, list ended by an empty one),
 * anywhere in a line. Returns 1 positioned on it, 0 at end of input, -1
 * on error. Always consumes at least one byte. */
int core_resync(struct edi_core *c, const char *tags, struct err *err);

/* Starts hashing at rb[pos] with prefix bytes already consumed before it. */
void core_hash_begin(struct edi_core *c, size_t pos, const void *prefix,
		     size_t nprefix, struct err *err);
/* Hashes up to rb + rpos and writes the digest to c->ctx.ic_sha256. */
void core_hash_end(struct edi_core *c);

/* Queue. core_issue() records an issue at the current segment (seg_id
 * may be NULL: then the current tag) and counts errors against the open
 * set, group and interchange. */
void core_issue(struct edi_core *c, int severity, int code,
		const char *seg_id, unsigned elem, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
void core_push_seg(struct edi_core *c);
void core_push_end(struct edi_core *c, int kind, int ok);
/* Pops the next event into *ev; 0 when the queue is empty. Inline: two
 * calls per segment (one that finds the queue empty) were a sixth of
 * the reader's cost outside the tokenizer. */
static inline int core_pop(struct edi_core *c, struct edi_event *ev)
{
	struct edi_qslot *s;

	if (!c->qlen)
		return 0;
	s = &c->q[c->qhead];
	c->qhead = (c->qhead + 1) % EDI_QMAX;
	c->qlen--;
	*ev = s->ev;
	return 1;
}

/* Compares a trailer's control reference with the header's: 0 same, 1
 * same number with different zero padding, 2 different. */
int core_ctl_cmp(const char *trailer, const char *header);
/* Parses a count; -1 when not a non-negative decimal number. */
long long core_count(const char *s);
/* Trailer checks shared by both readers: element elem of the current
 * segment must be the count n (an error naming what was counted), or the
 * control number hdr of the matching header called hdr_name (an error, or
 * a warning when only the zero padding differs). */
void core_check_count(struct edi_core *c, unsigned elem, unsigned long n,
		      const char *what);
void core_check_ctl(struct edi_core *c, unsigned elem, const char *hdr,
		    const char *hdr_name);
/* Copies at most n - 1 bytes of s (NULL = ""). */
void core_cpy(char *dst, size_t n, const char *s);

#endif
