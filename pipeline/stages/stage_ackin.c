/* stage_ackin.c - acknowledgments back: what was delivered, what the
 * partner answered, matched by control numbers; see stage_ackin.h. */
#include "stage_ackin.h"
#include "pipeline/run.h"
#include "pipeline/run_int.h"
#include "pipeline/config.h"
#include "lib/gz.h"
#include "lib/buf.h"
#include "lib/io.h"
#include "lib/log.h"
#include "lib/sha256.h"
#include "pipeline/store/state.h"
#include "pipeline/store/state_acks.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "connectors/connector.h"
#include "transforms/formats/ack_read.h"
#include "transforms/formats/edi.h"
#include "transforms/formats/edifact_reader.h"
#include "transforms/formats/x12_reader.h"

/* ---- 1. what was delivered --------------------------------------------- */

struct sent_set {
	char ic[16], grp[16], type[8], set[16];
};

struct sent {
	struct sent_set *v;
	size_t n, cap;
	int edifact;
};

/* The sets of the delivered file at path (our own output: the readers'
 * envelope checks already held when it was rendered). *edi = 0 when the
 * file is no X12/EDIFACT. */
static int sent_sets(const char *path, struct sent *s, int *edi,
		     struct err *err)
{
	struct x12_reader *xr = NULL;
	struct edifact_reader *er = NULL;
	unsigned char head[4096];
	struct edi_event ev;
	ssize_t got;
	/* the latest delivery is kept compacted (lib/gz.h, gc.c) */
	int fd = gz_open_fd(path, err), fmt, rc = -1, more;

	*edi = 0;
	if (fd < 0)
		return -1;
	got = read(fd, head, sizeof(head));
	if (got < 0 || lseek(fd, 0, SEEK_SET) < 0) {
		err_sys(err, "cannot read '%s'", path);
		goto out;
	}
	fmt = edi_sniff(head, (size_t)got);
	if (fmt != EDI_FMT_X12 && fmt != EDI_FMT_EDIFACT) {
		rc = 0;
		goto out;
	}
	*edi = 1;
	s->edifact = fmt == EDI_FMT_EDIFACT;
	if ((s->edifact ? edifact_reader_open_fd(&er, fd, path, NULL, err)
			: x12_reader_open_fd(&xr, fd, path, NULL, err)) < 0)
		goto out;
	while ((more = xr ? x12_reader_next(xr, &ev, err)
			  : edifact_reader_next(er, &ev, err)) > 0) {
		struct sent_set *x;

		if (ev.kind != EDI_EV_SEGMENT ||
		    (strcmp(ev.seg->tag, "ST") && strcmp(ev.seg->tag, "UNH")))
			continue;
		if (ALLOC_GROW(s->v, s->n + 1, s->cap) < 0) {
			err_set(err, E_NOMEM, "out of memory");
			goto out;
		}
		x = &s->v[s->n++];
		str_copy_cut(x->ic, sizeof(x->ic), ev.ctx->ic_control);
		str_copy_cut(x->grp, sizeof(x->grp), ev.ctx->grp_control);
		str_copy_cut(x->type, sizeof(x->type), ev.ctx->set_type);
		str_copy_cut(x->set, sizeof(x->set), ev.ctx->set_control);
	}
	rc = more < 0 ? -1 : 0;
out:
	x12_reader_free(xr);
	edifact_reader_free(er);
	close(fd);
	return rc;
}

struct deliv_list {
	const char *target;
	char (*name)[256];
	int64_t *at;
	size_t n, cap, acap;
	int nomem;
};

static int on_delivery(void *ud, const char *target, const char *file,
		       int64_t at)
{
	struct deliv_list *l = ud;

	if (strcmp(target, l->target))
		return 0;
	if (ALLOC_GROW(l->name, l->n + 1, l->cap) < 0 ||
	    ALLOC_GROW(l->at, l->n + 1, l->acap) < 0)
		return l->nomem = 1;
	str_copy_cut(l->name[l->n], sizeof(l->name[0]), file);
	l->at[l->n++] = at;
	return 0;
}

