import { GetParameterCommand, PutParameterCommand } from '@aws-sdk/client-ssm';
import { type Command, Option } from 'commander';
import path from 'node:path';
import { createSsmClient } from '../aws/ssm';
import { readConfigDocument, readConfigFile } from '../config/load';
import type { VigilConfig } from '../config/schema';
import { silentLogger } from '../core/deps';
import { ConfigError, TransientError, ValidationError, causedBy, describeError } from '../core/errors';
import { createEngine, inactiveByRule } from '../rules/engine/engine';
import { rules } from '../rules/registry';
import { type CliIo, type CommandModule, ExitCode } from './io';

/**
 * `vigil config`: check a configuration file, store it where the deployed functions read it, show what is stored.
 *
 * The functions read the configuration from an SSM parameter as JSON (shared/config/parse.ts: no YAML parser in the
 * Lambda bundles). `push` is the way to get it there: it checks the document exactly as the functions will (schema,
 * rule ids, rule options, CIDRs, patterns), converts YAML to compact JSON — what people write is kept, not the
 * defaults, so a later vigil's defaults still apply — and writes a SecureString. SSM takes 4 KB in the standard
 * tier and 8 KB in the advanced tier; `Intelligent-Tiering` lets SSM pick, so a document that outgrows 4 KB is
 * still stored (the advanced tier is billed per parameter).
 */

/** What the command needs of SSM (tests pass a mocked client). */
export interface ConfigDeps {
  ssmClient: (region?: string) => { send: (command: GetParameterCommand | PutParameterCommand) => Promise<unknown> };
}

const defaultDeps: ConfigDeps = { ssmClient: (region) => createSsmClient(region) };

/** SSM's limit on a parameter value in the advanced tier (the standard tier takes 4,096). */
export const SSM_MAX_VALUE_BYTES = 8192;
const SSM_STANDARD_VALUE_BYTES = 4096;

interface Target {
  stage?: string;
  parameter?: string;
  region?: string;
}

const isJson = (text: string): boolean => {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
};

const parameterName = (o: Target, io: CliIo): string => o.parameter ?? `/vigil/${o.stage ?? io.env.VIGIL_STAGE ?? 'dev'}/config`;

/** Everything the engine checks when it is built, beyond the schema: rule ids, rule options, CIDR lists, patterns. */
function checkedEngine(config: VigilConfig, origin: string) {
  try {
    return createEngine({ config: config.detection, rules, logger: silentLogger });
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError(`${origin}: invalid configuration: ${err.message}`, { cause: err });
    throw err;
  }
}

/** A few lines on what the configuration does, for people checking it before it goes live. */
function summary(config: VigilConfig, engine: ReturnType<typeof checkedEngine>, json: string): string[] {
  const profiles = Object.entries(config.detection.profiles).map(
    ([name, p]) => `${name} (${p.accounts.length} account${p.accounts.length === 1 ? '' : 's'})`,
  );
  const disabled = [...new Set(engine.disabled.map((r) => `${r.ruleId} (${r.profile})`))];
  const bytes = Buffer.byteLength(json);
  const lines = [
    `  detection profiles: default${profiles.length ? `, ${profiles.join(', ')}` : ''}`,
    `  rules: ${engine.active.length} of ${rules.length} active`,
    ...inactiveByRule(engine.inactive).map((r) => `    inactive: ${r.ruleId} for ${r.profiles.join(', ')}: ${r.reason}`),
    ...(disabled.length ? [`    disabled: ${disabled.join(', ')}`] : []),
    `  ip-space: ${config.ipSpace.watch.length ? `${config.ipSpace.watch.length} watched service/region pair(s)` : 'every change watched'}`,
    `  notify: channels ${Object.keys(config.notify.channels).join(', ')}`,
    `  stored as JSON: ${bytes} bytes (${bytes <= SSM_STANDARD_VALUE_BYTES ? 'fits the standard SSM tier' : bytes <= SSM_MAX_VALUE_BYTES ? 'needs the advanced SSM tier' : `too large for SSM (max ${SSM_MAX_VALUE_BYTES})`})`,
  ];
  return lines;
}

/** The document as the functions will read it: compact JSON of what was written, checked like the functions check it. */
async function prepare(file: string, io: CliIo) {
  const resolved = path.resolve(io.cwd, file);
  const { document, config } = await readConfigFile(resolved);
  const engine = checkedEngine(config, file);
  const json = JSON.stringify(document);
  return { config, engine, json };
}

