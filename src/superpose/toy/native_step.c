/* One fused training step of a batch of toy models on the CPU: draw each instance's batch,
 * run the model and accumulate the hand-written gradients, one sample at a time, without
 * materialising any [batch, features] tensor.
 *
 * Why it is fast: a sample with k active features costs k·m for the encoder and for its
 * gradient, and the decoder and hidden gradients touch only the q outputs whose error is
 * nonzero (few, once the biases of sparse models turn negative); only the decoder forward
 * (n·m, skipping zero hidden units) is dense, and on sparse instances of models without a hidden
 * ReLU it goes through the Gram matrix W^T W instead (k·n). Dense instances, and every instance
 * of a model with many weights, go in blocks of SB samples, decoded together, so each weight and
 * gradient row is read once per block. With wide hidden layers (WIDE: 8 or more vectors per
 * row) a block's decoder, hidden gradient and weight gradient (and, with every feature active,
 * encoder and its gradient) are register-tiled matrix products: RT samples or features × 2
 * vectors of sums held in registers while the weights stream past once, skipping the features
 * (or samples) of a tile whose inputs are all zero; each sum still runs in a fixed order, so
 * the result stays bitwise reproducible. The hidden width m is a compile-time constant
 * (-DMH=m): per-feature rows of m weights, padded to whole vectors, are added in registers
 * (GCC/Clang vector extensions; lowered to whatever SIMD the machine has). Instances are
 * independent: worker threads take them one by one, each with its own random streams, so the
 * result does not depend on the number of threads.
 *
 * Shapes (row-major float32): W [I, m, n], W_out [I, n, m] (abs only), b, importance, density
 * [I, n]; outputs gW [I, m, n], gW_out [I, n, m], gb [I, n], loss [I]; x_out [I, B, n] (optional,
 * zero-filled by the caller: receives the sampled batch, for tests). Model kinds: 0 linear,
 * 1 relu_output, 2 relu_hidden, 3 abs; values: 0 uniform [0, 1), 1 signed [-1, 1), 2 boolean 1.
 * Structures: 0 independent features (density[f] each); 1 correlated sets of set_size features
 * (the set's density is the mean of its members': all members on together, else all off);
 * 2 anticorrelated sets (the set on with that density, then exactly one member, uniformly);
 * 3 exactly k features active per sample, uniformly. Active values are independent.
 */
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#endif

#ifndef MH
#error "compile with -DMH=<hidden width>"
#endif
/* floats per vector: a machine register's worth. With AVX-512, 16 (8 measured slower even where
   it pads less, at m = 20); without, 8: 16-float vectors lowered to AVX2 made the whole step
   6.7x slower (CPU time per step at 200->20x20 on an AMD EPYC with AVX2: 169 ms vs 25 ms) */
#ifdef __AVX512F__
#define VW 16
#else
#define VW 8
#endif
#define NV ((MH + VW - 1) / VW)         /* vectors per padded row */
#define MP (NV * VW)                    /* padded row length */
/* a row whose last vector is at most half used (m = 20: lanes 16-19 of 16-31) takes that vector
   as a half (VH floats): the same arithmetic on its lanes below VH, none on the padding above
   (on AMD Zen 4 a 512-bit multiply-add costs two 256-bit ones) */
#define VH (VW / 2)
#define HALF_TAIL (VW == 16 && MH - (NV - 1) * VW <= VH)
#define NF (NV - HALF_TAIL) /* whole vectors per row */
typedef float vf __attribute__((vector_size(VW * 4)));
typedef float vh __attribute__((vector_size(VH * 4)));
/* the lower half of a vector; stored into the lower half (the upper one, padding, kept) */
static inline vh lo(const vf *p) { vh x; memcpy(&x, p, sizeof x); return x; }
static inline void set_lo(vf *p, vh x) { memcpy(p, &x, sizeof x); }
/* samples per block on dense instances: each weight and gradient row is loaded once per block.
   Wide rows (WIDE: NV >= 8 vectors) take blocks of 32, and the block's dense products run as
   register-tiled matrix products: tiles of RT samples (or features) × 2 vectors in registers */
#define WIDE (NV >= 8)
#if WIDE
#define SB 32
#else
#define SB 8
#endif
#define RT (VW == 16 ? 8 : 4) /* 16 accumulators of 32 registers (AVX-512), 8 of 16 (AVX2) */
/* samples per pass of narrow blocks without AVX-512 (block_rows): BG × NV sums, a row and a
   broadcast within 16 registers */
#define BG (NV == 1 ? 8 : NV <= 3 ? 4 : 2)
typedef int32_t vm __attribute__((vector_size(VW * 4)));
/* AVX2 (PIN): a vector read once and used by several multiply-adds is pinned in a register
   (IN_REG). Without it GCC folds the load into each multiply-add, one load per use, and the tiles
   are bound by Zen 3's two 256-bit loads a cycle, not by its two multiply-adds (kernel 1.15x at
   200->20x20). Each sum has the same terms in the same order, but GCC groups some differently
   around the pinned values: AVX2 bytes move at some widths (sweep.py). The #else forms are the
   AVX-512 code, unchanged (machine_code.py) */
#if VW == 8 && defined(__AVX__) && defined(__GNUC__)
#define PIN 1
#define IN_REG(v) __asm__("" : "+x"(v))
#else
#define PIN 0
#endif

typedef struct {
    int I, n, B, kind, values, structure, set_size, k;
    float l1;
    const float *W, *W_out, *b, *imp, *density;
    uint64_t seed;
    float *gW, *gW_out, *gb, *loss, *x_out;
    int next; /* next instance to take (shared by the workers) */
    int failed;
} job_t;

/* ---- random numbers: xoshiro256** (Blackman & Vigna), seeded by splitmix64 ---- */

typedef struct { uint64_t s[4]; } rng_t;

#define LANES 16 /* streams side by side, so the dense draws run in vector registers */
typedef uint64_t vu64 __attribute__((vector_size(LANES * 8)));
typedef struct { vu64 s[4]; } vrng_t;

static inline uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t next64(rng_t *r) {
    uint64_t *s = r->s;
    const uint64_t out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
    s[2] ^= t; s[3] = rotl(s[3], 45);
    return out;
}

static inline float uniform_f(rng_t *r) { return (float)(next64(r) >> 40) * 0x1.0p-24f; }

/* uniform on (0, 1]: safe to take the log of */
static inline double uniform_open0(rng_t *r) { return (double)((next64(r) >> 11) + 1) * 0x1.0p-53; }

/* u[0 .. count) uniform on [0, 1), two per 64-bit draw; u has room for count + 2·LANES. The
   LANES streams run as two halves of 8 (one register per state word each: GCC spills 16-lane
   64-bit vectors to the stack) */
