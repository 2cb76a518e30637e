/* An ELF core file as a memory image: PT_LOAD segments and the notes that
 * say which files were mapped and how many threads there were. */
#include <elf.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/procfs.h>
#include <sys/reg.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core_resident.h"
#include "decompress.h"
#include "target_core.h"

#ifndef NT_FILE
#define NT_FILE 0x46494c45
#endif

static int seg_cmp(const void *a, const void *b)
{
    const pm_segment *x = a, *y = b;
    return x->vaddr < y->vaddr ? -1 : x->vaddr > y->vaddr;
}

static const char TRUNC_HINT[] =
    "the core was cut short while being written (disk full, a size limit such as ulimit -c, "
    "or an interrupted copy); take the core again";

/* NT_FILE: count, page size, then count {start, end, page offset}, then the names. */
static void parse_nt_file(pm_core *core, const unsigned char *desc, size_t len)
{
    if (len < 16)
        return;
    uint64_t count = pm_get_uint(desc, 0, 8), page = pm_get_uint(desc, 8, 8);
    if (count == 0 || count > (len - 16) / 24)
        return;
    const char *names = (const char *)desc + 16 + count * 24;
    size_t names_len = len - 16 - count * 24;
    core->file_strings = malloc(names_len + 1);
    core->files = calloc(count, sizeof *core->files);
    if (!core->file_strings || !core->files)
        return;
    memcpy(core->file_strings, names, names_len);
    core->file_strings[names_len] = '\0';
    const char *name = core->file_strings, *end = core->file_strings + names_len;
    for (uint64_t i = 0; i < count && name < end; i++) {
        pm_mapped_file *f = &core->files[core->nfiles++];
        f->start = pm_get_uint(desc, 16 + i * 24, 8);
        f->end = pm_get_uint(desc, 16 + i * 24 + 8, 8);
        f->file_offset = pm_get_uint(desc, 16 + i * 24 + 16, 8) * page;
        f->path = name;
        name += strlen(name) + 1;
    }
}

static void parse_auxv(pm_core *core, const unsigned char *desc, size_t len)
{
    for (size_t off = 0; off + 16 <= len; off += 16) {
        uint64_t type = pm_get_uint(desc, (uint32_t)off, 8);
        if (type == AT_NULL)
            break;
        if (type == AT_EXECFN) {
            uint64_t addr = pm_get_uint(desc, (uint32_t)off + 8, 8);
            char buf[4096];
            size_t i = 0;
            /* byte by byte: the string may cross into another segment */
            for (; i + 1 < sizeof buf; i++) {
                const char *c = pm_core_ptr(core, addr + i, 1);
                if (!c || !*c)
                    break;
                buf[i] = *c;
            }
            if (i == 0)
                return;
            buf[i] = '\0';
            free(core->execfn);
            core->execfn = pm_strdup(buf);
        }
    }
}

static pymac_status parse_core(pm_core *core, const char *path, pymac_error *err);

/* A thread's stack pointer from its NT_PRSTATUS (struct elf_prstatus, the
 * x86-64 register set): the C stack below it is dead. */
static void record_sp(pm_core *core, const unsigned char *desc, size_t len)
{
    size_t off = offsetof(struct elf_prstatus, pr_reg) + RSP * sizeof(elf_greg_t);
    if (len < sizeof(struct elf_prstatus) || core->nsp == 100000)
        return;
    uint64_t *v = realloc(core->thread_sp, (core->nsp + 1) * sizeof *v);
    if (!v)
        return;
    core->thread_sp = v;
    memcpy(&v[core->nsp++], desc + off, 8);
}

