/* decompress.c and codecs.c on streams made here with zlib and libzstd: the
 * bytes come back exactly, zero pages as holes, concatenated members and
 * frames as one stream; cut, damaged and foreign streams fail as documented
 * and leave no descriptor. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "decompress.h"
#include "unit.h"

enum { SIZE = (3 << 20) + 123 }; /* not a whole number of pages, nor of stages */

/* An "ELF" image: the magic, then pages alternately of bytes and of zeros. */
static unsigned char *image(void)
{
    unsigned char *p = calloc(1, SIZE);
    for (size_t i = 0; i < SIZE; i++)
        if ((i / 4096) % 2 == 0)
            p[i] = (unsigned char)(i * 131 + 7);
    memcpy(p, "\177ELF", 4);
    memset(p + SIZE - 5000, 0, 5000); /* trailing zeros: a hole at the end */
    p[SIZE - 5000 - 1] = 1;
    return p;
}

static size_t gzip_member(const unsigned char *in, size_t n, unsigned char *out, size_t cap)
{
    z_stream z = {0};
    CU_ASSERT_EQUAL_FATAL(deflateInit2(&z, 1, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
                          Z_OK);
    z.next_in = (unsigned char *)in;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    CU_ASSERT_EQUAL(deflate(&z, Z_FINISH), Z_STREAM_END);
    size_t len = cap - z.avail_out;
    deflateEnd(&z);
    return len;
}

/* A file holding n bytes of data, rewound. */
static FILE *file_of(const unsigned char *data, size_t n)
{
    FILE *f = tmpfile();
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(fwrite(data, 1, n, f), n);
    fflush(f);
    rewind(f);
    return f;
}

static uint64_t last_done, last_total;
static void progress(void *ctx, const char *what, uint64_t done, uint64_t total)
{
    (void)what;
    ++*(int *)ctx;
    last_done = done;
    last_total = total;
}

static pymac_status run(const unsigned char *data, size_t n, const char *format,
                        pm_decompressed *d, pymac_error *err)
{
    FILE *f = file_of(data, n);
    pymac_status st = pm_decompress(fileno(f), "test", format, NULL, NULL, d, err);
    fclose(f);
    return st;
}

static void expect_content(int fd, const unsigned char *want, size_t n)
{
    struct stat st;
    CU_ASSERT_EQUAL_FATAL(fstat(fd, &st), 0);
    CU_ASSERT_EQUAL(st.st_size, (off_t)n);
    CU_ASSERT_EQUAL(st.st_nlink, 0); /* nameless from the start */
    unsigned char *got = malloc(n);
    CU_ASSERT_EQUAL_FATAL(pread(fd, got, n, 0), (ssize_t)n);
    CU_ASSERT_EQUAL(memcmp(got, want, n), 0);
    free(got);
}

static void test_magic(void)
{
    CU_ASSERT_STRING_EQUAL(pm_compression_of((const unsigned char *)"\x28\xb5\x2f\xfd\x00", 5),
                           "zstd");
    CU_ASSERT_STRING_EQUAL(pm_compression_of((const unsigned char *)"\xfd" "7zXZ\0", 6), "xz");
    CU_ASSERT_STRING_EQUAL(pm_compression_of((const unsigned char *)"\x04\x22\x4d\x18", 4),
                           "lz4");
    CU_ASSERT_STRING_EQUAL(pm_compression_of((const unsigned char *)"\x1f\x8b\x08", 3), "gzip");
    CU_ASSERT_PTR_NULL(pm_compression_of((const unsigned char *)"\177ELF\2\1\1", 7));
    CU_ASSERT_PTR_NULL(pm_compression_of((const unsigned char *)"\xfd" "7zX", 4)); /* short */
    CU_ASSERT_PTR_NULL(pm_compression_of((const unsigned char *)"", 0));
}

static void test_gzip_members_and_holes(void)
{
    unsigned char *img = image();
    size_t cap = SIZE + (1 << 20);
    unsigned char *gz = malloc(cap);
    /* two members, split mid-page: gzip a b > c.gz */
    size_t half = SIZE / 2 + 17;
    size_t n = gzip_member(img, half, gz, cap);
    n += gzip_member(img + half, SIZE - half, gz + n, cap - n);
    pm_decompressed d;
    pymac_error err = {0};
    int calls = 0;
    FILE *f = file_of(gz, n);
    CU_ASSERT_EQUAL_FATAL(pm_decompress(fileno(f), "t.gz", "gzip", progress, &calls, &d, &err),
                          PYMAC_OK);
    fclose(f);
    CU_ASSERT_STRING_EQUAL(d.format, "gzip");
    CU_ASSERT_EQUAL(d.compressed_bytes, n);
    CU_ASSERT_EQUAL(d.bytes, SIZE);
    CU_ASSERT_TRUE(calls >= 2);
    CU_ASSERT_EQUAL(last_done, n); /* the end is reported */
    CU_ASSERT_EQUAL(last_total, n);
    expect_content(d.fd, img, SIZE);
    /* about half the pages are zeros: they must not take room */
    struct stat st;
    fstat(d.fd, &st);
    CU_ASSERT_TRUE((uint64_t)st.st_blocks * 512 <= SIZE / 2 + (1 << 20));
    close(d.fd);
    free(gz);
    free(img);
}

static void test_zstd_frames(void)
{
    unsigned char *img = image();
    size_t cap = ZSTD_compressBound(SIZE) + 64;
    unsigned char *z = malloc(cap);
    size_t a = ZSTD_compress(z, cap, img, 1000, 1);
    size_t b = ZSTD_compress(z + a, cap - a, img + 1000, SIZE - 1000, 1);
    CU_ASSERT_FALSE_FATAL(ZSTD_isError(a) || ZSTD_isError(b));
    pm_decompressed d;
    pymac_error err = {0};
    CU_ASSERT_EQUAL_FATAL(run(z, a + b, "zstd", &d, &err), PYMAC_OK);
    expect_content(d.fd, img, SIZE);
    close(d.fd);
    free(z);
    free(img);
}

static void test_bad_streams(void)
{
    unsigned char *img = image();
    size_t cap = SIZE + (1 << 20);
    unsigned char *gz = malloc(cap);
    size_t n = gzip_member(img, SIZE, gz, cap);
    pm_decompressed d;
    pymac_error err = {0};
    /* cut anywhere: truncated, no descriptor */
    size_t cuts[] = {2, 10, 11, n / 3, n - 8, n - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        CU_ASSERT_EQUAL(run(gz, cuts[i], "gzip", &d, &err), PYMAC_E_TRUNCATED);
        CU_ASSERT_EQUAL(d.fd, -1);
        CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "ends early"));
    }
    /* damaged: the CRC or the data itself says so */
    unsigned char *bad = malloc(n);
    memcpy(bad, gz, n);
    for (size_t i = n / 2; i < n / 2 + 32; i++)
        bad[i] ^= 0xa5;
    CU_ASSERT_EQUAL(run(bad, n, "gzip", &d, &err), PYMAC_E_IO);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "corrupt gzip stream"));
    CU_ASSERT_EQUAL(d.fd, -1);
    /* not ELF inside */
    img[0] = 'X';
    n = gzip_member(img, SIZE, gz, cap);
    CU_ASSERT_EQUAL(run(gz, n, "gzip", &d, &err), PYMAC_E_NOT_CORE);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "not an ELF core"));
    /* nothing inside */
    n = gzip_member(img, 0, gz, cap);
    CU_ASSERT_EQUAL(run(gz, n, "gzip", &d, &err), PYMAC_E_NOT_CORE);
    /* garbage after a good stream */
    img[0] = 0x7f;
    n = gzip_member(img, 4096, gz, cap);
    memcpy(gz + n, "garbage!", 8);
    CU_ASSERT_EQUAL(run(gz, n + 8, "gzip", &d, &err), PYMAC_E_IO);
    free(bad);
    free(gz);
    free(img);
}

bool register_decompress_tests(void)
{
    static const unit_test tests[] = {
        {"magic bytes", test_magic},
        {"gzip: two members, exact bytes, zero pages as holes", test_gzip_members_and_holes},
        {"zstd: two frames, exact bytes", test_zstd_frames},
        {"cut, damaged, foreign, empty and trailing-garbage streams", test_bad_streams},
        {NULL, NULL},
    };
    return unit_add_suite("decompress", NULL, NULL, tests);
}
