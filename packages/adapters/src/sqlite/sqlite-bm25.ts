import { BM25_B, BM25_K1 } from '@engram/core';

const initialPostingCapacity = 4;

/** One best match of `Bm25Index.search`: a slot and its BM25 score (higher is better). */
export interface Bm25Match {
  slot: number;
  score: number;
}

/**
 * An inverted index over numbered documents (slots) that returns the top k by BM25 without
 * scoring every document that contains a query term.
 *
 * Scores are exactly those of the in-memory reference store (`inMemoryStore().lexicalSearch`):
 * idf = ln(1 + (N − df + 0.5) / (df + 0.5)); a term's frequency in a document is the weighted sum
 * over its fields; the length is every token. N and df count live documents only.
 *
 * Search is MaxScore (Turtle & Flood 1995), document at a time over postings sorted by slot: each
 * term has an upper bound on what it can add to any score (idf × the saturation of its largest
 * frequency at the shortest possible length). Once the k-th best score so far exceeds the sum of
 * the bounds of the weakest terms, a document holding only those terms cannot enter the top k, so
 * their postings are no longer walked, only probed (galloping) for documents the other terms
 * found. Queries mixing rare and common words — the usual case — read the rare postings and a few
 * probes of the common ones instead of every document with a common word.
 *
 * Slots are added in increasing order (postings stay sorted by appending). Removing a slot keeps
 * its postings until `compact` renumbers the live slots; `accept` decides everything else
 * (filters) during the search, so the top k are always k documents that pass it.
 */
export class Bm25Index {
  /** Term → id, for terms added in this process (see `vocabulary`). */
  private readonly termIds = new Map<string, number>();
  /**
   * The terms of a loaded snapshot, sorted: term i (ids 0 … count − 1) is bytes[offsets[i] …
   * offsets[i + 1]) in UTF-8, found by binary search (no string per term until one is looked at).
   */
  private vocabulary: { bytes: Buffer; offsets: Int32Array; count: number } | null = null;
  /** Terms known (loaded and added). */
  private terms = 0;
  // A term's postings: its own arrays, or (undefined) a range of the loaded source not yet read.
  private postingSlots: Array<Int32Array<ArrayBufferLike> | undefined> = [];
  private postingFrequencies: Array<Float32Array<ArrayBufferLike> | undefined> = [];
  /** Where postings and slot terms of a loaded snapshot are read from on first use. */
  private source: Bm25Source | null = null;
  private postingOffsets: Int32Array = new Int32Array(1);
  private postingSizes = new Int32Array(1024);
  private documentFrequencies = new Int32Array(1024);
  private maxFrequencies = new Float32Array(1024);

  private lengths = new Float32Array(1024);
  private removed = new Uint8Array(1024);
  private termStart = new Int32Array(1024);
  private termCount = new Int32Array(1024);
  /** Slot terms from entry `sourceSlotTerms` on (earlier entries are in `source`, read on demand). */
  private slotTerms: Int32Array<ArrayBufferLike> = new Int32Array(4096);
  private slotTermsUsed = 0;
  private sourceSlotTerms = 0;
  /** Slots below this were loaded from `source`: their `termStart` and `termCount` are read from it. */
  private sourceSlots = 0;

  private nextSlot = 0;
  private live = 0;
  private totalLength = 0;
  private removedPostings = 0;
  private totalPostings = 0;

  /** Live documents. */
  get size(): number {
    return this.live;
  }

  /** The first slot not yet used: the next `add` must use it or a later one. */
  get slotLimit(): number {
    return this.nextSlot;
  }

  /** Slots removed and not yet compacted away. */
  get removedCount(): number {
    return this.nextSlot - this.live;
  }

  /** Whether enough postings belong to removed slots that `compact` is worth its pass. */
  get wantsCompaction(): boolean {
    return this.removedPostings > 65536 && this.removedPostings > this.totalPostings / 2;
  }

