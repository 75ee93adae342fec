/* t_lookup.c - lookup tables from CSV: values by key (length-bounded
 * keys, optional ASCII case folding), the header columns, duplicates and
 * bad rows refused at file:line, the missing-key policy, growth to a
 * thousand rows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/sha256.h"
#include "transforms/mapping/lookup.h"
#include "t.h"

#define STORES "code,id,region\n" \
	       "F012,1012,north\n"  \
	       "# a comment line\n" \
	       "F027 , 1027 ,south\n"

T_TEST(lookup_values_by_key)
{
	struct lookup_opts o = {"code", "id", 0, NULL, 0, NULL};
	struct lookup *l = NULL;
	struct err e = ERR_INIT;
	char hex[SHA256_HEX_LEN];

	T_ASSERT(t_write_file("stores.csv", STORES) == 0);
	T_OK(lookup_load("stores.csv", "stores", &o, &l, &e), &e);
	T_EQ_INT(lookup_count(l), 2);
	T_EQ_STR(lookup_name(l), "stores");
	T_EQ_STR(lookup_path(l), "stores.csv");
	T_OK(sha256_file("stores.csv", hex, NULL, &e), &e);
	T_EQ_STR(lookup_sha256(l), hex);
	T_EQ_STR(lookup_get(l, "F012", 4), "1012");
	/* Fields are trimmed. */
	T_EQ_STR(lookup_get(l, "F027", 4), "1027");
	/* The key is n bytes, not up to a NUL. */
	T_EQ_STR(lookup_get(l, "F012xyz", 4), "1012");
	T_ASSERT(lookup_get(l, "F01", 3) == NULL);
	T_ASSERT(lookup_get(l, "f012", 4) == NULL);
	T_ASSERT(lookup_get(l, "# a comment line", 16) == NULL);
	T_ASSERT(lookup_get(l, "", 0) == NULL);
	lookup_free(l);
}

T_TEST(lookup_ignore_case_and_delimiter)
{
	struct lookup_opts o = {"sku", "ean", ';', NULL, 1, NULL};
	struct lookup *l = NULL;
	struct err e = ERR_INIT;

	T_ASSERT(t_write_file("x.csv", "sku;ean\nKW-10001;4006381333931\n"
				       "kw-10002;4006381333948\n") == 0);
	T_OK(lookup_load("x.csv", "xref", &o, &l, &e), &e);
	T_EQ_STR(lookup_get(l, "kw-10001", 8), "4006381333931");
	T_EQ_STR(lookup_get(l, "KW-10002", 8), "4006381333948");
	lookup_free(l);
	/* With folding, keys equal but for case are duplicates. */
	T_ASSERT(t_write_file("d.csv", "sku;ean\nAB;1\nab;2\n") == 0);
	T_EQ_INT(lookup_load("d.csv", "xref", &o, &l, &e), -1);
	T_EQ_INT(e.code, E_CONFIG);
	T_EQ_STR(e.reason, "lookup 'xref': key 'ab' appears twice");
	/* Without it they are two keys. */
	o.ignore_case = 0;
	err_clear(&e);
	T_OK(lookup_load("d.csv", "xref", &o, &l, &e), &e);
	T_EQ_STR(lookup_get(l, "AB", 2), "1");
	T_EQ_STR(lookup_get(l, "ab", 2), "2");
	lookup_free(l);
}

T_TEST(lookup_refusals_at_file_line)
{
	struct lookup_opts o = {"code", "id", 0, NULL, 0, NULL};
	struct lookup *l = NULL;
	struct err e = ERR_INIT;

	T_ASSERT(t_write_file("dup.csv", "code,id\nA,1\nB,2\nA,3\n") == 0);
	T_EQ_INT(lookup_load("dup.csv", "t", &o, &l, &e), -1);
	T_EQ_INT(e.code, E_CONFIG);
	T_EQ_STR(e.reason, "lookup 't': key 'A' appears twice");
	T_EQ_STR(e.file, "dup.csv");
	T_ASSERT(l == NULL);

	err_clear(&e);
	T_ASSERT(t_write_file("nocol.csv", "code,name\nA,x\n") == 0);
	T_EQ_INT(lookup_load("nocol.csv", "t", &o, &l, &e), -1);
	T_EQ_INT(e.code, E_CONFIG);
	T_EQ_STR(e.reason, "lookup 't': column 'id' is not in nocol.csv "
			   "(columns: code, name)");
	T_EQ_STR(e.field, "value");
	T_EQ_INT(e.line, 1);

	err_clear(&e);
	T_ASSERT(t_write_file("short.csv", "code,extra,id\nA,x,1\nB\n") == 0);
	T_EQ_INT(lookup_load("short.csv", "t", &o, &l, &e), -1);
	T_EQ_INT(e.code, E_CONFIG);
	T_EQ_INT(e.line, 3);
	T_EQ_STR(e.file, "short.csv");

	err_clear(&e);
	T_EQ_INT(lookup_load("absent.csv", "t", &o, &l, &e), -1);
	T_EQ_INT(e.code, E_IO);
	T_ASSERT(l == NULL);
}

T_TEST(lookup_missing_policy)
{
	struct lookup_opts o = {"code", "id", 0, NULL, 0, NULL};
	struct lookup *l = NULL;
	struct err e = ERR_INIT;
	const char *def = "unset";

	T_ASSERT(t_write_file("s.csv", STORES) == 0);
	T_OK(lookup_load("s.csv", "stores", &o, &l, &e), &e);
	/* Rejecting is the default. */
	T_EQ_INT(lookup_missing_policy(l, &def), LOOKUP_REJECT);
	T_EQ_INT(lookup_set_missing(l, LOOKUP_DEFAULT, "0000"), 0);
	T_EQ_INT(lookup_missing_policy(l, &def), LOOKUP_DEFAULT);
	T_EQ_STR(def, "0000");
	T_EQ_INT(lookup_set_missing(l, LOOKUP_KEEP, NULL), 0);
	T_EQ_INT(lookup_missing_policy(l, &def), LOOKUP_KEEP);
	lookup_free(l);
	lookup_free(NULL);
}

/* Enough rows to grow the key array and the hash index several times;
 * every key still finds its own value. */
T_TEST(lookup_thousand_rows)
{
	struct lookup_opts o = {"k", "v", 0, NULL, 0, NULL};
	struct lookup *l = NULL;
	struct err e = ERR_INIT;
	char key[32], val[32];
	FILE *f = fopen("big.csv", "w");
	int i;

	T_ASSERT(f != NULL);
	fputs("k,v\n", f);
	for (i = 0; i < 1000; i++)
		fprintf(f, "SKU-%05d,%d\n", i, i * 7);
	T_ASSERT(fclose(f) == 0);
	T_OK(lookup_load("big.csv", "big", &o, &l, &e), &e);
	T_EQ_INT(lookup_count(l), 1000);
	for (i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "SKU-%05d", i);
		snprintf(val, sizeof(val), "%d", i * 7);
		T_EQ_STR(lookup_get(l, key, strlen(key)), val);
	}
	T_ASSERT(lookup_get(l, "SKU-01000", 9) == NULL);
	lookup_free(l);
}
