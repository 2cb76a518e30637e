/* Debug info from debuginfod servers (DEBUGINFOD_URLS), through libdwfl. */
#ifndef PYMAC_DEBUGINFOD_H
#define PYMAC_DEBUGINFOD_H

#include "pm.h"

/* libdwfl's find_debuginfo callback: dwfl_standard_find_debuginfo, which asks
 * the servers last, plus a name for what a server sent and a mark on its module. */
int pm_find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
                      const char *file_name, const char *debuglink_file,
                      GElf_Word debuglink_crc, char **debuginfo_file_name);
/* Did a server send mod's DWARF? */
bool pm_debuginfod_sent(Dwfl_Module *mod);
/* DEBUGINFOD_URLS, or NULL when unset or empty. */
const char *pm_debuginfod_urls(void);
/* With DEBUGINFOD_URLS set, the no-debug-info error for the module at path
 * (build_id in hex) saying what the servers answered: not found (404) or
 * not reachable (why). PYMAC_OK, err untouched, when no server is set. */
pymac_status pm_debuginfod_explain(const char *path, const char *build_id, pymac_error *err);

#endif
