/* config.h - the pipeline configuration (stockpipe.yaml).
 *
 * Read once per command into plain structs; every value keeps the node it
 * came from so later checks can still say file:line:col. ${VAR} and
 * ${VAR:-default} in any scalar are replaced from the environment, so
 * passwords and hosts stay out of the file. Relative paths are resolved
 * against the directory of the config file, not the working directory, so
 * cron and Airflow can run stockpipe from anywhere. See docs/configuration.md.
 */
#ifndef STOCKPIPE_CONFIG_H
#define STOCKPIPE_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "connectors/connector.h"
#include "transforms/model/dec.h"
#include "transforms/formats/unpack.h"
#include "lib/err.h"
#include "lib/ytree.h"

enum cfg_after_load { CFG_AFTER_LEAVE, CFG_AFTER_MOVE, CFG_AFTER_DELETE };

/* A mapping chosen by document name: the first route whose pattern
 * matches a file's (or an archive member's) base name wins; the source's
 * `mapping` is the fallback. */
struct cfg_route {
	const char *pattern;      /* glob on the base name, or NULL */
	const char *format;       /* sniffed content format (x12, edifact,
				     xml, csv), or NULL */
	const char *mapping;      /* absolute path */
	/* EDI envelope values (pipeline/stages/stage_map.c peeks them with
	 * transforms/formats/edi_peek.h), NULL = any: ST01 / UNH 0065;
	 * GS08 / UNH 0052+0054 (D96A); ISA06 or GS02 / UNB 0004 */
	const char *message;
	const char *version;
	const char *sender;
};

/* What a document shows a route (config_route_match): any may be NULL. */
struct cfg_doc_facts {
	const char *format;       /* sniffed: x12, edifact, xml, csv */
	const char *message;      /* the first message's type */
	const char *version;
	const char *sender;       /* ISA06 / UNB 0004 */
	const char *grp_sender;   /* GS02 / UNG */
};

struct cfg_source {
	const char *name;
	const char *url;          /* "file:///abs/dir" after resolution */
	const char **patterns;    /* glob patterns on file names */
	size_t npatterns;
	const char *mapping;      /* absolute path of the inbound mapping */
	enum cfg_after_load after_load;
	const char *processed_dir; /* for CFG_AFTER_MOVE, relative to url */
	int reject_threshold_pct; /* quarantine a document past this % */
	int stale_reject;         /* on_stale: reject (else warn) */
	int64_t min_age;          /* seconds a file must be unchanged */
	int detect_content;       /* detect_changes: content (config.c set_detect_changes) */
	struct conn_opts conn;    /* `ssh:` map and done_suffix */
	struct cfg_route *routes; /* document name pattern -> mapping */
	size_t nroutes;
	struct unpack_limits archive; /* limits for zip/tar members */
	/* acks: EDI acknowledgments (docs/configuration.md); ack_url NULL =
	 * off. ack_x12: EDI_ACK_X12_AUTO, _997, _999 or _X12_NONE
	 * (transforms/edi_ack.h); ack_edifact: 1 = CONTRL. */
	const char *ack_url;
	int ack_x12;
	int ack_edifact;
	struct conn_opts ack_conn;
	const struct ynode *node; /* where it was declared */
	int strict;               /* strict: true: warnings are rejects */
};

/* Safety stock for one category or location: units, or a percentage. */
struct cfg_safety {
	const char *key;
	dec abs;
	int pct;
};

enum cfg_schedule { CFG_SCHED_ALWAYS, CFG_SCHED_EVERY, CFG_SCHED_CRON };
struct schedule; /* schedule.h */

struct cfg_target {
	const char *name;
	const char *url;          /* delivery endpoint */
	const char *mapping;      /* absolute path of the outbound mapping */
	const char *filename;     /* name template */
	enum cfg_schedule schedule;
	int64_t every;            /* seconds, for CFG_SCHED_EVERY */
	struct schedule *cron;    /* CFG_SCHED_CRON: expression and zone */
	const char *schedule_text; /* as written ("always" when absent) */
	const char **locations;   /* published locations; none = all */
	size_t nlocations;
	const char **location_types; /* store, dc, ...; none = all */
	size_t nlocation_types;
	int per_location;         /* one row per (sku, location) */
	int delta;                /* snapshot: delta (changed rows only) */
	unsigned sellable_mask;   /* states added (bit = enum state index) */
	unsigned subtract_mask;   /* states subtracted */
	int64_t stale_after;      /* seconds; 0 = no stale-source rule */
	int stale_hold;           /* 1: hold (no delivery); 0: extra buffer */
	int stale_buffer_pct;     /* extra percent held back when stale */
	struct cfg_safety *safety_by_category; /* extra per item category */
	size_t nsafety_by_category;
	struct cfg_safety *safety_by_location; /* extra per location
						   (per_location targets) */
	size_t nsafety_by_location;
	dec cap;                  /* most published per row, when has_cap */
	int has_cap;
	int round_pack;           /* round down to the item's pack size */
	const char *uom;          /* publish in this unit (its pack size in
				   * the item master), NULL: base units */
	int uom_keep_base;        /* uom_missing: base (else fail) */
	dec safety_abs;           /* units held back per row */
	int safety_pct;           /* percent held back per row */
	int allocation_pct;       /* share of what is left, 0..100 */
	int bad_row_fail;         /* on_bad_row: fail (1) or reject (0) */
	int csv_formula_guard;    /* ' before CSV cells starting = + - @ */
	struct conn_opts conn;    /* `ssh:` map; conn.file_mode = `mode:` */
	const char *done_file;    /* name template of the marker written
				   * after each delivered file, or NULL */
	/* acks_in: where the partner's 997/999/CONTRL for this target's
	 * X12/EDIFACT deliveries arrive (NULL: not read), its `ssh:` map,
	 * and how long a delivery may wait for one before it is overdue */
	const char *acks_in_url;
	struct conn_opts acks_in_conn;
	int64_t acks_in_after;
	const struct ynode *node;
};