static pymac_status parse_notes(pm_core *core, const GElf_Phdr *ph, pymac_error *err)
{
    Elf_Data *data = elf_getdata_rawchunk(core->elf, (int64_t)ph->p_offset, ph->p_filesz,
                                          ELF_T_NHDR);
    if (!data)
        return pm_fail(err, PYMAC_E_TRUNCATED, TRUNC_HINT, "core notes unreadable: %s",
                       elf_errmsg(-1));
    size_t off = 0, name_off, desc_off;
    GElf_Nhdr nh;
    bool saw_gdb = false;
    const unsigned char *auxv = NULL;
    size_t auxv_len = 0;
    while (off < data->d_size && (off = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
        const char *owner = (const char *)data->d_buf + name_off;
        const unsigned char *desc = (const unsigned char *)data->d_buf + desc_off;
        if (nh.n_namesz == 4 && memcmp(owner, "GDB", 4) == 0)
            saw_gdb = true;
        if (nh.n_namesz != 5 || memcmp(owner, "CORE", 5) != 0)
            continue;
        switch (nh.n_type) {
        case NT_PRSTATUS:
            core->nthreads++;
            record_sp(core, desc, nh.n_descsz);
            break;
        case NT_FILE:
            if (!core->files)
                parse_nt_file(core, desc, nh.n_descsz);
            break;
        case NT_PRPSINFO:
            /* struct elf_prpsinfo: pr_fname[16] at 40, pr_psargs[80] at 56 */
            if (nh.n_descsz >= 136 && !core->psargs) {
                char args[81];
                memcpy(args, desc + 56, 80);
                args[80] = '\0';
                core->psargs = pm_strdup(args);
            }
            break;
        case NT_AUXV:
            auxv = desc;
            auxv_len = nh.n_descsz;
            break;
        }
    }
    core->kernel_core = !saw_gdb;
    if (auxv)
        parse_auxv(core, auxv, auxv_len);
    return PYMAC_OK;
}

pymac_status pm_core_open(pm_core *core, const char *path, pymac_error *err)
{
    return pm_core_open_file(core, path, NULL, NULL, err);
}

/* A compressed core: core->fd becomes its decompressed copy (decompress.c). */
static pymac_status decompress_core(pm_core *core, const char *path, pymac_progress_fn progress,
                                    void *progress_ctx, pymac_error *err)
{
    unsigned char head[8];
    ssize_t n = pread(core->fd, head, sizeof head, 0);
    const char *format = n > 0 ? pm_compression_of(head, (size_t)n) : NULL;
    if (!format)
        return PYMAC_OK;
    pm_decompressed d;
    pymac_status st = pm_decompress(core->fd, path, format, progress, progress_ctx, &d, err);
    if (st)
        return st;
    close(core->fd);
    core->fd = d.fd;
    core->size = d.bytes;
    core->compression = d.format;
    core->compressed_size = d.compressed_bytes;
    return PYMAC_OK;
}

pymac_status pm_core_open_file(pm_core *core, const char *path, pymac_progress_fn progress,
                               void *progress_ctx, pymac_error *err)
{
    memset(core, 0, sizeof *core);
    core->fd = -1;
    elf_version(EV_CURRENT);
    core->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (core->fd < 0)
        return pm_fail(err, PYMAC_E_IO, "check the path and its permissions",
                       "cannot open core %s: %m", path);
    struct stat st;
    if (fstat(core->fd, &st) != 0 || !S_ISREG(st.st_mode))
        return pm_fail(err, PYMAC_E_IO, "give the path of a core file",
                       "%s is not a regular file", path);
    core->size = (size_t)st.st_size;
    pymac_status dst = decompress_core(core, path, progress, progress_ctx, err);
    if (dst)
        return dst;
    if (core->size < EI_NIDENT)
        return pm_fail(err, PYMAC_E_NOT_CORE, "give a core file (gcore PID, or a kernel core dump)",
                       "%s is not an ELF file (%zu bytes)", path, core->size);
    void *map = mmap(NULL, core->size, PROT_READ, MAP_PRIVATE, core->fd, 0);
    if (map == MAP_FAILED)
        return pm_fail(err, PYMAC_E_IO, NULL, "cannot map %s: %m", path);
    core->image = map;
    /* Walks jump around the heap: no read-ahead. */
    madvise(map, core->size, MADV_RANDOM);
    core->owns_image = true;
    core->resident = pm_resident_new(map, core->size);
    if (memcmp(core->image, ELFMAG, SELFMAG) != 0)
        return pm_fail(err, PYMAC_E_NOT_CORE, "give a core file (gcore PID, or a kernel core dump)",
                       "%s is not an ELF file", path);
    core->elf = elf_begin(core->fd, ELF_C_READ_MMAP, NULL);
    return parse_core(core, path, err);
}

pymac_status pm_core_open_image(pm_core *core, const void *image, size_t size, const char *name,
                                pymac_error *err)
{
    memset(core, 0, sizeof *core);
    core->fd = -1;
    elf_version(EV_CURRENT);
    core->image = image;
    core->size = size;
    if (size < EI_NIDENT || memcmp(image, ELFMAG, SELFMAG) != 0)
        return pm_fail(err, PYMAC_E_NOT_CORE, "give a core file (gcore PID, or a kernel core dump)",
                       "%s is not an ELF file", name);
    /* libelf only reads a native (x86-64, little-endian) image in place */
    core->elf = elf_memory((char *)image, size);
    return parse_core(core, name, err);
}

/* The ELF header, program headers and notes of core->image (core->elf open). */
static pymac_status parse_core(pm_core *core, const char *path, pymac_error *err)
{
    GElf_Ehdr eh;
    if (!core->elf || elf_kind(core->elf) != ELF_K_ELF || !gelf_getehdr(core->elf, &eh))
        return pm_fail(err, PYMAC_E_TRUNCATED, TRUNC_HINT, "%s: ELF header unreadable: %s",
                       path, elf_errmsg(-1));
    if (eh.e_type != ET_CORE)
        return pm_fail(err, PYMAC_E_NOT_CORE,
                       "give the core file; the program itself goes in --exe",
                       "%s is an ELF file but not a core (e_type %u)", path, eh.e_type);
    if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
        eh.e_machine != EM_X86_64)
        return pm_fail(err, PYMAC_E_UNSUPPORTED, "pymac reads x86-64 cores",
                       "%s is a core for another architecture (machine %u)", path, eh.e_machine);
    /* Check the header's own count against the file before libelf, which
     * reports phdrs past the end of a truncated file as none at all. */
    size_t nph = eh.e_phnum;
    if ((nph == PN_XNUM && elf_getphdrnum(core->elf, &nph) != 0) ||
        eh.e_phoff + (uint64_t)nph * sizeof(Elf64_Phdr) > core->size)
        return pm_fail(err, PYMAC_E_TRUNCATED, TRUNC_HINT,
                       "%s: program headers run past the end of the file", path);
    core->segs = calloc(nph ? nph : 1, sizeof *core->segs);
    if (!core->segs)
        return pm_nomem(err);
    GElf_Phdr note = {0};
    bool have_note = false;
    uint64_t need = core->size; /* bytes the segments say the core has */
    for (size_t i = 0; i < nph; i++) {
        GElf_Phdr ph;
        if (!gelf_getphdr(core->elf, (int)i, &ph))
            return pm_fail(err, PYMAC_E_TRUNCATED, TRUNC_HINT, "%s: program header %zu unreadable",
                           path, i);
        /* p_offset + p_filesz may wrap: compare without adding */
        bool cut = ph.p_filesz && (ph.p_offset > core->size ||
                                   ph.p_filesz > core->size - ph.p_offset);
        if (cut && (ph.p_type != PT_LOAD || ph.p_offset > UINT64_MAX - ph.p_filesz))
            return pm_fail(err, PYMAC_E_TRUNCATED, TRUNC_HINT,
                           "%s is truncated: segment %zu needs bytes %llu..%llu of %zu", path, i,
                           (unsigned long long)ph.p_offset,
                           (unsigned long long)ph.p_offset + ph.p_filesz, core->size);
        if (ph.p_type == PT_NOTE && !have_note) {
            note = ph;
            have_note = true;
        } else if (ph.p_type == PT_LOAD) {
            pm_segment *sg = &core->segs[core->nsegs++];
            sg->vaddr = ph.p_vaddr;
            sg->memsz = ph.p_memsz;
            sg->offset = ph.p_offset;
            sg->filesz = ph.p_filesz < ph.p_memsz ? ph.p_filesz : ph.p_memsz;
            sg->flags = ph.p_flags;
            sg->missing = 0;
            if (cut) {
                /* Memory data cut off (ulimit -c, a full disk): keep what is
                 * there; the rest reads as missing, and the session warns. */
                uint64_t have = ph.p_offset < core->size ? core->size - ph.p_offset : 0;
                if (have < sg->filesz) {
                    sg->missing = sg->filesz - have;
                    sg->filesz = have;
                }
                if (ph.p_offset + ph.p_filesz > need)
                    need = ph.p_offset + ph.p_filesz;
            }
        }
    }
    core->expected_size = need;
    if (!have_note || note.p_filesz == 0 || core->nsegs == 0)
        return pm_fail(err, PYMAC_E_CORRUPT, "the core has no notes or no memory; take it again",
                       "%s: core without %s", path, have_note ? "memory segments" : "notes");
    pm_sort(core->segs, core->nsegs, sizeof *core->segs, seg_cmp);
    return parse_notes(core, &note, err);
}

