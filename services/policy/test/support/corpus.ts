import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { create, type JsonValue } from '@bufbuild/protobuf';
import { PrincipalKind, PrincipalSchema } from '@fortress/proto/common/v1/common_pb';
import { productFromName } from '@fortress/kit/enum-names';
import type { DecisionInput } from '../../src/domain/cedar-request.js';
import { EMPTY_MODEL, type OrgModel, type ResourceType } from '../../src/domain/model.js';

/** A reason as the corpus states it (order does not matter). */
export interface ExpectedReason {
  code: string;
  ruleId: string;
}

/** One request of a corpus file and the decision it must get. */
export interface CorpusRequest {
  name: string;
  input: DecisionInput;
  decision: 'allow' | 'deny';
  reasons: ExpectedReason[];
  /** On allow: the clamp the PAT key imposes (0 when none). */
  maxTokensClamp: number;
}

/** A model the admin-side validation must refuse, naming `field` (or, by: cedar, the validator). */
export interface CorpusRefusal {
  name: string;
  /** A PolicyModel in protobuf JSON. */
  model: JsonValue;
  field: string;
  by: 'admin' | 'cedar';
}

/** One corpus file: an org model with requests against it, and models that must be refused. */
export interface CorpusFile {
  file: string;
  description: string;
  model: OrgModel;
  requests: CorpusRequest[];
  refused: CorpusRefusal[];
}

/** A request in the corpus's JSON. */
interface RawRequest {
  name: string;
  principal: {
    kind?: 'admin' | 'user' | 'org_key';
    roles?: string[];
    products?: string[];
    patKeyId?: string;
    attributes?: Record<string, string>;
  };
  action: string;
  resource: { type: ResourceType; id?: string; destructive?: boolean };
  clientIp?: string;
  now?: string;
  maxTokens?: number;
  decision: 'allow' | 'deny';
  reasons: ExpectedReason[];
  maxTokensClamp?: number;
}

const CORPUS_DIR = fileURLToPath(new URL('../corpus', import.meta.url));
const KINDS = {
  admin: PrincipalKind.ADMIN,
  user: PrincipalKind.USER,
  org_key: PrincipalKind.ORG_KEY,
};
/** A Wednesday noon, when no time is given. */
const DEFAULT_NOW = '2026-06-03T12:00:00Z';

function need(ok: boolean, where: string, what: string): void {
  if (!ok) throw new Error(`${where}: ${what}`);
}

function parseRequest(r: RawRequest, where: string): CorpusRequest {
  need(
    typeof r.name === 'string' && typeof r.action === 'string',
    where,
    'a request needs a name and an action',
  );
  need(
    r.decision === 'allow' || r.decision === 'deny',
    `${where} "${r.name}"`,
    'decision must be allow or deny',
  );
  need(
    Array.isArray(r.reasons) && r.reasons.length > 0,
    `${where} "${r.name}"`,
    'reasons must list at least one reason',
  );
  const now = new Date(r.now ?? DEFAULT_NOW);
  need(!Number.isNaN(now.getTime()), `${where} "${r.name}"`, 'now must be an ISO instant');
  const p = r.principal;
  return {
    name: r.name,
    input: {
      principal: create(PrincipalSchema, {
        orgId: 'org_corpus',
        subjectId: 'usr_corpus',
        kind: KINDS[p.kind ?? 'user'],
        roles: p.roles ?? [],
        products: (p.products ?? []).map(productFromName),
        patKeyId: p.patKeyId ?? '',
        attributes: p.attributes ?? {},
      }),
      action: r.action,
      resourceType: r.resource.type,
      resourceId: r.resource.id ?? '',
      destructive: r.resource.destructive ?? false,
      clientIp: r.clientIp ?? '10.0.0.1',
      maxTokens: r.maxTokens ?? 0,
      now,
    },
    decision: r.decision,
    reasons: r.reasons.map(({ code, ruleId }) => ({ code, ruleId })),
    maxTokensClamp: r.maxTokensClamp ?? 0,
  };
}

/** Reads every `corpus/*.json`, failing loudly on a malformed file. */
export function readCorpus(): CorpusFile[] {
  return readdirSync(CORPUS_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const where = basename(f);
      const raw = JSON.parse(readFileSync(join(CORPUS_DIR, f), 'utf8')) as {
        description?: string;
        model?: Partial<OrgModel>;
        requests?: RawRequest[];
        refused?: Array<Omit<CorpusRefusal, 'by'> & { by?: 'cedar' }>;
      };
      need(typeof raw.description === 'string', where, 'needs a description');
      need(
        (raw.requests?.length ?? 0) + (raw.refused?.length ?? 0) > 0,
        where,
        'needs requests or refused models',
      );
      return {
        file: where.replace(/\.json$/, ''),
        description: raw.description ?? '',
        model: { ...EMPTY_MODEL, ...raw.model },
        requests: (raw.requests ?? []).map((r) => parseRequest(r, where)),
        refused: (raw.refused ?? []).map((r) => ({ ...r, by: r.by ?? 'admin' })),
      };
    });
}

/** Reasons as a sorted list of "code ruleId", for order-insensitive comparison. */
export function reasonSet(reasons: ExpectedReason[]): string[] {
  return reasons.map((r) => `${r.code} ${r.ruleId}`).sort();
}
