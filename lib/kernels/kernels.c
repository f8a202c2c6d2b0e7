/*
 * wavprobe's wasm SIMD128 kernels, run in place on tfjs-wasm's heap (lib/kernels/index.ts).
 * Built by tools/build-kernels.sh into lib/kernels/binaries.ts; every pointer is a byte offset in the imported
 * memory (tfjs-wasm's), chosen by the caller. No libc, no stack use, no globals.
 *
 * GEMM: C[M,N] = A[M,K]·B[K,N] (+ bias[N]), f32, with row strides lda, ldb, ldc. An lda smaller than K makes
 * rows overlap: a 1-D convolution over time-major x [T, Cin] with stride s and kernel k is exactly the GEMM with
 * A row t = x + t·s·Cin, lda = s·Cin, K = k·Cin, B = the filter [k·Cin, Cout] (no im2col copy). The kernel-3,
 * stride-2 convolution of the conv encoder takes a cheaper route, conv3s2_cols below.
 *
 * Layouts
 * - B is packed into column panels of NR = 8, Bp[panel][k][8] (the last panel zero-padded), so the micro-kernel
 *   reads 2 contiguous f32x4 per k: per call (each thread packs the panels it computes), or once at load for a
 *   model's dense weights (pack_cols; pack_half_cols from float16), or as the 7 operands of one level of
 *   Strassen, each in panels (strassen_pack_cols, for gemm_strassen_cols: 1/8 fewer multiply-adds).
 * - A is packed per tile of MR rows and K block into a k-major [k][AP] workspace of the thread's own, then
 *   swept across every B panel. That lets the micro-kernel address A and B from two pointers with constant
 *   offsets (V8 then emits no address arithmetic in the loop: ~+9 % over reading A's rows in place), and lets the
 *   packing read rows made of strided segments (grouped_conv_cols) or subtract rows (conv3s2_cols).
 *
 * Micro-kernel
 * - MR x 8 output tile held in 2·MR f32x4 accumulators; A elements broadcast with v128.load32_splat (one register,
 *   reused row after row). A tile of fewer than MR rows repeats its first row in the workspace and stores only its
 *   own rows.
 * - MR = 6 with relaxed SIMD: 12 accumulators + 2 B + 1 broadcast = 15, all of x64 V8's allocatable xmm registers.
 *   Twelve independent FMAs an iteration carry the loop's fixed cost (V8's stack-guard check, index moves) better
 *   than eight: alone, 6x8 runs at 95 % of one Zen 4 core's FMA peak (58.6 GFLOP/s), 4x8 at 88 %, 3x12 and 2x16
 *   no better than 4x8, 7x8 spills. The plain build keeps MR = 4: a multiply then an add needs a temporary.
 * - V8 11.3's TurboFan is easily pushed into hoisting all broadcasts above the FMAs and spilling (2x slower, same
 *   results): the stores after the loop sit in their own functions (kernel's *_store, store_tile), and kernel stores
 *   under `if (kc > 0)` (without it, or with a do-while loop, it spills). spec/kernels/codegen.spec.ts reads V8's
 *   machine code and fails on any stack access in these loops. The kernel is a noinline function and clang must
 *   not unroll its loop, for the same reason. tools/build-kernels.sh also turns off LLVM's loop strength reduction,
 *   which otherwise rewrites `bp + 4` into an add that wasm cannot fold into the load's offset.
 * - The attention core runs the same tiles: its scores come out key-major (keys as the tile's rows), the layout its
 *   P·V product reads as the packed A tile of QG queries (kernel_pv), and its softmax holds 4 queries in the lanes.
 *
 * Cache blocking: N in blocks of NC columns, K in blocks of KC (the packed A tile of a K block stays in L2 while
 * the kernel sweeps the B panels). The first K block writes bias (or 0) + acc, later ones accumulate. Each block
 * costs a pass of stores over C, so KC is long: 2048 takes XLS-R's FFN down (K/2 = 2048 under Strassen) in one
 * (-2.6 % on that GEMM against 1536; the others do not change).
 *
 * Relaxed SIMD: with -DRELAXED the multiply-add is f32x4.relaxed_madd (vfmadd231ps on x64 with FMA3, else
 * mul + add). clang 14 only knows the pre-standard f32x4.fma encoding; tools/build-kernels.sh rewrites it to
 * the standard relaxed_madd, so MADD is written in the standard operand order (a·b + c).
 */
#include <stddef.h>
#include <wasm_simd128.h>

#define NR 8
#define KC 2048
#define NC 1024

#define EXPORT(name) __attribute__((export_name(#name), visibility("default")))
#define NOINLINE __attribute__((noinline))

#ifdef RELAXED
/* standard relaxed_madd semantics after tools/build-kernels.sh's opcode patch (tools/relaxed-madd.ts): a*b + c */
#define MADD(acc, a, b) __builtin_wasm_fma_f32x4((a), (b), (acc))
#define MR 6 /* rows of the micro-kernel's tile */
#define AP 8 /* floats per k of a packed A tile: rows 0..3, rows 4..5, two spare lanes */
#define ROWS_MR(X) X(0) X(1) X(2) X(3) X(4) X(5)
#else
#define MADD(acc, a, b) wasm_f32x4_add((acc), wasm_f32x4_mul((a), (b)))
#define MR 4
#define AP 4
#define ROWS_MR(X) X(0) X(1) X(2) X(3)
#endif

/* Pack panel p of B [K, N] (row stride ldb) into dst[k][8] (columns past N zero). */
static void pack_panel(const float *B, int ldb, float *dst, int K, int N, int p) {
  int j0 = p * NR, w = N - j0 < NR ? N - j0 : NR;
  for (int k = 0; k < K; k++) {
    const float *src = B + (size_t)k * ldb + j0;
    if (w == NR) {
      wasm_v128_store(dst, wasm_v128_load(src));
      wasm_v128_store(dst + 4, wasm_v128_load(src + 4));
    } else {
      for (int j = 0; j < NR; j++) dst[j] = j < w ? src[j] : 0.0f;
    }
    dst += NR;
  }
}

/* Pack panels [p0, p1) of B into Bp[(p*K + k)*8 + j]. */
static void pack_b(const float *B, int ldb, float *Bp, int K, int N, int p0, int p1) {
  for (int p = p0; p < p1; p++) pack_panel(B, ldb, Bp + (size_t)p * K * NR, K, N, p);
}

/* Bytes of the packed B (all panels). */
EXPORT(gemm_packed_bytes)
int gemm_packed_bytes(int K, int N) { return (N + NR - 1) / NR * NR * K * 4; }

static inline v128_t splat(float v) { return wasm_f32x4_splat(v); }

/* exp(y) for y ≤ 0 (the softmax): y = n·ln2 + r, |r| ≤ ln2/2 (ln2 in two parts, Cody & Waite), e^r by its
 * degree-6 Taylor polynomial (remainder ≤ 1.2e-7 relative), 2^n built in the exponent bits. Below −87 (e^y < 1.7e-38, near
 * float32's smallest normal; −inf and NaN too) the result is 0, so a masked attention score gets probability exactly 0:
 * the mask, not a clamp, handles those (whatever the arithmetic made of them is dropped).
 * n is rounded by adding 1.5·2^23 + 127 (EXP_SHIFT): the sum's ulp is 1, so its low mantissa bits are n + 127 (in
 * [1, 127] where the mask keeps it), which shifted up 23 places are 2^n's bits — cheaper than nearest and a float →
 * int conversion. */
#define EXP_SHIFT 12583039.0f
static inline v128_t exp_neg(v128_t y) {
  v128_t live = wasm_f32x4_ge(y, splat(-87.0f));
  v128_t shifted = MADD(splat(EXP_SHIFT), y, splat(1.44269504088896341f));
  v128_t n = wasm_f32x4_sub(shifted, splat(EXP_SHIFT));
  v128_t r = MADD(y, n, splat(-0.693359375f));
  r = MADD(r, n, splat(2.12194440e-4f));
  v128_t p = splat(1.0f / 720);
  p = MADD(splat(1.0f / 120), p, r);
  p = MADD(splat(1.0f / 24), p, r);
  p = MADD(splat(1.0f / 6), p, r);
  p = MADD(splat(0.5f), p, r);
  p = MADD(splat(1.0f), p, r);
  p = MADD(splat(1.0f), p, r);
  return wasm_v128_and(wasm_f32x4_mul(p, wasm_i32x4_shl(shifted, 23)), live);
}

/*
 * GELU(x) = x·Φ(x), exact form (HF "gelu"), in one pass: Φ(x) = 1 − e for x ≥ 0 and e for x < 0, with
 * e = ½·erfc(|x|/√2) from Abramowitz & Stegun 7.1.28, erfc(z) ≈ 1/(1 + a1·z + … + a6·z⁶)^16, |error| ≤ 3e-7:
 * no exp, one division, four squarings (2.8× faster than 7.1.26's erfc with exp). The 16th power amplifies
 * float32 rounding of the polynomial 16-fold, to ≤ ~1e-6 of e. So |GELU error| ≤ ½·|x|·(3e-7 + 1e-6): within
 * 1e-6·max(1, |x|) (measured 3.9e-7 on [−12, 12]; spec/nn/gelu.spec.ts checks it against float64). For large z
 * the power overflows to +inf and e is exactly 0.
 */
static inline v128_t gelu4(v128_t x) {
  v128_t z = wasm_f32x4_mul(wasm_f32x4_abs(x), splat(0.70710678118654752f));
  v128_t p = splat(0.0000430638f);
  p = MADD(splat(0.0002765672f), p, z);
  p = MADD(splat(0.0001520143f), p, z);
  p = MADD(splat(0.0092705272f), p, z);
  p = MADD(splat(0.0422820123f), p, z);
  p = MADD(splat(0.0705230784f), p, z);
  p = MADD(splat(1.0f), p, z);
  p = wasm_f32x4_mul(p, p); p = wasm_f32x4_mul(p, p); p = wasm_f32x4_mul(p, p); p = wasm_f32x4_mul(p, p);
  v128_t e = wasm_f32x4_div(splat(0.5f), p); /* ½·erfc(|x|/√2) */
  v128_t phi = wasm_v128_bitselect(wasm_f32x4_sub(splat(1.0f), e), e, wasm_f32x4_ge(x, splat(0.0f)));
  return wasm_f32x4_mul(x, phi);
}