struct config {
	struct ytree *tree;       /* owns every string below */
	const char *path;         /* config file as given */
	const char *dir;          /* its directory (absolute) */
	const char *state_dir;    /* absolute; artifacts (and SQLite's
				     state.db) */
	const char *state_db;     /* postgres:// URL (no password), or NULL
				     for SQLite in state_dir */
	const char *state_db_password_env; /* env var with its password */
	char sha256[65];          /* of the config file bytes */
	struct cfg_source *sources;
	size_t nsources;
	struct cfg_target *targets;
	size_t ntargets;
	int reject_threshold_pct; /* default for sources */
	/* A unit failing with a transient error is tried again up to retries
	 * times inside the run, waiting retry_backoff seconds, then twice
	 * that, ... (at most 10 minutes), before it is parked. */
	int retries;
	int64_t retry_backoff;
	/* retention: (gc.h) which runs' files the state folder keeps: the
	 * last `runs` runs and every run younger than `age` seconds. on = 0
	 * (no retention: section): everything is kept, gc does nothing. */
	struct cfg_retention {
		int on;
		int64_t runs;
		int64_t age;
	} retention;
	/* authority: state -> the sources that are its system of record.
	 * A state without an entry accepts every source. */
	const char **authority[8];
	size_t nauthority[8];
	/* Monitoring (pipeline/report/metrics.h): the Prometheus file
	 * (absolute; NULL: state_dir/metrics/stockpipe.prom) and the value of
	 * the `pipeline` label on every series (default: the config file's
	 * base name without its extension). */
	const char *metrics_path;
	const char *pipeline;
};

/* Loads and validates path. state_dir_override (may be NULL) wins over the
 * file and over $STOCKPIPE_STATE_DIR. Returns 0 or -1 with err (E_CONFIG
 * at file:line:col). Free with config_free(). */
int config_load(const char *path, const char *state_dir_override,
		struct config **out, struct err *err);
void config_free(struct config *c);
/* The state directory when neither the command line, the environment nor
 * the file names one, for a config in config_dir (absolute, resolved):
 * /var/lib/stockpipe under /etc, else "stockpipe-state" (relative to the
 * config file). */
const char *config_default_state_dir(const char *config_dir);

const struct cfg_source *config_source(const struct config *c,
				       const char *name);
const struct cfg_target *config_target(const struct config *c,
				       const char *name);

/* The mapping for a document of source s named name (base name is
 * matched) whose content sniffs as format (may be NULL), or NULL when no
 * route matches and the source has none. A route may give a pattern, a
 * format or both; both must match. */
const char *config_mapping_for(const struct cfg_source *s, const char *name,
			       const char *format);
/* The same with the document's envelope values (routes with message:,
 * version:, sender:). */
const char *config_mapping_for_doc(const struct cfg_source *s,
				   const char *name,
				   const struct cfg_doc_facts *f);
/* True when a route of s reads the content: format: or an envelope key
 * (*envelope set when one reads the envelope). */
int config_routes_sniff(const struct cfg_source *s, int *envelope);

/* True when source may set positions of stock state st (index in
 * CANON_STATES): no authority entry for st, or source is listed. */
int config_authorized(const struct config *c, int st, const char *source);

/* The stock state (enum stock_state, transforms/model/stock.h) named
 * name, or -1. */
int config_state_index(const char *name);

/* A file the config names (a mapping, an ssh key_file or known_hosts,
 * as the loader resolved it) checked where it is about to be opened: 0
 * when path exists as a file or is not one the config names; else
 * E_CONFIG at the config line of the value that names it, e.g.
 * "stockpipe.yaml:17:14: source 'acme': mapping file 'm/x.yaml' does not
 * exist" (config_files.c). */
int config_check_file(const struct config *c, const char *path,
		      struct err *err);

#endif
