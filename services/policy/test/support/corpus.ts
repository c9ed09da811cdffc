import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Effect, RoleModel } from '../../src/domain/model.js';

/** One request of a corpus file and what the decision must be. */
export interface CorpusRequest {
  name: string;
  principal: { roles: string[]; products: string[]; patKeyId: string };
  action: string;
  resourceType: string;
  model: string;
  decision: 'allow' | 'deny';
  reasons: Array<{ code: string; ruleId: string }>;
}

/** One corpus file: an org's roles and requests against them. */
export interface CorpusCase {
  file: string;
  description: string;
  roles: RoleModel[];
  requests: CorpusRequest[];
}

const CORPUS_DIR = fileURLToPath(new URL('../corpus', import.meta.url));

type Json = Record<string, unknown>;

function field<T>(obj: Json, key: string, check: (v: unknown) => v is T, where: string): T {
  const v = obj[key];
  if (!check(v)) throw new Error(`${where}: "${key}" is missing or has the wrong type`);
  return v;
}
const isString = (v: unknown): v is string => typeof v === 'string';
const isObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isArray = (v: unknown): v is unknown[] => Array.isArray(v);
const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every(isString);
const isEffect = (v: unknown): v is Effect => v === 'allow' || v === 'deny';
const isDecision = (v: unknown): v is 'allow' | 'deny' => v === 'allow' || v === 'deny';

function parseRole(v: unknown, where: string): RoleModel {
  if (!isObject(v)) throw new Error(`${where}: a role must be an object`);
  return {
    name: field(v, 'name', isString, where),
    description: isString(v['description']) ? v['description'] : '',
    grants: field(v, 'grants', isArray, where).map((g, i) => {
      if (!isObject(g)) throw new Error(`${where}: grant ${i} must be an object`);
      if (g['resourceType'] !== 'model')
        throw new Error(`${where}: grant ${i} must be for a model`);
      return {
        resourceType: 'model',
        resourceId: field(g, 'resourceId', isString, where),
        effect: field(g, 'effect', isEffect, where),
      };
    }),
  };
}

function parseRequest(v: unknown, where: string): CorpusRequest {
  if (!isObject(v)) throw new Error(`${where}: a request must be an object`);
  const principal = field(v, 'principal', isObject, where);
  return {
    name: field(v, 'name', isString, where),
    principal: {
      roles: field(principal, 'roles', isStrings, where),
      products: field(principal, 'products', isStrings, where),
      patKeyId: field(principal, 'patKeyId', isString, where),
    },
    action: field(v, 'action', isString, where),
    resourceType: isString(v['resourceType']) ? v['resourceType'] : 'model',
    model: field(v, 'model', isString, where),
    decision: field(v, 'decision', isDecision, where),
    reasons: field(v, 'reasons', isArray, where).map((r) => {
      if (!isObject(r)) throw new Error(`${where}: a reason must be an object`);
      return {
        code: field(r, 'code', isString, where),
        ruleId: field(r, 'ruleId', isString, where),
      };
    }),
  };
}

/** Reads every `corpus/*.json`, failing loudly on a malformed file. */
export function readCorpus(): CorpusCase[] {
  return readdirSync(CORPUS_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const where = basename(f);
      const raw: unknown = JSON.parse(readFileSync(join(CORPUS_DIR, f), 'utf8'));
      if (!isObject(raw)) throw new Error(`${where}: must be a JSON object`);
      return {
        file: where.replace(/\.json$/, ''),
        description: field(raw, 'description', isString, where),
        roles: field(raw, 'roles', isArray, where).map((r) => parseRole(r, where)),
        requests: field(raw, 'requests', isArray, where).map((r) => parseRequest(r, where)),
      };
    });
}
