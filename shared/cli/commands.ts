// The explicit list of CLI command modules, in the order `vigil --help` shows them.
import { configCommand } from './config';
import type { CommandModule } from './io';
import { ipRangesCommand } from './ip-ranges';
import { migrateCommand } from './migrate';
import { notifyCommand } from './notify';
import { policyCommands } from './policy';
import { rulesCommand } from './rules';
import { scanCommand } from './scan';

export const commands: CommandModule[] = [ipRangesCommand, scanCommand, rulesCommand, policyCommands, notifyCommand, migrateCommand, configCommand];
