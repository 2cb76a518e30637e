/* pm_core_open and friends on ELF cores written byte by byte by the test. */
#include <elf.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "target_core.h"
#include "unit.h"

#ifndef NT_FILE
#define NT_FILE 0x46494c45
#endif

/* ---- a growable byte buffer ---- */

typedef struct bytes {
    unsigned char *p;
    size_t len, cap;
} bytes;

static void put(bytes *b, const void *data, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + n)
            cap *= 2;
        unsigned char *p = realloc(b->p, cap);
        if (!p)
            abort();
        b->p = p;
        b->cap = cap;
    }
    if (data)
        memcpy(b->p + b->len, data, n);
    else
        memset(b->p + b->len, 0, n);
    b->len += n;
}

static void pad4(bytes *b)
{
    while (b->len % 4)
        put(b, NULL, 1);
}

static void put_u64(bytes *b, uint64_t v)
{
    put(b, &v, 8); /* x86-64 hosts only: little-endian like the cores */
}

static void note(bytes *b, const char *owner, uint32_t type, const void *desc, size_t descsz)
{
    Elf64_Nhdr nh = {.n_namesz = (Elf64_Word)strlen(owner) + 1,
                     .n_descsz = (Elf64_Word)descsz,
                     .n_type = type};
    put(b, &nh, sizeof nh);
    put(b, owner, nh.n_namesz);
    pad4(b);
    put(b, desc, descsz);
    pad4(b);
}

/* ---- the synthetic core ---- */

typedef struct seg_spec {
    uint64_t vaddr, memsz;
    const void *data; /* filesz bytes */
    size_t filesz;
    uint32_t flags;
} seg_spec;

typedef struct core_spec {
    const seg_spec *segs; /* phdr order, which is also file order */
    size_t nsegs;
    bool gdb_note;
    uint64_t execfn;       /* AT_EXECFN in an auxv note; 0: none */
    const void *trailer;   /* bytes after the last segment */
    size_t trailer_len;
} core_spec;

typedef struct synth {
    bytes b;
    size_t seg_off[8];
    size_t notes_off, notes_len;
} synth;

#define NPRSTATUS 2
#define PSARGS "python3 -c import time; time.sleep(60)"
#define FILE0 "/usr/bin/python3.11"
#define FILE1 "/usr/lib/x86_64-linux-gnu/libc.so.6"

static void build_core(const core_spec *cs, synth *out)
{
    memset(out, 0, sizeof *out);
    bytes *b = &out->b;
    size_t nph = 1 + cs->nsegs;
    Elf64_Ehdr eh = {0};
    memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    eh.e_ident[EI_OSABI] = ELFOSABI_NONE;
    eh.e_type = ET_CORE;
    eh.e_machine = EM_X86_64;
    eh.e_version = EV_CURRENT;
    eh.e_phoff = sizeof(Elf64_Ehdr);
    eh.e_ehsize = sizeof(Elf64_Ehdr);
    eh.e_phentsize = sizeof(Elf64_Phdr);
    eh.e_phnum = (Elf64_Half)nph;
    eh.e_shentsize = sizeof(Elf64_Shdr);
    put(b, &eh, sizeof eh);
    put(b, NULL, nph * sizeof(Elf64_Phdr)); /* filled in below */

    /* Notes: two threads, the command line, auxv, the mapped files. */
    out->notes_off = b->len;
    unsigned char prstatus[336] = {0};
    for (int i = 0; i < NPRSTATUS; i++) {
        uint32_t pid = 4242 + (uint32_t)i; /* pr_pid */
        memcpy(prstatus + 32, &pid, 4);
        note(b, "CORE", NT_PRSTATUS, prstatus, sizeof prstatus);
    }
    unsigned char prpsinfo[136] = {0};
    memcpy(prpsinfo + 40, "python3", 7);
    memcpy(prpsinfo + 56, PSARGS, strlen(PSARGS));
    note(b, "CORE", NT_PRPSINFO, prpsinfo, sizeof prpsinfo);
    /* Note types are per owner: this is no thread. */
    note(b, "LINUX", NT_PRSTATUS, prstatus, 16);
    if (cs->execfn) {
        bytes auxv = {0};
        put_u64(&auxv, AT_PAGESZ);
        put_u64(&auxv, 4096);
        put_u64(&auxv, AT_EXECFN);
        put_u64(&auxv, cs->execfn);
        put_u64(&auxv, AT_NULL);
        put_u64(&auxv, 0);
        note(b, "CORE", NT_AUXV, auxv.p, auxv.len);
        free(auxv.p);
    }
    bytes nt = {0};
    put_u64(&nt, 2);    /* count */
    put_u64(&nt, 4096); /* page size */
    put_u64(&nt, 0x400000);
    put_u64(&nt, 0x402000);
    put_u64(&nt, 0);
    put_u64(&nt, 0x7f1000000000);
    put_u64(&nt, 0x7f1000002000);
    put_u64(&nt, 2); /* in pages */
    put(&nt, FILE0, sizeof FILE0);
    put(&nt, FILE1, sizeof FILE1);
    note(b, "CORE", NT_FILE, nt.p, nt.len);
    free(nt.p);
    if (cs->gdb_note)
        note(b, "GDB", 0x6ff /* NT_GDB_TDESC */, "<target/>", 10);
    out->notes_len = b->len - out->notes_off;

    Elf64_Phdr ph = {.p_type = PT_NOTE,
                     .p_offset = out->notes_off,
                     .p_filesz = out->notes_len,
                     .p_align = 4};
    memcpy(b->p + eh.e_phoff, &ph, sizeof ph);
    for (size_t i = 0; i < cs->nsegs; i++) {
        while (b->len % 16)
            put(b, NULL, 1);
        const seg_spec *s = &cs->segs[i];
        out->seg_off[i] = b->len;
        put(b, s->data, s->filesz);
        Elf64_Phdr lp = {.p_type = PT_LOAD,
                         .p_flags = s->flags,
                         .p_offset = out->seg_off[i],
                         .p_vaddr = s->vaddr,
                         .p_filesz = s->filesz,
                         .p_memsz = s->memsz,
                         .p_align = 4096};
        memcpy(b->p + eh.e_phoff + (1 + i) * sizeof(Elf64_Phdr), &lp, sizeof lp);
    }
    if (cs->trailer)
        put(b, cs->trailer, cs->trailer_len);
}

