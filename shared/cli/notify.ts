import { createReadStream } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { type Command, Option } from 'commander';
import type { DisplayOptions } from '../alerts/display';
import { Alert, Severity, atLeast } from '../alerts/schema';
import { displayOptions } from '../alerts/settings';
import { SlackClient, SlackRejectedError, type SlackTarget } from '../alerts/slack-client';
import { renderSlackAlert } from '../alerts/slack-message';
import { WebhookUrl } from '../alerts/slack-secrets';
import { loadConfigFile } from '../config/load';
import { formatZodIssues } from '../config/parse';
import { ValidationError, describeError } from '../core/errors';
import { cliLogger } from '../core/logger';
import { type CliIo, type CommandModule, ExitCode } from './io';

/**
 * `vigil notify`: posts alerts (ndjson, e.g. `vigil scan --format ndjson`) to a Slack incoming webhook with the same
 * Block Kit rendering and the same retry rules as the Lambda; `--dry-run` prints the Block Kit JSON instead.
 */

interface NotifyOptions {
  webhook?: string;
  minSeverity?: Severity;
  dryRun?: boolean;
  pretty?: boolean;
  config?: string;
  timezone?: string;
  timeout: string;
  verbose?: boolean;
}

// Paragraphs are single lines: commander wraps them to the terminal.
const DESCRIPTION = [
  'Post alerts to Slack.',
  'Reads alerts as ndjson (one Alert JSON object per line, as `vigil scan --format ndjson` writes them) from FILE or ' +
    'stdin, and posts each to a Slack incoming webhook as the alert-notifier Lambda would: the same Block Kit ' +
    'message, the same retry rules (429 waits for Retry-After, 5xx and network errors back off, within --timeout per ' +
    'alert; 4xx such as invalid_payload or no_service fail that alert at once). A line that is not a valid alert is ' +
    'reported with its line number on stderr and the rest is still processed. Alerts are posted one by one, in ' +
    'order, without grouping (the Lambda groups bursts with its state table).',
  'The webhook URL is a secret: prefer the SLACK_WEBHOOK_URL environment variable to --webhook, which other users ' +
    'of the machine can see in the process list. It is never printed.',
  'Exit code: 0 all alerts posted (or below --min-severity), 1 some could not be delivered, 2 bad input (an invalid ' +
    'line, a bad option).',
].join('\n\n');

const EXAMPLES = `
Examples:
  vigil scan --format ndjson logs/ | vigil notify --min-severity high
  SLACK_WEBHOOK_URL=https://hooks.slack.com/services/… vigil notify alerts.ndjson
  vigil notify --dry-run --pretty --config vigil.config.yaml < alerts.ndjson   print the Block Kit JSON`;

const MAX_LINE = 1024 * 1024;

function lines(io: CliIo, file: string | undefined) {
  const input = file && file !== '-' ? createReadStream(path.resolve(io.cwd, file)) : io.stdin;
  return createInterface({ input, crlfDelay: Infinity });
}

/** Parses one ndjson line; the error says what is wrong without echoing the line (it may be huge or sensitive). */
export function parseAlertLine(line: string): Alert {
  if (line.length > MAX_LINE) throw new ValidationError(`line longer than ${MAX_LINE} characters`);
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch (err) {
    throw new ValidationError(`not JSON (${(err as Error).message})`);
  }
  const parsed = Alert.safeParse(raw);
  if (!parsed.success) throw new ValidationError(`not an alert: ${formatZodIssues(parsed.error, 3)}`);
  return parsed.data;
}