void pm_core_sort_segments(pm_core *core)
{
    pm_sort(core->segs, core->nsegs, sizeof *core->segs, seg_cmp);
}

void pm_core_close(pm_core *core)
{
    if (core->elf)
        elf_end(core->elf);
    pm_resident_free(core->resident);
    if (core->image && core->owns_image)
        munmap((void *)core->image, core->size);
    if (core->fd >= 0)
        close(core->fd);
    free(core->segs);
    free(core->files);
    free(core->file_strings);
    free(core->psargs);
    free(core->thread_sp);
    free(core->execfn);
    memset(core, 0, sizeof *core);
    core->fd = -1;
}

/* Last segment with vaddr <= addr, or NULL. */
static const pm_segment *find_seg(const pm_core *core, uint64_t addr)
{
    size_t lo = pm_upper_bound_at(core->segs, core->nsegs, sizeof *core->segs,
                                  offsetof(pm_segment, vaddr), addr);
    return lo ? &core->segs[lo - 1] : NULL;
}

const void *pm_core_ptr(const pm_core *core, uint64_t addr, size_t len)
{
    /* Reads cluster: try the segment of the previous read first, if it is
     * the one find_seg would give (segments of a damaged core may overlap:
     * pm_core_mapped must agree) */
    const pm_segment *sg = core->last;
    if (!sg || addr < sg->vaddr || addr - sg->vaddr >= sg->filesz ||
        (sg + 1 < core->segs + core->nsegs && sg[1].vaddr <= addr)) {
        sg = find_seg(core, addr);
        ((pm_core *)core)->last = sg;
    }
    if (!sg || addr - sg->vaddr >= sg->filesz || len > sg->filesz - (addr - sg->vaddr)) {
        /* a read into bytes the core was cut short of: counted, so views
         * that touched them say their results are partial */
        if (sg && sg->missing && addr - sg->vaddr < sg->filesz + sg->missing &&
            addr - sg->vaddr + len > sg->filesz)
            ((pm_core *)core)->missing_reads++;
        return NULL;
    }
    const unsigned char *p = core->image + sg->offset + (addr - sg->vaddr);
    if (core->resident && !pm_resident_touch(core->resident, p, len)) {
        pm_resident_free(core->resident);
        ((pm_core *)core)->resident = NULL;
    }
    return p;
}

