/* render_share.c - see render_share.h.
 *
 * The copy is a sequence of records, each a 32-bit length and then: flags
 * (1: the sku has an item row, 2: its item fields follow), state, qty,
 * as_of, sku, location, location type and, with flag 2, the ITEM_NFIELDS
 * item fields (length UINT32_MAX for NULL). Strings are stored with their
 * NUL so a replayed row points into the read buffer. Item fields are
 * written once per sku, as the store's walk reads them once per sku.
 */
#include "render_share.h"
#include "lib/buf.h"
#include "lib/log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "transforms/model/canon.h"

enum { SH_ITEM = 1, SH_ITEM_FIELDS = 2 };
#define SH_IO (64 * 1024)
#define SH_NULL UINT32_MAX

/* How far a copy is written: readers on other threads (render_par.h)
 * replay it while the walk still writes it, up to `written`. Shared by
 * the copy and its readers, freed by the last of them. */
enum { FILL_WRITING, FILL_DONE, FILL_FAILED };
struct fill {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint64_t written; /* bytes of whole records written so far */
	int state;        /* FILL_* */
	int refs;
};

/* A reader's hold on a copy: its own descriptor (a dup: the process's
 * copy may be dropped meanwhile) and the copy's fill. */
struct render_share_src {
	int fd;
	struct fill *fill;
};

/* The process's copy (one at a time: renders run one after another;
 * only the thread that owns the store touches this). */
static struct {
	int64_t run_id;    /* the run renders share for; 0: sharing off */
	int fd;            /* the copy, -1 when there is none */
	int with_type;     /* its query: with location types or not */
	struct fill *fill; /* its progress; set when fd is */
} sh = {0, -1, 0, NULL};

static struct fill *fill_new(void)
{
	struct fill *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	if (pthread_mutex_init(&f->mu, NULL) != 0) {
		free(f);
		return NULL;
	}
	if (pthread_cond_init(&f->cv, NULL) != 0) {
		pthread_mutex_destroy(&f->mu);
		free(f);
		return NULL;
	}
	f->refs = 1;
	return f;
}

static void fill_unref(struct fill *f)
{
	int last;

	if (!f)
		return;
	pthread_mutex_lock(&f->mu);
	last = --f->refs == 0;
	pthread_mutex_unlock(&f->mu);
	if (!last)
		return;
	pthread_cond_destroy(&f->cv);
	pthread_mutex_destroy(&f->mu);
	free(f);
}

/* Publishes progress (written bytes, or the end) to the copy's readers. */
static void fill_set(struct fill *f, uint64_t written, int state)
{
	if (!f)
		return;
	pthread_mutex_lock(&f->mu);
	f->written = written;
	f->state = state;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
}

void render_share_drop(void)
{
	if (sh.fd >= 0)
		close(sh.fd);
	sh.fd = -1;
	/* a copy still being written is over for its readers */
	if (sh.fill && sh.fill->state == FILL_WRITING)
		fill_set(sh.fill, sh.fill->written, FILL_FAILED);
	fill_unref(sh.fill);
	sh.fill = NULL;
}

int render_share_on(void)
{
	return sh.run_id != 0;
}

void render_share_run(int64_t run_id)
{
	if (run_id != sh.run_id)
		render_share_drop();
	sh.run_id = run_id;
}

/* The writer: the store's rows on their way to the caller's cb. */
struct tee {
	int (*cb)(void *ud, const struct state_position *p);
	void *ud;
	int fd;
	int complete;   /* 0 once cb stopped the walk early */
	struct buf rec; /* the record being built */
	struct buf out; /* records waiting for write() */
	struct buf sku; /* the last record's sku, and whether it had items */
	int had_item;
	struct err *err;
	uint64_t written;     /* bytes of the copy written so far */
	struct fill *fill;    /* render_share_fill: readers follow */
};

static void put_u32(struct buf *b, uint32_t v)
{
	buf_add(b, &v, sizeof(v));
}

static void put_str(struct buf *b, const char *s)
{
	size_t n;

	if (!s) {
		put_u32(b, SH_NULL);
		return;
	}
	n = strlen(s);
	if (n >= SH_NULL) {
		b->err = E_TOOBIG;
		return;
	}
	put_u32(b, (uint32_t)n);
	buf_add(b, s, n + 1);
}

static int write_all(int fd, const char *p, size_t n, struct err *err)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return err_sys(err, "cannot write the positions' "
					    "shared copy");
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int tee_flush(struct tee *t)
{
	int rc = write_all(t->fd, t->out.ptr, t->out.len, t->err);

	t->written += t->out.len;
	buf_reset(&t->out);
	/* whole records only: the buffer never ends inside one */
	if (rc == 0 && t->fill)
		fill_set(t->fill, t->written, FILL_WRITING);
	return rc;
}

