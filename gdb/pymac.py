# pymac commands for GDB: `pymac <view>` on whatever GDB has loaded (a core,
# a live process, a gdbserver target). Thin: it hands libpymac a reader for
# the inferior's memory and the interpreter module's path and load bias, and
# prints what the library renders. Load with `source /path/to/pymac.py`.
import contextlib
import ctypes
import ctypes.util
import os

import gdb

# ---- the library --------------------------------------------------------------

_HERE = os.path.dirname(os.path.abspath(__file__))


def _library_candidates():
    env = os.environ.get("PYMAC_LIBRARY")
    if env:
        yield env
    # installed: PREFIX/share/pymac/gdb/pymac.py beside PREFIX/lib/libpymac.so.0
    prefix = os.path.dirname(os.path.dirname(os.path.dirname(_HERE)))
    # run from a source tree: the library of its build directory
    yield os.path.join(os.path.dirname(_HERE), "build", "analyzer", "libpymac.so")
    for libdir in ("lib", "lib64", "lib/x86_64-linux-gnu"):
        yield os.path.join(prefix, libdir, "libpymac.so.0")
    found = ctypes.util.find_library("pymac")
    if found:
        yield found


def _load_library():
    tried = []
    for path in _library_candidates():
        tried.append(path)
        if os.path.exists(path) or not os.path.isabs(path):
            try:
                return ctypes.CDLL(path)
            except OSError:
                pass
    raise gdb.GdbError("pymac: libpymac not found (tried %s); set PYMAC_LIBRARY to its path"
                       % ", ".join(tried))


class _Error(ctypes.Structure):
    _fields_ = [("status", ctypes.c_int), ("message", ctypes.c_char * 512),
                ("hint", ctypes.c_char * 512)]


_READ_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_void_p,
                            ctypes.c_size_t)


class _HostModule(ctypes.Structure):
    _fields_ = [("path", ctypes.c_char_p), ("bias", ctypes.c_uint64)]


class _Host(ctypes.Structure):
    _fields_ = [("read", _READ_FN), ("ctx", ctypes.c_void_p),
                ("modules", ctypes.POINTER(_HostModule)), ("nmodules", ctypes.c_size_t),
                ("nthreads", ctypes.c_uint), ("kind", ctypes.c_char_p),
                ("ranges", ctypes.POINTER(ctypes.c_uint64)), ("nranges", ctypes.c_size_t)]


class _OpenOptions(ctypes.Structure):
    _fields_ = [("core_path", ctypes.c_char_p), ("exe_path", ctypes.c_char_p),
                ("debug_dirs", ctypes.POINTER(ctypes.c_char_p)), ("n_debug_dirs", ctypes.c_size_t),
                ("sysroot", ctypes.c_char_p),
                ("progress", ctypes.c_void_p), ("progress_ctx", ctypes.c_void_p)]


def _gdb_setting(name):
    try:
        value = gdb.parameter(name)
    except (gdb.error, RuntimeError):
        return ""
    return value or ""


def _open_options(core=None, exe=None):
    """Open options that follow GDB's own settings: `set sysroot DIR` (the files
    the target names are looked up under DIR first, its usr/lib/debug searched
    too) and `set debug-file-directory` (searched before the library's own)."""
    sysroot = _gdb_setting("sysroot")
    if sysroot.startswith("target:") or sysroot == "/":
        sysroot = sysroot[len("target:"):] if sysroot.startswith("target:") else ""
    dirs = [d for d in _gdb_setting("debug-file-directory").split(":") if d]
    array = (ctypes.c_char_p * max(len(dirs), 1))(*[d.encode() for d in dirs])
    opts = _OpenOptions(core.encode() if core else None, exe.encode() if exe else None,
                        array, len(dirs), sysroot.encode() if sysroot else None)
    opts._keep = array   # the array must outlive the call
    return opts


class _PoolFilter(ctypes.Structure):
    _fields_ = [("arena", ctypes.c_uint64), ("size_class", ctypes.c_int)]


class _ObjectFilter(ctypes.Structure):
    _fields_ = [("type_name", ctypes.c_char_p), ("generation", ctypes.c_int),
                ("min_size", ctypes.c_uint64), ("limit", ctypes.c_uint64)]


