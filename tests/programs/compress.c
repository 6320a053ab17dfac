/*
 * compress.c - three small compressors and their decompressors, run on
 * generated buffers: LZ77 with hash chains, canonical Huffman coding, and
 * LZW with variable-width codes, plus LZ77 followed by Huffman.
 *
 * For every buffer and method it compresses, decompresses, checks that the
 * round trip gives back the input, and prints the sizes and checksums
 * (CRC-32 of the input, Adler-32 of the compressed data).  The exit status
 * is 1 if any round trip fails.  Everything is deterministic: the buffers
 * come from a fixed-seed generator, and only integer arithmetic decides the
 * output bytes.
 */
#include <stdint.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_INPUT 65536
#define MAX_OUTPUT (3 * MAX_INPUT + 1024)

/* ------------------------------------------------------------------ */
/* Checksums                                                            */

static uint32_t crc_table[256];

static void crc32_init(void)
{
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[n] = c;
    }
}

static uint32_t crc32(const uint8_t *buf, size_t len)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < len; i++)
        c = crc_table[(c ^ buf[i]) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

static uint32_t adler32(const uint8_t *buf, size_t len)
{
    uint32_t a = 1, b = 0;
    for (size_t i = 0; i < len; i++) {
        a = (a + buf[i]) % 65521u;
        b = (b + a) % 65521u;
    }
    return (b << 16) | a;
}

/* ------------------------------------------------------------------ */
/* Bit streams, least significant bit first                             */

struct bit_writer {
    uint8_t *out;
    size_t pos, cap;
    uint32_t acc;
    int nbits;
};

static void put_bits(struct bit_writer *w, uint32_t value, int count)
{
    w->acc |= value << w->nbits;
    w->nbits += count;
    while (w->nbits >= 8) {
        if (w->pos < w->cap) w->out[w->pos] = (uint8_t)w->acc;
        w->pos++;
        w->acc >>= 8;
        w->nbits -= 8;
    }
}

static size_t flush_bits(struct bit_writer *w)
{
    if (w->nbits > 0) put_bits(w, 0, 8 - w->nbits);
    return w->pos;
}

struct bit_reader {
    const uint8_t *in;
    size_t pos, len;
    uint32_t acc;
    int nbits;
};

/* Returns the next bit, or -1 past the end of the input. */
static int get_bit(struct bit_reader *r)
{
    if (r->nbits == 0) {
        if (r->pos >= r->len) return -1;
        r->acc = r->in[r->pos++];
        r->nbits = 8;
    }
    int bit = (int)(r->acc & 1);
    r->acc >>= 1;
    r->nbits--;
    return bit;
}

static int64_t get_bits(struct bit_reader *r, int count)
{
    uint32_t v = 0;
    for (int i = 0; i < count; i++) {
        int bit = get_bit(r);
        if (bit < 0) return -1;
        v |= (uint32_t)bit << i;
    }
    return v;
}

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* ------------------------------------------------------------------ */
/* LZ77: flag byte per 8 items; literal = 1 byte; match = 2 bytes of     */
/* distance - 1 and 1 byte of length - 3.                               */

#define LZ_WINDOW 32768
#define LZ_MIN 3
#define LZ_MAX 258
#define LZ_HASH_BITS 13
#define LZ_CHAIN 64

static int32_t lz_head[1 << LZ_HASH_BITS];
static int32_t lz_prev[MAX_INPUT];

static uint32_t lz_hash(const uint8_t *p)
{
    uint32_t v = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
    return (v * 2654435761u) >> (32 - LZ_HASH_BITS);
}

static void lz_insert(const uint8_t *in, size_t i, size_t len)
{
    if (i + LZ_MIN > len) return;
    uint32_t h = lz_hash(in + i);
    lz_prev[i] = lz_head[h];
    lz_head[h] = (int32_t)i;
}

static size_t lz77_compress(const uint8_t *in, size_t len, uint8_t *out)
{
    for (size_t h = 0; h < (1u << LZ_HASH_BITS); h++) lz_head[h] = -1;
    size_t o = 0, flag_pos = 0;
    int item = 8;
    size_t i = 0;
    while (i < len) {
        if (item == 8) {
            flag_pos = o++;
            out[flag_pos] = 0;
            item = 0;
        }
        size_t best_len = 0, best_dist = 0;
        if (i + LZ_MIN <= len) {
            int32_t cand = lz_head[lz_hash(in + i)];
            size_t max = len - i < LZ_MAX ? len - i : LZ_MAX;
            for (int chain = 0; cand >= 0 && chain < LZ_CHAIN; chain++) {
                size_t dist = i - (size_t)cand;
                if (dist > LZ_WINDOW) break;
                size_t n = 0;
                while (n < max && in[cand + n] == in[i + n]) n++;
                if (n > best_len) {
                    best_len = n;
                    best_dist = dist;
                    if (n == max) break;
                }
                cand = lz_prev[cand];
            }
        }
        if (best_len >= LZ_MIN) {
            out[flag_pos] |= (uint8_t)(1u << item);
            out[o++] = (uint8_t)((best_dist - 1) & 0xFF);
            out[o++] = (uint8_t)((best_dist - 1) >> 8);
            out[o++] = (uint8_t)(best_len - LZ_MIN);
            for (size_t k = 0; k < best_len; k++) lz_insert(in, i + k, len);
            i += best_len;
        } else {
            out[o++] = in[i];
            lz_insert(in, i, len);
            i++;
        }
        item++;
    }
    return o;
}

/* Returns the decompressed length, or (size_t)-1 on corrupt input. */
static size_t lz77_decompress(const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
    size_t i = 0, o = 0;
    while (i < len) {
        uint8_t flags = in[i++];
        for (int item = 0; item < 8 && i < len; item++) {
            if (flags & (1u << item)) {
                if (i + 3 > len) return (size_t)-1;
                size_t dist = ((size_t)in[i] | (size_t)in[i + 1] << 8) + 1;
                size_t n = (size_t)in[i + 2] + LZ_MIN;
                i += 3;
                if (dist > o || o + n > cap) return (size_t)-1;
                for (size_t k = 0; k < n; k++, o++) out[o] = out[o - dist];
            } else {
                if (o >= cap) return (size_t)-1;
                out[o++] = in[i++];
            }
        }
    }
    return o;
}

/* ------------------------------------------------------------------ */
/* Canonical Huffman: 4-byte length, 128 bytes of 4-bit code lengths,    */
/* then the codes.  Code lengths are limited to 15 bits.                */

#define HUFF_MAX_BITS 15

static void huff_lengths(const uint32_t freq_in[256], uint8_t lengths[256])
{
    uint32_t freq[256];
    memcpy(freq, freq_in, sizeof freq);
    for (;;) {
        /* nodes 0..255 are leaves, 256.. are internal */
        uint32_t weight[512];
        int parent[512], alive[512];
        int nnodes = 256, nalive = 0;
        for (int s = 0; s < 256; s++) {
            weight[s] = freq[s];
            parent[s] = -1;
            alive[s] = freq[s] > 0;
            nalive += alive[s];
            lengths[s] = 0;
        }
        if (nalive == 0) return;
        if (nalive == 1) {
            for (int s = 0; s < 256; s++)
                if (alive[s]) lengths[s] = 1;
            return;
        }
        while (nalive > 1) {
            /* the two lightest live nodes; ties go to the lower index */
            int a = -1, b = -1;
            for (int n = 0; n < nnodes; n++) {
                if (!alive[n]) continue;
                if (a < 0 || weight[n] < weight[a]) { b = a; a = n; }
                else if (b < 0 || weight[n] < weight[b]) b = n;
            }
            weight[nnodes] = weight[a] + weight[b];
            parent[nnodes] = -1;
            alive[nnodes] = 1;
            parent[a] = parent[b] = nnodes;
            alive[a] = alive[b] = 0;
            nnodes++;
            nalive--;
        }
        int too_long = 0;
        for (int s = 0; s < 256; s++) {
            if (!freq[s]) continue;
            int depth = 0;
            for (int n = s; parent[n] >= 0; n = parent[n]) depth++;
            lengths[s] = (uint8_t)depth;
            if (depth > HUFF_MAX_BITS) too_long = 1;
        }
        if (!too_long) return;
        /* flatten the distribution and try again */
        for (int s = 0; s < 256; s++)
            if (freq[s]) freq[s] = (freq[s] >> 1) | 1;
    }
}

/* Assigns canonical codes (bit-reversed for LSB-first output). */
static void huff_codes(const uint8_t lengths[256], uint32_t codes[256])
{
    int count[HUFF_MAX_BITS + 1] = {0};
    uint32_t next[HUFF_MAX_BITS + 2];
    for (int s = 0; s < 256; s++) count[lengths[s]]++;
    count[0] = 0;
    uint32_t code = 0;
    for (int bits = 1; bits <= HUFF_MAX_BITS; bits++) {
        code = (code + (uint32_t)count[bits - 1]) << 1;
        next[bits] = code;
    }
    for (int s = 0; s < 256; s++) {
        int len = lengths[s];
        if (!len) { codes[s] = 0; continue; }
        uint32_t c = next[len]++, rev = 0;
        for (int k = 0; k < len; k++) rev |= ((c >> k) & 1u) << (len - 1 - k);
        codes[s] = rev;
    }
}

static size_t huff_compress(const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
    uint32_t freq[256] = {0}, codes[256];
    uint8_t lengths[256];
    for (size_t i = 0; i < len; i++) freq[in[i]]++;
    huff_lengths(freq, lengths);
    huff_codes(lengths, codes);
    put_u32(out, (uint32_t)len);
    for (int s = 0; s < 256; s += 2)
        out[4 + s / 2] = (uint8_t)(lengths[s] | lengths[s + 1] << 4);
    struct bit_writer w = {out, 4 + 128, cap, 0, 0};
    for (size_t i = 0; i < len; i++) put_bits(&w, codes[in[i]], lengths[in[i]]);
    return flush_bits(&w);
}

static size_t huff_decompress(const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
    if (len < 4 + 128) return (size_t)-1;
    size_t n = get_u32(in);
    if (n > cap) return (size_t)-1;
    uint8_t lengths[256];
    int count[HUFF_MAX_BITS + 1] = {0};
    for (int s = 0; s < 256; s += 2) {
        lengths[s] = in[4 + s / 2] & 15;
        lengths[s + 1] = in[4 + s / 2] >> 4;
    }
    for (int s = 0; s < 256; s++) count[lengths[s]]++;
    count[0] = 0;
    /* symbols sorted by (length, value), as in the canonical order */
    int symbols[256], k = 0;
    for (int bits = 1; bits <= HUFF_MAX_BITS; bits++) {
        for (int s = 0; s < 256; s++)
            if (lengths[s] == bits) symbols[k++] = s;
    }
    struct bit_reader r = {in, 4 + 128, len, 0, 0};
    for (size_t i = 0; i < n; i++) {
        int code = 0, first = 0, index = 0, sym = -1;
        for (int bits = 1; bits <= HUFF_MAX_BITS; bits++) {
            int bit = get_bit(&r);
            if (bit < 0) return (size_t)-1;
            code |= bit;
            if (code - first < count[bits]) {
                sym = symbols[index + (code - first)];
                break;
            }
            index += count[bits];
            first = (first + count[bits]) << 1;
            code <<= 1;
        }
        if (sym < 0) return (size_t)-1;
        out[i] = (uint8_t)sym;
    }
    return n;
}

/* ------------------------------------------------------------------ */
/* LZW: codes of 9 to 12 bits; 256 = clear, 257 = end of data.  The     */
/* small table fills up often, which exercises the clear code.          */

#define LZW_CLEAR 256
#define LZW_END 257
#define LZW_FIRST 258
#define LZW_MAX_BITS 12
#define LZW_CODES (1 << LZW_MAX_BITS)
#define LZW_HASH 8191 /* a prime above twice the number of codes */

static int32_t lzw_hash_key[LZW_HASH];  /* prefix << 8 | byte, or -1 */
static int32_t lzw_hash_code[LZW_HASH];
static int32_t lzw_prefix[LZW_CODES];
static uint8_t lzw_suffix[LZW_CODES];
static uint8_t lzw_stack[LZW_CODES];

static void lzw_reset_table(void)
{
    for (int i = 0; i < LZW_HASH; i++) lzw_hash_key[i] = -1;
}

static int lzw_slot(int32_t key)
{
    uint32_t h = ((uint32_t)key * 2654435761u) % LZW_HASH;
    while (lzw_hash_key[h] != -1 && lzw_hash_key[h] != key)
        h = h + 1 == LZW_HASH ? 0 : h + 1;
    return (int)h;
}

static size_t lzw_compress(const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
    struct bit_writer w = {out, 0, cap, 0, 0};
    int width = 9, next = LZW_FIRST;
    lzw_reset_table();
    if (len == 0) {
        put_bits(&w, LZW_END, width);
        return flush_bits(&w);
    }
    int32_t prefix = in[0];
    for (size_t i = 1; i < len; i++) {
        int32_t key = prefix << 8 | in[i];
        int slot = lzw_slot(key);
        if (lzw_hash_key[slot] == key) {
            prefix = lzw_hash_code[slot];
            continue;
        }
        put_bits(&w, (uint32_t)prefix, width);
        if (next < LZW_CODES) {
            lzw_hash_key[slot] = key;
            lzw_hash_code[slot] = next++;
            /* the decoder learns each code one step later than we do */
            if (next > (1 << width) && width < LZW_MAX_BITS) width++;
        } else {
            put_bits(&w, LZW_CLEAR, width);
            lzw_reset_table();
            width = 9;
            next = LZW_FIRST;
        }
        prefix = in[i];
    }
    put_bits(&w, (uint32_t)prefix, width);
    if (next < LZW_CODES && next + 1 > (1 << width) && width < LZW_MAX_BITS) width++;
    put_bits(&w, LZW_END, width);
    return flush_bits(&w);
}

static size_t lzw_decompress(const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
    struct bit_reader r = {in, 0, len, 0, 0};
    int width = 9, next = LZW_FIRST;
    int32_t prev = -1;
    uint8_t first_byte = 0;
    size_t o = 0;
    for (;;) {
        int64_t code = get_bits(&r, width);
        if (code < 0) return (size_t)-1;
        if (code == LZW_END) return o;
        if (code == LZW_CLEAR) {
            width = 9;
            next = LZW_FIRST;
            prev = -1;
            continue;
        }
        int32_t c = (int32_t)code;
        int sp = 0;
        if (c < 256) {
            lzw_stack[sp++] = (uint8_t)c;
        } else if (c < next && prev >= 0) {
            for (int32_t k = c; k >= 256; k = lzw_prefix[k]) lzw_stack[sp++] = lzw_suffix[k];
            int32_t k = c;
            while (k >= 256) k = lzw_prefix[k];
            lzw_stack[sp++] = (uint8_t)k;
        } else if (c == next && prev >= 0) {
            /* the KwKwK case: the code being defined right now */
            lzw_stack[sp++] = first_byte;
            int32_t k = prev;
            for (; k >= 256; k = lzw_prefix[k]) lzw_stack[sp++] = lzw_suffix[k];
            lzw_stack[sp++] = (uint8_t)k;
        } else {
            return (size_t)-1;
        }
        first_byte = lzw_stack[sp - 1];
        if (o + (size_t)sp > cap) return (size_t)-1;
        while (sp > 0) out[o++] = lzw_stack[--sp];
        if (prev >= 0 && next < LZW_CODES) {
            lzw_prefix[next] = prev;
            lzw_suffix[next] = first_byte;
            next++;
        }
        if (next + 1 > (1 << width) && width < LZW_MAX_BITS && next < LZW_CODES) width++;
        prev = c;
    }
}

/* ------------------------------------------------------------------ */
/* Test data                                                            */

static uint64_t rng_state;

static uint32_t rng(void)
{
    /* xorshift64* */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 2685821657736338717ull) >> 32);
}

