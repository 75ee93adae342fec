/* t_arena.c - bump allocator: alignment, caps, reset keeps one block. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/arena.h"
#include "t.h"

T_TEST(arena_alignment_and_no_overlap)
{
	struct arena a;
	unsigned char *p[200];
	size_t i, j;

	arena_init(&a, 256, 0);
	for (i = 0; i < 200; i++) {
		size_t n = 1 + (i * 7) % 90;

		p[i] = arena_alloc(&a, n);
		T_ASSERT(p[i] != NULL);
		T_EQ_INT((uintptr_t)p[i] % _Alignof(max_align_t), 0);
		memset(p[i], (int)i, n);
	}
	/* Every allocation kept its own bytes. */
	for (i = 0; i < 200; i++) {
		size_t n = 1 + (i * 7) % 90;

		for (j = 0; j < n; j++)
			if (p[i][j] != (unsigned char)i)
				T_FAIL("allocation %zu byte %zu overwritten", i,
				       j);
	}
	arena_release(&a);
	T_ASSERT(a.head == NULL);
	T_EQ_INT(a.total, 0);
}

T_TEST(arena_zero_and_large_sizes)
{
	struct arena a = ARENA_INIT; /* usable without arena_init */
	void *z1, *z2;
	char *big;

	z1 = arena_alloc(&a, 0);
	z2 = arena_alloc(&a, 0);
	T_ASSERT(z1 && z2 && z1 != z2);
	/* Larger than a block gets a block of its own. */
	big = arena_alloc(&a, 100000);
	T_ASSERT(big != NULL);
	memset(big, 'x', 100000);
	T_ASSERT(a.total >= 100000);
	arena_release(&a);
}

T_TEST(arena_refuses_impossible_sizes)
{
	struct arena a;

	arena_init(&a, 1024, 0);
	T_ASSERT(arena_alloc(&a, SIZE_MAX) == NULL);
	T_ASSERT(arena_alloc(&a, SIZE_MAX - 8) == NULL);
	/* Rounds up fine but the block header would wrap around (the
	 * arena must refuse these itself, before malloc). */
	T_ASSERT(arena_alloc(&a, SIZE_MAX - 40) == NULL);
	T_ASSERT(arena_alloc(&a, SIZE_MAX - 31) == NULL);
	T_EQ_INT(a.total, 0);
	T_ASSERT(arena_strndup(&a, "x", SIZE_MAX) == NULL);
	/* Still usable afterwards. */
	T_EQ_STR(arena_strdup(&a, "ok"), "ok");
	arena_release(&a);
}

T_TEST(arena_max_total_cap)
{
	struct arena a;
	int n = 0;

	arena_init(&a, 1024, 4096);
	while (arena_alloc(&a, 512) && n < 1000)
		n++;
	T_ASSERT(n >= 4 && n <= 8); /* 4 KiB worth, not unbounded */
	T_ASSERT(a.total <= 4096);
	T_ASSERT(arena_alloc(&a, 5000) == NULL);
	/* The cap must hold even for a size that would wrap total. */
	T_ASSERT(arena_alloc(&a, SIZE_MAX - 4096) == NULL);
	arena_reset(&a);
	T_ASSERT(arena_alloc(&a, 512) != NULL);
	arena_release(&a);
}

T_TEST(arena_strings)
{
	struct arena a;
	char *s;

	arena_init(&a, 0, 0);
	T_EQ_INT(a.block_size, 16384);
	T_EQ_STR(arena_strdup(&a, "hello"), "hello");
	s = arena_strndup(&a, "hello world", 5);
	T_EQ_STR(s, "hello");
	T_EQ_STR(arena_strndup(&a, "", 0), "");
	T_EQ_STR(arena_printf(&a, "%s-%05d-%c", "sku", 42, 'x'),
		 "sku-00042-x");
	/* Longer than the block: printf must size it, not truncate. */
	s = arena_printf(&a, "%40000d|", 7);
	T_ASSERT(s != NULL);
	T_EQ_INT(strlen(s), 40001);
	T_EQ_INT(s[39999], '7');
	T_EQ_INT(s[40000], '|');
	arena_release(&a);
}

T_TEST(arena_reset_keeps_largest_block)
{
	struct arena a;
	size_t i, held;
	void *first, *again;

	arena_init(&a, 1024, 0);
	for (i = 0; i < 50; i++)
		T_ASSERT(arena_alloc(&a, 300) != NULL);
	T_ASSERT(arena_alloc(&a, 50000) != NULL); /* the largest block */
	T_ASSERT(a.total > 50000);
	arena_reset(&a);
	T_ASSERT(a.head != NULL);
	T_ASSERT(a.total >= 50000 && a.total < 51024);
	held = a.total;
	/* Steady state: the next record fits in the kept block, no growth. */
	for (i = 0; i < 10; i++) {
		first = arena_alloc(&a, 4000);
		T_ASSERT(first != NULL);
		T_EQ_INT(a.total, held);
		arena_reset(&a);
		again = arena_alloc(&a, 4000);
		T_ASSERT(again == first); /* memory is reused */
		arena_reset(&a);
	}
	arena_release(&a);
	T_ASSERT(a.head == NULL);
	arena_reset(&a); /* reset of an empty arena is harmless */
	T_EQ_INT(a.total, 0);
}