  /** The id of a term, assigned on first use (for `addTerms`). */
  termIdOf(term: string): number {
    let id = this.lookup(term);
    if (id === undefined) {
      id = this.terms++;
      this.termIds.set(term, id);
      if (id >= this.postingSizes.length) {
        const capacity = this.postingSizes.length * 2;
        this.postingSizes = growInt32(this.postingSizes, id, capacity);
        this.documentFrequencies = growInt32(this.documentFrequencies, id, capacity);
        const maxFrequencies = new Float32Array(capacity);
        maxFrequencies.set(this.maxFrequencies.subarray(0, id));
        this.maxFrequencies = maxFrequencies;
      }
      this.postingSlots[id] = new Int32Array(initialPostingCapacity);
      this.postingFrequencies[id] = new Float32Array(initialPostingCapacity);
      this.postingSizes[id] = 0;
      this.documentFrequencies[id] = 0;
      this.maxFrequencies[id] = 0;
    }
    return id;
  }

  /**
   * Indexes document `slot` (at least `slotLimit`): its distinct term ids (`termIdOf`) and their
   * weighted frequencies in the first `count` entries, and its length in tokens.
   */
  addTerms(slot: number, ids: Int32Array, frequencies: Float32Array, count: number, length: number): void {
    if (!(slot >= this.nextSlot)) throw new Error(`slot ${slot} added after slot ${this.nextSlot - 1}`);
    this.ensureSlots(slot + 1);
    for (let skipped = this.nextSlot; skipped < slot; skipped++) {
      this.removed[skipped] = 1;
      this.termCount[skipped] = 0;
    }
    this.nextSlot = slot + 1;
    this.removed[slot] = 0;
    this.lengths[slot] = length;
    this.termStart[slot] = this.slotTermsUsed;
    this.termCount[slot] = count;
    const local = this.slotTermsUsed - this.sourceSlotTerms;
    if (local + count > this.slotTerms.length) this.slotTerms = growInt32(this.slotTerms, local, local + count);
    const postingSizes = this.postingSizes;
    const documentFrequencies = this.documentFrequencies;
    const maxFrequencies = this.maxFrequencies;
    for (let index = 0; index < count; index++) {
      const id = ids[index] as number;
      const frequency = frequencies[index] as number;
      let slots = this.slotsOf(id);
      const size = postingSizes[id] as number;
      if (size === slots.length) {
        const capacity = Math.max(initialPostingCapacity, size * 2);
        slots = growInt32(slots, size, capacity);
        this.postingSlots[id] = slots;
        const frequenciesOfTerm = new Float32Array(capacity);
        frequenciesOfTerm.set(this.frequenciesOf(id).subarray(0, size));
        this.postingFrequencies[id] = frequenciesOfTerm;
      }
      slots[size] = slot;
      this.frequenciesOf(id)[size] = frequency;
      postingSizes[id] = size + 1;
      documentFrequencies[id] = (documentFrequencies[id] as number) + 1;
      if (frequency > (maxFrequencies[id] as number)) maxFrequencies[id] = frequency;
      this.slotTerms[local + index] = id;
    }
    this.slotTermsUsed += count;
    this.totalPostings += count;
    this.totalLength += length;
    this.live += 1;
  }

  /** Takes a document out of N, the document frequencies and every result. */
  remove(slot: number): void {
    if (slot >= this.nextSlot || this.removed[slot] === 1) return;
    this.removed[slot] = 1;
    const ids = this.termsOfSlot(slot);
    const count = ids.length;
    for (let index = 0; index < count; index++) {
      const id = ids[index] as number;
      this.documentFrequencies[id] = (this.documentFrequencies[id] as number) - 1;
    }
    this.removedPostings += count;
    this.totalLength -= this.lengths[slot] as number;
    this.live -= 1;
  }

