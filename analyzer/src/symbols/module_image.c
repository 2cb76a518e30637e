/* The interpreter module's ELF file as its code and initial data: section
 * bounds and bytes, function bounds from .eh_frame, and the image .data had
 * before the program ran. What strip --strip-all keeps (section headers,
 * .eh_frame, .dynsym, .data) is enough; the finders of file statics in a
 * stripped interpreter read these (runtime/statics_find.c). */
#include <gelf.h>
#include <string.h>

#include "code_scan.h"
#include "pm.h"

bool pm_module_section(pymac_session *s, const char *name, pm_section *out)
{
    Elf *elf = s->python.elf;
    size_t shstrndx, size;
    const char *raw = elf ? elf_rawfile(elf, &size) : NULL;
    memset(out, 0, sizeof *out);
    if (!raw || elf_getshdrstrndx(elf, &shstrndx) != 0)
        return false;
    for (Elf_Scn *scn = NULL; (scn = elf_nextscn(elf, scn));) {
        GElf_Shdr sh;
        const char *nm;
        if (!gelf_getshdr(scn, &sh) || !(sh.sh_flags & SHF_ALLOC) ||
            !(nm = elf_strptr(elf, shstrndx, sh.sh_name)) || strcmp(nm, name) != 0)
            continue;
        out->addr = sh.sh_addr + s->python.elf_bias;
        out->size = sh.sh_size;
        if (sh.sh_type != SHT_NOBITS) {
            if (sh.sh_offset > size || sh.sh_size > size - sh.sh_offset)
                return false; /* a section past the end of a cut file */
            out->bytes = (const uint8_t *)raw + sh.sh_offset;
        }
        return true;
    }
    return false;
}

bool pm_section_has(const pm_section *sec, uint64_t addr, uint64_t len)
{
    return sec->size && addr >= sec->addr && len <= sec->size &&
           addr - sec->addr <= sec->size - len;
}

/* .eh_frame_hdr's table, as GCC and the linkers write it: version 1, the
 * count as udata4, entries (initial location, FDE address) as datarel
 * sdata4, sorted. Each FDE: length, CIE pointer, pc_begin (pcrel sdata4:
 * checked against the table), pc_range. Another encoding: no answer. */
enum { EH_VERSION = 1, EH_UDATA4 = 0x03, EH_DATAREL_SDATA4 = 0x3b, EH_HDR_TABLE = 12 };

static int64_t get_s32(const uint8_t *p)
{
    return (int32_t)(uint32_t)pm_get_uint(p, 0, 4);
}

bool pm_module_function_bounds(pymac_session *s, uint64_t addr, uint64_t *lo, uint64_t *hi)
{
    pm_section hdr, eh;
    if (!pm_module_section(s, ".eh_frame_hdr", &hdr) || !hdr.bytes ||
        !pm_module_section(s, ".eh_frame", &eh) || !eh.bytes || hdr.size < EH_HDR_TABLE)
        return false;
    const uint8_t *h = hdr.bytes;
    uint64_t count = pm_get_uint(h, 8, 4);
    if (h[0] != EH_VERSION || h[2] != EH_UDATA4 || h[3] != EH_DATAREL_SDATA4 ||
        count > (hdr.size - EH_HDR_TABLE) / 8 || !count)
        return false;
    /* the last entry whose location is at or below addr */
    uint64_t left = 0, right = count;
    while (right - left > 1) {
        uint64_t mid = left + (right - left) / 2;
        if (hdr.addr + (uint64_t)get_s32(h + EH_HDR_TABLE + 8 * mid) <= addr)
            left = mid;
        else
            right = mid;
    }
    uint64_t loc = hdr.addr + (uint64_t)get_s32(h + EH_HDR_TABLE + 8 * left);
    uint64_t fde = hdr.addr + (uint64_t)get_s32(h + EH_HDR_TABLE + 8 * left + 4);
    if (loc > addr || !pm_section_has(&eh, fde, 16))
        return false;
    const uint8_t *f = eh.bytes + (fde - eh.addr);
    if (fde + 8 + (uint64_t)get_s32(f + 8) != loc)
        return false;
    uint64_t range = pm_get_uint(f, 12, 4);
    if (addr - loc >= range)
        return false; /* between functions */
    *lo = loc;
    *hi = loc + range;
    return true;
}

bool pm_module_is_x86_64(pymac_session *s)
{
    GElf_Ehdr eh;
    return s->python.elf && gelf_getehdr(s->python.elf, &eh) && eh.e_machine == EM_X86_64;
}

bool pm_module_image_u64(pymac_session *s, uint64_t addr, uint64_t *out)
{
    /* .PyRuntime: 3.12+ put _PyRuntime in a section of its own */
    static const char *const sections[] = {".data", ".PyRuntime"};
    for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++) {
        pm_section data;
        if (pm_module_section(s, sections[i], &data) && data.bytes &&
            pm_section_has(&data, addr, 8)) {
            *out = pm_get_uint(data.bytes, (uint32_t)(addr - data.addr), 8);
            return true;
        }
    }
    return false;
}

typedef struct insn_vec {
    pm_insn *v;
    size_t n, cap;
} insn_vec;

static bool push_insn(void *ctx, const pm_insn *insn)
{
    insn_vec *iv = ctx;
    if (iv->n == iv->cap) {
        size_t cap = iv->cap ? 2 * iv->cap : 256;
        pm_insn *v = realloc(iv->v, cap * sizeof *v);
        if (!v)
            return false;
        iv->v = v;
        iv->cap = cap;
    }
    iv->v[iv->n++] = *insn;
    return true;
}

/* A function of more than this is not one of the few the finders read. */
enum { MAX_FUNCTION_BYTES = 1 << 20 };

bool pm_module_insns(pymac_session *s, uint64_t lo, uint64_t hi, pm_insn **out, size_t *n)
{
    pm_section text;
    insn_vec iv = {0};
    *out = NULL;
    *n = 0;
    if (hi <= lo || hi - lo > MAX_FUNCTION_BYTES || !pm_module_section(s, ".text", &text) ||
        !text.bytes || !pm_section_has(&text, lo, hi - lo))
        return false;
    if (!pm_code_scan(text.bytes + (lo - text.addr), hi - lo, lo, push_insn, &iv)) {
        free(iv.v);
        return false;
    }
    *out = iv.v;
    *n = iv.n;
    return true;
}

bool pm_module_export_bounds(pymac_session *s, const char *name, uint64_t *lo, uint64_t *hi)
{
    pm_symbol f = pm_symbol_lookup(s, name, NULL);
    if (!f.found || !f.size)
        return false;
    *lo = f.addr;
    *hi = f.addr + f.size;
    return true;
}
