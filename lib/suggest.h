/* suggest.h - "did you mean" and lists that say they were cut.
 *
 * One edit distance for every place that meets an unknown name (segment
 * tags, XML prefixes, CSV columns, lookup keys, config keys), and one way
 * to print a list that does not fit: its first items and "... and N
 * more", never a silent cut.
 */
#ifndef STOCKPIPE_SUGGEST_H
#define STOCKPIPE_SUGGEST_H

#include <stddef.h>

/* Edit distance of a and b (case-sensitive; insert, delete, substitute,
 * or swap two neighbours, each one edit), capped at 255;
 * strings longer than 63 bytes compare as distance 255. */
unsigned suggest_distance(const char *a, const char *b);

/* The candidate nearest to word, or NULL when none is within max edits
 * (an exact match is not a suggestion: NULL). Ties go to a candidate
 * with the same letters (a transposition), else to the first. */
const char *suggest_nearest(const char *word, const char *const *cands,
			    size_t n, unsigned max);

/* How far a suggestion for word may be: 1 edit for names up to 4 bytes
 * (QYT -> QTY, cbx -> cbc), 2 beyond (store_cod -> store_code); more
 * would suggest unrelated names. */
unsigned suggest_max_edits(const char *word);

/* Writes items joined by sep into out (n bytes); when they do not all
 * fit, as many as fit and then "... and K more" (UTF-8 ellipsis).
 * Returns the number of items written. */
size_t suggest_list(char *out, size_t n, const char *const *items,
		    size_t nitems, const char *sep);

#endif
