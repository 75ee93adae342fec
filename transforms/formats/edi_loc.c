/* edi_loc.c - where an element of an EDI segment is in the file, as an
 * editor counts it (see edi_locator in edi.h). Runs only when an error
 * or warning is reported, never per segment. */
#include "edi.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

/* Bytes read per step, back to the line start and forward over the
 * segment. */
#define LOC_CHUNK 4096
/* A segment is never longer than the readers allow (max_segment, 1 GiB
 * at most); past this many bytes the walk stops at what it has. */
#define LOC_MAX_WALK ((uint64_t)1 << 30)

void edi_locator_init(struct edi_locator *l, const char *path)
{
	memset(l, 0, sizeof(*l));
	l->path = path;
	l->fd = -1;
}

void edi_locator_release(struct edi_locator *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
}

static int loc_open(struct edi_locator *l)
{
	if (l->fd >= 0)
		return 0;
	if (l->failed || !l->path)
		return -1;
	l->fd = open(l->path, O_RDONLY | O_CLOEXEC);
	if (l->fd < 0) {
		l->failed = 1;
		return -1;
	}
	return 0;
}

static ssize_t loc_pread(int fd, unsigned char *b, size_t n, uint64_t off)
{
	ssize_t k;

	do
		k = pread(fd, b, n, (off_t)off);
	while (k < 0 && errno == EINTR);
	return k;
}

/* The offset of the first byte of the physical line that holds byte off
 * (the byte after the last LF before it). */
static int line_start(struct edi_locator *l, uint64_t off, unsigned long line,
		      uint64_t *out)
{
	unsigned char b[LOC_CHUNK];
	uint64_t end = off;

	if (l->line && l->line == line && l->lstart <= off) {
		*out = l->lstart;
		return 0;
	}
	while (end > 0) {
		size_t n = end > LOC_CHUNK ? LOC_CHUNK : (size_t)end;
		ssize_t k = loc_pread(l->fd, b, n, end - n);

		if (k != (ssize_t)n)
			return -1;
		while (n > 0 && b[n - 1] != '\n')
			n--;
		if (n > 0) {
			end = end - (size_t)k + n;
			break;
		}
		end -= (size_t)k;
	}
	l->line = line;
	l->lstart = end;
	*out = end;
	return 0;
}

struct walk {
	const struct edi_delims *d;
	unsigned e, r, c;       /* the target */
	unsigned ce, cr, cc;    /* where the walk is */
	int rel;                /* the last byte was a release character */
	int found;
};

/* One byte of the segment. Returns 1 when the walk ends at this byte
 * (the target value starts here, or the terminator was reached). */
static int walk_byte(struct walk *w, int ch)
{
	const struct edi_delims *d = w->d;

	if (w->found) /* skipping line breaks before the value */
		return ch != '\r' && ch != '\n';
	if (w->rel) {
		w->rel = 0;
		return 0;
	}
	if (ch == d->seg)
		return 1;
	if (d->rel >= 0 && ch == d->rel) {
		w->rel = 1;
		return 0;
	}
	if (ch == d->elem) {
		w->ce++;
		w->cr = w->cc = 1;
	} else if (d->rep >= 0 && ch == d->rep && w->ce > 0) {
		w->cr++;
		w->cc = 1;
	} else if (d->comp >= 0 && ch == d->comp && w->ce > 0) {
		w->cc++;
	} else {
		return 0;
	}
	if (w->ce == w->e && w->cr == w->r && w->cc == w->c)
		w->found = 1;
	return 0;
}

void edi_locate(struct edi_locator *l, const struct edi_delims *d,
		uint64_t off, unsigned long line, unsigned long segno,
		unsigned e, unsigned r, unsigned c, struct src_loc *loc)
{
	unsigned char b[LOC_CHUNK];
	struct walk w;
	uint64_t ls, pos = off, at = off;
	unsigned long ln = line;
	unsigned long long col;

	memset(loc, 0, sizeof(*loc));
	loc->line = line;
	loc->seg = segno;
	loc->offset = off;
	if (loc_open(l) < 0 || line_start(l, off, line, &ls) < 0)
		return;
	col = off - ls + 1;
	loc->col = col > 0xFFFFFFFFu ? 0xFFFFFFFFu : (unsigned)col;
	if (e == 0 || !d || d->elem <= 0 || d->seg < 0)
		return;
	memset(&w, 0, sizeof(w));
	w.d = d;
	w.e = e;
	w.r = r ? r : 1;
	w.c = c ? c : 1;
	w.cr = w.cc = 1;
	for (;;) {
		ssize_t k = loc_pread(l->fd, b, sizeof(b), pos), i;

		if (k <= 0 || pos - off > LOC_MAX_WALK)
			break;
		for (i = 0; i < k; i++) {
			int ch = b[i];

			if (walk_byte(&w, ch)) {
				at = pos + (uint64_t)i;
				goto done;
			}
			if (ch == '\n' && ch != d->seg) {
				ln++;
				col = 0;
			}
			col++;
		}
		pos += (uint64_t)k;
	}
	return; /* cut off: the segment's start stands */
done:
	loc->line = ln;
	loc->col = col > 0xFFFFFFFFu ? 0xFFFFFFFFu : (unsigned)col;
	loc->offset = at;
}
