/* gc.c - retention: the files a state folder keeps of old runs.
 *
 * What is collected, per run outside the retention (config.h
 * cfg_retention: older than `age` and not among the last `runs` runs):
 *   canonical/RUN, rejects/RUN, work/RUN (the unpacked members), the
 *   inbox copies its fetch units made and the outbox files (and their
 *   .pub pictures) its render units made.
 * What is never collected:
 *   - a run that is not concluded (running, interrupted, partial: resume
 *     needs its files), or that holds a unit that is not finished (a
 *     parked failure no later run took over, a quarantined document
 *     waiting for its release): its files are what the operator's next
 *     step needs;
 *   - the latest delivery of each target (file and .pub): a delta
 *     target's next delivery is computed against it;
 *   - everything in the store but folded stock events: the run and unit
 *     rows, the file ledger, the txn_id and interchange ledgers (so a
 *     replay years later is still recognised as a duplicate), the reports
 *     (small; a run's record).
 * Stock events of collected runs that a newer snapshot of a collected run
 * covers are folded (pipeline/store/state_fold.c says which and why that
 * never takes what a rerun or resume inside the window needs): deleted,
 * their txn_ids kept as 16-byte digests, then the SQLite file gives the
 * space back.
 * A collected run gets runs.gc_at; rerun refuses it (its inputs are gone)
 * with a usage error that says so. Only paths inside the state folder are
 * removed, and a tree is walked without following links (FTW_PHYS): a
 * symlink planted in a work folder is removed, never followed.
 */
#include "gc.h"
#include "config.h"
#include "lib/log.h"

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pipeline/store/state.h"
#include "pipeline/store/state_fold.h"
#include "transforms/model/dt.h"

struct gc_ctx {
	struct state *st;
	const struct config *cfg;
	int dry_run;
	int say;
	struct gc_stats *stats;
	struct err *err;
	int failed;
	/* the latest delivery of each target: kept */
	char (*latest)[PATH_MAX];
	size_t nlatest;
};

/* nftw has no user pointer: the walk's counters (one walk at a time). */
static struct gc_stats *walk_stats;
static int walk_dry;
static int walk_errno;

static int rm_entry(const char *path, const struct stat *sb, int flag,
		    struct FTW *ftw)
{
	(void)ftw;
	if (flag != FTW_DP && flag != FTW_D) {
		walk_stats->files++;
		walk_stats->bytes += (int64_t)sb->st_size;
	}
	if (walk_dry)
		return 0;
	if ((flag == FTW_DP ? rmdir(path) : unlink(path)) < 0 &&
	    errno != ENOENT) {
		walk_errno = errno;
		return 1;
	}
	return 0;
}

/* Removes the tree at STATE_DIR/what/RUN (counted only when dry). */
static int rm_run_tree(struct gc_ctx *g, const char *what, int64_t run_id)
{
	char dir[PATH_MAX];
	struct stat sb;

	if ((size_t)snprintf(dir, sizeof(dir), "%s/%s/%lld", g->cfg->state_dir,
			     what, (long long)run_id) >= sizeof(dir))
		return err_set(g->err, E_CONFIG, "state folder path too long");
	if (lstat(dir, &sb) < 0)
		return errno == ENOENT ? 0 : err_sys(g->err, "cannot stat '%s'", dir);
	walk_stats = g->stats;
	walk_dry = g->dry_run;
	walk_errno = 0;
	if (nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0) {
		errno = walk_errno ? walk_errno : errno;
		return err_sys(g->err, "cannot remove '%s'", dir);
	}
	return 0;
}

/* One file a unit made, if it is inside STATE_DIR/under/ and not a kept
 * latest delivery. */
static int rm_unit_file(struct gc_ctx *g, const char *path, const char *under)
{
	char prefix[PATH_MAX];
	struct stat sb;
	size_t i, n;

	if (!path[0])
		return 0;
	n = (size_t)snprintf(prefix, sizeof(prefix), "%s/%s/",
			     g->cfg->state_dir, under);
	if (n >= sizeof(prefix) || strncmp(path, prefix, n) ||
	    strstr(path + n, "/../") || strstr(path + n, "../") == path + n)
		return 0;
	for (i = 0; i < g->nlatest; i++)
		if (!strcmp(g->latest[i], path))
			return 0;
	if (lstat(path, &sb) < 0)
		return errno == ENOENT ? 0
				       : err_sys(g->err, "cannot stat '%s'", path);
	if (!S_ISREG(sb.st_mode) && !S_ISLNK(sb.st_mode))
		return 0;
	g->stats->files++;
	g->stats->bytes += (int64_t)sb.st_size;
	if (!g->dry_run && unlink(path) < 0 && errno != ENOENT)
		return err_sys(g->err, "cannot remove '%s'", path);
	return 0;
}

