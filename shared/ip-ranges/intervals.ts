/**
 * Flattening a set of (possibly nested, possibly identical) CIDR blocks into sorted, non-overlapping intervals of
 * the address space, each with a precomputed answer. Two CIDRs are always either disjoint or nested, so one sweep
 * over the blocks sorted by (start, length) with a stack of the blocks covering the current position yields every
 * interval's answer; a lookup is then a binary search in a typed array — no per-lookup scan, no allocation.
 *
 * Addresses are `w` big-endian 32-bit words: w = 1 for IPv4, w = 4 for IPv6. The build works on flat number arrays
 * (no object per block or per boundary) because it runs at every Lambda cold start.
 */

/** Distinct CIDR blocks of one family, each with the items (entries) that share it. */
export class BlockList<T> {
  /** `w` words per block. */
  readonly starts: number[] = [];
  /** Inclusive last address, `w` words per block. */
  readonly ends: number[] = [];
  readonly lengths: number[] = [];
  readonly items: T[][] = [];
  private readonly byKey = new Map<string, number>();

  constructor(readonly w: 1 | 4) {}

  get size(): number {
    return this.lengths.length;
  }

  /** Adds an item to the block already registered under `key`; false when there is none yet. */
  addToKnown(key: string, item: T): boolean {
    const known = this.byKey.get(key);
    if (known === undefined) return false;
    (this.items[known] as T[]).push(item);
    return true;
  }

  /**
   * Adds an item under the block `words`/`length` (`words` as from parseCidrInto: IPv4 in words[3]); items with the
   * same `key` share one block. Host bits in `words` are ignored.
   */
  add(key: string, words: ArrayLike<number>, length: number, item: T): void {
    if (this.addToKnown(key, item)) return;
    this.byKey.set(key, this.lengths.length);
    this.lengths.push(length);
    this.items.push([item]);
    const first = 4 - this.w;
    for (let i = 0; i < this.w; i++) {
      const keep = Math.max(0, Math.min(32, length - 32 * i));
      const hostMask = keep === 32 ? 0 : keep === 0 ? 0xffffffff : 0xffffffff >>> keep;
      const start = ((words[first + i] as number) & ~hostMask) >>> 0;
      this.starts.push(start);
      this.ends.push((start | hostMask) >>> 0);
    }
  }
}

/** Block indexes in (start, length) order. */
function sortedOrder<T>(blocks: BlockList<T>): number[] {
  const { w, starts: bs, lengths } = blocks;
  const n = blocks.size;
  if (w === 1) {
    // start·64 + length is exact in a double: a native numeric sort of the keys, no comparator calls (this runs
    // cold, at every Lambda start, where each JavaScript comparator call is interpreted).
    const keys = new Float64Array(n);
    for (let i = 0; i < n; i++) keys[i] = (bs[i] as number) * 64 + (lengths[i] as number);
    const byKey = new Map<number, number[]>();
    for (let i = 0; i < n; i++) {
      const same = byKey.get(keys[i] as number);
      if (same) same.push(i);
      else byKey.set(keys[i] as number, [i]);
    }
    keys.sort();
    const order: number[] = [];
    for (let i = 0; i < n; i++) {
      if (i > 0 && keys[i] === keys[i - 1]) continue;
      for (const b of byKey.get(keys[i] as number) as number[]) order.push(b);
    }
    return order;
  }
  const order = Array.from({ length: n }, (_, i) => i);
  return order.sort((a, b) => {
    for (let i = 0; i < w; i++) {
      const x = bs[a * w + i] as number;
      const y = bs[b * w + i] as number;
      if (x !== y) return x - y;
    }
    return (lengths[a] as number) - (lengths[b] as number);
  });
}

export interface Intervals<A> {
  /** Interval i covers [starts[i], starts[i+1]) (w words per start); starts[0] is address 0. */
  starts: Uint32Array;
  answers: A[];
  /**
   * buckets[b] = the interval containing the first address whose top 16 bits are b; buckets[65536] = the last.
   * 16-bit entries while the intervals fit (they do by far for AWS's ranges): half the cache footprint.
   */
  buckets: Uint16Array | Uint32Array;
}