/* y[i] = GELU(x[i]) for i in [i0, i1) (threads split the range; y may be x). */
EXPORT(gelu_range)
void gelu_range(const float *x, float *y, int i0, int i1) {
  int i = i0;
  for (; i + 4 <= i1; i += 4) wasm_v128_store(y + i, gelu4(wasm_v128_load(x + i)));
  for (; i < i1; i++) y[i] = wasm_f32x4_extract_lane(gelu4(wasm_f32x4_splat(x[i])), 0);
}

/*
 * A GEMM epilogue's GELU (the last K block of a layer with a GELU after it): in place on rows [0, rows) of a tile
 * (rows ldc apart), first w columns, once the tile is stored. Applied to the accumulators instead, it kept every
 * row's live through each row's GELU and V8 spilled: 3 % of FFN up's time against 2 % this way.
 */
static void gelu_rows(float *c, int ldc, int rows, int w) {
  for (int r = 0; r < rows; r++) gelu_range(c + r * ldc, c + r * ldc, 0, w);
}

/* Store one row of the tile: C = src + acc (src 0: C = acc), first w columns. src is the bias, C itself (a later K
 * block) or a partial sum. */
static inline __attribute__((always_inline)) void store_row(float *c, v128_t a0, v128_t a1, const float *src, int w) {
  if (w == NR) {
    v128_t c0 = a0, c1 = a1;
    if (src) { c0 = wasm_f32x4_add(wasm_v128_load(src), a0); c1 = wasm_f32x4_add(wasm_v128_load(src + 4), a1); }
    wasm_v128_store(c, c0);
    wasm_v128_store(c + 4, c1);
  } else { /* ragged last panel (N % 8 != 0): lane by lane, no stack buffer */
#define LANE(j, v, l) \
  if (j < w) c[j] = (src ? src[j] : 0.0f) + wasm_f32x4_extract_lane(v, l);
    LANE(0, a0, 0) LANE(1, a0, 1) LANE(2, a0, 2) LANE(3, a0, 3)
    LANE(4, a1, 0) LANE(5, a1, 1) LANE(6, a1, 2) LANE(7, a1, 3)
#undef LANE
  }
}

/* The ROWS x 8 micro-kernel's loop over kc (> 0) values of k: ap = packed A tile [kc][stride], bp = &Bp[panel][k0][0];
 * leaves the tile's sums in c00, c01 .. (row r in cr0, cr1). */
#define ACC_ZERO(r) v128_t c##r##0 = wasm_f32x4_splat(0.0f), c##r##1 = c##r##0;
#define ACC_MADD(r)                    \
  a = wasm_v128_load32_splat(a_ + r); \
  c##r##0 = MADD(c##r##0, a, b0);      \
  c##r##1 = MADD(c##r##1, a, b1);
#define TILE_LOOP(ap, bp, kc, ROWS, stride)                                                                      \
  ROWS(ACC_ZERO)                                                                                                 \
  {                                                                                                              \
    const float *a_ = (ap), *b_ = (bp), *end_ = b_ + (size_t)(kc) * NR;                                          \
    _Pragma("clang loop unroll(disable)") while (b_ != end_) {                                                   \
      v128_t b0 = wasm_v128_load(b_), b1 = wasm_v128_load(b_ + 4), a;                                            \
      ROWS(ACC_MADD)                                                                                             \
      a_ += (stride);                                                                                            \
      b_ += NR;                                                                                                  \
    }                                                                                                            \
  }

/*
 * The micro-kernel: the tile over kc values of k, row r < mr of it to c + r·ldc as src + r·lds + acc (store_row);
 * lds 0 repeats one src row (a bias). kernel: MR rows from an A tile packed [kc][AP]; kernel_pv: MR rows of the
 * attention's probabilities [kc][QG] (QG queries a key).
 */
#define STORE_ROW(r) \
  if (mr > r) store_row(c + r * ldc, c##r##0, c##r##1, src ? src + r * lds : 0, w);
/* The tile's accumulators as parameters and as arguments. */
#define ACC_PARAM(r) , v128_t c##r##0, v128_t c##r##1
#define ACC_ARG(r) , c##r##0, c##r##1
/* The tile's stores in a function of their own, and under a test of kc (> 0 at every call) that only V8 needs:
 * without either, TurboFan spills the loop (see Micro-kernel; spec/kernels/codegen.spec.ts checks). */
#define KERNEL(name, ROWS, stride)                                                                                   \
  static NOINLINE void name##_store(float *c, int ldc, const float *src, int lds, int mr, int w, int gelu           \
                                    ROWS(ACC_PARAM)) {                                                             \
    ROWS(STORE_ROW)                                                                                                  \
    if (gelu) gelu_rows(c, ldc, mr, w);                                                                              \
  }                                                                                                                  \
  static NOINLINE void name(const float *ap, const float *bp, int kc, float *c, int ldc, const float *src, int lds,   \
                            int mr, int w, int gelu) {                                                               \
    TILE_LOOP(ap, bp, kc, ROWS, stride)                                                                              \
    if (kc > 0) name##_store(c, ldc, src, lds, mr, w, gelu ROWS(ACC_ARG));                                           \
  }
KERNEL(kernel, ROWS_MR, AP)
#define QG 24 /* queries the attention core takes at a time: 3 panels of 8, 24 / MR whole tiles of its P·V */
KERNEL(kernel_pv, ROWS_MR, QG)

/* Rows x0..x3 of 4 values stored as columns: dst + j·stride gets (x0[j], x1[j], x2[j], x3[j]) for j < 4. */
static inline __attribute__((always_inline)) void store_transposed4(v128_t x0, v128_t x1, v128_t x2, v128_t x3, float *dst,
                                                                    int stride) {
  v128_t t0 = wasm_i32x4_shuffle(x0, x1, 0, 4, 1, 5), t1 = wasm_i32x4_shuffle(x2, x3, 0, 4, 1, 5);
  v128_t t2 = wasm_i32x4_shuffle(x0, x1, 2, 6, 3, 7), t3 = wasm_i32x4_shuffle(x2, x3, 2, 6, 3, 7);
  wasm_v128_store(dst, wasm_i64x2_shuffle(t0, t1, 0, 2));
  wasm_v128_store(dst + stride, wasm_i64x2_shuffle(t0, t1, 1, 3));
  wasm_v128_store(dst + 2 * stride, wasm_i64x2_shuffle(t2, t3, 0, 2));
  wasm_v128_store(dst + 3 * stride, wasm_i64x2_shuffle(t2, t3, 1, 3));
}

/*
 * ap[k·AP + r] = x_r[k] + q_r[k] (add) or − q_r[k] for k < n and r < 4, k-major; q0 == 0: x_r[k] alone. Four rows
 * at a time, transposed in registers.
 */
static inline __attribute__((always_inline)) void pack4(const float *r0, const float *r1, const float *r2, const float *r3,
                                                        const float *q0, const float *q1, const float *q2, const float *q3,
                                                        int add, int n, float *ap) {
  int k = 0;
  for (; k + 4 <= n; k += 4) {
    v128_t x0 = wasm_v128_load(r0 + k), x1 = wasm_v128_load(r1 + k), x2 = wasm_v128_load(r2 + k), x3 = wasm_v128_load(r3 + k);
    if (q0 && add) {
      x0 = wasm_f32x4_add(x0, wasm_v128_load(q0 + k));
      x1 = wasm_f32x4_add(x1, wasm_v128_load(q1 + k));
      x2 = wasm_f32x4_add(x2, wasm_v128_load(q2 + k));
      x3 = wasm_f32x4_add(x3, wasm_v128_load(q3 + k));
    } else if (q0) {
      x0 = wasm_f32x4_sub(x0, wasm_v128_load(q0 + k));
      x1 = wasm_f32x4_sub(x1, wasm_v128_load(q1 + k));
      x2 = wasm_f32x4_sub(x2, wasm_v128_load(q2 + k));
      x3 = wasm_f32x4_sub(x3, wasm_v128_load(q3 + k));
    }
    store_transposed4(x0, x1, x2, x3, ap + AP * k, AP);
  }
  for (; k < n; k++) {
    float s = add ? 1.0f : -1.0f;
    ap[AP * k] = r0[k] + (q0 ? s * q0[k] : 0.0f);
    ap[AP * k + 1] = r1[k] + (q0 ? s * q1[k] : 0.0f);
    ap[AP * k + 2] = r2[k] + (q0 ? s * q2[k] : 0.0f);
    ap[AP * k + 3] = r3[k] + (q0 ? s * q3[k] : 0.0f);
  }
}

/*
 * The micro-kernel's A tile: ap[k·AP + r] = x_r[k] ± q_r[k] (as pack4) for k < n and r < MR, from the row pointers
 * x0..x5 and q0..q5 (rows 4 and 5 read only when MR is 6; the two spare lanes after them repeat row 5).
 */
static inline __attribute__((always_inline)) void pack_tile(const float *x0, const float *x1, const float *x2,
                                                            const float *x3, const float *x4, const float *x5,
                                                            const float *q0, const float *q1, const float *q2,
                                                            const float *q3, const float *q4, const float *q5, int add,
                                                            int n, float *ap) {
  pack4(x0, x1, x2, x3, q0, q1, q2, q3, add, n, ap);
  if (MR == 6) pack4(x4, x5, x5, x5, q4, q5, q5, q5, add, n, ap + 4);
}

/*
 * ap[k·AP + r] = A[r][k] (− D[r][k]) for k < n and r < MR: n values of mr (1..MR) rows of A (row r at A + r·lda),
 * k-major, repeating row 0 for missing rows; D (optional) is subtracted, its rows lda apart too.
 */
static void pack_span(const float *A, int lda, int mr, const float *D, int n, float *ap) {
/* tile row r of A and of D: row 0's past mr */
#define RA(r) A + (size_t)(mr > r ? r : 0) * lda
#define RD(r) D ? D + (size_t)(mr > r ? r : 0) * lda : 0
  pack_tile(RA(0), RA(1), RA(2), RA(3), RA(4), RA(5), RD(0), RD(1), RD(2), RD(3), RD(4), RD(5), 0, n, ap);
#undef RA
#undef RD
}

/*
 * Pack values [k0, k0 + kb) of mr rows of A whose row is segments of `seg` contiguous values, segStride apart:
 * value k is at row + (k / seg)·segStride + k % seg. A plain row is one segment (seg ≥ K); a grouped conv's row
 * is its group's channels at each tap.
 */
