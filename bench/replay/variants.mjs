// Ranking variants for the LoCoMo replay (locomo-replay.mjs). Each takes the replay's context
// ({ records, byId, scopeIds, buildIndex, bm25, queryTerms, terms }) and answers
// { lexical(query, allowed, limit), extraLists?, adjust?, rerank? }. Parameters come from the environment
// (REPLAY_W etc.) so a sweep is a shell loop.
const number = (name, fallback) => (process.env[name] !== undefined ? Number(process.env[name]) : fallback);

/** Sessions without metadata: turns of one conversation in time order; a gap over 1 h starts a new one. */
function sessionsOf(records) {
  const byConversation = new Map();
  for (const record of records) {
    if (record.conversationId === null) continue;
    const key = `${record.scope.userId}\u0000${record.conversationId}`;
    if (!byConversation.has(key)) byConversation.set(key, []);
    byConversation.get(key).push(record);
  }
  const sessionOf = new Map();
  const sessions = [];
  for (const list of byConversation.values()) {
    list.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
    let current;
    let previous;
    for (const record of list) {
      if (!current || record.createdAt - previous.createdAt > 3_600_000) {
        current = { id: sessions.length, turns: [] };
        sessions.push(current);
      }
      current.turns.push(record);
      sessionOf.set(record.id, current);
      previous = record;
    }
  }
  return { sessions, sessionOf };
}

const plainQuery = (queryTerms, query) => queryTerms(query).map((term) => ({ term, weight: 1 }));

