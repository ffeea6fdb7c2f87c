/**
 * git-annex's random draws in `git annex sim`, bit for bit.
 *
 * git-annex 10.20250416 on Debian is built with random-1.2.1.1 and
 * splitmix-0.1.0.4 (their package ids are in the binary). There `StdGen`
 * is SplitMix64: `mkStdGen n` is `mkSMGen (fromIntegral n)`, every draw
 * below comes from `nextWord64`, and a bounded integral draw is "bitmask
 * with rejection" over Word64 (random's `unsignedBitmaskWithRejectionM`),
 * except an Integer range wider than 2^64, which is Lemire's method over
 * whole words (`boundedExclusiveIntegralM`).
 *
 * Annex/Sim.hs keeps only an `Int` seed (`simRng`): each draw makes a
 * generator from it, draws, then draws an `Int` from what is left as the
 * next seed (`simRandom`). {@link simRandom} is that, and the draw
 * functions take the {@link StdGen} it hands out.
 *
 * The generator works on two 32-bit halves in plain numbers rather than
 * on BigInt: a simulated file costs 1024 draws, and a step of a large sim
 * one draw per candidate action, so BigInt's allocations would dominate.
 */

const GOLDEN_GAMMA_HI = 0x9e3779b9;
const GOLDEN_GAMMA_LO = 0x7f4a7c15;

/** Scratch result of the 64-bit helpers: high and low 32 bits, unsigned. */
let outHi = 0;
let outLo = 0;

/** Low 64 bits of a × b, into outHi/outLo. */
function mul64(aHi: number, aLo: number, bHi: number, bLo: number): void {
  const a1 = aLo >>> 16;
  const a0 = aLo & 0xffff;
  const b1 = bLo >>> 16;
  const b0 = bLo & 0xffff;
  const p00 = a0 * b0;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const p11 = a1 * b1;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  const carryHi = p11 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16);
  outLo = Math.imul(aLo, bLo) >>> 0;
  outHi = (carryHi + Math.imul(aHi, bLo) + Math.imul(aLo, bHi)) >>> 0;
}

/** w xor (w >> n), for 0 < n < 64, into outHi/outLo. */
function shiftXor(n: number, hi: number, lo: number): void {
  if (n >= 32) {
    outHi = hi;
    outLo = (lo ^ (hi >>> (n - 32))) >>> 0;
  } else {
    outHi = (hi ^ (hi >>> n)) >>> 0;
    outLo = (lo ^ ((lo >>> n) | (hi << (32 - n)))) >>> 0;
  }
}

/** shiftXor then multiply by a constant, into outHi/outLo. */
function shiftXorMultiply(n: number, kHi: number, kLo: number, hi: number, lo: number): void {
  shiftXor(n, hi, lo);
  mul64(outHi, outLo, kHi, kLo);
}

/** splitmix's mix64 (the MurmurHash3 finaliser), into outHi/outLo. */
function mix64(hi: number, lo: number): void {
  shiftXorMultiply(33, 0xff51afd7, 0xed558ccd, hi, lo);
  shiftXorMultiply(33, 0xc4ceb9fe, 0x1a85ec53, outHi, outLo);
  shiftXor(33, outHi, outLo);
}

/** Stafford's Mix13, into outHi/outLo. */
function mix64variant13(hi: number, lo: number): void {
  shiftXorMultiply(30, 0xbf58476d, 0x1ce4e5b9, hi, lo);
  shiftXorMultiply(27, 0x94d049bb, 0x133111eb, outHi, outLo);
  shiftXor(31, outHi, outLo);
}

