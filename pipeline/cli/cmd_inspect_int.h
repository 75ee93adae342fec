/* cmd_inspect_int.h - shared by cmd_inspect.c (files, CSV, XML, archives)
 * and cmd_inspect_edi.c (X12/EDIFACT). Not for other commands.
 */
#ifndef STOCKPIPE_CMD_INSPECT_INT_H
#define STOCKPIPE_CMD_INSPECT_INT_H

#include <stdio.h>

#include "lib/buf.h"
#include "transforms/formats/sniff.h"

/* ,"k":"v" (no comma when first) */
void inspect_json_kv(struct buf *b, const char *k, const char *v, int comma);
/* ,"k":"2A" or ,"k":null for a delimiter byte (-1 = none) */
void inspect_json_delim(struct buf *b, const char *k, int v);
/* "element '*' (2A)", "segment LF (0A)", "repetition none" */
void inspect_delim_text(char *o, size_t n, const char *name, int v);
/* A value for the terminal: in single quotes, control bytes and invalid
 * UTF-8 as \xNN. */
void inspect_put_value(FILE *f, const char *v);

/* Prints (or adds to the JSON object in out) what sniff found in an X12
 * or EDIFACT file. Returns 0 valid, 1 errors. */
int inspect_edi(const struct sniff *s, int json, struct buf *out);

#endif