export const variants = {
  baseline({ records, buildIndex, bm25, queryTerms }) {
    const index = buildIndex(records);
    return { lexical: (query, allowed, limit) => bm25(index, plainQuery(queryTerms, query), allowed, limit) };
  },

  /**
   * Document expansion: each turn gains, at weight W, the TOP salient terms (tf-idf within the
   * session document) of its session (or of ±WINDOW turns when WINDOW > 0), its own terms excluded.
   */
  documentExpansion({ records, buildIndex, bm25, queryTerms, terms }) {
    const weight = number('REPLAY_W', 0.1);
    const top = number('REPLAY_TOP', 20);
    const window = number('REPLAY_WINDOW', 0);
    const { sessions, sessionOf } = sessionsOf(records);
    const termsOf = new Map(records.map((record) => [record.id, terms(record.content)]));
    const documentFrequency = new Map();
    for (const list of termsOf.values())
      for (const term of new Set(list)) documentFrequency.set(term, (documentFrequency.get(term) ?? 0) + 1);
    const count = records.length;
    const salient = (turns, own) => {
      const frequency = new Map();
      for (const turn of turns) for (const term of termsOf.get(turn.id)) frequency.set(term, (frequency.get(term) ?? 0) + 1);
      return [...frequency]
        .filter(([term]) => !own.has(term))
        .map(([term, tf]) => [term, (1 + Math.log(tf)) * Math.log(count / (documentFrequency.get(term) ?? 1))])
        .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
        .slice(0, top);
    };
    void sessions;
    const index = buildIndex(records);
    // A separate field: its terms do not change the main field's document frequencies.
    const expansion = buildIndex(records, (record) => {
      const session = sessionOf.get(record.id);
      if (!session) return { content: '', tags: [], context: null };
      const position = session.turns.indexOf(record);
      const turns = window > 0 ? session.turns.slice(Math.max(0, position - window), position + window + 1) : session.turns;
      const own = new Set(termsOf.get(record.id));
      return {
        content: salient(turns, own)
          .map(([term]) => term)
          .join(' '),
        tags: [],
        context: null,
      };
    });
    return {
      lexical(query, allowed, limit) {
        const wanted = plainQuery(queryTerms, query);
        const main = bm25(index, wanted, allowed, 100000);
        const scores = new Map(main.map((item) => [item.id, item.score]));
        for (const item of bm25(expansion, wanted, allowed, 100000)) scores.set(item.id, (scores.get(item.id) ?? 0) + weight * item.score);
        return [...scores]
          .map(([id, score]) => ({ id, score }))
          .sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1))
          .slice(0, limit);
      },
    };
  },

  /**
   * Session-first: sessions ranked by BM25 over the session's concatenated turns; an extra list in
   * which each candidate is ranked by its session's rank (ties by its own lexical rank), weight W.
   */
  sessionList({ records, buildIndex, bm25, queryTerms }) {
    const weight = number('REPLAY_W', 0.3);
    const { sessions, sessionOf } = sessionsOf(records);
    const index = buildIndex(records);
    const sessionRecords = sessions.map((session) => ({
      id: `s${session.id}`,
      content: session.turns.map((turn) => turn.content).join('\n'),
      tags: [],
      context: null,
      members: session.turns.map((turn) => turn.id),
    }));
    const sessionIndex = buildIndex(sessionRecords);
    const sessionScope = new Map();
    return {
      lexical: (query, allowed, limit) => bm25(index, plainQuery(queryTerms, query), allowed, limit),
      extraLists(query, allowed, limit) {
        const scopeKey = [...allowed][0];
        let ids = sessionScope.get(scopeKey);
        if (!ids) {
          ids = new Set(sessionRecords.filter((session) => allowed.has(session.members[0])).map((session) => session.id));
          sessionScope.set(scopeKey, ids);
        }
        const ranked = bm25(sessionIndex, plainQuery(queryTerms, query), ids, 1000);
        const sessionRank = new Map(ranked.map((item, position) => [Number(item.id.slice(1)), position]));
        const own = bm25(index, plainQuery(queryTerms, query), allowed, limit);
        const list = own
          .map((item, position) => ({ ...item, key: (sessionRank.get(sessionOf.get(item.id)?.id) ?? 1e6) * 1000 + position }))
          .sort((a, b) => a.key - b.key);
        void scopeKey;
        return { session: list };
      },
      adjust(candidate, _record, explanation, fusion) {
        if (!candidate.session) return;
        const best = (fusion.lexicalWeight + fusion.vectorWeight + 0) / (fusion.rrfK + 1);
        const part = weight / (fusion.rrfK + candidate.session.rank) / best;
        const share = 1 - fusion.recencyWeight - fusion.importanceWeight - fusion.decayWeight;
        explanation.score = Math.min(1, explanation.score + share * part);
      },
    };
  },

  /**
   * Query expansion from term association in the store: co-occurrence of content terms within a
   * unit (a turn with ±UNIT neighbours of its session), association by PMI (min co-occurrence
   * MINCO, terms in at most MAXDF of the units); each query term brings its TOP associates.
   * MODE 'list': expanded terms only, a second lexical list fused by RRF with weight W;
   * MODE 'terms': expanded terms added to the query with weight W × association share.
   */
  associationExpansion({ records, buildIndex, bm25, queryTerms, terms }) {
    const weight = number('REPLAY_W', 0.3);
    const top = number('REPLAY_TOP', 3);
    const unitSpan = number('REPLAY_UNIT', 0);
    const minimum = number('REPLAY_MINCO', 3);
    const maxShare = number('REPLAY_MAXDF', 0.05);
    const measure = process.env.REPLAY_MEASURE ?? 'pmi';
    const mode = process.env.REPLAY_MODE ?? 'list';
    const { sessions } = sessionsOf(records);
    const stop = new Set(
      queryTerms(
        'a an the and or but of to in on at by for from with about is am are was were be been do does did have has had i me my we us our you your he him his she her it its they them their this that these those there here what which who whom when where why how not no can could would should will just so very really too also',
      ),
    );
    const units = [];
    for (const session of sessions) {
      const turnTerms = session.turns.map(
        (turn) => new Set(terms(turn.content).filter((term) => !stop.has(term) && term.length > 2 && !/^\d+$/.test(term))),
      );
      for (let position = 0; position < turnTerms.length; position++) {
        const unit = new Set();
        for (let other = Math.max(0, position - unitSpan); other <= Math.min(turnTerms.length - 1, position + unitSpan); other++)
          for (const term of turnTerms[other]) unit.add(term);
        units.push([...unit]);
      }
    }
    const frequency = new Map();
    for (const unit of units) for (const term of unit) frequency.set(term, (frequency.get(term) ?? 0) + 1);
    const total = units.length;
    const pairs = new Map();
    for (const unit of units) {
      const kept = unit.filter((term) => frequency.get(term) <= maxShare * total && frequency.get(term) >= minimum);
      for (const a of kept) {
        let row = pairs.get(a);
        if (!row) {
          row = new Map();
          pairs.set(a, row);
        }
        for (const b of kept) if (a !== b) row.set(b, (row.get(b) ?? 0) + 1);
      }
    }
    const associates = (term) => {
      const row = pairs.get(term);
      if (!row) return [];
      const fa = frequency.get(term);
      const scored = [];
      for (const [other, together] of row) {
        if (together < minimum) continue;
        const fb = frequency.get(other);
        let value;
        if (measure === 'pmi') value = Math.log((together * total) / (fa * fb));
        else if (measure === 'dice') value = (2 * together) / (fa + fb);
        else {
          // log-likelihood ratio (Dunning) of the 2×2 table
          const k11 = together,
            k12 = fa - together,
            k21 = fb - together,
            k22 = total - fa - fb + together;
          const h = (...ks) => {
            const n = ks.reduce((x, y) => x + y, 0);
            return ks.reduce((sum, k) => sum + (k > 0 ? k * Math.log(k / n) : 0), 0);
          };
          value = 2 * (h(k11, k12, k21, k22) - h(k11 + k12, k21 + k22) - h(k11 + k21, k12 + k22));
          if (together * total < fa * fb) value = 0;
        }
        if (value > 0) scored.push({ term: other, value });
      }
      return scored.sort((a, b) => b.value - a.value || (a.term < b.term ? -1 : 1)).slice(0, top);
    };
    const index = buildIndex(records);
    const cache = new Map();
    const expand = (query) => {
      const original = queryTerms(query);
      const own = new Set(original);
      const expanded = new Map();
      for (const term of original) {
        let list = cache.get(term);
        if (!list) {
          list = associates(term);
          cache.set(term, list);
        }
        const sum = list.reduce((acc, item) => acc + item.value, 0);
        for (const item of list) if (!own.has(item.term)) expanded.set(item.term, Math.max(expanded.get(item.term) ?? 0, item.value / sum));
      }
      return { original, expanded };
    };
    if (process.env.REPLAY_SHOW) {
      for (const query of process.env.REPLAY_SHOW.split('|')) console.log(query, JSON.stringify([...expand(query).expanded]));
    }
    if (mode === 'terms') {
      return {
        lexical(query, allowed, limit) {
          const { original, expanded } = expand(query);
          const wanted = [
            ...original.map((term) => ({ term, weight: 1 })),
            ...[...expanded].map(([term, share]) => ({ term, weight: weight * share })),
          ];
          return bm25(index, wanted, allowed, limit);
        },
      };
    }
    return {
      lexical: (query, allowed, limit) => bm25(index, plainQuery(queryTerms, query), allowed, limit),
      extraLists(query, allowed, limit) {
        const { expanded } = expand(query);
        if (expanded.size === 0) return {};
        return {
          expansion: bm25(
            index,
            [...expanded].map(([term, share]) => ({ term, weight: share })),
            allowed,
            limit,
          ),
        };
      },
      adjust(candidate, _record, explanation, fusion) {
        if (!candidate.expansion) return;
        const best = (fusion.lexicalWeight + fusion.vectorWeight) / (fusion.rrfK + 1);
        const share = 1 - fusion.recencyWeight - fusion.importanceWeight - fusion.decayWeight;
        explanation.score = Math.min(1, explanation.score + (share * weight) / (fusion.rrfK + candidate.expansion.rank) / best);
      },
    };
  },

  /**
   * A store-trained distributional vector (reflective random indexing): random sparse vectors per
   * unit (turn ±UNIT of its session), term vectors = Σ idf-weighted unit vectors of the units a
   * term occurs in, then (CYCLES ≥ 1) unit vectors = Σ idf × term vectors and term vectors again;
   * a memory's vector = Σ idf × term vectors of its content (+ context × 0.5), normalised; an extra
   * ranked list (cosine to the query's vector) fused by RRF with weight W.
   */
  randomIndexing({ records, buildIndex, bm25, queryTerms, terms }) {
    const weight = number('REPLAY_W', 0.1);
    const dimensions = number('REPLAY_DIM', 512);
    const unitSpan = number('REPLAY_UNIT', 1);
    const cycles = number('REPLAY_CYCLES', 1);
    let seed = 12345;
    const random = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const { sessions } = sessionsOf(records);
    const stop = new Set(
      queryTerms(
        'a an the and or but of to in on at by for from with about is am are was were be been do does did have has had i me my we us our you your he him his she her it its they them their this that these those there here what which who whom when where why how not no can could would should will just so very really too also',
      ),
    );
    const contentTerms = (text) => terms(text).filter((term) => !stop.has(term) && term.length > 1);
    const units = [];
    for (const session of sessions) {
      const turnTerms = session.turns.map((turn) => contentTerms(turn.content));
      for (let position = 0; position < turnTerms.length; position++) {
        const unit = [];
        for (let other = Math.max(0, position - unitSpan); other <= Math.min(turnTerms.length - 1, position + unitSpan); other++)
          unit.push(...turnTerms[other]);
        units.push([...new Set(unit)]);
      }
    }
    const frequency = new Map();
    for (const unit of units) for (const term of unit) frequency.set(term, (frequency.get(term) ?? 0) + 1);
    const idf = (term) => Math.log(1 + units.length / (frequency.get(term) ?? 1));
    const normalise = (vector) => {
      let norm = 0;
      for (const value of vector) norm += value * value;
      norm = Math.sqrt(norm) || 1;
      for (let i = 0; i < vector.length; i++) vector[i] /= norm;
      return vector;
    };
    // elemental unit vectors: sparse ternary
    let unitVectors = units.map(() => {
      const vector = new Float64Array(dimensions);
      for (let i = 0; i < 10; i++) vector[Math.floor(random() * dimensions)] += random() < 0.5 ? -1 : 1;
      return vector;
    });
    let termVectors;
    for (let cycle = 0; cycle <= cycles; cycle++) {
      termVectors = new Map();
      units.forEach((unit, position) => {
        for (const term of unit) {
          let vector = termVectors.get(term);
          if (!vector) {
            vector = new Float64Array(dimensions);
            termVectors.set(term, vector);
          }
          const source = unitVectors[position];
          for (let i = 0; i < dimensions; i++) vector[i] += source[i];
        }
      });
      for (const vector of termVectors.values()) normalise(vector);
      if (cycle === cycles) break;
      unitVectors = units.map((unit) => {
        const vector = new Float64Array(dimensions);
        for (const term of unit) {
          const source = termVectors.get(term);
          const w = idf(term);
          for (let i = 0; i < dimensions; i++) vector[i] += w * source[i];
        }
        return normalise(vector);
      });
    }
    const embed = (weighted) => {
      const vector = new Float64Array(dimensions);
      for (const [term, w] of weighted) {
        const source = termVectors.get(term);
        if (!source) continue;
        const factor = w * idf(term);
        for (let i = 0; i < dimensions; i++) vector[i] += factor * source[i];
      }
      return normalise(vector);
    };
    const memoryVectors = new Map(
      records.map((record) => [
        record.id,
        embed([...contentTerms(record.content).map((term) => [term, 1]), ...contentTerms(record.context ?? '').map((term) => [term, 0.5])]),
      ]),
    );
    const index = buildIndex(records);
    return {
      lexical: (query, allowed, limit) => bm25(index, plainQuery(queryTerms, query), allowed, limit),
      extraLists(query, allowed, limit) {
        const wanted = queryTerms(query).filter((term) => !stop.has(term));
        if (wanted.length === 0) return {};
        const vector = embed(wanted.map((term) => [term, 1]));
        const scored = [];
        for (const id of allowed) {
          const other = memoryVectors.get(id);
          let dot = 0;
          for (let i = 0; i < dimensions; i++) dot += vector[i] * other[i];
          scored.push({ id, score: dot });
        }
        scored.sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1));
        return { distributional: scored.slice(0, limit) };
      },
      adjust(candidate, _record, explanation, fusion) {
        if (!candidate.distributional) return;
        const best = (fusion.lexicalWeight + fusion.vectorWeight) / (fusion.rrfK + 1);
        const share = 1 - fusion.recencyWeight - fusion.importanceWeight - fusion.decayWeight;
        explanation.score = Math.min(1, explanation.score + (share * weight) / (fusion.rrfK + candidate.distributional.rank) / best);
      },
    };
  },

  /**
   * The following turn(s) of the same conversation as context too: FIELD 'context' appends them
   * to the derived context (weight 0.5 like it); FIELD 'separate' scores them as their own field
   * (own document frequencies) added with weight W. AFTER turns (default 1); SAMESESSION 1 keeps
   * them within the session (a gap over 1 h ends it).
   */
  followingTurn({ records, buildIndex, bm25, queryTerms }) {
    const weight = number('REPLAY_W', 0.5);
    const after = number('REPLAY_AFTER', 1);
    const field = process.env.REPLAY_FIELD ?? 'context';
    const sameSession = number('REPLAY_SAMESESSION', 0) === 1;
    const byConversation = new Map();
    for (const record of records) {
      if (record.conversationId === null) continue;
      const key = `${record.scope.userId}\u0000${record.conversationId}`;
      if (!byConversation.has(key)) byConversation.set(key, []);
      byConversation.get(key).push(record);
    }
    const following = new Map();
    for (const list of byConversation.values()) {
      list.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
      list.forEach((record, position) => {
        const next = [];
        for (let step = 1; step <= after && position + step < list.length; step++) {
          const candidate = list[position + step];
          if (sameSession && candidate.createdAt - list[position + step - 1].createdAt > 3_600_000) break;
          next.push(candidate.content);
        }
        following.set(record.id, next.join('\n'));
      });
    }
    if (field === 'context') {
      const index = buildIndex(
        records,
        (record) => ({ ...record, context: [record.context, following.get(record.id)].filter(Boolean).join('\n') }),
        weight,
      );
      return { lexical: (query, allowed, limit) => bm25(index, plainQuery(queryTerms, query), allowed, limit) };
    }
    const index = buildIndex(records);
    const next = buildIndex(records, (record) => ({ content: following.get(record.id) ?? '', tags: [], context: null }));
    return {
      lexical(query, allowed, limit) {
        const wanted = plainQuery(queryTerms, query);
        const scores = new Map(bm25(index, wanted, allowed, 100000).map((item) => [item.id, item.score]));
        for (const item of bm25(next, wanted, allowed, 100000)) scores.set(item.id, (scores.get(item.id) ?? 0) + weight * item.score);
        return [...scores]
          .map(([id, score]) => ({ id, score }))
          .sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1))
          .slice(0, limit);
      },
    };
  },

  /** All the lists above at once, weights learned on tuning by coordinate ascent (REPLAY_LEARN grids). */
  combination(context) {
    const { records, buildIndex, bm25, queryTerms } = context;
    const make = (name, environment) => {
      const saved = { ...process.env };
      Object.assign(process.env, environment);
      const made = variants[name](context);
      for (const key of Object.keys(environment))
        if (saved[key] === undefined) delete process.env[key];
        else process.env[key] = saved[key];
      return made;
    };
    const next = make('followingTurn', { REPLAY_FIELD: 'context', REPLAY_W: '0.5' });
    const documentExpansion = make('documentExpansion', { REPLAY_W: '0.1', REPLAY_WINDOW: '0' });
    const association = make('associationExpansion', { REPLAY_MEASURE: 'llr', REPLAY_UNIT: '2', REPLAY_MODE: 'list' });
    const session = make('sessionList', {});
    const distributional = make('randomIndexing', { REPLAY_CYCLES: '0' });
    const index = buildIndex(records);
    const cache = new Map();
    const weights = { next: 0, documentExpansion: 0, association: 0, session: 0, distributional: 0, base: 1 };
    const ranker = {
      weights,
      learn: Object.fromEntries(
        Object.entries({
          next: [0, 0.1, 0.2, 0.3, 0.5, 0.8],
          documentExpansion: [0, 0.1, 0.2, 0.3, 0.5],
          association: [0, 0.02, 0.05, 0.1, 0.2],
          session: [0, 0.05, 0.1, 0.2, 0.3],
          distributional: [0, 0.02, 0.05, 0.1, 0.2],
          base: [0.5, 0.7, 1],
          ...(process.env.REPLAY_FUSION
            ? {
                'fusion.neighbourWeight': [0, 0.1, 0.15, 0.2, 0.3],
                'fusion.vectorWeight': [0, 0.02, 0.05, 0.1],
                'fusion.dateWeight': [0.25, 0.5, 1],
                'fusion.rrfK': [20, 40, 60, 100],
              }
            : {}),
        }).filter(([name]) => !process.env.REPLAY_ONLY || process.env.REPLAY_ONLY.split(',').includes(name)),
      ),
      lexical: (query, allowed, limit) => bm25(index, plainQuery(queryTerms, query), allowed, limit),
      extraLists(query, allowed, limit) {
        const key = `${[...allowed][0]}\u0000${query}\u0000${limit}`;
        let lists = cache.get(key);
        if (!lists) {
          lists = {
            next: next.lexical(query, allowed, limit),
            documentExpansion: documentExpansion.lexical(query, allowed, limit),
            association: association.extraLists(query, allowed, limit).expansion ?? [],
            session: session.extraLists(query, allowed, limit).session,
            distributional: distributional.extraLists(query, allowed, limit).distributional ?? [],
          };
          cache.set(key, lists);
        }
        const used = {};
        for (const [name, list] of Object.entries(lists)) if (weights[name] > 0) used[name] = list;
        return used;
      },
      adjust(candidate, _record, explanation, fusion) {
        const best = (fusion.lexicalWeight + fusion.vectorWeight) / (fusion.rrfK + 1);
        const share = 1 - fusion.recencyWeight - fusion.importanceWeight - fusion.decayWeight;
        let extra = 0;
        for (const name of Object.keys(weights)) {
          if (name === 'base' || !candidate[name]) continue;
          extra += weights[name] / (fusion.rrfK + candidate[name].rank);
        }
        const lexicalPart = candidate.lexical ? fusion.lexicalWeight / (fusion.rrfK + candidate.lexical.rank) : 0;
        explanation.score += (share * (extra - (1 - weights.base) * lexicalPart)) / best;
      },
    };
    return ranker;
  },

  /**
   * RM3-style pseudo-relevance feedback with a second query: the FEEDBACK best lexical hits give
   * their TERMS most frequent terms (tf × idf within the hits, query terms and function words left
   * out); those terms form a second lexical query whose list is fused by RRF with weight W.
   */
  feedbackQuery({ records, byId, buildIndex, bm25, queryTerms, terms }) {
    const weight = number('REPLAY_W', 0.1);
    const feedback = number('REPLAY_FEEDBACK', 5);
    const count = number('REPLAY_TERMS', 10);
    const index = buildIndex(records);
    const stop = new Set(
      queryTerms(
        'a an the and or but of to in on at by for from with about is am are was were be been do does did have has had i me my we us our you your he him his she her it its they them their this that these those there here what which who whom when where why how not no can could would should will just so very really too also',
      ),
    );
    return {
      lexical: (query, allowed, limit) => bm25(index, plainQuery(queryTerms, query), allowed, limit),
      extraLists(query, allowed, limit) {
        const original = queryTerms(query);
        const own = new Set(original);
        const top = bm25(
          index,
          original.map((term) => ({ term, weight: 1 })),
          allowed,
          feedback,
        );
        if (top.length === 0) return {};
        const maximum = top[0].score;
        const mass = new Map();
        for (const hit of top) {
          const record = byId.get(hit.id);
          const list = terms(`${record.content} ${record.context ?? ''}`).filter(
            (term) => !stop.has(term) && !own.has(term) && term.length > 2,
          );
          for (const term of list) mass.set(term, (mass.get(term) ?? 0) + hit.score / maximum / list.length);
        }
        const chosen = [...mass]
          .map(([term, value]) => {
            const posting = index.postings.get(term);
            return [term, value * Math.log(1 + (index.count - posting.size + 0.5) / (posting.size + 0.5))];
          })
          .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
          .slice(0, count);
        if (chosen.length === 0) return {};
        const sum = chosen.reduce((total, item) => total + item[1], 0);
        return {
          feedback: bm25(
            index,
            chosen.map(([term, value]) => ({ term, weight: value / sum })),
            allowed,
            limit,
          ),
        };
      },
      adjust(candidate, _record, explanation, fusion) {
        if (!candidate.feedback) return;
        const best = (fusion.lexicalWeight + fusion.vectorWeight) / (fusion.rrfK + 1);
        const share = 1 - fusion.recencyWeight - fusion.importanceWeight - fusion.decayWeight;
        explanation.score += (share * weight) / (fusion.rrfK + candidate.feedback.rank) / best;
      },
    };
  },

  /**
   * Session diversity (MMR-like): walking the ranking, each hit's score is multiplied by
   * (1 − W)^(hits already taken from its session) and the best remaining is taken next.
   */
  sessionDiversity({ records, buildIndex, bm25, queryTerms }) {
    const weight = number('REPLAY_W', 0.1);
    const { sessionOf } = sessionsOf(records);
    const index = buildIndex(records);
    return {
      lexical: (query, allowed, limit) => bm25(index, plainQuery(queryTerms, query), allowed, limit),
      reorder(scored) {
        const remaining = scored.slice(0, 60);
        const taken = [];
        const used = new Map();
        while (remaining.length > 0) {
          let bestIndex = 0;
          let bestValue = -1;
          remaining.forEach((item, position) => {
            const session = sessionOf.get(item.memory.id)?.id ?? item.memory.id;
            const value = item.explanation.score * (1 - weight) ** (used.get(session) ?? 0);
            if (value > bestValue) {
              bestValue = value;
              bestIndex = position;
            }
          });
          const [item] = remaining.splice(bestIndex, 1);
          const session = sessionOf.get(item.memory.id)?.id ?? item.memory.id;
          used.set(session, (used.get(session) ?? 0) + 1);
          taken.push(item);
        }
        return [...taken, ...scored.slice(60)];
      },
    };
  },

  /**
   * Latent semantic analysis over the store: tf-idf term × memory matrix (content, context × 0.5),
   * rank-DIM randomized SVD (2 power iterations); a memory is U·Σ, a query q·V; an extra list by
   * cosine fused by RRF with weight W.
   */
  latentSemantic({ records, buildIndex, bm25, queryTerms, terms }) {
    const weight = number('REPLAY_W', 0.05);
    const rank = number('REPLAY_DIM', 100);
    const stop = new Set(
      queryTerms(
        'a an the and or but of to in on at by for from with about is am are was were be been do does did have has had i me my we us our you your he him his she her it its they them their this that these those there here what which who whom when where why how not no can could would should will just so very really too also',
      ),
    );
    let seed = 7;
    const gaussian = () => {
      let u = 0;
      let v = 0;
      while (u === 0) {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        u = seed / 0x7fffffff;
      }
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      v = seed / 0x7fffffff;
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    };
    const vocabulary = new Map();
    const rows = records.map((record) => {
      const counts = new Map();
      for (const term of terms(record.content)) if (!stop.has(term)) counts.set(term, (counts.get(term) ?? 0) + 1);
      for (const term of terms(record.context ?? '')) if (!stop.has(term)) counts.set(term, (counts.get(term) ?? 0) + 0.5);
      for (const term of counts.keys()) if (!vocabulary.has(term)) vocabulary.set(term, vocabulary.size);
      return counts;
    });
    const documentFrequency = new Float64Array(vocabulary.size);
    for (const counts of rows) for (const term of counts.keys()) documentFrequency[vocabulary.get(term)] += 1;
    const idf = (column) => Math.log(records.length / documentFrequency[column]);
    // sparse rows: [column, value]
    const matrix = rows.map((counts) => {
      const row = [...counts].map(([term, count]) => [
        vocabulary.get(term),
        (1 + Math.log(count + 1 - (count < 1 ? 0.5 : 0))) * idf(vocabulary.get(term)),
      ]);
      const norm = Math.sqrt(row.reduce((sum, [, value]) => sum + value * value, 0)) || 1;
      return row.map(([column, value]) => [column, value / norm]);
    });
    const width = rank + 10;
    const columns = vocabulary.size;
    const multiply = (dense) =>
      matrix.map((row) => {
        const out = new Float64Array(width);
        for (const [column, value] of row) {
          const source = dense[column];
          for (let j = 0; j < width; j++) out[j] += value * source[j];
        }
        return out;
      });
    const multiplyTransposed = (dense) => {
      const out = Array.from({ length: columns }, () => new Float64Array(width));
      matrix.forEach((row, index) => {
        const source = dense[index];
        for (const [column, value] of row) {
          const target = out[column];
          for (let j = 0; j < width; j++) target[j] += value * source[j];
        }
      });
      return out;
    };
    const orthonormalise = (dense) => {
      // modified Gram–Schmidt over the columns of an n × width matrix
      for (let j = 0; j < width; j++) {
        for (let previous = 0; previous < j; previous++) {
          let dot = 0;
          for (const row of dense) dot += row[j] * row[previous];
          for (const row of dense) row[j] -= dot * row[previous];
        }
        let norm = 0;
        for (const row of dense) norm += row[j] * row[j];
        norm = Math.sqrt(norm) || 1;
        for (const row of dense) row[j] /= norm;
      }
      return dense;
    };
    let q = orthonormalise(multiply(Array.from({ length: columns }, () => Float64Array.from({ length: width }, gaussian))));
    for (let iteration = 0; iteration < 2; iteration++) q = orthonormalise(multiply(orthonormalise(multiplyTransposed(q))));
    const b = multiplyTransposed(q); // columns × width  (= (Qᵀ A)ᵀ)
    // eigen-decomposition of BᵀB... here C = (QᵀA)(QᵀA)ᵀ = bᵀ b (width × width), by Jacobi
    const c = Array.from({ length: width }, () => new Float64Array(width));
    for (const row of b) for (let i = 0; i < width; i++) if (row[i] !== 0) for (let j = 0; j < width; j++) c[i][j] += row[i] * row[j];
    const vectors = Array.from({ length: width }, (_, i) => Float64Array.from({ length: width }, (_, j) => (i === j ? 1 : 0)));
    for (let sweep = 0; sweep < 30; sweep++) {
      let off = 0;
      for (let p = 0; p < width; p++) for (let r = p + 1; r < width; r++) off += c[p][r] * c[p][r];
      if (off < 1e-18) break;
      for (let p = 0; p < width; p++) {
        for (let r = p + 1; r < width; r++) {
          if (Math.abs(c[p][r]) < 1e-15) continue;
          const theta = (c[r][r] - c[p][p]) / (2 * c[p][r]);
          const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
          const cos = 1 / Math.sqrt(t * t + 1);
          const sin = t * cos;
          for (let k = 0; k < width; k++) {
            const a = c[k][p];
            const d = c[k][r];
            c[k][p] = cos * a - sin * d;
            c[k][r] = sin * a + cos * d;
          }
          for (let k = 0; k < width; k++) {
            const a = c[p][k];
            const d = c[r][k];
            c[p][k] = cos * a - sin * d;
            c[r][k] = sin * a + cos * d;
          }
          for (let k = 0; k < width; k++) {
            const a = vectors[k][p];
            const d = vectors[k][r];
            vectors[k][p] = cos * a - sin * d;
            vectors[k][r] = sin * a + cos * d;
          }
        }
      }
    }
    const order = [...Array(width).keys()].sort((x, y) => c[y][y] - c[x][x]).slice(0, rank);
    const sigma = order.map((i) => Math.sqrt(Math.max(c[i][i], 0)));
    // term vectors V = b · W Σ⁻¹ ; memory vectors = Q · W (· Σ for U Σ)
    const termVector = (column) =>
      Float64Array.from(order, (i, index) => {
        let sum = 0;
        for (let k = 0; k < width; k++) sum += b[column][k] * vectors[k][i];
        return sum / (sigma[index] || 1);
      });
    const normalise = (vector) => {
      let norm = 0;
      for (const value of vector) norm += value * value;
      norm = Math.sqrt(norm) || 1;
      return vector.map((value) => value / norm);
    };
    const memoryVectors = new Map(
      records.map((record, index) => [
        record.id,
        normalise(
          Float64Array.from(order, (i, position) => {
            let sum = 0;
            for (let k = 0; k < width; k++) sum += q[index][k] * vectors[k][i];
            return sum * sigma[position];
          }),
        ),
      ]),
    );
    const termCache = new Map();
    const index = buildIndex(records);
    return {
      lexical: (query, allowed, limit) => bm25(index, plainQuery(queryTerms, query), allowed, limit),
      extraLists(query, allowed, limit) {
        const wanted = queryTerms(query).filter((term) => vocabulary.has(term));
        if (wanted.length === 0) return {};
        const vector = new Float64Array(rank);
        for (const term of wanted) {
          const column = vocabulary.get(term);
          let cached = termCache.get(column);
          if (!cached) {
            cached = termVector(column);
            termCache.set(column, cached);
          }
          const factor = idf(column);
          for (let i = 0; i < rank; i++) vector[i] += factor * cached[i] * sigma[i];
        }
        const unit = normalise(vector);
        const scored = [];
        for (const id of allowed) {
          const other = memoryVectors.get(id);
          let dot = 0;
          for (let i = 0; i < rank; i++) dot += unit[i] * other[i];
          scored.push({ id, score: dot });
        }
        scored.sort((x, y) => y.score - x.score || (x.id < y.id ? -1 : 1));
        return { latent: scored.slice(0, limit) };
      },
      adjust(candidate, _record, explanation, fusion) {
        if (!candidate.latent) return;
        const best = (fusion.lexicalWeight + fusion.vectorWeight) / (fusion.rrfK + 1);
        const share = 1 - fusion.recencyWeight - fusion.importanceWeight - fusion.decayWeight;
        explanation.score += (share * weight) / (fusion.rrfK + candidate.latent.rank) / best;
      },
    };
  },
};