  /**
   * Drops removed slots and renumbers the live ones 0, 1, 2 … in their order. Returns the new
   * slot of each old one (−1 for removed), for the owner's own per-slot data.
   */
  compact(): Int32Array {
    this.readAll();
    const renumbered = new Int32Array(this.nextSlot);
    let next = 0;
    for (let slot = 0; slot < this.nextSlot; slot++) renumbered[slot] = this.removed[slot] === 1 ? -1 : next++;
    for (let id = 0; id < this.terms; id++) {
      const size = this.postingSizes[id] as number;
      if (size === 0) continue;
      const slots = this.slotsOf(id);
      const frequencies = this.frequenciesOf(id);
      let kept = 0;
      for (let index = 0; index < size; index++) {
        const slot = renumbered[slots[index] as number] as number;
        if (slot < 0) continue;
        slots[kept] = slot;
        frequencies[kept] = frequencies[index] as number;
        kept += 1;
      }
      this.postingSizes[id] = kept;
    }
    const slotTerms = new Int32Array(Math.max(4096, this.totalPostings - this.removedPostings));
    let used = 0;
    for (let slot = 0; slot < this.nextSlot; slot++) {
      const to = renumbered[slot] as number;
      if (to < 0) continue;
      const start = this.termStart[slot] as number;
      const count = this.termCount[slot] as number;
      slotTerms.set(this.slotTerms.subarray(start, start + count), used);
      this.termStart[to] = used;
      this.termCount[to] = count;
      this.lengths[to] = this.lengths[slot] as number;
      this.removed[to] = 0;
      used += count;
    }
    this.slotTerms = slotTerms;
    this.slotTermsUsed = used;
    this.nextSlot = next;
    this.totalPostings -= this.removedPostings;
    this.removedPostings = 0;
    return renumbered;
  }

  /**
   * The whole index as a header (JSON-safe) and typed arrays, for `Bm25Index.fromSource`.
   * Call `compact` first when slots were removed: removed slots are not exported.
   */
  exportState(): { header: Bm25Header; arrays: Bm25Arrays } {
    if (this.removedPostings > 0) throw new Error('compact the index before exporting it');
    this.readAll();
    // Terms are exported sorted (ids renumbered to match), so a loaded index finds them by
    // binary search instead of building a Map of every term first.
    const byId: string[] = new Array(this.terms);
    const vocabulary = this.vocabulary;
    if (vocabulary) for (let id = 0; id < vocabulary.count; id++) byId[id] = vocabularyTerm(vocabulary, id);
    for (const [term, id] of this.termIds) byId[id] = term;
    const order = byId.map((_, id) => id).sort((a, b) => compare(byId[a] as string, byId[b] as string));
    const rank = new Int32Array(byId.length);
    order.forEach((id, position) => {
      rank[id] = position;
    });
    const postingOffsets = new Int32Array(order.length + 1);
    const termOffsets = new Int32Array(order.length + 1);
    order.forEach((id, position) => {
      postingOffsets[position + 1] = (postingOffsets[position] as number) + (this.postingSizes[id] as number);
      termOffsets[position + 1] = (termOffsets[position] as number) + Buffer.byteLength(byId[id] as string);
    });
    const termBytes = Buffer.alloc(termOffsets[order.length] as number);
    order.forEach((id, position) => {
      termBytes.write(byId[id] as string, termOffsets[position] as number, 'utf8');
    });
    const total = postingOffsets[order.length] as number;
    const postingSlots = new Int32Array(total);
    const postingFrequencies = new Float32Array(total);
    const documentFrequencies = new Int32Array(order.length);
    const maxFrequencies = new Float32Array(order.length);
    order.forEach((id, position) => {
      documentFrequencies[position] = this.documentFrequencies[id] as number;
      maxFrequencies[position] = this.maxFrequencies[id] as number;
      const size = this.postingSizes[id] as number;
      if (size === 0) return;
      postingSlots.set(this.slotsOf(id).subarray(0, size), postingOffsets[position]);
      postingFrequencies.set(this.frequenciesOf(id).subarray(0, size), postingOffsets[position]);
    });
    const slotTerms = new Int32Array(this.slotTermsUsed);
    for (let index = 0; index < this.slotTermsUsed; index++) slotTerms[index] = rank[this.slotTerms[index] as number] as number;
    const slots = this.nextSlot;
    return {
      header: {
        terms: order.length,
        nextSlot: slots,
        live: this.live,
        totalLength: this.totalLength,
        totalPostings: this.totalPostings,
      },
      arrays: {
        termBytes: new Uint8Array(termBytes.buffer, termBytes.byteOffset, termBytes.byteLength),
        termOffsets,
        postingOffsets,
        postingSlots,
        postingFrequencies,
        documentFrequencies,
        maxFrequencies,
        lengths: this.lengths.slice(0, slots),
        termStart: this.termStart.slice(0, slots),
        termCount: this.termCount.slice(0, slots),
        slotTerms,
      },
    };
  }

