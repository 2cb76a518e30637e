/* sys.getsizeof of a dict: CPython's _PyDict_SizeOf. The object, plus the
 * values array of a split table, plus the keys table when this dict alone
 * uses it (dk_refcnt 1: a split table's shared keys are the type's). Every
 * field is found by its DWARF name; the keys' index bytes are 1 << 
 * dk_log2_index_bytes on 3.11+, and dk_size entries of the narrowest
 * integer that holds dk_size before. */
#include "dict_size.h"
#include "layout.h"
#include "object.h"

enum { MAX_LOG2 = 40, DICT_KEYS_GENERAL = 0 /* enum dictkeys_kind, 3.11+ */ };

void pm_dict_size_resolve(pymac_session *s, pm_dict_size_layout *L)
{
    const struct {
        const char *type, *member;
        pm_field *out;
    } fields[] = {
        {"PyDictObject", "ma_keys", &L->ma_keys},
        {"PyDictObject", "ma_values", &L->ma_values},
        {"PyDictKeysObject", "dk_refcnt", &L->dk_refcnt},
        {"PyDictKeysObject", "dk_nentries", &L->dk_nentries},
        {"PyDictKeysObject", "dk_usable", &L->dk_usable},
        {"PyDictKeysObject", "dk_size", &L->dk_size},
        {"PyDictKeysObject", "dk_log2_size", &L->dk_log2_size},
        {"PyDictKeysObject", "dk_log2_index_bytes", &L->dk_log2_index_bytes},
        {"PyDictKeysObject", "dk_kind", &L->dk_kind},
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        pm_lookup_field(s, fields[i].type, fields[i].member, fields[i].out);
    L->keys_size = pm_lookup_size(s, "PyDictKeysObject");
    L->entry_size = pm_lookup_size(s, "PyDictKeyEntry");
    L->unicode_entry_size = pm_lookup_size(s, "PyDictUnicodeEntry");
}

uint64_t pm_dict_sizeof(pymac_session *s, const pm_dict_size_layout *L, const pm_object *o)
{
    uint64_t keys, values = 0, refcnt, nentries, usable, size;
    uint64_t res = o->type->basicsize + o->type->presize;
    if (!L->keys_size || !pm_read_field(s, o->addr, &L->ma_keys, &keys) || !keys ||
        !pm_read_field(s, o->addr, &L->ma_values, &values) || !pm_read_field(s, keys, &L->dk_refcnt, &refcnt) ||
        !pm_read_field(s, keys, &L->dk_nentries, &nentries) || !pm_read_field(s, keys, &L->dk_usable, &usable))
        return 0;
    uint64_t log2, log2_index;
    if (pm_read_field(s, keys, &L->dk_log2_size, &log2)) { /* 3.11+ */
        uint64_t kind;
        if (log2 > MAX_LOG2 || !pm_read_field(s, keys, &L->dk_log2_index_bytes, &log2_index) ||
            log2_index > MAX_LOG2 + 3 || !pm_read_field(s, keys, &L->dk_kind, &kind))
            return 0;
        size = 1ull << log2;
        uint64_t entry = kind == DICT_KEYS_GENERAL ? L->entry_size : L->unicode_entry_size;
        if (!entry)
            return 0;
        if (values) /* shared_keys_usable_size */
            res += ((uint64_t)(int64_t)nentries + (uint64_t)(int64_t)usable) * 8;
        if (refcnt == 1)
            res += L->keys_size + (1ull << log2_index) + (size << 1) / 3 * entry;
        return res;
    }
    if (!L->entry_size || !pm_read_field(s, keys, &L->dk_size, &size) || size > (1ull << MAX_LOG2))
        return 0;
    uint64_t usable_fraction = (size << 1) / 3;
    if (values)
        res += usable_fraction * 8;
    if (refcnt == 1) {
        uint64_t ix = size <= 0xff ? 1 : size <= 0xffff ? 2 : size <= 0xffffffffull ? 4 : 8;
        res += L->keys_size + ix * size + L->entry_size * usable_fraction;
    }
    return res;
}
