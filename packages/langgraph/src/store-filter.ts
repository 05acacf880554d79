type Scalar = string | number | boolean | null;

const OPERATORS: Record<string, string> = {
  $eq: 'eq',
  $ne: 'ne',
  $gt: 'gt',
  $gte: 'gte',
  $lt: 'lt',
  $lte: 'lte',
  $in: 'in',
  $nin: 'nin',
};

function isScalar(value: unknown): value is Scalar {
  return value === null || ['string', 'number', 'boolean'].includes(typeof value);
}

function scalar(value: unknown, field: string): Scalar {
  if (isScalar(value)) return value;
  throw new InvalidFilterError(
    `filter.${field}: compare with a string, number, boolean or null (got ${Array.isArray(value) ? 'an array' : typeof value})`,
  );
}

/** A LangGraph store filter Engram cannot evaluate; the message names the field. */
export class InvalidFilterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidFilterError';
  }
}

/**
 * Turns a LangGraph search filter (`{ field: value }` or `{ field: { $gt: 3 } }`, fields AND-ed)
 * into Engram `where` conditions on the stored value (`value.<field>`). Numbers compare as numbers.
 */
export function filterToWhere(filter: Record<string, unknown> | undefined): Record<string, unknown> {
  const where: Record<string, unknown> = {};
  if (!filter) return where;
  for (const [field, condition] of Object.entries(filter)) {
    if (field === '' || field.includes('"')) throw new InvalidFilterError(`filter: field name "${field}" cannot be searched`);
    const path = `value.${field}`;
    const isOperators =
      condition !== null &&
      typeof condition === 'object' &&
      !Array.isArray(condition) &&
      Object.keys(condition).length > 0 &&
      Object.keys(condition).every((key) => key.startsWith('$'));
    if (!isOperators) {
      where[path] = { eq: scalar(condition, field) };
      continue;
    }
    const operators: Record<string, unknown> = {};
    for (const [operator, operand] of Object.entries(condition as Record<string, unknown>)) {
      const name = OPERATORS[operator];
      if (!name) throw new InvalidFilterError(`filter.${field}: unknown operator "${operator}" (use ${Object.keys(OPERATORS).join(', ')})`);
      if (name === 'in' || name === 'nin') {
        if (!Array.isArray(operand)) throw new InvalidFilterError(`filter.${field}.${operator}: must be an array of values`);
        operators[name] = operand.map((element, index) => scalar(element, `${field}.${operator}.${index}`));
      } else {
        operators[name] = scalar(operand, `${field}.${operator}`);
      }
    }
    where[path] = operators;
  }
  return where;
}