  /** An index from `exportState`'s output held in memory (its arrays are used in place). */
  static fromState(header: Bm25Header, arrays: Bm25Arrays): Bm25Index {
    const entries = arrays as unknown as Record<string, Int32Array | Float32Array | Uint8Array>;
    return Bm25Index.fromSource(header, {
      length: (name) => entries[name]?.length ?? 0,
      read: (name, from = 0, to) => (entries[name] as Int32Array | Float32Array | Uint8Array).subarray(from, to),
      readInto: (name, target) => target.set(entries[name] as Int32Array | Float32Array),
      close: () => undefined,
    });
  }

  /**
   * An index from `exportState`'s output in `source` (a snapshot file). The vocabulary, document
   * frequencies and per-slot lengths are read now; a term's postings when a search or a write
   * first needs them, and a slot's terms when it is removed. The index owns `source` from here:
   * `close` releases it (it is released too once everything has been read).
   */
  static fromSource(header: Bm25Header, source: Bm25Source): Bm25Index {
    const index = new Bm25Index();
    const terms = header.terms;
    const termOffsets = source.read('termOffsets') as Int32Array;
    const termBytes = source.read('termBytes') as Uint8Array;
    index.vocabulary = {
      bytes: Buffer.from(termBytes.buffer, termBytes.byteOffset, termBytes.byteLength),
      offsets: termOffsets,
      count: terms,
    };
    index.terms = terms;
    index.source = source;
    const capacity = Math.max(1024, terms);
    index.postingOffsets = source.read('postingOffsets') as Int32Array;
    // Sparse until terms are used: a loaded term's postings and size are set when first read.
    index.postingSlots = [];
    index.postingFrequencies = [];
    index.postingSizes = new Int32Array(capacity);
    // Read straight into the (larger) arrays the index grows in: a read of each first, then a
    // copy, held 12 MB of short-lived arrays more at 1M, every page of it touched for the first time.
    index.documentFrequencies = new Int32Array(capacity);
    source.readInto('documentFrequencies', index.documentFrequencies.subarray(0, source.length('documentFrequencies')));
    index.maxFrequencies = new Float32Array(capacity);
    source.readInto('maxFrequencies', index.maxFrequencies.subarray(0, source.length('maxFrequencies')));
    const slots = header.nextSlot;
    index.ensureSlots(slots);
    source.readInto('lengths', index.lengths.subarray(0, source.length('lengths')));
    // Where each loaded slot's terms are (needed only to remove it) stays in the source.
    index.sourceSlots = slots;
    index.sourceSlotTerms = source.length('slotTerms');
    index.slotTermsUsed = index.sourceSlotTerms;
    index.slotTerms = new Int32Array(4096);
    index.nextSlot = slots;
    index.live = header.live;
    index.totalLength = header.totalLength;
    index.totalPostings = header.totalPostings;
    sources.register(index, source, index);
    return index;
  }

  /** Releases the source this index reads from; the index must not be used afterwards unless it read everything. */
  close(): void {
    if (this.source === null) return;
    sources.unregister(this);
    this.source.close();
    this.source = null;
  }

