/* The tracemalloc view: Snapshot.statistics() as str(Statistic) prints it,
 * and the allocation traceback in the object view. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "object.h"
#include "render_tracemalloc.h"
#include "tracemalloc.h"
#include "render_json.h"

/* Lib/tracemalloc.py's _format_size(size, False). */
static void format_size(double size, char *buf, size_t cap)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    for (size_t i = 0; i < 5; i++) {
        if (fabs(size) < 100 && i) {
            snprintf(buf, cap, "%.1f %s", size, units[i]);
            return;
        }
        if (fabs(size) < 10 * 1024 || i == 4) {
            snprintf(buf, cap, "%.0f %s", size, units[i]);
            return;
        }
        size /= 1024;
    }
}

static const char *key_name(pm_tm_key k)
{
    return k == PM_TM_FILENAME ? "filename" : k == PM_TM_TRACEBACK ? "traceback" : "lineno";
}

static void json_frames(FILE *out, const pm_tracemalloc *tm, const pm_tm_frame *f, uint32_t n)
{
    /* oldest first, as tracemalloc.Traceback orders them */
    fputc('[', out);
    for (uint32_t i = 0; i < n; i++) {
        const pm_tm_frame *fr = &f[n - 1 - i];
        fputs(i ? ", {\"filename\": " : "{\"filename\": ", out);
        pm_json_str(out, tm->files[fr->file]);
        fprintf(out, ", \"lineno\": %u}", fr->lineno);
    }
    fputc(']', out);
}

static void text_frames(FILE *out, const pm_tracemalloc *tm, const pm_tm_frame *f, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) /* Traceback.format(): oldest first */
        fprintf(out, "  File \"%s\", line %u\n", tm->files[f[n - 1 - i].file], f[n - 1 - i].lineno);
}

/* str(Statistic): "file:line: size=..., count=N, average=..." where the
 * file and line are the traceback's oldest frame (str(Traceback)). */
static void text_stat(FILE *out, const pm_tracemalloc *tm, const pm_tm_stat *st)
{
    const pm_tm_frame *f = pm_tm_stat_frames(st);
    const pm_tm_frame *oldest = &f[st->nframes - 1];
    char size[32], avg[32];
    format_size((double)st->size, size, sizeof size);
    fprintf(out, "%s:%u: size=%s, count=%llu", tm->files[oldest->file], oldest->lineno, size,
            (unsigned long long)st->count);
    if (st->count) {
        format_size((double)st->size / (double)st->count, avg, sizeof avg);
        fprintf(out, ", average=%s", avg);
    }
    fputc('\n', out);
}

static void header(FILE *out, const pm_tracemalloc *tm, pymac_format fmt)
{
    if (fmt == PYMAC_JSON) {
        fprintf(out, "{\"tracing\": %s, \"traceback_limit\": %lld, \"traced_memory\": %llu, "
                     "\"peak_traced_memory\": %llu, \"traces\": %zu, \"domains\": [",
                tm->tracing ? "true" : "false", (long long)tm->max_nframe,
                (unsigned long long)tm->traced_memory, (unsigned long long)tm->peak_traced_memory,
                tm->ntraces);
        for (size_t i = 0; i < tm->ndomains; i++)
            fprintf(out, i ? ", %u" : "%u", tm->domains[i]);
        fputs("]", out);
        return;
    }
    char cur[32], peak[32];
    format_size((double)tm->traced_memory, cur, sizeof cur);
    format_size((double)tm->peak_traced_memory, peak, sizeof peak);
    fprintf(out, "tracemalloc: tracing, traceback limit %lld frame%s\n", (long long)tm->max_nframe,
            tm->max_nframe == 1 ? "" : "s");
    fprintf(out, "traced memory: %llu B (%s), peak %llu B (%s)\n",
            (unsigned long long)tm->traced_memory, cur, (unsigned long long)tm->peak_traced_memory,
            peak);
    fprintf(out, "traces: %zu in %zu domain%s (", tm->ntraces, tm->ndomains,
            tm->ndomains == 1 ? "" : "s");
    for (size_t i = 0; i < tm->ndomains; i++)
        fprintf(out, i ? ", %u" : "%u", tm->domains[i]);
    fputs(")\n", out);
}