bool pm_core_copy(const pm_core *core, uint64_t addr, void *buf, size_t len)
{
    const pm_segment *sg = find_seg(core, addr);
    if (!sg || addr - sg->vaddr >= sg->filesz || len > sg->filesz - (addr - sg->vaddr))
        return false;
    uint64_t off = sg->offset + (addr - sg->vaddr);
    if (core->fd < 0 || !core->owns_image) {
        memcpy(buf, core->image + off, len);
        return true;
    }
    return pread(core->fd, buf, len, (off_t)off) == (ssize_t)len;
}

bool pm_core_mapped(const pm_core *core, uint64_t addr)
{
    const pm_segment *sg = find_seg(core, addr);
    if (sg && addr - sg->vaddr < sg->memsz)
        return true;
    for (size_t i = 0; i < core->nfiles; i++)
        if (addr >= core->files[i].start && addr < core->files[i].end)
            return true;
    return false;
}

/* ---- the core as a target ---- */

static pm_core *core_of(const pm_target *t)
{
    return t->impl;
}

static bool core_read(pm_target *t, uint64_t addr, void *buf, size_t len)
{
    const pm_core *core = core_of(t);
    unsigned char *dst = buf;
    while (len) {
        if (addr + len < addr)
            return false;
        /* Take the longest run the core holds, piece by piece across segments. */
        size_t n = len;
        const void *p = pm_core_ptr(core, addr, n);
        /* (when the core lacks even the first byte, no shorter run helps) */
        while (!p && n > 1 && pm_core_ptr(core, addr, 1)) {
            n = (n + 1) / 2;
            p = pm_core_ptr(core, addr, n);
        }
        if (p) {
            memcpy(dst, p, n);
        } else {
            /* Left out of the core: read-only file pages come from the ELF file. */
            n = len;
            if (!t->fill.read || !t->fill.read(t->fill.ctx, addr, dst, n))
                return false;
        }
        dst += n;
        addr += n;
        len -= n;
    }
    return true;
}

