/* gen-layout-tables: the layout facts of layout_keys.def, read from the DWARF
 * of CPython builds, written as the C tables the library uses when a target
 * has no DWARF (analyzer/src/layout/tables/), or checked against them.
 *
 *   gen-layout-tables facts FILE                      print the facts of one build
 *   gen-layout-tables emit --name pyXY --out F.c FILE=3.X.Y...
 *                                                     write a table file
 *   gen-layout-tables check FILE=3.X.Y...             compare each build with the
 *                                                     committed table covering it
 *
 * FILE is a libpython or a python executable; its DWARF is found as pymac
 * finds it (in the file, or through its build-id/debuglink in /usr/lib/debug).
 * Types are looked up the way the library does (pm_dwarf_find_type with the
 * same anchor functions), so a table says what DWARF would have said. Builds
 * given to emit that disagree split the table by patch range. */
#include <elfutils/libdwfl.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dwarf_types.h"
#include "layout_table.h"

typedef struct key {
    char kind;
    const char *type, *path, *anchor;
} key;

static const key keys[] = {
#define PM_SIZE(t) {PM_FACT_SIZE, t, "", NULL},
#define PM_MEMBER(t, p) {PM_FACT_MEMBER, t, p, NULL},
#define PM_ARRAY(t, p) {PM_FACT_ARRAY, t, p, NULL},
#define PM_SIZE_NEAR(t, fn) {PM_FACT_SIZE, t, "", fn},
#include "layout_keys.def"
#undef PM_SIZE
#undef PM_MEMBER
#undef PM_ARRAY
#undef PM_SIZE_NEAR
};
enum { NKEYS = sizeof keys / sizeof keys[0] };

typedef struct build {
    const char *file;
    const char *version;
    unsigned minor, patch;
    bool free_threaded;
    pm_layout_fact facts[NKEYS]; /* sorted */
} build;

static uint64_t symbol(Dwfl_Module *mod, const char *name)
{
    int n = dwfl_module_getsymtab(mod);
    for (int i = 1; i < n; i++) {
        GElf_Sym sym;
        GElf_Addr addr;
        const char *nm = dwfl_module_getsym_info(mod, i, &sym, &addr, NULL, NULL, NULL);
        if (nm && sym.st_shndx != SHN_UNDEF && strcmp(nm, name) == 0)
            return addr;
    }
    return 0;
}

static int cmp_facts(const void *a, const void *b)
{
    const pm_layout_fact *x = a, *y = b;
    return pm_fact_cmp(x->kind, x->type, x->path, y->kind, y->type, y->path);
}

/* The library's pm_find_type: anchors in this order, then every CU. */
static bool find_type(pm_dwarf *dw, const uint64_t *anchors, const key *k, Dwarf_Die *out)
{
    if (k->anchor) {
        /* freelists.c's type_near: the anchor's CU alone first */
        uint64_t a = symbol(dw->mod, k->anchor);
        if (a && pm_dwarf_find_type(dw, k->type, &a, 1, out))
            return true;
    }
    return pm_dwarf_find_type(dw, k->type, anchors, 4, out);
}

static void resolve(pm_dwarf *dw, const uint64_t *anchors, const key *k, pm_layout_fact *f)
{
    memset(f, 0, sizeof *f);
    f->type = k->type;
    f->path = k->path;
    f->kind = k->kind;
    Dwarf_Die t, elem, mt;
    pm_field m;
    if (!find_type(dw, anchors, k, &t))
        return;
    switch (k->kind) {
    case PM_FACT_SIZE: {
        int64_t n = pm_dwarf_sizeof(&t);
        f->present = n > 0;
        f->size = n > 0 ? (uint32_t)n : 0;
        break;
    }
    case PM_FACT_MEMBER:
        if (pm_dwarf_member(&t, k->path, &m)) {
            f->present = true;
            f->off = m.off;
            f->size = m.size;
            f->bit_off = m.bit_off;
            f->bit_size = m.bit_size;
        }
        break;
    case PM_FACT_ARRAY:
        f->present = pm_dwarf_member_typed(&t, k->path, &m, &mt) &&
                     pm_dwarf_array_elem(&mt, &elem, &f->elem_size, &f->count);
        break;
    }
}

static bool parse_version(const char *v, unsigned *minor, unsigned *patch)
{
    unsigned major;
    return sscanf(v, "%u.%u.%u", &major, minor, patch) == 3 && major == 3;
}

