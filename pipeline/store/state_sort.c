/* state_sort.c - sorted runs in one temporary file and their k-way
 * merge; see state_sort.h. */
#include "state_sort.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SORT_BUF (64u * 1024)

void state_sort_init(struct state_sort *ss, size_t bufsize)
{
	memset(ss, 0, sizeof(*ss));
	ss->fd = -1;
	ss->bufsize = bufsize ? bufsize : SORT_BUF;
}

/* The file, in dir, unlinked at once: only this process ever sees it. */
static int sort_open(struct state_sort *ss, const char *dir, struct err *err)
{
	char path[4200];
	int n = snprintf(path, sizeof(path), "%s/.load-sort.XXXXXX",
			 dir && *dir ? dir : ".");

	if (n < 0 || (size_t)n >= sizeof(path))
		return err_set(err, E_IO, "load sort: folder name too long");
	if ((ss->fd = mkstemp(path)) < 0)
		return err_sys(err, "load sort: cannot create '%s'", path);
	/* Left behind, the file would hold a load's records in the state
	 * folder for good (until io_clean_tmp, which only knows ".NAME.tmp"):
	 * an error, the descriptor closed. */
	if (unlink(path) < 0) {
		err_sys(err, "load sort: cannot remove '%s'", path);
		close(ss->fd);
		ss->fd = -1;
		return -1;
	}
	return 0;
}

