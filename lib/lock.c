/* lock.c - see lock.h. */
#include "lock.h"
#include "io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

static int lock_take(const char *state_dir, int shared, struct err *err)
{
	char path[4200], pid[32] = "";
	int fd;
	ssize_t n;

	if (io_mkdirs(state_dir, err) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/lock", state_dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return err_sys(err, "cannot open lock '%s'", path);
	if (flock(fd, (shared ? LOCK_SH : LOCK_EX) | LOCK_NB) < 0) {
		int e = errno;

		n = pread(fd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		close(fd);
		if (e == EWOULDBLOCK && shared)
			return err_set(err, E_BUSY,
				       "a stockpipe run (pid %s) holds the "
				       "lock on '%s'; workers wait for it to "
				       "finish",
				       pid[0] ? pid : "?", state_dir);
		if (e == EWOULDBLOCK)
			return err_set(err, E_BUSY,
				       "another stockpipe run or worker "
				       "(pid %s) holds the lock on '%s'",
				       pid[0] ? pid : "?", state_dir);
		errno = e;
		return err_sys(err, "cannot lock '%s'", path);
	}
	/* The pid is informational only; the flock is the lock. Workers
	 * share it and leave the file to whoever holds it alone. */
	if (shared)
		return fd;
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == 0 && pwrite(fd, pid, (size_t)n, 0) < 0)
		(void)0;
	return fd;
}

int lock_acquire(const char *state_dir, struct err *err)
{
	return lock_take(state_dir, 0, err);
}

int lock_acquire_shared(const char *state_dir, struct err *err)
{
	return lock_take(state_dir, 1, err);
}

void lock_release(int fd)
{
	if (fd >= 0)
		close(fd);
}
