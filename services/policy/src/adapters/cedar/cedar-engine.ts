import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import type { CedarRequest } from '../../domain/cedar-request.js';
import type { CompiledPolicy } from '../../domain/compile.js';
import type { CedarAnswer } from '../../domain/decide.js';

/** Maps Cedar's answer to ours; a failure to evaluate at all is an error (a deny). */
function answerOf(answer: cedar.AuthorizationAnswer): CedarAnswer {
  if (answer.type === 'failure')
    return { decision: 'deny', determining: [], errors: answer.errors.map((e) => e.message) };
  const { decision, diagnostics } = answer.response;
  return {
    decision,
    determining: diagnostics.reason,
    errors: diagnostics.errors.map((e) => `${e.policyId}: ${e.error.message}`),
  };
}

/**
 * Cedar through its WebAssembly build: a policy set is validated against its schema when saved,
 * preparsed once per org and version (replacing the previous one in one step), and evaluated
 * statefully on the hot path. Requests are evaluated with the schema: Cedar derives the action
 * groups ("gateway", "admin", "admin:read") from it, without which `action in …` never matches.
 */
export function createCedarEngine() {
  /** The preparsed schema of each loaded org (a schema depends only on the org's zone count). */
  const schemaOf = new Map<string, string>();
  return {
    /** Parse and validation errors of a compiled policy set; empty when it is valid. */
    validate(compiled: CompiledPolicy): string[] {
      const answer = cedar.validate({
        schema: compiled.schema,
        policies: { staticPolicies: compiled.policies },
        validationSettings: { mode: 'strict' },
      });
      if (answer.type === 'failure') return answer.errors.map((e) => e.message);
      return answer.validationErrors.map((e) => `${e.policyId}: ${e.error.message}`);
    },

    /** Preparses an org's policy set under the org's id, replacing the previous version. */
    load(orgId: string, compiled: CompiledPolicy): void {
      const schemaName = `fortress-zones-${compiled.zones.length}`;
      const schema = cedar.preparseSchema(schemaName, compiled.schema);
      if (schema.type === 'failure') {
        throw new Error(`schema does not parse: ${schema.errors.map((e) => e.message).join('; ')}`);
      }
      const answer = cedar.preparsePolicySet(orgId, { staticPolicies: compiled.policies });
      if (answer.type === 'failure') {
        throw new Error(
          `policy set does not parse: ${answer.errors.map((e) => e.message).join('; ')}`,
        );
      }
      schemaOf.set(orgId, schemaName);
    },

    /** Evaluates a request against the org's preparsed policy set. */
    authorize(orgId: string, request: CedarRequest): CedarAnswer {
      const schemaName = schemaOf.get(orgId);
      return answerOf(
        cedar.statefulIsAuthorized({
          principal: request.principal,
          action: request.action,
          resource: request.resource,
          context: request.context as cedar.Context,
          entities: request.entities as cedar.Entities,
          preparsedPolicySetId: orgId,
          ...(schemaName ? { preparsedSchemaName: schemaName } : {}),
        }),
      );
    },

    /** Evaluates a request against a policy set that is not loaded (Simulate). */
    authorizeOnce(compiled: CompiledPolicy, request: CedarRequest): CedarAnswer {
      return answerOf(
        cedar.isAuthorized({
          principal: request.principal,
          action: request.action,
          resource: request.resource,
          context: request.context as cedar.Context,
          entities: request.entities as cedar.Entities,
          policies: { staticPolicies: compiled.policies },
          schema: compiled.schema,
        }),
      );
    },
  };
}

/** The Cedar engine. */
export type CedarEngine = ReturnType<typeof createCedarEngine>;
