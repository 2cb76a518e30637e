/* diff --by site: two traced cores of one program compared per allocation
 * site, as new_snapshot.compare_to(old_snapshot, key_type, cumulative) does
 * (Lib/tracemalloc.py: _compare_grouped_stats, StatisticDiff). The cores have
 * file tables of their own: sites are matched by their text. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "tracemalloc.h"
#include "render_json.h"

typedef struct side {
    const pm_tracemalloc *tm;
    const pm_tm_stat *st; /* NULL: the site is not in this core */
} side;

typedef struct row {
    side old_, new_;
    int64_t size, size_diff, count, count_diff;
} row;

/* Compares the frames of two statistics of (possibly) different cores, in
 * Python's traceback order (oldest frame first, file names by text). */
static int cmp_frames(const side *a, const side *b)
{
    const pm_tm_frame *fa = pm_tm_stat_frames(a->st), *fb = pm_tm_stat_frames(b->st);
    uint32_t na = a->st->nframes, nb = b->st->nframes;
    for (uint32_t i = 0; i < na && i < nb; i++) {
        const pm_tm_frame *x = &fa[na - 1 - i], *y = &fb[nb - 1 - i];
        int c = strcmp(a->tm->files[x->file], b->tm->files[y->file]);
        if (c)
            return c;
        if (x->lineno != y->lineno)
            return x->lineno < y->lineno ? -1 : 1;
    }
    return na < nb ? -1 : na > nb;
}

static const side *key_of(const row *r)
{
    return r->new_.st ? &r->new_ : &r->old_;
}

static int cmp_key(const void *a, const void *b)
{
    return cmp_frames(key_of(a), key_of(b));
}

static uint64_t mag(int64_t v)
{
    return v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
}

/* StatisticDiff._sort_key: (abs(size_diff), size, abs(count_diff), count,
 * traceback), largest first. */
static int cmp_result(const void *x, const void *y)
{
    const row *a = x, *b = y;
    if (mag(a->size_diff) != mag(b->size_diff))
        return mag(a->size_diff) > mag(b->size_diff) ? -1 : 1;
    if (a->size != b->size)
        return a->size > b->size ? -1 : 1;
    if (mag(a->count_diff) != mag(b->count_diff))
        return mag(a->count_diff) > mag(b->count_diff) ? -1 : 1;
    if (a->count != b->count)
        return a->count > b->count ? -1 : 1;
    return -cmp_frames(key_of(a), key_of(b));
}

/* _format_size(size, sign) */
static void format_size(double size, bool sign, char *buf, size_t cap)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    for (size_t i = 0; i < 5; i++) {
        if (fabs(size) < 100 && i) {
            snprintf(buf, cap, sign ? "%+.1f %s" : "%.1f %s", size, units[i]);
            return;
        }
        if (fabs(size) < 10 * 1024 || i == 4) {
            snprintf(buf, cap, sign ? "%+.0f %s" : "%.0f %s", size, units[i]);
            return;
        }
        size /= 1024;
    }
}

static pymac_status read_stats(pymac_session *s, const pymac_tracemalloc_options *o,
                               pm_tracemalloc *tm, pm_tm_stat **st, size_t *n, pymac_error *err)
{
    *st = NULL;
    *n = 0;
    pymac_status rs = pm_tracemalloc_read(s, tm, err);
    if (rs > PYMAC_PARTIAL)
        return rs;
    if (!tm->tracing)
        return pm_fail(err, PYMAC_E_USAGE, "diff --by site needs two cores of processes that ran "
                       "tracemalloc; diff without it compares types",
                       "the process of %s was not tracing memory allocations",
                       s->core_path ? s->core_path : "the target");
    if (pm_tm_statistics(tm, (pm_tm_key)o->key_type, o->cumulative != 0, st, n) != PYMAC_OK)
        return pm_fail(err, PYMAC_E_NOMEM, NULL, "out of memory grouping tracemalloc's traces");
    return rs;
}

