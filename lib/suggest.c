/* suggest.c - edit distance and cut lists, see suggest.h. */
#include "suggest.h"

#include <stdio.h>
#include <string.h>

#define SUGGEST_MAXLEN 63

unsigned suggest_distance(const char *a, const char *b)
{
	/* three rows: an adjacent transposition (QYT/QTY) is one edit */
	unsigned rows[3][SUGGEST_MAXLEN + 1];
	unsigned *pp = rows[0], *prev = rows[1], *cur = rows[2];
	size_t la = strlen(a), lb = strlen(b), i, j;

	if (la > SUGGEST_MAXLEN || lb > SUGGEST_MAXLEN)
		return 255;
	for (j = 0; j <= lb; j++)
		prev[j] = (unsigned)j;
	for (i = 1; i <= la; i++) {
		unsigned *t;

		cur[0] = (unsigned)i;
		for (j = 1; j <= lb; j++) {
			unsigned best = prev[j - 1] + (a[i - 1] != b[j - 1]);

			if (prev[j] + 1 < best)
				best = prev[j] + 1;
			if (cur[j - 1] + 1 < best)
				best = cur[j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && pp[j - 2] + 1 < best)
				best = pp[j - 2] + 1;
			cur[j] = best;
		}
		t = pp;
		pp = prev;
		prev = cur;
		cur = t;
	}
	return prev[lb] > 255 ? 255 : prev[lb];
}

/* Same bytes in another order (a transposition, not another word). */
static int same_letters(const char *a, const char *b)
{
	unsigned cnt[256] = {0};
	size_t i;

	if (strlen(a) != strlen(b))
		return 0;
	for (i = 0; a[i]; i++)
		cnt[(unsigned char)a[i]]++;
	for (i = 0; b[i]; i++)
		if (!cnt[(unsigned char)b[i]]--)
			return 0;
	return 1;
}

const char *suggest_nearest(const char *word, const char *const *cands,
			    size_t n, unsigned max)
{
	const char *best = NULL;
	unsigned bd = max + 1;
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned d;

		if (!cands[i])
			continue;
		d = suggest_distance(word, cands[i]);
		if (d == 0)
			return NULL;
		/* on a tie a transposition wins: PIR is PRI, not PIA */
		if (d < bd || (d == bd && best && !same_letters(word, best) &&
			       same_letters(word, cands[i]))) {
			bd = d;
			best = cands[i];
		}
	}
	return best;
}

unsigned suggest_max_edits(const char *word)
{
	return strlen(word) > 4 ? 2 : 1;
}

size_t suggest_list(char *out, size_t n, const char *const *items,
		    size_t nitems, const char *sep)
{
	/* room kept for the tail: sep + "… and 4294967295 more" */
	char tail[48];
	size_t o = 0, k, sl = strlen(sep);

	if (!n)
		return 0;
	out[0] = '\0';
	for (k = 0; k < nitems; k++) {
		size_t il = strlen(items[k]), need = (k ? sl : 0) + il;
		size_t keep = 0;

		/* room for the tail that would follow this item */
		if (k + 1 < nitems)
			keep = (size_t)snprintf(tail, sizeof(tail),
						"%s\xe2\x80\xa6 and %zu more",
						sep, nitems - k - 1);

		if (o + need + keep >= n)
			break;
		if (k) {
			memcpy(out + o, sep, sl);
			o += sl;
		}
		memcpy(out + o, items[k], il);
		o += il;
		out[o] = '\0';
	}
	if (k < nitems) {
		snprintf(tail, sizeof(tail), "%s\xe2\x80\xa6 and %zu more",
			 k ? sep : "", nitems - k);
		if (o + strlen(tail) < n)
			memcpy(out + o, tail, strlen(tail) + 1);
	}
	return k;
}
