/* An ELF core file (target_core.c): its parse, for the core target and the
 * tests; everything above the target layer reads it through pm_target. */
#ifndef PYMAC_TARGET_CORE_H
#define PYMAC_TARGET_CORE_H

#include <libelf.h>

#include "target.h"

typedef struct pm_core {
    int fd;
    const unsigned char *image; /* the whole core, mmapped (or the caller's buffer) */
    bool owns_image;            /* image is our mapping, to unmap on close */
    size_t size;
    Elf *elf;
    pm_segment *segs;          /* PT_LOAD, sorted by vaddr */
    size_t nsegs;
    pm_mapped_file *files;     /* NT_FILE */
    size_t nfiles;
    char *file_strings;        /* storage for files[].path */
    unsigned nthreads;         /* NT_PRSTATUS notes */
    char *psargs;              /* NT_PRPSINFO command line */
    char *execfn;              /* AT_EXECFN, when the auxv note has it */
    bool kernel_core;          /* read-only file pages left out */
    const pm_segment *last;    /* segment of the last read: a lookup cache */
    struct pm_resident *resident; /* bound on the image's resident pages, or NULL */
    uint64_t expected_size;    /* bytes the program headers say the core has */
    uint64_t missing_reads;    /* reads that fell into the missing tail of a truncated core */
} pm_core;

pymac_status pm_core_open(pm_core *core, const char *path, pymac_error *err);
/* The same parse of a core already in memory (size bytes at image, which must
 * outlive the core, and which libelf may rewrite in place if it is not native
 * x86-64: pass a private copy); name is for messages. For tests and fuzzing. */
pymac_status pm_core_open_image(pm_core *core, const void *image, size_t size, const char *name,
                                pymac_error *err);
void pm_core_close(pm_core *core);
void pm_core_sort_segments(pm_core *core);
/* The core's own bytes at addr (len of them), or NULL if the core lacks any of them. */
const void *pm_core_ptr(const pm_core *core, uint64_t addr, size_t len);
/* Copies len bytes at addr out of the core file with pread(), not through
 * the mapping: for reads a page apart, where a page fault per read costs more
 * than a system call. False if the core lacks any of them. */
bool pm_core_copy(const pm_core *core, uint64_t addr, void *buf, size_t len);
/* True when some PT_LOAD covers addr (even if the core left the page out). */
bool pm_core_mapped(const pm_core *core, uint64_t addr);

/* A target over a parsed core the caller owns (tests, fuzzing): closing the
 * target leaves the core alone. */
void pm_target_of_core(pm_target *t, pm_core *core);

#endif