/* Appends p's record to the copy. */
static int tee_put(struct tee *t, const struct state_position *p)
{
	int64_t v;
	int32_t st = p->state;
	uint32_t len;
	unsigned char flags = 0;
	size_t i;

	if (p->item) {
		flags |= SH_ITEM;
		if (!t->had_item || !t->sku.len || strcmp(t->sku.ptr, p->sku))
			flags |= SH_ITEM_FIELDS;
	}
	buf_reset(&t->rec);
	put_u32(&t->rec, 0); /* the length, set below */
	buf_addc(&t->rec, (char)flags);
	buf_add(&t->rec, &st, sizeof(st));
	v = p->qty;
	buf_add(&t->rec, &v, sizeof(v));
	v = p->as_of;
	buf_add(&t->rec, &v, sizeof(v));
	put_str(&t->rec, p->sku);
	put_str(&t->rec, p->location);
	put_str(&t->rec, p->location_type);
	for (i = 0; (flags & SH_ITEM_FIELDS) && i < ITEM_NFIELDS; i++)
		put_str(&t->rec, p->item[i]);
	buf_reset(&t->sku);
	buf_adds(&t->sku, p->sku);
	t->had_item = p->item != NULL;
	if (t->rec.err || t->sku.err || t->rec.len - 4 >= SH_NULL)
		return err_set(t->err, E_TOOBIG, "position too long to share");
	len = (uint32_t)(t->rec.len - 4);
	memcpy(t->rec.ptr, &len, sizeof(len));
	if (t->out.len + t->rec.len > SH_IO && tee_flush(t) < 0)
		return -1;
	if (t->rec.len > SH_IO) {
		if (write_all(t->fd, t->rec.ptr, t->rec.len, t->err) < 0)
			return -1;
		t->written += t->rec.len;
		if (t->fill)
			fill_set(t->fill, t->written, FILL_WRITING);
		return 0;
	}
	buf_add(&t->out, t->rec.ptr, t->rec.len);
	return t->out.err ? err_set(t->err, E_NOMEM, "out of memory") : 0;
}

static int tee_row(void *ud, const struct state_position *p)
{
	struct tee *t = ud;
	int rc;

	if (t->fd >= 0 && tee_put(t, p) < 0) {
		/* render_share_fill: the copy is all this walk is for */
		if (t->fill)
			return -1;
		/* The copy only saves later renders a read: without it
		 * they read the store, and this render goes on. */
		log_msg("warn", "  positions not shared between targets: %s",
			t->err->reason);
		err_clear(t->err);
		close(t->fd);
		t->fd = -1;
	}
	rc = t->cb(t->ud, p);
	if (rc)
		t->complete = 0;
	return rc;
}

/* A scratch file in dir, unlinked at once: its space goes with the fd. */
static int scratch_open(const char *dir)
{
	char path[4200];
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/.positions.XXXXXX",
			     dir) >= sizeof(path))
		return -1;
	fd = mkostemp(path, O_CLOEXEC);
	if (fd >= 0)
		unlink(path);
	return fd;
}

/* Makes the tee's complete copy the process's (sh), with a fill that
 * says so; 0, or -1 (out of memory: the copy is closed, not shared). */
static int keep_copy(struct tee *t, int with_type)
{
	struct fill *f = fill_new();

	if (!f)
		return -1;
	f->written = t->written;
	f->state = FILL_DONE;
	sh.fd = t->fd;
	sh.with_type = with_type;
	sh.fill = f;
	t->fd = -1;
	return 0;
}

/* Reads the store, keeping a copy when it can. */
static int read_store(struct state *st, int with_type, const char *dir,
		      struct tee *t)
{
	int rc;

	render_share_drop();
	t->fd = scratch_open(dir);
	if (t->fd < 0)
		/* Not an error of the render: later targets read the store. */
		log_msg("warn", "  positions not shared between targets: "
				"cannot create a scratch file in '%s': %s",
			dir, strerror(errno));
	rc = state_positions_items_each(st, with_type, tee_row, t, t->err);
	if (rc == 0 && t->fd >= 0 && tee_flush(t) < 0) {
		log_msg("warn", "  positions not shared between targets: %s",
			t->err->reason);
		err_clear(t->err);
		close(t->fd);
		t->fd = -1;
	}
	if (rc == 0 && t->complete && t->fd >= 0 && keep_copy(t, with_type) < 0)
		log_msg("warn", "  positions not shared between targets: "
				"out of memory");
	if (t->fd >= 0)
		close(t->fd);
	return rc;
}

