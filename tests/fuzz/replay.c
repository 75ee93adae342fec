/* replay.c - runs a libFuzzer harness over saved inputs without libFuzzer
 * (SQLite fuzzcheck's idea): `make test` links it with one harness and
 * the ASan+UBSan objects and runs it on tests/corpus/<fmt>/.
 *
 *	replay_<fmt> DIR|FILE...
 *
 * Each file runs in a child process, so a crash, a sanitizer report, a
 * failed invariant (abort) or a leak (LeakSanitizer exits non-zero) fails
 * that file only, and the next ones still run. Prints "ok <file>" or
 * "FAIL <file>: why" per file and ends with "N passed, N failed"; exits 1
 * when any failed. A directory with no file is a failure (a corpus that
 * silently vanished would otherwise pass).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static unsigned long npass, nfail;

static int read_all(const char *path, unsigned char **out, size_t *n)
{
	FILE *f = fopen(path, "rb");
	unsigned char *b = NULL;
	size_t len = 0, cap = 0;

	if (!f)
		return -1;
	for (;;) {
		size_t got;

		if (len == cap) {
			unsigned char *nb;

			cap = cap ? cap * 2 : 4096;
			if (!(nb = realloc(b, cap))) {
				free(b);
				fclose(f);
				return -1;
			}
			b = nb;
		}
		got = fread(b + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		free(b);
		fclose(f);
		return -1;
	}
	fclose(f);
	*out = b;
	*n = len;
	return 0;
}

static void run_file(const char *path)
{
	pid_t pid;
	int st;

	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		printf("FAIL %s: fork: %s\n", path, strerror(errno));
		nfail++;
		return;
	}
	if (pid == 0) {
		unsigned char *b;
		size_t n;

		if (read_all(path, &b, &n)) {
			fprintf(stderr, "%s: cannot read: %s\n", path,
				strerror(errno));
			_exit(3);
		}
		LLVMFuzzerTestOneInput(b, n);
		free(b);
		exit(0);  /* exit, not _exit: LeakSanitizer runs at exit */
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR) {
			printf("FAIL %s: waitpid: %s\n", path, strerror(errno));
			nfail++;
			return;
		}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		printf("ok %s\n", path);
		npass++;
	} else if (WIFEXITED(st)) {
		printf("FAIL %s: exit %d\n", path, WEXITSTATUS(st));
		nfail++;
	} else {
		printf("FAIL %s: signal %d\n", path,
		       WIFSIGNALED(st) ? WTERMSIG(st) : 0);
		nfail++;
	}
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0, i;

	if (!d) {
		printf("FAIL %s: %s\n", dir, strerror(errno));
		nfail++;
		return;
	}
	while ((de = readdir(d))) {
		char path[4096];
		struct stat sb;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (stat(path, &sb) || !S_ISREG(sb.st_mode))
			continue;
		if (n == cap) {
			char **nn;

			cap = cap ? cap * 2 : 64;
			if (!(nn = realloc(names, cap * sizeof(*names))))
				abort();
			names = nn;
		}
		if (!(names[n++] = strdup(path)))
			abort();
	}
	closedir(d);
	if (n == 0) {
		printf("FAIL %s: no corpus files\n", dir);
		nfail++;
		return;
	}
	qsort(names, n, sizeof(*names), cmp);
	for (i = 0; i < n; i++) {
		run_file(names[i]);
		free(names[i]);
	}
	free(names);
}

int main(int argc, char **argv)
{
	int i;

	if (argc < 2) {
		fprintf(stderr, "usage: %s DIR|FILE...\n", argv[0]);
		return 64;
	}
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < argc; i++) {
		struct stat sb;

		if (stat(argv[i], &sb) == 0 && S_ISDIR(sb.st_mode))
			run_dir(argv[i]);
		else
			run_file(argv[i]);
	}
	printf("%lu passed, %lu failed\n", npass, nfail);
	return nfail ? 1 : 0;
}
