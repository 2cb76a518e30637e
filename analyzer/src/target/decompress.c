/* A compressed core, decompressed once into a temporary file that has no name:
 * opened with O_TMPFILE (or unlinked right after mkstemp where the file
 * system lacks it), so an exit, an error, SIGINT or SIGKILL all leave nothing
 * behind, and the library needs no signal handler. Zero pages are not
 * written: they stay holes, so a mostly-empty core costs little room. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "decompress.h"
#include "pm.h"

enum {
    IN_CHUNK = 1 << 20,  /* compressed bytes read at a time */
    STAGE = 4 << 20,     /* decompressed bytes gathered before they are written */
    PAGE = 4096,         /* the unit of holes */
};

const char *pm_compression_of(const unsigned char *h, size_t n)
{
    static const struct {
        const char *name;
        unsigned char magic[6];
        size_t len;
    } M[] = {
        {"zstd", {0x28, 0xb5, 0x2f, 0xfd}, 4},
        {"xz", {0xfd, '7', 'z', 'X', 'Z', 0x00}, 6},
        {"lz4", {0x04, 0x22, 0x4d, 0x18}, 4}, /* the frame format (lz4's default) */
        {"gzip", {0x1f, 0x8b}, 2},
    };
    for (size_t i = 0; i < sizeof M / sizeof M[0]; i++)
        if (n >= M[i].len && memcmp(h, M[i].magic, M[i].len) == 0)
            return M[i].name;
    return NULL;
}

static const char *tmp_dir(void)
{
    const char *d = getenv("TMPDIR");
    return d && *d ? d : "/tmp";
}

static int open_temp(const char *dir)
{
    /* O_EXCL: the file can never be given a name later */
    int fd = open(dir, O_TMPFILE | O_RDWR | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL))
        return fd;
    char *name = pm_asprintf("%s/pymac-core-XXXXXX", dir);
    if (!name) {
        errno = ENOMEM;
        return -1;
    }
    fd = mkostemp(name, O_CLOEXEC);
    if (fd >= 0)
        unlink(name);
    int e = errno;
    free(name);
    errno = e;
    return fd;
}

typedef struct sink {
    int fd;
    unsigned char *buf; /* STAGE bytes */
    size_t fill;
    uint64_t off;       /* file offset of buf[0]: a multiple of STAGE */
} sink;

static bool zero_page(const unsigned char *p, size_t n)
{
    uint64_t acc = 0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        acc |= w;
    }
    for (; i < n; i++)
        acc |= p[i];
    return acc == 0;
}

/* Writes the staged bytes but their zero pages; 0 or an errno. */
static int flush(sink *k)
{
    size_t i = 0;
    while (i < k->fill) {
        size_t n = k->fill - i < PAGE ? k->fill - i : PAGE;
        if (zero_page(k->buf + i, n)) {
            i += n;
            continue;
        }
        size_t j = i + n; /* the run of non-zero pages from i */
        while (j < k->fill) {
            size_t m = k->fill - j < PAGE ? k->fill - j : PAGE;
            if (zero_page(k->buf + j, m))
                break;
            j += m;
        }
        while (i < j) {
            ssize_t w = pwrite(k->fd, k->buf + i, j - i, (off_t)(k->off + i));
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                return w < 0 ? errno : ENOSPC;
            i += (size_t)w;
        }
    }
    k->off += k->fill;
    k->fill = 0;
    return 0;
}

static const char *test_command(const char *format)
{
    return strcmp(format, "zstd") == 0 ? "zstd -t"
           : strcmp(format, "xz") == 0 ? "xz -t"
           : strcmp(format, "lz4") == 0 ? "lz4 -t"
                                        : "gzip -t";
}

static pymac_status write_error(int e, const char *dir, const char *path, uint64_t done,
                                pymac_error *err)
{
    if (e == ENOSPC || e == EDQUOT)
        return pm_fail(err, PYMAC_E_IO,
                       "set TMPDIR to a directory with room for the whole core, or decompress "
                       "it yourself",
                       "no space left in %s for the decompressed core of %s (at %llu MiB of it)",
                       dir, path, (unsigned long long)(done >> 20));
    return pm_fail(err, PYMAC_E_IO, "set TMPDIR to a writable directory with room for the core",
                   "cannot write the decompressed core of %s to %s: %s", path, dir, strerror(e));
}

typedef struct run {
    int in_fd;
    const char *path, *format, *dir;
    pm_codec *codec;
    unsigned char *in_buf;
    sink k;
    uint64_t total, in_done;
    pymac_progress_fn progress;
    void *progress_ctx;
    char what[64];
} run;

