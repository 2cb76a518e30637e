/* Structs shaped like CPython's allocator and object state, compiled twice:
 * into the sample shared objects (whose DWARF test_dwarf.c reads) and into
 * the test binary (whose offsetof/sizeof are the expected values). */
#ifndef PYMAC_TEST_LAYOUT_SAMPLE_H
#define PYMAC_TEST_LAYOUT_SAMPLE_H

#include <stddef.h>
#include <stdint.h>

typedef unsigned char block;
typedef unsigned int uint;

/* Objects/obmalloc.c: 48 bytes on x86-64. */
struct pool_header {
    union {
        block *_padding;
        uint count;
    } ref;
    block *freeblock;
    struct pool_header *nextpool;
    struct pool_header *prevpool;
    uint arenaindex;
    uint szidx;
    uint nextoffset;
    uint maxnextoffset;
};
typedef struct pool_header *poolp;

struct arena_object {
    uintptr_t address;
    block *pool_address;
    uint nfreepools;
    uint ntotalpools;
    struct pool_header *freepools;
    struct arena_object *nextarena;
    struct arena_object *prevarena;
};

/* A typedef'd anonymous struct, as arena_coverage_t. */
typedef struct {
    int32_t tail_hi;
    int32_t tail_lo;
} arena_coverage_t;

typedef struct arena_map_bot {
    arena_coverage_t arenas[32];
} arena_map_bot_t;

typedef const volatile arena_coverage_t cv_coverage_t; /* qualifiers over a typedef */

struct opaque_thing; /* declared, never defined */
typedef struct opaque_thing opaque_t; /* a typedef of it is no definition either */

#define SAMPLE_NB_SMALL_SIZE_CLASSES 32
#define SAMPLE_MAX_POOLS_IN_ARENA 16

/* Include/internal/pycore_obmalloc.h (3.12), with struct definitions nested. */
struct _obmalloc_state {
    struct _obmalloc_pools {
        poolp used[2 * SAMPLE_NB_SMALL_SIZE_CLASSES];
    } pools;
    struct _obmalloc_mgmt {
        struct arena_object *arenas;
        uint maxarenas;
        struct arena_object *unused_arena_objects;
        struct arena_object *usable_arenas;
        struct arena_object *nfp2lasta[SAMPLE_MAX_POOLS_IN_ARENA + 1];
        size_t narenas_currently_allocated;
        size_t ntimes_arena_allocated;
        size_t narenas_highwater;
        ptrdiff_t raw_allocated_blocks;
    } mgmt;
    struct {
        arena_map_bot_t *ptrs[4];
        int count;
    } usage; /* an anonymous struct type under a named member */
    struct {
        char anon_a;
        union {
            long anon_b;
            double anon_c;
        };
    }; /* an anonymous member: its members are found as if they were ours */
    opaque_t *handle;
    const volatile uint qualified;
};

/* PyASCIIObject (3.12): the kind bits in a named struct of bitfields. */
typedef struct {
    intptr_t ob_refcnt;
    void *ob_type;
    intptr_t length;
    intptr_t hash;
    struct {
        unsigned int interned : 2;
        unsigned int kind : 3;
        unsigned int compact : 1;
        unsigned int ascii : 1;
        unsigned int statically_allocated : 1;
        unsigned int : 24;
    } state;
} PyASCIIObject_sample;

/* Bitfields inside an anonymous struct that is not at offset 0. */
struct anon_bits {
    long pad;
    struct {
        unsigned int lo : 3;
        unsigned int hi : 5;
    };
};

/* A flexible array member, as PyDictKeysObject's dk_indices. */
struct flex_sample {
    long n;
    char data[];
};

/* Two CUs define `struct dup_type` differently; the anchors pick one. */
#define DUP_TYPE_BODY_1 int a;
#define DUP_TYPE_BODY_2 long a, b, c;

#endif
