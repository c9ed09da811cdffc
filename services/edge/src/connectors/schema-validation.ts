/**
 * JSON Schema validation of tool arguments and results with Ajv (draft-07), each schema
 * compiled once and kept beside its tool definition.
 */
import Ajv from 'ajv';
import type { ConnectorDefinition, ToolDefinition } from './types.js';

/** A validation verdict with readable errors. */
export type Validation = { ok: true } | { ok: false; errors: string[] };

type Validator = ReturnType<Ajv.Ajv['compile']>;

interface Compiled {
  /** Checks arguments without touching them. */
  input: Validator;
  /** Checks arguments and fills in schema defaults (on a copy the executor owns). */
  inputWithDefaults: Validator;
  output: Validator;
}

const strict = new Ajv({ allErrors: true, jsonPointers: true });
const defaulting = new Ajv({ allErrors: true, jsonPointers: true, useDefaults: true });
const compiled = new WeakMap<ToolDefinition, Compiled>();

function compiledFor(tool: ToolDefinition): Compiled {
  let entry = compiled.get(tool);
  if (entry === undefined) {
    entry = {
      input: strict.compile(tool.inputSchema),
      inputWithDefaults: defaulting.compile(tool.inputSchema),
      output: strict.compile(tool.outputSchema),
    };
    compiled.set(tool, entry);
  }
  return entry;
}

/** Ajv's errors as `"/path" message` lines (the root is `"/"`). */
function describe(validator: Validator): string[] {
  return (validator.errors ?? []).map((error) => {
    const at = error.dataPath === '' ? '/' : error.dataPath;
    const params = error.params as Record<string, unknown>;
    if (error.keyword === 'additionalProperties') {
      return `"${at}" has an unknown property "${String(params['additionalProperty'])}"`;
    }
    if (error.keyword === 'required') {
      return `"${at}" is missing the property "${String(params['missingProperty'])}"`;
    }
    if (error.keyword === 'enum') {
      const allowed = (params['allowedValues'] as unknown[]).map((v) => String(v)).join(', ');
      return `"${at}" must be one of: ${allowed}`;
    }
    return `"${at}" ${error.message ?? 'is invalid'}`;
  });
}

/** The tool of a connector by action name. */
export function toolOf(def: ConnectorDefinition, action: string): ToolDefinition | undefined {
  return def.tools.find((tool) => tool.action === action);
}

/** Validates a tool call's arguments against the tool's input schema. */
export function validateToolArguments(
  def: ConnectorDefinition,
  action: string,
  args: Record<string, unknown>,
): Validation {
  const tool = toolOf(def, action);
  if (tool === undefined)
    return { ok: false, errors: [`unknown action "${action}" for ${def.type}`] };
  const { input } = compiledFor(tool);
  return input(args) ? { ok: true } : { ok: false, errors: describe(input) };
}

/** Validates and returns a copy of the arguments with the schema's defaults filled in. */
export function argumentsWithDefaults(
  tool: ToolDefinition,
  args: Record<string, unknown>,
): { ok: true; args: Record<string, unknown> } | { ok: false; errors: string[] } {
  const copy = structuredClone(args);
  const { inputWithDefaults } = compiledFor(tool);
  return inputWithDefaults(copy)
    ? { ok: true, args: copy }
    : { ok: false, errors: describe(inputWithDefaults) };
}

/** Validates a tool's structured result against its output schema. */
export function validateToolResult(tool: ToolDefinition, result: unknown): Validation {
  const { output } = compiledFor(tool);
  return output(result) ? { ok: true } : { ok: false, errors: describe(output) };
}
