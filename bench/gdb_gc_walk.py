# The baseline the census is measured against: a plain GDB Python script that
# walks the GC generation lists through gdb.Value and counts objects per type,
# the way one would write it without pymac. Run as:
#   gdb -batch -nx -x bench/gdb_gc_walk.py EXECUTABLE CORE
import collections

import gdb


def gc_state():
    runtime = gdb.parse_and_eval("_PyRuntime")
    try:
        return runtime["interpreters"]["main"].dereference()["gc"]
    except gdb.error:  # 3.8 keeps the GC state in _PyRuntime
        return runtime["gc"]


def walk():
    gchead = gdb.lookup_type("PyGC_Head")
    gchead_p = gchead.pointer()
    pyobject_p = gdb.lookup_type("PyObject").pointer()
    state = gc_state()
    counts = collections.Counter()
    for i in range(3):
        head = state["generations"][i]["head"]
        head_addr = int(head.address)
        node = int(head["_gc_next"]) & ~3
        while node != head_addr:
            g = gdb.Value(node).cast(gchead_p)
            op = gdb.Value(node + gchead.sizeof).cast(pyobject_p)
            counts[op["ob_type"]["tp_name"].string()] += 1
            node = int(g["_gc_next"]) & ~3
    print("gdb.Value walk: %d objects, %d types" % (sum(counts.values()), len(counts)))


walk()