class _DominatorsFilter(ctypes.Structure):
    _fields_ = [("type_name", ctypes.c_char_p), ("min_bytes", ctypes.c_uint64),
                ("limit", ctypes.c_uint64), ("all", ctypes.c_int), ("folded", ctypes.c_int)]


class _TracemallocOptions(ctypes.Structure):
    _fields_ = [("key_type", ctypes.c_int), ("cumulative", ctypes.c_int),
                ("limit", ctypes.c_uint64)]


class _View(ctypes.Structure):
    _fields_ = [("kind", ctypes.c_int), ("format", ctypes.c_int), ("address", ctypes.c_uint64),
                ("gc_only", ctypes.c_int), ("pools", _PoolFilter), ("objects", _ObjectFilter),
                ("retained", ctypes.c_int), ("dominators", _DominatorsFilter),
                ("tracemalloc", _TracemallocOptions), ("diff_by_site", ctypes.c_int)]


class _ViewName(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("kind", ctypes.c_int), ("args", ctypes.c_int)]


def _view_kind(name):
    """The library's number for a view: its table is the one the CLI uses."""
    p = _library().pymac_view_by_name(name.encode())
    if not p:
        raise gdb.GdbError("pymac: the library has no view %r" % name)
    return p.contents.kind

_lib = None


def _library():
    global _lib
    if _lib is None:
        lib = _load_library()
        lib.pymac_open_core.restype = ctypes.c_int
        lib.pymac_open_core.argtypes = [ctypes.POINTER(_OpenOptions),
                                        ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(_Error)]
        lib.pymac_open_pid.restype = ctypes.c_int
        lib.pymac_open_pid.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.POINTER(_OpenOptions),
                                       ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(_Error)]
        lib.pymac_open_host.restype = ctypes.c_int
        lib.pymac_open_host.argtypes = [ctypes.POINTER(_Host), ctypes.POINTER(_OpenOptions),
                                        ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(_Error)]
        lib.pymac_close.argtypes = [ctypes.c_void_p]
        lib.pymac_warning_count.restype = ctypes.c_size_t
        lib.pymac_warning_count.argtypes = [ctypes.c_void_p]
        lib.pymac_render_view.restype = ctypes.c_void_p
        lib.pymac_render_view.argtypes = [ctypes.c_void_p, ctypes.POINTER(_View),
                                          ctypes.POINTER(ctypes.c_int), ctypes.POINTER(_Error)]
        lib.pymac_free.argtypes = [ctypes.c_void_p]
        lib.pymac_view_by_name.restype = ctypes.POINTER(_ViewName)
        lib.pymac_view_by_name.argtypes = [ctypes.c_char_p]
        lib.pymac_symbol_bias.restype = ctypes.c_int
        lib.pymac_symbol_bias.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_uint64,
                                          ctypes.POINTER(ctypes.c_uint64), ctypes.POINTER(_Error)]
        _lib = lib
    return _lib


def _error_text(err):
    msg = err.message.decode(errors="replace")
    hint = err.hint.decode(errors="replace")
    return "pymac: %s%s" % (msg, "; " + hint if hint else "")


# ---- the inferior as a target -----------------------------------------------------


def _read_inferior(ctx, addr, buf, size):
    try:
        data = gdb.selected_inferior().read_memory(addr, size)
    except (gdb.MemoryError, gdb.error, OverflowError):
        return 0
    ctypes.memmove(buf, bytes(data), size)
    return 1


_READER = _READ_FN(_read_inferior)  # kept alive for the library's calls


def _python_module():
    """(path, load bias) of the objfile that holds the interpreter."""
    lib = _library()
    for objfile in gdb.objfiles():
        if not objfile.filename or not objfile.is_valid():
            continue
        try:
            sym = objfile.lookup_global_symbol("_PyRuntime")
        except gdb.error:
            sym = None
        if sym is None:
            continue
        addr = int(sym.value().address)
        path = objfile.filename
        if path.startswith("target:"):
            # a remote target's file; the library reads its ELF and DWARF locally
            path = path[len("target:"):]
            if not os.path.exists(path):
                raise gdb.GdbError("pymac: %s is on the remote target only; copy it here and "
                                   "'set sysroot' to the copy" % path)
        bias = ctypes.c_uint64()
        err = _Error()
        if lib.pymac_symbol_bias(path.encode(), b"_PyRuntime", addr, ctypes.byref(bias),
                                 ctypes.byref(err)) == 0:
            return path, bias.value
    raise gdb.GdbError("pymac: no CPython interpreter in this program (no _PyRuntime symbol); "
                       "load the python executable and its core or process first")