function popCount32(x: number): number {
  let v = x - ((x >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
}

/** splitmix's mixGamma: an odd gamma with enough bit transitions, into outHi/outLo. */
function mixGamma(hi: number, lo: number): void {
  mix64variant13(hi, lo);
  const zHi = outHi;
  const zLo = (outLo | 1) >>> 0;
  const tHi = (zHi ^ (zHi >>> 1)) >>> 0;
  const tLo = (zLo ^ ((zLo >>> 1) | (zHi << 31))) >>> 0;
  if (popCount32(tHi) + popCount32(tLo) >= 24) {
    outHi = zHi;
    outLo = zLo;
  } else {
    outHi = (zHi ^ 0xaaaaaaaa) >>> 0;
    outLo = (zLo ^ 0xaaaaaaaa) >>> 0;
  }
}

const MASK64 = (1n << 64n) - 1n;

/** The last seed simRandom made, with its unsigned halves (StdGen.make takes them from here). */
let lastSeed: bigint | null = null;
let lastSeedHi = 0;
let lastSeedLo = 0;

/** A 64-bit word as BigInt, from halves. */
function toBig(hi: number, lo: number): bigint {
  return (BigInt(hi) << 32n) | BigInt(lo);
}

/**
 * random-1.2's `StdGen` (a splitmix `SMGen`), mutable: each draw advances it.
 *
 * @example
 * const g = StdGen.make(137n);
 * randomInt(g); // 7879794327570578227n, as `fst (random (mkStdGen 137)) :: Int`
 */
export class StdGen {
  seedHi = 0;
  seedLo = 0;
  gammaHi = 0;
  gammaLo = 0;
  /** The last word drawn. */
  wordHi = 0;
  wordLo = 0;

  /** `mkStdGen n`: n is a 64-bit Int, taken as Word64. */
  static make(n: bigint): StdGen {
    let hi: number;
    let lo: number;
    if (n === lastSeed) {
      // The seed simRandom made last (a step draws from it): its halves are known.
      hi = lastSeedHi;
      lo = lastSeedLo;
    } else {
      const w = BigInt.asUintN(64, n);
      hi = Number(w >> 32n);
      lo = Number(w & 0xffffffffn);
    }
    const g = new StdGen();
    mix64(hi, lo);
    g.seedHi = outHi;
    g.seedLo = outLo;
    const sumLo = lo + GOLDEN_GAMMA_LO;
    const carry = sumLo > 0xffffffff ? 1 : 0;
    mixGamma((hi + GOLDEN_GAMMA_HI + carry) >>> 0, sumLo >>> 0);
    g.gammaHi = outHi;
    g.gammaLo = outLo;
    return g;
  }

  /** splitmix's nextWord64, left in wordHi/wordLo. */
  next(): void {
    const sumLo = this.seedLo + this.gammaLo;
    const carry = sumLo > 0xffffffff ? 1 : 0;
    this.seedLo = sumLo >>> 0;
    this.seedHi = (this.seedHi + this.gammaHi + carry) >>> 0;
    mix64(this.seedHi, this.seedLo);
    this.wordHi = outHi;
    this.wordLo = outLo;
  }

  /** The next Word64 as BigInt. */
  nextWord64(): bigint {
    this.next();
    return toBig(this.wordHi, this.wordLo);
  }

  /** The state as splitmix shows it: `SMGen seed gamma`. */
  get state(): { readonly seed: bigint; readonly gamma: bigint } {
    return { seed: toBig(this.seedHi, this.seedLo), gamma: toBig(this.gammaHi, this.gammaLo) };
  }
}

/** `random :: Int` (a Word64, as a signed 64-bit Int). */
export function randomInt(g: StdGen): bigint {
  return BigInt.asIntN(64, g.nextWord64());
}

/** `random :: Word8`: the low byte of a draw (genWord8 is the low bits of genWord32). */
export function randomWord8(g: StdGen): number {
  g.next();
  return g.wordLo & 0xff;
}

/** `random :: Bool`: the low bit of a Word8 draw. */
export function randomBool(g: StdGen): boolean {
  g.next();
  return (g.wordLo & 1) !== 0;
}

/** The 64-bit mask covering `range | 1`, as random's `unsignedBitmaskWithRejectionM` makes it. */
function maskFor(range: bigint): bigint {
  const r = range | 1n;
  return (1n << BigInt(r.toString(2).length)) - 1n;
}

/** A uniform Word64 in [0, range] by bitmask with rejection. */
function bitmaskWithRejection(g: StdGen, range: bigint): bigint {
  if (range <= 0xffffffffn) {
    // Masks below 2^32 keep only the low half: no BigInt per draw.
    const r = Number(range);
    const mask = Number(maskFor(range));
    for (;;) {
      g.next();
      const x = (g.wordLo & mask) >>> 0;
      if (x <= r) return BigInt(x);
    }
  }
  const mask = maskFor(range);
  for (;;) {
    const x = g.nextWord64() & mask;
    if (x <= range) return x;
  }
}

/**
 * `randomR (lo, hi) :: Int`: a uniform Int in [lo, hi] (either order).
 * Equal bounds draw nothing, as random's `signedBitmaskWithRejectionRM`.
 */
export function randomRInt(g: StdGen, lo: bigint, hi: bigint): bigint {
  if (lo === hi) return hi;
  const [bottom, top] = lo > hi ? [hi, lo] : [lo, hi];
  const range = BigInt.asUintN(64, top - bottom);
  return BigInt.asIntN(64, bottom + bitmaskWithRejection(g, range));
}

/** `randomR (0, n - 1) :: Int` for a small non-negative n, as a number (a candidate index). */
export function randomIndex(g: StdGen, n: number): number {
  if (n <= 1) return 0;
  const r = n - 1;
  if (r > 0xffffffff) return Number(randomRInt(g, 0n, BigInt(r)));
  const mask = 2 ** (32 - Math.clz32(r | 1)) - 1;
  for (;;) {
    g.next();
    const x = (g.wordLo & mask) >>> 0;
    if (x <= r) return x;
  }
}

/** Lemire's method over whole 64-bit words: a uniform Integer in [0, s), s > 0. */
function boundedExclusiveInteger(g: StdGen, s: bigint): bigint {
  let words = 0n;
  for (let i = s; i !== 0n; i >>= 64n) words += 1n;
  const k = 64n * words;
  const twoToK = 1n << k;
  const t = (twoToK - s) % s;
  for (;;) {
    let x = 0n;
    for (let i = 0n; i < words; i++) x = (x << 64n) | g.nextWord64();
    const m = x * s;
    if ((m & (twoToK - 1n)) >= t) return m >> k;
  }
}

/**
 * `randomR (lo, hi) :: Integer` (git-annex's ByteSize): random's
 * `uniformIntegralM`; a range that fits in a Word64 is one bitmask draw.
 */
export function randomRInteger(g: StdGen, lo: bigint, hi: bigint): bigint {
  if (lo === hi) return lo;
  const [l, h] = lo > hi ? [hi, lo] : [lo, hi];
  const limit = h - l;
  if (limit <= MASK64) return l + bitmaskWithRejection(g, limit);
  return l + boundedExclusiveInteger(g, limit + 1n);
}

/** `random :: Word8` n times, the list built as Sim.hs's `randomWords` builds it (last drawn first). */
export function randomWords(g: StdGen, n: number): Uint8Array {
  const out = new Uint8Array(Math.max(0, n));
  for (let i = out.length - 1; i >= 0; i--) out[i] = randomWord8(g);
  return out;
}

/**
 * Annex/Sim.hs `simRandom`: a generator from the seed, the draw, then the
 * next seed drawn as an Int from what is left.
 *
 * @example
 * const [size, next] = simRandom(seed, (g) => randomRInteger(g, 1000n, 2000n));
 */
export function simRandom<T>(seed: bigint, draw: (g: StdGen) => T): [T, bigint] {
  const g = StdGen.make(seed);
  const value = draw(g);
  g.next();
  lastSeedHi = g.wordHi;
  lastSeedLo = g.wordLo;
  lastSeed = BigInt.asIntN(64, toBig(g.wordHi, g.wordLo));
  return [value, lastSeed];
}