static bool load(const char *arg, build *b)
{
    static char *debuginfo_path = "-:.debug:/usr/lib/debug";
    static const Dwfl_Callbacks cb = {
        .find_elf = dwfl_build_id_find_elf,
        .find_debuginfo = dwfl_standard_find_debuginfo,
        .section_address = dwfl_offline_section_address,
        .debuginfo_path = &debuginfo_path,
    };
    char *file = strdup(arg);
    char *eq = strrchr(file, '=');
    b->version = "";
    if (eq) {
        *eq = '\0';
        b->version = eq + 1;
        if (!parse_version(b->version, &b->minor, &b->patch)) {
            fprintf(stderr, "gen-layout-tables: %s: version 3.X.Y expected after '='\n", arg);
            return false;
        }
    }
    b->file = file;
    Dwfl *d = dwfl_begin(&cb);
    Dwfl_Module *mod = d ? dwfl_report_offline(d, "python", file, -1) : NULL;
    if (!mod || dwfl_report_end(d, NULL, NULL) != 0) {
        fprintf(stderr, "gen-layout-tables: %s: %s\n", file, dwfl_errmsg(-1));
        return false;
    }
    Dwarf_Addr bias;
    pm_dwarf dw = {mod, dwfl_module_getdwarf(mod, &bias)};
    if (!dw.dwarf) {
        fprintf(stderr, "gen-layout-tables: %s: no DWARF (%s)\n", file, dwfl_errmsg(-1));
        return false;
    }
    const uint64_t anchors[4] = {symbol(mod, "PyObject_Malloc"), symbol(mod, "PyInterpreterState_New"),
                                 symbol(mod, "_PyObject_DebugMallocStats"),
                                 symbol(mod, "_PyRuntimeState_Init")};
    for (size_t i = 0; i < NKEYS; i++)
        resolve(&dw, anchors, &keys[i], &b->facts[i]);
    qsort(b->facts, NKEYS, sizeof b->facts[0], cmp_facts);
    for (size_t i = 1; i < NKEYS; i++)
        if (cmp_facts(&b->facts[i - 1], &b->facts[i]) == 0) {
            fprintf(stderr, "gen-layout-tables: layout_keys.def lists %c %s.%s twice\n",
                    b->facts[i].kind, b->facts[i].type, b->facts[i].path);
            return false;
        }
    /* the free-threaded build's PyObject has ob_tid */
    key ft = {PM_FACT_MEMBER, "PyObject", "ob_tid", NULL};
    pm_layout_fact f;
    resolve(&dw, anchors, &ft, &f);
    b->free_threaded = f.present;
    /* d stays open: the facts point into keys[], not into DWARF */
    return true;
}

static bool same_fact(const pm_layout_fact *a, const pm_layout_fact *b)
{
    return a->kind == b->kind && strcmp(a->type, b->type) == 0 && strcmp(a->path, b->path) == 0 &&
           a->present == b->present && a->off == b->off && a->size == b->size &&
           a->bit_off == b->bit_off && a->bit_size == b->bit_size &&
           a->elem_size == b->elem_size && a->count == b->count;
}

static void print_fact(FILE *out, const char *prefix, const pm_layout_fact *f)
{
    fprintf(out, "%s%c %s%s%s", prefix, f->kind, f->type, f->path[0] ? "." : "", f->path);
    if (!f->present)
        fprintf(out, " absent\n");
    else if (f->kind == PM_FACT_SIZE)
        fprintf(out, " size %u\n", f->size);
    else if (f->kind == PM_FACT_ARRAY)
        fprintf(out, " elem %llu count %llu\n", (unsigned long long)f->elem_size,
                (unsigned long long)f->count);
    else
        fprintf(out, " off %d size %u bits %u:%u\n", f->off, f->size, f->bit_off, f->bit_size);
}

static bool same_build(const build *a, const build *b)
{
    if (a->free_threaded != b->free_threaded)
        return false;
    for (size_t i = 0; i < NKEYS; i++)
        if (!same_fact(&a->facts[i], &b->facts[i]))
            return false;
    return true;
}

static int by_version(const void *x, const void *y)
{
    const build *a = x, *b = y;
    if (a->minor != b->minor)
        return a->minor < b->minor ? -1 : 1;
    return (a->patch > b->patch) - (a->patch < b->patch);
}

static void emit_group(FILE *out, const char *name, const build *bs, size_t first, size_t end,
                       unsigned patch_min, unsigned patch_max)
{
    const build *b = &bs[first];
    fprintf(out, "\nstatic const pm_layout_fact facts_%s[] = {\n", name);
    for (size_t i = 0; i < NKEYS; i++) {
        const pm_layout_fact *f = &b->facts[i];
        fprintf(out, "    {\"%s\", \"%s\", '%c', %s, %d, %u, %u, %u, %llu, %llu},\n", f->type,
                f->path, f->kind, f->present ? "true" : "false", f->off, f->size, f->bit_off,
                f->bit_size, (unsigned long long)f->elem_size, (unsigned long long)f->count);
    }
    fprintf(out, "};\n\nconst pm_layout_table pm_table_%s = {\n    \"%s\", %u, %u, %u, %s, \"",
            name, name, b->minor, patch_min, patch_max, b->free_threaded ? "true" : "false");
    for (size_t i = first; i < end; i++)
        fprintf(out, "%s%s", i > first ? " " : "", bs[i].version);
    fprintf(out, "\",\n    facts_%s, sizeof facts_%s / sizeof facts_%s[0],\n};\n", name, name,
            name);
}

