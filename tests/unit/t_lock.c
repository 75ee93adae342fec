/* t_lock.c - the state-directory lock: flock() locks belong to an open
 * file description, so a second lock_acquire() in the same process
 * competes like another process would. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/err.h"
#include "lib/lock.h"
#include "t.h"

T_TEST(lock_exclusive_excludes_second)
{
	struct err e = ERR_INIT;
	char want[200];
	int a, b;

	/* The state directory is created on the way. */
	a = lock_acquire("state/sub", &e);
	T_ASSERT(a >= 0);
	snprintf(want, sizeof(want), "%ld\n", (long)getpid());
	T_EQ_STR(t_read_file("state/sub/lock"), want);
	b = lock_acquire("state/sub", &e);
	T_EQ_INT(b, -1);
	T_EQ_INT(e.code, E_BUSY);
	snprintf(want, sizeof(want),
		 "another stockpipe run or worker (pid %ld) holds the lock "
		 "on 'state/sub'", (long)getpid());
	T_EQ_STR(e.reason, want);
	T_EQ_INT(err_is_temporary(&e), 1);
	lock_release(a);
	err_clear(&e);
	b = lock_acquire("state/sub", &e);
	T_ASSERT(b >= 0);
	lock_release(b);
}

T_TEST(lock_shared_workers_together_not_with_run)
{
	struct err e = ERR_INIT;
	char want[200];
	int w1, w2, run;

	w1 = lock_acquire_shared("state", &e);
	T_ASSERT(w1 >= 0);
	w2 = lock_acquire_shared("state", &e);
	T_ASSERT(w2 >= 0);
	/* Workers leave the pid file alone. */
	T_EQ_STR(t_read_file("state/lock"), "");
	run = lock_acquire("state", &e);
	T_EQ_INT(run, -1);
	T_EQ_INT(e.code, E_BUSY);
	/* No pid in the file: the message says "?" rather than nothing. */
	T_ASSERT(strstr(e.reason, "(pid ?)") != NULL);
	lock_release(w1);
	lock_release(w2);
	err_clear(&e);
	run = lock_acquire("state", &e);
	T_ASSERT(run >= 0);
	w1 = lock_acquire_shared("state", &e);
	T_EQ_INT(w1, -1);
	T_EQ_INT(e.code, E_BUSY);
	snprintf(want, sizeof(want),
		 "a stockpipe run (pid %ld) holds the lock on 'state'; "
		 "workers wait for it to finish", (long)getpid());
	T_EQ_STR(e.reason, want);
	lock_release(run);
}

/* A stale pid from a killed run is overwritten, not appended to. */
T_TEST(lock_overwrites_stale_pid)
{
	struct err e = ERR_INIT;
	char want[64];
	int fd;

	T_ASSERT(mkdir("st", 0755) == 0);
	T_ASSERT(t_write_file("st/lock", "99999999999\nold junk\n") == 0);
	fd = lock_acquire("st", &e);
	T_ASSERT(fd >= 0);
	snprintf(want, sizeof(want), "%ld\n", (long)getpid());
	T_EQ_STR(t_read_file("st/lock"), want);
	lock_release(fd);
	lock_release(-1); /* harmless */
}

T_TEST(lock_unusable_dir_is_io_error)
{
	struct err e = ERR_INIT;

	/* A file where the state directory should be. */
	T_ASSERT(t_write_file("plainfile", "x") == 0);
	T_EQ_INT(lock_acquire("plainfile/state", &e), -1);
	T_ASSERT(e.code == E_IO);
	T_EQ_INT(err_is_temporary(&e), 1);
}
