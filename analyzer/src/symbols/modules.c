/* Modules of the core (libdwfl): which ELF files were loaded where, their
 * build-ids, symbols and debug info; and reads of read-only pages that the
 * core left out, served from those files. */
#include <elfutils/libdwfl.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "debuginfod.h"
#include "pm.h"

static const char DEFAULT_DEBUGINFO_PATH[] = ":.debug:/usr/lib/debug";

static pymac_status build_search_path(pymac_session *s, pymac_error *err)
{
    char *sysroot_debug = pm_sysroot_path(s, "/usr/lib/debug");
    size_t len = sizeof DEFAULT_DEBUGINFO_PATH + 1 + (sysroot_debug ? strlen(sysroot_debug) + 1 : 0);
    for (size_t i = 0; i < s->n_debug_dirs; i++)
        len += strlen(s->debug_dirs[i]) + 1;
    /* A leading '-' tells libdwfl not to check .gnu_debuglink CRCs: build-ids decide. */
    char *p = malloc(len + 1);
    if (!p) {
        free(sysroot_debug);
        return pm_nomem(err);
    }
    strcpy(p, "-");
    for (size_t i = 0; i < s->n_debug_dirs; i++) {
        strcat(p, s->debug_dirs[i]);
        strcat(p, ":");
    }
    if (sysroot_debug) { /* the target's own debug files before the host's */
        strcat(p, sysroot_debug);
        strcat(p, ":");
        free(sysroot_debug);
    }
    strcat(p, DEFAULT_DEBUGINFO_PATH + 1);
    s->debuginfo_path = p;
    return PYMAC_OK;
}

bool pm_is_python_name(const char *name)
{
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    return strncmp(base, "libpython3", 10) == 0 || strncmp(base, "python3", 7) == 0;
}

static bool module_has_symbol(Dwfl_Module *mod, const char *name)
{
    int n = dwfl_module_getsymtab(mod);
    for (int i = 1; i < n; i++) {
        GElf_Sym sym;
        GElf_Addr addr;
        const char *nm = dwfl_module_getsym_info(mod, i, &sym, &addr, NULL, NULL, NULL);
        if (nm && strcmp(nm, name) == 0 && sym.st_shndx != SHN_UNDEF)
            return true;
    }
    return false;
}

struct pick {
    Dwfl_Module *named;  /* a libpython / python3 module */
    Dwfl_Module *any;    /* any module that defines _PyRuntime */
    int nmodules;
};

static int pick_module(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr start,
                       void *arg)
{
    (void)userdata;
    (void)start;
    struct pick *pk = arg;
    pk->nmodules++;
    if (!name)
        return DWARF_CB_OK;
    if (pm_is_python_name(name) && module_has_symbol(mod, "_PyRuntime")) {
        pk->named = mod;
        return DWARF_CB_ABORT;
    }
    if (!pk->any && module_has_symbol(mod, "_PyRuntime"))
        pk->any = mod;
    return DWARF_CB_OK;
}

static void hex_build_id(Dwfl_Module *mod, char *out, size_t cap)
{
    const unsigned char *bits;
    GElf_Addr vaddr;
    int n = dwfl_module_build_id(mod, &bits, &vaddr);
    out[0] = '\0';
    for (int i = 0; i < n && (size_t)(2 * i + 2) < cap; i++)
        snprintf(out + 2 * i, 3, "%02x", bits[i]);
}

/* Build-id of an ELF file on disk, hex; empty if none or unreadable. */
static void file_build_id(const char *path, char *out, size_t cap)
{
    out[0] = '\0';
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    Elf *e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
    Elf_Scn *scn = NULL;
    while (e && (scn = elf_nextscn(e, scn))) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
            continue;
        Elf_Data *d = elf_getdata(scn, NULL);
        size_t off = 0, no, dof;
        GElf_Nhdr nh;
        while (d && (off = gelf_getnote(d, off, &nh, &no, &dof)) > 0) {
            if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
                memcmp((char *)d->d_buf + no, "GNU", 4) == 0) {
                const unsigned char *b = (const unsigned char *)d->d_buf + dof;
                for (size_t i = 0; i < nh.n_descsz && 2 * i + 2 < cap; i++)
                    snprintf(out + 2 * i, 3, "%02x", b[i]);
                goto done;
            }
        }
    }