  /**
   * The `limit` best live documents for the query terms (distinct, already stemmed) that
   * `accept` lets through, best first; ties go to the lower slot.
   */
  search(terms: readonly string[], limit: number, accept: (slot: number) => boolean): Bm25Match[] {
    if (!(limit >= 1) || this.live === 0) return [];
    const documents = this.live;
    const averageLength = this.totalLength / documents || 1;
    const lengthFactor = BM25_K1 * (1 - BM25_B);
    const perLength = (BM25_K1 * BM25_B) / averageLength;

    // The query's terms, weakest bound first.
    const query: QueryTerm[] = [];
    for (const term of new Set(terms)) {
      const id = this.lookup(term);
      if (id === undefined) continue;
      const df = this.documentFrequencies[id] as number;
      if (df === 0) continue;
      const idf = Math.log(1 + (documents - df + 0.5) / (df + 0.5));
      const top = this.maxFrequencies[id] as number;
      query.push({
        slots: this.slotsOf(id),
        frequencies: this.frequenciesOf(id),
        size: this.postingSizes[id] as number,
        idf,
        bound: (idf * top * (BM25_K1 + 1)) / (top + lengthFactor),
        position: 0,
      });
    }
    if (query.length === 0) return [];
    query.sort((a, b) => a.bound - b.bound);
    const boundSums = new Float64Array(query.length);
    let running = 0;
    for (let index = 0; index < query.length; index++) {
      running += (query[index] as QueryTerm).bound;
      boundSums[index] = running;
    }

    const top = new TopK(limit);
    // query[0 .. essential-1] are walked only by probes: together they cannot lift a document
    // with none of the other terms above the k-th best score.
    let essential = 0;
    const lengths = this.lengths;
    const removed = this.removed;
    for (;;) {
      let slot = 0x7fffffff;
      for (let index = essential; index < query.length; index++) {
        const term = query[index] as QueryTerm;
        if (term.position < term.size) {
          const candidate = term.slots[term.position] as number;
          if (candidate < slot) slot = candidate;
        }
      }
      if (slot === 0x7fffffff) break;
      const skip = removed[slot] === 1 || !accept(slot);
      const norm = lengthFactor + perLength * (lengths[slot] as number);
      let score = 0;
      for (let index = essential; index < query.length; index++) {
        const term = query[index] as QueryTerm;
        if (term.position < term.size && term.slots[term.position] === slot) {
          if (!skip) {
            const frequency = term.frequencies[term.position] as number;
            score += (term.idf * frequency * (BM25_K1 + 1)) / (frequency + norm);
          }
          term.position += 1;
        }
      }
      if (skip) continue;
      // Probes only when some terms are left to probes (the threshold is a number read per
      // document otherwise: a heap number each time the getter is not inlined).
      const threshold = essential > 0 ? top.threshold : Number.NEGATIVE_INFINITY;
      for (let index = essential - 1; index >= 0; index--) {
        if (score + (boundSums[index] as number) <= threshold) break;
        const term = query[index] as QueryTerm;
        seek(term, slot);
        if (term.position < term.size && term.slots[term.position] === slot) {
          const frequency = term.frequencies[term.position] as number;
          score += (term.idf * frequency * (BM25_K1 + 1)) / (frequency + norm);
        }
      }
      if (top.offer(slot, score)) {
        const raised = top.threshold;
        while (essential < query.length && (boundSums[essential] as number) <= raised) essential += 1;
      }
    }
    return top.sorted();
  }