PYMAC_HELD = 2


def _core_file():
    """The core file GDB has loaded, or None."""
    try:
        text = gdb.execute("info target", to_string=True)
    except gdb.error:
        return None
    for line in text.splitlines():
        if "core dump file" in line.lower():
            rest = text.split(line, 1)[1].lstrip()
            if rest.startswith("`"):
                return rest[1:].split("'", 1)[0]
    return None


def _mappings():
    """[(start, end)] from 'info proc mappings', or [] where the target has none."""
    try:
        text = gdb.execute("info proc mappings", to_string=True)
    except gdb.error:
        return []
    spans = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].startswith("0x") and parts[1].startswith("0x"):
            spans.append((int(parts[0], 16), int(parts[1], 16)))
    return spans


def _connection_type():
    conn = getattr(gdb.selected_inferior(), "connection", None)
    return getattr(conn, "type", None)


def _open_session():
    """The fastest faithful way to the inferior's memory: the core file GDB
    loaded, the local process GDB holds stopped, or else GDB's own reads
    (a gdbserver target)."""
    lib = _library()
    inferior = gdb.selected_inferior()
    session = ctypes.c_void_p()
    err = _Error()
    core = _core_file()
    exe = gdb.current_progspace().filename
    if core:
        opts = _open_options(core, exe)
        rc = lib.pymac_open_core(ctypes.byref(opts), ctypes.byref(session), ctypes.byref(err))
    elif inferior.pid and _connection_type() == "native":
        opts = _open_options()
        rc = lib.pymac_open_pid(inferior.pid, PYMAC_HELD, ctypes.byref(opts),
                                ctypes.byref(session), ctypes.byref(err))
    elif inferior.pid:
        path, bias = _python_module()
        module = _HostModule(path.encode(), bias)
        spans = _mappings()
        ranges = (ctypes.c_uint64 * (2 * len(spans)))(*[x for span in spans for x in span])
        host = _Host(_READER, None, ctypes.pointer(module), 1, len(inferior.threads()), b"gdb",
                     ranges, len(spans))
        opts = _open_options()
        rc = lib.pymac_open_host(ctypes.byref(host), ctypes.byref(opts), ctypes.byref(session),
                                 ctypes.byref(err))
    else:
        raise gdb.GdbError("pymac: nothing to read; load a core (gdb python3 core), or run or "
                           "attach to a process")
    if rc != 0:
        raise gdb.GdbError(_error_text(err))
    return session


class _CoreSessions:
    """One session per loaded core, kept across commands: a core never changes,
    and opening one (its files, DWARF, the runtime) is most of a command's time.
    Keyed by everything the open depends on; a new core or setting opens anew."""

    def __init__(self):
        self.key = None
        self.session = None

    def get(self, key):
        if self.session is not None and self.key == key:
            return self.session
        self.drop()
        self.session = _open_session()
        self.key = key
        return self.session

    def drop(self, *_):
        if self.session is not None:
            _library().pymac_close(self.session)
        self.session = self.key = None


_core_sessions = _CoreSessions()
if hasattr(gdb.events, "gdb_exiting"):   # GDB 12+
    gdb.events.gdb_exiting.connect(_core_sessions.drop)


@contextlib.contextmanager
def _session():
    """A session on the current target: a loaded core's cached one, else a fresh
    one closed after the command."""
    core = _core_file()
    if core:
        try:
            st = os.stat(core)
            stamp = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
        except OSError:
            stamp = None
        key = (core, stamp, gdb.current_progspace().filename, _gdb_setting("sysroot"),
               _gdb_setting("debug-file-directory"))
        session = _core_sessions.get(key)
        try:
            yield session
        finally:
            # a view that warned (a damaged core) must not pass its warnings,
            # or its partial status, on to the next command: open anew then
            if _library().pymac_warning_count(session):
                _core_sessions.drop()
        return
    session = _open_session()
    try:
        yield session
    finally:
        _library().pymac_close(session)


