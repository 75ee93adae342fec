/* t_sha256.c - SHA-256 against published vectors (FIPS 180-2 appendix B
 * and the NIST long-message ones) beyond the short ones in t_io.c: the
 * million 'a', the 896-bit message, files and their sizes, errors. */
#include <openssl/err.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/sha256.h"
#include "t.h"

T_TEST(sha256_million_a)
{
	char hex[SHA256_HEX_LEN], one[SHA256_HEX_LEN];
	char *a = malloc(1000000);
	struct sha256 s;
	struct err e = ERR_INIT;
	int i;

	T_ASSERT(a != NULL);
	memset(a, 'a', 1000000);
	T_OK(sha256_hex_of(a, 1000000, one, &e), &e);
	T_OK(sha256_init(&s, &e), &e);
	for (i = 0; i < 1000; i++)
		sha256_update(&s, a + i * 1000, 1000);
	sha256_final(&s, hex);
	free(a);
	T_EQ_STR(one, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	T_EQ_STR(hex, one);
}

T_TEST(sha256_896_bit_vector)
{
	static const char msg[] =
		"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
		"hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
	char hex[SHA256_HEX_LEN];
	struct err e = ERR_INIT;

	T_EQ_INT(strlen(msg), 112);
	T_OK(sha256_hex_of(msg, 112, hex, &e), &e);
	T_EQ_STR(hex, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
	/* One bit of difference changes the digest. */
	T_OK(sha256_hex_of(msg, 111, hex, &e), &e);
	T_ASSERT(strcmp(hex, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"));
	T_EQ_INT(strlen(hex), 64);
}

T_TEST(sha256_file_size_and_errors)
{
	char hex[SHA256_HEX_LEN];
	struct err e = ERR_INIT;
	uint64_t size = 7;

	T_ASSERT(t_write_file("abc.txt", "abc") == 0);
	T_OK(sha256_file("abc.txt", hex, &size, &e), &e);
	T_EQ_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	T_EQ_INT(size, 3);
	T_ASSERT(t_write_file("empty", "") == 0);
	T_OK(sha256_file("empty", hex, &size, &e), &e);
	T_EQ_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	T_EQ_INT(size, 0);
	T_EQ_INT(sha256_file("absent", hex, &size, &e), -1);
	T_EQ_INT(e.code, E_IO);
	T_ASSERT(strstr(e.reason, "absent") != NULL);
}

/* Releasing a context that was never finalised frees it (ASan checks). */
T_TEST(sha256_release_unfinished)
{
	struct sha256 s;
	struct err e = ERR_INIT;

	T_OK(sha256_init(&s, &e), &e);
	sha256_update(&s, "partial", 7);
	sha256_release(&s);
	T_ASSERT(s.ctx == NULL);
	sha256_release(&s);
}

/* When SHA-256 cannot be started (here: OpenSSL asked for FIPS
 * implementations, and no FIPS provider is loaded) the one-shot digest
 * says so and leaves hex alone; it used to hand back 64 zeros, which would
 * name a document as if it had been hashed. */
T_TEST(sha256_hex_of_reports_a_failed_start)
{
	char hex[SHA256_HEX_LEN] = "untouched";
	struct err e = ERR_INIT;
	int rc;

	if (EVP_default_properties_enable_fips(NULL, 1) != 1)
		T_SKIP("OpenSSL cannot require FIPS implementations here");
	rc = sha256_hex_of("abc", 3, hex, &e);
	EVP_default_properties_enable_fips(NULL, 0);
	ERR_clear_error();
	if (rc == 0 && strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0)
		T_SKIP("a FIPS provider is loaded: SHA-256 starts anyway");
	T_EQ_INT(rc, -1);
	T_EQ_INT(e.code, E_NOMEM);
	T_ASSERT(strstr(e.reason, "SHA-256") != NULL);
	T_EQ_STR(hex, "untouched");
	/* And the default again afterwards. */
	err_clear(&e);
	T_OK(sha256_hex_of("abc", 3, hex, &e), &e);
	T_EQ_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

/* sha256_digest (the ledger keys' hash, its algorithm looked up once) is
 * the digest sha256_hex_of spells, for empty, short and multi-block
 * input, again and again. */
T_TEST(sha256_digest_matches_hex_of)
{
	static const char digits[] = "0123456789abcdef";
	static char buf[1000];
	static const size_t lens[] = {0, 1, 3, 55, 56, 63, 64, 65, 1000};
	unsigned char md[SHA256_LEN];
	char hex[SHA256_HEX_LEN], got[SHA256_HEX_LEN];
	struct err e = ERR_INIT;
	size_t i, k;
	int round;

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (char)('a' + i * 7 % 26);
	for (round = 0; round < 2; round++)
		for (k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
			T_OK(sha256_hex_of(buf, lens[k], hex, &e), &e);
			T_OK(sha256_digest(buf, lens[k], md, &e), &e);
			for (i = 0; i < SHA256_LEN; i++) {
				got[2 * i] = digits[md[i] >> 4];
				got[2 * i + 1] = digits[md[i] & 15];
			}
			got[64] = '\0';
			T_EQ_STR(got, hex);
		}
	T_OK(sha256_digest("abc", 3, md, &e), &e);
	T_ASSERT(md[0] == 0xba && md[1] == 0x78 && md[31] == 0xad);
}