/* The reader: the copy, SH_IO bytes at a time, up to what its fill says
 * is written (waiting for more while the walk goes on). */
struct rd {
	int fd;
	struct fill *fill;
	off_t off;
	char *b;
	size_t cap, pos, len;
};

/* How many bytes from r->off may be read: waits while none are written
 * yet and the walk goes on. 0 at the end of a complete copy; -1 with err
 * when the walk failed. */
static int64_t rd_avail(struct rd *r, struct err *err)
{
	struct fill *f = r->fill;
	uint64_t w;
	int state;

	pthread_mutex_lock(&f->mu);
	while (f->state == FILL_WRITING && f->written <= (uint64_t)r->off)
		pthread_cond_wait(&f->cv, &f->mu);
	w = f->written;
	state = f->state;
	pthread_mutex_unlock(&f->mu);
	if (state == FILL_FAILED)
		return err_set(err, E_IO, "the positions' shared copy was not "
					  "completed");
	return (int64_t)(w - (uint64_t)r->off);
}

/* Makes n bytes readable at r->b + r->pos: 1, 0 at the end of the copy
 * before any of them, -1 with err. */
static int rd_need(struct rd *r, size_t n, struct err *err)
{
	if (r->len - r->pos >= n)
		return 1;
	memmove(r->b, r->b + r->pos, r->len - r->pos);
	r->len -= r->pos;
	r->pos = 0;
	if (n > r->cap) {
		char *nb = realloc(r->b, n);

		if (!nb)
			return err_set(err, E_NOMEM, "out of memory");
		r->b = nb;
		r->cap = n;
	}
	while (r->len < n) {
		int64_t avail = rd_avail(r, err);
		size_t want = r->cap - r->len;
		ssize_t got;

		if (avail < 0)
			return -1;
		if (!avail)
			break;
		if ((uint64_t)avail < want)
			want = (size_t)avail;
		got = pread(r->fd, r->b + r->len, want, r->off);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return err_sys(err, "cannot read the positions' "
					    "shared copy");
		if (!got)
			break;
		r->off += got;
		r->len += (size_t)got;
	}
	if (r->len >= n)
		return 1;
	if (!r->len)
		return 0;
	return err_set(err, E_INTERNAL, "the positions' shared copy is cut");
}

/* Takes the string at *p (its length, bytes, NUL); NULL for SH_NULL. */
static const char *get_str(const char **p)
{
	uint32_t n;
	const char *s;

	memcpy(&n, *p, sizeof(n));
	*p += sizeof(n);
	if (n == SH_NULL)
		return NULL;
	s = *p;
	*p += n + 1;
	return s;
}

/* The item fields a record carries, kept for the sku's next records. */
struct items {
	char buf[ITEM_NFIELDS][512];
	const char *v[ITEM_NFIELDS];
};

static void take_items(struct items *it, const char **p)
{
	size_t i, n;

	for (i = 0; i < ITEM_NFIELDS; i++) {
		const char *s = get_str(p);

		it->v[i] = NULL;
		if (!s)
			continue;
		/* Cut at 511 bytes by the store's walk already. */
		n = strnlen(s, sizeof(it->buf[i]) - 1);
		memcpy(it->buf[i], s, n);
		it->buf[i][n] = '\0';
		it->v[i] = it->buf[i];
	}
}

/* Decodes the record of n bytes at p into pos (strings point into p). */
static void decode(const char *p, struct items *it,
		   struct state_position *pos)
{
	unsigned char flags = (unsigned char)*p++;
	int32_t st;

	memcpy(&st, p, sizeof(st));
	p += sizeof(st);
	pos->state = st;
	memcpy(&pos->qty, p, sizeof(pos->qty));
	p += sizeof(pos->qty);
	memcpy(&pos->as_of, p, sizeof(pos->as_of));
	p += sizeof(pos->as_of);
	pos->sku = get_str(&p);
	pos->location = get_str(&p);
	pos->location_type = get_str(&p);
	if (flags & SH_ITEM_FIELDS)
		take_items(it, &p);
	pos->item = (flags & SH_ITEM) ? it->v : NULL;
}

