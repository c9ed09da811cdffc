import type { ModelInfo } from '@anthropic-ai/sdk/resources/models';

/** One catalog entry: what `GET /v1/models` returns, plus the aliases `/v1/messages` accepts. */
export interface CatalogModel {
  readonly info: Readonly<ModelInfo>;
  readonly aliases: readonly string[];
}

/** Builds an entry; `capabilities` stay null (the type allows it) to keep the data small. */
function model(
  id: string,
  display_name: string,
  created: string,
  line: ModelInfo['line'],
  max_tokens: number,
  aliases: readonly string[],
  lifecycle: { stage: ModelInfo['lifecycle']; deprecated?: string; retires?: string } = {
    stage: 'active',
  },
): CatalogModel {
  return {
    info: {
      type: 'model',
      id,
      display_name,
      created_at: `${created}T00:00:00Z`,
      capabilities: null,
      deprecated_at:
        lifecycle.deprecated === undefined ? null : `${lifecycle.deprecated}T00:00:00Z`,
      lifecycle: lifecycle.stage,
      line,
      max_input_tokens: 200_000,
      max_tokens,
      retires_at: lifecycle.retires === undefined ? null : `${lifecycle.retires}T00:00:00Z`,
    },
    aliases,
  };
}

/**
 * The models the fake knows, newest first (the order `GET /v1/models` lists them in). Release
 * and lifecycle dates follow Anthropic's public models and deprecations pages; the fake only
 * needs them to be plausible and consistent. `max_tokens` is the per-model output ceiling
 * that `/v1/messages` enforces. Requests for ids not listed here, or retired, get a 404.
 */
export const MODEL_CATALOG: readonly CatalogModel[] = [
  model('claude-opus-4-5-20251101', 'Claude Opus 4.5', '2025-11-24', 'opus', 64_000, [
    'claude-opus-4-5',
  ]),
  model('claude-haiku-4-5-20251001', 'Claude Haiku 4.5', '2025-10-15', 'haiku', 64_000, [
    'claude-haiku-4-5',
  ]),
  model('claude-sonnet-4-5-20250929', 'Claude Sonnet 4.5', '2025-09-29', 'sonnet', 64_000, [
    'claude-sonnet-4-5',
  ]),
  model('claude-opus-4-1-20250805', 'Claude Opus 4.1', '2025-08-05', 'opus', 32_000, [
    'claude-opus-4-1',
  ]),
  model('claude-opus-4-20250514', 'Claude Opus 4', '2025-05-22', 'opus', 32_000, [
    'claude-opus-4-0',
  ]),
  model('claude-sonnet-4-20250514', 'Claude Sonnet 4', '2025-05-22', 'sonnet', 64_000, [
    'claude-sonnet-4-0',
  ]),
  model(
    'claude-3-7-sonnet-20250219',
    'Claude Sonnet 3.7',
    '2025-02-24',
    'sonnet',
    64_000,
    ['claude-3-7-sonnet-latest'],
    { stage: 'deprecated', deprecated: '2025-10-28', retires: '2026-02-19' },
  ),
  model(
    'claude-3-5-sonnet-20241022',
    'Claude Sonnet 3.5 (New)',
    '2024-10-22',
    'sonnet',
    8_192,
    ['claude-3-5-sonnet-latest'],
    { stage: 'retired', deprecated: '2025-08-13', retires: '2025-10-22' },
  ),
  model('claude-3-haiku-20240307', 'Claude Haiku 3', '2024-03-07', 'haiku', 4_096, []),
];