  /** The id of a known term. */
  private lookup(term: string): number | undefined {
    const added = this.termIds.get(term);
    if (added !== undefined) return added;
    const vocabulary = this.vocabulary;
    if (vocabulary === null) return undefined;
    let low = 0;
    let high = vocabulary.count - 1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      const found = vocabularyTerm(vocabulary, middle);
      if (found === term) return middle;
      if (found < term) low = middle + 1;
      else high = middle - 1;
    }
    return undefined;
  }

  private slotsOf(id: number): Int32Array {
    const own = this.postingSlots[id];
    if (own !== undefined) return own;
    this.materialise(id);
    return this.postingSlots[id] as Int32Array;
  }

  private frequenciesOf(id: number): Float32Array {
    const own = this.postingFrequencies[id];
    if (own !== undefined) return own;
    this.materialise(id);
    return this.postingFrequencies[id] as Float32Array;
  }

  /** Reads a loaded term's postings from the source. */
  private materialise(id: number): void {
    const source = this.source as Bm25Source;
    const start = this.postingOffsets[id] as number;
    const end = this.postingOffsets[id + 1] as number;
    this.postingSlots[id] = source.read('postingSlots', start, end) as Int32Array;
    this.postingFrequencies[id] = source.read('postingFrequencies', start, end) as Float32Array;
    this.postingSizes[id] = end - start;
  }

  /** The term ids of `slot` (read from the source for a slot loaded from it). */
  private termsOfSlot(slot: number): Int32Array {
    let start: number;
    let count: number;
    if (slot < this.sourceSlots) {
      const source = this.source as Bm25Source;
      start = source.read('termStart', slot, slot + 1)[0] as number;
      count = source.read('termCount', slot, slot + 1)[0] as number;
    } else {
      start = this.termStart[slot] as number;
      count = this.termCount[slot] as number;
    }
    if (start < this.sourceSlotTerms) return (this.source as Bm25Source).read('slotTerms', start, start + count) as Int32Array;
    const local = start - this.sourceSlotTerms;
    return this.slotTerms.subarray(local, local + count);
  }

  /** Reads whatever is still in the source (for a pass over the whole index), then releases it. */
  private readAll(): void {
    const source = this.source;
    if (source === null) return;
    const slots = source.read('postingSlots') as Int32Array;
    const frequencies = source.read('postingFrequencies') as Float32Array;
    const offsets = this.postingOffsets;
    const loaded = Math.min(this.vocabulary?.count ?? 0, this.terms);
    for (let id = 0; id < loaded; id++) {
      if (this.postingSlots[id] !== undefined) continue;
      this.postingSlots[id] = slots.subarray(offsets[id] as number, offsets[id + 1] as number);
      this.postingFrequencies[id] = frequencies.subarray(offsets[id] as number, offsets[id + 1] as number);
      this.postingSizes[id] = (offsets[id + 1] as number) - (offsets[id] as number);
    }
    if (this.sourceSlots > 0) {
      this.termStart.set(source.read('termStart', 0, this.sourceSlots));
      this.termCount.set(source.read('termCount', 0, this.sourceSlots));
      this.sourceSlots = 0;
    }
    if (this.sourceSlotTerms > 0) {
      const all = new Int32Array(Math.max(4096, this.slotTermsUsed));
      all.set(source.read('slotTerms') as Int32Array);
      all.set(this.slotTerms.subarray(0, this.slotTermsUsed - this.sourceSlotTerms), this.sourceSlotTerms);
      this.slotTerms = all;
      this.sourceSlotTerms = 0;
    }
    this.close();
  }

  private ensureSlots(count: number): void {
    if (count <= this.lengths.length) return;
    let capacity = this.lengths.length;
    while (capacity < count) capacity *= 2;
    const lengths = new Float32Array(capacity);
    lengths.set(this.lengths);
    this.lengths = lengths;
    const removed = new Uint8Array(capacity);
    removed.set(this.removed);
    this.removed = removed;
    this.termStart = growInt32(this.termStart, this.termStart.length, capacity);
    this.termCount = growInt32(this.termCount, this.termCount.length, capacity);
  }
}

/** The scalars of an exported index. */
export interface Bm25Header {
  /** How many terms the vocabulary holds. */
  terms: number;
  nextSlot: number;
  live: number;
  totalLength: number;
  totalPostings: number;
}

/** The arrays of an exported index. */
export interface Bm25Arrays {
  /** The terms, sorted, in UTF-8 one after the other; term i is termBytes[termOffsets[i] … termOffsets[i + 1]). */
  termBytes: Uint8Array;
  termOffsets: Int32Array;
  postingOffsets: Int32Array;
  postingSlots: Int32Array;
  postingFrequencies: Float32Array;
  documentFrequencies: Int32Array;
  maxFrequencies: Float32Array;
  lengths: Float32Array;
  termStart: Int32Array;
  termCount: Int32Array;
  slotTerms: Int32Array;
}

/** Where a loaded index reads its arrays: `read(name, from, to)` gives elements from … to − 1 of one. */
export interface Bm25Source {
  length(name: string): number;
  read(name: string, from?: number, to?: number): Int32Array | Float32Array | Uint8Array | Float64Array;
  /** Fills `target` (of the kind saved, exactly `length(name)` long) with the whole array `name`. */
  readInto(name: string, target: Int32Array | Float32Array): void;
  close(): void;
}

/** Closes the source of an index dropped without `close` (a store never closed, a replaced index). */
const sources = new FinalizationRegistry<Bm25Source>((source) => source.close());

