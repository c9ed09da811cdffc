/** A JSON object from a request body, not yet interpreted. */
export type JsonObject = { readonly [key: string]: unknown };

/** A content block as the client sent it: an object with a string `type`. */
export type Block = JsonObject & { readonly type: string };

/** One entry of `messages` (the SDK also allows `system` turns). */
export interface WireMessage {
  readonly role: 'user' | 'assistant' | 'system';
  readonly content: string | readonly Block[];
}

/** Whether a value is a plain JSON object. */
export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
