/* The target: the memory pymac reads and what is known of its layout in the
 * address space. One ops table per kind (a core file: target_core.c; a live
 * process: target_proc.c; a debugger's inferior or any reader callback:
 * target_host.c); nothing above this layer knows which kind it reads, and
 * none touches a kind's own struct. A new kind (a compressed core, a
 * minidump) is a new file with its own ops table and open function. */
#ifndef PYMAC_TARGET_H
#define PYMAC_TARGET_H

#include <elfutils/libdwfl.h>

#include "base.h"

/* A mapped range of the address space. */
typedef struct pm_segment {
    uint64_t vaddr, memsz;  /* what the process had mapped */
    uint64_t offset, filesz; /* what the core holds of it */
    uint32_t flags;          /* PF_R | PF_W | PF_X (<elf.h>) */
    uint64_t missing;        /* bytes after filesz a truncated core lacks */
} pm_segment;

/* A file mapped into the address space. */
typedef struct pm_mapped_file {
    uint64_t start, end, file_offset;
    const char *path;
} pm_mapped_file;

/* A reader callback: all or nothing. */
typedef struct pm_reader {
    bool (*read)(void *ctx, uint64_t addr, void *buf, size_t len);
    void *ctx;
} pm_reader;

typedef struct pm_target pm_target;

/* libdwfl's find_elf callback (Dwfl_Callbacks.find_elf). */
typedef int pm_find_elf_fn(Dwfl_Module *mod, void **userdata, const char *modname,
                           Dwarf_Addr base, char **file_name, Elf **elfp);

/* What a target says about the program and its own completeness. */
typedef struct pm_target_about {
    const char *execfn;     /* the executable's path (AT_EXECFN, /proc/PID/exe), or NULL */
    const char *psargs;     /* its command line, or NULL */
    uint64_t size;          /* bytes the target file holds (0: not a file) */
    uint64_t expected_size; /* bytes it should hold: more than size when cut short */
    uint64_t missing_reads; /* reads so far into the part a cut-short core lacks */
    const char *compression;  /* a compressed core's format ("zstd", ...), or NULL */
    uint64_t compressed_size; /* and the compressed file's size */
    int pid;                  /* a live process's id, or 0 */
} pm_target_about;

typedef struct pm_target_ops {
    /* len bytes at addr, all or nothing (read-only file pages the target
     * lacks come from t->fill) */
    bool (*read)(pm_target *t, uint64_t addr, void *buf, size_t len);
    /* Optional: a pointer to len bytes at addr that pymac holds in its own
     * memory (a core's mapping), NULL when it does not hold all of them. */
    const void *(*view)(pm_target *t, uint64_t addr, size_t len);
    /* Optional: read, for reads pages apart (a pread() rather than a page
     * fault of a core's mapping). */
    bool (*read_sparse)(pm_target *t, uint64_t addr, void *buf, size_t len);
    /* Is addr in a mapped range? */
    bool (*mapped)(pm_target *t, uint64_t addr);
    /* The mapped ranges, sorted by address; the files mapped; the threads. */
    const pm_segment *(*ranges)(const pm_target *t, size_t *n);
    const pm_mapped_file *(*files)(const pm_target *t, size_t *n);
    unsigned (*threads)(const pm_target *t);
    /* Optional: each thread's saved stack pointer (a core's NT_PRSTATUS). */
    const uint64_t *(*thread_sps)(const pm_target *t, size_t *n);
    void (*about)(const pm_target *t, pm_target_about *out);
    /* Reports the loaded files to libdwfl (between dwfl_report_begin and
     * _end); -1 on failure. find_elf is the libdwfl callback that finds them. */
    int (*report_modules)(pm_target *t, Dwfl *dwfl, const char *exe_override);
    pm_find_elf_fn *find_elf;
    /* Optional: forget what was cached of the memory (it changed). */
    void (*flush)(pm_target *t);
    /* Optional: give back the pages of memory already read that can be read
     * again (a core's mapped windows), before a phase that reads none. */
    void (*trim)(pm_target *t);
    /* Optional, async-signal-safe: let a stopped process run again. */
    void (*release)(pm_target *t);
    void (*close)(pm_target *t);
} pm_target_ops;

struct pm_target {
    const pm_target_ops *ops; /* NULL: no target open */
    void *impl;               /* the kind's own state */
    const char *kind;         /* "gcore", "kernel", "live", "gdb", ... */
    uint64_t space_bytes;     /* bytes mapped: bounds list walks */
    /* The bytes of read-only file mappings a core left out, from the mapped
     * ELF files: set by the layer that has found those files (symbols). */
    pm_reader fill;
};

/* The kinds (each file's open function). */
pymac_status pm_target_open_core(pm_target *t, const char *path, pymac_progress_fn progress,
                                 void *progress_ctx, pymac_error *err);
/* Attaches to pid (mode: PYMAC_STOP, PYMAC_NO_STOP or PYMAC_HELD). */
pymac_status pm_target_open_pid(pm_target *t, int pid, int mode, pymac_error *err);
/* A debugger's inferior (pymac_open_host). */
pymac_status pm_target_open_host(pm_target *t, const pymac_host *host, pymac_error *err);
/* Memory behind a reader callback, with no map, files or modules (tests). */
pymac_status pm_target_open_reader(pm_target *t, pm_reader reader, const char *kind,
                                   uint64_t space_bytes, pymac_error *err);
/* Closes any kind (and resets t); a target never opened is fine. */
void pm_target_close(pm_target *t);

static inline void pm_target_trim(pm_target *t)
{
    if (t->ops && t->ops->trim)
        t->ops->trim(t);
}

static inline const pm_segment *pm_target_ranges(const pm_target *t, size_t *n)
{
    *n = 0;
    return t->ops ? t->ops->ranges(t, n) : NULL;
}

static inline const pm_mapped_file *pm_target_files(const pm_target *t, size_t *n)
{
    *n = 0;
    return t->ops ? t->ops->files(t, n) : NULL;
}

static inline unsigned pm_target_threads(const pm_target *t)
{
    return t->ops ? t->ops->threads(t) : 0;
}

static inline const uint64_t *pm_target_thread_sps(const pm_target *t, size_t *n)
{
    *n = 0;
    return t->ops && t->ops->thread_sps ? t->ops->thread_sps(t, n) : NULL;
}

static inline pm_target_about pm_target_about_of(const pm_target *t)
{
    pm_target_about a = {0};
    if (t->ops)
        t->ops->about(t, &a);
    return a;
}

/* The target's own bytes at addr (a core's mapping), or NULL. */
static inline const void *pm_target_view(pm_target *t, uint64_t addr, size_t len)
{
    return t->ops->view ? t->ops->view(t, addr, len) : NULL;
}

/* Is addr inside a file mapping? */
bool pm_target_in_file(const pm_target *t, uint64_t addr);

#endif
