/* The library's data API, as a program a test can check against the oracle:
 * what pymac_get_object, pymac_find_leaks and pymac_diff_build return, as
 * JSON on stdout, read from the structs (no view is rendered).
 *
 *   pymac-api-dump [--sysroot DIR] COMMAND ...
 *   pymac-api-dump object CORE ADDR...   one line per address
 *   pymac-api-dump leaks CORE [BASE]     the groups (growth against BASE)
 *   pymac-api-dump diff OLD NEW          the per-type deltas
 *
 * Exit 0, or the first error's status (its message on stderr). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pymac/pymac.h"

static void str(const char *s)
{
    if (!s) {
        fputs("null", stdout);
        return;
    }
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            printf("\\%c", *p);
        else if (*p < 0x20)
            printf("\\u%04x", *p);
        else
            putchar(*p);
    }
    putchar('"');
}

static pymac_session *open_core(const char *path, const char *sysroot, pymac_error *err)
{
    pymac_open_options o = {.core_path = path, .sysroot = sysroot};
    pymac_session *s = NULL;
    return pymac_open_core(&o, &s, err) <= PYMAC_PARTIAL ? s : NULL;
}

static void groups(const char *key, const pymac_leak_group *g, size_t n)
{
    printf("\"%s\": [", key);
    for (size_t i = 0; i < n; i++) {
        printf("%s{\"type\": ", i ? ", " : "");
        str(g[i].name);
        printf(", \"objects\": %llu, \"bytes\": %llu, \"refs\": %llu}",
               (unsigned long long)g[i].objects, (unsigned long long)g[i].bytes,
               (unsigned long long)g[i].refs);
    }
    putchar(']');
}

static int fail(const pymac_error *err)
{
    fprintf(stderr, "pymac-api-dump: %s\n", err->message);
    return err->status ? (int)err->status : 1;
}

int main(int argc, char **argv)
{
    const char *sysroot = NULL;
    if (argc > 2 && !strcmp(argv[1], "--sysroot")) { /* the CLI's option, for cores of a root */
        sysroot = argv[2];
        argc -= 2;
        argv += 2;
    }
    if (argc < 3) {
        fputs("usage: pymac-api-dump object CORE ADDR... | leaks CORE [BASE] | diff OLD NEW\n",
              stderr);
        return 2;
    }
    pymac_error err = {0};
    pymac_session *s = open_core(argv[2], sysroot, &err);
    if (!s)
        return fail(&err);
    int rc = 0;
    if (!strcmp(argv[1], "object")) {
        for (int i = 3; i < argc && !rc; i++) {
            pymac_object *o;
            pymac_status st = pymac_get_object(s, strtoull(argv[i], NULL, 0), 1000, &o, &err);
            if (st > PYMAC_PARTIAL) {
                printf("{\"address\": \"%s\", \"error\": %d}\n", argv[i], (int)st);
                continue;
            }
            printf("{\"address\": %llu, \"type\": ", (unsigned long long)o->address);
            str(o->type);
            printf(", \"refcnt\": %llu, \"immortal\": %d, \"size\": %llu, \"generation\": %d, "
                   "\"value\": ",
                   (unsigned long long)o->refcnt, o->immortal, (unsigned long long)o->size,
                   o->generation);
            str(o->value);
            printf(", \"where\": ");
            str(o->where);
            printf(", \"referents\": %zu}\n", o->nreferents);
            pymac_object_free(o);
        }
    } else if (!strcmp(argv[1], "leaks")) {
        pymac_session *base = argc > 3 ? open_core(argv[3], sysroot, &err) : NULL;
        pymac_leaks *l;
        if (argc > 3 && !base)
            rc = fail(&err);
        else if (pymac_find_leaks(s, base, &l, &err) > PYMAC_PARTIAL)
            rc = fail(&err);
        else {
            putchar('{');
            groups("unexplained", l->unexplained, l->nunexplained);
            fputs(", ", stdout);
            groups("unreachable", l->unreachable, l->nunreachable);
            fputs(", ", stdout);
            groups("growth", l->growth, l->ngrowth);
            printf(", \"objects\": %zu}\n", l->objects);
            pymac_leaks_free(l);
        }
        pymac_close(base);
    } else if (!strcmp(argv[1], "diff") && argc == 4) {
        pymac_session *new_ = open_core(argv[3], sysroot, &err);
        pymac_diff *d;
        if (!new_ || pymac_diff_build(s, new_, &d, &err) > PYMAC_PARTIAL)
            rc = fail(&err);
        else {
            fputs("{\"types\": [", stdout);
            for (size_t i = 0; i < d->ntypes; i++) {
                printf("%s{\"type\": ", i ? ", " : "");
                str(d->types[i].name);
                printf(", \"count_delta\": %lld, \"bytes_delta\": %lld}",
                       (long long)(d->types[i].count[1] - d->types[i].count[0]),
                       (long long)(d->types[i].bytes[1] - d->types[i].bytes[0]));
            }
            puts("]}");
            pymac_diff_free(d);
        }
        pymac_close(new_);
    } else {
        fprintf(stderr, "pymac-api-dump: unknown command %s\n", argv[1]);
        rc = 2;
    }
    pymac_close(s);
    return rc;
}
