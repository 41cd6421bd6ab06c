/*
 * tiny_json.h: just enough JSON reading for the examples and tests (webex-native hands out JSON
 * text; a real program would use its own JSON library). Header-only, no allocation except
 * tj_string's copy.
 *
 *   const char *items = tj_find(result, "items");        // value of a top-level member
 *   for (const char *m = tj_first(items); m; m = tj_next(m)) {
 *       char *text = tj_string(m, "text");               // malloc'd copy, or NULL
 *       ...
 *       free(text);
 *   }
 *
 * Every function accepts NULL and returns NULL (or 0) for it, so a failed call upstream
 * cannot crash the reader.
 */
#ifndef TINY_JSON_H
#define TINY_JSON_H

#include <stdlib.h>
#include <string.h>

static inline const char *tj_ws(const char *p) {
    while (p && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) p++;
    return p;
}

/* The end of the string token starting at p (p at the opening quote). */
static inline const char *tj_skip_string(const char *p) {
    for (p++; *p && *p != '"'; p++) {
        if (*p == '\\' && p[1]) p++;
    }
    return *p ? p + 1 : p;
}

/* The end of the value starting at p. */
static inline const char *tj_skip(const char *p) {
    p = tj_ws(p);
    if (!p || !*p) return p;
    if (*p == '"') return tj_skip_string(p);
    if (*p == '{' || *p == '[') {
        int depth = 0;
        while (*p) {
            if (*p == '"') { p = tj_skip_string(p); continue; }
            if (*p == '{' || *p == '[') depth++;
            if (*p == '}' || *p == ']') {
                if (--depth == 0) return p + 1;
            }
            p++;
        }
        return p;
    }
    while (*p && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\n') p++;
    return p;
}

/* The value of member `key` of the object starting at `obj`, or NULL. */
static inline const char *tj_find(const char *obj, const char *key) {
    const char *p = tj_ws(obj);
    size_t klen = strlen(key);
    if (!p || *p != '{') return NULL;
    p = tj_ws(p + 1);
    while (p && *p == '"') {
        const char *kend = tj_skip_string(p);
        int match = (size_t)(kend - p) == klen + 2 && strncmp(p + 1, key, klen) == 0;
        p = tj_ws(kend);
        if (*p != ':') return NULL;
        p = tj_ws(p + 1);
        if (match) return p;
        p = tj_ws(tj_skip(p));
        if (*p != ',') return NULL;
        p = tj_ws(p + 1);
    }
    return NULL;
}

/* The first element of the array starting at `arr`, or NULL when empty or not an array. */
static inline const char *tj_first(const char *arr) {
    const char *p = tj_ws(arr);
    if (!p || *p != '[') return NULL;
    p = tj_ws(p + 1);
    return *p == ']' ? NULL : p;
}

/* The element after the one starting at `elem`, or NULL at the end. */
static inline const char *tj_next(const char *elem) {
    const char *p = tj_ws(tj_skip(elem));
    if (!p || *p != ',') return NULL;
    return tj_ws(p + 1);
}

static inline int tj_count(const char *arr) {
    int n = 0;
    for (const char *e = tj_first(arr); e; e = tj_next(e)) n++;
    return n;
}

/* A malloc'd copy of string member `key` of `obj` (escapes \" \\ \/ \n \t decoded), or NULL. */
static inline char *tj_string(const char *obj, const char *key) {
    const char *v = tj_find(obj, key);
    if (!v || *v != '"') return NULL;
    const char *end = tj_skip_string(v);
    char *out = malloc((size_t)(end - v));
    char *o = out;
    if (!out) return NULL;
    for (const char *p = v + 1; p < end - 1; p++) {
        if (*p == '\\' && p + 1 < end - 1) {
            p++;
            *o++ = *p == 'n' ? '\n' : *p == 't' ? '\t' : *p;
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    return out;
}

/* Whether member `key` of `obj` is the literal `literal` (e.g. "true", "null", "429"). */
static inline int tj_is(const char *obj, const char *key, const char *literal) {
    const char *v = tj_find(obj, key);
    size_t n = strlen(literal);
    return v && strncmp(v, literal, n) == 0 && (tj_skip(v) - v) == (long)n;
}

#endif /* TINY_JSON_H */
