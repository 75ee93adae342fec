/* t.h - the unit-test harness (redis testhelp.h / curl fail_unless style).
 *
 * A test is `T_TEST(name) { ... }` in any tests/unit/t_*.c file; the build
 * collects them into a table. Each test runs in a fresh empty temporary
 * directory (the current directory during the test). Assertions record the
 * failure with file:line and return from the test. A test that cannot run
 * here (no PostgreSQL, no shared corpus) says so with T_SKIP: it is counted
 * as skipped, never as passed.
 */
#ifndef STOCKPIPE_T_H
#define STOCKPIPE_T_H

#include <stdio.h>
#include <string.h>

extern int t_failed;        /* set by a failing assertion */
extern const char *t_name;  /* current test */
extern char t_dir[];        /* the test's temporary directory */
extern int t_skipped;       /* set by T_SKIP */
extern char t_skip_why[4608];

#define T_TEST(name) void t_##name(void)

#define T_FAIL(...)                                                        \
	do {                                                               \
		fprintf(stderr, "  %s:%d: %s: ", __FILE__, __LINE__, t_name); \
		fprintf(stderr, __VA_ARGS__);                              \
		fputc('\n', stderr);                                       \
		t_failed = 1;                                              \
		return;                                                    \
	} while (0)

/* Ends the test as skipped, with the reason (printf style). */
#define T_SKIP(...)                                                        \
	do {                                                               \
		snprintf(t_skip_why, sizeof(t_skip_why), __VA_ARGS__);     \
		t_skipped = 1;                                             \
		return;                                                    \
	} while (0)

#define T_ASSERT(cond)                                                     \
	do {                                                               \
		if (!(cond))                                               \
			T_FAIL("assertion failed: %s", #cond);             \
	} while (0)

#define T_EQ_INT(a, b)                                                     \
	do {                                                               \
		long long t_a_ = (long long)(a), t_b_ = (long long)(b);    \
		if (t_a_ != t_b_)                                          \
			T_FAIL("%s == %lld, expected %s == %lld", #a, t_a_, \
			       #b, t_b_);                                  \
	} while (0)

#define T_EQ_STR(a, b)                                                     \
	do {                                                               \
		const char *t_a_ = (a), *t_b_ = (b);                       \
		if (!t_a_ || !t_b_ || strcmp(t_a_, t_b_))                  \
			T_FAIL("%s == \"%s\", expected \"%s\"", #a,         \
			       t_a_ ? t_a_ : "(null)",                     \
			       t_b_ ? t_b_ : "(null)");                    \
	} while (0)

/* Asserts an rc == 0 call, printing the struct err on failure. */
#define T_OK(call, errp)                                                   \
	do {                                                               \
		if ((call) != 0) {                                         \
			char t_m_[1200];                                   \
			err_format((errp), t_m_, sizeof(t_m_));            \
			T_FAIL("%s failed: %s", #call, t_m_);              \
		}                                                          \
	} while (0)

/* Writes a file in the test directory; returns 0 or -1. */
int t_write_file(const char *path, const char *content);
/* Reads a whole small file into a static buffer; NULL on error. */
const char *t_read_file(const char *path);

#endif