def render(view):
    """Renders one view and prints it through GDB's pager: a process's session
    is fresh (memory may have changed since the last command), a core's kept."""
    lib = _library()
    with _session() as session:
        status = ctypes.c_int()
        err = _Error()
        text = lib.pymac_render_view(session, ctypes.byref(view), ctypes.byref(status),
                                     ctypes.byref(err))
        if not text:
            raise gdb.GdbError(_error_text(err))
        try:
            out = ctypes.string_at(text).decode(errors="replace")
        finally:
            lib.pymac_free(text)
    gdb.write(out)
    if status.value == 1:
        gdb.write("pymac: partial results, see the warnings above\n")


# ---- argument parsing ---------------------------------------------------------------


def _address(expr):
    """Any GDB expression: $rdi, (PyObject *)0x7f.., a variable in the frame."""
    try:
        value = gdb.parse_and_eval(expr)
        if value.type.strip_typedefs().code == gdb.TYPE_CODE_PTR:
            value = value.cast(gdb.lookup_type("unsigned long"))
        return int(value) & 0xFFFFFFFFFFFFFFFF
    except gdb.error as e:
        raise gdb.GdbError("pymac: cannot evaluate '%s': %s" % (expr, e))


def _parse(argv, flags, positional):
    """flags: {name: takes_value}. Returns (options, positional list)."""
    opts, pos = {}, []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a.startswith("--"):
            name = a[2:]
            if name not in flags:
                raise gdb.GdbError("pymac: unknown option '%s'" % a)
            if flags[name]:
                if i + 1 >= len(argv):
                    raise gdb.GdbError("pymac: %s needs a value" % a)
                opts[name] = argv[i + 1]
                i += 1
            else:
                opts[name] = True
        else:
            pos.append(a)
        i += 1
    if len(pos) != positional:
        raise gdb.GdbError("pymac: expected %d argument%s, got %d" %
                           (positional, "" if positional == 1 else "s", len(pos)))
    return opts, pos


def _number(text, what):
    try:
        return int(text, 0)
    except ValueError:
        raise gdb.GdbError("pymac: %s takes a number, not '%s'" % (what, text))


# ---- commands -----------------------------------------------------------------------


class PymacPrefix(gdb.Command):
    """Where a CPython process's memory went: pymalloc, GC lists, objects.

Works on whatever GDB has loaded: a core, a live process, a gdbserver target.
Every subcommand takes --json.

Example: pymac arenas"""

    def __init__(self):
        super().__init__("pymac", gdb.COMMAND_DATA, gdb.COMPLETE_COMMAND, prefix=True)


class _View_Command(gdb.Command):
    view = None
    flags = {"json": False}
    positional = 0

    def __init__(self, name):
        super().__init__("pymac " + name, gdb.COMMAND_DATA)

    def make_view(self, opts, pos):
        return _View(_view_kind(self.view), 1 if opts.get("json") else 0, 0, 0,
                     _PoolFilter(0, -1), _ObjectFilter(None, -1, 0, 0))

    def invoke(self, arg, from_tty):
        argv = gdb.string_to_argv(arg)
        opts, pos = _parse(argv, self.flags, self.positional)
        render(self.make_view(opts, pos))


_SIMPLE = []


def _simple(name, doc):
    _SIMPLE.append(type("Pymac_" + name, (_View_Command,), {"__doc__": doc, "view": name}))


_simple("report", """One screen: the interpreter, the pymalloc heap, the GC lists, the
largest types and the leak suspects.

Usage: pymac report [--json]
Example: pymac report""")
_simple("info", """Executable, CPython version, libpython, debug info and threads.

Usage: pymac info [--json]
Example: pymac info""")
_simple("stats", """Exactly what sys._debugmallocstats() printed in the process.

Usage: pymac stats
Example: pymac stats""")
_simple("arenas", """One row per pymalloc arena: pools used/full/empty, blocks, bytes, fill.

Usage: pymac arenas [--json]
Example: pymac arenas""")
_simple("gc", """GC generations: objects on each list, count and threshold.

Usage: pymac gc [--json]
Example: pymac gc --json""")
_simple("leaks", """Leak suspects by type: unexplained references (a refcount above the
references found: a leaked Py_INCREF?) and unreachable GC objects (uncollected
garbage), largest first.

Usage: pymac leaks [--json]
Example: pymac leaks""")