static const void *core_view(pm_target *t, uint64_t addr, size_t len)
{
    return pm_core_ptr(core_of(t), addr, len);
}

static bool core_read_sparse(pm_target *t, uint64_t addr, void *buf, size_t len)
{
    return pm_core_copy(core_of(t), addr, buf, len) || core_read(t, addr, buf, len);
}

static bool core_mapped(pm_target *t, uint64_t addr)
{
    return pm_core_mapped(core_of(t), addr);
}

static const pm_segment *core_ranges(const pm_target *t, size_t *n)
{
    *n = core_of(t)->nsegs;
    return core_of(t)->segs;
}

static const pm_mapped_file *core_files(const pm_target *t, size_t *n)
{
    *n = core_of(t)->nfiles;
    return core_of(t)->files;
}

static unsigned core_threads(const pm_target *t)
{
    return core_of(t)->nthreads;
}

static const uint64_t *core_thread_sps(const pm_target *t, size_t *n)
{
    *n = core_of(t)->nsp;
    return core_of(t)->thread_sp;
}

static void core_about(const pm_target *t, pm_target_about *out)
{
    const pm_core *c = core_of(t);
    out->execfn = c->execfn;
    out->psargs = c->psargs;
    out->size = c->image ? c->size : 0;
    out->expected_size = c->image ? c->expected_size : 0;
    out->missing_reads = c->missing_reads;
    out->compression = c->compression;
    out->compressed_size = c->compressed_size;
}

static int core_report_modules(pm_target *t, Dwfl *dwfl, const char *exe_override)
{
    return dwfl_core_file_report(dwfl, core_of(t)->elf, exe_override);
}

static void core_close(pm_target *t)
{
    pm_core_close(core_of(t));
    free(t->impl);
}

static void borrowed_core_close(pm_target *t)
{
    (void)t; /* the caller's core */
}

/* Only a core this session mapped from its file: its pages refault the
 * same bytes (a decompressed image in anonymous memory would be lost). */
static void core_trim(pm_target *t)
{
    pm_core *core = t->impl;
    if (core->resident)
        pm_resident_drop_all(core->resident);
}

static const pm_target_ops core_ops = {
    .trim = core_trim,
    .read = core_read,
    .view = core_view,
    .read_sparse = core_read_sparse,
    .mapped = core_mapped,
    .ranges = core_ranges,
    .files = core_files,
    .threads = core_threads,
    .thread_sps = core_thread_sps,
    .about = core_about,
    .report_modules = core_report_modules,
    .find_elf = dwfl_build_id_find_elf,
    .close = core_close,
};

static const pm_target_ops borrowed_core_ops = {
    .read = core_read,
    .view = core_view,
    .read_sparse = core_read_sparse,
    .mapped = core_mapped,
    .ranges = core_ranges,
    .files = core_files,
    .threads = core_threads,
    .thread_sps = core_thread_sps,
    .about = core_about,
    .report_modules = core_report_modules,
    .find_elf = dwfl_build_id_find_elf,
    .close = borrowed_core_close,
};

pymac_status pm_target_open_core(pm_target *t, const char *path, pymac_progress_fn progress,
                                 void *progress_ctx, pymac_error *err)
{
    pm_core *core = calloc(1, sizeof *core);
    if (!core)
        return pm_nomem(err);
    core->fd = -1;
    /* open even when the parse fails: a truncated core's failure is explained
     * from what was parsed (pm_explain_truncation) */
    t->ops = &core_ops;
    t->impl = core;
    pymac_status st = pm_core_open_file(core, path, progress, progress_ctx, err);
    t->kind = core->kernel_core ? "kernel" : "gcore";
    t->space_bytes = core->size;
    return st;
}

void pm_target_of_core(pm_target *t, pm_core *core)
{
    t->ops = &borrowed_core_ops;
    t->impl = core;
    t->kind = core->kernel_core ? "kernel" : "gcore";
    t->space_bytes = core->size;
}
