/**
 * The prompts of the two calls. Kept in one file so docs/intelligence.md can quote them and an
 * application can read them (they are exported).
 */

/** The ontology as the model sees it: `type: subtype, subtype…` per line. */
export function describeTypes(types: Record<string, readonly string[]>): string {
  return Object.entries(types)
    .map(([type, subtypes]) => `- ${type}${subtypes.length > 0 ? `: ${subtypes.join(', ')}` : ''}`)
    .join('\n');
}

export function extractionPrompt(options: {
  types: Record<string, readonly string[]>;
  today: string;
  instructions?: string | undefined;
}): string {
  return [
    'You extract long-term memories from a conversation between a user and an AI assistant.',
    'Return the atomic facts worth remembering in later conversations: preferences, decisions and',
    'their reasons, facts about the user, their projects and environment, problems and how they were',
    'fixed, lessons learned. Each fact stands alone (name the subject; "The user prefers…"), is one',
    'sentence, and keeps concrete names, versions, paths and numbers. Resolve relative dates against',
    `today (${options.today}). Skip greetings, small talk, questions without answers, the assistant's`,
    'own suggestions the user did not accept, and anything that is only true for this conversation.',
    'Never invent facts. Nothing worth remembering: return {"facts": []}.',
    '',
    'Give each fact a type or subtype from this ontology (a fix is a learning, a bug an error/bug):',
    describeTypes(options.types),
    ...(options.instructions ? ['', 'Instructions from the application:', options.instructions] : []),
  ].join('\n');
}

export function reconcilePrompt(options: { instructions?: string | undefined }): string {
  return [
    'You keep a long-term memory consistent. You get NEW FACTS (numbered from 0) and EXISTING',
    'MEMORIES (aliases m1, m2…). For every new fact, give exactly one operation:',
    '- "add": the fact is new information; target null.',
    '- "update": the fact refines or completes an existing memory that stays true (same subject,',
    '  more detail); target its alias and give the merged content, one sentence.',
    '- "supersede": the fact contradicts or replaces an existing memory that is no longer true',
    '  (a changed preference, a reverted decision, a new version); target its alias.',
    '- "none": an existing memory already says the same; target its alias.',
    'Use only the aliases listed. Give a short reason for each operation.',
    ...(options.instructions ? ['', 'Instructions from the application:', options.instructions] : []),
  ].join('\n');
}
