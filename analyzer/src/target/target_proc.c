/* A running process as the target (pm_target_open_pid).
 *
 * For a consistent snapshot every thread is stopped with PTRACE_SEIZE +
 * PTRACE_INTERRUPT (no signal is sent, so the program cannot observe one)
 * and resumed by PTRACE_DETACH when the session closes. If pymac dies, even
 * by SIGKILL, the kernel detaches its tracees and they run on: a seized
 * thread is never left stopped. Memory is read with process_vm_readv, or
 * /proc/PID/mem where that is refused. */
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "target_live.h"

enum { MAX_THREADS = 65536, ATTACH_ROUNDS = 8 };

struct pm_proc {
    pm_live live;                /* first: the live ops read through it */
    pid_t pid;
    int mem_fd;                  /* /proc/PID/mem, the fallback reader */
    bool use_vm_readv;
    bool was_stopped;            /* in a job-control stop before we came */
    pid_t *tids;                 /* threads we seized */
    volatile size_t ntids;
    size_t cap;
};

static bool proc_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
    struct pm_proc *p = ctx;
    if (p->use_vm_readv) {
        struct iovec local = {buf, len}, remote = {(void *)(uintptr_t)addr, len};
        ssize_t n = process_vm_readv(p->pid, &local, 1, &remote, 1, 0);
        if (n == (ssize_t)len)
            return true;
        if (n < 0 && (errno == ENOSYS || errno == EPERM))
            p->use_vm_readv = false; /* e.g. a seccomp sandbox: try /proc/PID/mem */
        else
            return false;
    }
    if (p->mem_fd < 0)
        return false;
    return pread(p->mem_fd, buf, len, (off_t)addr) == (ssize_t)len;
}

/* /proc/PID/maps -> segments (no bytes: filesz 0) and mapped files. */
static pymac_status read_maps(pm_target *t, pm_core *c, pid_t pid, pymac_error *err)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return pm_fail(err, PYMAC_E_IO, "check the process id", "cannot read %s: %m", path);
    size_t cap = 0, strcap = 0, strlen_total = 0;
    char line[4096];
    char *names = NULL;
    size_t *name_off = NULL, name_cap = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long long lo, hi, off;
        char perms[8];
        int consumed = 0;
        if (sscanf(line, "%llx-%llx %7s %llx %*s %*s%n", &lo, &hi, perms, &off, &consumed) < 4)
            continue;
        if (c->nsegs == cap) {
            cap = cap ? cap * 2 : 256;
            pm_segment *g = realloc(c->segs, cap * sizeof *g);
            if (!g)
                goto nomem;
            c->segs = g;
        }
        pm_segment *sg = &c->segs[c->nsegs++];
        memset(sg, 0, sizeof *sg);
        sg->vaddr = lo;
        sg->memsz = hi - lo;
        sg->flags = (perms[0] == 'r' ? PF_R : 0) | (perms[1] == 'w' ? PF_W : 0) |
                    (perms[2] == 'x' ? PF_X : 0);
        t->space_bytes += hi - lo;
        char *name = line + consumed;
        while (*name == ' ')
            name++;
        name[strcspn(name, "\n")] = '\0';
        if (name[0] != '/')
            continue;
        size_t n = strlen(name) + 1;
        if (strlen_total + n > strcap) {
            strcap = (strlen_total + n) * 2;
            char *g = realloc(names, strcap);
            if (!g)
                goto nomem;
            names = g;
        }
        if (c->nfiles == name_cap) {
            name_cap = name_cap ? name_cap * 2 : 64;
            pm_mapped_file *g = realloc(c->files, name_cap * sizeof *g);
            size_t *o = realloc(name_off, name_cap * sizeof *o);
            if (g)
                c->files = g;
            if (o)
                name_off = o;
            if (!g || !o)
                goto nomem;
        }
        memcpy(names + strlen_total, name, n);
        c->files[c->nfiles] = (pm_mapped_file){lo, hi, off, NULL};
        name_off[c->nfiles++] = strlen_total;
        strlen_total += n;
    }
    fclose(f);
    for (size_t i = 0; i < c->nfiles; i++)
        c->files[i].path = names + name_off[i];
    c->file_strings = names;
    free(name_off);
    if (!c->nsegs)
        return pm_fail(err, PYMAC_E_IO, NULL, "process %d has no memory mappings", (int)pid);
    return PYMAC_OK;