static int emit(const char *name, const char *path, build *bs, size_t n)
{
    qsort(bs, n, sizeof bs[0], by_version);
    for (size_t i = 1; i < n; i++)
        if (bs[i].minor != bs[0].minor || bs[i].free_threaded != bs[0].free_threaded) {
            fprintf(stderr, "gen-layout-tables: one table is one minor version and build kind\n");
            return 2;
        }
    FILE *out = fopen(path, "w");
    if (!out) {
        perror(path);
        return 2;
    }
    fprintf(out, "/* Generated by tools/gen-layout-tables from the DWARF of CPython");
    for (size_t i = 0; i < n; i++)
        fprintf(out, " %s", bs[i].version);
    fprintf(out, " (%s build).\n * Do not edit: regenerate it (README, \"Without debug info\"); "
                 "tests/layout\n * checks it against every build present. */\n"
                 "#include \"../layout_table.h\"\n",
            bs[0].free_threaded ? "free-threaded" : "default");
    /* runs of builds with equal facts; a run's range starts at its first patch */
    size_t first = 0;
    int part = 0;
    for (size_t i = 1; i <= n; i++) {
        if (i < n && same_build(&bs[i], &bs[first]))
            continue;
        char nm[64];
        if (part)
            snprintf(nm, sizeof nm, "%s_%u", name, bs[first].patch);
        else
            snprintf(nm, sizeof nm, "%s", name);
        unsigned lo = part ? bs[first].patch : 0, hi = i < n ? bs[i].patch - 1 : 255;
        emit_group(out, nm, bs, first, i, lo, hi);
        part++;
        first = i;
    }
    return fclose(out) == 0 ? 0 : 2;
}

static int check(build *b)
{
    const pm_layout_table *t = pm_table_for(b->minor, b->patch, b->free_threaded);
    if (!t) {
        printf("FAIL %s (%s): no committed table covers CPython %s (%s build)\n", b->file,
               b->version, b->version, b->free_threaded ? "free-threaded" : "default");
        return 1;
    }
    int diffs = 0;
    for (size_t i = 0; i < NKEYS; i++) {
        const pm_layout_fact *f = &b->facts[i];
        const pm_layout_fact *c = pm_table_fact(t, f->kind, f->type, f->path);
        if (c && same_fact(c, f))
            continue;
        if (!diffs++)
            printf("FAIL %s (%s) differs from table %s:\n", b->file, b->version, t->name);
        print_fact(stdout, "  dwarf ", f);
        if (c)
            print_fact(stdout, "  table ", c);
        else
            printf("  table: no such key\n");
    }
    if (t->nfacts != NKEYS) {
        printf("FAIL table %s has %zu facts, layout_keys.def lists %d\n", t->name, t->nfacts,
               (int)NKEYS);
        diffs++;
    }
    if (!diffs)
        printf("ok %s (%s): %d facts equal to table %s (3.%u.%u-3.%u.%u)\n", b->file, b->version,
               (int)NKEYS, t->name, t->minor, t->patch_min, t->minor, t->patch_max);
    return diffs ? 1 : 0;
}

static int usage(void)
{
    fprintf(stderr, "usage: gen-layout-tables facts FILE\n"
                    "       gen-layout-tables emit --name pyXY --out FILE.c FILE=3.X.Y...\n"
                    "       gen-layout-tables check FILE=3.X.Y...\n");
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return usage();
    elf_version(EV_CURRENT);
    const char *mode = argv[1];
    if (strcmp(mode, "facts") == 0) {
        build *b = calloc(1, sizeof *b);
        if (!b || !load(argv[2], b))
            return 2;
        printf("# %s: %s build\n", b->file, b->free_threaded ? "free-threaded" : "default");
        for (size_t i = 0; i < NKEYS; i++)
            print_fact(stdout, "", &b->facts[i]);
        return 0;
    }
    const char *name = NULL, *out = NULL;
    int i = 2;
    for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
        if (strcmp(argv[i], "--name") == 0)
            name = argv[i + 1];
        else if (strcmp(argv[i], "--out") == 0)
            out = argv[i + 1];
        else
            return usage();
    }
    size_t n = (size_t)(argc - i);
    build *bs = calloc(n ? n : 1, sizeof *bs);
    if (!bs || !n)
        return usage();
    for (size_t k = 0; k < n; k++) {
        if (!strchr(argv[i + (int)k], '=')) {
            fprintf(stderr, "gen-layout-tables: %s: give the version as FILE=3.X.Y\n",
                    argv[i + (int)k]);
            return 2;
        }
        if (!load(argv[i + (int)k], &bs[k]))
            return 2;
    }
    if (strcmp(mode, "emit") == 0)
        return name && out ? emit(name, out, bs, n) : usage();
    if (strcmp(mode, "check") == 0) {
        int rc = 0;
        for (size_t k = 0; k < n; k++)
            rc |= check(&bs[k]);
        return rc;
    }
    return usage();
}