/* Records the sets of one delivered file (once). */
static int expect_file(struct run *r, const struct cfg_target *t,
		       const char *file, int64_t at, struct err *err)
{
	struct sent s = {NULL, 0, 0, 0};
	struct err e = ERR_INIT;
	char path[4400];
	size_t i;
	int found, edi, rc = 0;

	if (state_acks_expected(r->st, t->name, file, &found, err) < 0)
		return -1;
	if (found)
		return 0;
	run_path_in(r, path, sizeof(path), "outbox", t->name, file);
	if (sent_sets(path, &s, &edi, &e) < 0) {
		char msg[1200];

		err_format(&e, msg, sizeof(msg));
		log_msg("warn", "stockpipe: target %s: no acknowledgment can be "
			"matched to '%s': %s", t->name, file, msg);
		goto out;
	}
	if (!edi || !s.n) {
		log_msg("warn", "stockpipe: target %s: '%s' is no X12 or "
			"EDIFACT delivery: acks_in expects no acknowledgment "
			"for it", t->name, file);
		goto out;
	}
	if (eng_tx_begin(r->st, err) < 0)
		return free(s.v), -1;
	for (i = 0; i < s.n && rc == 0; i++) {
		struct state_acks_expect x = {
			t->name,    file,	     s.edifact ? "edifact" : "x12",
			s.v[i].ic,  s.v[i].grp, s.v[i].type,
			s.v[i].set, r->run_id,  at};

		rc = state_acks_expect_add(r->st, &x, err);
	}
	rc = eng_tx_end(r->st, rc, err);
out:
	free(s.v);
	return rc;
}

static int expect_run(struct run *r, const struct cfg_target *t,
		      struct err *err)
{
	struct deliv_list l;
	size_t i;
	int rc = 0;

	memset(&l, 0, sizeof(l));
	l.target = t->name;
	if (state_run_deliveries_each(r->st, r->run_id, on_delivery, &l,
				      err) < 0)
		rc = -1;
	else if (l.nomem)
		rc = err_set(err, E_NOMEM, "out of memory");
	for (i = 0; i < l.n && rc == 0; i++)
		rc = expect_file(r, t, l.name[i], l.at[i], err);
	free(l.name);
	free(l.at);
	return rc;
}

/* ---- 2. and 3. what came back -------------------------------------------- */

struct listing {
	struct conn_entry *v;
	size_t n, cap;
	int nomem;
};

static int on_entry(void *ud, const struct conn_entry *e)
{
	struct listing *l = ud;

	if (ALLOC_GROW(l->v, l->n + 1, l->cap) < 0)
		return l->nomem = 1;
	l->v[l->n++] = *e;
	return 0;
}

/* Oldest first: a later answer about the same delivery replaces an
 * earlier one. */
