/* state_sort.h - an external sort for the load stage: sorted runs of
 * records spilled to one temporary file, merged k ways.
 *
 * A document larger than the load batch (state_int.h, struct
 * load_batch) is sorted in pieces that fit in memory; each piece is
 * written here as one run, already sorted, and the merge hands every
 * record back once in the order of the whole document, so the load
 * visits each page of positions and of the event index about once per
 * document instead of once per batch. Memory stays fixed: one read
 * buffer per run. The file is unlinked as soon as it is made: a crash
 * leaves nothing behind, and nothing in it is ever read after the
 * process ends.
 *
 * A record is an opaque byte string (at most STATE_SORT_REC_MAX bytes);
 * the caller's cmp orders two of them. Runs must each be sorted by cmp.
 */
#ifndef STOCKPIPE_STATE_SORT_H
#define STOCKPIPE_STATE_SORT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/err.h"

#define STATE_SORT_REC_MAX (1u << 20)

struct state_sort_run {
	off_t off, len;
};

struct state_sort {
	int fd;                     /* -1 until the first run */
	off_t end;                  /* bytes written */
	struct state_sort_run *runs; /* ended runs */
	size_t nruns, cap;
	off_t cur_off, cur_len;     /* the run being written */
	char *wbuf;                 /* the run being written */
	size_t wlen;
	size_t bufsize;             /* write and per-run read buffer */
	uint64_t nrecs;             /* records in all runs */
};

/* An empty sort; nothing is allocated until the first record. bufsize
 * 0 takes the default (64 KiB). */
void state_sort_init(struct state_sort *ss, size_t bufsize);
/* Appends one record of n bytes to the current run, creating the file
 * in dir (unlinked at once) on first use. */
int state_sort_put(struct state_sort *ss, const char *dir, const void *rec,
		   size_t n, struct err *err);
/* Ends the current run (no-op when it is empty). */
int state_sort_end_run(struct state_sort *ss, struct err *err);
/* Calls each(rec, n, ud) for every record of every run, in the order of
 * cmp (ties: the earlier run first); stops at the first each() < 0,
 * which is returned. */
int state_sort_merge(struct state_sort *ss,
		     int (*cmp)(const void *a, size_t an, const void *b,
				size_t bn, void *ud),
		     int (*each)(const void *rec, size_t n, void *ud),
		     void *ud, struct err *err);
/* Drops every run (the file is truncated and kept for reuse). */
void state_sort_reset(struct state_sort *ss);
/* Closes the file and frees everything. */
void state_sort_free(struct state_sort *ss);

#endif
