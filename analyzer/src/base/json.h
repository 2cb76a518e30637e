/* Just enough JSON writing for the views: strings escaped, numbers as is. */
#ifndef PYMAC_JSON_H
#define PYMAC_JSON_H

#include <stdio.h>

/* Writes s as a JSON string literal (NULL as null). */
void pm_json_str(FILE *out, const char *s);
/* Writes "key": with the key escaped. */
void pm_json_key(FILE *out, const char *key);

#endif
