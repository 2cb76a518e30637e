/* Error values, warnings and small string helpers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base.h"

static const char *const status_names[] = {
    [PYMAC_OK] = "ok",
    [PYMAC_PARTIAL] = "partial",
    [PYMAC_E_USAGE] = "usage",
    [PYMAC_E_IO] = "io",
    [PYMAC_E_NOT_CORE] = "not-core",
    [PYMAC_E_TRUNCATED] = "truncated",
    [PYMAC_E_NOT_PYTHON] = "not-python",
    [PYMAC_E_NO_DEBUGINFO] = "no-debuginfo",
    [PYMAC_E_MISMATCH] = "mismatch",
    [PYMAC_E_UNSUPPORTED] = "unsupported",
    [PYMAC_E_ADDRESS] = "address",
    [PYMAC_E_CORRUPT] = "corrupt",
    [PYMAC_E_NOMEM] = "nomem",
    [PYMAC_E_INTERNAL] = "internal",
};

const char *pymac_status_name(pymac_status status)
{
    if ((unsigned)status < sizeof status_names / sizeof status_names[0] && status_names[status])
        return status_names[status];
    return "unknown";
}

/* Keeps a message on one line: control characters from the core become '?'. */
static void one_line(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            *s = '?';
}

pymac_status pm_fail(pymac_error *err, pymac_status status, const char *hint, const char *fmt, ...)
{
    if (!err)
        return status;
    err->status = status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    one_line(err->message);
    snprintf(err->hint, sizeof err->hint, "%s", hint ? hint : "");
    one_line(err->hint);
    return status;
}

pymac_status pm_nomem(pymac_error *err)
{
    return pm_fail(err, PYMAC_E_NOMEM, NULL, "out of memory");
}

void pm_warnings_add(pm_warnings *w, const char *fmt, ...)
{
    enum { MAX_WARNINGS = 1000 };
    if (w->n >= MAX_WARNINGS)
        return;
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    one_line(buf);
    char **grown = realloc(w->v, (w->n + 1) * sizeof *grown);
    if (!grown)
        return;
    w->v = grown;
    char *copy = pm_strdup(buf);
    if (copy)
        w->v[w->n++] = copy;
}

void pm_warnings_clear(pm_warnings *w)
{
    for (size_t i = 0; i < w->n; i++)
        free(w->v[i]);
    free(w->v);
    w->v = NULL;
    w->n = 0;
}

void pm_warnings_truncate(pm_warnings *w, size_t n)
{
    while (w->n > n)
        free(w->v[--w->n]);
}

char *pm_strdup(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

char *pm_asprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    char *p = malloc((size_t)n + 1);
    if (!p)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}
