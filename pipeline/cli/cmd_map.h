/* cmd_map.h - what the `map` subcommands share across their files. */
#ifndef STOCKPIPE_CMD_MAP_H
#define STOCKPIPE_CMD_MAP_H

#include "lib/buf.h"
#include "transforms/mapping/mapping.h"

/* The JSON Lines `map test` compares for doc (records and rejects, or
 * one {"kind":"error"} line), appended to act. */
void map_test_output(const struct mapping *m, const struct mapping_doc *doc,
		     struct buf *act);

/* `stockpipe map new` (cmd_map_new.c); argv[0] is "new". */
int map_new(int argc, char **argv);

#endif
