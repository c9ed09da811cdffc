import type { ModelInfo } from '@anthropic-ai/sdk/resources/models';
import { MODEL_CATALOG, type CatalogModel } from './model-catalog.js';
import { fail, notFound, ok, rejectInvalid, type Result } from './errors.js';

/** One page of `GET /v1/models`, in the wire shape the SDK's `Page` reads. */
export interface ModelPage {
  data: ModelInfo[];
  has_more: boolean;
  first_id: string | null;
  last_id: string | null;
}

type Lifecycle = ModelInfo['lifecycle'];

const BY_NAME = new Map<string, { entry: CatalogModel; position: number }>();
MODEL_CATALOG.forEach((entry, position) => {
  for (const name of [entry.info.id, ...entry.aliases]) BY_NAME.set(name, { entry, position });
});

const LIFECYCLES: readonly Lifecycle[] = ['active', 'deprecated', 'retired'];
const DEFAULT_LIFECYCLES: readonly Lifecycle[] = ['active', 'deprecated'];
const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 1000;

/** A model `/v1/messages` may call: known by id or alias and not retired; else the API's 404. */
export function usableModel(name: string): Result<CatalogModel> {
  const found = BY_NAME.get(name);
  if (found === undefined || found.entry.info.lifecycle === 'retired') {
    return fail(notFound(`model: ${name}`));
  }
  return ok(found.entry);
}

/** `GET /v1/models/{id}`: any catalog model by id or alias, retired ones included. */
export function retrieveModel(name: string): Result<ModelInfo> {
  const found = BY_NAME.get(name);
  return found === undefined ? fail(notFound(`model: ${name}`)) : ok({ ...found.entry.info });
}

/** `GET /v1/models`: newest first, filtered by `lifecycle`, paged by `limit`/`after_id`/`before_id`. */
export function listModels(query: URLSearchParams): Result<ModelPage> {
  const limit = parseLimit(query.get('limit'));
  if (!limit.ok) return fail(limit.failure);
  const lifecycles = parseLifecycles([
    ...query.getAll('lifecycle[]'),
    ...query.getAll('lifecycle'),
  ]);
  if (!lifecycles.ok) return fail(lifecycles.failure);
  const afterId = query.get('after_id');
  const beforeId = query.get('before_id');
  if (afterId !== null && beforeId !== null) {
    return rejectInvalid('after_id and before_id cannot both be set');
  }

  const cursorName = afterId ?? beforeId;
  let cursor = -1;
  if (cursorName !== null) {
    const found = BY_NAME.get(cursorName);
    if (found === undefined) {
      return rejectInvalid(
        `${afterId !== null ? 'after_id' : 'before_id'}: unknown model '${cursorName}'`,
      );
    }
    cursor = found.position;
  }

  const candidates = MODEL_CATALOG.map((entry, position) => ({ entry, position })).filter(
    ({ entry, position }) =>
      lifecycles.value.includes(entry.info.lifecycle) &&
      (afterId === null || position > cursor) &&
      (beforeId === null || position < cursor),
  );
  // before_id pages backwards: the `limit` models just before the cursor.
  const page =
    beforeId !== null ? candidates.slice(-limit.value) : candidates.slice(0, limit.value);
  const data = page.map(({ entry }) => ({ ...entry.info }));
  return ok({
    data,
    has_more: candidates.length > limit.value,
    first_id: data[0]?.id ?? null,
    last_id: data.at(-1)?.id ?? null,
  });
}

function parseLimit(raw: string | null): Result<number> {
  if (raw === null) return ok(DEFAULT_LIMIT);
  if (!/^-?\d+$/.test(raw)) {
    return rejectInvalid(`limit: Input should be a valid integer, got '${raw}'`);
  }
  const limit = Number(raw);
  if (limit < 1) return rejectInvalid('limit: Input should be greater than or equal to 1');
  if (limit > MAX_LIMIT) {
    return rejectInvalid(`limit: Input should be less than or equal to ${MAX_LIMIT}`);
  }
  return ok(limit);
}

function parseLifecycles(raw: readonly string[]): Result<readonly Lifecycle[]> {
  if (raw.length === 0) return ok(DEFAULT_LIFECYCLES);
  const out: Lifecycle[] = [];
  for (const value of raw) {
    const stage = LIFECYCLES.find((l) => l === value);
    if (stage === undefined) {
      return rejectInvalid(
        `lifecycle: Input should be 'active', 'deprecated' or 'retired', got '${value}'`,
      );
    }
    out.push(stage);
  }
  return ok(out);
}
