/* pymac-analyze: argument parsing and dispatch; libpymac does the work. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pymac/pymac.h"

#include <signal.h>
#include <unistd.h>

/* The session whose stopped process a signal must resume before we die. */
static pymac_session *volatile g_live;

static void on_fatal_signal(int sig)
{
    pymac_release(g_live); /* async-signal-safe: PTRACE_DETACH of each thread */
    signal(sig, SIG_DFL);
    raise(sig);
}

static const char USAGE[] =
    "usage: pymac-analyze [OPTIONS] [VIEW] CORE [ARGS]\n"
    "       pymac-analyze [OPTIONS] --pid PID [VIEW] [ARGS]\n"
    "\n"
    "Views:\n"
    "  report              one screen: interpreter, heap, GC, largest types, leak suspects\n"
    "                      (the default when no view is named)\n"
    "  info                executable, CPython version, libpython, debug info, threads\n"
    "  stats               exactly what sys._debugmallocstats() printed in the process\n"
    "  arenas              one row per pymalloc arena, with totals\n"
    "  pools               one row per pool [--arena ADDR] [--size-class N]\n"
    "  whereis ADDR...     arena, pool, size class and block holding each ADDR\n"
    "  gc                  GC generations: objects on each list, count, threshold\n"
    "  types               objects, bytes and average size per type [--gc-only] (alias: summary)\n"
    "  objects             address, type, refcount, size, generation and value of each object\n"
    "                      [--type NAME] [--gen N] [--min-size B] [--limit N]\n"
    "  object ADDR...      one object: header, type, refcount, size, where it lives, value\n"
    "  diff NEWCORE        per type, objects and bytes in CORE and NEWCORE, by bytes grown\n"
    "  referrers ADDR...   who refers to the object at ADDR, and how\n"
    "  path ADDR...        the shortest chain of references from a root to ADDR\n"
    "  leaks               unexplained references and unreachable GC objects, by type\n"
    "                      [--baseline OLDCORE]: and growth since OLDCORE (as diff)\n"
    "\n"
    "The address views take several addresses: one session answers them all (with\n"
    "--json, as an array).\n"
    "\n"
    "Options:\n"
    "  --json              machine-readable output (all views but stats)\n"
    "  --pid PID           a running process instead of a core: it is stopped while pymac\n"
    "                      reads it and resumed afterwards (also on errors and signals)\n"
    "  --no-stop           with --pid: read without stopping (results may be inconsistent)\n"
    "  --exe PATH          the executable that made the core, if not where the core says\n"
    "  --debug-dir DIR     another directory of debug files (.build-id/xx/...debug); repeatable\n"
    "  --arena ADDR        pools: only the pools of the arena at ADDR\n"
    "  --size-class N      pools: only pools of size class N\n"
    "  --gc-only           types: only objects on the GC generation lists\n"
    "  --type NAME         objects: only objects whose type's __name__ is NAME\n"
    "  --gen N             objects: only objects on GC generation N (3: permanent)\n"
    "  --min-size B        objects: only objects of at least B bytes\n"
    "  --limit N           objects: print at most N rows (default 100; 0: all)\n"
    "  -h, --help          this text\n"
    "  --version           pymac's version\n"
    "\n"
    "Exit codes: 0 ok, 1 partial results (see warnings), 2 usage, 3 I/O, 4 not a core,\n"
    "5 truncated core, 6 not a Python process, 7 no debug info, 8 mismatched binary or\n"
    "debug info, 9 unsupported version, 10 bad address, 11 corrupt interpreter state,\n"
    "12 out of memory, 13 internal error.\n";

enum { ADDRS = PYMAC_VIEW_ADDRESSES };

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "pymac-analyze: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (see pymac-analyze --help)\n");
    return PYMAC_E_USAGE;
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || end == s || *end || s[0] == '-')
        return -1;
    *out = v;
    return 0;
}

static int report_error(const pymac_error *err)
{
    if (err->hint[0])
        fprintf(stderr, "pymac-analyze: %s; %s\n", err->message, err->hint);
    else
        fprintf(stderr, "pymac-analyze: %s\n", err->message);
    return err->status;
}