static void pack_a(const float *A, int lda, int mr, int k0, int kb, int seg, int segStride, float *ap) {
  for (int k = k0; k < k0 + kb;) {
    int off = k % seg, n = seg - off < k0 + kb - k ? seg - off : k0 + kb - k;
    pack_span(A + (size_t)(k / seg) * segStride + off, lda, mr, 0, n, ap + AP * (k - k0));
    k += n;
  }
}

/* Floats of a thread's packed A workspace: one tile of a K block. */
#define A_TILE (AP * KC)

EXPORT(gemm_scratch_bytes)
int gemm_scratch_bytes(void) { return 4 * A_TILE; }

/* C[:, panels [p0, p1)] = A·B (+ bias) (then GELU when gelu is set) on B already packed into Bp; A's rows are
 * segmented as pack_a reads them; Ap: the thread's A workspace (gemm_scratch_bytes). */
static void gemm_packed(const float *A, int lda, int seg, int segStride, const float *Bp, const float *bias, float *C,
                        int ldc, int M, int K, int N, int p0, int p1, int gelu, float *Ap) {
  for (int pb = p0; pb < p1; pb += NC / NR) {
    int pe = pb + NC / NR < p1 ? pb + NC / NR : p1;
    for (int k0 = 0; k0 < K; k0 += KC) {
      int kb = K - k0 < KC ? K - k0 : KC;
      int first = k0 == 0, last = k0 + kb == K;
      for (int i = 0; i < M; i += MR) {
        int mr = M - i < MR ? M - i : MR;
        pack_a(A + (size_t)i * lda, lda, mr, k0, kb, seg, segStride, Ap);
        for (int p = pb; p < pe; p++) {
          int j0 = p * NR, w = N - j0 < NR ? N - j0 : NR;
          float *c = C + (size_t)i * ldc + j0;
          const float *src = first ? (bias ? bias + j0 : 0) : c;
          kernel(Ap, Bp + ((size_t)p * K + k0) * NR, kb, c, ldc, src, first ? 0 : ldc, mr, w, gelu && last);
        }
      }
    }
  }
}

/*
 * C[:, 8·p0 .. min(8·p1, N)) = A·B[:, same] (+ bias) for B [K, N] and C [M, N]: panels [p0, p1), so threads split
 * N. Packs those panels of B into Bp (gemm_packed_bytes(K, N) bytes, shared by the threads) first, unless Bp is B:
 * a weight packed once at load (pack_cols), or packed by the call for an earlier batch row. bias may be 0 (none).
 * gelu: apply GELU to the result (a layer whose activation follows it), in the same pass. Ap: this thread's
 * gemm_scratch_bytes().
 */
EXPORT(gemm_cols)
void gemm_cols(const float *A, int lda, const float *B, float *Bp, const float *bias, float *C, int M, int K, int N,
               int gelu, int p0, int p1, float *Ap) {
  if (Bp != B) pack_b(B, N, Bp, K, N, p0, p1);
  gemm_packed(A, lda, K, 0, Bp, bias, C, N, M, K, N, p0, p1, gelu, Ap);
}

/* Bp = panels [p0, p1) of B [K, N] packed as gemm_cols packs them (threads split the panels). */
EXPORT(pack_cols)
void pack_cols(const float *B, float *Bp, int K, int N, int p0, int p1) { pack_b(B, N, Bp, K, N, p0, p1); }

/*
 * One level of Strassen (strassen7) on B packed by strassen_pack_cols (once at load for a dense weight, per call for
 * conv3s2_cols's filter): 7 products of half size instead of 8,
 * 1/8 fewer multiply-adds. With A [M, K] and B [K, N] in quadrants (rows of A and C split at M1 = ⌈M/2⌉, K and N
 * at their halves), C11 = M1 + M4 − M5 + M7, C12 = M3 + M5, C21 = M2 + M4, C22 = M1 − M2 + M3 + M6 where
 *   M1 = (A11 + A22)(B11 + B22)   M2 = (A21 + A22)B11   M3 = A11(B12 − B22)   M4 = A22(B21 − B11)
 *   M5 = (A11 + A12)B22           M6 = (A21 − A11)(B11 + B12)                 M7 = (A12 − A22)(B21 + B22).
 * The seven B operands are summed and packed ahead (7/4 of the weight's size); the A operands are summed
 * while their tiles are packed; each product's tile goes straight into its one or two quadrants of C. The error
 * bound is normwise, not per element: a few times the plain GEMM's relative to max|a|·max|b|·K.
 * The B block order: the operand of M1 .. M7, each [K/2, N/2] in panels of 8 columns.
 */
#define SB_FIRST 1 /* the quadrant's first write: bias (or 0) ± product */
#define SB_NEG 2   /* subtract the product */
#define SB_GELU 4  /* its last write, on a layer with a GELU after it */

