/* sftp_bench.c - times stockpipe's sftp:// connector alone (the code the
 * fetch and deliver stages run per file), for tests/bench/sftp_bench.sh.
 *
 *   sftp_bench get URL KEY KNOWN_HOSTS LOCALDIR   fetch every file listed
 *   sftp_bench put URL KEY KNOWN_HOSTS LOCALDIR   deliver every file of DIR
 *
 * One connection for all files, as a stage has per source/target. get goes
 * through list + fetch (temporary file, size check, SHA-256, atomic
 * publish with fsync); put through put (".NAME.part", fsync@openssh.com,
 * size check, rename without overwrite). Prints "FILES BYTES SECONDS".
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "connectors/connector.h"

struct names {
	char (*v)[256];
	size_t n, cap;
	uint64_t bytes;
};

static int add(void *ud, const struct conn_entry *e)
{
	struct names *l = ud;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 1024;
		void *p = realloc(l->v, cap * sizeof(*l->v));

		if (!p)
			return -1;
		l->v = p;
		l->cap = cap;
	}
	snprintf(l->v[l->n++], sizeof(l->v[0]), "%s", e->name);
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct conn_opts o;
	struct conn *c = NULL;
	struct err err = ERR_INIT;
	struct names l = {NULL, 0, 0, 0};
	char path[4096], sha[80];
	double t0;
	size_t i;
	int put;

	if (argc != 6 || (strcmp(argv[1], "get") && strcmp(argv[1], "put"))) {
		fprintf(stderr, "usage: %s get|put URL KEY KNOWN_HOSTS DIR\n",
			argv[0]);
		return 64;
	}
	put = !strcmp(argv[1], "put");
	conn_opts_init(&o);
	o.key_file = argv[3];
	o.known_hosts = argv[4];
	o.retries = 0;
	o.timeout_ms = 120000;
	t0 = now_s(); /* connecting is part of the cost, as in a run */
	if (conn_open(argv[2], &o, &c, &err) < 0)
		goto fail;
	if (put) {
		DIR *d = opendir(argv[5]);
		struct dirent *de;
		struct conn_entry e;

		if (!d) {
			perror(argv[5]);
			return 66;
		}
		while ((de = readdir(d)))
			if (de->d_name[0] != '.') {
				memset(&e, 0, sizeof(e));
				snprintf(e.name, sizeof(e.name), "%s",
					 de->d_name);
				if (add(&l, &e) < 0)
					return 70;
			}
		closedir(d);
		for (i = 0; i < l.n; i++) {
			snprintf(path, sizeof(path), "%s/%s", argv[5], l.v[i]);
			if (c->scheme->ops->put(c, path, l.v[i], &err) < 0)
				goto fail;
		}
	} else {
		if (c->scheme->ops->list(c, add, &l, &err) < 0)
			goto fail;
		for (i = 0; i < l.n; i++) {
			uint64_t size;

			snprintf(path, sizeof(path), "%s/%s", argv[5], l.v[i]);
			if (c->scheme->ops->fetch(c, l.v[i], path, sha, &size,
						  &err) < 0)
				goto fail;
			l.bytes += size;
		}
	}
	conn_close(c);
	t0 = now_s() - t0;
	if (put) { /* count what was sent */
		for (i = 0; i < l.n; i++) {
			FILE *f;

			snprintf(path, sizeof(path), "%s/%s", argv[5], l.v[i]);
			if ((f = fopen(path, "rb"))) {
				fseek(f, 0, SEEK_END);
				l.bytes += (uint64_t)ftell(f);
				fclose(f);
			}
		}
	}
	printf("%zu %llu %.3f\n", l.n, (unsigned long long)l.bytes,
	       t0);
	free(l.v);
	return 0;
fail:
	fprintf(stderr, "sftp_bench: %s\n", err.reason);
	conn_close(c);
	free(l.v);
	return 1;
}