static const char *const words[] = {
    "the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "and",
    "a", "switchyard", "moves", "trains", "between", "tracks", "while",
    "engine", "compiles", "functions", "into", "machine", "code", "of",
    "stack", "switching", "web", "assembly", "module", "runs", "fast",
};

static size_t gen_text(uint8_t *buf, size_t len)
{
    size_t o = 0;
    int col = 0;
    while (o < len) {
        const char *w = words[rng() % (sizeof words / sizeof words[0])];
        size_t n = strlen(w);
        for (size_t k = 0; k < n && o < len; k++) buf[o++] = (uint8_t)w[k];
        col += (int)n + 1;
        if (o < len) buf[o++] = col > 60 ? '\n' : (rng() % 16 == 0 ? ',' : ' ');
        if (col > 60) col = 0;
    }
    return len;
}

static size_t gen_runs(uint8_t *buf, size_t len)
{
    size_t o = 0;
    while (o < len) {
        uint8_t b = (uint8_t)(rng() % 4 + 'A');
        size_t run = rng() % 50 + 1;
        for (size_t k = 0; k < run && o < len; k++) buf[o++] = b;
    }
    return len;
}

static size_t gen_random(uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) buf[i] = (uint8_t)rng();
    return len;
}

static size_t gen_zeros(uint8_t *buf, size_t len)
{
    memset(buf, 0, len);
    return len;
}