done:
    if (e)
        elf_end(e);
    close(fd);
}

/* The Debian package that ships debug info for a Debian python binary. */
static const char *debian_dbg_package(const char *path, char *buf, size_t cap)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    int minor;
    if (sscanf(base, "python3.%d", &minor) == 1 || sscanf(base, "libpython3.%d", &minor) == 1) {
        if (strncmp(path, "/usr/", 5) == 0) {
            snprintf(buf, cap, "python3.%d-dbg", minor);
            return buf;
        }
    }
    return NULL;
}

static const char *describe_debug_source(const char *main_file, const char *debug_file)
{
    if (!debug_file)
        return "the module itself"; /* libdwfl leaves debugfile unset then */
    if (main_file && strcmp(main_file, debug_file) == 0)
        return "the module itself";
    if (strstr(debug_file, "/.build-id/"))
        return "build-id directory";
    if (strstr(debug_file, "debuginfod"))
        return "debuginfod";
    return ".gnu_debuglink";
}

pymac_status pm_modules_open(pymac_session *s, pymac_error *err)
{
    int pid = pm_target_about_of(&s->target).pid;
    pymac_status st = pid ? pm_sysroot_for_pid(s, pid, err) : PYMAC_OK;
    if (!st)
        st = build_search_path(s, err);
    if (st)
        return st;
    Dwfl_Callbacks *cb = calloc(1, sizeof *cb);
    if (!cb)
        return pm_nomem(err);
    cb->find_elf = s->sysroot ? pm_sysroot_find_elf : s->target.ops->find_elf;
    cb->find_debuginfo = pm_find_debuginfo; /* the standard search, naming debuginfod's files */
    cb->debuginfo_path = &s->debuginfo_path;
    s->callbacks = cb;
    s->dwfl = dwfl_begin(cb);
    if (!s->dwfl)
        return pm_fail(err, PYMAC_E_INTERNAL, NULL, "libdwfl: %s", dwfl_errmsg(-1));
    dwfl_report_begin(s->dwfl);
    int n = s->target.ops->report_modules(&s->target, s->dwfl, s->exe_override);
    dwfl_report_end(s->dwfl, NULL, NULL);
    pm_sysroot_attach(s);
    if (n < 0)
        return pm_fail(err, PYMAC_E_CORRUPT, "the target may be damaged",
                       "cannot list the modules of the %s: %s",
                       strcmp(s->target.kind, "live") == 0 ? "process" : "core",
                       dwfl_errmsg(-1));

    struct pick pk = {0};
    dwfl_getmodules(s->dwfl, pick_module, &pk, 0);
    Dwfl_Module *mod = pk.named ? pk.named : pk.any;
    if (!mod)
        return pm_not_python(s, err);

    pm_module *py = &s->python;
    py->mod = mod;
    Dwarf_Addr low, high;
    const char *mainfile = NULL, *debugfile = NULL;
    py->name = dwfl_module_info(mod, NULL, &low, &high, NULL, NULL, &mainfile, NULL);
    py->low = low;
    py->high = high;
    hex_build_id(mod, py->build_id, sizeof py->build_id);
    Dwarf_Addr bias;
    py->elf = dwfl_module_getelf(mod, &bias);
    py->elf_bias = bias;
    dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, &mainfile, NULL);
    py->path = mainfile ? mainfile : py->name;

    Dwarf *dw = dwfl_module_getdwarf(mod, &bias);
    dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, &mainfile, &debugfile);
    if (!dw && py->build_id[0]) {
        /* a debug file under this build-id's name that is another build's
         * (another Python version's DWARF): libdwfl refuses it; say why */
        for (size_t i = 0; i <= s->n_debug_dirs; i++) {
            const char *dir = i < s->n_debug_dirs ? s->debug_dirs[i] : "/usr/lib/debug";
            char path[4096], have[129];
            snprintf(path, sizeof path, "%s/.build-id/%.2s/%s.debug", dir, py->build_id,
                     py->build_id + 2);
            file_build_id(path, have, sizeof have);
            if (have[0] && strcmp(have, py->build_id) != 0)
                return pm_fail(err, PYMAC_E_MISMATCH,
                               "remove it, or pass --debug-dir with the debug file of this build",
                               "the debug file %s is of another build (build-id %s), not of %s "
                               "(build-id %s)",
                               path, have, py->path, py->build_id);
        }
    }
    pymac_error said_err = {0};
    pymac_status said = dw ? PYMAC_OK : pm_debuginfod_explain(py->path, py->build_id, &said_err);
    if (said) {
        /* what the debuginfod servers answered: said if no layout table
         * stands in, else as a warning beside the table's answers */
        snprintf(py->no_dwarf_why, sizeof py->no_dwarf_why, "%s", said_err.message);
        snprintf(py->no_dwarf_hint, sizeof py->no_dwarf_hint, "%s", said_err.hint);
        py->no_dwarf_said = true;
        py->debug_source = "none";
        return PYMAC_OK;
    }
    if (!dw) {
        char pkg[64];
        const char *deb = debian_dbg_package(py->path, pkg, sizeof pkg);
        char hint[512];
        /* ROOT/usr/bin/python3.X with a ROOT/usr/lib/debug: a system root's copy */
        const char *usr = strstr(py->path, "/usr/");
        char rootdebug[4096];
        snprintf(rootdebug, sizeof rootdebug, "%.*s/usr/lib/debug",
                 usr ? (int)(usr - py->path) : 0, py->path);
        if (usr && usr != py->path && !s->sysroot && access(rootdebug, F_OK) == 0)
            snprintf(hint, sizeof hint,
                     "it lives in the system root %.*s: pass --sysroot %.*s to search its "
                     "usr/lib/debug too",
                     (int)(usr - py->path), py->path, (int)(usr - py->path), py->path);
        else if (deb)
            snprintf(hint, sizeof hint,
                     "install the matching debug symbols: apt-get install %s (build-id %s), or "
                     "pass --debug-dir DIR",
                     deb, py->build_id);
        else
            snprintf(hint, sizeof hint,
                     "build CPython with -g, or pass --debug-dir DIR holding "
                     ".build-id/%.2s/%s.debug",
                     py->build_id, py->build_id[0] ? py->build_id + 2 : "");
        /* not an error yet: a layout table may stand in (source_table.c),
         * which says this if none can */
        snprintf(py->no_dwarf_hint, sizeof py->no_dwarf_hint, "%s", hint);
        snprintf(py->no_dwarf_why, sizeof py->no_dwarf_why, "no DWARF debug info for %s (build-id %s)",
                 py->path, py->build_id[0] ? py->build_id : "unknown");
        py->debug_source = "none";
        return PYMAC_OK;
    }
    py->dwarf = dw;
    py->bias = bias;
    py->debug_path = debugfile ? debugfile : py->path;
    py->debug_source = pm_debuginfod_sent(mod) ? "debuginfod"
                                               : describe_debug_source(mainfile, debugfile);
    return PYMAC_OK;
}