/* Row r of a tile (rows [0, m) are stored) to c (rows ldc apart): src ± acc, src the bias row or c itself. */
#define TILE_ROW(r)                                                                                       \
  if (m > r) {                                                                                            \
    float *row = c + r * ldc;                                                                             \
    const float *src = flags & SB_FIRST ? bias : row;                                                     \
    v128_t x0 = src ? wasm_v128_load(src) : wasm_f32x4_splat(0.0f), x1 = src ? wasm_v128_load(src + 4) : x0; \
    x0 = flags & SB_NEG ? wasm_f32x4_sub(x0, c##r##0) : wasm_f32x4_add(x0, c##r##0);                      \
    x1 = flags & SB_NEG ? wasm_f32x4_sub(x1, c##r##1) : wasm_f32x4_add(x1, c##r##1);                      \
    wasm_v128_store(row, x0);                                                                             \
    wasm_v128_store(row + 4, x1);                                                                         \
  }
/* Rows [0, m) of an MR-row tile to c (rows ldc apart), as flags say (SB_*). Not inlined: see Micro-kernel. */
static NOINLINE void store_tile(float *c, int ldc, int m, int flags, const float *bias ROWS_MR(ACC_PARAM)) {
  ROWS_MR(TILE_ROW)
  if (flags & SB_GELU) gelu_rows(c, ldc, m < MR ? m : MR, NR);
}

/* The micro-kernel for a product with one or two destinations (c2 0: one), each with its rows, flags and bias. */
static NOINLINE void kernel_pair(const float *ap, const float *bp, int kc, int ldc, float *c1, int m1, int f1,
                                 const float *b1, float *c2, int m2, int f2, const float *b2) {
  TILE_LOOP(ap, bp, kc, ROWS_MR, AP)
  store_tile(c1, ldc, m1, f1, b1 ROWS_MR(ACC_ARG));
  if (c2) store_tile(c2, ldc, m2, f2, b2 ROWS_MR(ACC_ARG));
}

/* Row r of an operand with m rows lda apart, or the zero row past them. */
static inline const float *row_or_zero(const float *X, int lda, int m, int r, const float *zero) {
  return r < m ? X + (size_t)r * lda : zero;
}

/* The flags of a destination for K block [k0, k0 + kb) of K2: first and GELU only where they apply. */
static inline int block_flags(int f, int first, int last, int gelu) {
  return (f & SB_NEG) | (first ? f & SB_FIRST : 0) | (last && gelu ? f & SB_GELU : 0);
}

/* The MR rows [i, i + MR) of the operand X − Xd (Xd 0: none; rows past m zero) packed k-major into ap ([n][AP]),
 * add-ing or subtracting Y − Yd too when Y is set (Y 0: none): in one pass when neither has a subtrahend, else via
 * ap2. */
static void pack_operand(const float *X, const float *Xd, int mx, const float *Y, const float *Yd, int my, int add,
                         int lda, int i, int n, float *ap, float *ap2, const float *zero) {
/* row i + r of operand P (m rows), or null (pack4: no second term) when P is 0; P ± Q (add) into the tile dst */
#define ROW(P, m, r) P ? row_or_zero(P, lda, m, i + r, zero) : 0
#define ROWS(P, m) ROW(P, m, 0), ROW(P, m, 1), ROW(P, m, 2), ROW(P, m, 3), ROW(P, m, 4), ROW(P, m, 5)
#define PACK(P, mp, Q, mq, add, dst) pack_tile(ROWS(P, mp), ROWS(Q, mq), add, n, dst);
  if (!Xd && !Yd) {
    PACK(X, mx, Y, my, add, ap)
    return;
  }
  PACK(X, mx, Xd, mx, 0, ap)
  if (!Y) return;
  PACK(Y, my, Yd, my, 0, ap2)
#undef PACK
#undef ROWS
#undef ROW
  for (int k = 0; k < AP * n; k += 4) {
    v128_t a = wasm_v128_load(ap + k), b = wasm_v128_load(ap2 + k);
    wasm_v128_store(ap + k, add ? wasm_f32x4_add(a, b) : wasm_f32x4_sub(a, b));
  }
}

/*
 * One product: ((X − Xd) ± (Y − Yd))·Bm (add: +; a 0 subtrahend or Y: none) into destinations 1 and 2 (c2 0:
 * none), each a block of C with its rows m, flags f (SB_*) and bias b (0: none), all `panels` panels of Bm
 * ([panels][K2][8]), rows [r0, r1) (r0 a multiple of MR). X and Xd have mx rows, Y and Yd my; rows past them are
 * zero. Ap: 2·A_TILE floats.
 * (Plain arguments, not structs: no stack.)
 */
static void strassen_product(const float *X, const float *Xd, int mx, const float *Y, const float *Yd, int my, int add,
                             const float *Bm, int K2, int lda, int ldc, float *c1, int m1, int d1f, const float *b1,
                             float *c2, int m2, int d2f, const float *b2, int gelu, int panels, int r0, int r1,
                             float *Ap, const float *zero) {
  int rows = m1 > m2 ? m1 : m2;
  if (rows > r1) rows = r1;
  for (int pb = 0; pb < panels; pb += NC / NR) {
    int pe = pb + NC / NR < panels ? pb + NC / NR : panels;
    for (int k0 = 0; k0 < K2; k0 += KC) {
      int kb = K2 - k0 < KC ? K2 - k0 : KC, first = k0 == 0, last = k0 + kb == K2;
      int f1 = block_flags(d1f, first, last, gelu), f2 = block_flags(d2f, first, last, gelu);
      for (int i = r0; i < rows; i += MR) {
        pack_operand(X + k0, Xd ? Xd + k0 : 0, mx, Y ? Y + k0 : 0, Yd ? Yd + k0 : 0, my, add, lda, i, kb, Ap, Ap + A_TILE, zero);
        for (int p = pb; p < pe; p++) {
          int j0 = p * NR;
          kernel_pair(Ap, Bm + ((size_t)p * K2 + k0) * NR, kb, ldc, c1 + (size_t)i * ldc + j0, m1 - i, f1, b1 ? b1 + j0 : 0,
                      c2 ? c2 + (size_t)i * ldc + j0 : 0, m2 - i, f2, b2 ? b2 + j0 : 0);
        }
      }
    }
  }
}

/*
 * The 7 products of one Strassen level on quadrants of A (each X − Xd: Xd 0 for a plain one; rows lda apart, M1
 * in the upper ones, M2 in the lower) and C (rows ldc apart), B's 7 blocks of K2 × N2 at Bs (strassen_pack_cols),
 * quadrant rows [r0, r1). F: SB_FIRST when each quadrant's first write starts from the bias
 * (bl, br: the left and right halves'), 0 when C already holds a partial sum; the last write of each applies the
 * GELU when gelu is set.
 */
static void strassen7(const float *A11, const float *A11d, const float *A12, const float *A12d, const float *A21,
                      const float *A21d, const float *A22, const float *A22d, int M1, int M2, int lda, const float *Bs,
                      int K2, int N2, float *C11, float *C12, float *C21, float *C22, int ldc, const float *bl,
                      const float *br, int F, int gelu, int r0, int r1, float *Ap, const float *zero) {
  size_t blk = (size_t)K2 * N2;
  const int G = SB_GELU, NEG = SB_NEG;
/* operand (X − Xd, rows) ± (Y − Yd, rows), B block m, destinations (C block, rows, flags, bias) */
#define PRODUCT(X, Xd, mx, Y, Yd, my, add, m, c1, m1, f1, b1, c2, m2, f2, b2) \
  strassen_product(X, Xd, mx, Y, Yd, my, add, Bs + (m) * blk, K2, lda, ldc, c1, m1, f1, b1, c2, m2, f2, b2, gelu, N2 / NR, r0, r1, Ap, zero)
  PRODUCT(A11, A11d, M1, A22, A22d, M2, 1, 0, C11, M1, F, bl, C22, M2, F, br);   /* M1 = (A11 + A22)(B11 + B22) */
  PRODUCT(A21, A21d, M2, A22, A22d, M2, 1, 1, C21, M2, F, bl, C22, M2, NEG, 0);  /* M2 = (A21 + A22)B11 */
  PRODUCT(A11, A11d, M1, 0, 0, 0, 0, 2, C12, M1, F, br, C22, M2, 0, 0);          /* M3 = A11(B12 − B22) */
  PRODUCT(A22, A22d, M2, 0, 0, 0, 0, 3, C11, M1, 0, 0, C21, M2, G, 0);           /* M4 = A22(B21 − B11) */
  PRODUCT(A11, A11d, M1, A12, A12d, M1, 1, 4, C11, M1, NEG, 0, C12, M1, G, 0);   /* M5 = (A11 + A12)B22 */
  PRODUCT(A21, A21d, M2, A11, A11d, M1, 0, 5, C22, M2, G, 0, 0, 0, 0, 0);        /* M6 = (A21 − A11)(B11 + B12) */
  PRODUCT(A12, A12d, M1, A22, A22d, M2, 0, 6, C11, M1, G, 0, 0, 0, 0, 0);        /* M7 = (A12 − A22)(B21 + B22) */
#undef PRODUCT
}

/* Below this many rows a product of quadrants wastes too much of its MR-row tiles: the 4-product form instead. */
#define STRASSEN_MIN_ROWS 32
#define ALL_ROWS (1 << 30) /* a row range's end past every row: strassen_product's r1 when one thread takes them all */

/* The MR-row tiles gemm_strassen_cols splits over the threads: of the upper quadrants' rows (of A's, below
 * STRASSEN_MIN_ROWS). */
EXPORT(strassen_tiles)
int strassen_tiles(int M) { return ((M < STRASSEN_MIN_ROWS ? M : (M + 1) / 2) + MR - 1) / MR; }

EXPORT(strassen_scratch_bytes)
int strassen_scratch_bytes(void) { return 4 * (2 * A_TILE + KC); }

/* Zeroes the zero row after a thread's two A workspaces (the rows past a short quadrant); returns it. */
static float *zero_row(float *Ap) {
  float *zero = Ap + 2 * A_TILE;
  for (int k = 0; k < KC; k += 4) wasm_v128_store(zero + k, wasm_f32x4_splat(0.0f));
  return zero;
}

/*
 * C = A·B (+ bias) (then GELU) for A [M, K] (rows lda apart), B packed by strassen_pack_cols (K even, N a multiple
 * of 16), C [M, N]: the MR-row tiles [t0, t1) of the quadrants' rows (strassen_tiles: threads split them, so each
 * packs its A tiles once and runs them across all panels, where a split of the panels had both pack them all). With
 * fewer than STRASSEN_MIN_ROWS rows, the same blocks give the plain product in 4 half-size products:
 * C_left = (A1 + A2)·B11 + A2·(B21 − B11), C_right = A1·(B12 − B22) + (A1 + A2)·B22 (A1, A2: A's halves of K).
 * Ap: this thread's strassen_scratch_bytes().
 */
EXPORT(gemm_strassen_cols)
void gemm_strassen_cols(const float *A, int lda, const float *Bs, const float *bias, float *C, int M, int K, int N,
                        int gelu, int t0, int t1, float *Ap) {
  int K2 = K / 2, N2 = N / 2, r0 = t0 * MR, r1 = t1 * MR;
  size_t blk = (size_t)K2 * N2;
  const float *zero = zero_row(Ap), *bl = bias, *br = bias ? bias + N2 : 0; /* the left and right halves' bias */
  if (M < STRASSEN_MIN_ROWS) {
    const float *A1 = A, *A2 = A + K2;
    float *Cl = C, *Cr = C + N2;
    const int F = SB_FIRST, G = SB_GELU;
#define PRODUCT(X, Y, m, c, f, b) strassen_product(X, 0, M, Y, 0, M, 1, Bs + (m) * blk, K2, lda, N, c, M, f, b, 0, 0, 0, 0, gelu, N2 / NR, r0, r1, Ap, zero)
    PRODUCT(A1, A2, 1, Cl, F, bl); /* (A1 + A2)·B11 */
    PRODUCT(A2, 0, 3, Cl, G, 0);   /* A2·(B21 − B11) */
    PRODUCT(A1, 0, 2, Cr, F, br);  /* A1·(B12 − B22) */
    PRODUCT(A1, A2, 4, Cr, G, 0);  /* (A1 + A2)·B22 */
#undef PRODUCT
    return;
  }
  int M1 = (M + 1) / 2, M2 = M - M1;
  const float *A21 = A + (size_t)M1 * lda;
  float *C21 = C + (size_t)M1 * N;
  strassen7(A, 0, A + K2, 0, A21, 0, A21 + K2, 0, M1, M2, lda, Bs, K2, N2, C, C + N2, C21, C21 + N2, N, bl, br, SB_FIRST,
            gelu, r0, r1, Ap, zero);
}

/*
 * Four IEEE halves (zero-extended into i32 lanes) → their float32 values, exactly: a normal half's bits move up 13
 * places with the exponent rebiased by 112; a subnormal's |h|·2^-24 is a product of normal floats (exact, and no
 * subnormal operand for a flush-to-zero mode to touch); an all-ones exponent becomes float32's; the sign moves to
 * bit 31. The same construction as lib/weights/half-simd.ts.
 */
static inline v128_t widen_halves(v128_t h) {
  v128_t abs = wasm_v128_and(h, wasm_i32x4_splat(0x7fff)), exp = wasm_v128_and(h, wasm_i32x4_splat(0x7c00));
  v128_t subnormal = wasm_f32x4_mul(wasm_f32x4_convert_i32x4(abs), wasm_f32x4_splat(0x1p-24f));
  v128_t normal = wasm_i32x4_add(wasm_i32x4_shl(abs, 13), wasm_i32x4_splat(112 << 23));
  v128_t f = wasm_v128_bitselect(subnormal, normal, wasm_i32x4_eq(exp, wasm_i32x4_splat(0)));
  f = wasm_v128_or(f, wasm_v128_and(wasm_i32x4_eq(exp, wasm_i32x4_splat(0x7c00)), wasm_i32x4_splat(0x7f800000)));
  return wasm_v128_or(f, wasm_i32x4_shl(wasm_v128_and(h, wasm_i32x4_splat(0x8000)), 16));
}

/* 8 halves at h → 8 floats at dst. */
static inline __attribute__((always_inline)) void widen8(const unsigned short *h, float *dst) {
  v128_t x = wasm_v128_load(h);
  wasm_v128_store(dst, widen_halves(wasm_u32x4_extend_low_u16x8(x)));
  wasm_v128_store(dst + 4, widen_halves(wasm_u32x4_extend_high_u16x8(x)));
}

/* Four values of B from index i as float32: B's own, or (B 0) the halves H's, widened. */
static inline v128_t load4_or_half(const float *B, const unsigned short *H, size_t i) {
  return B ? wasm_v128_load(B + i) : widen_halves(wasm_u32x4_load16x4(H + i));
}

/*
 * Bs = the 7 B operands of gemm_strassen_cols for B [K, N] (K even, N a multiple of 16; float32 B, or IEEE halves H
 * when B is 0, widened exactly on the way), half panels [p0, p1) (threads split them): block m at Bs + m·(K/2)·(N/2),
 * panel p of it at + p·(K/2)·8. Inlined into each export, so each reads its own type without a branch.
 */
static inline __attribute__((always_inline)) void strassen_pack(const float *B, const unsigned short *H, float *Bs, int K,
                                                                int N, int p0, int p1) {
  int K2 = K / 2, N2 = N / 2;
  size_t blk = (size_t)K2 * N2;
  for (int p = p0; p < p1; p++) {
    for (int k = 0; k < K2; k++) {
      size_t i11 = (size_t)k * N + p * NR, i21 = i11 + (size_t)K2 * N;
      float *d = Bs + ((size_t)p * K2 + k) * NR;
      for (int h = 0; h < NR; h += 4) {
        v128_t x11 = load4_or_half(B, H, i11 + h), x12 = load4_or_half(B, H, i11 + N2 + h);
        v128_t x21 = load4_or_half(B, H, i21 + h), x22 = load4_or_half(B, H, i21 + N2 + h);
        wasm_v128_store(d + h, wasm_f32x4_add(x11, x22));
        wasm_v128_store(d + blk + h, x11);
        wasm_v128_store(d + 2 * blk + h, wasm_f32x4_sub(x12, x22));
        wasm_v128_store(d + 3 * blk + h, wasm_f32x4_sub(x21, x11));
        wasm_v128_store(d + 4 * blk + h, x22);
        wasm_v128_store(d + 5 * blk + h, wasm_f32x4_add(x11, x12));
        wasm_v128_store(d + 6 * blk + h, wasm_f32x4_add(x21, x22));
      }
    }
  }
}

EXPORT(strassen_pack_cols)
void strassen_pack_cols(const float *B, float *Bs, int K, int N, int p0, int p1) { strassen_pack(B, 0, Bs, K, N, p0, p1); }

/* strassen_pack_cols for a weight stored as IEEE halves H [K, N]: one pass over its 2-byte values. */
EXPORT(strassen_pack_half_cols)
void strassen_pack_half_cols(const unsigned short *H, float *Bs, int K, int N, int p0, int p1) {
  strassen_pack(0, H, Bs, K, N, p0, p1);
}

/*
 * pack_cols for a weight stored as IEEE halves H [K, N] (N a multiple of 8): panels [p0, p1) widened into Bp as
 * they are packed, so a float16 weight reaches the GEMM's layout in one pass over its 2-byte values.
 */
EXPORT(pack_half_cols)
void pack_half_cols(const unsigned short *H, float *Bp, int K, int N, int p0, int p1) {
  for (int p = p0; p < p1; p++) {
    float *dst = Bp + (size_t)p * K * NR;
    const unsigned short *src = H + p * NR;
    for (int k = 0; k < K; k++, src += N, dst += NR) widen8(src, dst);
  }
}

/* out[i] = the IEEE half H[i] widened exactly, for i in [i0, i1) (threads split the values in groups of 8). */
EXPORT(widen_half_values)
void widen_half_values(const unsigned short *H, float *out, int i0, int i1) {
  int i = i0;
  for (; i + 8 <= i1; i += 8) widen8(H + i, out + i);
  for (; i < i1; i++) out[i] = wasm_f32x4_extract_lane(widen_halves(wasm_i32x4_splat(H[i])), 0);
}

/* Panel p of W0 + W2 ([Cin, Cout] each, rows of W) into dst[k][8] (columns past Cout zero). */
static void pack_tap_sum(const float *W, int Cin, int Cout, float *dst, int p) {
  pack_panel(W, Cout, dst, Cin, Cout, p);
  const float *w2 = W + (size_t)2 * Cin * Cout + p * NR;
  int w = Cout - p * NR < NR ? Cout - p * NR : NR;
  for (int k = 0; k < Cin; k++)
    for (int j = 0; j < w; j++) dst[k * NR + j] += w2[(size_t)k * Cout + j];
}

/*
 * The kernel-3, stride-2 convolution as shared products (Winograd's F(2,2) on the even taps). With x [T, Cin]
 * (rows), W = [W0; W1; W2] the filter [3·Cin, Cout], output rows 2s and 2s+1 read e0 = x[4s], o0 = x[4s+1],
 * e1 = x[4s+2], o1 = x[4s+3], e2 = x[4s+4]:
 *   y[2s]   = e0·W0 + o0·W1 + e1·W2 = [e0 − e1 | o0]·[W0; W1] + e1·(W0 + W2)
 *   y[2s+1] = e1·W0 + o1·W1 + e2·W2 = [o1 | e2 − e1]·[W1; W2] + e1·(W0 + W2)
 * so a pair costs 5·Cin multiply-adds per output instead of 6. [W0; W1] and [W1; W2] are rows of W as stored;
 * W0 + W2 is summed while packing. The shared product of a tile goes through an MR x 8 scratch (with the bias in
 * it), which the even and odd rows' kernels take as their store source, so y is written once.
 * Needs 2·Cin ≤ KC (one K block); Bp: conv3s2_packed_bytes(Cin, Cout, Tout), already packed when W is Bp (a later
 * batch row); Ap: conv3s2_scratch_bytes(Cin).
 *
 * With enough frames the two K = 2·Cin products also take one level of Strassen (strassen7), on quadrants whose
 * rows split the pairs in two and whose columns are the two Cin segments ([e0 − e1 | o0]: a quadrant is a
 * difference of rows, X − Xd): 1/8 fewer of their multiply-adds. The shared product goes first, into the even and
 * odd rows with the bias (strassen_product with two destinations), and the Strassen products add to it.
 */
#define CONV_ROWS 72 /* pairs: quadrants of 36 rows, whole tiles of 4 or 6 */

/* Whether conv3s2_cols takes the Strassen route: then its filter is packed first, by conv3s2_pack_cols. */
EXPORT(conv3s2_strassen)
int conv3s2_strassen(int Cin, int Cout, int Tout) { return Cout % (2 * NR) == 0 && Cin <= KC && Tout / 2 >= STRASSEN_MIN_ROWS; }

/* How many slices conv3s2_cols takes (threads split them): its 8-column panels, or (Strassen) its blocks of
 * CONV_ROWS pairs, each of which a thread takes whole: every thread packs only its own rows' A tiles. */
EXPORT(conv3s2_slices)
int conv3s2_slices(int Cin, int Cout, int Tout) {
  return conv3s2_strassen(Cin, Cout, Tout) ? ((Tout + 1) / 2 + CONV_ROWS - 1) / CONV_ROWS : (Cout + NR - 1) / NR;
}

/* Bytes of conv3s2_cols' packed filter: 5·Cin rows of panels, or Strassen's 7 half blocks of both products + W0 + W2. */
EXPORT(conv3s2_packed_bytes)
int conv3s2_packed_bytes(int Cin, int Cout, int Tout) {
  return conv3s2_strassen(Cin, Cout, Tout) ? 4 * 8 * Cin * Cout : gemm_packed_bytes(5 * Cin, Cout);
}

EXPORT(conv3s2_scratch_bytes)
int conv3s2_scratch_bytes(int Cin) {
  int plain = 4 * (AP * 5 * Cin + MR * NR), strassen = strassen_scratch_bytes();
  return plain > strassen ? plain : strassen;
}

/* The Strassen route's filter: W [3·Cin, Cout] → Bp (conv3s2_packed_bytes), panels [p0, p1) of each half. */
EXPORT(conv3s2_pack_cols)
void conv3s2_pack_cols(const float *W, float *Bp, int Cin, int Cout, int p0, int p1) {
  int P2 = Cout / 2 / NR;
  size_t blocks = (size_t)7 * Cin * (Cout / 2); /* Strassen's blocks of one product */
  float *sum = Bp + 2 * blocks;
  strassen_pack_cols(W, Bp, 2 * Cin, Cout, p0, p1);                           /* [W0; W1] */
  strassen_pack_cols(W + (size_t)Cin * Cout, Bp + blocks, 2 * Cin, Cout, p0, p1); /* [W1; W2] */
  for (int p = p0; p < p1; p++) {
    pack_tap_sum(W, Cin, Cout, sum + (size_t)p * Cin * NR, p);
    pack_tap_sum(W, Cin, Cout, sum + (size_t)(p + P2) * Cin * NR, p + P2);
  }
}

/* Slices [p0, p1): 8-column panels, or (Strassen, Bp packed by conv3s2_pack_cols) blocks of CONV_ROWS pairs. */
EXPORT(conv3s2_cols)
void conv3s2_cols(const float *x, int Cin, const float *W, float *Bp, const float *bias, float *y, int Tout, int Cout,
                  int gelu, int p0, int p1, float *Ap) {
  int K2 = 2 * Cin, lda = 4 * Cin;
  int pairsEven = (Tout + 1) / 2, pairsOdd = Tout / 2;
  if (conv3s2_strassen(Cin, Cout, Tout)) {
    int N2 = Cout / 2;
    size_t blocks = (size_t)7 * Cin * N2; /* Strassen's blocks of one product */
    float *even = Bp, *odd = Bp + blocks, *sum = Bp + 2 * blocks;
    const float *zero = zero_row(Ap);
    /* A block's input and output rows stay in cache through its 15 products. */
    for (int s0 = p0 * CONV_ROWS; s0 < pairsEven && s0 < p1 * CONV_ROWS; s0 += CONV_ROWS) {
      int ne = pairsEven - s0 < CONV_ROWS ? pairsEven - s0 : CONV_ROWS, no = pairsOdd - s0 < CONV_ROWS ? pairsOdd - s0 : CONV_ROWS;
      const float *xb = x + (size_t)s0 * lda;
      float *yb = y + (size_t)2 * s0 * Cout;
      /* e1·(W0 + W2) + bias → even and odd rows */
      strassen_product(xb + 2 * Cin, 0, ne, 0, 0, 0, 0, sum, Cin, lda, 2 * Cout, yb, ne, SB_FIRST, bias, yb + Cout, no,
                       SB_FIRST, bias, 0, Cout / NR, 0, ALL_ROWS, Ap, zero);
      /* even rows += [e0 − e1 | o0]·[W0; W1]; odd rows += [o1 | e2 − e1]·[W1; W2] */
      int E1 = (ne + 1) / 2, O1 = (no + 1) / 2;
      const float *xe = xb + (size_t)E1 * lda, *xo = xb + (size_t)O1 * lda;
      float *ye = yb + (size_t)2 * E1 * Cout, *yo = yb + Cout + (size_t)2 * O1 * Cout;
      strassen7(xb, xb + 2 * Cin, xb + Cin, 0, xe, xe + 2 * Cin, xe + Cin, 0, E1, ne - E1, lda, even, Cin, N2, yb, yb + N2, ye,
                ye + N2, 2 * Cout, 0, 0, 0, gelu, 0, ALL_ROWS, Ap, zero);
      if (no > 0)
        strassen7(xb + 3 * Cin, 0, xb + 4 * Cin, xb + 2 * Cin, xo + 3 * Cin, 0, xo + 4 * Cin, xo + 2 * Cin, O1, no - O1, lda,
                  odd, Cin, N2, yb + Cout, yb + Cout + N2, yo, yo + N2, 2 * Cout, 0, 0, 0, gelu, 0, ALL_ROWS, Ap, zero);
    }
    return;
  }
  size_t panel = (size_t)5 * Cin * NR; /* one panel of the three packed matrices: [W0; W1], [W1; W2], W0 + W2 */
  for (int p = p0; p < p1 && W != Bp; p++) {
    float *dst = Bp + p * panel;
    pack_panel(W, Cout, dst, K2, Cout, p);                              /* [W0; W1] */
    pack_panel(W + (size_t)Cin * Cout, Cout, dst + K2 * NR, K2, Cout, p); /* [W1; W2] */
    pack_tap_sum(W, Cin, Cout, dst + 2 * K2 * NR, p);                   /* W0 + W2 */
  }
  float *Ae = Ap, *Ao = Ap + AP * K2, *As = Ap + 2 * AP * K2, *shared = Ap + AP * 5 * Cin;
  for (int s = 0; s < pairsEven; s += MR) {
    int me = pairsEven - s < MR ? pairsEven - s : MR, mo = pairsOdd - s < MR ? pairsOdd - s : MR;
    const float *row = x + (size_t)s * lda; /* x[4s] */
    pack_span(row, lda, me, row + 2 * Cin, Cin, Ae);             /* [e0 − e1 | */
    pack_span(row + Cin, lda, me, 0, Cin, Ae + AP * Cin);         /*  o0] */
    pack_span(row + 2 * Cin, lda, me, 0, Cin, As);                /* e1 */
    if (mo > 0) {
      pack_span(row + 3 * Cin, lda, mo, 0, Cin, Ao);              /* [o1 | */
      pack_span(row + 4 * Cin, lda, mo, row + 2 * Cin, Cin, Ao + AP * Cin); /* e2 − e1] */
    }
    for (int p = p0; p < p1; p++) {
      const float *bp = Bp + p * panel;
      int j0 = p * NR, w = Cout - j0 < NR ? Cout - j0 : NR;
      float *c = y + (size_t)2 * s * Cout + j0;
      kernel(As, bp + 2 * K2 * NR, Cin, shared, NR, bias ? bias + j0 : 0, 0, me, w, 0);
      kernel(Ae, bp, K2, c, 2 * Cout, shared, NR, me, w, gelu);
      if (mo > 0) kernel(Ao, bp + K2 * NR, K2, c + Cout, 2 * Cout, shared, NR, mo, w, gelu);
    }
  }
}

/*
 * Grouped stride-1 convolution, groups [g0, g1) (threads split the groups): x [rows, Cin] (already padded),
 * filter W [taps·Cin/G, Cout] (tfjs layout [taps, Cin/G, Cout] flattened; group g's outputs are its columns
 * [g·Cout/G, (g+1)·Cout/G)), y [Tout, Cout] (+ bias, then GELU when gelu is set). Group g is the GEMM whose row t
 * is x[t + j][g·Cin/G .. (g+1)·Cin/G) for j < taps: segments of Cin/G values, Cin apart, read in place by
 * pack_a; its output columns are written straight into y. Bp: G·gemm_packed_bytes(taps·Cin/G, Cout/G) (each
 * group's own panels), already packed when W is Bp (a later batch row); Ap: gemm_scratch_bytes().
 */
EXPORT(grouped_conv_cols)
void grouped_conv_cols(const float *x, int Cin, int groups, int taps, const float *W, float *Bp, const float *bias,
                       float *y, int Tout, int Cout, int gelu, int g0, int g1, float *Ap) {
  int cin = Cin / groups, cout = Cout / groups, K = taps * cin, panels = (cout + NR - 1) / NR;
  for (int g = g0; g < g1; g++) {
    float *bp = Bp + (size_t)g * panels * K * NR;
    if (W != Bp) pack_b(W + g * cout, Cout, bp, K, cout, 0, panels);
    gemm_packed(x + g * cin, Cin, cin, Cin, bp, bias ? bias + g * cout : 0, y + g * cout, Cout, Tout, K, cout, 0, panels, gelu, Ap);
  }
}

/*
 * Long grouped convolutions through the FFT (the positional conv: 128 taps), square groups (Cin = Cout, Cg per
 * group, a multiple of 4), by overlap-save: y[t, o] = bias[o] + Σ_k Σ_c W[k, c, o]·x[t + k − pad, g·Cg + c] (x zero
 * outside [0, T)) is, in a block of N = 2^m points starting at frame b·L − pad, the circular cross-correlation of the
 * block with the taps, exact for its first L = N − taps + 1 outputs. With S_c the block's DFT and W_c the taps', per
 * bin f:   Y_o[f] = Σ_c S_c[f]·conj(W_co[f])   (f ≤ N/2; the other bins are the conjugates)   y_o = IDFT(Y_o)[0, L),
 * a complex Cg × Cg product per group and bin. With N = 2·taps there are (N/2 + 1)/L = 1 bin per output frame, 4 real
 * multiply-adds per (c, o) against the direct form's `taps`: taps/4 fewer (32× at 128 taps), and the transforms
 * cost far less.
 * Three passes, the threads splitting each: fft_conv_forward (transform each block, 16 channels at a time),
 * fft_conv_product (bins), fft_conv_inverse (back, + bias, GELU). The taps' spectra, conjugated and scaled by
 * 1/N, are made once at load (fft_conv_weights): per bin f ≤ N/2 the real then the imaginary parts, each
 * [group][c][o in the group], i.e. [N/2 + 1][2][Cg·Cout] floats.
 * Transforms: radix-2, in place, on rows `ld` floats apart, 4 channels to a SIMD vector, the input written in
 * bit-reversed order; the twiddles tw = cos(2πj/N) then sin(2πj/N), j < N/2, come from the caller (no libm).
 */
static int bit_reverse(int n, int N) {
  int r = 0;
  for (int m = N >> 1; m; m >>= 1, n >>= 1) r = (r << 1) | (n & 1);
  return r;
}

/* In-place DFT (sign −) or unscaled inverse (sign +) of the 4·nq channels of rows [0, N), bit-reversed input. */
static void fft_rows(float *re, float *im, int ld, int nq, int N, const float *tw, int inverse) {
  for (int h = 1; h < N; h *= 2) {
    int step = N / (2 * h);
    for (int j = 0; j < h; j++) {
      float sin_j = tw[N / 2 + j * step];
      v128_t c = splat(tw[j * step]), s = splat(inverse ? sin_j : -sin_j);
      for (int i = j; i < N; i += 2 * h) {
        float *ar = re + (size_t)i * ld, *ai = im + (size_t)i * ld, *br = ar + (size_t)h * ld, *bi = ai + (size_t)h * ld;
        for (int q = 0; q < 4 * nq; q += 4) {
          v128_t xr = wasm_v128_load(br + q), xi = wasm_v128_load(bi + q);
          v128_t tr = wasm_f32x4_sub(wasm_f32x4_mul(xr, c), wasm_f32x4_mul(xi, s));
          v128_t ti = wasm_f32x4_add(wasm_f32x4_mul(xr, s), wasm_f32x4_mul(xi, c));
          v128_t ur = wasm_v128_load(ar + q), ui = wasm_v128_load(ai + q);
          wasm_v128_store(ar + q, wasm_f32x4_add(ur, tr));
          wasm_v128_store(ai + q, wasm_f32x4_add(ui, ti));
          wasm_v128_store(br + q, wasm_f32x4_sub(ur, tr));
          wasm_v128_store(bi + q, wasm_f32x4_sub(ui, ti));
        }
      }
    }
  }
}

/*
 * S = the taps' spectra (layout above) of W [taps, Cg, Cout] (tfjs's grouped filter), for the
 * (input channel c, 4 outputs) pairs [u0, u1) of Cg·Cout/4. scratch: 8·N floats.
 */
EXPORT(fft_conv_weights)
void fft_conv_weights(const float *W, int taps, int Cg, int Cout, int N, const float *tw, float *S, int u0, int u1, float *scratch) {
  float *re = scratch, *im = scratch + 4 * N;
  v128_t scale = splat(1.0f / N), zero = splat(0.0f);
  for (int u = u0; u < u1; u++) {
    int c = u / (Cout / 4), o = 4 * (u % (Cout / 4)), g = o / Cg;
    for (int n = 0; n < N; n++) {
      int r = 4 * bit_reverse(n, N);
      wasm_v128_store(re + r, n < taps ? wasm_v128_load(W + ((size_t)n * Cg + c) * Cout + o) : zero);
      wasm_v128_store(im + r, zero);
    }
    fft_rows(re, im, 4, 1, N, tw, 1); /* Σ_k w[k]·e^{+2πi fk/N} = conj(W[f]) for real taps */
    size_t at = (size_t)g * Cg * Cg + (size_t)c * Cg + o % Cg;
    for (int f = 0; f <= N / 2; f++) {
      float *s = S + (size_t)f * 2 * Cg * Cout + at;
      wasm_v128_store(s, wasm_f32x4_mul(wasm_v128_load(re + 4 * f), scale));
      wasm_v128_store(s + (size_t)Cg * Cout, wasm_f32x4_mul(wasm_v128_load(im + 4 * f), scale));
    }
  }
}

/*
 * Channels per transform unit. A unit is transformed in its thread's scratch, [N][16] re and im (32 KB at N = 256:
 * L1), not in place in [N][C] rows, whose 3 KB stride maps every row to the same few cache sets.
 */
#define FFT_CHANNELS 16

EXPORT(fft_conv_scratch_bytes)
int fft_conv_scratch_bytes(int N) { return 4 * 2 * N * FFT_CHANNELS; }

/*
 * The spectra, bins [0, N/2], of blocks of x [rows, T, C] (each row's `blocks` blocks: block q = row·blocks + b
 * starts at frame b·L − pad) into Xre, Xim [q − first][N/2 + 1][C], for the (block, 16 channels) units [u0, u1) of
 * the blocks from `first` on (a call takes a bounded run of them). scratch: fft_conv_scratch_bytes(N).
 */
EXPORT(fft_conv_forward)
void fft_conv_forward(const float *x, int T, int C, int pad, int L, int blocks, int first, int N, const float *tw,
                      float *Xre, float *Xim, int u0, int u1, float *scratch) {
  int chunks = (C + FFT_CHANNELS - 1) / FFT_CHANNELS, bins = N / 2 + 1;
  float *re = scratch, *im = scratch + N * FFT_CHANNELS;
  v128_t zero = splat(0.0f);
  for (int u = u0; u < u1; u++) {
    int i = u / chunks, q = first + i, c0 = FFT_CHANNELS * (u % chunks), w = C - c0 < FFT_CHANNELS ? C - c0 : FFT_CHANNELS;
    int row = q / blocks, t0 = (q % blocks) * L - pad;
    for (int n = 0; n < N; n++) {
      int t = t0 + n, r = bit_reverse(n, N) * FFT_CHANNELS;
      const float *src = t >= 0 && t < T ? x + ((size_t)row * T + t) * C + c0 : 0;
      for (int k = 0; k < w; k += 4) {
        wasm_v128_store(re + r + k, src ? wasm_v128_load(src + k) : zero);
        wasm_v128_store(im + r + k, zero);
      }
    }
    fft_rows(re, im, FFT_CHANNELS, w / 4, N, tw, 0);
    for (int f = 0; f < bins; f++) {
      size_t at = ((size_t)i * bins + f) * C + c0;
      for (int k = 0; k < w; k += 4) {
        wasm_v128_store(Xre + at + k, wasm_v128_load(re + f * FFT_CHANNELS + k));
        wasm_v128_store(Xim + at + k, wasm_v128_load(im + f * FFT_CHANNELS + k));
      }
    }
  }
}

/*
 * Outputs [o, o + 4·quads) of one bin and block (quads 1 or 2, a constant where inlined): Y = Σ_c X_c·conj(W_c),
 * re = Σ sr·vr − Σ si·vi and im = Σ sr·vi + Σ si·vr, one chain per sum so that no multiply-add waits on another.
 * ar, ai: the group's inputs; wr, wi: row c of the group's spectra at column o; stored at rows `at` and `mirror`
 * (conjugated; 0: none) of Y.
 */
static inline __attribute__((always_inline)) void bin_outputs(const float *ar, const float *ai, const float *wr, const float *wi,
                                                              int Cg, float *yr, float *yi, size_t at, size_t mirror, int quads) {
  v128_t rr0 = splat(0.0f), ii0 = rr0, ri0 = rr0, ir0 = rr0, rr1 = rr0, ii1 = rr0, ri1 = rr0, ir1 = rr0;
  for (int c = 0; c < Cg; c++) {
    v128_t sr = wasm_v128_load32_splat(ar + c), si = wasm_v128_load32_splat(ai + c);
    const float *vr = wr + (size_t)c * Cg, *vi = wi + (size_t)c * Cg;
    v128_t vr0 = wasm_v128_load(vr), vi0 = wasm_v128_load(vi);
    rr0 = MADD(rr0, sr, vr0);
    ii0 = MADD(ii0, si, vi0);
    ri0 = MADD(ri0, sr, vi0);
    ir0 = MADD(ir0, si, vr0);
    if (quads == 2) {
      v128_t vr1 = wasm_v128_load(vr + 4), vi1 = wasm_v128_load(vi + 4);
      rr1 = MADD(rr1, sr, vr1);
      ii1 = MADD(ii1, si, vi1);
      ri1 = MADD(ri1, sr, vi1);
      ir1 = MADD(ir1, si, vr1);
    }
  }
  v128_t re0 = wasm_f32x4_sub(rr0, ii0), im0 = wasm_f32x4_add(ri0, ir0);
  wasm_v128_store(yr + at, re0);
  wasm_v128_store(yi + at, im0);
  if (mirror) {
    wasm_v128_store(yr + mirror, re0);
    wasm_v128_store(yi + mirror, wasm_f32x4_neg(im0));
  }
  if (quads == 2) {
    v128_t re1 = wasm_f32x4_sub(rr1, ii1), im1 = wasm_f32x4_add(ri1, ir1);
    wasm_v128_store(yr + at + 4, re1);
    wasm_v128_store(yi + at + 4, im1);
    if (mirror) {
      wasm_v128_store(yr + mirror + 4, re1);
      wasm_v128_store(yi + mirror + 4, wasm_f32x4_neg(im1));
    }
  }
}

/*
 * Y = X·conj(W) per bin, group and block, for the bins [f0, f1) of N/2 + 1, written in bit-reversed order for the
 * inverse, with the conjugate bins N − f. X (Xre, Xim): [count][N/2 + 1][C]; Y: [count][N][C]; S:
 * fft_conv_weights's. 8 outputs of a group at a time, the last 4 alone where Cg % 8 == 4.
 */
EXPORT(fft_conv_product)
void fft_conv_product(const float *Xre, const float *Xim, const float *S, float *Yre, float *Yim, int C, int Cg,
                      int N, int count, int f0, int f1) {
  int bins = N / 2 + 1;
  for (int f = f0; f < f1; f++) {
    const float *sre = S + (size_t)f * 2 * Cg * C, *sim = sre + (size_t)Cg * C;
    size_t at = (size_t)bit_reverse(f, N) * C, mirror = f > 0 && f < N / 2 ? (size_t)bit_reverse(N - f, N) * C : 0;
    for (int q = 0; q < count; q++) {
      const float *xr = Xre + ((size_t)q * bins + f) * C, *xi = Xim + ((size_t)q * bins + f) * C;
      float *yr = Yre + (size_t)q * N * C, *yi = Yim + (size_t)q * N * C;
      for (int g = 0; g < C / Cg; g++) {
        const float *wr = sre + (size_t)g * Cg * Cg, *wi = sim + (size_t)g * Cg * Cg, *ar = xr + g * Cg, *ai = xi + g * Cg;
        int o = 0, go = g * Cg;
        for (; o + 8 <= Cg; o += 8) bin_outputs(ar, ai, wr + o, wi + o, Cg, yr + go + o, yi + go + o, at, mirror, 2);
        if (o < Cg) bin_outputs(ar, ai, wr + o, wi + o, Cg, yr + go + o, yi + go + o, at, mirror, 1);
      }
    }
  }
}

/*
 * y [rows, frames, C] = GELU?(IDFT(Y)[0, L) + bias) of the blocks from `first` on (q = row·blocks + b: frames
 * [b·L, b·L + L) of its row; Y [q − first][N][C]), for the (block, 16 channels) units [u0, u1); the 1/N is in the
 * spectra. scratch: fft_conv_scratch_bytes(N).
 */
EXPORT(fft_conv_inverse)
void fft_conv_inverse(const float *Yre, const float *Yim, const float *bias, float *y, int frames, int C, int L, int blocks,
                      int first, int N, const float *tw, int gelu, int u0, int u1, float *scratch) {
  int chunks = (C + FFT_CHANNELS - 1) / FFT_CHANNELS;
  float *re = scratch, *im = scratch + N * FFT_CHANNELS;
  for (int u = u0; u < u1; u++) {
    int i = u / chunks, q = first + i, c0 = FFT_CHANNELS * (u % chunks), w = C - c0 < FFT_CHANNELS ? C - c0 : FFT_CHANNELS;
    int row = q / blocks, t0 = (q % blocks) * L;
    for (int n = 0; n < N; n++) {
      size_t at = ((size_t)i * N + n) * C + c0;
      for (int k = 0; k < w; k += 4) {
        wasm_v128_store(re + n * FFT_CHANNELS + k, wasm_v128_load(Yre + at + k));
        wasm_v128_store(im + n * FFT_CHANNELS + k, wasm_v128_load(Yim + at + k));
      }
    }
    fft_rows(re, im, FFT_CHANNELS, w / 4, N, tw, 1);
    for (int j = 0; j < L && t0 + j < frames; j++) {
      float *dst = y + ((size_t)row * frames + t0 + j) * C + c0;
      for (int k = 0; k < w; k += 4) {
        v128_t v = wasm_v128_load(re + j * FFT_CHANNELS + k);
        if (bias) v = wasm_f32x4_add(v, wasm_v128_load(bias + c0 + k));
        wasm_v128_store(dst + k, gelu ? gelu4(v) : v);
      }
    }
  }
}

static inline float hsum(v128_t v) {
  return wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1) + wasm_f32x4_extract_lane(v, 2) + wasm_f32x4_extract_lane(v, 3);
}

/*
 * Layer norm over rows [r0, r1) of C values: y = (x − mean)·rsqrt(var + eps)·gamma + beta, population variance
 * from the centred values (as tfjs's op chain computes it), then GELU when gelu is nonzero. y may be x.
 */
EXPORT(layer_norm_rows)
void layer_norm_rows(const float *x, float *y, const float *gamma, const float *beta, int C, float eps, int gelu, int r0, int r1) {
  int C4 = C & ~3;
  for (int r = r0; r < r1; r++) {
    const float *xr = x + (size_t)r * C;
    float *yr = y + (size_t)r * C;
    v128_t acc = splat(0.0f);
    for (int c = 0; c < C4; c += 4) acc = wasm_f32x4_add(acc, wasm_v128_load(xr + c));
    float sum = hsum(acc);
    for (int c = C4; c < C; c++) sum += xr[c];
    float mean = sum / C;
    v128_t m = splat(mean);
    acc = splat(0.0f);
    for (int c = 0; c < C4; c += 4) {
      v128_t d = wasm_f32x4_sub(wasm_v128_load(xr + c), m);
      acc = wasm_f32x4_add(acc, wasm_f32x4_mul(d, d));
    }
    float ss = hsum(acc);
    for (int c = C4; c < C; c++) ss += (xr[c] - mean) * (xr[c] - mean);
    float inv = 1.0f / __builtin_sqrtf(ss / C + eps);
    v128_t s = splat(inv);
    int c = 0;
    for (; c < C4; c += 4) {
      v128_t v = wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_mul(wasm_f32x4_sub(wasm_v128_load(xr + c), m), s), wasm_v128_load(gamma + c)), wasm_v128_load(beta + c));
      wasm_v128_store(yr + c, gelu ? gelu4(v) : v);
    }
    for (; c < C; c++) {
      float v = (xr[c] - mean) * inv * gamma[c] + beta[c];
      yr[c] = gelu ? wasm_f32x4_extract_lane(gelu4(wasm_f32x4_splat(v)), 0) : v;
    }
  }
}

