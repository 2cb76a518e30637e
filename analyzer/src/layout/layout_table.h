/* Layout tables: for interpreters without DWARF, the answers the DWARF
 * layout source gave for every question the library asked of a build of the
 * same version and kind, committed in analyzer/src/layout/tables/. They are
 * written by tools/gen-layout-tables from real builds' DWARF (recorded with
 * PYMAC_LAYOUT_RECORD, source_record.c) and checked against them by
 * tests/layout: proven, not trusted. */
#ifndef PYMAC_LAYOUT_TABLE_H
#define PYMAC_LAYOUT_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pymac/pymac.h"

/* What was asked (pm_layout_source's operations). */
typedef enum pm_answer_kind {
    PM_ANS_HAS = 'h',     /* has(type) */
    PM_ANS_SIZE = 's',    /* size(type, anchor): off holds the size */
    PM_ANS_MEMBER = 'm',  /* field(type, path) / field_near(type, path, anchor) */
    PM_ANS_ARRAY = 'a',   /* array(type, path): elem_size, count */
    PM_ANS_TYPE = 't',    /* member_type(type, path): text */
    PM_ANS_MEMBERS = 'l', /* members(type): text, "name:off;name:off;..." */
} pm_answer_kind;

typedef struct pm_layout_answer {
    char kind;        /* pm_answer_kind */
    const char *type, *path, *anchor; /* "" where the question has none */
    bool present;     /* false: no such type or member in this build */
    int64_t off;      /* a member's offset, or a size */
    uint32_t size;    /* a member's size */
    uint8_t bit_off, bit_size;
    uint64_t elem_size, count;
    const char *text;
    /* the patch releases this answer is proven for: the builds' own, and
     * from 0 before the oldest and to 255 after the newest; where builds of
     * the minor version disagree, the patches between them have no answer */
    uint8_t patch_min, patch_max;
} pm_layout_answer;

typedef struct pm_layout_table {
    const char *name;              /* "py312", "py313t": the file in tables/ */
    unsigned minor;                /* 3.minor (every patch release: see the answers') */
    bool free_threaded;
    const char *proven_on;         /* the builds it was generated from, "3.12.1" */
    const pm_layout_answer *answers; /* sorted by pm_answer_cmp */
    size_t nanswers;
} pm_layout_table;

/* Every committed table, NULL-terminated (tables/tables.c). */
extern const pm_layout_table *const pm_layout_tables[];

/* The table for 3.minor of this build kind, or NULL. */
const pm_layout_table *pm_table_for(unsigned minor, bool free_threaded);
/* The answer to a question for patch release 3.minor.patch, or NULL when the
 * table was not made for the question or holds no answer proven for that
 * patch (in *unproven, true then). */
const pm_layout_answer *pm_table_answer(const pm_layout_table *t, char kind, const char *type,
                                        const char *path, const char *anchor, unsigned patch,
                                        bool *unproven);
/* Makes table t the session's layout source (source_table.c; the library
 * picks the table with pm_layout_source_choose_table). */
struct pymac_session;
pymac_status pm_layout_source_table_open(struct pymac_session *s, const pm_layout_table *t,
                                         unsigned patch, pymac_error *err);
/* The order of the answers: kind, type, path, anchor. */
int pm_answer_cmp(char ka, const char *ta, const char *pa, const char *aa, char kb,
                  const char *tb, const char *pb, const char *ab);

#endif
