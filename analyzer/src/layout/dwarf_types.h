/* DWARF type lookups: the only place that knows how DWARF describes structs. */
#ifndef PYMAC_DWARF_TYPES_H
#define PYMAC_DWARF_TYPES_H

#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <stdbool.h>
#include <stdint.h>

#include "field.h"

typedef struct pm_dwarf {
    Dwfl_Module *mod;
    Dwarf *dwarf;
} pm_dwarf;

/* Strips typedefs and qualifiers in place. */
bool pm_dwarf_strip(Dwarf_Die *die);
/* Finds a struct, union, typedef or base type by name. `anchors` are run-time
 * addresses of functions whose CUs are searched first. */
bool pm_dwarf_find_type(pm_dwarf *dw, const char *name, const uint64_t *anchors, size_t nanchors,
                        Dwarf_Die *out);
/* Resolves a dotted member path ("mgmt.arenas") in a struct type. */
bool pm_dwarf_member(Dwarf_Die *type, const char *path, pm_field *out);
/* The same, and the member's (typedef-stripped) type in *mtype. */
bool pm_dwarf_member_typed(Dwarf_Die *type, const char *path, pm_field *out, Dwarf_Die *mtype);
int64_t pm_dwarf_sizeof(Dwarf_Die *type);
bool pm_dwarf_array_elem(Dwarf_Die *array, Dwarf_Die *elem, uint64_t *elem_size,
                         uint64_t *count);

#endif