pymac_status pm_explain_truncation(pymac_session *s, pymac_status st, bool at_open,
                                   pymac_error *err)
{
    pm_target_about c = pm_target_about_of(&s->target);
    if ((st != PYMAC_E_CORRUPT && st != PYMAC_E_NOT_PYTHON) || !c.size ||
        c.expected_size <= c.size || (!at_open && !c.missing_reads))
        return st;
    if (st == PYMAC_E_NOT_PYTHON) {
        /* only if an interpreter was mapped: a cut core of /bin/sh is still not Python */
        bool python = false;
        size_t nfiles;
        const pm_mapped_file *files = pm_target_files(&s->target, &nfiles);
        for (size_t i = 0; i < nfiles && !python; i++)
            python = pm_is_python_name(files[i].path);
        if (!python)
            return st;
    }
    /* what could not be read, when it says more than "no interpreter" */
    char what[sizeof err->message + 4] = "";
    if (err && st == PYMAC_E_CORRUPT)
        snprintf(what, sizeof what, " (%s)", err->message);
    return pm_fail(err, PYMAC_E_TRUNCATED,
                   "the core was cut short while being written (ulimit -c, a full disk, an "
                   "interrupted copy); take it again with room for all of it",
                   "core truncated: %zu of %llu bytes, and the interpreter's own state is in "
                   "the missing part%s",
                   (size_t)c.size, (unsigned long long)c.expected_size, what);
}