/** Term `id` of a loaded vocabulary. */
function vocabularyTerm(vocabulary: { bytes: Buffer; offsets: Int32Array }, id: number): string {
  return vocabulary.bytes.toString('utf8', vocabulary.offsets[id] as number, vocabulary.offsets[id + 1] as number);
}

interface QueryTerm {
  slots: Int32Array;
  frequencies: Float32Array;
  size: number;
  idf: number;
  bound: number;
  position: number;
}

/** Moves `term.position` to the first posting at or after `slot` (galloping, then binary search). */
function seek(term: QueryTerm, slot: number): void {
  const { slots, size } = term;
  let low = term.position;
  if (low >= size || (slots[low] as number) >= slot) return;
  let step = 1;
  let high = low + 1;
  while (high < size && (slots[high] as number) < slot) {
    low = high;
    step *= 2;
    high = low + step;
  }
  if (high > size) high = size;
  // slots[low] < slot; the answer is in (low, high].
  while (low + 1 < high) {
    const middle = (low + high) >>> 1;
    if ((slots[middle] as number) < slot) low = middle;
    else high = middle;
  }
  term.position = high;
}

/** Code-unit order, as `<` compares strings (and `lookup` searches). */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function growInt32(array: Int32Array, used: number, atLeast: number): Int32Array<ArrayBuffer> {
  let capacity = Math.max(array.length, 4);
  while (capacity < atLeast) capacity *= 2;
  const larger = new Int32Array(capacity);
  larger.set(array.subarray(0, used));
  return larger;
}

/**
 * The k best (slot, score) pairs offered so far: a binary min-heap on score, the higher slot
 * losing ties (slots are offered in increasing order, so a tie never displaces an earlier one).
 */
class TopK {
  private readonly slots: Int32Array;
  private readonly scores: Float64Array;
  private count = 0;

  constructor(private readonly k: number) {
    this.slots = new Int32Array(k);
    this.scores = new Float64Array(k);
  }

  /** The score a document must beat to enter (−∞ until k are held). */
  get threshold(): number {
    return this.count < this.k ? Number.NEGATIVE_INFINITY : (this.scores[0] as number);
  }

  /** Returns whether the threshold may have risen. */
  offer(slot: number, score: number): boolean {
    if (this.count < this.k) {
      let index = this.count++;
      while (index > 0) {
        const parent = (index - 1) >> 1;
        if (!this.below(score, slot, parent)) break;
        this.slots[index] = this.slots[parent] as number;
        this.scores[index] = this.scores[parent] as number;
        index = parent;
      }
      this.slots[index] = slot;
      this.scores[index] = score;
      return this.count === this.k;
    }
    if (score <= (this.scores[0] as number)) return false;
    let index = 0;
    for (;;) {
      const left = index * 2 + 1;
      if (left >= this.count) break;
      const right = left + 1;
      const child = right < this.count && this.belowAt(right, left) ? right : left;
      if (!this.below(this.scores[child] as number, this.slots[child] as number, -1, score, slot)) break;
      this.slots[index] = this.slots[child] as number;
      this.scores[index] = this.scores[child] as number;
      index = child;
    }
    this.slots[index] = slot;
    this.scores[index] = score;
    return true;
  }

  sorted(): Bm25Match[] {
    const out: Bm25Match[] = [];
    for (let index = 0; index < this.count; index++) {
      out.push({ slot: this.slots[index] as number, score: this.scores[index] as number });
    }
    // -1 / 1 rather than a difference of scores: a double returned is a heap number a comparison.
    return out.sort((a, b) => (a.score !== b.score ? (a.score > b.score ? -1 : 1) : a.slot - b.slot));
  }

  /** Whether (score, slot) ranks below heap entry `at` (or below (otherScore, otherSlot)). */
  private below(score: number, slot: number, at: number, otherScore?: number, otherSlot?: number): boolean {
    const thatScore = at >= 0 ? (this.scores[at] as number) : (otherScore as number);
    const thatSlot = at >= 0 ? (this.slots[at] as number) : (otherSlot as number);
    return score < thatScore || (score === thatScore && slot > thatSlot);
  }

  private belowAt(a: number, b: number): boolean {
    return this.below(this.scores[a] as number, this.slots[a] as number, b);
  }
}
