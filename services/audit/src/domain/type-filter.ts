import { InvalidArgumentError } from '@fortress/kit/errors';
import { clip } from '@fortress/kit/validate';

/**
 * Validates a list of event types against the `known` ones: each known, each once, sorted.
 * Webhook filters and alert types share it; empty means every type to both.
 */
export function typeFilter<T extends string>(
  field: string,
  types: readonly string[],
  known: readonly T[],
): T[] {
  const out = new Set<T>();
  for (const t of types) {
    if (!(known as readonly string[]).includes(t))
      throw new InvalidArgumentError(
        field,
        `${field} has "${clip(t)}", which is not one of ${known.join(', ')}`,
      );
    out.add(t as T);
  }
  return [...out].sort();
}