static size_t gen_records(uint8_t *buf, size_t len)
{
    size_t o = 0;
    for (uint32_t id = 0; o < len; id++) {
        char line[64];
        /* two statements: the order in which arguments are evaluated is
         * unspecified (gcc and clang differ) */
        uint32_t value = rng() % 1000;
        const char *flag = rng() % 3 ? "yes" : "no";
        int n = snprintf(line, sizeof line, "id=%05" PRIu32 ",value=%" PRIu32 ",flag=%s\n",
                         id, value, flag);
        for (int k = 0; k < n && o < len; k++) buf[o++] = (uint8_t)line[k];
    }
    return len;
}

static size_t gen_empty(uint8_t *buf, size_t len)
{
    (void)buf;
    (void)len;
    return 0;
}

static size_t gen_one(uint8_t *buf, size_t len)
{
    (void)len;
    buf[0] = 'x';
    return 1;
}

/* ------------------------------------------------------------------ */
/* Driver                                                               */

static uint8_t input[MAX_INPUT];
static uint8_t packed[MAX_OUTPUT];
static uint8_t packed2[MAX_OUTPUT];
static uint8_t unpacked[MAX_OUTPUT];
static uint8_t unpacked2[MAX_OUTPUT];

static int failures;
static uint32_t grand_total;