static pymac_status decode(run *r, pymac_error *err)
{
    const unsigned char *in = r->in_buf;
    size_t in_left = 0;
    bool eof = false, at_end = false, checked = false;
    int stalls = 0;
    for (;;) {
        if (in_left == 0 && !eof) {
            ssize_t n = read(r->in_fd, r->in_buf, IN_CHUNK);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                return pm_fail(err, PYMAC_E_IO, "check the file and the disk it is on",
                               "cannot read %s: %s", r->path, strerror(errno));
            eof = n == 0;
            in = r->in_buf;
            in_left = (size_t)n;
            r->in_done += (uint64_t)n;
            if (r->progress && n)
                r->progress(r->progress_ctx, r->what, r->in_done, r->total);
        }
        if (eof && in_left == 0 && at_end)
            break;
        unsigned char *out = r->k.buf + r->k.fill;
        size_t room = STAGE - r->k.fill, had_in = in_left, had_room = room;
        const char *why = "";
        pm_codec_result cr = pm_codec_step(r->codec, &in, &in_left, &out, &room, eof, &why);
        r->k.fill += had_room - room;
        bool progressed = room != had_room || in_left != had_in;
        if (cr == PM_CODEC_NOMEM)
            return pm_fail(err, PYMAC_E_NOMEM, NULL, "out of memory decompressing %s", r->path);
        if (cr == PM_CODEC_ERROR || (!progressed && in_left && ++stalls > 2)) {
            char hint[128];
            snprintf(hint, sizeof hint, "the file is damaged; copy it again (%s checks it)",
                     test_command(r->format));
            /* (where in the chunk read last, the libraries do not all say) */
            return pm_fail(err, PYMAC_E_IO, hint,
                           "%s: corrupt %s stream within its first %llu of %llu bytes: %s",
                           r->path, r->format, (unsigned long long)r->in_done,
                           (unsigned long long)r->total,
                           cr == PM_CODEC_ERROR ? why : "the decoder makes no progress");
        }
        if (progressed)
            stalls = 0;
        if (cr == PM_CODEC_END)
            at_end = true;
        else if (progressed)
            at_end = false;
        if (!checked && r->k.off + r->k.fill >= 4) {
            /* fail early, before writing gigabytes of something else */
            if (memcmp(r->k.buf, "\177ELF", 4) != 0)
                return pm_fail(err, PYMAC_E_NOT_CORE,
                               "give a core file (gcore PID, or a kernel core dump), compressed "
                               "or not",
                               "%s decompresses (%s) to something that is not an ELF core",
                               r->path, r->format);
            checked = true;
        }
        if (r->k.fill == STAGE) {
            int e = flush(&r->k);
            if (e)
                return write_error(e, r->dir, r->path, r->k.off + r->k.fill, err);
        }
        if (eof && in_left == 0 && !progressed && !at_end)
            return pm_fail(err, PYMAC_E_TRUNCATED,
                           "the file was cut short while being written or copied; copy it again",
                           "%s: the %s stream ends early, after %llu compressed bytes (%llu "
                           "decompressed)",
                           r->path, r->format, (unsigned long long)r->total,
                           (unsigned long long)(r->k.off + r->k.fill));
    }
    int e = flush(&r->k);
    if (e)
        return write_error(e, r->dir, r->path, r->k.off + r->k.fill, err);
    if (!checked)
        return pm_fail(err, PYMAC_E_NOT_CORE,
                       "give a core file (gcore PID, or a kernel core dump), compressed or not",
                       "%s decompresses (%s) to %llu bytes, not an ELF core", r->path, r->format,
                       (unsigned long long)r->k.off);
    /* the size, past trailing holes */
    if (ftruncate(r->k.fd, (off_t)r->k.off) != 0)
        return write_error(errno, r->dir, r->path, r->k.off, err);
    return PYMAC_OK;
}

pymac_status pm_decompress(int in_fd, const char *path, const char *format,
                           pymac_progress_fn progress, void *progress_ctx,
                           pm_decompressed *out, pymac_error *err)
{
    memset(out, 0, sizeof *out);
    out->fd = -1;
    struct stat st;
    if (fstat(in_fd, &st) != 0 || lseek(in_fd, 0, SEEK_SET) != 0)
        return pm_fail(err, PYMAC_E_IO, NULL, "cannot read %s: %s", path, strerror(errno));
    run r = {.in_fd = in_fd, .path = path, .format = format, .dir = tmp_dir(),
             .total = (uint64_t)st.st_size, .progress = progress,
             .progress_ctx = progress_ctx, .k = {.fd = -1}};
    snprintf(r.what, sizeof r.what, "decompressing %s core", format);
    r.codec = pm_codec_new(format);
    r.in_buf = malloc(IN_CHUNK);
    r.k.buf = malloc(STAGE);
    pymac_status s;
    if (!r.codec || !r.in_buf || !r.k.buf) {
        s = pm_fail(err, PYMAC_E_NOMEM, NULL, "out of memory decompressing %s", path);
    } else if ((r.k.fd = open_temp(r.dir)) < 0) {
        s = pm_fail(err, PYMAC_E_IO,
                    "set TMPDIR to a writable directory with room for the decompressed core",
                    "cannot make a temporary file in %s for the decompressed core: %s", r.dir,
                    strerror(errno));
    } else {
        s = decode(&r, err);
    }
    if (progress)
        progress(progress_ctx, r.what, r.total, r.total); /* the end, also of a failure */
    pm_codec_free(r.codec);
    free(r.in_buf);
    free(r.k.buf);
    if (s) {
        if (r.k.fd >= 0)
            close(r.k.fd); /* nameless: closing it frees its blocks */
        return s;
    }
    out->fd = r.k.fd;
    out->format = format;
    out->compressed_bytes = r.total;
    out->bytes = r.k.off;
    return PYMAC_OK;
}
