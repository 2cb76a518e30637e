/* tracemalloc's tables are _Py_hashtable_t: an array of buckets, each a
 * singly linked chain of entries (3.8: key and data inline after the entry
 * header; 3.9+: key and value pointers). One walk reads every entry of one,
 * bounded by the count the table keeps: the reader of the traces
 * (tracemalloc_read.c) and the stripped finder's cross-checks
 * (tracemalloc_find.c) both walk with it. */
#include "layout.h"
#include "tracemalloc.h"

pymac_status pm_tm_table_walk(pymac_session *s, const pm_tm_layout *T, uint64_t addr,
                              pm_tm_entry_fn fn, void *ctx)
{
    uint64_t nbuckets, nentries, buckets, key_size = 8;
    if (!pm_read_field(s, addr, &T->ht_nbuckets, &nbuckets) ||
        !pm_read_field(s, addr, &T->ht_nentries, &nentries) ||
        !pm_read_field(s, addr, &T->ht_buckets, &buckets) ||
        (T->inline_entries && !pm_read_field(s, addr, &T->ht_key_size, &key_size))) {
        pm_warn(s, "tracemalloc: the hash table at 0x%llx cannot be read",
                (unsigned long long)addr);
        return PYMAC_PARTIAL;
    }
    if (T->inline_entries && key_size != 8 && key_size != T->pointer_key_size) {
        pm_warn(s, "tracemalloc: the hash table at 0x%llx has keys of %llu bytes",
                (unsigned long long)addr, (unsigned long long)key_size);
        return PYMAC_PARTIAL;
    }
    if (nentries == 0)
        return PYMAC_OK;
    /* as many buckets and entries as the memory can hold, no more */
    if (!pm_span_readable(s, buckets, nbuckets, T->bucket_size) ||
        nentries > s->target.space_bytes / T->entry_size) {
        pm_warn(s, "tracemalloc: the hash table at 0x%llx claims %llu buckets at 0x%llx and %llu "
                "entries: more than memory holds", (unsigned long long)addr,
                (unsigned long long)nbuckets, (unsigned long long)buckets,
                (unsigned long long)nentries);
        return PYMAC_PARTIAL;
    }
    uint64_t seen = 0;
    bool damaged = false;
    for (uint64_t b = 0; b < nbuckets; b++) {
        uint64_t e;
        if (!pm_read_u64(s, buckets + b * T->bucket_size, &e)) {
            if (!damaged)
                pm_warn(s, "tracemalloc: bucket %llu of the hash table at 0x%llx cannot be read",
                        (unsigned long long)b, (unsigned long long)addr);
            damaged = true;
            continue;
        }
        while (e) {
            if (++seen > nentries) { /* a looping or foreign chain */
                pm_warn(s, "tracemalloc: the hash table at 0x%llx has more entries than its "
                        "count of %llu (a looping chain in bucket %llu): the rest is left out",
                        (unsigned long long)addr, (unsigned long long)nentries,
                        (unsigned long long)b);
                return PYMAC_PARTIAL;
            }
            uint64_t key = 0, value, next, domain = 0;
            bool ok = pm_read_field(s, e, &T->e_next, &next);
            if (T->inline_entries) {
                uint64_t k = e + T->entry_size;
                if (key_size == 8) {
                    ok = ok && pm_read_u64(s, k, &key);
                } else {
                    ok = ok && pm_read_field(s, k, &T->pk_ptr, &key) &&
                         pm_read_field(s, k, &T->pk_domain, &domain);
                }
                value = k + key_size;
            } else {
                ok = ok && pm_read_field(s, e, &T->e_key, &key) &&
                     pm_read_field(s, e, &T->e_value, &value);
            }
            if (!ok) {
                pm_warn(s, "tracemalloc: an entry of the hash table at 0x%llx at 0x%llx cannot be "
                        "read: the rest of its bucket is left out", (unsigned long long)addr,
                        (unsigned long long)e);
                damaged = true;
                break;
            }
            if (!fn(ctx, key, (uint32_t)domain, value))
                return PYMAC_OK;
            e = next;
        }
    }
    if (!damaged && seen != nentries) {
        pm_warn(s, "tracemalloc: the hash table at 0x%llx holds %llu entries, not the %llu it "
                "counts", (unsigned long long)addr, (unsigned long long)seen,
                (unsigned long long)nentries);
        return PYMAC_PARTIAL;
    }
    return damaged ? PYMAC_PARTIAL : PYMAC_OK;
}