class PymacPools(_View_Command):
    """One row per pymalloc pool: size class, blocks in use, state.

Usage: pymac pools [--arena ADDR] [--size-class N] [--json]
Example: pymac pools --size-class 3"""
    view = "pools"
    flags = {"json": False, "arena": True, "size-class": True}

    def make_view(self, opts, pos):
        v = super().make_view(opts, pos)
        if "arena" in opts:
            v.pools.arena = _address(opts["arena"])
        if "size-class" in opts:
            v.pools.size_class = _number(opts["size-class"], "--size-class")
        return v


class PymacTypes(_View_Command):
    """Objects, bytes and average size per type, largest first.

With --retained: beside them, what freeing every instance would free.

Usage: pymac types [--gc-only | --retained] [--json]
Example: pymac types --gc-only"""
    view = "types"
    flags = {"json": False, "gc-only": False, "retained": False}

    def make_view(self, opts, pos):
        v = super().make_view(opts, pos)
        if opts.get("gc-only") and opts.get("retained"):
            raise gdb.GdbError("pymac: --retained and --gc-only do not go together")
        v.gc_only = 1 if opts.get("gc-only") else 0
        v.retained = 1 if opts.get("retained") else 0
        return v


class PymacDominators(_View_Command):
    """The objects that retain the most (themselves and all they dominate), as
a tree: each under the listed object that dominates it. Roots, modules and
module dicts are left out unless --all; --folded gives root;...;object N lines
for flame graphs.

Usage: pymac dominators [--limit N] [--type NAME] [--min-bytes B] [--all] [--folded] [--json]
Example: pymac dominators --limit 10"""
    view = "dominators"
    flags = {"json": False, "type": True, "min-bytes": True, "limit": True, "all": False,
             "folded": False}

    def make_view(self, opts, pos):
        if opts.get("folded") and opts.get("json"):
            raise gdb.GdbError("pymac: --folded is text; leave out --json")
        v = super().make_view(opts, pos)
        self._type = opts.get("type", "").encode() or None  # kept alive for the call
        v.dominators.type_name = self._type
        v.dominators.min_bytes = _number(opts.get("min-bytes", "0"), "--min-bytes")
        v.dominators.limit = _number(opts.get("limit", "25"), "--limit")
        v.dominators.all = 1 if opts.get("all") else 0
        v.dominators.folded = 1 if opts.get("folded") else 0
        return v


_type_names = {}


def _complete_type(word):
    """Type names for --type, from the GC census of the current target (cached)."""
    key = (gdb.selected_inferior().num, gdb.selected_inferior().pid)
    if key not in _type_names:
        import json
        lib = _library()
        try:
            with _session() as session:
                v = _View(_view_kind("types"), 1, 0, 1, _PoolFilter(0, -1),
                          _ObjectFilter(None, -1, 0, 0))
                status, err = ctypes.c_int(), _Error()
                text = lib.pymac_render_view(session, ctypes.byref(v), ctypes.byref(status),
                                             ctypes.byref(err))
                names = []
                if text:
                    names = sorted({r["type"] for r in json.loads(ctypes.string_at(text).decode())})
                    lib.pymac_free(text)
        except gdb.GdbError:
            return []
        _type_names[key] = names
    return [n for n in _type_names[key] if n.startswith(word)]