/* A JSON string of an error message (ours: plain text, maybe a path). */
static void json_string(FILE *out, const char *t)
{
    fputc('"', out);
    for (; *t; t++) {
        unsigned char c = (unsigned char)*t;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c < 0x20)
            fprintf(out, "\\u%04x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

/* The address views, for one address or several: one session answers them
 * all (the census and graph are built once). Several addresses give a JSON
 * array, with {"address", "error", "status"} in place of a failed one, or
 * the texts one after another; an error is reported for its address and the
 * others go on. The exit status is the worst of them. */
static pymac_status render_addresses(pymac_session *s, pymac_view view, const uint64_t *addrs,
                                     size_t n)
{
    pymac_format fmt = view.format;
    pymac_status worst = PYMAC_OK;
    if (fmt == PYMAC_JSON && n > 1)
        fputs("[\n", stdout);
    for (size_t i = 0; i < n; i++) {
        pymac_error err = {0};
        char *text = NULL;
        size_t len = 0;
        FILE *mem = open_memstream(&text, &len);
        view.address = addrs[i];
        pymac_status st = mem ? pymac_render_to(s, &view, NULL, mem, &err)
                              : (err.status = PYMAC_E_NOMEM);
        if (mem)
            fclose(mem);
        if (st == PYMAC_E_NOMEM && !err.message[0])
            snprintf(err.message, sizeof err.message, "out of memory");
        if (fmt == PYMAC_JSON && n > 1) {
            if (i)
                fputs(",\n", stdout);
            if (st > PYMAC_PARTIAL) {
                printf("{\"address\": \"0x%llx\", \"status\": \"%s\", \"error\": ",
                       (unsigned long long)addrs[i], pymac_status_name(st));
                json_string(stdout, err.message);
                fputs("}", stdout);
            } else {
                /* one document without its final newline */
                while (len && text[len - 1] == '\n')
                    len--;
                fwrite(text, 1, len, stdout);
            }
        } else {
            if (i && fmt == PYMAC_TEXT)
                fputc('\n', stdout);
            if (st <= PYMAC_PARTIAL)
                fwrite(text, 1, len, stdout);
        }
        free(text);
        if (st > PYMAC_PARTIAL)
            report_error(&err);
        if (st > worst)
            worst = st;
    }
    if (fmt == PYMAC_JSON && n > 1)
        fputs("\n]\n", stdout);
    return worst;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"json", no_argument, NULL, 'j'},       {"exe", required_argument, NULL, 'e'},
        {"debug-dir", required_argument, NULL, 'd'}, {"arena", required_argument, NULL, 'a'},
        {"size-class", required_argument, NULL, 's'}, {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},    {"gc-only", no_argument, NULL, 'g'},
        {"baseline", required_argument, NULL, 'b'},
        {"pid", required_argument, NULL, 'p'}, {"no-stop", no_argument, NULL, 'n'},
        {"type", required_argument, NULL, 't'}, {"gen", required_argument, NULL, 'G'},
        {"min-size", required_argument, NULL, 'm'}, {"limit", required_argument, NULL, 'l'},    {NULL, 0, NULL, 0},
    };
    pymac_format fmt = PYMAC_TEXT;
    const char *exe = NULL;
    enum { MAX_DEBUG_DIRS = 32 };
    const char *dirs[MAX_DEBUG_DIRS];
    size_t ndirs = 0;
    pymac_pool_filter filter = {0, -1};
    int gc_only = 0;
    const char *baseline = NULL;
    int pid = 0, stop = PYMAC_STOP;
    pymac_object_filter ofilter = {NULL, -1, 0, 100};
    bool object_filters = false;
    int opt;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'j':
            fmt = PYMAC_JSON;
            break;
        case 'e':
            exe = optarg;
            break;
        case 'd':
            if (ndirs == MAX_DEBUG_DIRS)
                return usage_error("at most 32 --debug-dir options, not more at '%s'", optarg);
            dirs[ndirs++] = optarg;
            break;
        case 'a':
            if (parse_u64(optarg, &filter.arena) || !filter.arena)
                return usage_error("--arena takes an address, not '%s'", optarg);
            break;
        case 's': {
            uint64_t v;
            if (parse_u64(optarg, &v) || v >= PYMAC_MAX_SIZE_CLASSES)
                return usage_error("--size-class takes a class number, not '%s'", optarg);
            filter.size_class = (int)v;
            break;
        }
        case 'g':
            gc_only = 1;
            break;
        case 'b':
            baseline = optarg;
            break;
        case 'p': {
            uint64_t v;
            if (parse_u64(optarg, &v) || v == 0 || v > 0x7fffffff)
                return usage_error("--pid takes a process id, not '%s'", optarg);
            pid = (int)v;
            break;
        }
        case 'n':
            stop = PYMAC_NO_STOP;
            break;
        case 't':
            ofilter.type_name = optarg;
            object_filters = true;
            break;
        case 'G':
        case 'm':
        case 'l': {
            uint64_t v;
            if (parse_u64(optarg, &v) || (opt == 'G' && v > 3))
                return usage_error("'%s' is not a valid number here", optarg);
            if (opt == 'G')
                ofilter.generation = (int)v;
            else if (opt == 'm')
                ofilter.min_size = v;
            else
                ofilter.limit = v;
            object_filters = true;
            break;
        }
        case 'h':
            fputs(USAGE, stdout);
            return 0;
        case 'V':
            puts("pymac-analyze 0.1.0");
            return 0;
        default:
            return usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    int npos = argc - optind;
    char **pos = argv + optind;
    if (npos == 0 && !pid)
        return usage_error("%s", "no core file given");
    if (stop == PYMAC_NO_STOP && !pid)
        return usage_error("%s", "--no-stop goes with --pid");
    pymac_view_kind view = PYMAC_VIEW_REPORT;
    int extra = 0;
    const pymac_view_name *named = npos ? pymac_view_by_name(pos[0]) : NULL;
    if (named) {
        view = named->kind;
        extra = named->args;
        pos++;
        npos--;
    }
    /* with --pid there is no CORE: shift the arguments so pos[1] is the first */
    if (pid) {
        if (extra == ADDRS ? npos < 1 : npos != extra)
            return usage_error("%s", "with --pid, give the view and its arguments, no core");
        pos--;
        npos++;
    } else if (npos < 1) {
        return usage_error("%s", "no core file given");
    }
    if (extra == ADDRS ? npos < 2 : npos != 1 + extra)
        return usage_error(extra == ADDRS ? "give one or more addresses after the core '%s'"
                                          : "wrong number of arguments after the core '%s'",
                           pos[0]);
    if (view != PYMAC_VIEW_POOLS && (filter.arena || filter.size_class >= 0))
        return usage_error("%s", "--arena and --size-class go with the pools view");
    if (view != PYMAC_VIEW_OBJECTS && object_filters)
        return usage_error("%s", "--type, --gen, --min-size and --limit go with the objects view");
    if (view != PYMAC_VIEW_LEAKS && baseline)
        return usage_error("%s", "--baseline goes with the leaks view");
    if (view != PYMAC_VIEW_TYPES && gc_only)
        return usage_error("%s", "--gc-only goes with the types view");
    /* the addresses of whereis, object, referrers and path */
    int naddrs = extra == ADDRS ? npos - 1 : 0;
    uint64_t *addrs = naddrs ? calloc((size_t)naddrs, sizeof *addrs) : NULL;
    if (naddrs && !addrs) {
        fputs("pymac-analyze: out of memory\n", stderr);
        return PYMAC_E_NOMEM;
    }
    for (int i = 0; i < naddrs; i++)
        if (parse_u64(pos[1 + i], &addrs[i])) {
            free(addrs);
            return usage_error("'%s' is not an address", pos[1 + i]);
        }

    pymac_open_options o = {.core_path = pid ? NULL : pos[0], .exe_path = exe, .debug_dirs = dirs,
                            .n_debug_dirs = ndirs};
    pymac_session *s;
    pymac_error err = {0};
    pymac_status st;
    if (pid) {
        /* resume the process if we are interrupted or killed politely; a
         * SIGKILL makes the kernel detach and resume it */
        static const int fatal[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE};
        for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++)
            signal(fatal[i], on_fatal_signal);
        st = pymac_open_pid(pid, stop, &o, &s, &err);
        g_live = st ? NULL : s;
    } else {
        st = pymac_open_core(&o, &s, &err);
    }
    if (st)
        return report_error(&err);
    pymac_view v = {.kind = view, .format = fmt, .gc_only = gc_only, .pools = filter,
                    .objects = ofilter};
    /* the second core of diff (NEWCORE) and of leaks --baseline */
    const char *second = view == PYMAC_VIEW_DIFF ? pos[1] : baseline;
    pymac_session *other = NULL;
    if (second) {
        pymac_open_options o2 = o;
        o2.core_path = second;
        st = pymac_open_core(&o2, &other, &err);
    }
    if (st)
        ; /* the second core did not open */
    else if (extra == ADDRS)
        st = render_addresses(s, v, addrs, (size_t)naddrs);
    else
        st = pymac_render_to(s, &v, other, stdout, &err);
    pymac_close(other);
    if (st > PYMAC_PARTIAL && naddrs == 0)
        report_error(&err); /* (render_addresses reports its own) */
    else if (st <= PYMAC_PARTIAL && fmt == PYMAC_TEXT && view == PYMAC_VIEW_STATS)
        pymac_render_warnings(s, stderr); /* stats is CPython's text: warnings go apart */
    g_live = NULL;
    pymac_close(s);
    free(addrs);
    return st;
}