export function createConfigCommand(deps: ConfigDeps = defaultDeps): CommandModule {
  return (program: Command, io: CliIo, setExit) => {
    const cmd = program
      .command('config')
      .description(
        'Check a configuration file, store it in SSM for the deployed functions (as JSON), or show what is stored.\n\n' +
          'The functions read /vigil/<stage>/config (a SecureString holding JSON). `push` validates a YAML or JSON file ' +
          'exactly as the functions will, converts it to compact JSON and stores it; they pick it up within 5 minutes. ' +
          'AWS credentials and region come from the usual SDK chain.',
      );

    const addTarget = (c: Command): Command =>
      c
        .option('--stage <stage>', 'the vigil stage (default: $VIGIL_STAGE or dev)')
        .option('--parameter <name>', 'the SSM parameter (default: /vigil/<stage>/config)')
        .option('--region <region>', 'AWS region (default: the SDK default)');

    cmd
      .command('validate')
      .description('Check configuration files (YAML or JSON) as the functions and `vigil scan` would; exit 2 if one is invalid.')
      .argument('<file...>', 'configuration files')
      .addHelpText('after', '\nExamples:\n  vigil config validate vigil.config.yaml\n  vigil config validate examples/*.yaml')
      .action(async (files: string[]) => {
        for (const file of files) {
          try {
            const { config, engine, json } = await prepare(file, io);
            io.stdout.write(`${file}: valid\n${summary(config, engine, json).join('\n')}\n`);
          } catch (err) {
            if (!(err instanceof ConfigError)) throw err;
            io.stderr.write(`vigil: error: ${describeError(err)}\n`);
            setExit(ExitCode.inputError);
          }
        }
      });

    addTarget(
      cmd
        .command('push')
        .description('Validate a configuration file and store it as the JSON SecureString the deployed functions read.')
        .argument('<file>', 'configuration file (YAML or JSON)')
        .option('--dry-run', 'validate and print the JSON that would be stored; change nothing'),
    )
      .addHelpText(
        'after',
        '\nExamples:\n  vigil config push vigil.config.yaml --stage prod\n  vigil config push vigil.config.yaml --stage prod --dry-run | jq .',
      )
      .action(async (file: string, o: Target & { dryRun?: boolean }) => {
        const { config, engine, json } = await prepare(file, io);
        const bytes = Buffer.byteLength(json);
        if (bytes > SSM_MAX_VALUE_BYTES) {
          throw new ValidationError(
            `${file}: the configuration is ${bytes} bytes as JSON; an SSM parameter holds at most ${SSM_MAX_VALUE_BYTES} (move long allow-lists into fewer, wider patterns)`,
          );
        }
        const name = parameterName(o, io);
        io.stderr.write(`${file}: valid\n${summary(config, engine, json).join('\n')}\n`);
        if (o.dryRun) {
          io.stdout.write(`${json}\n`);
          io.stderr.write(`vigil: dry run: would store ${bytes} bytes in ${name} (SecureString)\n`);
          return;
        }
        const ssm = deps.ssmClient(o.region);
        try {
          await ssm.send(
            new PutParameterCommand({
              Name: name,
              Value: json,
              Type: 'SecureString',
              Overwrite: true,
              // SSM picks the standard tier while the document fits in 4 KB, the advanced tier above.
              Tier: 'Intelligent-Tiering',
              Description: 'vigil configuration (JSON), written by `vigil config push`',
            }),
          );
        } catch (cause) {
          throw new TransientError(`cannot store ${name}: ${describeError(cause)}`, { cause });
        }
        io.stderr.write(`vigil: stored ${bytes} bytes in ${name}; the functions use it within 5 minutes\n`);
      });

    addTarget(
      cmd
        .command('show')
        .description('Print the configuration stored for a stage (JSON, or YAML with --format yaml) and check it.')
        .addOption(new Option('--format <format>', 'output format').choices(['json', 'yaml']).default('json')),
    )
      .addHelpText('after', '\nExamples:\n  vigil config show --stage prod\n  vigil config show --stage prod --format yaml > vigil.config.yaml')
      .action(async (o: Target & { format: 'json' | 'yaml' }) => {
        const name = parameterName(o, io);
        const ssm = deps.ssmClient(o.region);
        let text: string | undefined;
        try {
          const out = (await ssm.send(new GetParameterCommand({ Name: name, WithDecryption: true }))) as { Parameter?: { Value?: string } };
          text = out.Parameter?.Value;
        } catch (cause) {
          if (causedBy(cause, 'ParameterNotFound')) {
            throw new ConfigError(`${name} does not exist: the functions run on the defaults (store one with \`vigil config push FILE\`)`, { cause });
          }
          throw new TransientError(`cannot read ${name}: ${describeError(cause)}`, { cause });
        }
        if (text === undefined) throw new ConfigError(`${name} is empty`);
        const origin = `ssm:${name}`;
        let document: unknown;
        try {
          const read = await readConfigDocument(text, origin);
          document = read.document;
          checkedEngine(read.config, origin);
        } catch (err) {
          if (!(err instanceof ConfigError)) throw err;
          // Show what is there even though the functions refuse it, and say why.
          io.stderr.write(`vigil: warning: the functions refuse this document: ${describeError(err)}\n`);
          setExit(ExitCode.inputError);
          io.stdout.write(`${text}\n`);
          return;
        }
        if (!isJson(text)) {
          io.stderr.write(`vigil: warning: ${name} is not JSON, and the functions read JSON: store it again with \`vigil config push\`\n`);
          setExit(ExitCode.inputError);
        }
        if (o.format === 'yaml') {
          const { stringify } = await import('yaml');
          io.stdout.write(stringify(document));
        } else io.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
      });
  };
}

export const configCommand: CommandModule = createConfigCommand();
