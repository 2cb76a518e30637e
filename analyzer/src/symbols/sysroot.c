/* --sysroot: the files a core or process names (NT_FILE, /proc/PID/maps) looked
 * up under another root first, as GDB's `set sysroot` does: a core taken in a
 * container names the container's /usr/bin/python3, which on the host is the
 * container's image unpacked somewhere.  A live process whose root is not ours
 * (chroot, another mount namespace) gets /proc/PID/root as its sysroot.
 * libdwfl (0.188) opens NT_FILE paths itself while it reports the modules, and
 * keeps a file only when its build-id matches the core's; the modules it could
 * not match come to pm_sysroot_find_elf, which tries the sysroot first. */
#include <elfutils/libdwfl.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pm.h"

char *pm_sysroot_path(const pymac_session *s, const char *path)
{
    if (!s->sysroot || !path || path[0] != '/')
        return NULL;
    size_t n = strlen(s->sysroot);
    while (n > 1 && s->sysroot[n - 1] == '/')
        n--; /* "ROOT/" + "/usr/..." */
    return pm_asprintf("%.*s%s", (int)n, s->sysroot, path);
}

/* Does the ELF file open on fd carry the build-id bits? (No build-id known: yes.) */
static bool build_id_matches(int fd, const unsigned char *want, int nwant)
{
    if (nwant <= 0)
        return true;
    Elf *e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
    bool ok = false;
    Elf_Scn *scn = NULL;
    while (e && !ok && (scn = elf_nextscn(e, scn))) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
            continue;
        Elf_Data *d = elf_getdata(scn, NULL);
        size_t off = 0, no, dof;
        GElf_Nhdr nh;
        while (d && (off = gelf_getnote(d, off, &nh, &no, &dof)) > 0) {
            if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
                memcmp((char *)d->d_buf + no, "GNU", 4) == 0) {
                ok = nh.n_descsz == (size_t)nwant &&
                     memcmp((char *)d->d_buf + dof, want, (size_t)nwant) == 0;
                break;
            }
        }
    }
    if (e)
        elf_end(e);
    return ok;
}

int pm_sysroot_find_elf(Dwfl_Module *mod, void **userdata, const char *modname,
                        Dwarf_Addr base, char **file_name, Elf **elfp)
{
    pymac_session *s = userdata ? *userdata : NULL;
    pm_target_about about = s ? pm_target_about_of(&s->target) : (pm_target_about){0};
    size_t nfiles = 0;
    const pm_mapped_file *files = s ? pm_target_files(&s->target, &nfiles) : NULL;
    /* --exe names the executable of a core: libdwfl's own callback opens it */
    bool exe = s && !about.pid && s->exe_override &&
               ((about.execfn && strcmp(modname, about.execfn) == 0) ||
                (nfiles && strcmp(modname, files[0].path) == 0));
    if (s && !exe) {
        char *path = pm_sysroot_path(s, modname);
        int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
        const unsigned char *bits;
        GElf_Addr vaddr;
        if (fd >= 0 && build_id_matches(fd, bits, dwfl_module_build_id(mod, &bits, &vaddr))) {
            *file_name = path;
            *elfp = NULL; /* libdwfl reads the ELF from fd (and checks the build-id again) */
            return fd;
        }
        if (fd >= 0)
            close(fd);
        free(path);
    }
    if (s && s->target.ops)
        return s->target.ops->find_elf(mod, userdata, modname, base, file_name, elfp);
    return dwfl_build_id_find_elf(mod, userdata, modname, base, file_name, elfp);
}

static int attach(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr start,
                  void *arg)
{
    (void)mod;
    (void)name;
    (void)start;
    *userdata = arg;
    return DWARF_CB_OK;
}

void pm_sysroot_attach(pymac_session *s)
{
    if (s->sysroot)
        dwfl_getmodules(s->dwfl, attach, s, 0);
}

pymac_status pm_sysroot_for_pid(pymac_session *s, int pid, pymac_error *err)
{
    if (s->sysroot)
        return PYMAC_OK;
    char root[64];
    snprintf(root, sizeof root, "/proc/%d/root", pid);
    struct stat theirs, ours;
    if (stat(root, &theirs) != 0 || stat("/", &ours) != 0)
        return PYMAC_OK; /* not ours to see: the plain paths, as before */
    if (theirs.st_dev == ours.st_dev && theirs.st_ino == ours.st_ino)
        return PYMAC_OK;
    s->sysroot = pm_strdup(root);
    if (!s->sysroot)
        return pm_nomem(err);
    return PYMAC_OK;
}