static int by_mtime(const void *a, const void *b)
{
	const struct conn_entry *x = a, *y = b;

	if (x->mtime != y->mtime)
		return x->mtime < y->mtime ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Records the acknowledgments of one read file and matches them; in the
 * caller's transaction. *unmatched counts those that matched nothing. */
static int record_acks(struct run *r, const struct cfg_target *t,
		       const char *name, const struct ack_read_result *res,
		       int *unmatched, struct err *err)
{
	size_t i;

	for (i = 0; i < res->nacks; i++) {
		const struct ack_read_ack *a = &res->acks[i];
		struct state_acks_in in = {t->name, name, r->run_id, r->now,
					   a, NULL, 0};
		int64_t id, n;

		if (state_acks_in_add(r->st, &in, i, res, &id, err) < 0 ||
		    state_acks_match(r->st, t->name, a, id, r->now, &n,
				     err) < 0)
			return -1;
		if (n)
			continue;
		(*unmatched)++;
		{
			char what[200];

			snprintf(what, sizeof(what), "%s%s%s%s%s%s%s%s",
				 a->ic_control[0] ? " interchange " : "",
				 a->ic_control,
				 a->grp_control[0] ? " group " : "",
				 a->grp_control,
				 a->set_control[0] ? " set " : "",
				 a->set_type, a->set_control[0] ? " " : "",
				 a->set_control);
			log_msg("warn", "stockpipe: target %s: '%s' line %lu: "
				"%s %s for%s matches no delivery; kept "
				"(stockpipe show %lld)",
				t->name, name, a->line, a->type,
				ack_read_status_name(a->status), what,
				(long long)r->run_id);
		}
	}
	return 0;
}

/* A file that is no readable acknowledgment: kept aside under
 * quarantine/acks_in/TARGET/RUN_NAME and recorded with why. */
static int quarantine_ack(struct run *r, const struct cfg_target *t,
			  const char *name, const char *local,
			  const struct err *why, char *qpath, size_t qn,
			  struct err *err)
{
	char dir[4300], base[300], msg[1200];

	snprintf(dir, sizeof(dir), "%s/quarantine/acks_in/%s",
		 r->cfg->state_dir, t->name);
	snprintf(base, sizeof(base), "%lld_%s", (long long)r->run_id, name);
	snprintf(qpath, qn, "%s/%s", dir, base);
	if (io_mkdirs(dir, err) < 0 || io_rename(local, qpath, err) < 0)
		return -1;
	err_format(why, msg, sizeof(msg));
	log_msg("error", "stockpipe: target %s: acknowledgment %s; set aside "
		"as %s", t->name, msg, qpath);
	return 0;
}

/* Reads one listed file unless the ledger has it. */
static int read_one(struct run *r, const struct cfg_target *t,
		    struct conn *c, const char *scope,
		    const struct conn_entry *e, int *unmatched,
		    struct err *err)
{
	struct ack_read_result res;
	struct err fe = ERR_INIT, pe = ERR_INIT;
	char local[4400], sha[SHA256_HEX_LEN], qpath[4700] = "";
	uint64_t got;
	int known, bad, rc;

	if (conn_name_refusal(e->name))
		return 0;
	if (state_file_known(r->st, scope, e->name, e->size, e->mtime, &known,
			     err) < 0)
		return -1;
	if (known)
		return 0;
	snprintf(local, sizeof(local), "%s/acks_in/%s", r->cfg->state_dir,
		 t->name);
	if (io_mkdirs(local, &fe) < 0)
		goto fetch_failed;
	snprintf(local, sizeof(local), "%s/acks_in/%s/%s", r->cfg->state_dir,
		 t->name, e->name);
	if (conn_fetch(c, e->name, local, sha, &got, &fe) < 0)
		goto fetch_failed;
	if (got != e->size) {
		/* still being written: the next listing takes it */
		unlink(local);
		return 0;
	}
	bad = ack_read_path(local, e->name, &res, &pe) < 0;
	if (bad && (pe.code == E_NOMEM || pe.code == E_IO)) {
		ack_read_release(&res);
		fe = pe;
		goto fetch_failed;
	}
	if (bad && quarantine_ack(r, t, e->name, local, &pe, qpath,
				  sizeof(qpath), &fe) < 0) {
		ack_read_release(&res);
		goto fetch_failed;
	}
	if (eng_tx_begin(r->st, err) < 0) {
		ack_read_release(&res);
		return -1;
	}
	rc = state_file_add(r->st, scope, e->name, e->size, e->mtime, sha,
			    r->run_id, bad ? "rejected" : "read", err);
	if (rc == 0 && bad) {
		/* the reason as the reader gave it; where the file went is
		 * quarantine/acks_in/TARGET/RUN_NAME (quarantine_ack) */
		struct state_acks_in in = {t->name, e->name, r->run_id,
					   r->now, NULL, pe.reason, pe.line};
		int64_t id;

		rc = state_acks_in_add(r->st, &in, 0, NULL, &id, err);
	} else if (rc == 0) {
		rc = record_acks(r, t, e->name, &res, unmatched, err);
	}
	ack_read_release(&res);
	if (eng_tx_end(r->st, rc, err) < 0)
		return -1;
	if (!bad) {
		unlink(local);
		run_say(r, "  %s: acknowledgment '%s' read", t->name, e->name);
	}
	return 0;
fetch_failed:
	{
		char msg[1200];

		err_format(&fe, msg, sizeof(msg));
		log_msg("warn", "stockpipe: target %s: acknowledgment '%s' not "
			"read (the next run tries again): %s", t->name, e->name,
			msg);
	}
	return 0;
}

static int read_acks(struct run *r, const struct cfg_target *t,
		     struct err *err)
{
	struct listing l = {NULL, 0, 0, 0};
	struct err ce = ERR_INIT;
	struct conn *c = NULL;
	char scope[160];
	size_t i;
	int rc = 0, unmatched = 0;

	/* the sources' ledger, under a name no source can have (':') */
	snprintf(scope, sizeof(scope), "acks_in:%s", t->name);
	if (conn_open(t->acks_in_url, &t->acks_in_conn, &c, &ce) < 0 ||
	    conn_list(c, on_entry, &l, &ce) < 0) {
		char msg[1200];

		err_format(&ce, msg, sizeof(msg));
		log_msg("warn", "stockpipe: target %s: acks_in not read (the "
			"next run tries again): %s", t->name, msg);
		goto out;
	}
	if (l.nomem) {
		rc = err_set(err, E_NOMEM, "out of memory");
		goto out;
	}
	if (l.n)
		qsort(l.v, l.n, sizeof(l.v[0]), by_mtime);
	for (i = 0; i < l.n && rc == 0 && !eng_stopping(); i++)
		rc = read_one(r, t, c, scope, &l.v[i], &unmatched, err);
out:
	conn_close(c);
	free(l.v);
	return rc;
}

int ackin_target(struct run *r, const struct cfg_target *t, struct err *err)
{
	if (!t->acks_in_url || r->interrupted)
		return 0;
	if (expect_run(r, t, err) < 0)
		return -1;
	return read_acks(r, t, err);
}