/*
 * Multi-head attention core, for the (batch row, head) pairs [u0, u1) of B·heads (threads split them):
 *   S = scale·Q_h·K_hᵀ + gate[b,h,i]·pos[h,i,j] + key[b,j]   (each bias term optional: pointer 0)
 *   P = softmax over j,   out_h = P·V_h   (as exp(S − max)·V_h, each row divided by its Σ exp afterwards)
 * q, k, v, out: [B, T, H] with head h in columns [h·d, (h+1)·d); pos [heads, T, T]; gate [B, heads, T]; key [B, T].
 * QG queries at a time, with no T × T matrix: their scores come out of the micro-kernel as K_h·Q_hᵀ, keys as the
 * tile's rows (K_h packed once per head as A tiles, the queries as 3 B panels), so they land key-major in P [T][QG]
 * — the layout the P·V product reads as its A tile (kernel_pv, MR queries a tile) — and stay in L2 through the
 * softmax, which runs down the keys with 4 queries in the 4 lanes. V_h is packed once per head.
 * scratch: this thread's attention_scratch_bytes(T, d).
 */
static void pack_b_transposed(const float *Bt, int ldbt, float *Bp, int K, int N) {
  int np = (N + NR - 1) / NR;
  for (int p = 0; p < np; p++) {
    float *dst = Bp + (size_t)p * K * NR;
    int j0 = p * NR, w = N - j0 < NR ? N - j0 : NR;
    if (w == NR && K % 4 == 0) { /* 8 rows of Bt, 4 values at a time: two 4 x 4 transposes in registers */
      for (int half = 0; half < 2; half++) {
        const float *r = Bt + (size_t)(j0 + 4 * half) * ldbt;
        float *d = dst + 4 * half;
        for (int k = 0; k < K; k += 4) {
          v128_t x0 = wasm_v128_load(r + k), x1 = wasm_v128_load(r + ldbt + k), x2 = wasm_v128_load(r + 2 * ldbt + k), x3 = wasm_v128_load(r + 3 * ldbt + k);
          store_transposed4(x0, x1, x2, x3, d + k * NR, NR);
        }
      }
      continue;
    }
    for (int jj = 0; jj < NR; jj++) {
      const float *src = Bt + (size_t)(j0 + jj) * ldbt;
      for (int k = 0; k < K; k++) dst[k * NR + jj] = jj < w ? src[k] : 0.0f;
    }
  }
}

