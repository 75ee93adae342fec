/* sha256.c - see sha256.h. */
#include "sha256.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <errno.h>
#include <string.h>

#define SHA256_READ_BUF (64 * 1024) /* one read(2) per 64 KiB hashed */

int sha256_init(struct sha256 *s, struct err *err)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	s->ctx = c;
	if (!c || !EVP_DigestInit_ex(c, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(c);
		s->ctx = NULL;
		return err_set(err, E_NOMEM, "cannot start SHA-256");
	}
	return 0;
}

void sha256_update(struct sha256 *s, const void *p, size_t n)
{
	if (s->ctx && n)
		EVP_DigestUpdate(s->ctx, p, n);
}

void sha256_final(struct sha256 *s, char hex[SHA256_HEX_LEN])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n = 0, i;

	if (s->ctx)
		EVP_DigestFinal_ex(s->ctx, md, &n);
	for (i = 0; i < 32; i++) {
		hex[2 * i] = digits[i < n ? md[i] >> 4 : 0];
		hex[2 * i + 1] = digits[i < n ? md[i] & 15 : 0];
	}
	hex[64] = '\0';
	sha256_release(s);
}

void sha256_release(struct sha256 *s)
{
	EVP_MD_CTX_free(s->ctx);
	s->ctx = NULL;
}

int sha256_hex_of(const void *p, size_t n, char hex[SHA256_HEX_LEN],
		  struct err *err)
{
	struct sha256 s;

	/* hex is left as it was: a digest of zeros would name a document
	 * or a file as if it had been hashed. */
	if (sha256_init(&s, err) < 0)
		return -1;
	sha256_update(&s, p, n);
	sha256_final(&s, hex);
	return 0;
}

/* SHA-256 looked up once for sha256_digest: EVP_sha256() is looked up
 * again by every EVP_DigestInit_ex (OpenSSL 3), which cost more than
 * hashing a txn_id. Kept for the life of the process, like OpenSSL's own
 * tables; NULL when the lookup failed. */
static EVP_MD *digest_md;
static pthread_once_t digest_once = PTHREAD_ONCE_INIT;

static void digest_fetch(void)
{
	digest_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

int sha256_digest(const void *p, size_t n, unsigned char md[SHA256_LEN],
		  struct err *err)
{
	unsigned char out[EVP_MAX_MD_SIZE];
	unsigned len = 0;

	pthread_once(&digest_once, digest_fetch);
	if (!digest_md || !EVP_Digest(p, n, out, &len, digest_md, NULL) ||
	    len != SHA256_LEN)
		return err_set(err, E_NOMEM, "cannot compute SHA-256");
	memcpy(md, out, SHA256_LEN);
	return 0;
}

int sha256_fd(int fd, const char *name, char hex[SHA256_HEX_LEN],
	      uint64_t *size, struct err *err)
{
	unsigned char *b;
	struct sha256 s;
	uint64_t total = 0;
	ssize_t n;

	if (!(b = malloc(SHA256_READ_BUF)))
		return err_set(err, E_NOMEM, "out of memory");
	if (sha256_init(&s, err) < 0) {
		free(b);
		return -1;
	}
	while ((n = read(fd, b, SHA256_READ_BUF)) > 0) {
		sha256_update(&s, b, (size_t)n);
		total += (uint64_t)n;
	}
	free(b);
	if (n < 0) {
		err_sys(err, "cannot read '%s'", name);
		sha256_release(&s);
		return -1;
	}
	sha256_final(&s, hex);
	if (size)
		*size = total;
	return 0;
}

int sha256_file(const char *path, char hex[SHA256_HEX_LEN], uint64_t *size,
		struct err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

	if (fd < 0)
		return err_sys(err, "cannot open '%s'", path);
	rc = sha256_fd(fd, path, hex, size, err);
	close(fd);
	return rc;
}