/* No module defines _PyRuntime: either this is not Python, or the interpreter
 * binary found on disk is not the one that ran (libdwfl drops a module whose
 * file has another build-id). Tell the two apart. */
pymac_status pm_not_python(pymac_session *s, pymac_error *err)
{
    size_t nfiles;
    const pm_mapped_file *files = pm_target_files(&s->target, &nfiles);
    for (size_t i = 0; i < nfiles; i++) {
        const char *path = files[i].path;
        if (!pm_is_python_name(path))
            continue;
        /* The module list holds the build-id found in the core's memory. */
        Dwfl_Module *mod = dwfl_addrmodule(s->dwfl, files[i].start);
        char want[129] = "", have[129];
        if (mod)
            hex_build_id(mod, want, sizeof want);
        char *rooted = pm_sysroot_path(s, path);
        const char *disk = s->exe_override && i == 0 ? s->exe_override
                           : rooted && access(rooted, F_OK) == 0 ? rooted
                                                                 : path;
        file_build_id(disk, have, sizeof have);
        if (want[0] && have[0] && strcmp(want, have) != 0) {
            pm_fail(err, PYMAC_E_MISMATCH,
                    "analyze the core on the machine that made it, or give the matching "
                    "binary with --exe / its directory with --debug-dir, or the root it ran in "
                    "with --sysroot",
                    "%s on disk (build-id %s) is not the binary the core ran (build-id %s)",
                    disk, have, want);
            free(rooted);
            return PYMAC_E_MISMATCH;
        }
        bool missing = !have[0] && access(disk, R_OK) != 0;
        free(rooted);
        if (missing && s->sysroot)
            return pm_fail(err, PYMAC_E_IO,
                           "give the root the program ran in (the directory holding its usr/, "
                           "e.g. a container's image) with --sysroot, or pass --exe",
                           "the interpreter %s the core ran is not under the sysroot %s "
                           "(nor on this machine)",
                           path, s->sysroot);
        if (missing && access(path, F_OK) != 0)
            return pm_fail(err, PYMAC_E_IO,
                           "if it ran in a container or chroot, pass that root with --sysroot DIR; "
                           "else analyze the core where the interpreter is installed, or pass --exe",
                           "the interpreter %s the core ran is not on this machine", path);
        if (missing)
            return pm_fail(err, PYMAC_E_IO, "check its permissions, or pass --exe",
                           "the interpreter %s the core ran cannot be read", path);
    }
    pm_target_about about = pm_target_about_of(&s->target);
    const char *what = about.execfn ? about.execfn : about.psargs ? about.psargs : "?";
    return pm_fail(err, PYMAC_E_NOT_PYTHON,
                   "pymac analyzes cores of CPython 3.8 and newer",
                   "no CPython interpreter in this core (program: %s)", what);
}

static bool suffix_matches(const char *sym, const char *name)
{
    size_t n = strlen(name);
    if (strncmp(sym, name, n) != 0)
        return false;
    /* "name", or a compiler-made local copy "name.0", "name.lto_priv.0"; not
     * a piece of a function split off its entry ("name.lto_priv.0.cold",
     * "name.part.0"), which would make two candidates of one */
    if (sym[n] == '\0')
        return true;
    return sym[n] == '.' && !strstr(sym + n, ".cold") && !strstr(sym + n, ".part.");
}

/* One pass over the symbol table. With a file hint, local symbols must follow
 * that file's STT_FILE entry; *matches counts the candidates. */
