import type { MemoryFilter } from '@engram/core';
import { compileFilter } from './sqlite-filter.js';
import { taggedRowidsSql } from './sqlite-records.js';
import type { SqliteSession } from './sqlite-session.js';

/**
 * The part of a filter the in-memory mirrors cannot decide — tags and `where` — for candidates
 * that already passed the part they do decide (scope, conversation, types, time window, deletion,
 * supersession, `asOf`; see `slotFilter`). One instance serves one search: both the check of the
 * best candidates, a chunk at a time, and the fallback to every matching row.
 *
 * Without `where`, no candidate's memory row is read (a seek into `memories` a candidate was most
 * of the cost of a tag-filtered search at 1M memories):
 * - `tags.any`: the memories with any of the tags are collected once (one lookup of
 *   `memory_tags_tag`, see `taggedRowidsSql`) and candidates are checked against that set in
 *   memory, however many chunks the search checks;
 * - `tags.all`: the first chunk's candidates have their own entries counted (one seek of
 *   `memory_tags`' rowid-major key a candidate); after that, the tags' entries are collected once
 *   and counted per memory (each entry is a distinct (memory, tag) pair: the primary key).
 * With `where`, the complete filter is evaluated in SQL on the candidates' rows, as before.
 */
export class ResidualFilter {
  private readonly anyTags: string | null;
  private readonly allTags: { json: string; count: number } | null;
  private readonly needsRows: boolean;
  /** The memories with any of `tags.any` (collected on first use). */
  private tagged: Set<number> | null = null;
  /** The memories with every tag of `tags.all` (collected on first use). */
  private taggedAll: Set<number> | null = null;
  private checks = 0;

  constructor(
    private readonly session: SqliteSession,
    private readonly filter: MemoryFilter,
  ) {
    const any = unique(filter.tags?.any ?? []);
    const all = unique(filter.tags?.all ?? []);
    this.anyTags = any.length > 0 ? JSON.stringify(any) : null;
    this.allTags = all.length > 0 ? { json: JSON.stringify(all), count: all.length } : null;
    this.needsRows = filter.where !== undefined;
  }

  /**
   * The rowids among `rowids` (candidates that passed the mirror's part) that pass the rest.
   * `tags.all` is checked on the candidates' own entries the first time (the best candidates
   * usually settle a search whose tags are common), and from the second time on against the
   * memories collected once (a search that needs more candidates is one whose tags seldom meet).
   */
  passing(rowids: readonly number[]): Set<number> {
    if (rowids.length === 0) return new Set();
    this.checks += 1;
    if (this.needsRows) {
      const where = compileFilter(this.filter, { candidates: true });
      return new Set(
        this.session
          .statement(`SELECT m.rowid FROM memories m WHERE m.rowid IN (SELECT value FROM json_each(?)) AND ${where.sql}`)
          .pluck()
          .all(JSON.stringify(rowids), ...where.params) as number[],
      );
    }
    let candidates = rowids;
    if (this.anyTags !== null) {
      const tagged = this.taggedSet();
      candidates = candidates.filter((rowid) => tagged.has(rowid));
    }
    if (this.allTags === null || candidates.length === 0) return new Set(candidates);
    if (this.checks > 1 || this.taggedAll !== null) {
      const taggedAll = this.taggedAllSet();
      return new Set(candidates.filter((rowid) => taggedAll.has(rowid)));
    }
    return new Set(
      this.session
        .statement(
          `SELECT c.value FROM json_each(?) c WHERE (SELECT count(*) FROM memory_tags t
            WHERE t.memory_rowid = c.value AND t.tag IN (SELECT value FROM json_each(?))) = ?`,
        )
        .pluck()
        .all(JSON.stringify(candidates), this.allTags.json, this.allTags.count) as number[],
    );
  }

  /**
   * Every rowid that passes the tags, ascending (live or not: the caller applies the mirror's
   * part); null when only an evaluation of the complete filter on every row can say (`where`,
   * or no tags at all).
   */
  matchingRowids(): number[] | null {
    if (this.needsRows || (this.anyTags === null && this.allTags === null)) return null;
    let rowids: number[] | null = null;
    if (this.anyTags !== null) rowids = [...this.taggedSet()];
    if (this.allTags !== null) {
      const taggedAll = this.taggedAllSet();
      rowids = rowids === null ? [...taggedAll] : rowids.filter((rowid) => taggedAll.has(rowid));
    }
    return (rowids as number[]).sort((a, b) => a - b);
  }

  private taggedSet(): Set<number> {
    if (this.tagged === null) {
      this.tagged = new Set(this.session.statement(taggedRowidsSql).pluck().all(this.anyTags) as number[]);
    }
    return this.tagged;
  }

  /** The memories with every tag of `tags.all`: their entries for those tags, counted per memory. */
  private taggedAllSet(): Set<number> {
    if (this.taggedAll === null) {
      const { json, count } = this.allTags as { json: string; count: number };
      const entries = this.session.statement(taggedRowidsSql).pluck().all(json) as number[];
      const taggedAll = new Set<number>();
      if (count === 1) for (const rowid of entries) taggedAll.add(rowid);
      else {
        const counts = new Map<number, number>();
        for (const rowid of entries) {
          const seen = (counts.get(rowid) ?? 0) + 1;
          counts.set(rowid, seen);
          if (seen === count) taggedAll.add(rowid);
        }
      }
      this.taggedAll = taggedAll;
    }
    return this.taggedAll;
  }
}

function unique<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}