typedef uint64_t vu8 __attribute__((vector_size(64)));
typedef uint64_t vu8a __attribute__((vector_size(64), may_alias));
typedef int32_t vi8 __attribute__((vector_size(32)));
typedef float vf8 __attribute__((vector_size(32)));
typedef uint32_t vu16 __attribute__((vector_size(64)));
typedef int32_t vi16 __attribute__((vector_size(64)));
typedef float vf16 __attribute__((vector_size(64)));
static inline vu8 vrotl8(vu8 x, int k) { return (x << k) | (x >> (64 - k)); }
typedef uint64_t vu4 __attribute__((vector_size(32)));
typedef uint32_t vu32x8 __attribute__((vector_size(32)));
static inline vu4 vrotl4(vu4 x, int k) { return (x << k) | (x >> (64 - k)); }
#ifdef __clang__ /* lanes of two vectors, by index (of 16-lane vectors; SHUFFLE8 of 8) */
#define SHUFFLE(a, b, ...) __builtin_shufflevector(a, b, __VA_ARGS__)
#define SHUFFLE8(a, b, ...) __builtin_shufflevector(a, b, __VA_ARGS__)
#else
#define SHUFFLE(a, b, ...) __builtin_shuffle(a, b, (vi16){__VA_ARGS__})
#define SHUFFLE8(a, b, ...) __builtin_shuffle(a, b, (vi8){__VA_ARGS__})
#endif
static void fill_uniform(vrng_t *restrict v, float *restrict u, int count) {
#ifdef __AVX512F__
    /* the state in whole registers (a memcpy into arrays went through the stack) */
    const vu8a *in = (const vu8a *)v;
    vu8 a0 = in[0], b0 = in[1], a1 = in[2], b1 = in[3], a2 = in[4], b2 = in[5], a3 = in[6],
        b3 = in[7];
    for (int base = 0; base < count; base += 2 * LANES) {
        const vu8 oa = vrotl8(a1 * 5, 7) * 9, ta = a1 << 17;
        const vu8 ob = vrotl8(b1 * 5, 7) * 9, tb = b1 << 17;
        a2 ^= a0; a3 ^= a1; a1 ^= a2; a0 ^= a3; a2 ^= ta; a3 = vrotl8(a3, 45);
        b2 ^= b0; b3 ^= b1; b1 ^= b2; b0 ^= b3; b2 ^= tb; b3 = vrotl8(b3, 45);
        /* two 24-bit integers per draw, bits 40-63 and 8-31: each 32-bit half shifted by 8 (exact
           as int32, and fast to convert), then the high halves before the low ones */
        const vf16 va = __builtin_convertvector((vi16)((vu16)oa >> 8), vf16) * 0x1.0p-24f;
        const vf16 vb = __builtin_convertvector((vi16)((vu16)ob >> 8), vf16) * 0x1.0p-24f;
        const vf16 hi = SHUFFLE(va, vb, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
        const vf16 lo = SHUFFLE(va, vb, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        memcpy(u + base, &hi, sizeof hi);
        memcpy(u + base + LANES, &lo, sizeof lo);
    }
    vu8a *out = (vu8a *)v;
    out[0] = a0, out[1] = b0, out[2] = a1, out[3] = b1, out[4] = a2, out[5] = b2, out[6] = a3,
    out[7] = b3;
#else /* 256-bit registers: 512-bit vectors lowered to AVX2 went through the general registers.
         The streams in groups of 4 lanes, each group through every draw with its state in
         registers: the same numbers in the same places */
    uint64_t *s = (uint64_t *)v;
    for (int g = 0; g < LANES; g += 4) {
        vu4 w0, w1, w2, w3;
        memcpy(&w0, s + g, sizeof w0), memcpy(&w1, s + LANES + g, sizeof w1);
        memcpy(&w2, s + 2 * LANES + g, sizeof w2), memcpy(&w3, s + 3 * LANES + g, sizeof w3);
        for (int base = 0; base < count; base += 2 * LANES) {
            const vu4 o = vrotl4(w1 * 5, 7) * 9, t = w1 << 17;
            w2 ^= w0; w3 ^= w1; w1 ^= w2; w0 ^= w3; w2 ^= t; w3 = vrotl4(w3, 45);
            /* as above: each 32-bit half shifted by 8, the high halves (odd lanes) first */
            const vf8 f = __builtin_convertvector((vi8)((vu32x8)o >> 8), vf8) * 0x1.0p-24f;
            const vf8 hl = SHUFFLE8(f, f, 1, 3, 5, 7, 0, 2, 4, 6);
            memcpy(u + base + g, &hl, 16);
            memcpy(u + base + LANES + g, (const float *)&hl + 4, 16);
        }
        memcpy(s + g, &w0, sizeof w0), memcpy(s + LANES + g, &w1, sizeof w1);
        memcpy(s + 2 * LANES + g, &w2, sizeof w2), memcpy(s + 3 * LANES + g, &w3, sizeof w3);
    }
#endif
}

/* positions skipped before the next candidate when candidates occur with probability p < 1 */
static inline int64_t geometric_gap(rng_t *r, double log_q, int64_t cap) {
    const double g = floor(log(uniform_open0(r)) / log_q);
    return g < (double)cap ? (int64_t)g : cap;
}

static inline float feature_value(float w, int values) {
    return values == 0 ? w : (values == 1 ? 2.0f * w - 1.0f : 1.0f);
}

/* ---- structured features: correlated / anticorrelated sets, exactly k active ---- */

typedef struct {
    int structure, s, k, G;    /* structure, set size, k, sets */
    const float *P;            /* set densities [G] */
    float P_max;               /* densest set */
    int uneven, draw_dense;    /* sets of unequal density; one uniform per set and sample */
    double log_q;              /* log(1 − P_max), for geometric skips over sets */
    int64_t pos, total;        /* next candidate set among the flattened [B, G] positions */
    int *sets, *mark;          /* [G] active sets of a sample; [n] zeros between samples */
} structured_t;

/* uniform integer in [0, m): Lemire's multiply-shift (bias below m / 2^32) */
static inline int below(rng_t *r, int m) {
    return (int)(((next64(r) >> 32) * (uint64_t)m) >> 32);
}

/* a sample's values (and anticorrelated sets' members, floor(u * size): uniform to within
   2^-24, as `below` is to within size / 2^32) come from the vector streams when it has at least
   this many (a vector draw's worth), else from a scalar draw each: at 200 -> 20, density 1, the
   scalar draws made a correlated-pairs instance 3.2x the cost of an independent one (1.6x now) */
#define VECTOR_DRAWS (2 * LANES)

/* one sample s of a structured distribution: its active features act_f (no repeats) and their
   values act_v; returns how many. Sets are gated like independent features (one uniform per set
   when dense, else geometric skips with thinning), then expanded to their members. */
static int draw_structured(structured_t *S, rng_t *rng, vrng_t *vr, float *u, int values,
                           int n, int s, int *restrict act_f, float *restrict act_v) {
    int k = 0;
    if (S->structure == 3) { /* Floyd's algorithm: a uniform k-subset of the n features */
        for (int j = n - S->k; j < n; j++) {
            int t = below(rng, j + 1);
            if (S->mark[t]) t = j;
            S->mark[t] = 1;
            act_f[k++] = t;
        }
        for (int t = 0; t < k; t++) S->mark[act_f[t]] = 0;
    } else {
        const int G = S->G, size = S->s;
        int on = 0;
        if (S->draw_dense) {
            fill_uniform(vr, u, G);
            for (int g = 0; g < G; g++) {
                S->sets[on] = g;
                on += u[g] < S->P[g];
            }
        } else {
            const int64_t end = (int64_t)(s + 1) * G;
            while (S->pos < end) {
                const int g = (int)(S->pos - (int64_t)s * G);
                if (!S->uneven || uniform_f(rng) * S->P_max < S->P[g]) S->sets[on++] = g;
                S->pos += 1 + geometric_gap(rng, S->log_q, S->total);
            }
        }
        const int vector_members = S->structure == 2 && on >= VECTOR_DRAWS;
        if (vector_members) fill_uniform(vr, u, on); /* each on set's member, from u */
        for (int t = 0; t < on; t++) {
            const int f0 = S->sets[t] * size;
            if (S->structure == 1) {
                for (int f = f0; f < f0 + size; f++) act_f[k++] = f;
            } else if (vector_members) {
                const int member = (int)(u[t] * (float)size);
                act_f[k++] = f0 + (member < size ? member : size - 1);
            } else {
                act_f[k++] = f0 + below(rng, size);
            }
        }
    }
    if (values == 2) {
        for (int t = 0; t < k; t++) act_v[t] = 1.0f;
    } else if (k >= VECTOR_DRAWS) {
        fill_uniform(vr, u, k);
        for (int t = 0; t < k; t++) act_v[t] = feature_value(u[t], values);
    } else {
        for (int t = 0; t < k; t++) act_v[t] = feature_value(uniform_f(rng), values);
    }
    return k;
}

/* ---- one instance ---- */

/* o = b + Σ_t w[t] · rows[idx[t]] (idx NULL: rows 0, 1, ..) over rows of nv vectors (outputs
   padded to whole vectors); zero weights are skipped. Chunks of C vectors stay in registers over
   t, C independent sums hide the add latency; the last chunk overlaps the one before it when nv
   is not a multiple of C (recomputing those outputs in the same order: the same bits). */
#define ROWS_CHUNK(C)                                                                        \
    for (int v0 = 0;; v0 += C) {                                                             \
        if (v0 + C > nv) v0 = nv - C;                                                        \
        vf acc[C];                                                                           \
        for (int c = 0; c < C; c++) acc[c] = b ? b[v0 + c] : (vf){0};                        \
        for (int t = 0; t < count; t++) {                                                    \
            const float wt = w[t];                                                           \
            if (wt == 0.0f) continue;                                                        \
            const vf *restrict row = rows + (size_t)(idx ? idx[t] : t) * nv + v0;            \
            for (int c = 0; c < C; c++) acc[c] += wt * row[c];                               \
        }                                                                                    \
        for (int c = 0; c < C; c++) o[v0 + c] = acc[c];                                      \
        if (v0 + C >= nv) break;                                                             \
    }
/* O[s] = b + Σ_j H[s, j] D[j] for the SB samples of a block (H [SB, MP]; O [SB, nv] vectors,
   nv even): each decoder weight is read once per block, not once per sample. Pairs of output
   vectors for all SB samples stay in registers over j; the decoder is tiled to match, Dt
   [nv / 2, MH, 2] vectors, so that each pair's weights are read in one sequential sweep. */
static void decode_block(int nv, const float *restrict H, const vf *restrict Dt,
                         const vf *restrict b, vf *restrict O) {
    for (int v0 = 0; v0 < nv; v0 += 2) {
        vf acc[SB][2];
        for (int s = 0; s < SB; s++) acc[s][0] = b[v0], acc[s][1] = b[v0 + 1];
        const vf *restrict tile = Dt + (size_t)v0 * MH;
        for (int j = 0; j < MH; j++)
            for (int s = 0; s < SB; s++) {
                const float hj = H[s * MP + j];
                acc[s][0] += hj * tile[2 * j];
                acc[s][1] += hj * tile[2 * j + 1];
            }
        for (int s = 0; s < SB; s++)
            O[(size_t)s * nv + v0] = acc[s][0], O[(size_t)s * nv + v0 + 1] = acc[s][1];
    }
}

/* wide blocks, and every block with AVX2 (SB × 2 sums would not fit in its 16 registers): the
   same, RT samples at a time (their sums in the same order: the same bits) */
static void decode_wide(int nv, const float *restrict H, const vf *restrict Dt,
                        const vf *restrict b, vf *restrict O) {
    for (int v0 = 0; v0 < nv; v0 += 2) {
        const vf *restrict tile = Dt + (size_t)v0 * MH;
        for (int s0 = 0; s0 < SB; s0 += RT) {
            const float *restrict hs = H + (size_t)s0 * MP;
            vf acc[RT][2];
            for (int s = 0; s < RT; s++) acc[s][0] = b[v0], acc[s][1] = b[v0 + 1];
            for (int j = 0; j < MH; j++) {
#if PIN
                vf d0 = tile[2 * j], d1 = tile[2 * j + 1];
                IN_REG(d0);
                IN_REG(d1);
#else /* the loads as they were (a local pointer or copy changes the AVX-512 code) */
#define d0 tile[2 * j]
#define d1 tile[2 * j + 1]
#endif
                for (int s = 0; s < RT; s++) {
                    const float hj = hs[s * MP + j];
                    acc[s][0] += hj * d0;
                    acc[s][1] += hj * d1;
                }
#undef d0
#undef d1
            }
            for (int s = 0; s < RT; s++) {
                O[(size_t)(s0 + s) * nv + v0] = acc[s][0];
                O[(size_t)(s0 + s) * nv + v0 + 1] = acc[s][1];
            }
        }
    }
}

/* wide blocks: pairs of vectors per padded row (the last one single when NV is odd) */
#define NP ((NV + 1) / 2)
/* features per chunk of a strip: KC × 2 vectors (32 KB) stay in the L1 cache */
#define KC 128

/* rows [n, NV] vectors as strips tiled [NP, n, 2]: each pair's weights in one sequential run */
static void tile_rows(int n, const vf *restrict rows, vf *restrict tiled) {
    for (int p = 0; p < NP; p++)
        for (int f = 0; f < n; f++) {
            tiled[((size_t)p * n + f) * 2] = rows[(size_t)f * NV + 2 * p];
            tiled[((size_t)p * n + f) * 2 + 1] =
                2 * p + 1 < NV ? rows[(size_t)f * NV + 2 * p + 1] : (vf){0};
        }
}

/* wide blocks: in [SB, ld] as tiles [SB / RT, n, RT] (each feature's RT inputs side by side) */
static void transpose_tiles(int n, size_t ld, const float *restrict in, float *restrict out) {
    for (int st = 0; st < SB / RT; st++)
        for (int f = 0; f < n; f++)
            for (int s = 0; s < RT; s++)
                out[((size_t)st * n + f) * RT + s] = in[(size_t)(st * RT + s) * ld + f];
}

/* o[s] (+)= Σ_t in[f_t, s] · strip[f_t] for RT samples, w of a pair's 2 vectors, over the
   features f_t = lst[t] (lst NULL: f0 + t) */
static inline __attribute__((always_inline)) void rows_tile(int w, int carry, int q, int f0,
    const int *restrict lst, const float *restrict x, const vf *restrict strip,
    vf *restrict o) {
    vf acc[RT][2];
    for (int s = 0; s < RT; s++)
        for (int c = 0; c < w; c++) acc[s][c] = carry ? o[s * NV + c] : (vf){0};
    for (int t = 0; t < q; t++) {
        const int f = lst ? lst[t] : f0 + t;
#if PIN
        vf r_0 = strip[2 * f], r_1 = strip[2 * f + 1];
        IN_REG(r_0);
        if (w == 2) IN_REG(r_1);
#else
        const vf r_0 = strip[2 * f], r_1 = strip[2 * f + 1];
#endif
        const float *restrict xf = x + (size_t)f * RT;
        for (int s = 0; s < RT; s++) {
            acc[s][0] += xf[s] * r_0;
            if (w == 2) acc[s][1] += xf[s] * r_1;
        }
    }
    for (int s = 0; s < RT; s++)
        for (int c = 0; c < w; c++) o[s * NV + c] = acc[s][c];
}

/* wide blocks: out[s] = Σ_f in[s, f] · rows[f] for the SB samples of a block (in as tiles by
   transpose_tiles; rows tiled by tile_rows; out [SB, NV] vectors): RT samples × 2 vectors in
   registers over the features where any of the RT inputs is nonzero (the rest add nothing), in
   order of f, KC features at a time (the sums carried over in `out`: the same order, the same
   bits). `list` has room for (SB / RT) · (n + 1) ints. */
static void rows_product(int n, const float *restrict in, const vf *restrict tiled,
                         vf *restrict out, int *restrict list) {
    enum { T = SB / RT };
    int *count = list + (size_t)T * n, pos[T], end[T];
    for (int st = 0; st < T; st++) {
        const float *restrict x = in + (size_t)st * n * RT;
        int *lst = list + (size_t)st * n, q = 0;
        for (int f = 0; f < n; f++) {
            int nz = 0;
            for (int s = 0; s < RT; s++) nz |= x[f * RT + s] != 0.0f;
            lst[q] = f;
            q += nz;
        }
        count[st] = q;
        pos[st] = 0;
    }
    for (int k0 = 0; k0 < n; k0 += KC) {
        for (int st = 0; st < T; st++) {
            int e = pos[st];
            while (e < count[st] && list[(size_t)st * n + e] < k0 + KC) e++;
            end[st] = e;
        }
        for (int p = 0; p < NP; p++) {
            const vf *restrict strip = tiled + (size_t)p * n * 2;
            for (int st = 0; st < T; st++) {
                const float *restrict x = in + (size_t)st * n * RT;
                const int *restrict lst = list + (size_t)st * n + pos[st];
                vf *restrict o = out + (size_t)st * RT * NV + 2 * p;
                const int q = end[st] - pos[st], all = q == (n - k0 < KC ? n - k0 : KC);
                if (all && 2 * p + 1 < NV) /* every feature: no list to follow */
                    rows_tile(2, k0, q, k0, NULL, x, strip, o);
                else if (2 * p + 1 < NV)
                    rows_tile(2, k0, q, k0, lst, x, strip, o);
                else
                    rows_tile(1, k0, q, k0, lst, x, strip, o);
            }
        }
        for (int st = 0; st < T; st++) pos[st] = end[st];
    }
}

/* wide blocks: acc[f] += Σ_s in[s, f] · v[s] over the block's SB samples (in [SB, ld] floats,
   v [SB, NV] and acc [n, NV] vectors), for features whose `flags` have `bit` (the others have
   zero inputs): RT features × 2 vectors summed in registers over the samples whose RT inputs
   are not all zero, in order of s, then added to acc */
static inline __attribute__((always_inline)) void outer_tile(int e_n, int w, int r0, int f0,
    int q, const int *restrict list, size_t ld, const float *restrict in,
    const vf *restrict v, vf *restrict acc_rows) {
    vf acc[RT][2];
    for (int e = 0; e < e_n; e++) acc[e][0] = acc[e][1] = (vf){0};
    for (int t = 0; t < q; t++) {
        const int s = list[t];
#if PIN
        vf vs[2] = {v[(size_t)s * NV + r0]};
        IN_REG(vs[0]);
        if (w == 2) {
            vs[1] = v[(size_t)s * NV + r0 + 1];
            IN_REG(vs[1]);
        }
#else
        const vf *restrict vs = v + (size_t)s * NV + r0;
#endif
        const float *restrict xs = in + (size_t)s * ld + f0;
        for (int e = 0; e < e_n; e++) {
            acc[e][0] += xs[e] * vs[0];
            if (w == 2) acc[e][1] += xs[e] * vs[1];
        }
    }
    for (int e = 0; e < e_n; e++) {
        acc_rows[(size_t)(f0 + e) * NV + r0] += acc[e][0];
        if (w == 2) acc_rows[(size_t)(f0 + e) * NV + r0 + 1] += acc[e][1];
    }
}

static void outer_acc(int n, size_t ld, const float *restrict in, const vf *restrict v,
                      vf *restrict acc_rows, const int *restrict flags, int bit,
                      int *restrict list) {
    for (int f0 = 0; f0 < n; f0 += RT) {
        const int e_n = n - f0 < RT ? n - f0 : RT;
        int any = 0;
        for (int e = 0; e < e_n; e++) any |= flags[f0 + e] & bit;
        if (!any) continue;
        int q = 0;
        for (int s = 0; s < SB; s++) {
            int nz = 0;
            for (int e = 0; e < e_n; e++) nz |= in[(size_t)s * ld + f0 + e] != 0.0f;
            list[q] = s;
            q += nz;
        }
        for (int r0 = 0; r0 < NV; r0 += 2) {
            const int w = NV - r0 < 2 ? 1 : 2;
            if (e_n == RT && w == 2)
                outer_tile(RT, 2, r0, f0, q, list, ld, in, v, acc_rows);
            else if (e_n == RT)
                outer_tile(RT, 1, r0, f0, q, list, ld, in, v, acc_rows);
            else
                outer_tile(e_n, w, r0, f0, q, list, ld, in, v, acc_rows);
        }
    }
}

static void sum_rows_into(int nv, int count, const int *restrict idx, const float *restrict w,
                          const vf *restrict rows, const vf *restrict b, vf *restrict o) {
    if (nv >= 8) {
        ROWS_CHUNK(8)
    } else if (nv >= 4) {
        ROWS_CHUNK(4)
    } else {
        ROWS_CHUNK(1)
    }
}

/* x with the lanes where keep is false set to 0 */
static inline vf keep_where(vm keep, vf x) { return (vf)((vm)x & keep); }

#if defined(__AVX2__) && !defined(__AVX512F__)
/* pack[m]: the numbers of m's set bits (of 8), in order, one per byte */
static uint64_t pack[256];
__attribute__((constructor)) static void fill_pack(void) {
    for (int m = 0; m < 256; m++)
        for (int b = 0, c = 0; b < 8; b++)
            if (m >> b & 1) pack[m] |= (uint64_t)b << (8 * c++);
}
#endif

/* the nonzero entries of x[0 .. n) as (index, value) lists; returns their number */
static int compact_nonzero(int n, const float *restrict x, int *restrict idx,
                           float *restrict val) {
    int q = 0;
#ifdef __AVX512F__
    const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    for (int f0 = 0; f0 < n; f0 += 16) {
        const __mmask16 lim = n - f0 >= 16 ? 0xFFFF : (__mmask16)((1u << (n - f0)) - 1);
        const __m512 v = _mm512_maskz_loadu_ps(lim, x + f0);
        const __mmask16 nz = _mm512_mask_cmp_ps_mask(lim, v, _mm512_setzero_ps(), _CMP_NEQ_UQ);
        if (!nz) continue;
        /* compressed in registers, then a masked store: a compress straight to memory is
           several times slower on Intel cores */
        const int c = __builtin_popcount(nz);
        const __mmask16 first = (__mmask16)((1u << c) - 1);
        _mm512_mask_storeu_ps(val + q, first, _mm512_maskz_compress_ps(nz, v));
        const __m512i at = _mm512_add_epi32(iota, _mm512_set1_epi32(f0));
        _mm512_mask_storeu_epi32(idx + q, first, _mm512_maskz_compress_epi32(nz, at));
        q += c;
    }
#else
    int f = 0;
#ifdef __AVX2__ /* by 8, branch-free: the nonzero lanes moved to the front by a permutation
                   from a table (pack[mask]: the set lanes' numbers, a byte each); each store
                   writes 8 entries from q <= f, inside [0, n) */
    for (; f + 8 <= n; f += 8) {
        const __m256 v = _mm256_loadu_ps(x + f);
        const int nz = _mm256_movemask_ps(_mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_NEQ_UQ));
        const __m256i at = _mm256_cvtepu8_epi32(_mm_cvtsi64_si128((long long)pack[nz]));
        _mm256_storeu_ps(val + q, _mm256_permutevar8x32_ps(v, at));
        _mm256_storeu_si256((__m256i *)(idx + q), _mm256_add_epi32(at, _mm256_set1_epi32(f)));
        q += __builtin_popcount(nz);
    }
#endif
    for (; f < n; f++) { /* branch-free */
        idx[q] = f;
        val[q] = x[f];
        q += x[f] != 0.0f;
    }
#endif
    return q;
}

/* out = Σ_t w[t] · rows[idx[t]] over padded rows of NV vectors; four partial sums so that
   consecutive additions do not wait on each other */
static inline void sum_rows(int k, const int *restrict idx, const float *restrict w,
                            const vf *restrict rows, vf *restrict out) {
    vf acc[4][NV];
    for (int u = 0; u < 4; u++)
        for (int r = 0; r < NV; r++) acc[u][r] = (vf){0};
    int t = 0;
    for (; t + 4 <= k; t += 4)
        for (int u = 0; u < 4; u++) {
            const vf *row = rows + (size_t)idx[t + u] * NV;
            for (int r = 0; r < NV; r++) acc[u][r] += w[t + u] * row[r];
        }
    for (; t < k; t++) {
        const vf *row = rows + (size_t)idx[t] * NV;
        for (int r = 0; r < NV; r++) acc[0][r] += w[t] * row[r];
    }
    for (int r = 0; r < NV; r++) out[r] = (acc[0][r] + acc[1][r]) + (acc[2][r] + acc[3][r]);
}

/* d loss / d pre-activation into g: c·(out − target) where the output is on, else 0;
   returns the sample's loss Σ_f imp_f (out − target)² */
static inline float output_grad(int n, int out_relu, const float *restrict o,
                                const float *restrict tgt, const float *restrict imp,
                                const float *restrict c, float *restrict g) {
    float loss = 0.0f;
    for (int f = 0; f < n; f++) {
        const float on = (!out_relu || o[f] > 0.0f) ? 1.0f : 0.0f;
        const float e = on * o[f] - tgt[f];
        loss += imp[f] * e * e;
        g[f] = on * c[f] * e;
    }
    return loss;
}

/* one sample drawn densely: x_f = value(u / p_f) where a fresh uniform u < p_f, else 0 */
static inline void draw_row(vrng_t *vr, float *restrict u, const float *restrict p,
                            const float *restrict inv_p, int values, int n, float *restrict x) {
    fill_uniform(vr, u, n);
    for (int f = 0; f < n; f++) x[f] = u[f] < p[f] ? feature_value(u[f] * inv_p[f], values) : 0.0f;
}

/* h = a or ReLU(a), also as floats in hf (for the decoder); returns Σ_j |h_j| */
static inline float hidden_units(int relu, const vf *restrict a, vf *restrict h,
                                 float *restrict hf) {
    const vf zero = {0};
    float hsum = 0.0f;
    for (int r = 0; r < NV; r++) {
        h[r] = relu ? keep_where(a[r] > zero, a[r]) : a[r];
        memcpy(hf + r * VW, &h[r], sizeof(vf));
    }
    for (int j = 0; j < MH; j++) hsum += fabsf(hf[j]);
    return hsum;
}

/* finish the gradient at the hidden layer: + l1/B · sign(h) for the L1 penalty, and 0 where
   the hidden ReLU is off */
static inline void hidden_grad(int relu, float l1_b, const vf *restrict a, const vf *restrict h,
                               vf *restrict dh) {
    const vf zero = {0}, l1 = zero + l1_b;
    for (int r = 0; r < NV; r++) {
        if (l1_b != 0.0f) dh[r] += keep_where(h[r] > zero, l1) - keep_where(h[r] < zero, l1);
        if (relu) dh[r] = keep_where(a[r] > zero, dh[r]);
    }
}

/* blocks of narrow rows: out[s] += Σ_f in[s, f] rows[f] over the SB samples of a block (in
   [SB, ld] floats; rows [n, NV] and out [SB, NV] vectors), skipping the features whose `flags`
   lack `bit` (flags NULL: none skipped). Kept out of line: inside the step, the SB row pointers
   and the SB · NV sums lost their registers to the rest of it */
#define PIN_ROWS (PIN && NV >= 2 && NV <= 4)
#if PIN_ROWS
/* samples per pass with the row pinned: C · NV sums, NV row vectors and a broadcast ≤ 16 */
#define BGP (NV == 3 ? 3 : BG)
/* out[s0 + s] += Σ_f x[s0 + s][f] rows[f] for C samples (a compile-time count), the row in
   registers; each sum the same chain over f as in the forms below */
static inline __attribute__((always_inline)) void rows_pass(int C, int s0, int n,
    const float *restrict const *x, const int *restrict list, const vf *restrict rows,
    vf out[SB][NV]) {
    vf acc[8][NV];
    for (int s = 0; s < C; s++)
        for (int r = 0; r < NV; r++) acc[s][r] = out[s0 + s][r];
    for (int t = 0; t < n; t++) {
        const int f = list ? list[t] : t;
        vf row[NV];
        for (int r = 0; r < NV; r++) {
            row[r] = rows[(size_t)f * NV + r];
            IN_REG(row[r]);
        }
        for (int s = 0; s < C; s++) {
            const float xs = x[s0 + s][f];
            for (int r = 0; r < NV; r++) {
                acc[s][r] += xs * row[r];
                IN_REG(acc[s][r]);
            }
        }
    }
    for (int s = 0; s < C; s++)
        for (int r = 0; r < NV; r++) out[s0 + s][r] = acc[s][r];
}
#endif

static __attribute__((noinline)) void block_rows(int n, size_t ld, const float *restrict in,
    const int *restrict flags, int bit, const vf *restrict rows, vf out[SB][NV]) {
    const float *restrict x[SB];
    for (int s = 0; s < SB; s++) x[s] = in + (size_t)s * ld;
#if PIN_ROWS /* AVX2, rows of 2-4 vectors: passes with the row pinned (rows_pass), over the
                 features listed once (a skip test in each pass mispredicted: ~30 % of this);
                 the list on the stack, ≤ 400 KB at the configs' n ≤ 100,000 (run at that n) */
    int list[n], count = n;
    if (flags) {
        count = 0;
        for (int f = 0; f < n; f++) list[count] = f, count += (flags[f] & bit) != 0;
    }
    const int *use = flags ? list : NULL;
    int s0 = 0;
    for (; s0 + BGP <= SB; s0 += BGP) rows_pass(BGP, s0, count, x, use, rows, out);
    if (SB % BGP) rows_pass(SB % BGP, s0, count, x, use, rows, out);
#elif NV <= 4 && VW == 8 /* AVX2: BG samples per pass over the rows, so that their sums and a
                            row fit in its 16 registers; each sum the same chain over f. The
                            #else form in passes (BG there for these, SB for the rest) would be
                            one loop, but changes the code of its rows: m = 72 and 100 with
                            AVX-512, 33-56 with AVX2 (machine_code.py). Kept for one-vector
                            rows (m ≤ 8), where rows_pass measured no faster */
    vf acc[SB][NV];
    for (int s0 = 0; s0 < SB; s0 += BG) {
        for (int s = 0; s < BG; s++)
            for (int r = 0; r < NV; r++) acc[s][r] = out[s0 + s][r];
        for (int f = 0; f < n; f++) {
            if (flags && !(flags[f] & bit)) continue;
            const vf *restrict row = rows + (size_t)f * NV;
            for (int s = 0; s < BG; s++) {
                const float xs = x[s0 + s][f];
                for (int r = 0; r < NV; r++) acc[s][r] += xs * row[r];
            }
        }
        for (int s = 0; s < BG; s++)
            for (int r = 0; r < NV; r++) out[s0 + s][r] = acc[s][r];
    }
#elif NV <= 4 /* the sums in registers: each a chain over f */
    vf acc[SB][NV];
    vh tail[SB]; /* the half tails (HALF_TAIL) */
    for (int s = 0; s < SB; s++) {
        for (int r = 0; r < NF; r++) acc[s][r] = out[s][r];
        tail[s] = lo(&out[s][NV - 1]);
    }
    for (int f = 0; f < n; f++) {
        if (flags && !(flags[f] & bit)) continue;
        const vf *restrict row = rows + (size_t)f * NV;
        for (int s = 0; s < SB; s++) {
            const float xs = x[s][f];
            for (int r = 0; r < NF; r++) acc[s][r] += xs * row[r];
            if (HALF_TAIL) tail[s] += xs * lo(row + NV - 1);
        }
    }
    for (int s = 0; s < SB; s++) {
        for (int r = 0; r < NF; r++) out[s][r] = acc[s][r];
        if (HALF_TAIL) set_lo(&out[s][NV - 1], tail[s]);
    }
#else /* kept as it was: with its sums spilled, GCC adds products in pairs (m = 72), an order
         any other form of this loop changes */
    vf acc[SB][NV];
    for (int s = 0; s < SB; s++)
        for (int r = 0; r < NV; r++) acc[s][r] = out[s][r];
    for (int f = 0; f < n; f++) {
        if (flags && !(flags[f] & bit)) continue;
        const vf *restrict row = rows + (size_t)f * NV;
        for (int s = 0; s < SB; s++) {
            const float xs = x[s][f];
            for (int r = 0; r < NV; r++) acc[s][r] += xs * row[r];
        }
    }
    for (int s = 0; s < SB; s++)
        for (int r = 0; r < NV; r++) out[s][r] = acc[s][r];
#endif
}

/* gb[f] += Σ_s G[s, f] over the SB samples of a block (G [SB, ld] floats) */
static void block_bias(int n, size_t ld, const float *restrict G, float *restrict gb) {
    for (int f = 0; f < n; f++) {
        float sum = 0.0f;
        for (int s = 0; s < SB; s++) sum += G[(size_t)s * ld + f];
        gb[f] += sum;
    }
}

/* blocks, by hidden unit: gDT[j] += Σ_s h[s, j] G[s] (+ dh[s, j] X[s] with ge_out) over whole
   output vectors (G, X [SB, fv] and gDT [MH, fv] vectors; h, dh [SB, MP] floats), J hidden units
   × E output vectors at a time (compile-time counts, so the sums stay in registers and each G
   and X vector loaded serves J units); each sum runs over s in order */
static inline __attribute__((always_inline)) void unit_tile(int J, int E, int ge_out, int j,
    int fv, const float *restrict hb, const float *restrict dhb, const vf *restrict G,
    const vf *restrict X, vf *restrict gDT) {
    vf acc[2][8];
    for (int u = 0; u < J; u++)
        for (int e = 0; e < E; e++) acc[u][e] = gDT[(size_t)(j + u) * fv + e];
    for (int s = 0; s < SB; s++) {
#if PIN
        vf gs[8], xs[8];
        for (int e = 0; e < E; e++) {
            gs[e] = G[(size_t)s * fv + e];
            IN_REG(gs[e]);
        }
#else
        const vf *gs = G + (size_t)s * fv, *xs = X + (size_t)s * fv;
#endif
        for (int u = 0; u < J; u++) {
            const float hj = hb[s * MP + j + u];
            for (int e = 0; e < E; e++) acc[u][e] += hj * gs[e];
        }
#if PIN
        for (int e = 0; ge_out && e < E; e++) {
            xs[e] = X[(size_t)s * fv + e];
            IN_REG(xs[e]);
        }
        for (int u = 0; u < J; u++) /* each sum in the order it had: + h·G, then + dh·X */
            for (int e = 0; e < E; e++) IN_REG(acc[u][e]);
#endif
        for (int u = 0; ge_out && u < J; u++) {
            const float dj = dhb[s * MP + j + u];
            for (int e = 0; e < E; e++) acc[u][e] += dj * xs[e];
        }
#if PIN
        for (int u = 0; ge_out && u < J; u++)
            for (int e = 0; e < E; e++) IN_REG(acc[u][e]);
#endif
    }
    for (int u = 0; u < J; u++)
        for (int e = 0; e < E; e++) gDT[(size_t)(j + u) * fv + e] = acc[u][e];
}

/* output vectors per tile: J × UT sums in registers (AVX2 has 16 of them, AVX-512 32) */
#if VW == 8
#define UT 4
#else
#define UT 8
#endif
#define UNIT_TILES(J)                                                                        \
    {                                                                                        \
        int v0 = 0;                                                                          \
        for (; v0 + UT <= fv; v0 += UT) unit_tile(J, UT, ge_out, j, fv, hb, dhb, G + v0, X + v0, gDT + v0); \
        if (UT > 4 && v0 + 4 <= fv) unit_tile(J, 4, ge_out, j, fv, hb, dhb, G + v0, X + v0, gDT + v0), v0 += 4; \
        if (v0 + 2 <= fv) unit_tile(J, 2, ge_out, j, fv, hb, dhb, G + v0, X + v0, gDT + v0), v0 += 2; \
        if (v0 < fv) unit_tile(J, 1, ge_out, j, fv, hb, dhb, G + v0, X + v0, gDT + v0);    \
    }
#define EVERY_UNIT                                                                           \
    {                                                                                        \
        int j = 0;                                                                           \
        for (; j + 2 <= MH; j += 2) UNIT_TILES(2)                                            \
        if (j < MH) UNIT_TILES(1)                                                            \
    }
static __attribute__((noinline)) void by_hidden_unit(int fv, int ge, const float *restrict hb,
    const float *restrict dhb, const vf *restrict G, const vf *restrict X, vf *restrict gDT) {
#if PIN /* a copy for each ge_out, a constant in it: with a flag known only at run time, GCC
           kept the pinned tiles' sums on the stack */
    if (ge) {
        const int ge_out = 1;
        EVERY_UNIT
        return;
    }
    const int ge_out = 0;
#else
    const int ge_out = ge;
#endif
    EVERY_UNIT
}

/* instances whose densest feature has at least this density run in blocks of samples */
#define BLOCK_FROM 0.05f
/* ... and instances of models with at least this many decoder weights */
#define BLOCK_WEIGHTS 65536
/* sparser instances at least this dense still draw one uniform per entry (vectorised); below,
   they skip between active entries (a log per entry: dearer per draw, but far fewer draws) */
#define DRAW_DENSE_FROM 0.02f

/* blocks take the decoder gradient (and, for tied weights with every feature encoded, the
   encoder gradient) by hidden unit, over outputs (gDT [MH, fv]), rather than by output, over
   padded hidden rows, where rows are padded and few vectors long: MH/16 instead of NV
   multiply-adds per sample and output (1.25 vs 2 at m = 20) */
#define GD_OUT (MP > MH && NV <= 4)

/* dense instances with fewer active features per sample than this share of n encode over each
   sample's active features (see enc_rows) */
#define ENC_ROWS_BELOW 0.3

/* the Gram matrix W^T W [n, n] of a model without a hidden ReLU decodes a sample with k active
   features in k·n instead of m·n: worth it on instances with few active features, and kept to
   models this small (its n·n floats per thread) */
#define GRAM_MAX_N 1024
#define GRAM_ROW_COST 2.0

/* vectors per output row (n padded to whole vectors) */
static inline int out_vectors(int n) { return (n + VW - 1) / VW; }

/* scratch floats per thread for n features (`gram`: with room for the Gram matrix) */
static size_t scratch_floats(int n, int gram) {
    const size_t fv = out_vectors(n) * (size_t)VW;
    const size_t out_rows = 3 * MH + 3 + 3 * SB + (gram ? n : 0); /* of fv floats, or fv + VW */
    return 4 * (size_t)n * MP + out_rows * (fv + VW) + (10 + 4 * SB) * (size_t)n + SB * MP +
           SB * MP + 2 * LANES + (WIDE ? 3 * SB * MP + 4 * NP * (size_t)n * VW + SB * (size_t)n + 2 * SB * VW + VW : 0);
}

static void run_instance(const job_t *J, int i, float *scratch, int *ibuf, int gram_room) {
    const int n = J->n, B = J->B, kind = J->kind, values = J->values;
    const int tied = kind != 3, hidden_relu = kind >= 2, out_relu = kind != 0;
    const int fv = out_vectors(n);
    const size_t nm = (size_t)n * MH, np = (size_t)n * MP;
    const float *Wi = J->W + i * nm, *bi = J->b + (size_t)i * n;
    const float *imp = J->imp + (size_t)i * n, *p = J->density + (size_t)i * n;

    /* per-feature rows [n, MP] (zero-padded) of the encoder, the decoder and the gradient
       accumulators; the decoder also per hidden unit [MH, fv] (outputs padded to whole vectors),
       the bias and the output padded alike; the Gram matrix [n, fv] last (when there is room) */
    vf *W_nm = (vf *)scratch, *D_nm = W_nm + n * NV, *gE = D_nm + n * NV, *gD = gE + n * NV;
    const int fv2 = fv + (fv & 1); /* whole pairs of output vectors, for blocks */
    vf *D_mn = gD + n * NV, *bv = D_mn + (size_t)MH * fv, *ov = bv + fv2, *O = ov + fv;
    vf *Dt = O + (size_t)SB * fv2, *Gp = Dt + (size_t)MH * fv2, *gDT = Gp + (size_t)SB * fv;
    vf *Xp = gDT + (size_t)MH * fv, *M = Xp + (size_t)SB * fv;
    /* O: a block's outputs [SB, fv2]; Dt: the tiled decoder; Gp, Xp: a block's output gradients
       and inputs [SB, fv]; gDT: the weight gradient by hidden unit [MH, fv] (GD_OUT) */
    float *c = (float *)(M + (gram_room ? (size_t)n * fv : 0)), *o = (float *)ov;
    float *g = c + n, *xv = g + n;
    float *xt = xv + n, *act_v = xt + n, *q_g = act_v + n, *inv_p = q_g + n, *u = inv_p + n;
    float *X = (float *)Xp, *G = (float *)Gp, *T = u + n + 2 * LANES; /* [SB, fp]; T [SB, n] */
    float *hb = T + 3 * SB * n, *dhb = hb + SB * MP; /* [SB, MP] each */
    float *P_set = dhb + SB * MP, *blk_v = P_set + n; /* [n / set_size]; [SB, n] */
    int *act_f = ibuf, *q_f = ibuf + n, *flags = ibuf + 2 * n, *blk_f = ibuf + 5 * n;
    int *s_list = blk_f + (size_t)SB * n, *r_list = s_list + SB; /* [SB]; see rows_product */
    /* wide blocks: X and G rows padded by a vector (4 KB apart, they would share cache sets),
       a, h and dh [SB, NV] and the decoder's rows tiled by pairs [NP, n, 2] (vectors) */
    vf *wide = (vf *)(((uintptr_t)(blk_v + (size_t)SB * n) + 63) & ~(uintptr_t)63);
    vf *Dnt = wide + 3 * SB * NV;
    vf *Wnt = Dnt + 2 * NP * (size_t)n; /* the encoder's rows tiled (untied weights) */
    float *in_t = (float *)(Wnt + 2 * NP * (size_t)n); /* [SB / RT, n, RT] */

    memset(scratch, 0, (4 * np + (MH * (size_t)fv + 2 * fv2) * VW) * sizeof(float));
    float *wp = (float *)W_nm, *dp = (float *)D_nm, *dm = (float *)D_mn;
    const size_t fp = (size_t)fv * VW; /* padded output row */
    const size_t ld = WIDE ? fp + VW : fp; /* X and G rows */
    if (WIDE) Xp = Gp + (size_t)SB * (fv + 1), X = (float *)Xp; /* in the unused gDT */
    for (int j0 = 0; j0 < MH; j0 += 16) /* in 16 x 16 tiles: whole cache lines both ways */
        for (int f0 = 0; f0 < n; f0 += 16)
            for (int j = j0; j < j0 + 16 && j < MH; j++)
                for (int f = f0; f < f0 + 16 && f < n; f++)
                    wp[(size_t)f * MP + j] = Wi[(size_t)j * n + f];
    if (tied) {
        D_nm = W_nm;
        for (int j = 0; j < MH; j++) memcpy(dm + j * fp, Wi + (size_t)j * n, n * sizeof(float));
        gD = gE; /* tied weights: both gradients land in one accumulator */
    } else {
        const float *Oi = J->W_out + i * nm; /* [n, MH] */
        for (int f = 0; f < n; f++)
            for (int j = 0; j < MH; j++) {
                dp[(size_t)f * MP + j] = Oi[(size_t)f * MH + j];
                dm[j * fp + f] = Oi[(size_t)f * MH + j];
            }
    }
    if (WIDE) tile_rows(n, D_nm, Dnt);
    if (WIDE && tied) Wnt = Dnt;
    else if (WIDE) tile_rows(n, W_nm, Wnt);
    memcpy(bv, bi, n * sizeof(float));
    memset(gDT, 0, (size_t)MH * fv * sizeof(vf));
    for (int v = 0; v < fv2; v++) /* the odd pair's second vector stays zero */
        for (int j = 0; j < MH; j++)
            Dt[((size_t)(v / 2) * MH + j) * 2 + v % 2] =
                v < fv ? D_mn[(size_t)j * fv + v] : (vf){0};
    memset(xv, 0, 2 * n * sizeof(float)); /* xv and xt */
    float *gbi = J->gb + (size_t)i * n;
    memset(gbi, 0, n * sizeof(float));

    float p_max = 0.0f;
    for (int f = 0; f < n; f++) {
        c[f] = 2.0f * imp[f] / (float)B;
        inv_p[f] = 1.0f / p[f];
        p_max = p[f] > p_max ? p[f] : p_max;
    }
    int uneven = 0;
    for (int f = 0; f < n; f++) uneven |= p[f] != p_max;

    rng_t rng;
    vrng_t vr;
    uint64_t sm = J->seed ^ (0xD1B54A32D192ED03ULL * (uint64_t)(i + 1));
    for (int k = 0; k < 4; k++) rng.s[k] = splitmix64(&sm);
    for (int k = 0; k < 4; k++)
        for (int l = 0; l < LANES; l++) vr.s[k][l] = splitmix64(&sm);

    /* instances with p_max >= BLOCK_FROM run in blocks of SB samples; the rest sample by sample.
       Down to DRAW_DENSE_FROM, every entry gets a uniform (u < p is active, u / p its value);
       below, draws skip geometrically over the flattened [B, n] positions at rate p_max and keep
       a candidate with probability p_f / p_max (thinning: exactly Bernoulli(p_f) per entry) */
    int dense = p_max >= BLOCK_FROM;
    const int draw_dense = p_max >= DRAW_DENSE_FROM;
    const int64_t total = (int64_t)B * n;
    const double log_q = log1p(-(double)p_max);
    int64_t pos = draw_dense ? 0 : geometric_gap(&rng, log_q, total);

    /* structured features: how dense a feature gets (the marginal) picks blocks or samples */
    const int structure = J->structure;
    structured_t st = {structure, J->set_size, J->k, 0, P_set, 0.0f, 0, 0, 0.0, 0, 0,
                       ibuf + 3 * n, ibuf + 4 * n};
    if (structure == 3) {
        dense = (float)J->k / (float)n >= BLOCK_FROM;
    } else if (structure) {
        st.G = n / st.s;
        for (int g = 0; g < st.G; g++) {
            double sum = 0.0;
            for (int f = g * st.s; f < (g + 1) * st.s; f++) sum += p[f];
            P_set[g] = (float)(sum / st.s);
            st.P_max = P_set[g] > st.P_max ? P_set[g] : st.P_max;
        }
        for (int g = 0; g < st.G; g++) st.uneven |= P_set[g] != st.P_max;
        st.draw_dense = st.P_max >= DRAW_DENSE_FROM;
        st.log_q = log1p(-(double)st.P_max);
        st.total = (int64_t)B * st.G;
        st.pos = st.draw_dense ? 0 : geometric_gap(&rng, st.log_q, st.total);
        dense = (structure == 1 ? st.P_max : st.P_max / st.s) >= BLOCK_FROM;
    }
    /* and models with many weights, however sparse: sample by sample, each sample would
       stream all of them (from beyond the cache) through its decoder */
    dense |= (size_t)MH * n >= BLOCK_WEIGHTS;

    /* the Gram decoder where it is cheaper, counted in vector multiply-adds: B·k̄ per output
       vector for B samples with k̄ active features on average, plus n·m to build it, against
       B·m for the decoder; its rows count GRAM_ROW_COST times, as they come from further out
       in the cache (n·n floats against the decoder's n·m) */
    double k_mean = 0.0;
    if (structure == 3) {
        k_mean = J->k;
    } else if (structure) {
        for (int t = 0; t < st.G; t++) k_mean += (double)P_set[t] * (structure == 1 ? st.s : 1);
    } else {
        for (int f = 0; f < n; f++) k_mean += p[f];
    }
    const int gram = gram_room && !hidden_relu && !dense &&
                     (double)B * (MH - GRAM_ROW_COST * k_mean) > (double)n * MH;
    if (gram) {
        for (int f = 0; f < n; f++) { /* row f: Σ_j W[j, f] W[j, :] */
            float col[MH];
            for (int j = 0; j < MH; j++) col[j] = ((const float *)D_mn)[j * fp + f];
            sum_rows_into(fv, MH, NULL, col, D_mn, NULL, M + (size_t)f * fv);
        }
    }

    /* dense instances with few active features encode (and take the encoder gradient) over
       each sample's active features: fewer multiply-adds than over every feature, for the cost
       of listing them */
    const int enc_rows = k_mean < ENC_ROWS_BELOW * n, ge_out = GD_OUT && tied && !enc_rows;

    const vf zero = {0};
    const float l1_b = J->l1 / (float)B;
    double loss = 0.0;
    /* the block's targets: x (rows ld apart), or |x| for abs (rows n apart, in T) */
    const float *tgt_rows = kind == 3 ? T : X;
    const size_t t_ld = kind == 3 ? (size_t)n : ld;
    if (dense) memset(X, 0, SB * ld * sizeof(float)), memset(G, 0, SB * ld * sizeof(float));
    for (int s0 = 0; dense && s0 < B; s0 += SB) {
        /* a block of S samples, densely: X the inputs, T the targets, G the output gradients;
           rows past S stay zero and add nothing */
        const int S = B - s0 < SB ? B - s0 : SB;
        { /* rows drawn densely, and output gradients, are written whole up to n (their padding
             stays zero from the clear before the first block): only the rest is cleared */
            const size_t kept = (size_t)S * ld, x_kept = structure ? 0 : kept;
            memset(X + x_kept, 0, (SB * ld - x_kept) * sizeof(float));
            memset(G + kept, 0, (SB * ld - kept) * sizeof(float));
        }
        for (int s = 0; s < S; s++) {
            float *x = X + (size_t)s * ld, *t = T + (size_t)s * n;
            if (structure) {
                const int k = draw_structured(&st, &rng, &vr, u, values, n, s0 + s, act_f, act_v);
                for (int e = 0; e < k; e++) x[act_f[e]] = act_v[e];
            } else {
                draw_row(&vr, u, p, inv_p, values, n, x);
            }
            for (int f = 0; kind == 3 && f < n; f++) t[f] = fabsf(x[f]);
            if (J->x_out) memcpy(J->x_out + ((size_t)i * B + s0 + s) * n, x, n * sizeof(float));
        }
#if WIDE /* [SB][NV] each, in the scratch (too big for a thread's stack at 1024 hidden units) */
        vf(*a)[NV] = (vf(*)[NV])wide, (*h)[NV] = a + SB, (*dh)[NV] = a + 2 * SB;
#else
        vf a[SB][NV], h[SB][NV], dh[SB][NV];
#endif
        for (int s = 0; s < SB; s++)
            for (int r = 0; r < NV; r++) a[s][r] = dh[s][r] = zero;
        int kb[SB] = {0}; /* active features per sample (enc_rows) */
        if (enc_rows) {   /* encoder over each sample's active features */
            for (int s = 0; s < S; s++) {
                int *bf = blk_f + (size_t)s * n;
                float *bw = blk_v + (size_t)s * n;
                kb[s] = compact_nonzero(n, X + (size_t)s * ld, bf, bw);
                sum_rows(kb[s], bf, bw, W_nm, a[s]);
            }
        } else if (WIDE) {
            transpose_tiles(n, ld, X, in_t);
            rows_product(n, in_t, Wnt, a[0], r_list);
        } else {
            block_rows(n, ld, X, NULL, 0, W_nm, a); /* encoder over every feature */
        }
        for (int s = 0; s < SB; s++) { /* rows past S: h = 0 */
            const float hsum = hidden_units(hidden_relu, a[s], h[s], hb + (size_t)s * MP);
            loss += (double)(J->l1 * hsum);
        }
        if (WIDE || VW == 8)
            decode_wide(fv2, hb, Dt, bv, O);
        else
            decode_block(fv2, hb, Dt, bv, O);
        for (int s = 0; s < S; s++) {
            const float *t = tgt_rows + s * t_ld, *os = (const float *)(O + (size_t)s * fv2);
            loss += (double)output_grad(n, out_relu, os, t, imp, c, G + (size_t)s * ld);
        }
        /* which features have a nonzero output gradient / input anywhere in the block: the
           rest are skipped (most outputs of a trained sparse-ish model are off) */
        for (int f = 0; !WIDE && f < n; f++) {
            int gz = 0, xz = 0;
            for (int s = 0; s < SB; s++) {
                gz |= G[(size_t)s * ld + f] != 0.0f;
                xz |= X[(size_t)s * ld + f] != 0.0f;
            }
            flags[f] = gz | xz << 1;
        }
        if (WIDE) { /* the same by sample, over whole rows; and the bias gradient */
            memset(flags, 0, n * sizeof(int));
            memset(q_g, 0, n * sizeof(float));
            for (int s = 0; s < SB; s++) {
                const float *gs = G + (size_t)s * ld, *xs = X + (size_t)s * ld;
                for (int f = 0; f < n; f++) {
                    flags[f] |= (gs[f] != 0.0f) | (xs[f] != 0.0f) << 1;
                    q_g[f] += gs[f];
                }
            }
            for (int f = 0; f < n; f++) gbi[f] += q_g[f];
        }
        if (WIDE) { /* hidden and decoder gradients */
            transpose_tiles(n, ld, G, in_t);
            rows_product(n, in_t, Dnt, dh[0], r_list);
            outer_acc(n, ld, G, h[0], gD, flags, 1, s_list);
        }
        if (GD_OUT) { /* hidden and bias gradients (the decoder's by hidden unit, below) */
            block_rows(n, ld, G, flags, 1, D_nm, dh);
            block_bias(n, ld, G, gbi);
        }
        for (int f = 0; !WIDE && !GD_OUT && f < n; f++) { /* hidden gradient; bias and decoder gradients */
            if (!(flags[f] & 1)) continue;
            const vf *drow = D_nm + (size_t)f * NV;
            vf gacc[NV];
            float gsum = 0.0f;
            for (int r = 0; r < NV; r++) gacc[r] = zero;
            for (int s = 0; s < SB; s++) {
                const float gsf = G[(size_t)s * ld + f];
                if (NV > 4 && gsf == 0.0f) continue; /* wide rows: skip what adds nothing */
                gsum += gsf;
                for (int r = 0; r < NV; r++) {
                    dh[s][r] += gsf * drow[r];
                    if (!GD_OUT) gacc[r] += gsf * h[s][r];
                }
            }
            gbi[f] += gsum;
            for (int r = 0; !GD_OUT && r < NV; r++) gD[(size_t)f * NV + r] += gacc[r];
        }
        for (int s = 0; s < SB; s++) /* rows past S: h = 0 adds no L1 term */
            hidden_grad(hidden_relu, l1_b, a[s], h[s], dh[s]);
        /* by hidden unit, over whole output vectors: the decoder gradient, and for tied weights
           with every feature encoded, the encoder gradient too */
        for (int s = 0; ge_out && s < SB; s++) memcpy(dhb + (size_t)s * MP, dh[s], MP * 4);
        if (GD_OUT) by_hidden_unit(fv, ge_out, hb, dhb, Gp, Xp, gDT);
        for (int s = 0; enc_rows && s < S; s++) { /* encoder gradient */
            const int *bf = blk_f + (size_t)s * n;
            const float *bw = blk_v + (size_t)s * n;
            for (int t = 0; t < kb[s]; t++) {
                vf *erow = gE + (size_t)bf[t] * NV;
                for (int r = 0; r < NV; r++) erow[r] += bw[t] * dh[s][r];
            }
        }
        if (WIDE && !enc_rows) outer_acc(n, ld, X, dh[0], gE, flags, 2, s_list);
        for (int f = 0; !WIDE && !enc_rows && !ge_out && f < n; f++) {
            if (!(flags[f] & 2)) continue;
            vf eacc[NV];
            for (int r = 0; r < NV; r++) eacc[r] = zero;
            for (int s = 0; s < SB; s++)
                for (int r = 0; r < NV; r++) eacc[r] += X[(size_t)s * ld + f] * dh[s][r];
            for (int r = 0; r < NV; r++) gE[(size_t)f * NV + r] += eacc[r];
        }
    }
    int empty = 0; /* sparse samples without an active feature */
    for (int s = 0; !dense && s < B; s++) {
        /* one sparse sample: its k active entries act_f / act_v, also densely in xv */
        int k = 0;
        if (structure) {
            k = draw_structured(&st, &rng, &vr, u, values, n, s, act_f, act_v);
        } else if (draw_dense) { /* vector draws beat a log per active entry down to ~DRAW_DENSE_FROM */
            draw_row(&vr, u, p, inv_p, values, n, xv);
            k = compact_nonzero(n, xv, act_f, act_v); /* zero values add nothing anyway */
        } else {
            const int64_t end = (int64_t)(s + 1) * n;
            while (pos < end) {
                const int f = (int)(pos - (int64_t)s * n);
                if (!uneven || uniform_f(&rng) * p_max < p[f]) {
                    act_f[k] = f;
                    act_v[k++] = feature_value(uniform_f(&rng), values);
                }
                pos += 1 + geometric_gap(&rng, log_q, total);
            }
        }
        if (k == 0) { /* h = 0, o = b: the same for every empty sample, added up at the end */
            empty++;
            continue;
        }
        for (int t = 0; t < k; t++) xv[act_f[t]] = act_v[t];
        const float *tgt = xv; /* the target: x, or |x| for abs */
        if (kind == 3) {
            for (int t = 0; t < k; t++) xt[act_f[t]] = fabsf(act_v[t]);
            tgt = xt;
        }
        if (J->x_out) memcpy(J->x_out + ((size_t)i * B + s) * n, xv, n * sizeof(float));

        /* encoder a = W x over the active features; h = a or ReLU(a) */
        vf a[NV], h[NV], dh[NV];
        sum_rows(k, act_f, act_v, W_nm, a);
        float hf[MP];
        const float hsum = hidden_units(hidden_relu, a, h, hf);

        if (gram) /* o = b + W^T W x */
            sum_rows_into(fv, k, act_f, act_v, M, bv, ov);
        else
            sum_rows_into(fv, MH, NULL, hf, D_mn, bv, ov);
        loss += (double)output_grad(n, out_relu, o, tgt, imp, c, g) + (double)(J->l1 * hsum);
        const int q = compact_nonzero(n, g, q_f, q_g);

        /* the gradient at the hidden layer; bias and decoder gradients over nonzero outputs */
        sum_rows(q, q_f, q_g, D_nm, dh);
        for (int t = 0; t < q; t++) {
            const int f = q_f[t];
            vf *grow = gD + (size_t)f * NV;
            gbi[f] += q_g[t];
            for (int r = 0; r < NV; r++) grow[r] += q_g[t] * h[r];
        }
        hidden_grad(hidden_relu, l1_b, a, h, dh);

        /* encoder gradient over the active features */
        for (int t = 0; t < k; t++) {
            vf *erow = gE + (size_t)act_f[t] * NV;
            for (int r = 0; r < NV; r++) erow[r] += act_v[t] * dh[r];
        }
        for (int t = 0; t < k; t++) /* leave xv and xt zero for the next sample */
            xv[act_f[t]] = xt[act_f[t]] = 0.0f;
    }

    if (empty) { /* xv is zero here: the empty sample's output is the bias */
        loss += (double)empty * output_grad(n, out_relu, bi, xv, imp, c, g);
        for (int f = 0; f < n; f++) gbi[f] += (float)empty * g[f];
    }
    J->loss[i] = (float)(loss / B);
    const float *ge = (const float *)gE, *gd = (const float *)gD, *gdt = (const float *)gDT;
    const int gd_out = GD_OUT && dense; /* the decoder gradient is in gDT */
    float *gWi = J->gW + i * nm;
    for (int j0 = 0; j0 < MH; j0 += 16)
        for (int f0 = 0; f0 < n; f0 += 16)
            for (int j = j0; j < j0 + 16 && j < MH; j++)
                for (int f = f0; f < f0 + 16 && f < n; f++)
                    gWi[(size_t)j * n + f] =
                        ge[(size_t)f * MP + j] + (gd_out && tied ? gdt[j * fp + f] : 0.0f);
    if (!tied) {
        float *gOi = J->gW_out + i * nm;
        for (int f = 0; f < n; f++)
            for (int j = 0; j < MH; j++)
                gOi[(size_t)f * MH + j] = gd_out ? gdt[j * fp + f] : gd[(size_t)f * MP + j];
    }
}

/* one freed scratch kept for the next call, up to KEEP_BYTES: a fresh one this large comes from
   mmap, page faults and all, on every call (2-3 % of a step at 1024->256) */
#define KEEP_BYTES ((size_t)64 << 20)
static pthread_mutex_t keep_lock = PTHREAD_MUTEX_INITIALIZER;
static void *kept;
static size_t kept_bytes;

static void give_scratch(void *p, size_t bytes) {
    pthread_mutex_lock(&keep_lock);
    if (p && bytes <= KEEP_BYTES && (!kept || kept_bytes < bytes)) {
        void *old = kept;
        kept = p, kept_bytes = bytes, p = old;
    }
    pthread_mutex_unlock(&keep_lock);
    free(p);
}

/* Take instances from J until none is left, with `*scratch` (`*bytes` bytes, grown as
   needed: a pool thread keeps its own from call to call, the caller's goes back to `kept`). */
static void take_instances(job_t *J, float **scratch, size_t *bytes) {
    const int gram_room = J->n <= GRAM_MAX_N && J->n < J->B;
    /* 64-byte aligned: the padded rows are read as whole vectors */
    const size_t need = (scratch_floats(J->n, gram_room) * 4 + 63) / 64 * 64;
    if (*bytes < need) {
        free(*scratch);
        *scratch = aligned_alloc(64, need);
        *bytes = *scratch ? need : 0;
    }
    int *ibuf = calloc((5 + SB + SB / RT) * J->n + SB + SB / RT, sizeof(int)); /* the exactly-k marks start and stay zero */
    if (!*scratch || !ibuf) {
        __atomic_store_n(&J->failed, 1, __ATOMIC_SEQ_CST);
    } else {
        for (;;) {
            const int i = __atomic_fetch_add(&J->next, 1, __ATOMIC_SEQ_CST);
            if (i >= J->I) break;
            run_instance(J, i, *scratch, ibuf, gram_room);
        }
    }
    free(ibuf);
}

/* Helper threads, started on first use and kept: a thread started for every step cost 0.1-0.2 ms
   a step (its start, a fresh scratch and its page faults), more than a small model's whole
   step. Between steps they spin (below), then sleep; a step wakes `pool_want` of them and waits
   for them. A forked child starts with none (pthread_atfork). */
enum { MAX_THREADS = 64 };
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_wake = PTHREAD_COND_INITIALIZER, pool_idle = PTHREAD_COND_INITIALIZER;
static job_t *pool_job;
static unsigned long pool_gen;             /* steps posted so far */
static int pool_size, pool_want, pool_busy; /* threads started; woken for this step; still on it */
static int pool_taken;                      /* a step holds the helpers (another runs alone) */
static unsigned long pool_born[MAX_THREADS]; /* pool_gen when each thread was started */
static int pool_forkable;

/* Spin up to SPIN_NS until a new step is posted (gen != seen) or, with gen NULL, until the
   step's helpers are done (pool_busy 0): a helper and its caller hand over in microseconds this
   way, where sleeping and being woken costs tens of them. 1 ms covers the optimiser's update
   between two steps (0.23 ms at 200->20x20; whole runs 1.02x against a 0.2 ms spin). Each turn
   yields the core: beside a busy neighbour a pause loop took it from the caller (whole runs
   0.89x the per-step threads; 0.97x yielding). 1 when it happened. */
#define SPIN_NS 1000000L
static int spin(const unsigned long *gen, unsigned long seen) {
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 1;; i++) {
        if (gen ? __atomic_load_n(gen, __ATOMIC_ACQUIRE) != seen
                : __atomic_load_n(&pool_busy, __ATOMIC_ACQUIRE) == 0)
            return 1;
        sched_yield();
        if (i % 64 == 0) {
            clock_gettime(CLOCK_MONOTONIC, &t);
            if ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) > SPIN_NS) return 0;
        }
    }
}

