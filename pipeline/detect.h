/* detect.h - a source's `detect_changes` (docs/configuration.md, "Hostile
 * files and folders"): metadata (the default) takes a listed file whose
 * name, size and mtime are in the file ledger as seen; content hashes such
 * a file and fetches it again when its SHA-256 is not in the ledger (a
 * file replaced by one of the same size and mtime). */
#ifndef STOCKPIPE_DETECT_H
#define STOCKPIPE_DETECT_H

#include "lib/ytree.h"

/* ykey setter of a struct cfg_source's detect_content: 1 for content, 0
 * for metadata. Content only for a local folder (file://): over SFTP
 * every known file would be read in full on every listing, so the key is
 * refused there (E_CONFIG, naming the source and the line). */
int detect_set_changes(const struct ykey_ctx *c, const struct ykey *k,
		       const struct ynode *v, void *field);

#endif