static int replay(int fd, struct fill *fill,
		  int (*cb)(void *ud, const struct state_position *p),
		  void *ud, struct err *err)
{
	struct rd r = {fd, fill, 0, NULL, SH_IO, 0, 0};
	struct items *it = malloc(sizeof(*it));
	struct state_position pos;
	int rc = -1, got;

	if (!it || !(r.b = malloc(r.cap))) {
		err_set(err, E_NOMEM, "out of memory");
		goto out;
	}
	while ((got = rd_need(&r, 4, err)) > 0) {
		uint32_t n;

		memcpy(&n, r.b + r.pos, sizeof(n));
		if (rd_need(&r, 4 + (size_t)n, err) <= 0) {
			if (!err->code)
				err_set(err, E_INTERNAL,
					"the positions' shared copy is cut");
			goto out;
		}
		decode(r.b + r.pos + 4, it, &pos);
		r.pos += 4 + (size_t)n;
		/* As the store's walk: -1 an error, 1 stop here. */
		if ((got = cb(ud, &pos)) != 0) {
			rc = got < 0 ? -1 : 0;
			goto out;
		}
	}
	rc = got < 0 ? -1 : 0;
out:
	free(r.b);
	free(it);
	return rc;
}

int render_share_positions(struct state *st, int with_type, const char *dir,
			   int (*cb)(void *ud, const struct state_position *p),
			   void *ud, struct err *err)
{
	struct tee t;
	int rc;

	if (!sh.run_id)
		return state_positions_items_each(st, with_type, cb, ud, err);
	if (sh.fd >= 0 && sh.with_type == with_type &&
	    sh.fill->state == FILL_DONE)
		return replay(sh.fd, sh.fill, cb, ud, err);
	memset(&t, 0, sizeof(t));
	t.cb = cb;
	t.ud = ud;
	t.fd = -1;
	t.complete = 1;
	t.err = err;
	buf_init(&t.rec, 1 << 24);
	buf_init(&t.out, 2 * SH_IO);
	buf_init(&t.sku, 1 << 24);
	rc = read_store(st, with_type, dir, &t);
	buf_release(&t.rec);
	buf_release(&t.out);
	buf_release(&t.sku);
	return rc;
}

/* ---- a copy read on other threads while it is written ---------------- */

int render_share_fill_begin(int with_type, const char *dir, struct err *err)
{
	struct fill *f;
	int fd;

	if (!sh.run_id)
		return err_set(err, E_INTERNAL, "positions not shared");
	render_share_drop();
	if ((fd = scratch_open(dir)) < 0)
		return err_sys(err, "cannot create a scratch file in '%s'",
			       dir);
	if (!(f = fill_new())) {
		close(fd);
		return err_set(err, E_NOMEM, "out of memory");
	}
	sh.fd = fd;
	sh.with_type = with_type;
	sh.fill = f;
	return 0;
}

struct render_share_src *render_share_src_open(struct err *err)
{
	struct render_share_src *s;

	if (sh.fd < 0 || !sh.fill) {
		err_set(err, E_INTERNAL, "no positions' copy to read");
		return NULL;
	}
	if (!(s = malloc(sizeof(*s)))) {
		err_set(err, E_NOMEM, "out of memory");
		return NULL;
	}
	if ((s->fd = fcntl(sh.fd, F_DUPFD_CLOEXEC, 0)) < 0) {
		err_sys(err, "cannot share the positions' copy");
		free(s);
		return NULL;
	}
	s->fill = sh.fill;
	pthread_mutex_lock(&s->fill->mu);
	s->fill->refs++;
	pthread_mutex_unlock(&s->fill->mu);
	return s;
}

void render_share_src_close(struct render_share_src *s)
{
	if (!s)
		return;
	close(s->fd);
	fill_unref(s->fill);
	free(s);
}

int render_share_src_replay(struct render_share_src *s,
			    int (*cb)(void *ud, const struct state_position *p),
			    void *ud, struct err *err)
{
	return replay(s->fd, s->fill, cb, ud, err);
}

static int fill_row(void *ud, const struct state_position *p)
{
	(void)ud;
	(void)p;
	return 0;
}

int render_share_fill(struct state *st, struct err *err)
{
	struct tee t;
	int rc = -1;

	if (sh.fd < 0 || !sh.fill || sh.fill->state != FILL_WRITING)
		return err_set(err, E_INTERNAL, "no positions' copy begun");
	memset(&t, 0, sizeof(t));
	t.cb = fill_row;
	t.fd = sh.fd;
	t.complete = 1;
	t.err = err;
	t.fill = sh.fill;
	buf_init(&t.rec, 1 << 24);
	buf_init(&t.out, 2 * SH_IO);
	buf_init(&t.sku, 1 << 24);
	if (state_positions_items_each(st, sh.with_type, tee_row, &t, err) <
		    0 ||
	    tee_flush(&t) < 0)
		goto out;
	fill_set(sh.fill, t.written, FILL_DONE);
	rc = 0;
out:
	buf_release(&t.rec);
	buf_release(&t.out);
	buf_release(&t.sku);
	/* readers stop with an error; later renders read the store */
	if (rc < 0)
		render_share_drop();
	return rc;
}
