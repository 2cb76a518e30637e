/* Layout tables: the facts of layout_keys.def for one CPython version range
 * and build kind, written by tools/gen-layout-tables from the DWARF of real
 * builds and checked against them by tests/layout (see README, "Without
 * debug info"). The library answers from a table only when no DWARF is found. */
#ifndef PYMAC_LAYOUT_TABLE_H
#define PYMAC_LAYOUT_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum pm_fact_kind {
    PM_FACT_SIZE = 's',   /* sizeof(type): size */
    PM_FACT_MEMBER = 'm', /* type.path: off, size, bit_off, bit_size */
    PM_FACT_ARRAY = 'a',  /* the array type.path: elem_size, count */
} pm_fact_kind;

typedef struct pm_layout_fact {
    const char *type;
    const char *path; /* "" for sizes */
    char kind;        /* pm_fact_kind */
    bool present;     /* false: this build has no such type or member */
    int32_t off;
    uint32_t size;
    uint8_t bit_off, bit_size;
    uint64_t elem_size, count;
} pm_layout_fact;

typedef struct pm_layout_table {
    const char *name;            /* "py311", the file in tables/ */
    unsigned minor;              /* 3.minor */
    unsigned patch_min, patch_max; /* 3.minor.patch_min .. 3.minor.patch_max */
    bool free_threaded;
    const char *proven_on;       /* the builds the generator read, "3.11.2 3.11.7" */
    const pm_layout_fact *facts; /* sorted by pm_fact_cmp */
    size_t nfacts;
} pm_layout_table;

/* Every committed table, NULL-terminated (tables/tables.c). */
extern const pm_layout_table *const pm_layout_tables[];

/* The table for 3.minor.patch of this build kind, or NULL. */
const pm_layout_table *pm_table_for(unsigned minor, unsigned patch, bool free_threaded);
/* A fact of a table, or NULL when the table does not list the key. */
const pm_layout_fact *pm_table_fact(const pm_layout_table *t, char kind, const char *type,
                                    const char *path);
/* The order of the facts: kind, type, path. */
int pm_fact_cmp(char ka, const char *ta, const char *pa, char kb, const char *tb, const char *pb);

#endif
