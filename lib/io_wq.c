/* io_wq.c - a writer thread behind one file being written (io_wq.h). */
#include "io_wq.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

/* Three buffers: one being filled, one being written, one queued; more
 * did not help (the slower side sets the pace) and each costs RSS. */
#define IO_WQ_SLOTS 3

struct io_wq {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;  /* a chunk queued, or one done, or stop */
	io_wq_fn fn;
	void *ud;
	struct io_wq_chunk slot[IO_WQ_SLOTS];
	/* Chunks handed over and not yet run: slots head .. tail - 1 (mod
	 * IO_WQ_SLOTS); slot tail % IO_WQ_SLOTS is the one being filled. */
	unsigned head, tail;
	int fail;   /* the first callback errno; sticky */
	int stop;
};

static void *wq_main(void *arg)
{
	struct io_wq *q = arg;
	struct io_wq_chunk c;
	int rc;

	pthread_mutex_lock(&q->mu);
	for (;;) {
		while (!q->stop && q->head == q->tail)
			pthread_cond_wait(&q->cv, &q->mu);
		if (q->stop)
			break;
		c = q->slot[q->head % IO_WQ_SLOTS];
		pthread_mutex_unlock(&q->mu);
		/* After a failure the rest is dropped: the file is refused
		 * at commit anyway. */
		rc = q->fail ? 0 : q->fn(q->ud, &c);
		pthread_mutex_lock(&q->mu);
		if (rc && !q->fail)
			q->fail = rc;
		q->head++;
		pthread_cond_broadcast(&q->cv);
	}
	pthread_mutex_unlock(&q->mu);
	return NULL;
}

int io_wq_start(struct io_wq **qp, io_wq_fn fn, void *ud, struct err *err)
{
	struct io_wq *q;
	sigset_t all, old;
	int k, rc;

	*qp = NULL;
	if (!(q = calloc(1, sizeof(*q))))
		return err_set(err, E_NOMEM, "out of memory");
	for (k = 0; k < IO_WQ_SLOTS; k++)
		if (!(q->slot[k].p = malloc(IO_WQ_BUF)))
			goto nomem;
	q->fn = fn;
	q->ud = ud;
	if (pthread_mutex_init(&q->mu, NULL)) {
		err_set(err, E_NOMEM, "cannot create a mutex");
		goto fail;
	}
	if (pthread_cond_init(&q->cv, NULL)) {
		pthread_mutex_destroy(&q->mu);
		err_set(err, E_NOMEM, "cannot create a condition variable");
		goto fail;
	}
	/* Signals stay with the caller's thread: the stop flag and the
	 * progress line are set by handlers that expect it. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&q->th, NULL, wq_main, q);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		errno = rc;
		err_sys(err, "cannot start a writer thread");
		pthread_cond_destroy(&q->cv);
		pthread_mutex_destroy(&q->mu);
		goto fail;
	}
	*qp = q;
	return 0;
nomem:
	err_set(err, E_NOMEM, "out of memory");
fail:
	for (k = 0; k < IO_WQ_SLOTS; k++)
		free(q->slot[k].p);
	free(q);
	return -1;
}

unsigned char *io_wq_buf(struct io_wq *q)
{
	/* Only the caller moves tail, so the slot is read without the lock. */
	return q->slot[q->tail % IO_WQ_SLOTS].p;
}

int io_wq_submit(struct io_wq *q, const struct io_wq_chunk *meta)
{
	struct io_wq_chunk *s;
	int rc;

	pthread_mutex_lock(&q->mu);
	if ((rc = q->fail) == 0) {
		s = &q->slot[q->tail % IO_WQ_SLOTS];
		s->n = meta->n;
		s->off = meta->off;
		s->also = meta->also;
		s->also_from = meta->also_from;
		s->also_to = meta->also_to;
		q->tail++;
		pthread_cond_broadcast(&q->cv);
		/* The next slot to fill must not be one still queued. */
		while (!q->fail && q->tail - q->head >= IO_WQ_SLOTS)
			pthread_cond_wait(&q->cv, &q->mu);
	}
	pthread_mutex_unlock(&q->mu);
	return rc;
}

int io_wq_drain(struct io_wq *q)
{
	int rc;

	pthread_mutex_lock(&q->mu);
	while (q->head != q->tail)
		pthread_cond_wait(&q->cv, &q->mu);
	rc = q->fail;
	pthread_mutex_unlock(&q->mu);
	return rc;
}

void io_wq_stop(struct io_wq *q)
{
	int k;

	if (!q)
		return;
	pthread_mutex_lock(&q->mu);
	q->stop = 1;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
	pthread_join(q->th, NULL);
	pthread_cond_destroy(&q->cv);
	pthread_mutex_destroy(&q->mu);
	for (k = 0; k < IO_WQ_SLOTS; k++)
		free(q->slot[k].p);
	free(q);
}
