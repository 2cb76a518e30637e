/* Debug info from a debuginfod server. libdwfl's standard search already asks
 * the servers in DEBUGINFOD_URLS (through libdebuginfod) when no file on disk
 * has the DWARF; what it does not do is say so: it hands back the fetched
 * file without a name. This wrapper names it (the client's cache file) and
 * marks the module, so info can say "debuginfod (URL)"; and when nothing is
 * found, pm_debuginfod_explain asks the servers once more, to say why. */
#include <elfutils/debuginfod.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "debuginfod.h"
#include "pm.h"

/* The module user data of a module whose DWARF a server sent (libdwfl leaves
 * user data to its caller; pymac uses it for nothing else). */
static const char FROM_DEBUGINFOD[] = "debuginfod";

int pm_find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
                      const char *file_name, const char *debuglink_file,
                      GElf_Word debuglink_crc, char **debuginfo_file_name)
{
    int fd = dwfl_standard_find_debuginfo(mod, userdata, modname, base, file_name,
                                          debuglink_file, debuglink_crc, debuginfo_file_name);
    /* every other way it finds a file names it; debuginfod's does not */
    if (fd < 0 || *debuginfo_file_name || !pm_debuginfod_urls())
        return fd;
    char link[64], path[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n > 0) {
        path[n] = '\0';
        *debuginfo_file_name = strdup(path); /* libdwfl owns and frees it */
    }
    *userdata = (void *)FROM_DEBUGINFOD;
    return fd;
}

bool pm_debuginfod_sent(Dwfl_Module *mod)
{
    void **userdata = NULL;
    dwfl_module_info(mod, &userdata, NULL, NULL, NULL, NULL, NULL, NULL);
    return userdata && *userdata == FROM_DEBUGINFOD;
}

const char *pm_debuginfod_urls(void)
{
    const char *u = getenv("DEBUGINFOD_URLS");
    return u && *u ? u : NULL;
}

static int hex_value(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

pymac_status pm_debuginfod_explain(const char *path, const char *build_id, pymac_error *err)
{
    const char *urls = pm_debuginfod_urls();
    unsigned char id[64];
    size_t len = 0;
    for (; build_id[2 * len] && build_id[2 * len + 1] && len < sizeof id; len++) {
        int hi = hex_value(build_id[2 * len]), lo = hex_value(build_id[2 * len + 1]);
        if (hi < 0 || lo < 0)
            break;
        id[len] = (unsigned char)(hi << 4 | lo);
    }
    if (!urls || !len)
        return PYMAC_OK;
    debuginfod_client *c = debuginfod_begin();
    int rc = c ? debuginfod_find_debuginfo(c, id, (int)len, NULL) : -ENOMEM;
    if (c)
        debuginfod_end(c);
    if (rc >= 0) {
        /* it has it now (a server that came up): the file lacks DWARF */
        close(rc);
        return pm_fail(err, PYMAC_E_NO_DEBUGINFO, "run pymac again",
                       "no DWARF debug info for %s (build-id %s) on the first try, but "
                       "debuginfod (%s) has it now", path, build_id, urls);
    }
    if (rc == -ENOENT)
        return pm_fail(err, PYMAC_E_NO_DEBUGINFO,
                       "put the unstripped build (or its .debug file) where the server scans, "
                       "or pass --debug-dir DIR",
                       "no DWARF debug info for %s (build-id %s): debuginfod (%s) does not have "
                       "it (404)", path, build_id, urls);
    return pm_fail(err, PYMAC_E_NO_DEBUGINFO,
                   "check that the server runs and DEBUGINFOD_URLS names it, or pass "
                   "--debug-dir DIR",
                   "no DWARF debug info for %s (build-id %s): debuginfod (%s) cannot be "
                   "reached: %s", path, build_id, urls, strerror(-rc));
}
