/**
 * Benchmark 6 — cost per million CloudTrail records, from the ingest benchmark's measured CPU time, at the memory
 * size cloudtrailIngest is configured with, next to the list prices of the managed services a team would compare.
 *
 * Lambda gives a function CPU in proportion to its memory: 1,769 MB is one vCPU. Below that, CPU-bound work takes
 * cpuSeconds × 1769 / memoryMB of wall time, so GB-seconds = cpuSeconds × 1769 / 1024 whatever the memory size;
 * above it a single-threaded engine cannot use the extra CPU and pays for the memory. The CPU time is this
 * machine's (see the machine line); a Graviton core is assumed to be as fast, which is an assumption, not a
 * measurement.
 *
 * Prices: list prices in us-east-1 as known on the date below, from the pages named; no network is used here, so
 * they are constants that must be re-checked against the pages before anyone quotes them.
 */
import type { IngestResults } from './ingest';
import { round } from './lib';

export const PRICES_AS_OF = '2025 (from memory of the AWS pricing pages; re-check before use)';

export const PRICES = {
  lambdaArm64PerGbSecond: 0.0000133334,
  lambdaX86PerGbSecond: 0.0000166667,
  lambdaPerMillionRequests: 0.2,
  sqsPerMillionRequests: 0.4,
  s3GetPerThousand: 0.0004,
  guardDutyCloudTrailPerMillionEvents: 4.0,
  cloudTrailLakePerGb7Year: 2.5,
  cloudTrailLakePerGb1Year: 0.75,
  cloudWatchLogsIngestPerGb: 0.5,
  cloudTrailExtraCopyPerHundredThousand: 2.0,
} as const;

export const PRICE_SOURCES: { item: string; price: string; source: string }[] = [
  { item: 'Lambda arm64 duration', price: '$0.0000133334 per GB-second (first 7.5 billion GB-s/month)', source: 'AWS Lambda pricing, aws.amazon.com/lambda/pricing' },
  { item: 'Lambda x86_64 duration (for comparison)', price: '$0.0000166667 per GB-second', source: 'AWS Lambda pricing' },
  { item: 'Lambda requests', price: '$0.20 per million', source: 'AWS Lambda pricing' },
  { item: 'SQS standard queue requests', price: '$0.40 per million (after the free tier)', source: 'Amazon SQS pricing, aws.amazon.com/sqs/pricing' },
  { item: 'S3 GET requests (Standard)', price: '$0.0004 per 1,000', source: 'Amazon S3 pricing, aws.amazon.com/s3/pricing' },
  { item: 'GuardDuty CloudTrail management event analysis', price: '$4.00 per million events (first 500 million/month; then $2.00, then $1.00)', source: 'Amazon GuardDuty pricing, aws.amazon.com/guardduty/pricing' },
  { item: 'CloudTrail Lake ingestion and storage', price: '$2.50 per GB (seven-year retention option); $0.75 per GB (one-year extendable retention option); queries $0.005 per GB scanned', source: 'AWS CloudTrail pricing, aws.amazon.com/cloudtrail/pricing' },
  { item: 'CloudWatch Logs ingestion (trail → log group → metric filters, the CIS approach)', price: '$0.50 per GB (Standard class), plus $0.03 per GB-month stored and $0.10 per alarm-month', source: 'Amazon CloudWatch pricing, aws.amazon.com/cloudwatch/pricing' },
  { item: 'CloudTrail trail delivering management events', price: 'first copy free; each additional copy $2.00 per 100,000 events', source: 'AWS CloudTrail pricing' },
];

export interface CostResults {
  memoryMB: number;
  cpuSecondsPerMillionRecords: number;
  /** Wall seconds at the configured memory (CPU share memory/1769). */
  lambdaSecondsPerMillionRecords: number;
  gbSecondsPerMillionRecords: number;
  assumptions: { recordsPerFile: number; filesPerInvocation: number; averageRecordBytes: number };
  vigil: {
    computeArm64: number;
    computeX86: number;
    requests: number;
    sqsAndS3: number;
    total: number;
  };
  /** Per million records, USD. */
  alternatives: { name: string; perMillionRecords: number; basis: string }[];
  /** How many times cheaper vigil's total is than each alternative. */
  ratios: Record<string, number>;
  pricesAsOf: string;
}

export const VCPU_MB = 1769;

export function computeCost(ingest: IngestResults, memoryMB: number): CostResults {
  const cpuSeconds = 1e6 / ingest.throughput.recordsPerCpuSecond;
  const share = Math.min(1, memoryMB / VCPU_MB);
  const lambdaSeconds = cpuSeconds / share;
  const gbSeconds = lambdaSeconds * (memoryMB / 1024);
  const averageRecordBytes = ingest.input.bytes / ingest.input.records;
  const recordsPerFile = 1000;
  const filesPerInvocation = 1;
  const files = 1e6 / recordsPerFile;
  const invocations = files / filesPerInvocation;
  const computeArm64 = gbSeconds * PRICES.lambdaArm64PerGbSecond;
  const computeX86 = gbSeconds * PRICES.lambdaX86PerGbSecond;
  const requests = (invocations / 1e6) * PRICES.lambdaPerMillionRequests;
  // Per file: one S3 GET; SQS receive + delete per message (batching would halve the receives).
  const sqsAndS3 = (files / 1000) * PRICES.s3GetPerThousand + ((2 * files) / 1e6) * PRICES.sqsPerMillionRequests;
  const total = computeArm64 + requests + sqsAndS3;
  const gbPerMillion = (averageRecordBytes * 1e6) / 1e9;
  const alternatives = [
    { name: 'Amazon GuardDuty (CloudTrail management events)', perMillionRecords: PRICES.guardDutyCloudTrailPerMillionEvents, basis: 'per event, first tier' },
    { name: 'CloudTrail Lake, seven-year retention', perMillionRecords: gbPerMillion * PRICES.cloudTrailLakePerGb7Year, basis: `per GB ingested, ${round(averageRecordBytes, 0)} B/record` },
    { name: 'CloudTrail Lake, one-year extendable retention', perMillionRecords: gbPerMillion * PRICES.cloudTrailLakePerGb1Year, basis: `per GB ingested, ${round(averageRecordBytes, 0)} B/record` },
    { name: 'CloudWatch Logs ingestion (metric filters)', perMillionRecords: gbPerMillion * PRICES.cloudWatchLogsIngestPerGb, basis: `per GB ingested, ${round(averageRecordBytes, 0)} B/record; storage and alarms extra` },
    { name: 'A second CloudTrail trail (if vigil could not read the existing one)', perMillionRecords: 10 * PRICES.cloudTrailExtraCopyPerHundredThousand, basis: 'per 100,000 events' },
  ].map((a) => ({ ...a, perMillionRecords: round(a.perMillionRecords, 4) }));
  return {
    memoryMB,
    cpuSecondsPerMillionRecords: round(cpuSeconds, 2),
    lambdaSecondsPerMillionRecords: round(lambdaSeconds, 2),
    gbSecondsPerMillionRecords: round(gbSeconds, 2),
    assumptions: { recordsPerFile, filesPerInvocation, averageRecordBytes: round(averageRecordBytes, 0) },
    vigil: {
      computeArm64: round(computeArm64, 5),
      computeX86: round(computeX86, 5),
      requests: round(requests, 5),
      sqsAndS3: round(sqsAndS3, 5),
      total: round(total, 5),
    },
    alternatives,
    ratios: Object.fromEntries(alternatives.map((a) => [a.name, round(a.perMillionRecords / total, 0)])),
    pricesAsOf: PRICES_AS_OF,
  };
}
