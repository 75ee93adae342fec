/* main.c - runs every T_TEST in a fresh temporary directory and ends with
 * the line "N passed, N failed, N skipped". Arguments select tests by
 * name. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "t.h"

int t_failed;
int t_skipped;
char t_skip_why[4608];
const char *t_name;
char t_dir[4096];

#undef T_TEST
#define T_TEST(name) void t_##name(void);
#include "list.h"
#undef T_TEST

static const struct {
	const char *name;
	void (*fn)(void);
} tests[] = {
#define T_TEST(name) {#name, t_##name},
#include "list.h"
#undef T_TEST
};

int t_write_file(const char *path, const char *content)
{
	FILE *f = fopen(path, "wb");
	int rc;

	if (!f)
		return -1;
	rc = fputs(content, f) < 0 ? -1 : 0;
	if (fclose(f))
		rc = -1;
	return rc;
}

const char *t_read_file(const char *path)
{
	static char data[1 << 20];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		return NULL;
	n = fread(data, 1, sizeof(data) - 1, f);
	fclose(f);
	data[n] = '\0';
	return data;
}

static int selected(int argc, char **argv, const char *name)
{
	int i;

	if (argc < 2)
		return 1;
	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], name))
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	char cwd[4096], cmd[4200];
	size_t i;
	int passed = 0, failed = 0, skipped = 0;
	const char *tmp = getenv("TMPDIR");

	if (!getcwd(cwd, sizeof(cwd)))
		return 70;
	/* One line at a time: through a pipe, stdout's block buffer broke
	 * a result line where a later test's stderr message landed (make
	 * test's log showed "skip db_pg_stmt_reuse: Sstockpipe: map ..."). */
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* Tests that read shared fixtures find the project via this. */
	setenv("STOCKPIPE_SRCDIR", cwd, 0);
	for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		if (!selected(argc, argv, tests[i].name))
			continue;
		snprintf(t_dir, sizeof(t_dir), "%s/sp-unit-XXXXXX",
			 tmp ? tmp : "/tmp");
		if (!mkdtemp(t_dir) || chdir(t_dir)) {
			perror("mkdtemp");
			return 70;
		}
		t_name = tests[i].name;
		t_failed = 0;
		t_skipped = 0;
		t_skip_why[0] = '\0';
		tests[i].fn();
		if (chdir(cwd))
			return 70;
		if (t_failed) {
			failed++;
			printf("FAIL %s (kept %s)\n", t_name, t_dir);
		} else {
			if (t_skipped) {
				skipped++;
				printf("skip %s: %s\n", t_name, t_skip_why);
			} else {
				passed++;
				printf("ok   %s\n", t_name);
			}
			snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t_dir);
			if (system(cmd) != 0)
				fprintf(stderr, "cannot remove %s\n", t_dir);
		}
	}
	printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
	return failed ? 1 : 0;
}