/*
 * The scores of four queries, P[j·ld + r] for key j (query r in lane r) → their unnormalised probabilities in place:
 * x = s·scale + biases (pos rows p0..p3 scaled by the queries' gates; key: one bias per key), then e = exp(x − max x)
 * per lane; returns the four Σe.
 */
static v128_t softmax_lanes(float *P, int ld, int T, float scale, const float *p0, const float *p1, const float *p2,
                            const float *p3, v128_t gates, const float *key) {
  v128_t vs = splat(scale), vmax = splat(-__builtin_inff()), sum = splat(0.0f);
  for (int j = 0; j < T; j++) {
    v128_t x = wasm_f32x4_mul(wasm_v128_load(P + ld * j), vs);
    if (p0) x = wasm_f32x4_add(x, wasm_f32x4_mul(gates, wasm_f32x4_make(p0[j], p1[j], p2[j], p3[j])));
    if (key) x = wasm_f32x4_add(x, wasm_v128_load32_splat(key + j));
    wasm_v128_store(P + ld * j, x);
    vmax = wasm_f32x4_pmax(vmax, x);
  }
  for (int j = 0; j < T; j++) {
    v128_t e = exp_neg(wasm_f32x4_sub(wasm_v128_load(P + ld * j), vmax));
    wasm_v128_store(P + ld * j, e);
    sum = wasm_f32x4_add(sum, e);
  }
  return sum;
}

