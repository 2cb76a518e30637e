/* The referrers and path views: pymac_find_referrers and pymac_find_path
 * (analysis/paths.c) as text or JSON. */
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "pm.h"
#include "render_json.h"

static void print_referrer(FILE *out, pymac_format fmt, const pymac_referrer *r, bool first)
{
    if (fmt == PYMAC_JSON) {
        fprintf(out, "%s\n  {\"address\": ", first ? "" : ",");
        if (r->address)
            fprintf(out, "\"0x%llx\"", (unsigned long long)r->address);
        else
            fputs("null", out);
        fputs(", \"type\": ", out);
        pm_json_str(out, r->type);
        fputs(", \"via\": ", out);
        pm_json_str(out, r->via);
        fprintf(out, ", \"conservative\": %s}", r->conservative ? "true" : "false");
    } else if (r->address) {
        fprintf(out, "0x%014llx  %-24.24s %s%s\n", (unsigned long long)r->address, r->type,
                r->via, r->conservative ? "  (conservative)" : "");
    } else {
        fprintf(out, "%-16s  %-24.24s %s\n", "root", r->type, r->via);
    }
}

pymac_status pymac_render_referrers(pymac_session *s, uint64_t addr, pymac_format fmt,
                                    FILE *out, pymac_error *err)
{
    pymac_referrers *r;
    pymac_status st = pymac_find_referrers(s, addr, &r, err);
    if (st > PYMAC_PARTIAL)
        return st;
    if (fmt == PYMAC_JSON)
        fprintf(out, "{\"address\": \"0x%llx\", \"referrers\": [", (unsigned long long)addr);
    else
        fprintf(out, "%-16s  %-24s %s\n", "referrer", "type", "how");
    for (size_t i = 0; i < r->n; i++)
        print_referrer(out, fmt, &r->referrers[i], i == 0);
    char rc[32];
    snprintf(rc, sizeof rc, "%llu", (unsigned long long)r->refcnt);
    if (fmt == PYMAC_JSON) {
        fprintf(out, "],\n \"refcnt\": %s, \"found\": %zu, \"partial\": %s, ",
                r->immortal ? "\"immortal\"" : rc, r->n, st == PYMAC_PARTIAL ? "true" : "false");
        pm_json_warnings(out, s);
        fputs("}\n", out);
    } else {
        fprintf(out, "%zu references found; the object's refcount is %s\n", r->n,
                r->immortal ? "immortal" : rc);
        if (st == PYMAC_PARTIAL)
            fputs("PARTIAL: see the warnings\n", out);
        pymac_render_warnings(s, out);
    }
    pymac_referrers_free(r);
    return st;
}

pymac_status pymac_render_path(pymac_session *s, uint64_t addr, pymac_format fmt, FILE *out,
                               pymac_error *err)
{
    pymac_path *p;
    pymac_status st = pymac_find_path(s, addr, &p, err);
    if (st > PYMAC_PARTIAL)
        return st;
    if (!p->found) {
        if (fmt == PYMAC_JSON)
            fprintf(out, "{\"address\": \"0x%llx\", \"found\": false, \"path\": []}\n",
                    (unsigned long long)addr);
        else
            fprintf(out, "no path: 0x%llx (%s) is not reachable from sys.modules, builtins, "
                         "sys, the interned strings or any thread's frames\n",
                    (unsigned long long)addr, p->type);
        pymac_path_free(p);
        return st;
    }
    char oneline[1024];
    snprintf(oneline, sizeof oneline, "%s", p->root);
    if (fmt == PYMAC_JSON) {
        fprintf(out, "{\"address\": \"0x%llx\", \"found\": true, \"root\": ",
                (unsigned long long)addr);
        pm_json_str(out, p->root);
        fputs(", \"path\": [", out);
    } else {
        fprintf(out, "%s\n", p->root);
    }
    for (size_t i = 0; i < p->n; i++) {
        const pymac_path_step *step = &p->steps[i];
        const char *via = step->via;
        size_t used = strlen(oneline);
        if (i > 0 && used < sizeof oneline)
            snprintf(oneline + used, sizeof oneline - used, "%s%s",
                     via[0] == '.' || via[0] == '[' ? "" : " ", via);
        if (fmt == PYMAC_JSON) {
            fprintf(out, "%s\n  {\"address\": \"0x%llx\", \"type\": ", i == 0 ? "" : ",",
                    (unsigned long long)step->address);
            pm_json_str(out, step->type);
            fputs(", \"via\": ", out);
            pm_json_str(out, via);
            fputc('}', out);
        } else {
            fprintf(out, "  %-28s -> %s @0x%llx  %s\n", i == 0 ? "(root)" : via, step->type,
                    (unsigned long long)step->address, step->value);
        }
    }
    if (fmt == PYMAC_JSON) {
        fputs("],\n \"text\": ", out);
        pm_json_str(out, oneline);
        fputs("}\n", out);
    } else {
        fprintf(out, "%s -> %s @0x%llx\n", oneline, p->type, (unsigned long long)addr);
    }
    pymac_path_free(p);
    return st;
}