static void report(const char *method, size_t in_len, const uint8_t *comp, size_t comp_len,
                   const uint8_t *back, size_t back_len)
{
    int ok = back_len == in_len && memcmp(back, input, in_len) == 0;
    if (!ok) failures++;
    grand_total += (uint32_t)comp_len;
    printf("  %-10s %6zu bytes", method, comp_len);
    if (in_len) printf(" (%6.2f%%)", 100.0 * (double)comp_len / (double)in_len);
    else printf("          ");
    printf(" adler32 %08" PRIx32 " %s\n", adler32(comp, comp_len),
           ok ? "round trip ok" : "ROUND TRIP FAILED");
}

int main(void)
{
    static const struct {
        const char *name;
        size_t (*gen)(uint8_t *, size_t);
        size_t len;
    } cases[] = {
        {"text", gen_text, 65536},
        {"runs", gen_runs, 40000},
        {"records", gen_records, 50000},
        {"random", gen_random, 16384},
        {"zeros", gen_zeros, 30000},
        {"empty", gen_empty, 0},
        {"one-byte", gen_one, 1},
    };
    crc32_init();
    rng_state = 0x9E3779B97F4A7C15ull;
    printf("crc32(\"123456789\") = %08" PRIx32 "\n", crc32((const uint8_t *)"123456789", 9));
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        size_t len = cases[c].gen(input, cases[c].len);
        printf("%s: %zu bytes, crc32 %08" PRIx32 "\n", cases[c].name, len, crc32(input, len));

        size_t n = lz77_compress(input, len, packed);
        size_t m = lz77_decompress(packed, n, unpacked, sizeof unpacked);
        report("lz77", len, packed, n, unpacked, m);

        size_t n2 = huff_compress(input, len, packed2, sizeof packed2);
        m = huff_decompress(packed2, n2, unpacked, sizeof unpacked);
        report("huffman", len, packed2, n2, unpacked, m);

        /* LZ77 output fed to Huffman, then back again */
        n2 = huff_compress(packed, n, packed2, sizeof packed2);
        m = huff_decompress(packed2, n2, unpacked2, sizeof unpacked2);
        m = m == n ? lz77_decompress(unpacked2, m, unpacked, sizeof unpacked) : (size_t)-1;
        report("lz77+huff", len, packed2, n2, unpacked, m);

        n = lzw_compress(input, len, packed, sizeof packed);
        m = lzw_decompress(packed, n, unpacked, sizeof unpacked);
        report("lzw", len, packed, n, unpacked, m);
    }
    printf("total compressed bytes: %" PRIu32 "\n", grand_total);
    if (failures) {
        printf("%d round trips FAILED\n", failures);
        return 1;
    }
    printf("all round trips ok\n");
    return 0;
}
