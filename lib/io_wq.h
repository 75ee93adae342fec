/* io_wq.h - a writer thread behind one file being written.
 *
 * The files a run writes in bulk (the canonical records of a document,
 * a target's rows) are hashed and written by the thread that formats
 * them: on a 100 MB CSV run that is about a second of SHA-256 and of
 * write(2)'s copy into the page cache for the canonical file and again
 * for the three targets' files, while the second core waits. An io_wq
 * moves that work to a thread of its own: the caller fills a buffer,
 * hands it over (io_wq_submit) and fills the next while the thread runs
 * the callback on the last one. The bytes, their order and their hashes
 * are the same; the callback sees the buffers one at a time, in the
 * order they were handed over.
 *
 * A callback error (an errno) is sticky: later buffers are dropped and
 * every later io_wq_submit / io_wq_drain returns it, so the caller
 * reports it at its next write or at its commit. The thread blocks every
 * signal: the process's handlers run on the caller's thread as before.
 */
#ifndef STOCKPIPE_IO_WQ_H
#define STOCKPIPE_IO_WQ_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "sha256.h"

/* One buffer handed to the thread, and what the callback needs of it:
 * off is the offset of p[0] in the file; the bytes of [also_from,
 * also_to) go into also as well (render's rows hash), when also is set. */
struct io_wq_chunk {
	unsigned char *p;
	size_t n;
	uint64_t off;
	struct sha256 *also;
	uint64_t also_from, also_to;
};

/* Runs on the thread, once per chunk: 0, or an errno (the write failed). */
typedef int (*io_wq_fn)(void *ud, const struct io_wq_chunk *c);

struct io_wq;

/* Starts the thread (buffers of IO_WQ_BUF bytes); 0 or -1 with err. */
#define IO_WQ_BUF (256 * 1024)
int io_wq_start(struct io_wq **q, io_wq_fn fn, void *ud, struct err *err);
/* The buffer to fill next (IO_WQ_BUF bytes); never in the thread's use. */
unsigned char *io_wq_buf(struct io_wq *q);
/* Hands the buffer io_wq_buf gave, holding meta->n bytes (meta->p is
 * ignored), to the thread; waits only while every buffer is queued.
 * 0, or the errno of an earlier chunk's failure (this one is dropped). */
int io_wq_submit(struct io_wq *q, const struct io_wq_chunk *meta);
/* Waits until the thread has run every chunk handed over; 0 or the
 * errno of a failed one. */
int io_wq_drain(struct io_wq *q);
/* Stops the thread (chunks not yet run are dropped) and frees q. NULL is
 * a no-op. */
void io_wq_stop(struct io_wq *q);

#endif
