/* err.h - error values that carry where and why something failed.
 *
 * Every fallible function returns 0 on success or a negative value, and fills
 * a caller-provided struct err. The struct is fixed size so that an
 * out-of-memory error can still be reported without allocating. The first
 * error recorded wins: later calls to err_set() on an already-set error are
 * ignored, so the innermost (most precise) reason is the one the user sees.
 */
#ifndef STOCKPIPE_ERR_H
#define STOCKPIPE_ERR_H

#include <stddef.h>

/* Process exit codes (sysexits style), documented in docs/operations.md. */
enum exit_code {
	EXIT_DONE = 0,       /* everything done */
	EXIT_REJECTS = 1,    /* done, with rejected records or quarantined files */
	EXIT_USAGE = 64,     /* bad command line */
	EXIT_INTERNAL = 70,  /* a bug or an impossible state */
	EXIT_TEMPFAIL = 75,  /* temporary: I/O, lock busy, network; retry can help */
	EXIT_CONFIG = 78     /* configuration, mapping or credentials; retry cannot */
};

/* What went wrong; drives the exit code and the retry policy. */
enum err_code {
	E_NONE = 0,
	E_NOMEM,     /* out of memory (temporary) */
	E_TOOBIG,    /* input exceeds a configured bound (line, field, file) */
	E_IO,        /* read/write/fsync/rename failed (temporary) */
	E_NOSPACE,   /* ENOSPC/EDQUOT (temporary) */
	E_BUSY,      /* state directory locked by another run (temporary) */
	E_PARSE,     /* input data malformed */
	E_MAP,       /* a mapping rule failed on a record */
	E_VALIDATE,  /* a canonical record failed validation */
	E_CONFIG,    /* configuration or mapping file error */
	E_USAGE,     /* command-line error */
	E_NOTFOUND,  /* a named thing does not exist */
	E_EXISTS,    /* target already exists */
	E_NET,       /* network failure (temporary) */
	E_AUTH,      /* credentials or host key refused */
	E_INTERRUPT, /* stopped by a signal at a safe point (temporary) */
	E_INTERNAL   /* a bug */
};

struct err {
	int code;            /* enum err_code; E_NONE when clear */
	int os_code;         /* errno or library code, 0 when not applicable */
	char file[512];      /* input or config file the error is about, "" if none */
	unsigned long line;  /* 1-based line (or segment number); 0 = unknown */
	unsigned col;        /* 1-based column; 0 = unknown */
	char field[128];     /* field, column or path, "" if none */
	char reason[512];    /* lowercase, no final period: what failed and why */
};

/* Where in an input file something is, in the numbers an editor and a
 * person use: the physical line and column (1-based; the column counts
 * bytes from the line's start, the same as characters for ASCII), and
 * for EDI the segment number in the file and the byte offset of the
 * element (or segment) in it. 0 = unknown (seg 0: not EDI). One struct
 * from the EDI readers to map try, the reject files and inspect. */
struct src_loc {
	unsigned long line;
	unsigned col;
	unsigned long seg;
	unsigned long long offset;
};

#define ERR_INIT { 0, 0, "", 0, 0, "", "" }

/* Records code and a printf-style reason unless an error is already set.
 * Always returns -1 so callers can write `return err_set(...)`. */
int err_set(struct err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Like err_set() and also records errno as os_code and appends
 * ": strerror(errno)" to the reason. Maps ENOSPC/EDQUOT to E_NOSPACE. */
int err_sys(struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Like err_set() with a location. file may be NULL. */
int err_at(struct err *e, int code, const char *file, unsigned long line,
	   unsigned col, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

/* Sets e->file/line/col/field when they are still empty/zero, so an outer
 * layer can add the location an inner layer did not know. */
void err_locate(struct err *e, const char *file, unsigned long line,
		unsigned col, const char *field);

void err_clear(struct err *e);

/* Formats "file:line:col: field: reason" leaving out unknown parts. */
void err_format(const struct err *e, char *out, size_t n);

/* The process exit code an error of this code deserves. */
int err_exit_code(const struct err *e);

/* True when a retry may help (I/O, busy, network, memory, interrupt). */
int err_is_temporary(const struct err *e);

/* What a failure says about what can fix it (docs/operations.md, "What
 * stops what"). Decided where the error is raised, by the code it is
 * raised with (a target folder that is missing is raised as E_CONFIG, not
 * as the E_IO its errno would suggest); err_class() is the one table from
 * code to class. */
enum err_class {
	EC_NONE = 0,
	EC_TRANSIENT, /* I/O, network, lock, disk full, server busy: retry */
	EC_DATA,      /* a file's, name's or row's content: the input must change */
	EC_CONFIG,    /* config, mapping, credentials, paths: an operator acts */
	EC_INTERNAL   /* a bug or a corrupt store */
};

int err_class(const struct err *e);
/* "transient", "data", "config", "internal" ("" for EC_NONE). */
const char *err_class_name(int cls);
/* The exit code of a run that could not advance because of a failure of
 * this class: 75, 78 or 70 (0 for EC_NONE). */
int err_class_exit_code(int cls);

/* Short stable name of a code, e.g. "io", "config". */
const char *err_code_name(int code);

#endif
