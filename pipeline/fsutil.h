/* fsutil.h - durable file publishing, hashing and test crash points.
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
#ifndef STOCKPIPE_FSUTIL_H
#define STOCKPIPE_FSUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define SHA256_HEX_LEN 65 /* 64 hex digits plus NUL */

/* Counts a durable operation named what; may not return (test builds). */
void fsu_crash_point(const char *what);

/* Incremental SHA-256 (OpenSSL EVP underneath). */
struct sha256 {
	void *ctx; /* EVP_MD_CTX *, owned */
};
int sha256_init(struct sha256 *s, struct err *err);
void sha256_update(struct sha256 *s, const void *p, size_t n);
/* Writes 64 lowercase hex digits and a NUL; releases the context. */
void sha256_final(struct sha256 *s, char hex[SHA256_HEX_LEN]);
void sha256_release(struct sha256 *s);
int sha256_file(const char *path, char hex[SHA256_HEX_LEN], uint64_t *size,
		struct err *err);
void sha256_hex_of(const void *p, size_t n, char hex[SHA256_HEX_LEN]);

/* mkdir -p; mode 0755. */
int fsu_mkdirs(const char *path, struct err *err);
/* fsync of a directory so a rename in it survives power loss. */
int fsu_fsync_dir(const char *dir, struct err *err);
/* fsync of a file's parent directory. */
int fsu_fsync_parent(const char *path, struct err *err);
int fsu_exists(const char *path);
/* rename + fsync of the destination directory, as a crash point. */
int fsu_rename(const char *from, const char *to, struct err *err);

/* A file being written for atomic publication. Buffered: appends cost no
 * syscall until 64 KiB are pending. Hashes the content as it goes (each
 * 64 KiB as it is written out). */
struct fsu_atomic {
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
int fsu_atomic_open(struct fsu_atomic *a, const char *final_path,
		    struct err *err);
int fsu_atomic_write(struct fsu_atomic *a, const void *p, size_t n,
		     struct err *err);
/* Flushes, fsyncs, renames over final, fsyncs the directory. sha_hex (may
 * be NULL) receives the content hash. Releases a in every case. */
int fsu_atomic_commit(struct fsu_atomic *a, char *sha_hex, struct err *err);
/* Closes and removes the temporary file. Safe to call twice. */
void fsu_atomic_abort(struct fsu_atomic *a);

int fsu_write_file(const char *path, const void *p, size_t n,
		   char *sha_hex, struct err *err);
/* Copies src to dst atomically, hashing on the way. */
int fsu_copy(const char *src, const char *dst, char *sha_hex,
	     uint64_t *size, struct err *err);
/* Removes leftover ".*.tmp" files in dir (from a killed process). */
void fsu_clean_tmp(const char *dir);

#endif
