/* Text and JSON formatting: obmalloc's printone() lines, JSON strings, and
 * the warnings list. Expected strings are written out by hand. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "mallocstats.h"
#include "pm.h"
#include "render_json.h"
#include "unit.h"

/* ---- pm_printone ---- */

static char *printone(const char *msg, uint64_t value, uint64_t *ret)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    *ret = pm_printone(f, msg, value);
    fclose(f);
    return buf;
}

static void check_printone(const char *msg, uint64_t value, const char *want)
{
    uint64_t ret = 0;
    char *got = printone(msg, value, &ret);
    CU_ASSERT_PTR_NOT_NULL_FATAL(got);
    CU_ASSERT_STRING_EQUAL(got, want);
    CU_ASSERT_EQUAL(ret, value);
    if (strcmp(got, want) != 0)
        fprintf(stderr, "\n  got  \"%s\"\n  want \"%s\"", got, want);
    free(got);
}

/* 35 columns of message, '=', 21 of value, newline. */
#define LINE_LEN 58

static void test_printone(void)
{
    static const struct {
        const char *msg;
        uint64_t value;
        const char *want;
    } cases[] = {
        /* 24-char message + 11 spaces; 20 spaces + "0" */
        {"# arenas allocated total", 0,
         "# arenas allocated total           =                    0\n"},
        /* 18 + 17; 20 + "7" */
        {"# arenas reclaimed", 7,
         "# arenas reclaimed                 =                    7\n"},
        /* 27 + 8; 18 + "999" */
        {"# bytes in allocated blocks", 999,
         "# bytes in allocated blocks        =                  999\n"},
        /* 27 + 8; 16 + "1,000" */
        {"# bytes in available blocks", 1000,
         "# bytes in available blocks        =                1,000\n"},
        /* 5 + 30; 12 + "1,234,567" */
        {"Total", 1234567,
         "Total                              =            1,234,567\n"},
        /* 0 + 35; 6 + "1,000,000" (1 followed by 6 zeros) */
        {"", 1000000,
         "                                   =            1,000,000\n"},
        /* 35 + 0; 19 + "42" */
        {"12345678901234567890123456789012345", 42,
         "12345678901234567890123456789012345=                   42\n"},
        /* 21 characters exactly fill the field: 10^15 */
        {"x", 1000000000000000ull,
         "x                                  =1,000,000,000,000,000\n"},
        /* 4294967296 = 2^32: 13 characters, 8 spaces */
        {"# raw", 4294967296ull,
         "# raw                              =        4,294,967,296\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CU_ASSERT_EQUAL(strlen(cases[i].want), LINE_LEN); /* the fixture itself */
        check_printone(cases[i].msg, cases[i].value, cases[i].want);
    }
}

static void test_printone_long_message(void)
{
    /* A message past 35 columns is not padded (nor cut): '=' follows it.
     * 49 + 0; 15 + "12,345" */
    check_printone("a message that is longer than thirty-five columns", 12345,
                   "a message that is longer than thirty-five columns=               12,345\n");
}

/* ---- pm_json_str / pm_json_key ---- */

static char *json(const char *s, bool key)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    if (key)
        pm_json_key(f, s);
    else
        pm_json_str(f, s);
    fclose(f);
    return buf;
}

static void check_json(const char *s, const char *want)
{
    char *got = json(s, false);
    CU_ASSERT_PTR_NOT_NULL_FATAL(got);
    CU_ASSERT_STRING_EQUAL(got, want);
    if (strcmp(got, want) != 0)
        fprintf(stderr, "\n  got  %s\n  want %s", got, want);
    free(got);
}

static void test_json_str(void)
{
    check_json(NULL, "null");
    check_json("", "\"\"");
    check_json("builtins.dict", "\"builtins.dict\"");
    check_json("say \"hi\"", "\"say \\\"hi\\\"\"");
    check_json("C:\\path\\", "\"C:\\\\path\\\\\"");
    check_json("\\\"", "\"\\\\\\\"\"");
    check_json("a\nb\tc", "\"a\\nb\\tc\"");
    check_json("\r\b\f", "\"\\u000d\\u0008\\u000c\"");
    check_json("\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"");
    check_json(" ~/", "\" ~/\""); /* printable ASCII as is */
    check_json("caf\xc3\xa9 \xe2\x82\xac", "\"caf\xc3\xa9 \xe2\x82\xac\""); /* UTF-8 as is */

    char *k = json("a\"b", true);
    CU_ASSERT_PTR_NOT_NULL_FATAL(k);
    CU_ASSERT_STRING_EQUAL(k, "\"a\\\"b\": ");
    free(k);
}

/* ---- warnings ---- */

static void free_warnings(pymac_session *s)
{
    pm_warnings_clear(&s->warnings);
}

static void test_warnings(void)
{
    pymac_session s;
    memset(&s, 0, sizeof s);
    pm_warn(&s, "first\nline");
    pm_warn(&s, "say \"%s\" %d", "hi", 3);
    CU_ASSERT_EQUAL_FATAL(pymac_warning_count(&s), 2);
    CU_ASSERT_STRING_EQUAL(pymac_warning(&s, 0), "first?line"); /* one line each */
    CU_ASSERT_STRING_EQUAL(pymac_warning(&s, 1), "say \"hi\" 3");
    CU_ASSERT_PTR_NULL(pymac_warning(&s, 2));
    CU_ASSERT_EQUAL(pymac_warning_count(NULL), 0);

    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    pm_json_warnings(f, &s);
    fputc('|', f);
    pymac_render_warnings(&s, f);
    fclose(f);
    CU_ASSERT_STRING_EQUAL(buf, "\"warnings\": [\"first?line\", \"say \\\"hi\\\" 3\"]|"
                                "warning: first?line\nwarning: say \"hi\" 3\n");
    free(buf);

    /* At most 1000 are kept. */
    for (int i = 0; i < 1100; i++)
        pm_warn(&s, "w%d", i);
    CU_ASSERT_EQUAL(pymac_warning_count(&s), 1000);
    CU_ASSERT_STRING_EQUAL(pymac_warning(&s, 999), "w997");
    free_warnings(&s);
}

/* ---- regressions: bugs these tests found, since fixed ---- */

/* A value wider than the 21-column field: CPython's printone() fills its
 * 22-byte buffer from the right and stops when it is full, so only the last
 * 21 characters are printed. pm_printone passes 21 - n (negative) as a
 * printf field width, which means left-justify |21 - n| spaces, and prints
 * "=     18,446,744,073,709,551,615": 5 stray spaces and every digit. */
static void test_bug_printone_overflow(void)
{
    check_printone("x", 10000000000000000ull, /* 10^16: 22 characters */
                   "x                                  =0,000,000,000,000,000\n");
    check_printone("x", UINT64_MAX,
                   "x                                  =6,744,073,709,551,615\n");
}

bool register_format_tests(void)
{
    static const unit_test tests[] = {
        {"printone lines", test_printone},
        {"printone with a long message", test_printone_long_message},
        {"JSON strings", test_json_str},
        {"warnings, text and JSON", test_warnings},
        {NULL, NULL},
    };
    /* Bugs these tests found, fixed since: kept as regressions. */
    static const unit_test bugs[] = {
        {"printone with a value wider than its field", test_bug_printone_overflow},
        {NULL, NULL},
    };
    if (!unit_add_suite("format", NULL, NULL, tests))
        return false;
    return unit_add_suite("format regressions", NULL, NULL, bugs);
}
