/* conn_local.c - the file:// connector: a local (or mounted) folder.
 *
 * Used for drop folders that partners reach by other means and for the
 * demo. Files are published with the same temp + fsync + rename discipline
 * as everything else, so a consumer polling the folder never picks up a
 * half-written snapshot.
 */
#include "connector.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/io.h"
#include "lib/log.h"

struct local_state {
	char dir[4096];
};

static int local_path(struct conn *c, const char *name, char *out, size_t n,
		      struct err *err)
{
	struct local_state *s = c->state;

	if (!conn_name_ok(name))
		return err_set(err, E_PARSE, "refusing unsafe file name '%s'",
			       name);
	if ((size_t)snprintf(out, n, "%s/%s", s->dir, name) >= n)
		return err_set(err, E_IO, "path too long for '%s'", name);
	return 0;
}

/* io_open_regular on a source file: gone is E_NOTFOUND (the run drops it
 * from its plan); a symlink, fifo, folder or device is refused (E_PARSE,
 * the message says which). */
static int open_source(const char *path, struct stat *st,
		       struct err *err)
{
	int fd = io_open_regular(path, st, err);

	if (fd < 0 && err->os_code == ENOENT)
		err->code = E_NOTFOUND;
	return fd;
}

static int local_open(struct conn *c, const char *url,
		      const struct conn_opts *opts, struct err *err)
{
	struct local_state *s = c->state;
	struct stat st;

	(void)opts; /* done_suffix is read from c->opts where it is used */
	snprintf(s->dir, sizeof(s->dir), "%s", url + strlen("file://"));
	if (stat(s->dir, &st) < 0) {
		err_sys(err, "cannot open folder '%s'", s->dir);
		if (errno == ENOENT)
			err->code = E_CONFIG;
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return err_set(err, E_CONFIG, "'%s' is not a folder", s->dir);
	return 0;
}

static int local_list(struct conn *c,
		      int (*each)(void *ud, const struct conn_entry *e),
		      void *ud, struct err *err)
{
	struct local_state *s = c->state;
	DIR *d = opendir(s->dir);
	struct dirent *de;
	int rc = 0;

	if (!d)
		return err_sys(err, "cannot list '%s'", s->dir);
	while ((de = readdir(d))) {
		struct conn_entry e;
		struct stat st;
		char path[4352];

		/* Dot files are hidden: ours are temporary (".NAME.tmp"),
		 * and partners use them for uploads in progress. */
		if (de->d_name[0] == '.' || !conn_name_ok(de->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", s->dir, de->d_name);
		/* lstat: a symlink in a drop folder is not followed; it could
		 * point anywhere on this machine. */
		if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (c->opts.done_suffix) {
			struct stat mst;
			char marker[4608];

			/* done_suffix: a marker is never data itself, and a
			 * file without its marker is still being written. */
			if (conn_is_marker(de->d_name, c->opts.done_suffix))
				continue;
			snprintf(marker, sizeof(marker), "%s%s", path,
				 c->opts.done_suffix);
			if (lstat(marker, &mst) < 0 || !S_ISREG(mst.st_mode))
				continue;
		}
		memset(&e, 0, sizeof(e));
		snprintf(e.name, sizeof(e.name), "%s", de->d_name);
		e.size = (uint64_t)st.st_size;
		e.mtime = (int64_t)st.st_mtime;
		if ((rc = each(ud, &e)) != 0)
			break;
	}
	closedir(d);
	return rc < 0 ? -1 : 0;
}

static int local_fetch(struct conn *c, const char *name,
		       const char *local_file, char *sha_hex, uint64_t *size,
		       struct err *err)
{
	char path[4352];
	struct stat st;
	int fd;

	if (local_path(c, name, path, sizeof(path), err) < 0)
		return -1;
	/* Between the listing and here anything may have been put under
	 * the name: open first, without following a symlink or waiting for
	 * a fifo's writer, then check what the descriptor is. A check of
	 * the name before the open (lstat) would be a race. */
	io_test_pause("fetch-open");
	if ((fd = open_source(path, &st, err)) < 0)
		return -1;
	if (io_copy_fd(fd, path, local_file, 0, sha_hex, size, err) < 0) {
		if (err->os_code == ENOENT)
			err->code = E_NOTFOUND;
		return -1;
	}
	return 0;
}

/* A target's `mode:` on a file found already published with our bytes
 * (a redone delivery): a new file gets its mode before the rename
 * (io_copy_noreplace_mode), this one may come from a version that
 * applied it after. */
static int apply_mode(struct conn *c, const char *path, struct err *err)
{
	if (c->opts.file_mode && chmod(path, (mode_t)c->opts.file_mode) < 0)
		return err_sys(err, "cannot chmod '%s' to %04o", path,
			       (unsigned)c->opts.file_mode);
	return 0;
}

static int local_put(struct conn *c, const char *local_file, const char *name,
		     struct err *err)
{
	char path[4352], have[SHA256_HEX_LEN], want[SHA256_HEX_LEN];
	struct err e = ERR_INIT;
	int rc;

	if (local_path(c, name, path, sizeof(path), err) < 0)
		return -1;
	/* The outbox file is complete, fsynced and never written again: on
	 * the same file system the target gets it as a second name of the
	 * same file (io_link_noreplace), not a copy of every byte (a 100 MB
	 * input's three snapshots are about 500 MB). A copy elsewhere, and
	 * when the target's mode: lets group or others write: whoever may
	 * write the delivered file must not be writing the outbox's.
	 * The final name exists: either we renamed it there before a crash
	 * and are redoing the delivery (same bytes: done), or something else
	 * wrote it (different bytes: refuse; never overwrite a target's
	 * file silently). */
	rc = c->opts.file_mode & 022
		     ? 1
		     : io_link_noreplace(local_file, path,
					 (unsigned)c->opts.file_mode, &e);
	if (rc == 1)
		rc = io_copy_noreplace_mode(local_file, path,
					    (unsigned)c->opts.file_mode, NULL,
					    NULL, &e);
	if (rc == 0)
		return 0;
	if (e.code != E_EXISTS) {
		*err = e;
		return -1;
	}
	/* RENAME_NOREPLACE: a file that appeared under the name at any
	 * moment before the rename is never replaced. */
	if (sha256_file(path, have, NULL, err) < 0 ||
	    sha256_file(local_file, want, NULL, err) < 0)
		return -1;
	if (!strcmp(have, want))
		return apply_mode(c, path, err);
	return err_set(err, E_EXISTS,
		       "'%s' already exists in the target folder "
		       "with different content; not overwritten",
		       name);
}

/* With done_suffix, the marker goes with its file: left behind it would
 * release the next file of the same name before that one is complete. */
static void drop_marker(struct conn *c, const char *path)
{
	char marker[4608];

	if (!c->opts.done_suffix)
		return;
	snprintf(marker, sizeof(marker), "%s%s", path, c->opts.done_suffix);
	unlink(marker);
}

/* The k-th name tried for name in the processed folder: the name itself,
 * then "STEM~K.EXT" (the extension kept, so patterns on the folder still
 * match). */
static int moved_name(char *out, size_t n, const char *dir, const char *name,
		      unsigned k)
{
	const char *dot = strrchr(name, '.');
	int w;

	if (!dot || dot == name)
		dot = name + strlen(name);
	if (k == 0)
		w = snprintf(out, n, "%s/%s", dir, name);
	else
		w = snprintf(out, n, "%s/%.*s~%u%s", dir, (int)(dot - name),
			     name, k, dot);
	return w < 0 || (size_t)w >= n ? -1 : 0;
}

static int local_move(struct conn *c, const char *name, const char *subdir,
		      struct err *err)
{
	struct local_state *s = c->state;
	char from[4352], dir[4352], to[4608];
	unsigned k;

	if (local_path(c, name, from, sizeof(from), err) < 0)
		return -1;
	snprintf(dir, sizeof(dir), "%s/%s", s->dir, subdir);
	if (io_mkdirs(dir, err) < 0)
		return -1;
	/* An older copy under the name (the partner sent the name again)
	 * is kept: the file goes under the first free "STEM~K.EXT", never
	 * over it. The ledger keeps the name it was fetched under. */
	for (k = 0;; k++) {
		struct err e = ERR_INIT;

		if (k > 999 || moved_name(to, sizeof(to), dir, name, k) < 0)
			return err_set(err, E_EXISTS,
				       "no free name for '%s' in '%s'", name,
				       dir);
		if (io_rename_noreplace(from, to, &e) == 0)
			break;
		if (e.code != E_EXISTS) {
			*err = e;
			return -1;
		}
	}
	if (k > 0)
		log_msg("warn", "stockpipe: '%s' moved to '%s': an older '%s' "
			"is kept there", name, to, name);
	drop_marker(c, from);
	return io_fsync_dir(s->dir, err);
}

static int local_remove(struct conn *c, const char *name, struct err *err)
{
	struct local_state *s = c->state;
	char path[4352];

	if (local_path(c, name, path, sizeof(path), err) < 0)
		return -1;
	io_crash_point("remove");
	if (unlink(path) < 0 && errno != ENOENT)
		return err_sys(err, "cannot remove '%s'", path);
	drop_marker(c, path);
	return io_fsync_dir(s->dir, err);
}

static int local_stat(struct conn *c, const char *name, struct conn_entry *out,
		      struct err *err)
{
	char path[4352];
	struct stat st;

	if (local_path(c, name, path, sizeof(path), err) < 0)
		return -1;
	/* lstat: the post stage asks whether the file is still the one it
	 * fetched; a symlink put there since is not. */
	if (lstat(path, &st) < 0) {
		err_sys(err, "cannot stat '%s'", path);
		if (errno == ENOENT)
			err->code = E_NOTFOUND;
		return -1;
	}
	if (!S_ISREG(st.st_mode))
		return err_set(err, E_PARSE, "'%s' is no longer a regular "
				"file", path);
	memset(out, 0, sizeof(*out));
	snprintf(out->name, sizeof(out->name), "%s", name);
	out->size = (uint64_t)st.st_size;
	out->mtime = (int64_t)st.st_mtime;
	return 0;
}

int conn_local_digest(struct conn *c, const char *name, char *sha_hex,
		      struct err *err)
{
	char path[4352];
	struct stat st;
	int fd, rc;

	if (local_path(c, name, path, sizeof(path), err) < 0)
		return -1;
	/* opened as a fetch opens it: no link followed, a regular file */
	if ((fd = open_source(path, &st, err)) < 0)
		return -1;
	rc = sha256_fd(fd, path, sha_hex, NULL, err);
	close(fd);
	return rc;
}

static void local_close(struct conn *c)
{
	(void)c;
}

static const struct conn_ops local_ops = {
	local_open,   /* open */
	local_list,   /* list */
	local_fetch,  /* fetch */
	local_put,    /* put */
	local_move,   /* move */
	local_remove, /* remove */
	local_stat,   /* stat */
	local_close,  /* close */
};

const struct conn_scheme conn_scheme_file = {
	"file",                      /* scheme */
	&local_ops,                  /* ops */
	sizeof(struct local_state),  /* state_size */
};
