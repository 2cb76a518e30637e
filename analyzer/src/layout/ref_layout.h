/* The referent decoders' layout: addresses of the types decoded and the
 * members read. referents.c resolves it from symbols and DWARF on first use
 * (into s->refs); a test may instead provide it. */
#ifndef PYMAC_REF_LAYOUT_H
#define PYMAC_REF_LAYOUT_H

#include "field.h"

typedef struct ref_layout {
    bool resolved;
    uint64_t t_tuple, t_list, t_dict, t_set, t_frozenset, t_function, t_module, t_cell, t_type;
    uint64_t t_float;
    pm_field tuple_items, list_items, list_allocated, set_table, set_mask;
    uint32_t set_entry_size;
    pm_field set_entry_key;
    /* dicts */
    pm_field ma_keys, ma_values, dk_size, dk_log2_size, dk_log2_index_bytes, dk_kind,
        dk_nentries, dk_indices, values_values, values_capacity;
    uint32_t entry_size, unicode_entry_size;
    pm_field entry_key, entry_value, uentry_key, uentry_value;
    /* objects with members */
    pm_field func_code, func_globals, func_defaults, func_closure, func_dict, func_kwdefaults;
    pm_field func_doc, func_name, func_qualname, func_module, func_annotations, func_builtins,
        func_typeparams;
    pm_field ht_name, ht_qualname, ht_slots, ht_module, tp_base, tp_subclasses;
    pm_field md_dict, md_name, cell_ref, tp_dict, tp_mro, tp_bases, tp_dictoffset, tp_weaklistoffset,
        ht_cached_keys;
    uint64_t set_dummy; /* the key of deleted set entries: a static sentinel */
} ref_layout;

#endif
