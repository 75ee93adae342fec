/* sha256.h - SHA-256 of buffers and files (OpenSSL EVP underneath).
 *
 * Content hashes name documents in the inbox and the dedupe ledgers, so the
 * hex form is the one that is stored and compared.
 */
#ifndef STOCKPIPE_SHA256_H
#define STOCKPIPE_SHA256_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define SHA256_HEX_LEN 65 /* 64 hex digits plus NUL */
#define SHA256_LEN 32     /* the digest in bytes */

/* Incremental SHA-256 (OpenSSL EVP underneath). */
struct sha256 {
	void *ctx; /* EVP_MD_CTX *, owned */
};
int sha256_init(struct sha256 *s, struct err *err);
void sha256_update(struct sha256 *s, const void *p, size_t n);
/* Writes 64 lowercase hex digits and a NUL; releases the context. */
void sha256_final(struct sha256 *s, char hex[SHA256_HEX_LEN]);
void sha256_release(struct sha256 *s);
/* The same for an open descriptor, read from where it stands to its end
 * (name only for the error message); the caller closes fd. */
int sha256_fd(int fd, const char *name, char hex[SHA256_HEX_LEN],
	      uint64_t *size, struct err *err);
int sha256_file(const char *path, char hex[SHA256_HEX_LEN], uint64_t *size,
		struct err *err);
/* The digest of p[0..n) in hex. 0, or -1 with err when SHA-256 cannot
 * be started (hex untouched). */
int sha256_hex_of(const void *p, size_t n, char hex[SHA256_HEX_LEN],
		  struct err *err);
/* The digest of p[0..n) in bytes, for many short buffers (the load's
 * ledger keys): the algorithm is looked up once per process, not per
 * call, so it is the one OpenSSL gave then. 0, or -1 with err (md
 * untouched). */
int sha256_digest(const void *p, size_t n, unsigned char md[SHA256_LEN],
		  struct err *err);

#endif