pymac_status pymac_render_diff_sites(pymac_session *old, pymac_session *new_,
                                     const pymac_tracemalloc_options *o, pymac_format fmt,
                                     FILE *out, pymac_error *err)
{
    if (o->key_type > PYMAC_TM_TRACEBACK || (o->cumulative && o->key_type == PYMAC_TM_TRACEBACK))
        return pm_fail(err, PYMAC_E_USAGE, "use --key-type lineno or filename with --cumulative",
                       "cumulative mode cannot be used with key type 'traceback'");
    pm_tracemalloc tm[2];
    pm_tm_stat *st[2] = {NULL, NULL};
    size_t n[2] = {0, 0};
    row *rows = NULL;
    memset(tm, 0, sizeof tm);
    pymac_status res = read_stats(old, o, &tm[0], &st[0], &n[0], err);
    if (res <= PYMAC_PARTIAL) {
        pymac_status r2 = read_stats(new_, o, &tm[1], &st[1], &n[1], err);
        res = r2 > res ? r2 : res;
    }
    if (res <= PYMAC_PARTIAL && !(rows = calloc(n[0] + n[1] + 1, sizeof *rows)))
        res = pm_nomem(err);
    if (res > PYMAC_PARTIAL)
        goto done;
    /* every site of either core, then those of both merged into one row */
    size_t m = 0;
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; i < n[k]; i++) {
            row *r = &rows[m++];
            side sd = {&tm[k], &st[k][i]};
            if (k)
                r->new_ = sd;
            else
                r->old_ = sd;
        }
    pm_sort(rows, m, sizeof *rows, cmp_key);
    size_t w = 0;
    for (size_t i = 0; i < m; i++) {
        if (w && rows[i].new_.st && rows[w - 1].old_.st && !rows[w - 1].new_.st &&
            cmp_frames(&rows[w - 1].old_, &rows[i].new_) == 0)
            rows[w - 1].new_ = rows[i].new_;
        else if (w && rows[i].old_.st && rows[w - 1].new_.st && !rows[w - 1].old_.st &&
                 cmp_frames(&rows[w - 1].new_, &rows[i].old_) == 0)
            rows[w - 1].old_ = rows[i].old_;
        else
            rows[w++] = rows[i];
    }
    for (size_t i = 0; i < w; i++) {
        row *r = &rows[i];
        int64_t os = r->old_.st ? (int64_t)r->old_.st->size : 0;
        int64_t oc = r->old_.st ? (int64_t)r->old_.st->count : 0;
        r->size = r->new_.st ? (int64_t)r->new_.st->size : 0;
        r->count = r->new_.st ? (int64_t)r->new_.st->count : 0;
        r->size_diff = r->size - os;
        r->count_diff = r->count - oc;
    }
    pm_sort(rows, w, sizeof *rows, cmp_result);
    size_t shown = o->limit && o->limit < w ? (size_t)o->limit : w;
    static const char *const keys[] = {"lineno", "filename", "traceback"};
    if (fmt == PYMAC_JSON)
        fprintf(out, "{\"key_type\": \"%s\", \"cumulative\": %s, \"total_statistics\": %zu, "
                     "\"statistics\": [",
                keys[o->key_type], o->cumulative ? "true" : "false", w);
    else
        fprintf(out, "allocation sites by %s%s, by size grown: %zu of %zu\n", keys[o->key_type],
                o->cumulative ? " (cumulative)" : "", shown, w);
    for (size_t i = 0; i < shown; i++) {
        const row *r = &rows[i];
        const side *k = key_of(r);
        const pm_tm_frame *f = pm_tm_stat_frames(k->st);
        const pm_tm_frame *oldest = &f[k->st->nframes - 1];
        const char *file = k->tm->files[oldest->file];
        if (fmt == PYMAC_JSON) {
            fputs(i ? ",\n  {\"filename\": " : "\n  {\"filename\": ", out);
            pm_json_str(out, file);
            fprintf(out, ", \"lineno\": %u, \"size\": %lld, \"size_diff\": %lld, \"count\": %lld, "
                         "\"count_diff\": %lld",
                    oldest->lineno, (long long)r->size, (long long)r->size_diff,
                    (long long)r->count, (long long)r->count_diff);
            if (o->key_type == PYMAC_TM_TRACEBACK) {
                fputs(", \"traceback\": [", out);
                for (uint32_t j = 0; j < k->st->nframes; j++) {
                    const pm_tm_frame *fr = &f[k->st->nframes - 1 - j];
                    fputs(j ? ", {\"filename\": " : "{\"filename\": ", out);
                    pm_json_str(out, k->tm->files[fr->file]);
                    fprintf(out, ", \"lineno\": %u}", fr->lineno);
                }
                fputc(']', out);
            }
            fputc('}', out);
        } else {
            /* str(StatisticDiff) */
            char size[32], diff[32], avg[32];
            format_size((double)r->size, false, size, sizeof size);
            format_size((double)r->size_diff, true, diff, sizeof diff);
            fprintf(out, "%s:%u: size=%s (%s), count=%lld (%+lld)", file, oldest->lineno, size,
                    diff, (long long)r->count, (long long)r->count_diff);
            if (r->count) {
                format_size((double)r->size / (double)r->count, false, avg, sizeof avg);
                fprintf(out, ", average=%s", avg);
            }
            fputc('\n', out);
        }
    }
    if (fmt == PYMAC_JSON) {
        fprintf(out, "], \"partial\": %s, ", res == PYMAC_PARTIAL ? "true" : "false");
        pm_json_warnings(out, new_);
        fputs("}\n", out);
    } else {
        if (res == PYMAC_PARTIAL)
            fputs("PARTIAL: see the warnings\n", out);
        pymac_render_warnings(old, out);
        pymac_render_warnings(new_, out);
    }
done:
    free(rows);
    for (int k = 0; k < 2; k++) {
        free(st[k]);
        pm_tracemalloc_free(&tm[k]);
    }
    return res;
}