export const notifyCommand: CommandModule = (program, io, setExit) => {
  program
    .command('notify')
    .summary('post alerts (ndjson) to Slack, or print their Block Kit JSON')
    .description(DESCRIPTION)
    .argument('[file]', 'ndjson file of alerts ("-" or none: stdin)')
    .option('--webhook <url>', 'Slack incoming webhook URL (default: $SLACK_WEBHOOK_URL)')
    .addOption(new Option('--min-severity <severity>', 'skip alerts below this severity').choices(Severity.options))
    .option('--dry-run', 'print the Block Kit message of each alert (one JSON per line) instead of posting')
    .option('--pretty', 'with --dry-run: indent the JSON (paste it into Block Kit Builder)')
    .option('--config <file>', 'vigil configuration (YAML/JSON): office timezone, account names, notify.minSeverity')
    .option('--timezone <iana>', 'office timezone shown beside UTC (overrides the configuration)')
    .option('--timeout <seconds>', 'time budget per alert for Slack retries', '60')
    .option('-v, --verbose', 'report each alert on stderr')
    .addHelpText('after', EXAMPLES)
    .action(async (file: string | undefined, o: NotifyOptions, cmd: Command) => {
      const logger = cliLogger(o.verbose ? 'info' : 'warn', io.stderr);
      const timeoutMs = Number(o.timeout) * 1000;
      if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new ValidationError('--timeout must be a positive number of seconds');

      let display: DisplayOptions = {};
      let minSeverity: Severity = o.minSeverity ?? 'info';
      if (o.config) {
        const config = await loadConfigFile(path.resolve(io.cwd, o.config));
        display = displayOptions(config);
        minSeverity = o.minSeverity ?? config.notify.minSeverity;
      }
      if (o.timezone) {
        try {
          new Intl.DateTimeFormat('en-US', { timeZone: o.timezone });
        } catch {
          throw new ValidationError(`--timezone: not an IANA timezone: ${o.timezone}`);
        }
        display = { ...display, officeTimezone: o.timezone };
      }

      let target: SlackTarget | undefined;
      if (!o.dryRun) {
        const url = o.webhook ?? io.env.SLACK_WEBHOOK_URL;
        if (!url) cmd.error('vigil notify: a webhook is needed: --webhook URL or SLACK_WEBHOOK_URL (or use --dry-run)');
        // The URL is a secret: say what is wrong with it, never what it is.
        if (!WebhookUrl.safeParse(url).success) throw new ValidationError('the webhook is not an https:// URL');
        target = { kind: 'webhook', channel: 'webhook', url: url as string };
      }
      const slack = new SlackClient({ fetch: io.fetch, clock: io.clock, logger });

      const counts = { posted: 0, printed: 0, skipped: 0, invalid: 0, failed: 0 };
      let lineNo = 0;
      for await (const line of lines(io, file)) {
        lineNo++;
        if (line.trim() === '') continue;
        let alert: Alert;
        try {
          alert = parseAlertLine(line);
        } catch (err) {
          counts.invalid++;
          io.stderr.write(`vigil: line ${lineNo}: ${describeError(err)}\n`);
          continue;
        }
        if (!atLeast(alert.severity, minSeverity)) {
          counts.skipped++;
          continue;
        }
        const message = renderSlackAlert(alert, display);
        if (!target) {
          io.stdout.write(`${JSON.stringify(message, null, o.pretty ? 2 : undefined)}\n`);
          counts.printed++;
          continue;
        }
        try {
          await slack.post(target, message, { deadline: io.clock.now().getTime() + timeoutMs });
          counts.posted++;
          logger.info(`line ${lineNo}: posted ${alert.severity} ${alert.ruleId} (${alert.id})`);
        } catch (err) {
          counts.failed++;
          const kind = err instanceof SlackRejectedError ? 'rejected by Slack' : 'not delivered';
          io.stderr.write(`vigil: line ${lineNo}: alert ${alert.id} ${kind}: ${describeError(err)}\n`);
        }
      }

      const parts = [
        target ? `${counts.posted} posted` : `${counts.printed} printed`,
        counts.skipped ? `${counts.skipped} below ${minSeverity}` : '',
        counts.failed ? `${counts.failed} not delivered` : '',
        counts.invalid ? `${counts.invalid} invalid line${counts.invalid === 1 ? '' : 's'}` : '',
      ].filter(Boolean);
      if (target || counts.invalid || counts.skipped) io.stderr.write(`vigil: notify: ${parts.join(', ')}\n`);
      if (counts.invalid > 0) setExit(ExitCode.inputError);
      else if (counts.failed > 0) setExit(ExitCode.findings);
    });
};
