/**
 * The shape of bench/results.json (written by `npm run bench`, and by the smoke run into bench/out/). The summary is
 * what the README table and CI's smoke test read; each benchmark's own section keeps all its detail.
 */
import { z } from 'zod';

export const BenchmarkId = z.enum(['ingest', 'memory', 'jq', 'ip-lookup', 'cold-start', 'cost']);
export type BenchmarkId = z.infer<typeof BenchmarkId>;

export const SummaryRow = z.strictObject({
  id: BenchmarkId,
  title: z.string().min(1),
  /** The figure, in words and numbers ("1.12× the floor (CPU)"). */
  measured: z.string().min(1),
  target: z.string().min(1),
  /** null: not applicable (cost has no target) or not measured (a tool missing). */
  met: z.boolean().nullable(),
  note: z.string().optional(),
});
export type SummaryRow = z.infer<typeof SummaryRow>;

const Machine = z.looseObject({
  cpuModel: z.string(),
  cpus: z.number().int().positive(),
  node: z.string().regex(/^v\d+\./),
  loadAverageAtStart: z.tuple([z.number(), z.number(), z.number()]),
});

const Section = z.looseObject({});

export const BenchResults = z.strictObject({
  version: z.literal(1),
  smoke: z.boolean(),
  startedAt: z.iso.datetime(),
  durationSeconds: z.number().nonnegative(),
  machine: Machine,
  loadAverageAtEnd: z.tuple([z.number(), z.number(), z.number()]),
  inputs: z.looseObject({ small: Section, large: Section }),
  summary: z.array(SummaryRow).length(6),
  ingest: Section,
  memory: Section,
  jq: Section,
  ipLookup: Section,
  coldStart: Section,
  cost: Section,
});
export type BenchResults = z.infer<typeof BenchResults>;
