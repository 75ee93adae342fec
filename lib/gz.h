/* gz.h - gzip files (RFC 1952, zlib) for the state folder's artifacts of
 * concluded runs: written and read as streams in bounded memory.
 *
 * A compacted artifact lives as NAME.gz next to where NAME was. Readers
 * open NAME through gz_open, which takes NAME when it is there and
 * NAME.gz otherwise: compaction publishes NAME.gz durably before it
 * removes NAME, so a crash between the two leaves two complete copies
 * and the plain one is read. The bytes written are deterministic (no
 * file name, mtime 0, one level): the same content gives the same .gz.
 */
#ifndef STOCKPIPE_GZ_H
#define STOCKPIPE_GZ_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "err.h"

#define GZ_SUFFIX ".gz"

/* An artifact open for reading. f is an ordinary stream (getline, fread);
 * a .gz is inflated as it is read. */
struct gz_in {
	FILE *f;
	int64_t size;   /* bytes on disk (compressed, for a .gz) */
	int compressed; /* f reads NAME.gz */
	char path[4096]; /* the file opened (NAME or NAME.gz) */
	struct gz_impl *impl;
	char *buf;      /* f's buffer (plain files), freed by gz_close */
};

/* Opens path, or path.gz when path does not exist (neither: errno's
 * ENOENT in err, E_IO). Never follows a symlink. *out is freed by
 * gz_close in every case. */
int gz_open(struct gz_in **out, const char *path, struct err *err);

/* Closes g (NULL is fine) and reports what reading it met: a .gz that
 * ends before its gzip stream does is E_PARSE "truncated", a damaged one
 * E_PARSE with zlib's reason, a read error E_IO. A reader's loop ends
 * at such an error as at the end of the file, so it must check this. */
int gz_close(struct gz_in *g, struct err *err);

/* A descriptor of path's plain bytes, for readers that need one (the
 * EDI readers): path itself, or, when only path.gz is there, an
 * unlinked temporary file in path's folder holding it inflated (disk,
 * not memory). -1 with err as gz_open and gz_close. */
int gz_open_fd(const char *path, struct err *err);

/* getline(3) on g->f, but -1 for a line that ends where reading met an
 * error (a truncated .gz): its tail would be a partial record. The error
 * itself comes from gz_close. */
ssize_t gz_getline(char **line, size_t *cap, struct gz_in *g);

/* 1 when path or path.gz exists. */
int gz_exists(const char *path);

/* Writes src compressed to dst, published durably (lib/io.h). in_bytes
 * and out_bytes (may be NULL) receive the sizes. */
int gz_compress_file(const char *src, const char *dst, int64_t *in_bytes,
		     int64_t *out_bytes, struct err *err);

/* Replaces path by path.gz: path.gz published durably, then path
 * removed. Nothing when path is absent (already compacted). saved (may
 * be NULL) receives the bytes the state folder no longer holds. */
int gz_compact(const char *path, int64_t *saved, struct err *err);

/* The inverse, for a reader that needs the plain file by its name (a
 * rerun's map stage): path.gz inflated into path, published durably,
 * then path.gz removed. Nothing when path is there or path.gz is not
 * (*expanded 0); a damaged .gz is an error and path is not published. */
int gz_expand(const char *path, int *expanded, struct err *err);

#endif
