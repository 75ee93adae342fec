/* arena.h - bump allocator for per-record and per-file work.
 *
 * Values made while mapping one record (trimmed strings, lookups, formatted
 * numbers) all die together when the record is emitted; allocating them from
 * an arena and calling arena_reset() per record keeps the hot loop free of
 * malloc/free churn. The arena keeps its largest blocks across resets, so a
 * steady-state record costs no allocation at all.
 */
#ifndef STOCKPIPE_ARENA_H
#define STOCKPIPE_ARENA_H

#include <stddef.h>

struct arena_block;

struct arena {
	struct arena_block *head;  /* current block; older blocks follow */
	size_t block_size;         /* default size of a new block */
	size_t max_total;          /* cap on bytes held; 0 = unlimited */
	size_t total;              /* bytes held in blocks */
};

#define ARENA_INIT { NULL, 0, 0, 0 }

void arena_init(struct arena *a, size_t block_size, size_t max_total);
/* Returns n bytes aligned for any type, or NULL (out of memory or cap). */
void *arena_alloc(struct arena *a, size_t n);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_strdup(struct arena *a, const char *s);
char *arena_printf(struct arena *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Forgets all allocations; keeps one block for reuse. */
void arena_reset(struct arena *a);
/* Frees everything; the arena may be reused after arena_init(). */
void arena_release(struct arena *a);

#endif