/* The standard core: segments C, A, B in phdr and file order (unsorted). */
#define A_VADDR 0x400000ull
#define A_SIZE 0x100u
#define B_VADDR 0x600000ull
#define B_FILESZ 0x80u
#define B_MEMSZ 0x3000u
#define C_VADDR 0x7ffc0000ull
#define C_SIZE 0x40u
#define EXECFN_OFF 0x10u

static unsigned char seg_a[A_SIZE], seg_b[B_FILESZ], seg_c[C_SIZE];
static seg_spec std_segs[3];

static void std_core(bool gdb_note, synth *out)
{
    for (unsigned i = 0; i < A_SIZE; i++)
        seg_a[i] = (unsigned char)(i * 7 + 1);
    for (unsigned i = 0; i < B_FILESZ; i++)
        seg_b[i] = (unsigned char)(0xA0 ^ i);
    memset(seg_c, 0xEE, sizeof seg_c);
    memcpy(seg_c + EXECFN_OFF, FILE0, sizeof FILE0);
    std_segs[0] = (seg_spec){C_VADDR, C_SIZE, seg_c, C_SIZE, PF_R | PF_W};
    std_segs[1] = (seg_spec){A_VADDR, A_SIZE, seg_a, A_SIZE, PF_R | PF_X};
    std_segs[2] = (seg_spec){B_VADDR, B_MEMSZ, seg_b, B_FILESZ, PF_R | PF_W};
    core_spec cs = {.segs = std_segs, .nsegs = 3, .gdb_note = gdb_note,
                    .execfn = C_VADDR + EXECFN_OFF};
    build_core(&cs, out);
}

/* ---- files in a temporary directory ---- */

static char tmpdir[256];

static int core_init(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/pymac-unit-XXXXXX", base && *base ? base : "/tmp");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int core_cleanup(void)
{
    DIR *d = opendir(tmpdir);
    if (!d)
        return -1;
    struct dirent *e;
    char path[512];
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", tmpdir, e->d_name);
        unlink(path);
    }
    closedir(d);
    return rmdir(tmpdir);
}

/* Writes len bytes to tmpdir/name; returns the path (static storage). */
static const char *write_file(const char *name, const void *data, size_t len)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    if (!f)
        return NULL;
    size_t n = len ? fwrite(data, 1, len, f) : 0;
    if (fclose(f) != 0 || n != len)
        return NULL;
    return path;
}

/* An error as pymac.h promises it: the status, a non-empty one-line message. */
static bool good_error(const pymac_error *e, pymac_status st)
{
    size_t n = strnlen(e->message, sizeof e->message);
    if (e->status != st || n == 0 || n == sizeof e->message)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)e->message[i] < 0x20)
            return false;
    return strnlen(e->hint, sizeof e->hint) < sizeof e->hint;
}

/* Opens data as a core; returns its status (core closed again). */
static pymac_status open_bytes(const char *name, const void *data, size_t len, pymac_error *err)
{
    const char *path = write_file(name, data, len);
    if (!path)
        CU_FAIL_FATAL("cannot write the test file");
    pm_core core;
    memset(err, 0, sizeof *err);
    pymac_status st = pm_core_open(&core, path, err);
    pm_core_close(&core);
    return st;
}

/* ---- tests ---- */

