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
 * their txn_ids kept in the ledger (state_txn.h), then the SQLite file
 * gives the space back. The fold reads only the positions of the runs
 * collected since the last one (state_fold.c, "Incremental"); `gc --full`
 * reads every collected event.
 * What is compacted (lib/gz.h: NAME becomes NAME.gz, which every reader
 * takes when NAME is gone), when not dry:
 *   - canonical/RUN and rejects/RUN of every concluded run inside the
 *     retention (the same runs as above, but kept): `rerun --from load`,
 *     `show`, the reports and `quarantine show` read the .gz;
 *   - that run's inbox copies and work/RUN (unpacked members): only a
 *     rerun reads them again, and the stages (and the mapping's content
 *     sniffing) open them by name, so a rerun inflates them back first
 *     (gc_restore_run) and its own gc compresses them again;
 *   - the latest delivery of each target, file and .pub: it is delivered
 *     (a deliver unit never puts it again), and what still reads it (the
 *     delta's picture, `deliver --dry-run`, the report, acks_in) reads
 *     the .gz. Identical pictures of several targets (the same positions
 *     published) are one file under several names (hard links): compared
 *     plain first, compressed once.
 *   It happens at the end of the run, not in the map stage: a run's
 *   files are written once at full speed and compressed once, off the
 *   stages' hot paths (docs/operations.md, "Retention").
 * A collected run gets runs.gc_at; rerun refuses it (its inputs are gone)
 * with a usage error that says so. Only paths inside the state folder are
 * removed, and a tree is walked without following links (FTW_PHYS): a
 * symlink planted in a work folder is removed, never followed.
 */
#include "gc.h"
#include "config.h"
#include "lib/gz.h"
#include "lib/io.h"
#include "lib/log.h"
#include "lib/sha256.h"

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
static struct err *walk_err; /* compact_entry's error */

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

static int rm_one(struct gc_ctx *g, const char *path)
{
	struct stat sb;

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

/* One file a unit made, if it is inside STATE_DIR/under/ and not a kept
 * latest delivery: the file, and its compacted copy (lib/gz.h). */
/* 1 when path is a file inside STATE_DIR/under/ (no ".." step out). */
static int in_state(const struct config *cfg, const char *path,
		    const char *under)
{
	char prefix[PATH_MAX];
	size_t n;

	if (!path[0])
		return 0;
	n = (size_t)snprintf(prefix, sizeof(prefix), "%s/%s/", cfg->state_dir,
			     under);
	return n < sizeof(prefix) && !strncmp(path, prefix, n) &&
	       !strstr(path + n, "/../") && strstr(path + n, "../") != path + n;
}

static int rm_unit_file(struct gc_ctx *g, const char *path, const char *under)
{
	char gz[PATH_MAX];
	size_t i;

	if (!in_state(g->cfg, path, under))
		return 0;
	for (i = 0; i < g->nlatest; i++)
		if (!strcmp(g->latest[i], path))
			return 0;
	if ((size_t)snprintf(gz, sizeof(gz), "%s%s", path, GZ_SUFFIX) >=
	    sizeof(gz))
		return err_set(g->err, E_TOOBIG, "path too long: '%s'", path);
	return rm_one(g, path) < 0 ? -1 : rm_one(g, gz);
}

/* nftw: compresses one file of a kept run's tree; a .gz, an empty file
 * and a writer's temporary ".NAME.tmp" are left as they are. */
static int compact_entry(const char *path, const struct stat *sb, int flag,
			 struct FTW *ftw)
{
	const char *base = path + ftw->base;
	size_t n = strlen(base);
	int64_t saved;

	if (flag != FTW_F || !S_ISREG(sb->st_mode) || !sb->st_size ||
	    base[0] == '.' ||
	    (n > 3 && !strcmp(base + n - 3, GZ_SUFFIX)))
		return 0;
	if (gz_compact(path, &saved, walk_err) < 0)
		return 1;
	walk_stats->compacted++;
	walk_stats->saved += saved;
	return 0;
}

/* The inbox copy a fetch unit of a kept run made, compressed. */
static int compact_inbox(void *ud, struct state_unit *u)
{
	struct gc_ctx *g = ud;
	int64_t saved;

	if (!in_state(g->cfg, u->output_path, "inbox") ||
	    !io_exists(u->output_path))
		return 0;
	if (gz_compact(u->output_path, &saved, g->err) < 0)
		return g->failed = 1, 1;
	g->stats->compacted++;
	g->stats->saved += saved;
	return 0;
}

/* canonical/RUN, rejects/RUN and work/RUN (unpacked members) of a kept
 * run and its inbox copies, compressed: only a rerun reads the inputs
 * again, and it inflates them first (gc_restore_run). */
static int compact_run(struct gc_ctx *g, int64_t run_id)
{
	static const char *const trees[] = {"canonical", "rejects", "work"};
	char dir[PATH_MAX];
	struct stat sb;
	size_t i;

	for (i = 0; i < sizeof(trees) / sizeof(trees[0]); i++) {
		if ((size_t)snprintf(dir, sizeof(dir), "%s/%s/%lld",
				     g->cfg->state_dir, trees[i],
				     (long long)run_id) >= sizeof(dir))
			return err_set(g->err, E_CONFIG,
				       "state folder path too long");
		if (lstat(dir, &sb) < 0) {
			if (errno == ENOENT)
				continue;
			return err_sys(g->err, "cannot stat '%s'", dir);
		}
		walk_stats = g->stats;
		walk_err = g->err;
		if (nftw(dir, compact_entry, 16, FTW_PHYS) != 0)
			return g->err->code ? -1
					    : err_sys(g->err,
						      "cannot walk '%s'", dir);
	}
	if (state_units_each(g->st, run_id, "fetch", NULL, compact_inbox, g,
			     g->err) < 0 || g->failed)
		return -1;
	return 0;
}

/* a's file under the name b too (a hard link, published over b): link
 * to a temporary name, renamed over b. */
static int link_over(struct gc_ctx *g, const char *a, const char *b)
{
	char tmp[PATH_MAX];

	/* ".NAME.link.tmp": io_clean_tmp's pattern */
	if ((size_t)snprintf(tmp, sizeof(tmp), "%.*s/.%s.link.tmp",
			     (int)(strrchr(b, '/') - b), b,
			     strrchr(b, '/') + 1) >= sizeof(tmp))
		return err_set(g->err, E_TOOBIG, "path too long: '%s'", b);
	if (unlink(tmp) < 0 && errno != ENOENT)
		return err_sys(g->err, "cannot remove '%s'", tmp);
	if (link(a, tmp) < 0)
		return err_sys(g->err, "cannot link '%s' to '%s'", tmp, a);
	if (io_rename(tmp, b, g->err) < 0) {
		unlink(tmp); /* the rename's error is the one reported */
		return -1;
	}
	return 0;
}

/* Pictures (.pub.gz) of the latest deliveries with the same bytes become
 * one file under every name. For pictures compressed before they were
 * compared (by a gc of an older stockpipe, or a crash between the two);
 * compact_latest shares the plain ones as it compresses them. */
static int share_pictures(struct gc_ctx *g)
{
	char (*h)[SHA256_HEX_LEN] = calloc(g->nlatest, sizeof(*h));
	char a[PATH_MAX], b[PATH_MAX];
	struct stat sa, sb;
	size_t i, j;
	int rc = -1;

	if (!h)
		return err_set(g->err, E_NOMEM, "out of memory");
	for (j = 3; j < g->nlatest; j += 2)
		for (i = 1; i < j; i += 2) {
			snprintf(a, sizeof(a), "%s%s", g->latest[i], GZ_SUFFIX);
			snprintf(b, sizeof(b), "%s%s", g->latest[j], GZ_SUFFIX);
			if (lstat(a, &sa) < 0 || lstat(b, &sb) < 0 ||
			    !S_ISREG(sa.st_mode) || !S_ISREG(sb.st_mode) ||
			    sa.st_dev != sb.st_dev ||
			    sa.st_size != sb.st_size)
				continue;
			if (sa.st_ino == sb.st_ino)
				break; /* shared already */
			if ((!h[i][0] && sha256_file(a, h[i], NULL, g->err) < 0) ||
			    (!h[j][0] && sha256_file(b, h[j], NULL, g->err) < 0))
				goto cleanup;
			if (strcmp(h[i], h[j]))
				continue;
			if (link_over(g, a, b) < 0)
				goto cleanup;
			g->stats->saved += (int64_t)sb.st_size;
			break;
		}
	rc = 0;
cleanup:
	free(h);
	return rc;
}

/* *eq = 1 when the regular files a and b (of the same size) hold the
 * same bytes. Read, not hashed: the pictures are compared once, and a
 * comparison stops at the first difference. */
static int same_bytes(struct gc_ctx *g, const char *a, const char *b,
		      int *eq)
{
	static char ba[1 << 16], bb[1 << 16];
	FILE *fa = NULL, *fb = NULL;
	struct stat sb;
	size_t na, nb;
	int rc = -1, fd;

	*eq = 0;
	if ((fd = io_open_regular(a, &sb, g->err)) < 0)
		return -1;
	if (!(fa = fdopen(fd, "rb"))) {
		close(fd);
		return err_sys(g->err, "cannot read '%s'", a);
	}
	if ((fd = io_open_regular(b, &sb, g->err)) < 0)
		goto cleanup;
	if (!(fb = fdopen(fd, "rb"))) {
		close(fd);
		err_sys(g->err, "cannot read '%s'", b);
		goto cleanup;
	}
	for (;;) {
		na = fread(ba, 1, sizeof(ba), fa);
		nb = fread(bb, 1, sizeof(bb), fb);
		if (ferror(fa) || ferror(fb)) {
			err_sys(g->err, "cannot read '%s'", ferror(fa) ? a : b);
			goto cleanup;
		}
		if (na != nb || memcmp(ba, bb, na))
			break;
		if (!na) {
			*eq = 1;
			break;
		}
	}
	rc = 0;
cleanup:
	if (fa)
		fclose(fa);
	if (fb)
		fclose(fb);
	return rc;
}

/* lead[i] = the first plain picture (odd index) before i with the same
 * bytes as picture i, else i: identical pictures (the same positions
 * published) are compressed once. */
static int picture_leads(struct gc_ctx *g, size_t *lead)
{
	struct stat si, sj;
	size_t i, j;
	int eq;

	for (i = 0; i < g->nlatest; i++) {
		lead[i] = i;
		if (!(i % 2) || lstat(g->latest[i], &si) < 0 ||
		    !S_ISREG(si.st_mode))
			continue;
		for (j = 1; j < i; j += 2) {
			if (lead[j] != j || lstat(g->latest[j], &sj) < 0 ||
			    !S_ISREG(sj.st_mode) || sj.st_dev != si.st_dev ||
			    sj.st_size != si.st_size)
				continue;
			if (same_bytes(g, g->latest[j], g->latest[i], &eq) < 0)
				return -1;
			if (eq) {
				lead[i] = j;
				break;
			}
		}
	}
	return 0;
}

/* Picture i, the same bytes as lead's (compressed just before): lead's
 * .gz linked under i's .gz name, published durably, then i's plain
 * copy removed (gz_compact's order: a crash leaves both). */
static int share_plain(struct gc_ctx *g, size_t lead, size_t i)
{
	char a[PATH_MAX], b[PATH_MAX];
	struct stat sb;

	if ((size_t)snprintf(a, sizeof(a), "%s%s", g->latest[lead],
			     GZ_SUFFIX) >= sizeof(a) ||
	    (size_t)snprintf(b, sizeof(b), "%s%s", g->latest[i], GZ_SUFFIX) >=
		    sizeof(b))
		return err_set(g->err, E_TOOBIG, "path too long: '%s'",
			       g->latest[i]);
	if (lstat(g->latest[i], &sb) < 0)
		return err_sys(g->err, "cannot stat '%s'", g->latest[i]);
	if (link_over(g, a, b) < 0)
		return -1;
	if (unlink(g->latest[i]) < 0 && errno != ENOENT)
		return err_sys(g->err, "cannot remove '%s'", g->latest[i]);
	if (io_fsync_parent(g->latest[i], g->err) < 0)
		return -1;
	g->stats->compacted++;
	g->stats->saved += (int64_t)sb.st_size;
	return 0;
}

/* The latest delivery of each target, file and picture, compressed: it
 * is delivered, and what reads it again reads the .gz (gc.c, top). */
static int compact_latest(struct gc_ctx *g)
{
	size_t *lead = calloc(g->nlatest + 1, sizeof(*lead));
	int64_t saved;
	size_t i;
	int rc = -1;

	if (!lead)
		return err_set(g->err, E_NOMEM, "out of memory");
	if (picture_leads(g, lead) < 0)
		goto cleanup;
	for (i = 0; i < g->nlatest; i++) {
		if (!io_exists(g->latest[i]))
			continue;
		if (lead[i] != i) {
			if (share_plain(g, lead[i], i) < 0)
				goto cleanup;
			continue;
		}
		if (gz_compact(g->latest[i], &saved, g->err) < 0)
			goto cleanup;
		g->stats->compacted++;
		g->stats->saved += saved;
	}
	rc = share_pictures(g);
cleanup:
	free(lead);
	return rc;
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

/* A concluded run inside the retention: kept, compressed. */
static int keep_run(struct cand *c, const struct state_run *run)
{
	if (c->g->dry_run || compact_run(c->g, run->run_id) == 0)
		return 0;
	return c->failed = 1, 1;
}

static int on_candidate(void *ud, const struct state_run *run)
{
	struct cand *c = ud;
	int64_t started;

	if (run->run_id > c->keep_above)
		return keep_run(c, run);
	/* The run's own clock; a run made before schema 8 has only its
	 * start (wall clock). */
	started = run->clock_s;
	if (started <= 0 &&
	    dt_parse_iso(run->started_at, strlen(run->started_at), &started) <
		    0)
		return 0;
	if (started >= c->cutoff)
		return keep_run(c, run);
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

static int collect(struct state *st, const struct config *cfg, int dry_run,
		   enum state_fold_pick pick, int say, int64_t now,
		   struct gc_stats *stats, struct err *err)
{
	struct gc_ctx g = {st, cfg, dry_run, say, stats, err, 0, NULL, 0};
	struct cand c = {&g, 0, 0, 0};
	char when[DT_ISO_LEN];
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
	    c.failed || (!dry_run && compact_latest(&g) < 0))
		goto cleanup;
	dt_format_iso(now, when);
	if (!dry_run && (state_fold_events_pick(st, pick, when,
						&stats->events, err) < 0 ||
			 state_fold_reclaim(st, &stats->freed, err) < 0))
		goto cleanup;
	if (say && stats->events)
		log_msg("info",
			"  gc: %lld stock event%s folded into newer snapshots "
			"(their txn_ids kept as digests), %lld bytes of the "
			"store given back",
			(long long)stats->events, stats->events == 1 ? "" : "s",
			(long long)stats->freed);
	if (say && stats->compacted)
		log_msg("info",
			"  gc: compressed %lld file%s of kept runs and latest "
			"deliveries",
			(long long)stats->compacted,
			stats->compacted == 1 ? "" : "s");
	rc = 0;
cleanup:
	free(g.latest);
	return rc;
}

int gc_collect(struct state *st, const struct config *cfg, int dry_run,
	       int say, int64_t now, struct gc_stats *stats, struct err *err)
{
	return collect(st, cfg, dry_run, STATE_FOLD_AUTO, say, now, stats,
		       err);
}

int gc_collect_full(struct state *st, const struct config *cfg, int say,
		    int64_t now, struct gc_stats *stats, struct err *err)
{
	return collect(st, cfg, 0, STATE_FOLD_FULL, say, now, stats, err);
}

struct restore_ctx {
	const struct config *cfg;
	struct err *err;
	int64_t n;
	int failed;
};

static int restore_input(void *ud, struct state_unit *u)
{
	struct restore_ctx *x = ud;
	int expanded;

	if (!in_state(x->cfg, u->input_path, "inbox") &&
	    !in_state(x->cfg, u->input_path, "work"))
		return 0;
	if (gz_expand(u->input_path, &expanded, x->err) < 0)
		return x->failed = 1, 1;
	x->n += expanded;
	return 0;
}

int gc_restore_run(struct state *st, const struct config *cfg,
		   int64_t run_id, const char *source, int64_t *restored,
		   struct err *err)
{
	static const char *const stages[] = {"unpack", "map"};
	struct restore_ctx x = {cfg, err, 0, 0};
	size_t i;

	*restored = 0;
	for (i = 0; i < sizeof(stages) / sizeof(stages[0]); i++)
		if (state_units_each(st, run_id, stages[i], source,
				     restore_input, &x, err) < 0 ||
		    x.failed)
			return -1;
	*restored = x.n;
	return 0;
}
