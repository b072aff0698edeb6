/*
 * harness.c - runs a generated qkeras-ts C model on a file of input code vectors and writes the output
 * codes, one line per sample. Built by src/sim/c-runner.ts together with the model and a generated
 * qk_glue.h that describes the model's inputs and outputs.
 *
 *   harness <vectors> <outputs> [repeat]
 *
 * <vectors>: binary "QKV1", u32 LE sample count, u32 LE codes per sample, int32 LE codes; or text,
 * whitespace-separated decimal integers (samples back to back). Codes per sample must equal
 * QK_GLUE_IN_WIDTH. [repeat] runs the whole set that many times (for timing; outputs are written once).
 * On success prints "qk-harness samples=<n> repeat=<r> seconds=<t>" to stderr, t being the processor
 * time spent in the predict calls only.
 */
#include "qk_glue.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "qk-harness: %s%s%s\n", what, detail[0] != '\0' ? ": " : "", detail);
    exit(1);
}

static unsigned char *read_all(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf = NULL;
    size_t cap = 0, len = 0;
    if (f == NULL) die("cannot open the vector file", strerror(errno));
    for (;;) {
        size_t got;
        if (len == cap) {
            unsigned char *next;
            cap = cap == 0 ? 65536 : cap * 2;
            next = (unsigned char *)realloc(buf, cap + 1);
            if (next == NULL) die("out of memory reading the vector file", "");
            buf = next;
        }
        got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) break;
    }
    if (ferror(f)) die("cannot read the vector file", strerror(errno));
    fclose(f);
    buf[len] = 0;
    *size = len;
    return buf;
}

static unsigned long le32(const unsigned char *p)
{
    return (unsigned long)p[0] | ((unsigned long)p[1] << 8) | ((unsigned long)p[2] << 16) | ((unsigned long)p[3] << 24);
}

/* Parses the vector file into codes; returns the number of samples. */
static long parse_vectors(unsigned char *buf, size_t size, long long **codes_out)
{
    long long *codes;
    long count, i;
    if (size >= 12 && memcmp(buf, "QKV1", 4) == 0) {
        const unsigned long n = le32(buf + 4);
        const unsigned long width = le32(buf + 8);
        if (width != (unsigned long)QK_GLUE_IN_WIDTH) die("the vector file's codes per sample do not match the model", "");
        if ((size - 12) / 4 != (size_t)n * width || (size - 12) % 4 != 0) die("the binary vector file is truncated", "");
        count = (long)n;
        codes = (long long *)malloc(sizeof(long long) * (size_t)(count > 0 ? count : 1) * (size_t)QK_GLUE_IN_WIDTH);
        if (codes == NULL) die("out of memory", "");
        for (i = 0; i < count * (long)QK_GLUE_IN_WIDTH; ++i) {
            const unsigned long u = le32(buf + 12 + 4 * (size_t)i);
            codes[i] = u >= 0x80000000UL ? (long long)u - 0x100000000LL : (long long)u;
        }
    } else {
        char *p = (char *)buf;
        long n = 0, cap = 1024;
        codes = (long long *)malloc(sizeof(long long) * (size_t)cap);
        if (codes == NULL) die("out of memory", "");
        for (;;) {
            char *end;
            long long v;
            while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t') ++p;
            if (*p == '\0') break;
            errno = 0;
            v = strtoll(p, &end, 10);
            if (end == p || errno != 0) die("the text vector file holds something that is not an integer", "");
            p = end;
            if (n == cap) {
                long long *next;
                cap *= 2;
                next = (long long *)realloc(codes, sizeof(long long) * (size_t)cap);
                if (next == NULL) die("out of memory", "");
                codes = next;
            }
            codes[n++] = v;
        }
        if (n % (long)QK_GLUE_IN_WIDTH != 0) die("the text vector file does not hold whole samples", "");
        count = n / (long)QK_GLUE_IN_WIDTH;
    }
    *codes_out = codes;
    return count;
}

int main(int argc, char **argv)
{
    size_t size;
    unsigned char *buf;
    long long *codes, *row;
    qk_glue_in *ins;
    qk_glue_out *outs;
    long count, k, r, repeat = 1;
    clock_t t0, t1;
    FILE *out;
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: %s <vectors> <outputs> [repeat]\n", argv[0]);
        return 2;
    }
    if (argc == 4) {
        repeat = strtol(argv[3], NULL, 10);
        if (repeat < 1) die("repeat must be a positive integer", argv[3]);
    }
    buf = read_all(argv[1], &size);
    count = parse_vectors(buf, size, &codes);
    free(buf);
    ins = (qk_glue_in *)malloc(sizeof(qk_glue_in) * (size_t)(count > 0 ? count : 1));
    outs = (qk_glue_out *)malloc(sizeof(qk_glue_out) * (size_t)(count > 0 ? count : 1));
    row = (long long *)malloc(sizeof(long long) * (size_t)QK_GLUE_OUT_WIDTH);
    if (ins == NULL || outs == NULL || row == NULL) die("out of memory", "");
    for (k = 0; k < count; ++k) {
        const long bad = qk_glue_load(&ins[k], codes + k * (long)QK_GLUE_IN_WIDTH);
        if (bad != 0) {
            char detail[96];
            sprintf(detail, "sample %ld, code %ld: %lld", k, bad - 1, codes[k * (long)QK_GLUE_IN_WIDTH + bad - 1]);
            die("an input code is outside its C type", detail);
        }
    }
    free(codes);
    t0 = clock();
    for (r = 0; r < repeat; ++r) {
        for (k = 0; k < count; ++k) qk_glue_predict(&ins[k], &outs[k]);
    }
    t1 = clock();
    out = fopen(argv[2], "w");
    if (out == NULL) die("cannot open the output file", strerror(errno));
    for (k = 0; k < count; ++k) {
        long i;
        qk_glue_store(&outs[k], row);
        for (i = 0; i < (long)QK_GLUE_OUT_WIDTH; ++i) fprintf(out, i == 0 ? "%lld" : " %lld", row[i]);
        fputc('\n', out);
    }
    if (fclose(out) != 0) die("cannot write the output file", strerror(errno));
    fprintf(stderr, "qk-harness samples=%ld repeat=%ld seconds=%.9f\n", count, repeat, (double)(t1 - t0) / (double)CLOCKS_PER_SEC);
    free(ins);
    free(outs);
    free(row);
    return 0;
}
