/* t_state_sort.c - the load's external sort (state_sort.h): runs of
 * random sizes, each sorted, merged back into one sorted sequence with
 * every record once; buffers smaller than a record; ties keep run
 * order; a reset starts over. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/store/state_sort.h"
#include "t.h"

#define SS_N 3000

struct ss_check {
	char prev[400];
	size_t prevn, count;
	int prev_run, bad;
	unsigned long sum;
};

/* Records are "KEY|RUN": ordered by KEY only, so equal keys of two
 * runs are ties, which come back in run order. */
static int ss_cmp(const void *a, size_t an, const void *b, size_t bn,
		  void *ud)
{
	const char *x = a, *y = b, *xe = memchr(x, '|', an),
		   *ye = memchr(y, '|', bn);
	size_t xl = (size_t)(xe - x), yl = (size_t)(ye - y);
	int c = memcmp(x, y, xl < yl ? xl : yl);

	(void)ud;
	return c ? c : (xl > yl) - (xl < yl);
}

static int ss_each(const void *rec, size_t n, void *ud)
{
	struct ss_check *k = ud;
	const char *bar = memchr(rec, '|', n);
	char num[16] = "";
	size_t i, nl = n - (size_t)(bar + 1 - (const char *)rec);
	int run;

	/* A record is not NUL-terminated. */
	memcpy(num, bar + 1, nl < sizeof(num) - 1 ? nl : sizeof(num) - 1);
	run = atoi(num);

	if (k->count &&
	    (ss_cmp(k->prev, k->prevn, rec, n, NULL) > 0 ||
	     (!ss_cmp(k->prev, k->prevn, rec, n, NULL) && run < k->prev_run)))
		k->bad = 1;
	memcpy(k->prev, rec, n);
	k->prevn = n;
	k->prev_run = run;
	k->count++;
	for (i = 0; i < n; i++)
		k->sum += (unsigned char)((const char *)rec)[i];
	return 0;
}

/* A run's own order: ss_cmp's (the run number is the same). */
static int ss_qcmp(const void *a, const void *b)
{
	const char *x = *(char *const *)a, *y = *(char *const *)b;

	return ss_cmp(x, strlen(x), y, strlen(y), NULL);
}

T_TEST(state_sort_merges_runs)
{
	static char *recs[SS_N];
	size_t bufs[] = {16, 100, 0};
	uint64_t g = 7;
	size_t b, i, j, n, run;
	unsigned long want;

	for (b = 0; b < sizeof(bufs) / sizeof(bufs[0]); b++) {
		struct state_sort ss;
		struct ss_check k;
		struct err e = ERR_INIT;

		state_sort_init(&ss, bufs[b]);
		want = 0;
		for (i = 0, run = 0; i < SS_N; run++) {
			n = 1 + (size_t)((g = g * 6364136223846793005u + 1) >> 33) % 400;
			if (n > SS_N - i)
				n = SS_N - i;
			for (j = 0; j < n; j++) {
				char key[300];
				size_t kl = 1 + (size_t)((g = g * 6364136223846793005u + 1) >> 40) % 200;
				size_t c;

				for (c = 0; c < kl; c++)
					key[c] = (char)('a' + ((g = g * 6364136223846793005u + 1) >> 60) % 4);
				key[kl > 3 && j % 3 ? 3 : kl] = '\0';
				recs[i + j] = malloc(strlen(key) + 16);
				sprintf(recs[i + j], "%s|%zu", key, run);
			}
			qsort(recs + i, n, sizeof(*recs), ss_qcmp);
			for (j = 0; j < n; j++) {
				const char *r = recs[i + j];

				T_OK(state_sort_put(&ss, ".", r, strlen(r), &e), &e);
				for (; *r; r++)
					want += (unsigned char)*r;
			}
			T_OK(state_sort_end_run(&ss, &e), &e);
			i += n;
		}
		T_ASSERT(ss.nruns > 5);
		memset(&k, 0, sizeof(k));
		T_OK(state_sort_merge(&ss, ss_cmp, ss_each, &k, &e), &e);
		T_EQ_INT(k.count, SS_N);
		T_EQ_INT(k.bad, 0);
		T_EQ_INT(k.sum, want);
		/* After a reset: empty, then one small run. */
		state_sort_reset(&ss);
		memset(&k, 0, sizeof(k));
		T_OK(state_sort_merge(&ss, ss_cmp, ss_each, &k, &e), &e);
		T_EQ_INT(k.count, 0);
		T_OK(state_sort_put(&ss, ".", "b|0", 3, &e), &e);
		T_OK(state_sort_put(&ss, ".", "c|0", 3, &e), &e);
		T_OK(state_sort_end_run(&ss, &e), &e);
		T_OK(state_sort_put(&ss, ".", "a|1", 3, &e), &e);
		T_OK(state_sort_put(&ss, ".", "b|1", 3, &e), &e);
		memset(&k, 0, sizeof(k));
		T_OK(state_sort_merge(&ss, ss_cmp, ss_each, &k, &e), &e);
		T_EQ_INT(k.count, 4);
		T_EQ_INT(k.bad, 0);
		state_sort_free(&ss);
		for (i = 0; i < SS_N; i++)
			free(recs[i]);
	}
}
