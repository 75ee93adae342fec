/* t_edi_loc.c - edi_locate(): the physical line and column of an
 * element, counted by hand on a file with a UNA line and wrapped
 * segments (issue 17: locations an editor understands). */
#include <stdio.h>
#include <string.h>

#include "transforms/formats/edi.h"
#include "t.h"

T_TEST(edi_locate_una_and_wrapped_segments)
{
	/* line 1: UNA:+.? '       line 2: UNB+...'
	 * line 3: PRI+AAA          line 4: :x'   (PRI wrapped after AAA)
	 * line 5: QTY+1:5'LIN+2+?+x:EN'  (two segments on one line,
	 *                                 a released '+') */
	const char *text = "UNA:+.? '\n"
			   "UNB+UNOC:3+S:14+R:14+261120:0700+1'\n"
			   "PRI+AAA\n"
			   ":x'\n"
			   "QTY+1:5'LIN+2+?+x:EN'\n";
	struct edi_delims d = {'+', ':', -1, '\'', '?', '.', {0}, 0};
	struct edi_locator l;
	struct src_loc loc;
	FILE *f = fopen("t.edi", "w");
	long pri, lin;

	T_ASSERT(f != NULL);
	fputs(text, f);
	fclose(f);
	pri = (long)(strstr(text, "PRI") - text);
	lin = (long)(strstr(text, "LIN") - text);
	edi_locator_init(&l, "t.edi");
	/* the tag itself */
	edi_locate(&l, &d, (uint64_t)pri, 3, 2, 0, 1, 1, &loc);
	T_EQ_INT(loc.line, 3);
	T_EQ_INT(loc.col, 1);
	T_EQ_INT(loc.seg, 2);
	/* PRI C509:2 = 'x' on line 4, column 2 */
	edi_locate(&l, &d, (uint64_t)pri, 3, 2, 1, 1, 2, &loc);
	T_EQ_INT(loc.line, 4);
	T_EQ_INT(loc.col, 2);
	T_EQ_INT((long)loc.offset, (long)(strstr(text, "x'") - text));
	/* LIN element 2 comp 2 ('EN'): after "LIN+2+?+x:" on line 5,
	 * the released '+' is data, not a third element */
	edi_locate(&l, &d, (uint64_t)lin, 5, 4, 2, 1, 2, &loc);
	T_EQ_INT(loc.line, 5);
	T_EQ_INT(loc.col, 19);
	/* an element the segment does not have: at its terminator */
	edi_locate(&l, &d, (uint64_t)lin, 5, 4, 7, 1, 1, &loc);
	T_EQ_INT(loc.line, 5);
	T_EQ_INT(loc.col, 21);
	edi_locator_release(&l);
	/* a file that is gone: the segment's line, no column */
	edi_locator_init(&l, "gone.edi");
	edi_locate(&l, &d, 5, 7, 3, 1, 1, 1, &loc);
	T_EQ_INT(loc.line, 7);
	T_EQ_INT(loc.col, 0);
	edi_locator_release(&l);
}
