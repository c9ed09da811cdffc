import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Client } from '@connectrpc/connect';
import type { PolicyService } from '@fortress/proto/policy/v1/policy_pb';
import { canonicalModel, type PriceBook } from '@fortress/pricing/price-book';
import type { RequestFacts } from '../chain/decision-chain.js';
import { errors, sendAnthropicError } from '../http/anthropic-error.js';
import type { Admission } from './admission.js';
import { relay, type RelayDeps } from './relay.js';

const ACTION = 'pat:models.list';
/** The API's page size bounds. */
const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 1000;
/** Pages fetched from the upstream at most for one listing (the catalog is a few dozen). */
const MAX_UPSTREAM_PAGES = 10;

/** What the Models routes need. */
export interface ModelsRouteDeps extends RelayDeps {
  admission: Admission;
  policy: Client<typeof PolicyService>;
  priceBook: PriceBook;
  hopTimeoutMs: number;
  /** Response bytes kept for the archive (0: the archive is off). */
  archiveBodyBytes?: number;
}

/** A GET's exchange for the archive: no request body, the response as the client got it. */
function getExchange(response: Buffer, contentType: string, truncated = false) {
  return {
    request: Buffer.alloc(0),
    response,
    responseTruncated: truncated,
    responseContentType: contentType,
    responseContentEncoding: '',
  };
}

interface ModelInfo {
  id: string;
  [field: string]: unknown;
}

interface ModelPage {
  data: ModelInfo[];
  has_more: boolean;
  last_id: string | null;
}

/** One page of the client's view, with the API's cursor rules (after_id / before_id / limit). */
function paginate(models: ModelInfo[], query: URLSearchParams) {
  const rawLimit = query.get('limit');
  const limit = rawLimit === null ? DEFAULT_LIMIT : Number(rawLimit);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    return errors.invalidRequest(`limit: must be an integer from 1 to ${MAX_LIMIT}`);
  }
  const afterId = query.get('after_id');
  const beforeId = query.get('before_id');
  if (afterId !== null && beforeId !== null) {
    return errors.invalidRequest('after_id and before_id cannot both be set');
  }
  let candidates = models;
  const cursor = afterId ?? beforeId;
  if (cursor !== null) {
    const at = models.findIndex((m) => m.id === cursor);
    if (at < 0) return errors.invalidRequest(`unknown model '${cursor.slice(0, 100)}'`);
    candidates = afterId !== null ? models.slice(at + 1) : models.slice(0, at);
  }
  const data = beforeId !== null ? candidates.slice(-limit) : candidates.slice(0, limit);
  return {
    data,
    has_more: candidates.length > limit,
    first_id: data[0]?.id ?? null,
    last_id: data.at(-1)?.id ?? null,
  };
}

