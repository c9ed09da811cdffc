import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { CEDAR_SCHEMA } from '../../domain/compile.js';

/** A Cedar authorization request in our entity model. */
export interface CedarRequest {
  subjectId: string;
  roles: string[];
  action: string;
  model: string;
}

/** Cedar's answer: the decision, the policy ids that determined it, and any errors. */
export interface CedarAnswer {
  decision: 'allow' | 'deny';
  determining: string[];
  errors: string[];
}

const PRINCIPAL = 'Fortress::Principal';

/**
 * Cedar through its WebAssembly build: policy sets are validated against the schema when
 * saved, preparsed once per org and version, and evaluated statefully on the hot path.
 */
export function createCedarEngine() {
  const loaded = new Map<string, number>();
  return {
    /** Validation errors of a policy set against the schema; empty when it is valid. */
    validate(policies: Record<string, string>): string[] {
      const answer = cedar.validate({
        schema: CEDAR_SCHEMA,
        policies: { staticPolicies: policies },
        validationSettings: { mode: 'strict' },
      });
      if (answer.type === 'failure') return answer.errors.map((e) => e.message);
      return answer.validationErrors.map((e) => `${e.policyId}: ${e.error.message}`);
    },

    /** Preparses an org's policy set, replacing the previous version atomically. */
    load(orgId: string, version: number, policies: Record<string, string>): void {
      const answer = cedar.preparsePolicySet(orgId, { staticPolicies: policies });
      if (answer.type === 'failure') {
        throw new Error(
          `policy set does not parse: ${answer.errors.map((e) => e.message).join('; ')}`,
        );
      }
      loaded.set(orgId, version);
    },

    /** The version loaded for an org, if any. */
    loadedVersion(orgId: string): number | undefined {
      return loaded.get(orgId);
    },

    /** Evaluates one request against the org's loaded policy set. */
    authorize(orgId: string, request: CedarRequest): CedarAnswer {
      const principal = { type: PRINCIPAL, id: request.subjectId };
      const answer = cedar.statefulIsAuthorized({
        principal,
        action: { type: 'Fortress::Action', id: request.action },
        resource: { type: 'Fortress::Model', id: request.model },
        context: {},
        preparsedPolicySetId: orgId,
        entities: [
          {
            uid: principal,
            attrs: {},
            parents: request.roles.map((id) => ({ type: 'Fortress::Role', id })),
          },
        ],
      });
      if (answer.type === 'failure') {
        return { decision: 'deny', determining: [], errors: answer.errors.map((e) => e.message) };
      }
      const { decision, diagnostics } = answer.response;
      return {
        decision,
        determining: diagnostics.reason,
        errors: diagnostics.errors.map((e) => `${e.policyId}: ${e.error.message}`),
      };
    },
  };
}

/** The Cedar engine. */
export type CedarEngine = ReturnType<typeof createCedarEngine>;
