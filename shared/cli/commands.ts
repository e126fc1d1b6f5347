// The explicit list of CLI command modules, in the order `vigil --help` shows them.
import type { CommandModule } from './io';

export const commands: CommandModule[] = [];
