import { createHash } from 'node:crypto';

const SIGNATURE_SALT = 'fortress-sandbox-thinking:';
const SIGNATURE_SHAPE = /^[A-Za-z0-9+/]{86}==$/;

/** The deterministic "reasoning" the fake shows for a prompt summary. */
export function thinkingText(summary: string): string {
  return `The user wrote "${summary}". I should answer briefly, restate what they asked and not invent facts.`;
}

/**
 * The signature of a thinking block: opaque base64 like the real one, but derived from the
 * thinking text so the fake can check that clients pass thinking blocks back unmodified.
 */
export function signThinking(thinking: string): string {
  return createHash('sha512').update(SIGNATURE_SALT).update(thinking).digest('base64');
}

/**
 * Whether a thinking block sent back by a client is one the fake produced. An empty `thinking`
 * (display `omitted`) can only be checked for shape, since its text was never shown.
 */
export function isValidSignature(thinking: string, signature: string): boolean {
  if (thinking === '') return SIGNATURE_SHAPE.test(signature);
  return signature === signThinking(thinking);
}