static int sort_write(struct state_sort *ss, struct err *err)
{
	size_t done = 0;
	ssize_t w;

	while (done < ss->wlen) {
		w = pwrite(ss->fd, ss->wbuf + done, ss->wlen - done,
			   ss->end + (off_t)done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return err_sys(err, "load sort: cannot write");
		done += (size_t)w;
	}
	ss->end += (off_t)ss->wlen;
	ss->cur_len += (off_t)ss->wlen;
	ss->wlen = 0;
	return 0;
}

int state_sort_put(struct state_sort *ss, const char *dir, const void *rec,
		   size_t n, struct err *err)
{
	uint32_t len = (uint32_t)n;

	if (n > STATE_SORT_REC_MAX)
		return err_set(err, E_INTERNAL, "load sort: record too long");
	if (ss->fd < 0 && sort_open(ss, dir, err) < 0)
		return -1;
	if (!ss->wbuf && !(ss->wbuf = malloc(ss->bufsize)))
		return err_set(err, E_NOMEM, "out of memory");
	if (!ss->wlen && !ss->cur_len)
		ss->cur_off = ss->end;
	if (ss->wlen + sizeof(len) + n > ss->bufsize) {
		if (sort_write(ss, err) < 0)
			return -1;
		if (sizeof(len) + n > ss->bufsize) {
			char *b = realloc(ss->wbuf, sizeof(len) + n);

			if (!b)
				return err_set(err, E_NOMEM, "out of memory");
			ss->wbuf = b;
		}
	}
	memcpy(ss->wbuf + ss->wlen, &len, sizeof(len));
	memcpy(ss->wbuf + ss->wlen + sizeof(len), rec, n);
	ss->wlen += sizeof(len) + n;
	if (ss->wlen > ss->bufsize) { /* one record larger than the buffer */
		if (sort_write(ss, err) < 0)
			return -1;
	}
	ss->nrecs++;
	return 0;
}

int state_sort_end_run(struct state_sort *ss, struct err *err)
{
	if (!ss->wlen && !ss->cur_len)
		return 0;
	if (ss->nruns == ss->cap) {
		size_t cap = ss->cap ? ss->cap * 2 : 16;
		struct state_sort_run *r = realloc(ss->runs, cap * sizeof(*r));

		if (!r)
			return err_set(err, E_NOMEM, "out of memory");
		ss->runs = r;
		ss->cap = cap;
	}
	if (ss->wlen && sort_write(ss, err) < 0)
		return -1;
	ss->runs[ss->nruns].off = ss->cur_off;
	ss->runs[ss->nruns].len = ss->cur_len;
	ss->nruns++;
	ss->cur_len = 0;
	return 0;
}

/* A run being read: its unread bytes [off, end) and a buffer holding
 * buf[pos..len); rec is the current record (n bytes), NULL at the end. */
struct sort_rd {
	off_t off, end;
	char *buf;
	size_t pos, len, cap;
	const char *rec;
	size_t n;
};

/* Makes want bytes available at buf + pos (0), or says the run ended
 * (1: nothing left), or -1 (a short file: an error). */
static int rd_need(int fd, struct sort_rd *r, size_t want, struct err *err)
{
	ssize_t got;

	if (r->len - r->pos >= want)
		return 0;
	if (r->len == r->pos && r->off == r->end)
		return 1;
	memmove(r->buf, r->buf + r->pos, r->len - r->pos);
	r->len -= r->pos;
	r->pos = 0;
	if (want > r->cap) {
		char *b = realloc(r->buf, want);

		if (!b)
			return err_set(err, E_NOMEM, "out of memory");
		r->buf = b;
		r->cap = want;
	}
	while (r->len < want) {
		size_t room = r->cap - r->len;

		if ((off_t)room > r->end - r->off)
			room = (size_t)(r->end - r->off);
		if (!room)
			return err_set(err, E_IO, "load sort: run cut short");
		got = pread(fd, r->buf + r->len, room, r->off);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return err_sys(err, "load sort: cannot read");
		r->len += (size_t)got;
		r->off += got;
	}
	return 0;
}

/* Advances run r to its next record. */
static int rd_next(int fd, struct sort_rd *r, struct err *err)
{
	uint32_t len;
	int rc;

	r->rec = NULL;
	if ((rc = rd_need(fd, r, sizeof(len), err)) != 0)
		return rc < 0 ? -1 : 0;
	memcpy(&len, r->buf + r->pos, sizeof(len));
	if (rd_need(fd, r, sizeof(len) + len, err) != 0)
		return err_set(err, E_IO, "load sort: run cut short");
	r->rec = r->buf + r->pos + sizeof(len);
	r->n = len;
	r->pos += sizeof(len) + len;
	return 0;
}

struct sort_heap {
	struct sort_rd *rd;
	size_t *h, n;
	int (*cmp)(const void *a, size_t an, const void *b, size_t bn,
		   void *ud);
	void *ud;
};

/* Whether heap slot i sorts before slot j (ties: the earlier run). */
static int heap_less(const struct sort_heap *hp, size_t i, size_t j)
{
	const struct sort_rd *a = &hp->rd[hp->h[i]], *b = &hp->rd[hp->h[j]];
	int c = hp->cmp(a->rec, a->n, b->rec, b->n, hp->ud);

	return c ? c < 0 : hp->h[i] < hp->h[j];
}

static void heap_down(struct sort_heap *hp, size_t i)
{
	size_t l, m, t;

	for (;;) {
		l = 2 * i + 1;
		m = i;
		if (l < hp->n && heap_less(hp, l, m))
			m = l;
		if (l + 1 < hp->n && heap_less(hp, l + 1, m))
			m = l + 1;
		if (m == i)
			return;
		t = hp->h[i];
		hp->h[i] = hp->h[m];
		hp->h[m] = t;
		i = m;
	}
}

int state_sort_merge(struct state_sort *ss,
		     int (*cmp)(const void *a, size_t an, const void *b,
				size_t bn, void *ud),
		     int (*each)(const void *rec, size_t n, void *ud),
		     void *ud, struct err *err)
{
	struct sort_heap hp = {NULL, NULL, 0, cmp, ud};
	size_t i, k = 0;
	int rc = -1;

	if (state_sort_end_run(ss, err) < 0)
		return -1;
	if (!ss->nruns)
		return 0;
	if (!(hp.rd = calloc(ss->nruns, sizeof(*hp.rd))) ||
	    !(hp.h = malloc(ss->nruns * sizeof(*hp.h)))) {
		err_set(err, E_NOMEM, "out of memory");
		goto out;
	}
	for (k = 0; k < ss->nruns; k++) {
		struct sort_rd *r = &hp.rd[k];

		r->off = ss->runs[k].off;
		r->end = r->off + ss->runs[k].len;
		/* Many runs share 8 MiB of buffers (a 1 GB document has a
		 * few hundred); a longer record grows its own. */
		r->cap = (8u << 20) / ss->nruns;
		if (r->cap > ss->bufsize)
			r->cap = ss->bufsize;
		if (r->cap < 4096 && ss->bufsize >= 4096)
			r->cap = 4096;
		if (!(r->buf = malloc(r->cap))) {
			err_set(err, E_NOMEM, "out of memory");
			goto out;
		}
		if (rd_next(ss->fd, r, err) < 0)
			goto out;
		if (r->rec)
			hp.h[hp.n++] = k;
	}
	for (i = hp.n; i-- > 0;)
		heap_down(&hp, i);
	while (hp.n) {
		struct sort_rd *r = &hp.rd[hp.h[0]];

		if (each(r->rec, r->n, ud) < 0)
			goto out;
		if (rd_next(ss->fd, r, err) < 0)
			goto out;
		if (!r->rec)
			hp.h[0] = hp.h[--hp.n];
		heap_down(&hp, 0);
	}
	rc = 0;
out:
	for (i = 0; i < k && hp.rd; i++)
		free(hp.rd[i].buf);
	free(hp.rd);
	free(hp.h);
	return rc;
}

void state_sort_reset(struct state_sort *ss)
{
	/* A truncate that fails only leaves bytes no run points to. */
	if (ss->fd >= 0 && ss->end && ftruncate(ss->fd, 0) < 0)
		(void)0;
	ss->end = 0;
	ss->nruns = 0;
	ss->wlen = 0;
	ss->nrecs = 0;
	ss->cur_off = ss->cur_len = 0;
}

void state_sort_free(struct state_sort *ss)
{
	if (ss->fd >= 0)
		close(ss->fd);
	free(ss->runs);
	free(ss->wbuf);
	state_sort_init(ss, ss->bufsize);
}