static void *pool_thread(void *arg) {
    const int slot = (int)(intptr_t)arg;
    float *scratch = NULL;
    size_t bytes = 0;
    pthread_mutex_lock(&pool_lock);
    unsigned long seen = pool_born[slot];
    for (;;) {
        if (pool_gen == seen) {
            pthread_mutex_unlock(&pool_lock);
            spin(&pool_gen, seen);
            pthread_mutex_lock(&pool_lock);
        }
        while (pool_gen == seen) pthread_cond_wait(&pool_wake, &pool_lock);
        seen = pool_gen;
        if (slot >= pool_want) continue;
        job_t *J = pool_job;
        pthread_mutex_unlock(&pool_lock);
        take_instances(J, &scratch, &bytes);
        if (bytes > KEEP_BYTES) free(scratch), scratch = NULL, bytes = 0;
        pthread_mutex_lock(&pool_lock);
        if (__atomic_sub_fetch(&pool_busy, 1, __ATOMIC_RELEASE) == 0) pthread_cond_signal(&pool_idle);
    }
    return NULL;
}

static void pool_prepare(void) { pthread_mutex_lock(&pool_lock), pthread_mutex_lock(&keep_lock); }
static void pool_parent(void) { pthread_mutex_unlock(&keep_lock), pthread_mutex_unlock(&pool_lock); }
static void pool_child(void) { /* the helpers are not copied into a forked child */
    pool_size = pool_want = pool_busy = pool_taken = 0;
    pool_wake = (pthread_cond_t)PTHREAD_COND_INITIALIZER;
    pool_idle = (pthread_cond_t)PTHREAD_COND_INITIALIZER;
    pthread_mutex_unlock(&keep_lock), pthread_mutex_unlock(&pool_lock);
}

