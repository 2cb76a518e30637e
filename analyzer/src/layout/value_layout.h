/* The value decoders' layout: addresses of the built-in types and the members
 * the decoders read. value.c resolves it from symbols and DWARF on first use
 * (into s->values); a test may instead provide it with resolved = true. */
#ifndef PYMAC_VALUE_LAYOUT_H
#define PYMAC_VALUE_LAYOUT_H

#include "field.h"

/* What sys.getsizeof of a dict reads (objects/dict_size.c). */
typedef struct pm_dict_size_layout {
    pm_field ma_keys, ma_values, dk_refcnt, dk_nentries, dk_usable;
    pm_field dk_size;                                   /* <= 3.10 */
    pm_field dk_log2_size, dk_log2_index_bytes, dk_kind; /* 3.11+ */
    uint32_t keys_size, entry_size, unicode_entry_size;
} pm_dict_size_layout;

typedef struct pm_value_layout {
    bool resolved;
    uint64_t t_str, t_int, t_bool, t_float, t_none, t_bytes, t_tuple, t_list, t_dict, t_set,
        t_frozenset, t_type, t_function, t_module, t_code;
    uint32_t ascii_size, compact_size;
    pm_field str_length, str_kind, str_compact, str_ascii, str_data;
    pm_field float_val;
    pm_field long_digits, long_tag; /* tag: ob_size (<=3.11) or lv_tag (3.12+) */
    pm_field bytes_sval, tuple_items, list_items, list_allocated, dict_used, set_used,
        set_mask, set_table, set_smalltable;
    uint32_t unicode_size;
    pm_field func_qualname, module_name, code_name, code_filename, code_firstlineno;
    pm_dict_size_layout dict_size;
} pm_value_layout;

#endif
