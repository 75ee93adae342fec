/* lock.h - one run per state directory (or a set of workers sharing one).
 *
 * flock() on state_dir/lock: the kernel drops it when the process dies,
 * even by SIGKILL, so a crashed run never leaves a stale lock for an
 * operator to clean up, and a second overlapping run fails at once.
 */
#ifndef STOCKPIPE_LOCK_H
#define STOCKPIPE_LOCK_H

#include "err.h"

/* Returns an fd holding the lock, or -1 with E_BUSY (held by another
 * process, whose pid is in the message when known) or E_IO. */
int lock_acquire(const char *state_dir, struct err *err);
/* The same lock shared: workers of one run (`stockpipe work`) hold it
 * together, so a `run` cannot start while they work and no worker starts
 * while a `run` holds it exclusively. */
int lock_acquire_shared(const char *state_dir, struct err *err);
void lock_release(int fd);

#endif
