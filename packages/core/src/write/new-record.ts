import type { MemoryRecord } from '../contracts/model.js';
import { ValidationError } from '../model/errors.js';
import { uuidv7 } from '../model/ids.js';
import { checkMetadata, type ResolvedMetadataLimits } from '../model/input-guards.js';
import type { Ontology } from '../model/ontology.js';
import { type AddInput, addInputSchema, type ParsedAddInput, validate } from '../model/schema.js';
import { compactScope } from '../model/scope.js';
import { contentHash, normaliseTags } from '../text/text.js';

export interface NewRecordContext {
  ontology: Ontology;
  maxContentBytes: number;
  metadataLimits: ResolvedMetadataLimits;
  now: () => number;
}

/**
 * Validates one `add` input and makes the record to write: content within the size limit, type
 * resolved by the ontology (an unknown type becomes a warning, or an error in strict mode), tags
 * normalised, content hashed, defaults filled in. `root` prefixes the fields errors name.
 */
export function newRecord(
  input: AddInput,
  root: string,
  context: NewRecordContext,
): { record: MemoryRecord; warnings: string[]; sensitive: boolean } {
  const parsed: ParsedAddInput = validate(addInputSchema, input, root);
  const field = (name: string) => (root ? `${root}.${name}` : name);
  const { maxContentBytes } = context;
  const content = parsed.content;
  if (content.trim().length === 0) throw new ValidationError([{ field: field('content'), message: 'is empty: store some text' }]);
  const bytes = Buffer.byteLength(content, 'utf8');
  if (bytes > maxContentBytes) {
    throw new ValidationError([
      {
        field: field('content'),
        message: `is ${bytes} bytes, over the ${maxContentBytes}-byte limit: split it, or raise maxContentBytes`,
      },
    ]);
  }
  const nearText = parsed.context?.trim() ? parsed.context : undefined;
  if (nearText !== undefined && Buffer.byteLength(nearText, 'utf8') > maxContentBytes) {
    throw new ValidationError([
      { field: field('context'), message: `is over the ${maxContentBytes}-byte limit: keep the nearest text only` },
    ]);
  }
  checkMetadata(parsed.metadata, field('metadata'), context.metadataLimits);
  const warnings: string[] = [];
  const resolved = context.ontology.resolve(parsed.type, field('type'));
  if (resolved.warning) warnings.push(resolved.warning);
  const now = new Date(context.now());
  const record: MemoryRecord = {
    id: uuidv7(now.getTime()),
    content,
    ...(nearText !== undefined ? { context: nearText } : {}),
    contentHash: contentHash(content),
    type: resolved.type,
    subtype: resolved.subtype,
    tags: normaliseTags(parsed.tags ?? []),
    metadata: parsed.metadata ?? {},
    scope: compactScope(parsed.scope),
    conversationId: parsed.conversationId ?? null,
    importance: parsed.importance ?? 0.5,
    quality: parsed.quality ?? null,
    accessCount: 0,
    lastAccessedAt: null,
    createdAt: parsed.createdAt ?? now,
    updatedAt: now,
    validFrom: parsed.createdAt ?? now,
    validTo: null,
    supersededBy: null,
    deletedAt: null,
    key: parsed.key ?? null,
    source: parsed.source ?? null,
    confidence: parsed.confidence ?? null,
    emotion: parsed.emotion ?? null,
    emotionalValence: parsed.emotionalValence ?? null,
    emotionalArousal: parsed.emotionalArousal ?? null,
    episodeId: parsed.episodeId ?? null,
    sequenceNumber: parsed.sequenceNumber ?? null,
    precedingMemoryId: parsed.precedingMemoryId ?? null,
    sourceType: parsed.sourceType ?? null,
    credibility: parsed.credibility ?? null,
  };
  return { record, warnings, sensitive: parsed.sensitive === true };
}
