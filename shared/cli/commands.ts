// The explicit list of CLI command modules, in the order `vigil --help` shows them.
import type { CommandModule } from './io';
import { policyCommands } from './policy';

export const commands: CommandModule[] = [policyCommands];