class PymacObjects(_View_Command):
    """One row per object: address, type, refcount, size, generation, value.

Usage: pymac objects [--type NAME] [--gen N] [--min-size B] [--limit N] [--json]
Example: pymac objects --type dict --limit 10"""
    view = "objects"
    flags = {"json": False, "type": True, "gen": True, "min-size": True, "limit": True}

    def make_view(self, opts, pos):
        v = super().make_view(opts, pos)
        self._type = opts.get("type", "").encode() or None  # kept alive for the call
        v.objects.type_name = self._type
        v.objects.generation = _number(opts["gen"], "--gen") if "gen" in opts else -1
        v.objects.min_size = _number(opts.get("min-size", "0"), "--min-size")
        v.objects.limit = _number(opts.get("limit", "100"), "--limit")
        return v

    def complete(self, text, word):
        words = gdb.string_to_argv(text)
        if (words and words[-1] == "--type" and text.endswith(" ")) or \
                (len(words) >= 2 and words[-2] == "--type" and not text.endswith(" ")):
            return _complete_type(word or "")
        last = "" if text.endswith(" ") or not words else words[-1]
        if last.startswith("--"):
            # '-' breaks words for GDB: complete the part of the flag in `word`
            cut = len(last) - len(word or "")
            return [f[cut:] for f in ("--type", "--gen", "--min-size", "--limit", "--json")
                    if f.startswith(last)]
        return gdb.COMPLETE_NONE


class _AddressCommand(_View_Command):
    positional = 1

    def make_view(self, opts, pos):
        v = super().make_view(opts, pos)
        v.address = _address(pos[0])
        return v

    def invoke(self, arg, from_tty):
        # the address is a GDB expression and may contain spaces: take all
        # but the flags as the expression
        argv = gdb.string_to_argv(arg)
        flags = [a for a in argv if a.startswith("--")]
        expr = " ".join(a for a in argv if not a.startswith("--"))
        if not expr:
            raise gdb.GdbError("pymac: give an address or expression")
        opts, pos = _parse(flags + [expr], self.flags, 1)
        render(self.make_view(opts, pos))


class PymacWhereis(_AddressCommand):
    """The arena, pool, size class and block holding an address.

Usage: pymac whereis EXPR [--json]
Example: pymac whereis $rdi"""
    view = "whereis"


class PymacObject(_AddressCommand):
    """One object: type, refcount, size, generation, where it lives, value, referents.

Usage: pymac object EXPR [--json]
Example: pymac object (PyObject *)0x7ffff7a3c0a0"""
    view = "object"


class PymacReferrers(_AddressCommand):
    """Who refers to an object, and how (list index, dict key, attribute, root).

Usage: pymac referrers EXPR [--json]
Example: pymac referrers (PyObject *)0x7ffff7a3c0a0"""
    view = "referrers"


class PymacPath(_AddressCommand):
    """The shortest chain of references from a root (sys.modules, builtins, sys,
interned strings, thread frames) to an object.

Usage: pymac path EXPR [--json]
Example: pymac path $rdi"""
    view = "path"


class PymacRetained(_AddressCommand):
    """What an object keeps alive (itself and every object it dominates), its
immediate dominator and its path from a root.

Usage: pymac retained EXPR [--json]
Example: pymac retained (PyObject *)0x7ffff7a3c0a0"""
    view = "retained"


class PymacRefcount(_AddressCommand):
    """The reference count of an object ('immortal' on 3.12+).

Usage: pymac refcount EXPR
Example: pymac refcount op"""
    view = "object"
    flags = {}

    def invoke(self, arg, from_tty):
        import json
        if not arg.strip():
            raise gdb.GdbError("pymac: give an address or expression")
        v = _View(_view_kind("object"), 1, _address(arg), 0, _PoolFilter(0, -1),
                  _ObjectFilter(None, -1, 0, 0))
        lib = _library()
        with _session() as session:
            status, err = ctypes.c_int(), _Error()
            text = lib.pymac_render_view(session, ctypes.byref(v), ctypes.byref(status),
                                         ctypes.byref(err))
            if not text:
                raise gdb.GdbError(_error_text(err))
            obj = json.loads(ctypes.string_at(text).decode(errors="replace"))
            lib.pymac_free(text)
        gdb.write("%s\n" % obj["refcnt"])


PymacPrefix()
for _cls in _SIMPLE:
    _cls(_cls.view)
PymacPools("pools")
PymacTypes("types")
PymacObjects("objects")
PymacWhereis("whereis")
PymacObject("object")
PymacReferrers("referrers")
PymacPath("path")
PymacRetained("retained")
PymacDominators("dominators")
PymacRefcount("refcount")
