/* The load bias of an ELF file from the run-time address of one of its
 * symbols: for debuggers that know where a symbol is but not the bias. */
#include <fcntl.h>
#include <gelf.h>
#include <string.h>
#include <unistd.h>

#include "base.h"

pymac_status pymac_symbol_bias(const char *path, const char *symbol, uint64_t runtime_address,
                               uint64_t *bias, pymac_error *err)
{
    elf_version(EV_CURRENT);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return pm_fail(err, PYMAC_E_IO, NULL, "cannot open %s: %m", path);
    Elf *e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
    pymac_status st = pm_fail(err, PYMAC_E_NOT_PYTHON, NULL, "%s does not define %s", path,
                              symbol);
    Elf_Scn *scn = NULL;
    while (e && (scn = elf_nextscn(e, scn))) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM))
            continue;
        Elf_Data *d = elf_getdata(scn, NULL);
        size_t n = d && sh.sh_entsize ? sh.sh_size / sh.sh_entsize : 0;
        for (size_t i = 0; i < n; i++) {
            GElf_Sym sym;
            const char *nm;
            if (!gelf_getsym(d, (int)i, &sym) || sym.st_shndx == SHN_UNDEF ||
                !(nm = elf_strptr(e, sh.sh_link, sym.st_name)) || strcmp(nm, symbol) != 0)
                continue;
            *bias = runtime_address - sym.st_value;
            st = PYMAC_OK;
            goto done;
        }
    }
done:
    if (e)
        elf_end(e);
    close(fd);
    return st;
}