nomem:
    fclose(f);
    free(names);
    free(name_off);
    return pm_nomem(err);
}

/* Why PTRACE_SEIZE failed, and what fixes it. */
static pymac_status attach_error(pid_t pid, int e, pymac_error *err)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "re");
    int tracer = 0;
    unsigned uid = 0;
    bool have_uid = false;
    while (f && fgets(line, sizeof line, f)) {
        sscanf(line, "TracerPid: %d", &tracer);
        if (sscanf(line, "Uid: %*u %u", &uid) == 1)
            have_uid = true;
    }
    if (f)
        fclose(f);
    if (tracer > 0)
        return pm_fail(err, PYMAC_E_IO,
                       "detach the other debugger first, or use --no-stop to read without stopping",
                       "process %d is already traced by process %d", (int)pid, tracer);
    if (e == EPERM && have_uid && uid != (unsigned)geteuid() && geteuid() != 0)
        return pm_fail(err, PYMAC_E_IO, "run pymac as that user, or as root",
                       "process %d belongs to uid %u, not to you (uid %u)", (int)pid, uid,
                       (unsigned)geteuid());
    int scope = -1;
    f = fopen("/proc/sys/kernel/yama/ptrace_scope", "re");
    if (f) {
        if (fscanf(f, "%d", &scope) != 1)
            scope = -1;
        fclose(f);
    }
    if (e == EPERM && scope > 0)
        return pm_fail(err, PYMAC_E_IO,
                       "run as root, or allow it: sysctl kernel.yama.ptrace_scope=0",
                       "the kernel refuses to let pymac trace process %d (yama ptrace_scope=%d)",
                       (int)pid, scope);
    errno = e;
    return pm_fail(err, e == ESRCH ? PYMAC_E_IO : PYMAC_E_IO,
                   e == ESRCH ? "check the process id" : "run pymac with the rights to trace it",
                   "cannot stop process %d: %m", (int)pid);
}

static bool seized(const struct pm_proc *p, pid_t tid)
{
    for (size_t i = 0; i < p->ntids; i++)
        if (p->tids[i] == tid)
            return true;
    return false;
}

/* Seizes and interrupts every thread; repeats while new threads appear. */
static pymac_status stop_all(struct pm_proc *p, pymac_error *err)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", (int)p->pid);
    for (int round = 0; round < ATTACH_ROUNDS; round++) {
        DIR *d = opendir(path);
        if (!d)
            return pm_fail(err, PYMAC_E_IO, "check the process id", "no process %d",
                           (int)p->pid);
        bool grew = false;
        struct dirent *de;
        while ((de = readdir(d))) {
            pid_t tid = (pid_t)atoi(de->d_name);
            if (tid <= 0 || seized(p, tid))
                continue;
            if (p->ntids == p->cap) {
                size_t cap = p->cap ? p->cap * 2 : 16;
                pid_t *t = cap <= MAX_THREADS ? realloc(p->tids, cap * sizeof *t) : NULL;
                if (!t) {
                    closedir(d);
                    return pm_fail(err, PYMAC_E_NOMEM, NULL, "too many threads");
                }
                p->tids = t;
                p->cap = cap;
            }
            if (ptrace(PTRACE_SEIZE, tid, 0, 0) != 0) {
                int e = errno;
                if (e == ESRCH)
                    continue; /* the thread exited meanwhile */
                closedir(d);
                return attach_error(p->pid, e, err);
            }
            p->tids[p->ntids++] = tid;
            grew = true;
            ptrace(PTRACE_INTERRUPT, tid, 0, 0);
            int status;
            while (waitpid(tid, &status, __WALL) < 0 && errno == EINTR)
                ;
        }
        closedir(d);
        if (!grew)
            return PYMAC_OK;
    }
    return pm_fail(err, PYMAC_E_IO, "try again, or use --no-stop",
                   "process %d keeps starting threads; could not stop them all", (int)p->pid);
}

