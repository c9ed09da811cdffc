/**
 * Helpers of the connector tests: credentials and instances as the vault and gateway would
 * hand them over, outcome assertions, and an independent output-schema check.
 */
import assert from 'node:assert/strict';
import Ajv from 'ajv';
import { connectorDefinition } from '../../src/connectors/catalog/index.js';
import type {
  ConnectorInstance,
  CredentialKind,
  CredentialMaterial,
  ToolOutcome,
} from '../../src/connectors/types.js';

const encoder = new TextEncoder();

/** Credential material of a kind, from text. */
export function credential(
  kind: CredentialKind,
  secret: string,
  fields: Record<string, string> = {},
): CredentialMaterial {
  return {
    kind,
    secret: encoder.encode(secret),
    fields: Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, encoder.encode(v)])),
  };
}

/** A credential field as text. */
export function field(material: CredentialMaterial, name: string): string | undefined {
  const value = material.fields[name];
  return value === undefined ? undefined : new TextDecoder().decode(value);
}

/** A credential's secret as text. */
export function secretOf(material: CredentialMaterial): string {
  return new TextDecoder().decode(material.secret);
}

/** A connector instance. */
export function instance(
  type: string,
  baseUrl: string,
  settings: Record<string, string> = {},
): ConnectorInstance {
  return { id: `${type}-test`, type, baseUrl, settings };
}

/** A signal that ends a hung test call instead of the mocha timeout. */
export function deadline(): AbortSignal {
  return AbortSignal.timeout(10_000);
}

/** An outcome as text for assertion messages, without the refreshed credential's bytes. */
function shown(outcome: ToolOutcome): string {
  const { refreshedCredential, ...rest } = outcome;
  return JSON.stringify({ ...rest, refreshed: refreshedCredential !== undefined });
}

/** The structured result of an outcome that must be a result. */
export function resultOf(outcome: ToolOutcome): Record<string, unknown> {
  assert.equal(outcome.kind, 'result', `expected a result, got ${shown(outcome)}`);
  if (outcome.kind !== 'result') throw new Error('unreachable');
  assert.deepEqual(JSON.parse(outcome.text), outcome.structuredContent);
  return outcome.structuredContent;
}

/** The outcome narrowed to a business error. */
export function businessErrorOf(outcome: ToolOutcome): { status: number; message: string } {
  assert.equal(outcome.kind, 'business_error', `expected a business error, got ${shown(outcome)}`);
  if (outcome.kind !== 'business_error') throw new Error('unreachable');
  return outcome;
}

/** The reason of an outcome that must be `unavailable`. */
export function unavailableReason(outcome: ToolOutcome): string {
  assert.equal(outcome.kind, 'unavailable', `expected unavailable, got ${shown(outcome)}`);
  if (outcome.kind !== 'unavailable') throw new Error('unreachable');
  return outcome.reason;
}

const independent = new Ajv({ allErrors: true });

/** Asserts a result against the tool's output schema with a validator of the test's own. */
export function assertMatchesOutputSchema(type: string, action: string, result: unknown): void {
  const tool = connectorDefinition(type)?.tools.find((t) => t.action === action);
  assert.ok(tool, `${type}__${action} exists`);
  const validate = independent.compile(tool.outputSchema);
  assert.ok(
    validate(result),
    `${type}__${action} output: ${independent.errorsText(validate.errors)}`,
  );
}

/**
 * Masks strings the way a PII redactor would (emails, then digit runs such as phones, SSNs
 * and card numbers), so a test can prove a redacted result still fits the output schema.
 */
export function maskPii<T>(value: T): T {
  const mask = (v: unknown): unknown => {
    if (typeof v === 'string') {
      return v
        .replace(/[\w.+-]+@[\w-]+(\.[\w-]+)+/g, '████@████.███')
        .replace(/\+?\d[\d ().-]{6,}\d/g, (m) => '█'.repeat(m.length));
    }
    if (Array.isArray(v)) return v.map(mask);
    if (typeof v === 'object' && v !== null)
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, mask(x)]));
    return v;
  };
  return mask(value) as T;
}
