/* Views rendered into strings, for front ends without a FILE*; and the
 * symbol-to-bias helper debuggers need to describe their modules. */
#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pm.h"

static pymac_status render(pymac_session *s, const pymac_view *v, FILE *out, pymac_error *err)
{
    switch (v->kind) {
    case PYMAC_VIEW_INFO:
        return pymac_render_info(s, v->format, out, err);
    case PYMAC_VIEW_STATS:
        return pymac_render_stats(s, v->format, out, err);
    case PYMAC_VIEW_ARENAS:
        return pymac_render_arenas(s, v->format, out, err);
    case PYMAC_VIEW_POOLS:
        return pymac_render_pools(s, &v->pools, v->format, out, err);
    case PYMAC_VIEW_WHEREIS:
        return pymac_render_whereis(s, v->address, v->format, out, err);
    case PYMAC_VIEW_GC:
        return pymac_render_gc(s, v->format, out, err);
    case PYMAC_VIEW_TYPES:
        if (v->retained)
            return pymac_render_types_retained(s, v->format, out, err);
        return pymac_render_types(s, v->gc_only, v->format, out, err);
    case PYMAC_VIEW_OBJECTS:
        return pymac_render_objects(s, &v->objects, v->format, out, err);
    case PYMAC_VIEW_OBJECT:
        return pymac_render_object(s, v->address, v->format, out, err);
    case PYMAC_VIEW_REFERRERS:
        return pymac_render_referrers(s, v->address, v->format, out, err);
    case PYMAC_VIEW_PATH:
        return pymac_render_path(s, v->address, v->format, out, err);
    case PYMAC_VIEW_LEAKS:
        return pymac_render_leaks(s, NULL, v->format, out, err);
    case PYMAC_VIEW_REPORT:
        return pymac_render_report(s, v->format, out, err);
    case PYMAC_VIEW_RETAINED:
        return pymac_render_retained(s, v->address, v->format, out, err);
    case PYMAC_VIEW_DOMINATORS:
        return pymac_render_dominators(s, &v->dominators, v->format, out, err);
    }
    return pm_fail(err, PYMAC_E_USAGE, NULL, "unknown view %d", (int)v->kind);
}

char *pymac_render_view(pymac_session *s, const pymac_view *v, pymac_status *status,
                        pymac_error *err)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    if (!out) {
        *status = pm_fail(err, PYMAC_E_NOMEM, NULL, "out of memory");
        return NULL;
    }
    *status = render(s, v, out, err);
    fclose(out);
    if (*status > PYMAC_PARTIAL) {
        free(buf);
        return NULL;
    }
    return buf;
}

void pymac_free(void *p)
{
    free(p);
}

pymac_status pymac_symbol_bias(const char *path, const char *symbol, uint64_t runtime_address,
                               uint64_t *bias, pymac_error *err)
{
    elf_version(EV_CURRENT);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return pm_fail(err, PYMAC_E_IO, NULL, "cannot open %s: %m", path);
    Elf *e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
    pymac_status st = pm_fail(err, PYMAC_E_NOT_PYTHON, NULL, "%s does not define %s", path,
                              symbol);
    Elf_Scn *scn = NULL;
    while (e && (scn = elf_nextscn(e, scn))) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM))
            continue;
        Elf_Data *d = elf_getdata(scn, NULL);
        size_t n = d && sh.sh_entsize ? sh.sh_size / sh.sh_entsize : 0;
        for (size_t i = 0; i < n; i++) {
            GElf_Sym sym;
            const char *nm;
            if (!gelf_getsym(d, (int)i, &sym) || sym.st_shndx == SHN_UNDEF ||
                !(nm = elf_strptr(e, sh.sh_link, sym.st_name)) || strcmp(nm, symbol) != 0)
                continue;
            *bias = runtime_address - sym.st_value;
            st = PYMAC_OK;
            goto done;
        }
    }
done:
    if (e)
        elf_end(e);
    close(fd);
    return st;
}
