/**
 * Renders a request template (types.ts `RequestTemplate`) into a URL and body. Path values are
 * encoded as single segments and dot segments are refused, so an argument can never walk the
 * path out of the endpoint it was meant for.
 */
import type { RequestInputs, RequestSpec, RequestTemplate } from './types.js';

/** A request ready to send (no credentials yet). */
export interface RenderedRequest {
  method: RequestTemplate['method'];
  url: URL;
  body?: string;
  contentType?: string;
}

/** A rendering result: the request, or why the arguments cannot make one. */
export type RenderResult = { ok: true; request: RenderedRequest } | { ok: false; error: string };

const PLACEHOLDER = /^\{([A-Za-z0-9_.]+)\}$/;
const PATH_PLACEHOLDER = /\{([A-Za-z0-9_.]+)\}/g;

/** The template a request spec gives for these inputs. */
export function templateOf(spec: RequestSpec, inputs: RequestInputs): RequestTemplate {
  return typeof spec === 'function' ? spec(inputs) : spec;
}

/** Looks up `name` or `settings.name` among the inputs. */
function lookup(
  name: string,
  values: Readonly<Record<string, unknown>>,
  settings: Readonly<Record<string, string>>,
): unknown {
  if (name.startsWith('settings.')) return settings[name.slice('settings.'.length)];
  return values[name];
}

/** A scalar or array value written as a query or path string; `undefined` when absent. */
function scalarText(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value)) return value.map((v) => String(v)).join(',');
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** Joins the instance base URL (which may carry a path prefix) and an endpoint path. */
export function joinUrl(baseUrl: string, path: string): URL {
  const base = new URL(baseUrl);
  return new URL(`${base.origin}${base.pathname.replace(/\/+$/, '')}${path}`);
}

/** Renders the path, query and body of a template against the inputs. */
export function renderRequest(
  template: RequestTemplate,
  inputs: RequestInputs,
  baseUrl: string,
): RenderResult {
  const values = { ...inputs.args, ...template.values };
  let missing: string | undefined;
  const path = template.path.replace(PATH_PLACEHOLDER, (_match, name: string) => {
    const value = scalarText(lookup(name, values, inputs.settings));
    if (value === undefined || value === '' || value === '.' || value === '..') {
      missing ??= name;
      return '';
    }
    return encodeURIComponent(value);
  });
  if (missing !== undefined) return { ok: false, error: `"${missing}" is not a usable path value` };

  const url = joinUrl(baseUrl, path);
  for (const [param, raw] of Object.entries(template.query ?? {})) {
    const placeholder = PLACEHOLDER.exec(raw);
    const value = placeholder
      ? scalarText(lookup(placeholder[1] ?? '', values, inputs.settings))
      : raw;
    if (value !== undefined) url.searchParams.append(param, value);
  }

  const request: RenderedRequest = { method: template.method, url };
  if (template.body !== undefined) {
    const body = renderBody(template.body, values, inputs.settings).value ?? {};
    if (template.bodyEncoding === 'form') {
      const form = new URLSearchParams();
      for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
        const text = scalarText(value);
        if (text !== undefined) form.append(key, text);
      }
      request.body = form.toString();
      request.contentType = 'application/x-www-form-urlencoded';
    } else {
      request.body = JSON.stringify(body);
      request.contentType = 'application/json; charset=utf-8';
    }
  }
  return { ok: true, request };
}

/** A rendered body node and how many placeholders it held and how many were filled. */
interface Rendered {
  value: unknown;
  placeholders: number;
  filled: number;
}

/**
 * Renders a JSON body template: a string that is exactly `{name}` becomes that value (any
 * type); other strings are literal. An object or array holding placeholders none of which were
 * filled is dropped, so `{ comment: { body: '{comment}', public: true } }` sends no comment
 * when the `comment` argument is absent.
 */
export function renderBody(
  node: unknown,
  values: Readonly<Record<string, unknown>>,
  settings: Readonly<Record<string, string>>,
): Rendered {
  if (typeof node === 'string') {
    const placeholder = PLACEHOLDER.exec(node);
    if (!placeholder) return { value: node, placeholders: 0, filled: 0 };
    const value = lookup(placeholder[1] ?? '', values, settings);
    return { value, placeholders: 1, filled: value === undefined ? 0 : 1 };
  }
  if (Array.isArray(node)) {
    const parts = node.map((item) => renderBody(item, values, settings));
    return collect(
      parts,
      parts.map((p) => p.value).filter((v) => v !== undefined),
    );
  }
  if (typeof node === 'object' && node !== null) {
    const entries = Object.entries(node).map(
      ([key, item]) => [key, renderBody(item, values, settings)] as const,
    );
    const out: Record<string, unknown> = {};
    for (const [key, part] of entries) if (part.value !== undefined) out[key] = part.value;
    return collect(
      entries.map(([, part]) => part),
      out,
    );
  }
  return { value: node, placeholders: 0, filled: 0 };
}

function collect(parts: readonly Rendered[], value: unknown): Rendered {
  const placeholders = parts.reduce((n, p) => n + p.placeholders, 0);
  const filled = parts.reduce((n, p) => n + p.filled, 0);
  return { value: placeholders > 0 && filled === 0 ? undefined : value, placeholders, filled };
}
