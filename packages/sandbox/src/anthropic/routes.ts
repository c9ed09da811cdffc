import type { IncomingHttpHeaders } from 'node:http';
import { AUTHENTICATION_FAILURE, failure, invalidRequest, notFound } from './errors.js';
import { sendFailure, sendJson } from './http-io.js';
import { handleCountTokens, handleMessages } from './messages-route.js';
import { listModels, retrieveModel } from './models.js';
import type { RouteContext } from './route-context.js';

const METHOD_NOT_ALLOWED = failure(405, 'invalid_request_error', 'Method Not Allowed');
const MODELS_PREFIX = '/v1/models/';

/**
 * Dispatches one request: authentication first (x-api-key or Authorization: Bearer), then the
 * required `anthropic-version` header, then the route. Unknown paths get the API's 404.
 */
export async function route(ctx: RouteContext): Promise<void> {
  const { req, res, reply, path } = ctx;
  const apiKey = apiKeyOf(req.headers);
  if (apiKey === undefined || !ctx.state.apiKeys.has(apiKey)) {
    return sendFailure(res, AUTHENTICATION_FAILURE, reply);
  }
  if (!req.headers['anthropic-version']) {
    return sendFailure(res, invalidRequest('anthropic-version: header is required'), reply);
  }

  const method = req.method ?? 'GET';
  if (path === '/v1/messages') {
    return method === 'POST'
      ? handleMessages(ctx, apiKey)
      : sendFailure(res, METHOD_NOT_ALLOWED, reply);
  }
  if (path === '/v1/messages/count_tokens') {
    return method === 'POST' ? handleCountTokens(ctx) : sendFailure(res, METHOD_NOT_ALLOWED, reply);
  }
  if (path === '/v1/models') {
    if (method !== 'GET') return sendFailure(res, METHOD_NOT_ALLOWED, reply);
    const page = listModels(new URLSearchParams(ctx.query));
    return page.ok ? sendJson(res, 200, page.value, reply) : sendFailure(res, page.failure, reply);
  }
  if (path.startsWith(MODELS_PREFIX) && !path.slice(MODELS_PREFIX.length).includes('/')) {
    if (method !== 'GET') return sendFailure(res, METHOD_NOT_ALLOWED, reply);
    const model = retrieveModel(decodeSegment(path.slice(MODELS_PREFIX.length)));
    return model.ok
      ? sendJson(res, 200, model.value, reply)
      : sendFailure(res, model.failure, reply);
  }
  return sendFailure(res, notFound('Not Found'), reply);
}

/** The key a client authenticated with: `x-api-key`, else an `Authorization: Bearer` token. */
export function apiKeyOf(headers: IncomingHttpHeaders): string | undefined {
  const header = headers['x-api-key'];
  if (typeof header === 'string' && header !== '') return header;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '');
  return match?.[1];
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