pymac_status pymac_render_tracemalloc(pymac_session *s, const pymac_tracemalloc_options *o,
                                      pymac_format fmt, FILE *out, pymac_error *err)
{
    pm_tm_key key = (pm_tm_key)o->key_type;
    if (key > PM_TM_TRACEBACK || (o->cumulative && key == PM_TM_TRACEBACK))
        return pm_fail(err, PYMAC_E_USAGE, "use --key-type lineno or filename with --cumulative",
                       "cumulative mode cannot be used with key type 'traceback'");
    pm_tracemalloc tm;
    pymac_status st = pm_tracemalloc_read(s, &tm, err);
    if (st > PYMAC_PARTIAL) {
        pm_tracemalloc_free(&tm);
        return st;
    }
    if (!tm.tracing) {
        if (fmt == PYMAC_JSON) {
            header(out, &tm, fmt);
            fputs(", \"statistics\": [], \"partial\": false, ", out);
            pm_json_warnings(out, s);
            fputs("}\n", out);
        } else {
            fputs("tracemalloc: the process was not tracing memory allocations "
                  "(tracemalloc.is_tracing() was False)\n", out);
        }
        pm_tracemalloc_free(&tm);
        return PYMAC_OK;
    }
    pm_tm_stat *stats;
    size_t n;
    pymac_status sst = pm_tm_statistics(&tm, key, o->cumulative != 0, &stats, &n);
    if (sst != PYMAC_OK) {
        pm_tracemalloc_free(&tm);
        return pm_fail(err, sst, NULL, "out of memory grouping tracemalloc's traces");
    }
    size_t shown = o->limit && o->limit < n ? (size_t)o->limit : n;
    header(out, &tm, fmt);
    if (fmt == PYMAC_JSON) {
        fprintf(out, ", \"key_type\": \"%s\", \"cumulative\": %s, \"total_statistics\": %zu, "
                     "\"statistics\": [",
                key_name(key), o->cumulative ? "true" : "false", n);
        for (size_t i = 0; i < shown; i++) {
            const pm_tm_stat *x = &stats[i];
            const pm_tm_frame *f = pm_tm_stat_frames(x);
            const pm_tm_frame *oldest = &f[x->nframes - 1];
            fputs(i ? ",\n  {\"filename\": " : "\n  {\"filename\": ", out);
            pm_json_str(out, tm.files[oldest->file]);
            fprintf(out, ", \"lineno\": %u, \"size\": %llu, \"count\": %llu", oldest->lineno,
                    (unsigned long long)x->size, (unsigned long long)x->count);
            if (key == PM_TM_TRACEBACK) {
                fputs(", \"traceback\": ", out);
                json_frames(out, &tm, f, x->nframes);
            }
            fputc('}', out);
        }
        fprintf(out, "], \"partial\": %s, ", st == PYMAC_PARTIAL ? "true" : "false");
        pm_json_warnings(out, s);
        fputs("}\n", out);
    } else {
        fprintf(out, "statistics by %s%s, largest first: %zu of %zu\n", key_name(key),
                o->cumulative ? " (cumulative)" : "", shown, n);
        for (size_t i = 0; i < shown; i++) {
            text_stat(out, &tm, &stats[i]);
            if (key == PM_TM_TRACEBACK)
                text_frames(out, &tm, pm_tm_stat_frames(&stats[i]), stats[i].nframes);
        }
        if (st == PYMAC_PARTIAL)
            fputs("PARTIAL: see the warnings\n", out);
        pymac_render_warnings(s, out);
    }
    free(stats);
    pm_tracemalloc_free(&tm);
    return st;
}

pymac_status pm_render_object_traceback(pymac_session *s, const pm_object *o, pymac_format fmt,
                                        FILE *out)
{
    pm_tracemalloc tm;
    pymac_error err = {0};
    pymac_status st = pm_tm_read_object(s, o->addr, o->type->flags, o->type->presize, &tm, &err);
    const pm_tm_traceback *tb = st <= PYMAC_PARTIAL && tm.ntraces == 1 && tm.ntracebacks == 1 &&
                                        tm.tracebacks[0].nframe
                                    ? &tm.tracebacks[0]
                                    : NULL;
    if (st > PYMAC_PARTIAL)
        pm_warn(s, "tracemalloc: %s: no allocation traceback", err.message);
    if (fmt == PYMAC_JSON) {
        fputs(", \"traceback\": ", out);
        if (tb)
            json_frames(out, &tm, &tm.frames[tb->first], tb->nframe);
        else
            fputs("null", out);
    } else if (tb) {
        fputs("allocated   (tracemalloc.get_object_traceback, oldest frame first)\n", out);
        text_frames(out, &tm, &tm.frames[tb->first], tb->nframe);
    } else if (tm.tracing) {
        fputs("allocated   not traced by tracemalloc\n", out);
    }
    pm_tracemalloc_free(&tm);
    return st == PYMAC_OK ? PYMAC_OK : PYMAC_PARTIAL;
}

void pm_tm_site_json(FILE *out, const pm_tm_site *site)
{
    fputs(", \"allocated_at\": {\"filename\": ", out);
    pm_json_str(out, site->filename);
    fprintf(out, ", \"lineno\": %u, \"objects\": %llu, \"bytes\": %llu, \"traced_objects\": %llu}",
            site->lineno, (unsigned long long)site->objects, (unsigned long long)site->bytes,
            (unsigned long long)site->traced);
}

void pm_tm_site_text(FILE *out, const pm_tm_site *site, const char *indent)
{
    fprintf(out, "%sallocated at %s:%u: %llu of %llu traced objects, %llu bytes\n", indent,
            site->filename, site->lineno, (unsigned long long)site->objects,
            (unsigned long long)site->traced, (unsigned long long)site->bytes);
}
