/* render_par.c - see render_par.h. */
#include "render_par.h"
#include "render.h"
#include "render_share.h"
#include "lib/buf.h"
#include "lib/io.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { J_WAITING, J_RUNNING, J_DONE, J_TAKEN };

struct job {
	struct cfg_target tt;     /* the target as the unit renders it */
	struct outbound *ob;      /* owned */
	struct outbound_env env;
	char path[4096];
	char rpath[4200];
	struct render_share_src *src;
	struct render_part *part; /* the rows, once done (rc 0) */
	struct err err;           /* why not, when rc is -1 */
	int heavy;                /* an enveloped format: two passes, or
				   * the body file copied (claimed first) */
	int state;                /* J_*, under par.mu */
	int rc;
};

/* The jobs of the run being rendered; touched by the store's thread,
 * and by the render threads under mu for a job's state. */
static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;        /* a job's state changed */
	struct job *jobs;
	size_t njobs;
	int with_type;            /* the jobs' positions query */
	pthread_t th[RENDER_PAR_MAX];
	int nth;
	int stop;
} par = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, 0, 0,
	 {0}, 0, 0};

/* Test builds: what the jobs did, one line each, appended to the file
 * $STOCKPIPE_RENDER_PAR_LOG names (tests/e2e/render_par.sh checks that
 * the renders it compares did run on threads). */
static void trace(const char *what, const char *name, long n)
{
#ifdef STOCKPIPE_TEST_HOOKS
	const char *path = getenv("STOCKPIPE_RENDER_PAR_LOG");
	FILE *f;

	if (!path || !(f = fopen(path, "a")))
		return;
	fprintf(f, "%s %s %ld\n", what, name, n);
	fclose(f);
#else
	(void)what;
	(void)name;
	(void)n;
#endif
}

int render_par_threads(void)
{
	const char *v = getenv("STOCKPIPE_RENDER_THREADS");
	long n;

	if (v && *v) {
		char *end;

		n = strtol(v, &end, 10);
		if (*end || n < 0)
			n = 1; /* not a number: the safe reading */
	} else {
		n = sysconf(_SC_NPROCESSORS_ONLN);
#ifdef STOCKPIPE_TEST_HOOKS
		/* A crash test numbers a clean run's durable operations and
		 * kills a later run at the n-th, so the numbering must not
		 * depend on timing. The jobs' writes are uncounted
		 * (io_crash_mute), but which thread runs a job, and when,
		 * still varies: such a test gets threads only when it asks
		 * (render_par.sh's threaded sweep, which does not compare
		 * the numbering). */
		if (getenv("STOCKPIPE_CRASH_AT") || getenv("STOCKPIPE_CRASH_LOG"))
			n = 1;
#endif
	}
	if (n < 1)
		n = 1;
	return n > RENDER_PAR_MAX ? RENDER_PAR_MAX : (int)n;
}

size_t render_par_jobs(void)
{
	return par.njobs;
}

int render_par_add(const struct cfg_target *tt, struct outbound *ob,
		   const struct outbound_env *env, const char *path,
		   const char *rpath, struct err *err)
{
	struct job *j, *nj;
	int with_type = tt->nlocation_types != 0;

	if (par.nth)
		return err_set(err, E_INTERNAL, "render jobs already started");
	if (!render_part_ok(tt, ob) ||
	    (par.njobs && with_type != par.with_type))
		return 1;
	nj = realloc(par.jobs, (par.njobs + 1) * sizeof(*nj));
	if (!nj)
		return err_set(err, E_NOMEM, "out of memory");
	par.jobs = nj;
	j = &par.jobs[par.njobs];
	memset(j, 0, sizeof(*j));
	if (str_copy(j->path, sizeof(j->path), path) < 0 ||
	    str_copy(j->rpath, sizeof(j->rpath), rpath) < 0)
		return err_set(err, E_IO, "path too long: '%s'", path);
	j->tt = *tt;
	j->ob = ob;
	j->heavy = !outbound_header_fixed(ob);
	j->env = *env;
	err_clear(&j->err);
	par.with_type = with_type;
	par.njobs++;
	return 0;
}

/* Claims a job nobody took yet; NULL when there is none. Called
 * with par.mu held. */
static struct job *claim(void)
{
	struct job *j = NULL;
	size_t i;

	/* The longest first (an XML target counts its rows, then renders
	 * them): started last, it would end the stage alone. */
	for (i = 0; !par.stop && i < par.njobs; i++) {
		if (par.jobs[i].state != J_WAITING)
			continue;
		if (!j || (par.jobs[i].heavy && !j->heavy))
			j = &par.jobs[i];
	}
	if (j)
		j->state = J_RUNNING;
	return j;
}