static void test_status_values(void)
{
    /* The documented exit codes (pymac.h, README) must not drift. */
    CU_ASSERT_EQUAL(PYMAC_OK, 0);
    CU_ASSERT_EQUAL(PYMAC_PARTIAL, 1);
    CU_ASSERT_EQUAL(PYMAC_E_IO, 3);
    CU_ASSERT_EQUAL(PYMAC_E_NOT_CORE, 4);
    CU_ASSERT_EQUAL(PYMAC_E_TRUNCATED, 5);
    CU_ASSERT_EQUAL(PYMAC_E_UNSUPPORTED, 9);
    CU_ASSERT_EQUAL(PYMAC_E_CORRUPT, 11);
    CU_ASSERT_EQUAL(PYMAC_E_INTERNAL, 13);
    CU_ASSERT_STRING_EQUAL(pymac_status_name(PYMAC_OK), "ok");
    CU_ASSERT_STRING_EQUAL(pymac_status_name(PYMAC_E_NOT_CORE), "not-core");
    CU_ASSERT_STRING_EQUAL(pymac_status_name(PYMAC_E_TRUNCATED), "truncated");
    CU_ASSERT_STRING_EQUAL(pymac_status_name(PYMAC_E_UNSUPPORTED), "unsupported");
    CU_ASSERT_STRING_EQUAL(pymac_status_name(PYMAC_E_CORRUPT), "corrupt");
    CU_ASSERT_STRING_EQUAL(pymac_status_name((pymac_status)99), "unknown");
    CU_ASSERT_STRING_EQUAL(pymac_status_name((pymac_status)-1), "unknown");

    pymac_error e;
    CU_ASSERT_EQUAL(pm_fail(&e, PYMAC_E_CORRUPT, NULL, "bad\nthing %d", 7), PYMAC_E_CORRUPT);
    CU_ASSERT_EQUAL(e.status, PYMAC_E_CORRUPT);
    CU_ASSERT_STRING_EQUAL(e.message, "bad?thing 7"); /* kept on one line */
    CU_ASSERT_STRING_EQUAL(e.hint, "");
    CU_ASSERT_EQUAL(pm_fail(NULL, PYMAC_E_IO, "h", "x"), PYMAC_E_IO);
}