EXPORT(attention_scratch_bytes)
int attention_scratch_bytes(int T, int d) {
  int ktiles = (T + MR - 1) / MR, vpanels = (d + NR - 1) / NR;
  return 4 * (ktiles * AP * d + vpanels * NR * T + QG * T + QG * d + QG); /* K tiles, V panels, P, Q panels, Σe */
}

EXPORT(attention_heads)
void attention_heads(const float *q, const float *k, const float *v, float *out, const float *pos, const float *gate,
                     const float *key, int T, int H, int heads, float scale, int u0, int u1, float *scratch) {
  int d = H / heads, ktiles = (T + MR - 1) / MR, vpanels = (d + NR - 1) / NR;
  float *Kt = scratch, *Vp = Kt + (size_t)ktiles * AP * d, *P = Vp + (size_t)vpanels * NR * T;
  float *Qp = P + (size_t)QG * T, *sums = Qp + QG * d;
  for (int u = u0; u < u1; u++) {
    int b = u / heads, h = u % heads;
    size_t row0 = (size_t)b * T * H + (size_t)h * d; /* head h's first value in batch row b */
    for (int t = 0; t < ktiles; t++) pack_span(k + row0 + (size_t)t * MR * H, H, T - t * MR < MR ? T - t * MR : MR, 0, d, Kt + (size_t)t * AP * d);
    pack_b(v + row0, H, Vp, T, d, 0, vpanels);
    const float *ph = pos ? pos + (size_t)h * T * T : 0, *gh = gate ? gate + ((size_t)b * heads + h) * T : 0;
    for (int i = 0; i < T; i += QG) {
      int nq = T - i < QG ? T - i : QG;
      /* P[j][r] = k_j·q_(i+r): the queries' rows as B panels (zero past nq), the keys' tiles as A */
      pack_b_transposed(q + row0 + (size_t)i * H, H, Qp, d, nq);
      for (int t = 0; t < ktiles; t++)
        for (int p = 0; p * NR < nq; p++)
          kernel(Kt + (size_t)t * AP * d, Qp + (size_t)p * d * NR, d, P + (size_t)t * MR * QG + p * NR, QG, 0, 0,
                 T - t * MR < MR ? T - t * MR : MR, NR, 0);
      /* each 4 queries' softmax with their bias rows (a lane past nq takes the group's first; nothing reads it) */
      for (int g = 0; 4 * g < nq; g++) {
        int r0 = i + 4 * g, r1 = r0 + (4 * g + 1 < nq), r2 = r0 + (4 * g + 2 < nq ? 2 : 0), r3 = r0 + (4 * g + 3 < nq ? 3 : 0);
        v128_t gates = gh ? wasm_f32x4_make(gh[r0], gh[r1], gh[r2], gh[r3]) : splat(1.0f);
        wasm_v128_store(sums + 4 * g, softmax_lanes(P + 4 * g, QG, T, scale, ph ? ph + (size_t)r0 * T : 0, ph ? ph + (size_t)r1 * T : 0,
                                                    ph ? ph + (size_t)r2 * T : 0, ph ? ph + (size_t)r3 * T : 0, gates,
                                                    key ? key + (size_t)b * T : 0));
      }
      float *o = out + row0 + (size_t)i * H;
      for (int r = 0; r < nq; r += MR)
        for (int p = 0; p < vpanels; p++) {
          int w = d - p * NR < NR ? d - p * NR : NR;
          kernel_pv(P + r, Vp + (size_t)p * T * NR, T, o + (size_t)r * H + p * NR, H, 0, 0, nq - r < MR ? nq - r : MR, w, 0);
        }
      /* out row r /= Σ_j e_rj */
      for (int r = 0; r < nq; r++) {
        float *orow = o + (size_t)r * H;
        v128_t sum = splat(sums[r]);
        int c = 0;
        for (; c + 4 <= d; c += 4) wasm_v128_store(orow + c, wasm_f32x4_div(wasm_v128_load(orow + c), sum));
        for (; c < d; c++) orow[c] /= sums[r];
      }
    }
  }
}

