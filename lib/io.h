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

struct io_wq;

/* Counts a durable operation named what; may not return (test builds). */
void io_crash_point(const char *what);

/* Test builds: on 1, this thread's crash points are not counted until
 * the matching 0 (nestable). For work whose timing against the other
 * threads varies from run to run (render_par.c's jobs, on a render
 * thread or on the store's): counted, they made the numbering of every
 * later point differ between a clean run and a crash sweep's run. What
 * they write stays temporary until the store's thread publishes it at
 * counted points, and a crash at any of those kills them mid-write. */
void io_crash_mute(int on);

/* Test builds: when STOCKPIPE_PAUSE_AT is what, creates the file named by
 * STOCKPIPE_PAUSE_FILE and waits until a test removes it (at most a
 * minute; the first such point of the process only), so a test can
 * change the world at that point (swap a file for
 * a symlink between a listing and the open). A no-op otherwise. */
void io_test_pause(const char *what);

/* Opens path for reading without following a symlink and without
 * blocking on a fifo, then checks the descriptor (not the name) is a
 * regular file: what is read is what was checked. Returns the descriptor
 * (st filled), or -1 with err: E_PARSE for a symlink, fifo, folder or
 * device, errno's code (ENOENT...) otherwise. */
struct stat;
int io_open_regular(const char *path, struct stat *st, struct err *err);

/* mkdir -p; mode 0755. */
int io_mkdirs(const char *path, struct err *err);
/* fsync of a directory so a rename in it survives power loss. */
int io_fsync_dir(const char *dir, struct err *err);
/* fsync of a file's parent directory. */
int io_fsync_parent(const char *path, struct err *err);
int io_exists(const char *path);
/* rename + fsync of the destination directory, as a crash point. */
int io_rename(const char *from, const char *to, struct err *err);
/* The same, but never replaces an existing to (renameat2
 * RENAME_NOREPLACE, or link + unlink where the file system lacks it):
 * E_EXISTS when to is there. */
int io_rename_noreplace(const char *from, const char *to, struct err *err);

/* A file being written for atomic publication. Buffered: appends cost no
 * syscall until 64 KiB are pending. Hashes the content as it goes (each
 * 64 KiB as it is written out) unless no_hash is set. */
struct io_atomic {
	int fd;
	char tmp[4096];     /* ".NAME.tmp" in the directory of final */
	char final[4096];
	struct sha256 sha;
	uint64_t bytes;     /* bytes appended so far */
	size_t pending;
	int failed;         /* a write failed; commit will refuse */
	int noreplace;      /* commit fails (E_EXISTS) rather than replace */
	unsigned mode;      /* nonzero: permission bits set before the rename */
	int no_hash;        /* set before the first write: nobody reads the
			     * content hash, so none is taken (commit then
			     * refuses a sha_hex) */
	unsigned char *buf; /* 64 KiB write buffer (the io_wq's when async) */
	size_t cap;         /* buf's size */
	uint64_t out;       /* bytes handed to write_out (file offset) */
	/* io_atomic_hash_also: bytes [also_from, also_to) go into also */
	struct sha256 *also;
	uint64_t also_from, also_to;
	struct io_wq *wq;   /* io_atomic_async: the writer thread */
	uint64_t flushed;   /* its disk writes started up to here (io.c) */
};

/* Creates final's directory if needed and opens a temporary file beside
 * it (".NAME.tmp", created O_EXCL|O_NOFOLLOW: a symlink or anything else
 * under that name is removed, never written through). On success the
 * caller must call commit or abort. Set a->noreplace after it to publish
 * without replacing an existing final name, a->mode to give the file its
 * permission bits before it appears under the final name, a->no_hash
 * (before the first write) when the content hash is not wanted. */
int io_atomic_open(struct io_atomic *a, const char *final_path,
		    struct err *err);
int io_atomic_write(struct io_atomic *a, const void *p, size_t n,
		     struct err *err);
/* Flushes, fsyncs, renames over final, fsyncs the directory. sha_hex (may
 * be NULL) receives the content hash. Releases a in every case. */
int io_atomic_commit(struct io_atomic *a, char *sha_hex, struct err *err);
/* Closes and removes the temporary file. Safe to call twice. */
void io_atomic_abort(struct io_atomic *a);

/* Right after io_atomic_open: the hashing and the write(2) calls go to
 * a writer thread of their own (io_wq.h) while the caller goes on
 * formatting; for the large files of a run (canonical records, target
 * files). The bytes and the hash are the same; a failed write is
 * reported by a later io_atomic_write or by commit. 0 or -1 (a is
 * aborted). */
int io_atomic_async(struct io_atomic *a, struct err *err);
/* The size from which a copy is worth a writer thread (starting one
 * costs about as much as hashing and writing 100 KB). */
#define IO_ASYNC_MIN (4u << 20)
/* The bytes appended from now on go into also too (as sha256_update
 * would have), until io_atomic_hash_also_end: render's rows hash, taken
 * on the writer thread with the file's. also must stay valid until
 * then. */
void io_atomic_hash_also(struct io_atomic *a, struct sha256 *also);
/* Ends io_atomic_hash_also at the bytes appended so far and waits until
 * they are all hashed into also (which the caller may then finalize);
 * this writes out what is buffered. 0 or -1 (a failed write). */
int io_atomic_hash_also_end(struct io_atomic *a, struct err *err);

int io_write_file(const char *path, const void *p, size_t n,
		   char *sha_hex, struct err *err);
/* Copies src to dst atomically, hashing on the way when sha_hex is given
 * (without it no hash is taken). src is opened with io_open_regular
 * (never a symlink or fifo). The same for every io_copy* below, and for
 * io_write_file. */
int io_copy(const char *src, const char *dst, char *sha_hex,
	     uint64_t *size, struct err *err);
/* The same, but fails with E_EXISTS rather than replace dst. */
int io_copy_noreplace(const char *src, const char *dst, char *sha_hex,
		      uint64_t *size, struct err *err);
/* io_copy_noreplace, with mode (nonzero) set on the file before the
 * rename: a reader of the final name never sees other permissions. */
int io_copy_noreplace_mode(const char *src, const char *dst, unsigned mode,
			   char *sha_hex, uint64_t *size, struct err *err);
/* Copies the open descriptor fd (named src in messages; closed in every
 * case) to dst; noreplace as in io_copy_noreplace. */
int io_copy_fd(int fd, const char *src, const char *dst, int noreplace,
	       char *sha_hex, uint64_t *size, struct err *err);
/* Publishes the regular file src under dst as well, as a second name of
 * the same file (a hard link), with a copy's commit sequence: linked to
 * dst's temporary name, mode (nonzero) set, its times set to now,
 * fsynced, renamed to dst without replacing it (E_EXISTS), the folder
 * fsynced. For a src that is complete, fsynced and never written again
 * (an outbox file): the bytes are not copied. Returns 1, having done
 * nothing, when the file system cannot link the two (another file
 * system, no hard links) or src is not a regular file (missing, a
 * symlink): the caller copies instead, and io_copy* refuses what is no
 * regular file with its own message. 0, or -1 with err. */
int io_link_noreplace(const char *src, const char *dst, unsigned mode,
		      struct err *err);
/* Removes leftover ".*.tmp" files in dir (from a killed process). */
void io_clean_tmp(const char *dir);

#endif