/** Reads a whole upstream response. */
async function readAll(res: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of res as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/**
 * `GET /v1/models` and `GET /v1/models/{id}`, filtered by what the caller's PAT key and role
 * may use. The listing is fetched whole from the upstream with the PAT key's credential, each
 * model is put to the policy (Explain: allowlist, role grants, conditional rules), and the
 * allowed ones are paged with the API's own cursor rules — the one response whose body
 * Fortress writes itself. A single model the caller may not use is a 404, as if it did not
 * exist; one it may use is relayed byte for byte.
 */
export function createModelsRoutes(deps: ModelsRouteDeps) {
  const { admission, logger } = deps;

  async function list(
    req: IncomingMessage,
    res: ServerResponse,
    facts: RequestFacts,
    pathWithQuery: string,
  ): Promise<void> {
    const who = await admission.authenticate(req, res, facts, ACTION);
    if (!who) return;
    req.resume();
    const query = new URLSearchParams(pathWithQuery.split('?')[1] ?? '');
    const admitted = await admission.admit(res, facts, who, ACTION, '');
    if (!admitted) return;

    const started = performance.now();
    const upstreamQuery = new URLSearchParams(query);
    for (const k of ['limit', 'after_id', 'before_id']) upstreamQuery.delete(k);
    upstreamQuery.set('limit', String(MAX_LIMIT));
    const all: ModelInfo[] = [];
    let upstreamRequestId = '';
    try {
      for (let page = 0; page < MAX_UPSTREAM_PAGES; page++) {
        const up = await deps.upstream.forward({
          method: 'GET',
          path: `/v1/models?${upstreamQuery.toString()}`,
          headers: {
            'anthropic-version': String(req.headers['anthropic-version'] ?? '2023-06-01'),
          },
          apiKey: admitted.apiKey,
          signal: AbortSignal.timeout(deps.hopTimeoutMs * 5),
        });
        upstreamRequestId = String(up.headers['request-id'] ?? '');
        const body = await readAll(up);
        if (up.statusCode !== 200) {
          // The upstream's error, as it sent it (the SDK raises the matching class).
          res.writeHead(up.statusCode ?? 502, {
            'content-type': String(up.headers['content-type'] ?? 'application/json'),
            'x-fortress-request-id': facts.requestId,
            ...(upstreamRequestId ? { 'request-id': upstreamRequestId } : {}),
          });
          res.end(body);
          admitted.finish({ statusCode: up.statusCode ?? 502, upstreamRequestId });
          return;
        }
        const parsed = JSON.parse(body.toString('utf8')) as ModelPage;
        all.push(...parsed.data);
        if (!parsed.has_more || !parsed.last_id) break;
        upstreamQuery.set('after_id', parsed.last_id);
      }
    } catch (err) {
      logger.warn({ err, requestId: facts.requestId }, 'upstream model listing failed');
      const e = errors.upstreamUnavailable();
      sendAnthropicError(res, facts.requestId, e);
      admitted.finish({ statusCode: e.status, errorType: 'upstream_unavailable' });
      return;
    }

    let allowed: Set<string>;
    try {
      const explained = await deps.policy.explain(
        {
          principal: admitted.principal,
          resourceType: 'model',
          context: {
            requestId: facts.requestId,
            clientIp: facts.clientIp,
            userAgent: facts.userAgent,
            product: facts.product,
          },
          candidates: all.map((m) => ({ type: 'model', id: m.id })),
        },
        { timeoutMs: deps.hopTimeoutMs },
      );
      allowed = new Set(
        explained.entitlements.filter((e) => e.allowed).map((e) => e.resource?.id ?? ''),
      );
    } catch (err) {
      logger.warn({ err, requestId: facts.requestId }, 'policy unavailable; failing closed');
      const e = errors.failedClosed();
      sendAnthropicError(res, facts.requestId, e);
      admitted.finish({ statusCode: e.status, errorType: 'policy_unavailable' });
      return;
    }

    const page = paginate(
      all.filter((m) => allowed.has(m.id)),
      query,
    );
    if ('status' in page) {
      sendAnthropicError(res, facts.requestId, page);
      admitted.finish({ statusCode: page.status, errorType: page.type });
      return;
    }
    const body = JSON.stringify(page);
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      'x-fortress-request-id': facts.requestId,
      ...(upstreamRequestId ? { 'request-id': upstreamRequestId } : {}),
    });
    res.end(body);
    admitted.finish({
      statusCode: 200,
      upstreamLatencyUs: Math.round((performance.now() - started) * 1000),
      upstreamRequestId,
      ...(deps.archiveBodyBytes
        ? { exchange: getExchange(Buffer.from(body), 'application/json') }
        : {}),
    });
  }

  async function retrieve(
    req: IncomingMessage,
    res: ServerResponse,
    facts: RequestFacts,
    pathWithQuery: string,
  ): Promise<void> {
    const who = await admission.authenticate(req, res, facts, ACTION);
    if (!who) return;
    req.resume();
    const segment = (pathWithQuery.split('?')[0] ?? '').slice('/v1/models/'.length);
    let requested: string;
    try {
      requested = decodeURIComponent(segment);
    } catch {
      return sendAnthropicError(res, facts.requestId, errors.invalidRequest('bad model id'));
    }
    const model = canonicalModel(deps.priceBook, requested);
    // A model the caller may not use does not exist for them: 404, not 403 (the decision is
    // still audited).
    const admitted = await admission.admit(res, facts, who, ACTION, model, undefined, (d) =>
      d.kind === 'policy_denied' ? errors.modelNotFound(requested) : undefined,
    );
    if (!admitted) return;
    await relay(
      deps,
      req,
      res,
      facts,
      {
        method: 'GET',
        path: `/v1/models/${encodeURIComponent(requested)}`,
        apiKey: admitted.apiKey,
        collectBytes: deps.archiveBodyBytes ?? 0,
      },
      ({ tapped: _ignored, response, ...end }) =>
        admitted.finish({
          ...end,
          ...(response
            ? {
                exchange: {
                  ...getExchange(response.body, response.contentType, response.truncated),
                  responseContentEncoding: response.contentEncoding,
                },
              }
            : {}),
        }),
    );
  }

  return { list, retrieve };
}