/*
 * y[r, c] = GELU((x[r, c] − mean[b, c])·scale[b, c] + beta[c]) for rows [r0, r1), b = r / T (the batch row): a
 * per-channel normalisation whose statistics were computed elsewhere (the conv encoder's group norm), fused with
 * the GELU after it.
 */
EXPORT(normalize_gelu_rows)
void normalize_gelu_rows(const float *x, float *y, const float *mean, const float *scale, const float *beta, int C, int T, int r0, int r1) {
  int C4 = C & ~3;
  for (int r = r0; r < r1; r++) {
    const float *xr = x + (size_t)r * C, *m = mean + (size_t)(r / T) * C, *s = scale + (size_t)(r / T) * C;
    float *yr = y + (size_t)r * C;
    int c = 0;
    for (; c < C4; c += 4) {
      v128_t v = wasm_f32x4_mul(wasm_f32x4_sub(wasm_v128_load(xr + c), wasm_v128_load(m + c)), wasm_v128_load(s + c));
      wasm_v128_store(yr + c, gelu4(wasm_f32x4_add(v, wasm_v128_load(beta + c))));
    }
    for (; c < C; c++) yr[c] = wasm_f32x4_extract_lane(gelu4(wasm_f32x4_splat((xr[c] - m[c]) * s[c] + beta[c])), 0);
  }
}

/*
 * Per-channel Σx and Σx² over rows [r0, r1) of x [rows, C], accumulated in float64 into out[0..C) and
 * out[C..2C) (doubles): the statistics of a norm over time. float64 keeps a variance over 10^5 frames exact to
 * float32 precision even with an offset far above the spread.
 */
EXPORT(column_sums)
void column_sums(const float *x, int C, int r0, int r1, double *out) {
  for (int c = 0; c < 2 * C; c++) out[c] = 0.0;
  int C4 = C & ~3;
  for (int r = r0; r < r1; r++) {
    const float *xr = x + (size_t)r * C;
    for (int c = 0; c < C4; c += 4) {
      v128_t v = wasm_v128_load(xr + c);
      v128_t lo = wasm_f64x2_promote_low_f32x4(v);
      v128_t hi = wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(v, v, 2, 3, 0, 1));
      wasm_v128_store(out + c, wasm_f64x2_add(wasm_v128_load(out + c), lo));
      wasm_v128_store(out + c + 2, wasm_f64x2_add(wasm_v128_load(out + c + 2), hi));
      wasm_v128_store(out + C + c, wasm_f64x2_add(wasm_v128_load(out + C + c), wasm_f64x2_mul(lo, lo)));
      wasm_v128_store(out + C + c + 2, wasm_f64x2_add(wasm_v128_load(out + C + c + 2), wasm_f64x2_mul(hi, hi)));
    }
    for (int c = C4; c < C; c++) {
      out[c] += xr[c];
      out[C + c] += (double)xr[c] * xr[c];
    }
  }
}