/* The step for all I instances on `threads` threads. Returns 0, or 1 when out of memory. */
int toy_step(int threads, int I, int n, int B, int kind, int values, int structure,
             int set_size, int k, float l1, const float *W,
             const float *W_out, const float *b, const float *imp, const float *density,
             uint64_t seed, float *gW, float *gW_out, float *gb, float *loss, float *x_out) {
    job_t J = {I, n, B, kind, values, structure, set_size, k, l1, W, W_out, b, imp, density, seed,
               gW, gW_out, gb, loss, x_out, 0, 0};
    int helpers = threads - 1 < I - 1 ? threads - 1 : I - 1;
    if (helpers > MAX_THREADS - 1) helpers = MAX_THREADS - 1;
    if (helpers > 0) {
        pthread_mutex_lock(&pool_lock);
        if (!pool_forkable) pool_forkable = !pthread_atfork(pool_prepare, pool_parent, pool_child);
        while (pool_size < helpers) {
            pthread_t tid;
            pool_born[pool_size] = pool_gen;
            if (pthread_create(&tid, NULL, pool_thread, (void *)(intptr_t)pool_size)) break;
            pthread_detach(tid);
            pool_size++;
        }
        if (helpers > pool_size) helpers = pool_size;
        if (pool_taken) helpers = 0; /* another thread's step has them */
        if (helpers > 0) {
            pool_job = &J, pool_want = pool_busy = helpers, pool_taken = 1;
            __atomic_add_fetch(&pool_gen, 1, __ATOMIC_RELEASE);
            pthread_cond_broadcast(&pool_wake);
        }
        pthread_mutex_unlock(&pool_lock);
    }
    pthread_mutex_lock(&keep_lock);
    float *scratch = kept;
    size_t bytes = kept_bytes;
    kept = NULL, kept_bytes = 0;
    pthread_mutex_unlock(&keep_lock);
    take_instances(&J, &scratch, &bytes);
    give_scratch(scratch, bytes);
    if (helpers > 0) {
        spin(NULL, 0);
        pthread_mutex_lock(&pool_lock);
        while (pool_busy > 0) pthread_cond_wait(&pool_idle, &pool_lock);
        pool_taken = 0;
        pthread_mutex_unlock(&pool_lock);
    }
    return J.failed;
}