static void pm_proc_release(struct pm_proc *p);

static void proc_release(pm_target *t)
{
    pm_proc_release(t->impl);
}

static void proc_close(pm_target *t)
{
    struct pm_proc *p = t->impl;
    pm_proc_release(p);
    if (p->mem_fd >= 0)
        close(p->mem_fd);
    pm_live_release(&p->live);
    free(p->tids);
    free(p);
}

static int proc_report_modules(pm_target *t, Dwfl *dwfl, const char *exe_override)
{
    (void)exe_override;
    return dwfl_linux_proc_report(dwfl, ((struct pm_proc *)t->impl)->pid) == 0 ? 1 : -1;
}

static const pm_target_ops proc_ops = {
    .read = pm_live_read,
    .mapped = pm_live_mapped,
    .ranges = pm_live_ranges,
    .files = pm_live_files,
    .threads = pm_live_threads,
    .about = pm_live_about,
    .report_modules = proc_report_modules,
    .find_elf = dwfl_linux_proc_find_elf,
    .flush = pm_live_flush,
    .release = proc_release,
    .close = proc_close,
};

pymac_status pm_target_open_pid(pm_target *t, int pid, int mode, pymac_error *err)
{
    struct pm_proc *p = calloc(1, sizeof *p);
    if (!p)
        return pm_nomem(err);
    p->live.map.fd = -1;
    p->pid = pid;
    p->mem_fd = -1;
    p->use_vm_readv = true;
    t->ops = &proc_ops;
    t->impl = p;
    char path[64];
    snprintf(path, sizeof path, "/proc/%d", pid);
    struct stat st;
    if (pid <= 0 || stat(path, &st) != 0)
        return pm_fail(err, PYMAC_E_IO, "check the process id", "no process %d", pid);
    if (pid == getpid())
        return pm_fail(err, PYMAC_E_USAGE, NULL, "pymac cannot stop itself");
    /* a process stopped by SIGSTOP before we came stays stopped after */
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *sf = fopen(path, "re");
    char stat[512];
    if (sf && fgets(stat, sizeof stat, sf)) {
        const char *rp = strrchr(stat, ')');
        p->was_stopped = rp && rp[1] == ' ' && rp[2] == 'T';
    }
    if (sf)
        fclose(sf);
    if (mode == PYMAC_STOP) {
        pymac_status rc = stop_all(p, err);
        if (rc)
            return rc;
    }
    pm_core *map = &p->live.map;
    map->nthreads = 0;
    snprintf(path, sizeof path, "/proc/%d/task", pid);
    DIR *d = opendir(path);
    for (struct dirent *de; d && (de = readdir(d));)
        if (atoi(de->d_name) > 0)
            map->nthreads++;
    if (d)
        closedir(d);
    pymac_status rc = read_maps(t, map, pid, err);
    if (rc)
        return rc;
    snprintf(path, sizeof path, "/proc/%d/mem", pid);
    p->mem_fd = open(path, O_RDONLY | O_CLOEXEC);
    p->live.reader = (pm_reader){proc_read, p};
    t->kind = "live";
    char exe[64], buf[4096];
    snprintf(exe, sizeof exe, "/proc/%d/exe", pid);
    ssize_t n = readlink(exe, buf, sizeof buf - 1);
    if (n > 0) {
        buf[n] = '\0';
        map->execfn = pm_strdup(buf);
    }
    return PYMAC_OK;
}

/* Async-signal-safe: only ptrace(2) on a fixed array. */
static void pm_proc_release(struct pm_proc *p)
{
    if (!p)
        return;
    size_t n = p->ntids;
    p->ntids = 0;
    /* detaching the leader with SIGSTOP puts a stopped process back in its
     * job-control stop */
    for (size_t i = 0; i < n; i++)
        ptrace(PTRACE_DETACH, p->tids[i], 0,
               (void *)(uintptr_t)(p->was_stopped && p->tids[i] == p->pid ? SIGSTOP : 0));
}