static int unit_files(void *ud, struct state_unit *u)
{
	struct gc_ctx *g = ud;
	char pub[PATH_MAX];

	if (!strcmp(u->stage, "fetch")) {
		if (rm_unit_file(g, u->output_path, "inbox") < 0)
			return g->failed = 1, 1;
	} else if (!strcmp(u->stage, "render") && u->output_path[0]) {
		if ((size_t)snprintf(pub, sizeof(pub), "%s.pub",
				     u->output_path) >= sizeof(pub))
			return 0;
		if (rm_unit_file(g, u->output_path, "outbox") < 0 ||
		    rm_unit_file(g, pub, "outbox") < 0)
			return g->failed = 1, 1;
	}
	return 0;
}

static int collect_run(struct gc_ctx *g, const struct state_run *run,
		       int64_t started)
{
	static const char *const trees[] = {"canonical", "rejects", "work"};
	static const char *const stages[] = {"fetch", "render"};
	char now[DT_ISO_LEN], when[DT_ISO_LEN];
	struct gc_stats before = *g->stats;
	size_t i;

	for (i = 0; i < sizeof(trees) / sizeof(trees[0]); i++)
		if (rm_run_tree(g, trees[i], run->run_id) < 0)
			return -1;
	for (i = 0; i < sizeof(stages) / sizeof(stages[0]); i++)
		if (state_units_each(g->st, run->run_id, stages[i], NULL,
				     unit_files, g, g->err) < 0 ||
		    g->failed)
			return -1;
	g->stats->runs++;
	dt_format_iso(started, when);
	if (g->say)
		log_msg("info",
			"  gc: run %lld (started %s): %lld file%s, %lld "
			"bytes%s",
			(long long)run->run_id, when,
			(long long)(g->stats->files - before.files),
			g->stats->files - before.files == 1 ? "" : "s",
			(long long)(g->stats->bytes - before.bytes),
			g->dry_run ? " would be removed" : " removed");
	if (g->dry_run)
		return 0;
	dt_format_iso(g->stats->now, now);
	return state_run_gc_mark(g->st, run->run_id, now, g->err);
}

struct cand {
	struct gc_ctx *g;
	int64_t keep_above; /* run ids above this are among the last N */
	int64_t cutoff;     /* runs started before this are old enough */
	int failed;
};

static int on_candidate(void *ud, const struct state_run *run)
{
	struct cand *c = ud;
	int64_t started;

	if (run->run_id > c->keep_above)
		return 0;
	/* The run's own clock; a run made before schema 8 has only its
	 * start (wall clock). */
	started = run->clock_s;
	if (started <= 0 &&
	    dt_parse_iso(run->started_at, strlen(run->started_at), &started) <
		    0)
		return 0;
	if (started >= c->cutoff)
		return 0;
	if (collect_run(c->g, run, started) < 0)
		return c->failed = 1, 1;
	return 0;
}

/* The latest delivery of each target, as outbox paths (file and .pub). */
static int latest_deliveries(struct gc_ctx *g, char (*out)[PATH_MAX],
			     size_t *n)
{
	char base[1024];
	size_t i;
	int found;

	*n = 0;
	for (i = 0; i < g->cfg->ntargets; i++) {
		const char *t = g->cfg->targets[i].name;

		if (state_delivery_latest(g->st, t, base, sizeof(base), &found,
					  g->err) < 0)
			return -1;
		if (!found)
			continue;
		snprintf(out[(*n)++], PATH_MAX, "%s/outbox/%s/%s",
			 g->cfg->state_dir, t, base);
		snprintf(out[(*n)++], PATH_MAX, "%s/outbox/%s/%s.pub",
			 g->cfg->state_dir, t, base);
	}
	return 0;
}

int gc_collect(struct state *st, const struct config *cfg, int dry_run,
	       int say, int64_t now, struct gc_stats *stats, struct err *err)
{
	struct gc_ctx g = {st, cfg, dry_run, say, stats, err, 0, NULL, 0};
	struct cand c = {&g, 0, 0, 0};
	int64_t last;
	int rc = -1;

	memset(stats, 0, sizeof(*stats));
	stats->now = now;
	if (!cfg->retention.on)
		return 0;
	if (!(g.latest = calloc(2 * cfg->ntargets + 1, sizeof(*g.latest))))
		return err_set(err, E_NOMEM, "out of memory");
	if (latest_deliveries(&g, g.latest, &g.nlatest) < 0 ||
	    state_run_last_id(st, &last, err) < 0)
		goto cleanup;
	c.keep_above = last - cfg->retention.runs;
	c.cutoff = now - cfg->retention.age;
	if (state_runs_collectable_each(st, on_candidate, &c, err) < 0 ||
	    c.failed)
		goto cleanup;
	if (!dry_run && (state_fold_events(st, &stats->events, err) < 0 ||
			 state_fold_reclaim(st, &stats->freed, err) < 0))
		goto cleanup;
	if (say && stats->events)
		log_msg("info",
			"  gc: %lld stock event%s folded into newer snapshots "
			"(their txn_ids kept as digests), %lld bytes of the "
			"store given back",
			(long long)stats->events, stats->events == 1 ? "" : "s",
			(long long)stats->freed);
	rc = 0;
cleanup:
	free(g.latest);
	return rc;
}
