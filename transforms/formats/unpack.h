/* unpack.h - archives (zip, tar, tar.gz/.bz2/.xz, single .gz) split into
 * member documents, with hard limits because archives are untrusted.
 *
 * Only the formats and filters named above are registered with libarchive
 * (never the _all variants, never an external decompressor program).
 * Members are written as plain files under a caller-chosen folder with
 * names we make (index and sanitised basename), so no member name can
 * reach the file system. A member that breaks a rule is reported and not
 * written; a breach of a whole-archive limit (total size, ratio, member
 * count) fails the archive.
 */
#ifndef STOCKPIPE_UNPACK_H
#define STOCKPIPE_UNPACK_H

#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

struct unpack_limits {
	uint64_t max_members;      /* default 10000 */
	uint64_t max_total;        /* uncompressed bytes, default 4 GiB */
	uint64_t max_member;       /* one member, default 2 GiB */
	unsigned max_ratio;        /* uncompressed / compressed, default 200 */
	unsigned max_name;         /* member path length, default 1024 */
};

void unpack_limits_default(struct unpack_limits *l);

/* What kind of container the first bytes of a file say it is. */
enum unpack_kind { UNPACK_PLAIN, UNPACK_ZIP, UNPACK_TAR, UNPACK_GZIP,
		   UNPACK_BZIP2, UNPACK_XZ };
enum unpack_kind unpack_sniff(const unsigned char *head, size_t n);
/* Sniffs the file at path; UNPACK_PLAIN when it is not an archive. */
int unpack_sniff_file(const char *path, enum unpack_kind *kind,
		      struct err *err);
const char *unpack_kind_name(enum unpack_kind k);

struct unpack_member {
	const char *name;      /* path inside the archive, as stored */
	const char *path;      /* written file; NULL when refused */
	uint64_t size;         /* bytes written */
	const char *sha256;    /* hex of the written bytes; NULL if refused */
	const char *refused;   /* reason the member was not written, or NULL */
	int is_archive;        /* the member is itself an archive (depth 2) */
};

/* Reads the archive at path (named doc_name in messages; a single .gz's
 * member is named doc_name without ".gz") and calls each() per member
 * (strings valid
 * during the call). Members are written to out_dir as
 * "NNNNN_BASENAME" (NNNNN = 1-based member index). Returns 0 when the
 * archive was read to the end, or -1 with err (E_PARSE for a corrupt or
 * limit-breaking archive, E_IO/E_NOSPACE for local trouble). each() may
 * return -1 to stop with its own error. */
int unpack_archive(const char *path, const char *doc_name,
		   const char *out_dir,
		   const struct unpack_limits *lim,
		   int (*each)(void *ud, const struct unpack_member *m,
			       struct err *err),
		   void *ud, struct err *err);

#endif
