import type { TextMapGetter, TextMapSetter } from '@opentelemetry/api';

/** Reads W3C trace context from fetch-style Headers. */
export const headersGetter: TextMapGetter<Headers> = {
  get: (carrier, key) => carrier.get(key) ?? undefined,
  keys: (carrier) => [...carrier.keys()],
};

/** Writes W3C trace context into fetch-style Headers. */
export const headersSetter: TextMapSetter<Headers> = {
  set: (carrier, key, value) => carrier.set(key, value),
};
