/* t_suggest.c - lib/suggest: the edit distance behind "did you mean"
 * and lists that say how much they left out. */
#include <string.h>

#include "lib/suggest.h"
#include "t.h"

T_TEST(suggest_distance_and_nearest)
{
	const char *tags[] = {"LIN", "QTY", "PRI", "DTM"};

	const char *dir[] = {"PIA", "PRI"};

	T_EQ_INT(suggest_distance("QYT", "QTY"), 1); /* transposition */
	T_EQ_STR(suggest_nearest("PIR", dir, 2, 2), "PRI");
	T_EQ_INT(suggest_distance("", "abc"), 3);
	T_EQ_INT(suggest_distance("kitten", "sitting"), 3);
	T_EQ_STR(suggest_nearest("QYT", tags, 4, 2), "QTY");
	T_ASSERT(suggest_nearest("QTY", tags, 4, 2) == NULL); /* exact */
	T_ASSERT(suggest_nearest("XXXX", tags, 4, 1) == NULL);
}

T_TEST(suggest_list_says_what_it_cut)
{
	const char *cols[] = {"sku", "location", "quantity", "state", "as_of"};
	char out[32];

	T_EQ_INT(suggest_list(out, sizeof(out), cols, 2, ", "), 2);
	T_EQ_STR(out, "sku, location");
	T_EQ_INT(suggest_list(out, sizeof(out), cols, 5, ", "), 2);
	T_EQ_STR(out, "sku, location, \xe2\x80\xa6 and 3 more");
}
