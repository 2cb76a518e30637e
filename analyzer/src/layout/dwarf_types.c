/* Finding CPython's types in DWARF and the offsets of their members by name. */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <stdlib.h>
#include <string.h>

#include "dwarf_types.h"

/* Strips typedefs and qualifiers. */
bool pm_dwarf_strip(Dwarf_Die *die)
{
    for (int depth = 0; depth < 32; depth++) {
        switch (dwarf_tag(die)) {
        case DW_TAG_typedef:
        case DW_TAG_const_type:
        case DW_TAG_volatile_type:
        case DW_TAG_restrict_type:
        case DW_TAG_atomic_type: {
            Dwarf_Attribute at;
            if (!dwarf_attr(die, DW_AT_type, &at) || !dwarf_formref_die(&at, die))
                return false;
            break;
        }
        default:
            return true;
        }
    }
    return false;
}

static bool is_wanted(Dwarf_Die *die, const char *name)
{
    int tag = dwarf_tag(die);
    if (tag != DW_TAG_structure_type && tag != DW_TAG_union_type && tag != DW_TAG_typedef &&
        tag != DW_TAG_base_type)
        return false;
    const char *nm = dwarf_diename(die);
    if (!nm || strcmp(nm, name) != 0 || dwarf_hasattr(die, DW_AT_declaration))
        return false;
    Dwarf_Die t = *die;
    return pm_dwarf_strip(&t) && !dwarf_hasattr(&t, DW_AT_declaration);
}

/* Searches the top level of one CU. */
static bool search_cu(Dwarf_Die *cu, const char *name, Dwarf_Die *out)
{
    Dwarf_Die child;
    if (dwarf_child(cu, &child) != 0)
        return false;
    do {
        if (is_wanted(&child, name)) {
            *out = child;
            return true;
        }
    } while (dwarf_siblingof(&child, &child) == 0);
    return false;
}

bool pm_dwarf_find_type(pm_dwarf *dw, const char *name, const uint64_t *anchors, size_t nanchors,
                        Dwarf_Die *out)
{
    /* The CU that defines an anchor function almost always declares the types
     * that function works with: look there first, and scan every CU only when
     * that fails. */
    for (size_t i = 0; i < nanchors; i++) {
        if (!anchors[i])
            continue;
        Dwarf_Addr bias;
        Dwarf_Die *cu = dwfl_module_addrdie(dw->mod, anchors[i], &bias);
        if (cu && search_cu(cu, name, out))
            return true;
    }
    Dwarf_Off off = 0, next;
    size_t hsize;
    while (dwarf_nextcu(dw->dwarf, off, &next, &hsize, NULL, NULL, NULL) == 0) {
        Dwarf_Die cu;
        if (dwarf_offdie(dw->dwarf, off + hsize, &cu) && search_cu(&cu, name, out))
            return true;
        off = next;
    }
    return false;
}

static bool member_type(Dwarf_Die *member, Dwarf_Die *type)
{
    Dwarf_Attribute at;
    return dwarf_attr(member, DW_AT_type, &at) && dwarf_formref_die(&at, type);
}

static bool member_offset(Dwarf_Die *member, int64_t *off)
{
    Dwarf_Attribute at;
    Dwarf_Word w;
    if (!dwarf_attr(member, DW_AT_data_member_location, &at)) {
        *off = 0; /* union members */
        return true;
    }
    if (dwarf_formudata(&at, &w) != 0)
        return false;
    *off = (int64_t)w;
    return true;
}

/* A bitfield's position in bits from the start of its struct, or -1. */
static int64_t bit_position(Dwarf_Die *member, int64_t byte_off, Dwarf_Word *bits)
{
    Dwarf_Attribute at;
    Dwarf_Word v, size;
    if (!dwarf_attr(member, DW_AT_bit_size, &at) || dwarf_formudata(&at, bits) != 0)
        return -1;
    if (dwarf_attr(member, DW_AT_data_bit_offset, &at) && dwarf_formudata(&at, &v) == 0)
        return (int64_t)v; /* DWARF 4+ */
    /* DWARF 2/3: bit offset counted from the storage unit's most significant bit */
    if (dwarf_attr(member, DW_AT_bit_offset, &at) && dwarf_formudata(&at, &v) == 0 &&
        dwarf_attr(member, DW_AT_byte_size, &at) && dwarf_formudata(&at, &size) == 0)
        return byte_off * 8 + (int64_t)(size * 8 - v - *bits);
    return -1;
}

/* Finds a direct member, looking through anonymous structs and unions.
 * *holder is the offset of the struct that directly holds it (bit offsets of
 * bitfields count from there). */