/**
 * Builds the intervals. `onPush(block, outer)` gives the answer for addresses covered by `block` (the innermost)
 * and by the blocks whose answer is `outer`; `none` is the answer where no block covers. Equal neighbouring answers
 * (===) merge.
 */
export function buildIntervals<T, A>(
  blocks: BlockList<T>,
  onPush: (block: number, outer: A) => A,
  none: A,
): Intervals<A> {
  const { w, starts: bs, ends: be } = blocks;
  const n = blocks.size;
  const order = sortedOrder(blocks);

  // At most one interval starts at each block start and one after each block end, plus the one at address 0.
  const out = new Uint32Array(w * (2 * n + 1)); // w words per interval start
  const answers: A[] = [];
  const pos = new Array<number>(w).fill(0);
  const samePos = (k: number): boolean => {
    for (let i = 0; i < w; i++) if (out[k * w + i] !== pos[i]) return false;
    return true;
  };
  const emit = (answer: A): void => {
    const last = answers.length - 1;
    if (last >= 0 && samePos(last)) {
      // Several blocks end or start here: the last call sees the final covering set.
      answers[last] = answer;
      if (last >= 1 && answers[last - 1] === answer) answers.pop();
      return;
    }
    if (last >= 0 && answers[last] === answer) return;
    const k = answers.length * w;
    for (let i = 0; i < w; i++) out[k + i] = pos[i] as number;
    answers.push(answer);
  };
  /** pos = end of block b, plus one; false when that is past the last address. */
  const afterEnd = (b: number): boolean => {
    let carry = 1;
    for (let i = w - 1; i >= 0; i--) {
      const v = (be[b * w + i] as number) + carry;
      carry = v > 0xffffffff ? 1 : 0;
      pos[i] = v >>> 0;
    }
    return carry === 0;
  };
  /** end of block a < start of block b */
  const endsBefore = (a: number, b: number): boolean => {
    for (let i = 0; i < w; i++) {
      const x = be[a * w + i] as number;
      const y = bs[b * w + i] as number;
      if (x !== y) return x < y;
    }
    return false;
  };

  const stack: number[] = [];
  const stackAnswers: A[] = [];
  emit(none);
  for (const b of order) {
    while (stack.length > 0 && endsBefore(stack[stack.length - 1] as number, b)) {
      const top = stack.pop() as number;
      stackAnswers.pop();
      afterEnd(top); // cannot overflow: something starts after it
      emit(stackAnswers.length > 0 ? (stackAnswers[stackAnswers.length - 1] as A) : none);
    }
    const answer = onPush(b, stackAnswers.length > 0 ? (stackAnswers[stackAnswers.length - 1] as A) : none);
    stack.push(b);
    stackAnswers.push(answer);
    for (let i = 0; i < w; i++) pos[i] = bs[b * w + i] as number;
    emit(answer);
  }
  while (stack.length > 0) {
    const top = stack.pop() as number;
    stackAnswers.pop();
    if (afterEnd(top)) emit(stackAnswers.length > 0 ? (stackAnswers[stackAnswers.length - 1] as A) : none);
  }

  const count = answers.length;
  const flat = out.slice(0, count * w);
  // First-level table on the top 16 bits: a lookup binary-searches only between buckets[b] and buckets[b + 1].
  // buckets[b] is the interval containing the address (b << 16, 0…): interval k holds the buckets from the first
  // multiple of 2^16 (in the top word) at or after its start up to the next interval's.
  const firstBucket = (k: number): number => {
    if (k >= count) return 65536;
    const o = k * w;
    const top = flat[o] as number;
    let exact = (top & 0xffff) === 0;
    for (let i = 1; i < w && exact; i++) exact = flat[o + i] === 0;
    return (top >>> 16) + (exact ? 0 : 1);
  };
  const buckets = count <= 0x10000 ? new Uint16Array(65537) : new Uint32Array(65537);
  for (let k = 0; k < count; k++) {
    const from = firstBucket(k);
    const to = firstBucket(k + 1);
    if (to > from) buckets.fill(k, from, to);
  }
  buckets[65536] = count - 1;
  return { starts: flat, answers, buckets };
}
