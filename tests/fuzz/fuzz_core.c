/* libFuzzer target: a core file's bytes, before any DWARF is involved.
 *
 * The input is a whole core file. A private copy of it goes to
 * pm_core_open_image, the in-memory twin of pm_core_open (which adds only
 * open, fstat and mmap, exercised by the unit tests): a memfd per input cost
 * three quarters of the time in the kernel. It parses the ELF header, the
 * program headers and the notes (NT_PRSTATUS, NT_FILE, NT_PRPSINFO, NT_AUXV
 * and its AT_EXECFN string), and address translation (pm_core_ptr,
 * pm_core_mapped) is exercised at the edges of every segment and mapped file
 * it found. Every pointer returned is read at both ends, so a wrong bound
 * shows up as an ASan report, not as a silent wrong answer.
 *
 * Invariants checked (abort on violation): a pointer from pm_core_ptr lies
 * inside the mapped image with all len bytes; pm_core_ptr never answers for
 * an address pm_core_mapped denies. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "target_core.h"

static volatile unsigned char sink;

static void touch(const pm_core *c, const void *p, size_t len)
{
    const unsigned char *b = p;
    if (!p)
        return;
    if (b < c->image || len > c->size || (size_t)(b - c->image) > c->size - len)
        abort(); /* a pointer outside the image */
    if (len) {
        sink ^= b[0];
        sink ^= b[len - 1];
    }
}

static void probe(const pm_core *c, uint64_t addr, size_t len)
{
    const void *p = pm_core_ptr(c, addr, len);
    if (!c->image)
        return;
    touch(c, p, len);
    bool mapped = pm_core_mapped(c, addr);
    if (p && !mapped)
        abort(); /* bytes for an address that is not mapped */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char *copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    pm_core core;
    pymac_error err;
    memset(&err, 0, sizeof err);
    pymac_status st = pm_core_open_image(&core, copy, size, "fuzz input", &err);
    if (st == PYMAC_OK) {
        /* the notes' strings must be terminated */
        for (size_t i = 0; i < core.nfiles; i++) {
            sink ^= (unsigned char)strlen(core.files[i].path);
            probe(&core, core.files[i].start, 1);
            probe(&core, core.files[i].end - 1, 1);
            probe(&core, core.files[i].end, 8);
        }
        if (core.psargs)
            sink ^= (unsigned char)strlen(core.psargs);
        if (core.execfn)
            sink ^= (unsigned char)strlen(core.execfn);
        for (size_t i = 0; i < core.nsegs; i++) {
            const pm_segment *sg = &core.segs[i];
            if (i && sg->vaddr < core.segs[i - 1].vaddr)
                abort(); /* segments must be sorted */
            probe(&core, sg->vaddr, 1);
            probe(&core, sg->vaddr, sg->filesz);
            probe(&core, sg->vaddr, sg->filesz + 1);
            probe(&core, sg->vaddr + sg->filesz - 1, 1);
            probe(&core, sg->vaddr + sg->filesz, 1);
            probe(&core, sg->vaddr + sg->filesz / 2, 16);
            probe(&core, sg->vaddr + sg->memsz - 1, 8);
            probe(&core, sg->vaddr - 1, 2);
            probe(&core, sg->vaddr + sg->memsz, 1);
        }
        /* addresses taken from the input itself */
        for (size_t off = 0; off + 8 <= size && off < 512; off += 8)
            probe(&core, pm_get_uint(data, (uint32_t)off, 8), 1 + (data[off] & 63));
    }
    pm_core_close(&core);
    free(copy);
    return 0;
}