static bool find_member(Dwarf_Die *agg, const char *name, size_t namelen, Dwarf_Die *out,
                        int64_t *off, int64_t *holder, int depth)
{
    Dwarf_Die child;
    if (depth > 8 || dwarf_child(agg, &child) != 0)
        return false;
    do {
        if (dwarf_tag(&child) != DW_TAG_member)
            continue;
        const char *nm = dwarf_diename(&child);
        int64_t here;
        if (!member_offset(&child, &here))
            continue;
        if (nm && strlen(nm) == namelen && memcmp(nm, name, namelen) == 0) {
            *out = child;
            *off = here;
            *holder = 0;
            return true;
        }
        Dwarf_Die t;
        if (!nm && member_type(&child, &t) && pm_dwarf_strip(&t)) {
            int64_t inner, inner_holder;
            if (find_member(&t, name, namelen, out, &inner, &inner_holder, depth + 1)) {
                *off = here + inner;
                *holder = here + inner_holder;
                return true;
            }
        }
    } while (dwarf_siblingof(&child, &child) == 0);
    return false;
}

bool pm_dwarf_member_typed(Dwarf_Die *type, const char *path, pm_field *out, Dwarf_Die *mtype_out)
{
    Dwarf_Die cur = *type;
    int64_t total = 0, bitpos = -1, container = 0;
    const char *p = path;
    Dwarf_Die mtype;
    Dwarf_Word bits = 0;
    if (!pm_dwarf_strip(&cur))
        return false;
    for (;;) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        Dwarf_Die member;
        int64_t off, holder;
        if (!find_member(&cur, p, len, &member, &off, &holder, 0) ||
            !member_type(&member, &mtype))
            return false;
        /* bit_position counts from the holding struct; DWARF 2/3 style from
         * the member's own location, which it adds itself */
        bitpos = bit_position(&member, off - holder, &bits);
        container = total + holder;
        total += off;
        cur = mtype;
        if (!pm_dwarf_strip(&cur))
            return false;
        if (!dot)
            break;
        p = dot + 1;
    }
    Dwarf_Word size;
    if (dwarf_aggregate_size(&cur, &size) != 0) {
        if (dwarf_tag(&cur) != DW_TAG_array_type)
            return false;
        size = 0; /* a flexible array member: char dk_indices[] */
    }
    out->off = (int32_t)total;
    out->size = (uint32_t)size;
    out->bit_off = out->bit_size = 0;
    if (bitpos >= 0) {
        /* bit positions count from the start of the enclosing struct */
        int64_t abs_bits = container * 8 + bitpos;
        out->off = (int32_t)(abs_bits / 8);
        out->bit_off = (uint8_t)(abs_bits % 8);
        out->bit_size = (uint8_t)bits;
    }
    out->ok = true;
    if (mtype_out)
        *mtype_out = cur;
    return true;
}

bool pm_dwarf_member(Dwarf_Die *type, const char *path, pm_field *out)
{
    return pm_dwarf_member_typed(type, path, out, NULL);
}

int64_t pm_dwarf_sizeof(Dwarf_Die *type)
{
    Dwarf_Die t = *type;
    Dwarf_Word size;
    if (!pm_dwarf_strip(&t) || dwarf_aggregate_size(&t, &size) != 0)
        return -1;
    return (int64_t)size;
}

bool pm_dwarf_array_elem(Dwarf_Die *array, Dwarf_Die *elem, uint64_t *elem_size,
                         uint64_t *count)
{
    Dwarf_Die t = *array;
    if (!pm_dwarf_strip(&t) || dwarf_tag(&t) != DW_TAG_array_type || !member_type(&t, elem))
        return false;
    int64_t esz = pm_dwarf_sizeof(elem);
    Dwarf_Word total;
    if (esz <= 0)
        return false;
    *elem_size = (uint64_t)esz;
    /* a flexible array member (no bound: 3.15's tracemalloc frames[]) has
     * elements but no count */
    *count = dwarf_aggregate_size(&t, &total) == 0 ? total / (uint64_t)esz : 0;
    return true;
}

int pm_dwarf_each_member(Dwarf_Die *type,
                         bool (*fn)(void *ctx, const char *name, int64_t off, Dwarf_Die *mtype),
                         void *ctx)
{
    Dwarf_Die t = *type, child;
    if (!pm_dwarf_strip(&t) || dwarf_tag(&t) != DW_TAG_structure_type)
        return -1;
    int n = 0;
    if (dwarf_child(&t, &child) != 0)
        return 0;
    do {
        const char *nm = dwarf_diename(&child);
        int64_t off;
        Dwarf_Die mt;
        if (dwarf_tag(&child) != DW_TAG_member || !nm || !member_offset(&child, &off) ||
            !member_type(&child, &mt) || !pm_dwarf_strip(&mt))
            continue;
        n++;
        if (!fn(ctx, nm, off, &mt))
            break;
    } while (dwarf_siblingof(&child, &child) == 0);
    return n;
}