static void test_open_good(void)
{
    synth sy;
    std_core(false, &sy);
    const char *path = write_file("good.core", sy.b.p, sy.b.len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(path);
    pm_core core;
    pymac_error err = {0};
    pymac_status st = pm_core_open(&core, path, &err);
    CU_ASSERT_EQUAL_FATAL(st, PYMAC_OK);
    CU_ASSERT_EQUAL(core.size, sy.b.len);
    CU_ASSERT_EQUAL(core.nthreads, NPRSTATUS);
    CU_ASSERT_TRUE(core.kernel_core);
    CU_ASSERT_PTR_NOT_NULL(core.psargs);
    if (core.psargs)
        CU_ASSERT_STRING_EQUAL(core.psargs, PSARGS);
    CU_ASSERT_PTR_NOT_NULL(core.execfn);
    if (core.execfn)
        CU_ASSERT_STRING_EQUAL(core.execfn, FILE0);

    /* PT_LOADs, sorted by address whatever the file order. */
    CU_ASSERT_EQUAL_FATAL(core.nsegs, 3);
    CU_ASSERT_EQUAL(core.segs[0].vaddr, A_VADDR);
    CU_ASSERT_EQUAL(core.segs[0].offset, sy.seg_off[1]);
    CU_ASSERT_EQUAL(core.segs[0].flags, PF_R | PF_X);
    CU_ASSERT_EQUAL(core.segs[1].vaddr, B_VADDR);
    CU_ASSERT_EQUAL(core.segs[1].filesz, B_FILESZ);
    CU_ASSERT_EQUAL(core.segs[1].memsz, B_MEMSZ);
    CU_ASSERT_EQUAL(core.segs[2].vaddr, C_VADDR);
    CU_ASSERT_EQUAL(core.segs[2].offset, sy.seg_off[0]);

    /* NT_FILE */
    CU_ASSERT_EQUAL_FATAL(core.nfiles, 2);
    CU_ASSERT_EQUAL(core.files[0].start, 0x400000);
    CU_ASSERT_EQUAL(core.files[0].end, 0x402000);
    CU_ASSERT_EQUAL(core.files[0].file_offset, 0);
    CU_ASSERT_STRING_EQUAL(core.files[0].path, FILE0);
    CU_ASSERT_EQUAL(core.files[1].start, 0x7f1000000000);
    CU_ASSERT_EQUAL(core.files[1].end, 0x7f1000002000);
    CU_ASSERT_EQUAL(core.files[1].file_offset, 2 * 4096);
    CU_ASSERT_STRING_EQUAL(core.files[1].path, FILE1);
    pm_core_close(&core);
    CU_ASSERT_EQUAL(core.fd, -1);
    CU_ASSERT_PTR_NULL(core.image);
    free(sy.b.p);
}

static void test_gdb_core(void)
{
    synth sy;
    std_core(true, &sy);
    const char *path = write_file("gdb.core", sy.b.p, sy.b.len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(path);
    pm_core core;
    pymac_error err = {0};
    CU_ASSERT_EQUAL_FATAL(pm_core_open(&core, path, &err), PYMAC_OK);
    CU_ASSERT_FALSE(core.kernel_core);
    CU_ASSERT_EQUAL(core.nthreads, NPRSTATUS);
    CU_ASSERT_EQUAL(core.nfiles, 2);
    pm_core_close(&core);
    free(sy.b.p);
}

static void test_translation(void)
{
    synth sy;
    std_core(false, &sy);
    const char *path = write_file("xlate.core", sy.b.p, sy.b.len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(path);
    pm_core core;
    pymac_error err = {0};
    CU_ASSERT_EQUAL_FATAL(pm_core_open(&core, path, &err), PYMAC_OK);
    const unsigned char *img = core.image;
    size_t off_a = sy.seg_off[1], off_b = sy.seg_off[2], off_c = sy.seg_off[0];

    /* A: fully in the file */
    CU_ASSERT_PTR_EQUAL(pm_core_ptr(&core, A_VADDR, 1), img + off_a);
    CU_ASSERT_PTR_EQUAL(pm_core_ptr(&core, A_VADDR, A_SIZE), img + off_a);
    const unsigned char *p = pm_core_ptr(&core, A_VADDR + 0x10, 0x20);
    CU_ASSERT_PTR_EQUAL(p, img + off_a + 0x10);
    if (p)
        CU_ASSERT_EQUAL(memcmp(p, seg_a + 0x10, 0x20), 0);
    p = pm_core_ptr(&core, A_VADDR + A_SIZE - 1, 1);
    CU_ASSERT_PTR_EQUAL(p, img + off_a + A_SIZE - 1);
    if (p)
        CU_ASSERT_EQUAL(*p, (unsigned char)((A_SIZE - 1) * 7 + 1));
    CU_ASSERT_PTR_NULL(pm_core_ptr(&core, A_VADDR + A_SIZE - 1, 2)); /* runs off the end */
    CU_ASSERT_PTR_NULL(pm_core_ptr(&core, A_VADDR, A_SIZE + 1));
    CU_ASSERT_PTR_NULL(pm_core_ptr(&core, A_VADDR + A_SIZE, 1));
    CU_ASSERT_PTR_NULL(pm_core_ptr(&core, A_VADDR - 1, 1)); /* below every segment */
    CU_ASSERT_PTR_NULL(pm_core_ptr(&core, A_VADDR - 1, 2)); /* starts below, ends inside */
    CU_ASSERT_PTR_NULL(pm_core_ptr(&core, 0, 1));
    CU_ASSERT_PTR_NULL(pm_core_ptr(&core, A_VADDR, SIZE_MAX));
    CU_ASSERT_PTR_NULL(pm_core_ptr(&core, UINT64_MAX, 1));

    /* pm_core_copy (pread of the file) gives the same bytes, and refuses the same */
    unsigned char buf[0x40];
    CU_ASSERT_TRUE(pm_core_copy(&core, A_VADDR + 0x10, buf, 0x20));
    CU_ASSERT_EQUAL(memcmp(buf, seg_a + 0x10, 0x20), 0);
    CU_ASSERT_TRUE(pm_core_copy(&core, A_VADDR + A_SIZE - 1, buf, 1));
    CU_ASSERT_EQUAL(buf[0], (unsigned char)((A_SIZE - 1) * 7 + 1));
    CU_ASSERT_FALSE(pm_core_copy(&core, A_VADDR + A_SIZE - 1, buf, 2));
    CU_ASSERT_FALSE(pm_core_copy(&core, A_VADDR - 1, buf, 2));
    CU_ASSERT_FALSE(pm_core_copy(&core, UINT64_MAX, buf, 1));
    CU_ASSERT_FALSE(pm_core_copy(&core, B_VADDR + B_FILESZ - 4, buf, 8)); /* into B's gap */

    /* B: 0x80 bytes in the file of 0x3000 mapped */
    p = pm_core_ptr(&core, B_VADDR + B_FILESZ - 1, 1);
    CU_ASSERT_PTR_EQUAL(p, img + off_b + B_FILESZ - 1);
    if (p)
        CU_ASSERT_EQUAL(*p, 0xA0 ^ (B_FILESZ - 1));
    CU_ASSERT_PTR_NULL(pm_core_ptr(&core, B_VADDR + B_FILESZ, 1));     /* in the gap */
    CU_ASSERT_PTR_NULL(pm_core_ptr(&core, B_VADDR + B_FILESZ - 4, 8)); /* across it */
    CU_ASSERT_PTR_NULL(pm_core_ptr(&core, B_VADDR + B_MEMSZ - 1, 1));
    CU_ASSERT_TRUE(pm_core_mapped(&core, B_VADDR + B_FILESZ));
    CU_ASSERT_TRUE(pm_core_mapped(&core, B_VADDR + B_MEMSZ - 1));
    CU_ASSERT_FALSE(pm_core_mapped(&core, B_VADDR + B_MEMSZ));
    CU_ASSERT_FALSE(pm_core_mapped(&core, B_VADDR - 1));

    /* C: the last segment */
    p = pm_core_ptr(&core, C_VADDR + EXECFN_OFF, sizeof FILE0);
    CU_ASSERT_PTR_EQUAL(p, img + off_c + EXECFN_OFF);
    if (p)
        CU_ASSERT_STRING_EQUAL((const char *)p, FILE0);
    CU_ASSERT_PTR_NULL(pm_core_ptr(&core, C_VADDR + C_SIZE, 1));
    CU_ASSERT_FALSE(pm_core_mapped(&core, C_VADDR + C_SIZE));
    CU_ASSERT_TRUE(pm_core_mapped(&core, C_VADDR));

    /* Mapped through NT_FILE only: the file pages the core left out. */
    CU_ASSERT_TRUE(pm_core_mapped(&core, A_VADDR + A_SIZE));
    CU_ASSERT_TRUE(pm_core_mapped(&core, 0x401fff));
    CU_ASSERT_FALSE(pm_core_mapped(&core, 0x402000));
    CU_ASSERT_TRUE(pm_core_mapped(&core, 0x7f1000000010));
    CU_ASSERT_PTR_NULL(pm_core_ptr(&core, 0x7f1000000010, 1));
    CU_ASSERT_FALSE(pm_core_mapped(&core, 0x7f1000002000));
    CU_ASSERT_FALSE(pm_core_mapped(&core, 0));
    pm_core_close(&core);
    free(sy.b.p);
}

static void test_bad_files(void)
{
    pymac_error err;
    pm_core core;
    char path[512];

    snprintf(path, sizeof path, "%s/does-not-exist.core", tmpdir);
    memset(&err, 0, sizeof err);
    CU_ASSERT_EQUAL(pm_core_open(&core, path, &err), PYMAC_E_IO);
    CU_ASSERT_TRUE(good_error(&err, PYMAC_E_IO));
    pm_core_close(&core);

    memset(&err, 0, sizeof err);
    CU_ASSERT_EQUAL(pm_core_open(&core, tmpdir, &err), PYMAC_E_IO); /* a directory */
    CU_ASSERT_TRUE(good_error(&err, PYMAC_E_IO));
    pm_core_close(&core);

    CU_ASSERT_EQUAL(open_bytes("empty.core", "", 0, &err), PYMAC_E_NOT_CORE);
    CU_ASSERT_TRUE(good_error(&err, PYMAC_E_NOT_CORE));

    static const char text[] = "#!/bin/sh\necho this is a shell script, not a core file\n";
    CU_ASSERT_EQUAL(open_bytes("text.core", text, sizeof text - 1, &err), PYMAC_E_NOT_CORE);
    CU_ASSERT_TRUE(good_error(&err, PYMAC_E_NOT_CORE));

    CU_ASSERT_EQUAL(open_bytes("magic.core", ELFMAG, SELFMAG, &err), PYMAC_E_NOT_CORE);
    CU_ASSERT_TRUE(good_error(&err, PYMAC_E_NOT_CORE));
}

/* The standard core with its ELF header patched. */
static void test_not_cores(void)
{
    synth sy;
    std_core(false, &sy);
    Elf64_Ehdr *eh = (Elf64_Ehdr *)sy.b.p;
    pymac_error err;
    static const Elf64_Half types[] = {ET_EXEC, ET_REL, ET_DYN, ET_NONE};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        eh->e_type = types[i];
        CU_ASSERT_EQUAL(open_bytes("exec.core", sy.b.p, sy.b.len, &err), PYMAC_E_NOT_CORE);
        CU_ASSERT_TRUE(good_error(&err, PYMAC_E_NOT_CORE));
    }
    eh->e_type = ET_CORE;

    eh->e_machine = EM_AARCH64;
    CU_ASSERT_EQUAL(open_bytes("arm.core", sy.b.p, sy.b.len, &err), PYMAC_E_UNSUPPORTED);
    CU_ASSERT_TRUE(good_error(&err, PYMAC_E_UNSUPPORTED));
    eh->e_machine = EM_X86_64;

    /* Big-endian: the header fields byte-swapped as such a file holds them. */
    unsigned char *big = malloc(sy.b.len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(big);
    memcpy(big, sy.b.p, sy.b.len);
    Elf64_Ehdr *be = (Elf64_Ehdr *)big;
    be->e_ident[EI_DATA] = ELFDATA2MSB;
    be->e_type = (Elf64_Half)((ET_CORE >> 8) | (ET_CORE << 8));
    be->e_machine = (Elf64_Half)((EM_X86_64 >> 8) | ((EM_X86_64 & 0xff) << 8));
    be->e_version = __builtin_bswap32(EV_CURRENT);
    be->e_phoff = __builtin_bswap64(eh->e_phoff);
    be->e_ehsize = __builtin_bswap16(eh->e_ehsize);
    be->e_phentsize = __builtin_bswap16(eh->e_phentsize);
    be->e_phnum = __builtin_bswap16(eh->e_phnum);
    be->e_shentsize = __builtin_bswap16(eh->e_shentsize);
    CU_ASSERT_EQUAL(open_bytes("big.core", big, sy.b.len, &err), PYMAC_E_UNSUPPORTED);
    CU_ASSERT_TRUE(good_error(&err, PYMAC_E_UNSUPPORTED));
    free(big);

    /* A 32-bit core (i386), header only. */
    Elf32_Ehdr e32 = {0};
    memcpy(e32.e_ident, ELFMAG, SELFMAG);
    e32.e_ident[EI_CLASS] = ELFCLASS32;
    e32.e_ident[EI_DATA] = ELFDATA2LSB;
    e32.e_ident[EI_VERSION] = EV_CURRENT;
    e32.e_type = ET_CORE;
    e32.e_machine = EM_386;
    e32.e_version = EV_CURRENT;
    e32.e_ehsize = sizeof e32;
    e32.e_phentsize = sizeof(Elf32_Phdr);
    CU_ASSERT_EQUAL(open_bytes("i386.core", &e32, sizeof e32, &err), PYMAC_E_UNSUPPORTED);
    CU_ASSERT_TRUE(good_error(&err, PYMAC_E_UNSUPPORTED));
    /* ... and a 32-bit x86-64 header (x32 class mismatch) */
    e32.e_machine = EM_X86_64;
    CU_ASSERT_EQUAL(open_bytes("x32.core", &e32, sizeof e32, &err), PYMAC_E_UNSUPPORTED);
    CU_ASSERT_TRUE(good_error(&err, PYMAC_E_UNSUPPORTED));
    free(sy.b.p);
}

/* Cores whose program headers say something impossible. */
static void test_bad_headers(void)
{
    synth sy;
    std_core(false, &sy);
    Elf64_Ehdr *eh = (Elf64_Ehdr *)sy.b.p;
    Elf64_Phdr *ph = (Elf64_Phdr *)(sy.b.p + eh->e_phoff);
    pymac_error err;

    ph[0].p_type = PT_NULL; /* no notes */
    CU_ASSERT_EQUAL(open_bytes("nonotes.core", sy.b.p, sy.b.len, &err), PYMAC_E_CORRUPT);
    CU_ASSERT_TRUE(good_error(&err, PYMAC_E_CORRUPT));
    ph[0].p_type = PT_NOTE;

    for (int i = 1; i <= 3; i++)
        ph[i].p_type = PT_NULL; /* no memory */
    CU_ASSERT_EQUAL(open_bytes("noload.core", sy.b.p, sy.b.len, &err), PYMAC_E_CORRUPT);
    CU_ASSERT_TRUE(good_error(&err, PYMAC_E_CORRUPT));
    for (int i = 1; i <= 3; i++)
        ph[i].p_type = PT_LOAD;

    Elf64_Half phnum = eh->e_phnum;
    eh->e_phnum = 200; /* more program headers than the file holds */
    CU_ASSERT_EQUAL(open_bytes("phnum.core", sy.b.p, sy.b.len, &err), PYMAC_E_TRUNCATED);
    CU_ASSERT_TRUE(good_error(&err, PYMAC_E_TRUNCATED));
    eh->e_phnum = phnum;

    Elf64_Off phoff = eh->e_phoff;
    eh->e_phoff = sy.b.len - 8; /* program headers past the end */
    CU_ASSERT_EQUAL(open_bytes("phoff.core", sy.b.p, sy.b.len, &err), PYMAC_E_TRUNCATED);
    CU_ASSERT_TRUE(good_error(&err, PYMAC_E_TRUNCATED));
    eh->e_phoff = UINT64_MAX - 63; /* ... with the sum wrapping around */
    CU_ASSERT_NOT_EQUAL(open_bytes("phoffwrap.core", sy.b.p, sy.b.len, &err), PYMAC_OK);
    CU_ASSERT_TRUE(good_error(&err, err.status));
    eh->e_phoff = phoff;

    /* a segment's data beyond the end: the core opens, the segment's bytes
     * read as missing (and are counted), the memory stays mapped */
    ph[2].p_offset = sy.b.len;
    {
        const char *path = write_file("segoff.core", sy.b.p, sy.b.len);
        pm_core core;
        memset(&err, 0, sizeof err);
        CU_ASSERT_EQUAL_FATAL(pm_core_open(&core, path, &err), PYMAC_OK);
        CU_ASSERT_EQUAL(core.expected_size, (uint64_t)sy.b.len + A_SIZE);
        CU_ASSERT_PTR_NULL(pm_core_ptr(&core, A_VADDR, 1));
        CU_ASSERT_EQUAL(core.missing_reads, 1);
        CU_ASSERT_TRUE(pm_core_mapped(&core, A_VADDR + A_SIZE - 1));
        CU_ASSERT_PTR_NOT_NULL(pm_core_ptr(&core, B_VADDR, B_FILESZ)); /* the others are whole */
        CU_ASSERT_PTR_NOT_NULL(pm_core_ptr(&core, C_VADDR, C_SIZE));
        CU_ASSERT_EQUAL(core.missing_reads, 1);
        pm_core_close(&core);
    }
    ph[2].p_offset = UINT64_MAX - 8; /* ... with the end wrapping around */
    CU_ASSERT_EQUAL(open_bytes("segwrap.core", sy.b.p, sy.b.len, &err), PYMAC_E_TRUNCATED);
    CU_ASSERT_TRUE(good_error(&err, PYMAC_E_TRUNCATED));
    ph[2].p_offset = sy.seg_off[1];

    ph[0].p_offset = sy.b.len - 4; /* notes running past the end of the file */
    CU_ASSERT_EQUAL(open_bytes("noteoff.core", sy.b.p, sy.b.len, &err), PYMAC_E_TRUNCATED);
    CU_ASSERT_TRUE(good_error(&err, PYMAC_E_TRUNCATED));
    free(sy.b.p);
}

/* Every proper prefix of a good core: cut in the headers or the notes, an
 * error, never a crash; cut in the memory data, the core opens, the bytes that
 * are there read back exactly, and the missing ones read as missing. */
static void test_truncated_everywhere(void)
{
    synth sy;
    std_core(true, &sy);
    const seg_spec *segs = std_segs;
    size_t notes_end = sy.notes_off + sy.notes_len;
    pymac_error err;
    size_t nbad = 0, ntrunc = 0, nopen = 0;
    for (size_t len = 0; len < sy.b.len; len++) {
        const char *path = write_file("trunc.core", sy.b.p, len);
        pm_core core;
        memset(&err, 0, sizeof err);
        pymac_status st = pm_core_open(&core, path, &err);
        pymac_status want = len < EI_NIDENT    ? PYMAC_E_NOT_CORE
                            : len < notes_end ? PYMAC_E_TRUNCATED
                                              : PYMAC_OK;
        bool good = st == want && (st == PYMAC_OK || good_error(&err, st));
        if (st == PYMAC_E_TRUNCATED)
            ntrunc++;
        if (good && st == PYMAC_OK) {
            nopen++;
            good = core.expected_size == sy.b.len;
            /* every byte of every segment: there exactly when the prefix holds it */
            for (size_t i = 0; good && i < 3; i++) {
                for (uint64_t k = 0; good && k < segs[i].filesz; k++) {
                    const unsigned char *p = pm_core_ptr(&core, segs[i].vaddr + k, 1);
                    uint64_t missing = core.missing_reads;
                    if (sy.seg_off[i] + k < len)
                        good = p && *p == ((const unsigned char *)segs[i].data)[k];
                    else
                        good = !p && missing > 0;
                }
            }
        }
        pm_core_close(&core);
        if (!good && nbad++ < 5)
            fprintf(stderr, "\n  %zu of %zu bytes: status %d (%s), want %d: \"%s\"", len,
                    sy.b.len, st, pymac_status_name(st), want, err.message);
    }
    CU_ASSERT_EQUAL(nbad, 0);
    CU_ASSERT_EQUAL(ntrunc, notes_end - EI_NIDENT);
    CU_ASSERT_EQUAL(nopen, sy.b.len - notes_end);
    /* ... and the whole file opens, with nothing missing. */
    CU_ASSERT_EQUAL(open_bytes("trunc.core", sy.b.p, sy.b.len, &err), PYMAC_OK);
    free(sy.b.p);
}

/* ---- regressions: bugs these tests found, since fixed ---- */

/* A PT_LOAD whose p_offset + p_filesz wraps past 2^64 passes the "headers
 * describe more than the file" check (the sum is compared, not each term),
 * and pm_core_ptr then returns a pointer outside the mapped image: here
 * image + 2^64 - 4096, i.e. 4 KiB before it. */
static void test_bug_segment_offset_wraps(void)
{
    synth sy;
    std_core(false, &sy);
    Elf64_Phdr *ph = (Elf64_Phdr *)(sy.b.p + sizeof(Elf64_Ehdr));
    ph[2].p_offset = UINT64_MAX - 4095; /* segment A; + p_filesz wraps to 0x100 */
    ph[2].p_filesz = 0x1100;
    ph[2].p_memsz = 0x1100;
    const char *path = write_file("wrap.core", sy.b.p, sy.b.len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(path);
    pm_core core;
    pymac_error err;
    pymac_status st = pm_core_open(&core, path, &err);
    CU_ASSERT_NOT_EQUAL(st, PYMAC_OK);
    if (st == PYMAC_OK) {
        /* Not dereferenced: only where it points. */
        uintptr_t p = (uintptr_t)pm_core_ptr(&core, A_VADDR, 1);
        uintptr_t lo = (uintptr_t)core.image, hi = lo + core.size;
        CU_ASSERT(p == 0 || (p >= lo && p < hi));
    }
    pm_core_close(&core);
    free(sy.b.p);
}

/* AT_EXECFN is copied byte by byte with each address checked by
 * pm_core_ptr, but read through the pointer of the string's first byte: a
 * string that continues into the next segment is read from whatever follows
 * the first segment in the file (here "WRONG"; past the end of the mapping
 * when that segment is last in the file). */
static void test_bug_execfn_across_segments(void)
{
    static const char part1[16] = {'/', 'u', 's', 'r', '/', 'b', 'i', 'n',
                                   '/', 'p', 'y', 't', 'h', 'o', 'n', '3'};
    static const char part2[16] = ".12";
    seg_spec segs[2] = {
        {0x500010, 16, part2, 16, PF_R | PF_W}, /* first in the file */
        {0x500000, 16, part1, 16, PF_R | PF_W}, /* then this, then the trailer */
    };
    core_spec cs = {.segs = segs, .nsegs = 2, .execfn = 0x500000,
                    .trailer = "WRONG", .trailer_len = 6};
    synth sy;
    build_core(&cs, &sy);
    const char *path = write_file("execfn.core", sy.b.p, sy.b.len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(path);
    pm_core core;
    pymac_error err;
    CU_ASSERT_EQUAL_FATAL(pm_core_open(&core, path, &err), PYMAC_OK);
    CU_ASSERT_PTR_NOT_NULL(core.execfn);
    if (core.execfn)
        CU_ASSERT_STRING_EQUAL(core.execfn, "/usr/bin/python3.12");
    pm_core_close(&core);
    free(sy.b.p);
}

/* Segments of a damaged core that overlap: a read served from the segment
 * of the previous read (pm_core_ptr's cache) gave bytes for an address that
 * pm_core_mapped, asking the segment that starts last at or below it, said
 * is not mapped (fuzz_core found it). Both must name the same segment. */
static void test_bug_overlapping_segments(void)
{
    static char big[256], small[16];
    seg_spec segs[2] = {
        {0x600000, 256, big, 256, PF_R | PF_W},   /* A: 0x600000..0x600100 */
        {0x600040, 16, small, 16, PF_R | PF_W},   /* B inside A, 16 bytes */
    };
    core_spec cs = {.segs = segs, .nsegs = 2};
    synth sy;
    build_core(&cs, &sy);
    const char *path = write_file("overlap.core", sy.b.p, sy.b.len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(path);
    pm_core core;
    pymac_error err;
    CU_ASSERT_EQUAL_FATAL(pm_core_open(&core, path, &err), PYMAC_OK);
    CU_ASSERT_PTR_NOT_NULL(pm_core_ptr(&core, 0x600010, 8)); /* A, now cached */
    uint64_t past_b = 0x600080;                              /* in A, past B */
    CU_ASSERT_EQUAL(pm_core_ptr(&core, past_b, 8) != NULL, pm_core_mapped(&core, past_b));
    pm_core_close(&core);
    free(sy.b.p);
}

bool register_core_tests(void)
{
    static const unit_test tests[] = {
        {"status values and names", test_status_values},
        {"open a synthetic kernel core", test_open_good},
        {"a GDB note makes a gcore", test_gdb_core},
        {"address translation", test_translation},
        {"missing, empty, non-ELF files", test_bad_files},
        {"ELF files that are not x86-64 cores", test_not_cores},
        {"impossible program headers", test_bad_headers},
        {"truncated at every byte: headers and notes fail, data reads as missing", test_truncated_everywhere},
        {NULL, NULL},
    };
    /* Bugs these tests found, fixed since: kept as regressions. */
    static const unit_test bugs[] = {
        {"p_offset + p_filesz wraps around", test_bug_segment_offset_wraps},
        {"AT_EXECFN across two segments", test_bug_execfn_across_segments},
        {"overlapping segments: reads and the map agree", test_bug_overlapping_segments},
        {NULL, NULL},
    };
    if (!unit_add_suite("core", core_init, core_cleanup, tests))
        return false;
    return unit_add_suite("core regressions", core_init, core_cleanup, bugs);
}