/* Renders j's rows (par.mu not held) and says it is done. */
static void run_job(struct job *j)
{
	int rc;

	/* which thread runs a job, and when, varies: its writes are not
	 * crash points (io_crash_mute), so a crash sweep's numbering is
	 * the clean run's */
	io_crash_mute(1);
	rc = render_part_rows(j->src, &j->tt, j->ob, &j->env, j->path,
			      j->rpath, &j->part, &j->err);
	io_crash_mute(0);

	/* the copy is read no more: its space goes with the last reader */
	render_share_src_close(j->src);
	pthread_mutex_lock(&par.mu);
	j->src = NULL;
	j->rc = rc;
	j->state = J_DONE;
	pthread_cond_broadcast(&par.cv);
	pthread_mutex_unlock(&par.mu);
}

static void *worker(void *arg)
{
	struct job *j;

	(void)arg;
	for (;;) {
		pthread_mutex_lock(&par.mu);
		j = claim();
		pthread_mutex_unlock(&par.mu);
		if (!j)
			return NULL;
		run_job(j);
	}
}

/* Starts n threads with every signal blocked: the process's handlers
 * run on the store's thread as before. 0, or -1 with err. */
static int threads_start(int n, struct err *err)
{
	sigset_t all, old;
	int i, rc = 0;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (i = 0; i < n; i++) {
		if (pthread_create(&par.th[i], NULL, worker, NULL) != 0) {
			rc = err_set(err, E_NOMEM, "cannot start a render "
						   "thread");
			break;
		}
		par.nth++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

int render_par_start(struct state *st, int nthreads, const char *dir,
		     struct err *err)
{
	size_t i;
	int n = nthreads;

	if (!par.njobs || par.nth)
		return err_set(err, E_INTERNAL, "no render jobs to start");
	if (n > RENDER_PAR_MAX)
		n = RENDER_PAR_MAX;
	if ((size_t)n > par.njobs)
		n = (int)par.njobs;
	if (io_mkdirs(dir, err) < 0 ||
	    render_share_fill_begin(par.with_type, dir, err) < 0)
		goto fail;
	for (i = 0; i < par.njobs; i++)
		if (!(par.jobs[i].src = render_share_src_open(err)))
			goto fail;
	if (threads_start(n < 1 ? 1 : n, err) < 0)
		goto fail;
	/* The walk on this thread while the threads render behind it; a
	 * failed walk fails the jobs (their readers see it). */
	if (render_share_fill(st, err) < 0)
		goto fail;
	trace("started", "threads", par.nth);
	return 0;
fail:
	/* threads waiting for a walk that never comes see it fail */
	render_share_drop();
	render_par_end();
	return -1;
}

/* 1 when j was made for these inputs. */
static int job_is(const struct job *j, const struct cfg_target *tt,
		  const struct outbound *ob, const char *path,
		  const char *rpath)
{
	return !strcmp(j->tt.name, tt->name) && !strcmp(j->path, path) &&
	       !strcmp(j->rpath, rpath) &&
	       j->tt.safety_pct == tt->safety_pct &&
	       !strcmp(outbound_sha256(j->ob), outbound_sha256(ob));
}

struct render_part *render_par_take(const struct cfg_target *tt,
				    const struct outbound *ob,
				    const char *path, const char *rpath)
{
	struct render_part *part = NULL;
	struct job *j = NULL;
	size_t i;

	for (i = 0; i < par.njobs && !j; i++)
		if (!strcmp(par.jobs[i].tt.name, tt->name))
			j = &par.jobs[i];
	if (!j || !par.nth)
		return NULL;
	pthread_mutex_lock(&par.mu);
	if (j->state == J_WAITING) {
		/* No thread got to it: this thread renders it now rather
		 * than wait for one. */
		j->state = J_RUNNING;
		pthread_mutex_unlock(&par.mu);
		run_job(j);
		pthread_mutex_lock(&par.mu);
	}
	while (j->state == J_RUNNING) {
		/* Rather than wait idle, render a job no thread took yet:
		 * this thread is done with the walk. */
		struct job *other = claim();

		if (!other) {
			pthread_cond_wait(&par.cv, &par.mu);
			continue;
		}
		pthread_mutex_unlock(&par.mu);
		run_job(other);
		pthread_mutex_lock(&par.mu);
	}
	if (j->state == J_DONE) {
		j->state = J_TAKEN;
		part = j->part;
		j->part = NULL;
	}
	pthread_mutex_unlock(&par.mu);
	if (part && !job_is(j, tt, ob, path, rpath)) {
		/* Made for other inputs: its temporary files go. */
		render_part_free(part);
		part = NULL;
	}
	trace(part ? "took" : "none", tt->name, j->rc);
	return part;
}

void render_par_end(void)
{
	size_t i;
	int t;

	pthread_mutex_lock(&par.mu);
	par.stop = 1;
	pthread_mutex_unlock(&par.mu);
	for (t = 0; t < par.nth; t++)
		pthread_join(par.th[t], NULL);
	for (i = 0; i < par.njobs; i++) {
		render_part_free(par.jobs[i].part);
		render_share_src_close(par.jobs[i].src);
		outbound_free(par.jobs[i].ob);
	}
	free(par.jobs);
	par.jobs = NULL;
	par.njobs = 0;
	par.nth = 0;
	par.stop = 0;
}
