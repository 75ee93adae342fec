/* io.h - durable file publishing and test crash points.
 *
 * Every file stockpipe produces is published the way redis saves its RDB:
 * written under a temporary name in the destination directory, fsynced,
 * renamed over the final name, and the directory fsynced. A reader (or a
 * resumed run) therefore sees either no file or the complete file, never a
 * partial one under a final name.
 *
 * Crash points: in builds with STOCKPIPE_TEST_HOOKS, the environment variable
 * STOCKPIPE_CRASH_AT=N makes the process SIGKILL itself just before its Nth
 * durable operation (write, fsync, rename, state commit, remote upload or
 * rename). STOCKPIPE_CRASH_LOG=path appends one line per durable operation,
 * so a test knows how many crash points a run has.
 */
#ifndef STOCKPIPE_IO_H
#define STOCKPIPE_IO_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "sha256.h"

/* Counts a durable operation named what; may not return (test builds). */
void io_crash_point(const char *what);

/* mkdir -p; mode 0755. */
int io_mkdirs(const char *path, struct err *err);
/* fsync of a directory so a rename in it survives power loss. */
int io_fsync_dir(const char *dir, struct err *err);
/* fsync of a file's parent directory. */
int io_fsync_parent(const char *path, struct err *err);
int io_exists(const char *path);
/* rename + fsync of the destination directory, as a crash point. */
int io_rename(const char *from, const char *to, struct err *err);

/* A file being written for atomic publication. Buffered: appends cost no
 * syscall until 64 KiB are pending. Hashes the content as it goes (each
 * 64 KiB as it is written out). */
struct io_atomic {
	int fd;
	char tmp[4096];     /* ".NAME.tmp" in the directory of final */
	char final[4096];
	struct sha256 sha;
	uint64_t bytes;     /* bytes appended so far */
	size_t pending;
	int failed;         /* a write failed; commit will refuse */
	unsigned char *buf; /* 64 KiB write buffer */
};

/* Creates final's directory if needed and opens a temporary file beside
 * it (".NAME.tmp"). On success the caller must call commit or abort. */
int io_atomic_open(struct io_atomic *a, const char *final_path,
		    struct err *err);
int io_atomic_write(struct io_atomic *a, const void *p, size_t n,
		     struct err *err);
/* Flushes, fsyncs, renames over final, fsyncs the directory. sha_hex (may
 * be NULL) receives the content hash. Releases a in every case. */
int io_atomic_commit(struct io_atomic *a, char *sha_hex, struct err *err);
/* Closes and removes the temporary file. Safe to call twice. */
void io_atomic_abort(struct io_atomic *a);

int io_write_file(const char *path, const void *p, size_t n,
		   char *sha_hex, struct err *err);
/* Copies src to dst atomically, hashing on the way. */
int io_copy(const char *src, const char *dst, char *sha_hex,
	     uint64_t *size, struct err *err);
/* Removes leftover ".*.tmp" files in dir (from a killed process). */
void io_clean_tmp(const char *dir);

#endif
