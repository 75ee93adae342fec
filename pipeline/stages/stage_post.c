/* stage_post.c - the post stage (after_load): once every document of a
 * fetched file is loaded or set aside, the file is moved to processed_dir
 * or deleted at the source, or left as it is. */
#include "pipeline/run.h"
#include "pipeline/run_int.h"
#include "stage.h"
#include "pipeline/config.h"
#include "lib/io.h"
#include "lib/log.h"
#include "render.h"
#include "pipeline/schedule.h"
#include "pipeline/store/state.h"
#include "pipeline/store/state_arrival.h"
#include "pipeline/store/state_ic.h"
#include "pipeline/store/state_park.h"
#include "pipeline/store/state_work.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "connectors/connector.h"
#include "transforms/model/dt.h"
#include "transforms/formats/edi.h"
#include "transforms/formats/edi_ack.h"
#include "transforms/mapping/filepat.h"
#include "transforms/mapping/mapping.h"
#include "transforms/outbound/outbound.h"
#include "transforms/formats/unpack.h"

#define POST_SAME_STAT "same size and mtime, other content"

/* Why the file at the source is not the one fetched as u, or NULL when
 * it is (or when the check failed: then err is set). Size and mtime
 * always; a local file's content too, since a file replaced by one of
 * the same size within the same second looks unchanged otherwise. */
static const char *post_changed(struct src_ctx *sc, const struct state_unit *u,
				const struct conn_entry *ce, uint64_t size,
				int64_t mtime, struct err *err)
{
	char sha[SHA256_HEX_LEN];
	int rc;

	if (ce->size != size)
		return "another size";
	if (ce->mtime != mtime)
		return "another mtime";
	rc = conn_digest(sc->conn, u->ukey, sha, err);
	if (rc < 0) {
		if (err->code != E_PARSE)
			return NULL;
		err_clear(err);
		return "no longer a regular file";
	}
	if (rc == 0 && strcmp(sha, u->output_sha))
		return POST_SAME_STAT;
	return NULL;
}

static int post_unit(void *ud, struct state_unit *u)
{
	struct src_ctx *sc = ud;
	struct run *r = sc->r;
	struct err e = ERR_INIT;
	struct conn_entry ce;
	int64_t open;
	int rc = 0;

	/* Only files we hold a copy of (a file set aside as changing or
	 * gone was not fetched and is not ours to move), and only once every
	 * unit made from the file is finished: one parked document holds
	 * back its own file, not the source's other files. */
	if ((u->state != US_DONE && u->state != US_SKIPPED) ||
	    !u->output_sha[0] || u->posted)
		return 0;
	if (state_unit_tree_open(r->st, u->id, &open, &e) < 0)
		return eng_unit_fail(r, u, &e);
	if (open)
		return 0;
	/* A replayed file was never listed: not ours to move. */
	if (!u->listed)
		return 0;
	if (sc->src->after_load != CFG_AFTER_LEAVE) {
		/* Already gone means a crash hit after the move/delete but
		 * before we recorded it. */
		io_test_pause("post-check");
		if (conn_stat(sc->conn, u->ukey, &ce, &e) ==
		    0) {
			/* Another size, mtime or (where it can be read
			 * cheaply) content: not the file we fetched but a
			 * new version under the same name (re-sent since,
			 * e.g. while a killed run waited for its resume).
			 * Moving or deleting it would lose it unread; leave
			 * it for the next run, which sees it as new. */
			const char *why = post_changed(sc, u, &ce,
						       u->file_size,
						       u->file_mtime, &e);

			if (why == NULL && e.code != E_NONE)
				rc = -1;
			else if (why && !strcmp(why, POST_SAME_STAT) &&
				 !sc->src->detect_content)
				/* The ledger knows this name, size and mtime:
				 * no listing takes it again by itself (but
				 * detect_changes: content does). */
				log_msg("warn", "stockpipe: %s: '%s' changed at "
					"the source since it was fetched (%s); "
					"left in place, not %s unread: touch it "
					"to have it loaded", sc->src->name,
					u->ukey, why,
					sc->src->after_load == CFG_AFTER_MOVE
						? "moved"
						: "deleted");
			else if (why)
				run_say(r, "  %s: '%s' changed at the source since "
				    "it was fetched (%s); left for the next run",
				    sc->src->name, u->ukey, why);
			else if (sc->src->after_load == CFG_AFTER_MOVE)
				rc = conn_move(sc->conn, u->ukey,
					sc->src->processed_dir, &e);
			else
				rc = conn_remove(sc->conn, u->ukey, &e);
		} else if (e.code == E_PARSE) {
			/* a symlink or fifo under the name now: not ours */
			run_say(r, "  %s: '%s' changed at the source since it "
			    "was fetched (%s); left as it is", sc->src->name,
			    u->ukey, e.reason);
			err_clear(&e);
		} else if (e.code != E_NOTFOUND) {
			rc = -1;
		}
		if (rc < 0)
			return eng_unit_fail(r, u, &e);
	}
	err_clear(&e);
	u->posted = 1;
	{
		static const char *const done[] = {
			[CFG_AFTER_LEAVE] = "left in place",
			[CFG_AFTER_MOVE] = "moved",
			[CFG_AFTER_DELETE] = "deleted"};
		size_t dl = strlen(u->detail);

		run_notef(u->detail + dl, sizeof(u->detail) - dl,
			  "; %s at the source (after_load)",
			  done[sc->src->after_load]);
	}
	if (eng_tx_begin(r->st, &e) < 0 ||
	    eng_tx_end(r->st, state_file_post_set(r->st, sc->src->name,
						  u->ukey, u->file_size,
						  u->file_mtime, u->output_sha,
						  "done",
						  &e) < 0 ||
		       state_unit_save(r->st, u, &e) < 0,
		       &e) < 0) {
		return eng_unit_fail(r, u, &e);
	}
	return 0;
}

const struct stage_ops stage_post = {
	.name = "post",
	.stage = ST_FETCH,
	.scope = STAGE_SOURCE,
	.unit = post_unit,
	.source_done = NULL,
};