static pm_symbol lookup_pass(Dwfl_Module *mod, const char *name, const char *file_hint,
                             int *matches)
{
    pm_symbol out = {0};
    int n = dwfl_module_getsymtab(mod);
    const char *file = NULL;
    *matches = 0;
    for (int i = 1; i < n; i++) {
        GElf_Sym sym;
        GElf_Addr addr;
        const char *nm = dwfl_module_getsym_info(mod, i, &sym, &addr, NULL, NULL, NULL);
        if (!nm)
            continue;
        if (GELF_ST_TYPE(sym.st_info) == STT_FILE) {
            file = nm;
            continue;
        }
        if (sym.st_shndx == SHN_UNDEF || !suffix_matches(nm, name))
            continue;
        if (file_hint && GELF_ST_BIND(sym.st_info) == STB_LOCAL &&
            (!file || strcmp(file, file_hint) != 0))
            continue;
        bool exact = strcmp(nm, name) == 0;
        /* .symtab and .dynsym may both list a global: count addresses, not entries. */
        if (out.found && out.addr == addr)
            continue;
        (*matches)++;
        if (!out.found || exact) {
            out.addr = addr;
            out.size = sym.st_size;
            out.found = true;
        }
        if (exact)
            break; /* an exact name beats a suffixed copy */
    }
    return out;
}

static pm_symbol lookup_uncached(pymac_session *s, const char *name, const char *file_hint)
{
    int matches;
    pm_symbol out = lookup_pass(s->python.mod, name, file_hint, &matches);
    if (out.found || !file_hint)
        return out;
    /* LTO builds (Debian's) merge files, so STT_FILE no longer names the
     * source: accept a hint-less match only when it is the only one. */
    out = lookup_pass(s->python.mod, name, NULL, &matches);
    if (matches != 1)
        out.found = false;
    return out;
}

pm_symbol pm_symbol_lookup(pymac_session *s, const char *name, const char *file_hint)
{
    /* Each lookup scans the whole symbol table: remember the recent ones (the
     * walkers ask for the same few types on every census). */
    pm_symbol_memo *m = s->symbol_memo;
    const char *hint = file_hint ? file_hint : "";
    for (size_t i = 0; i < PM_SYMBOL_MEMO; i++)
        if (m[i].name && strcmp(m[i].name, name) == 0 && strcmp(m[i].hint, hint) == 0)
            return m[i].sym;
    pm_symbol out = lookup_uncached(s, name, file_hint);
    pm_symbol_memo *slot = &m[s->symbol_memo_next++ % PM_SYMBOL_MEMO];
    free(slot->name);
    slot->name = pm_asprintf("%s%c%s", name, '\0', hint);
    if (slot->name) {
        slot->hint = slot->name + strlen(name) + 1;
        slot->sym = out;
    }
    return out;
}

bool pm_module_file_read(pymac_session *s, uint64_t addr, void *buf, size_t len)
{
    Dwfl_Module *mod = s->dwfl ? dwfl_addrmodule(s->dwfl, addr) : NULL;
    if (!mod)
        return false;
    Dwarf_Addr bias;
    Elf *elf = dwfl_module_getelf(mod, &bias);
    size_t size;
    const char *raw = elf ? elf_rawfile(elf, &size) : NULL;
    size_t nph;
    if (!raw || elf_getphdrnum(elf, &nph) != 0)
        return false;
    uint64_t va = addr - bias;
    for (size_t i = 0; i < nph; i++) {
        GElf_Phdr ph;
        if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
            continue;
        /* Writable pages change at run time: the file's bytes would be stale. */
        if (ph.p_flags & PF_W)
            continue;
        if (va >= ph.p_vaddr && va - ph.p_vaddr < ph.p_filesz &&
            len <= ph.p_filesz - (va - ph.p_vaddr)) {
            uint64_t off = ph.p_offset + (va - ph.p_vaddr);
            if (off > size || len > size - off)
                return false;
            memcpy(buf, raw + off, len);
            return true;
        }
    }
    return false;
}

size_t pm_module_writable(pymac_session *s, uint64_t *pairs, size_t cap)
{
    Elf *elf = s->python.elf;
    size_t nph, n = 0;
    if (!elf || elf_getphdrnum(elf, &nph) != 0)
        return 0;
    for (size_t i = 0; i < nph && n < cap; i++) {
        GElf_Phdr ph;
        if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD || !(ph.p_flags & PF_W) ||
            ph.p_memsz == 0)
            continue;
        pairs[2 * n] = ph.p_vaddr + s->python.elf_bias;
        pairs[2 * n + 1] = pairs[2 * n] + ph.p_memsz;
        n++;
    }
    return n;
}
