/** `clusterplan merge <outputs...>`: combines shard outputs (search, failures) into what one run prints. */
import type { CommandModule } from 'yargs';
import { readDataFile } from '../io/load.js';
import { mergeShards } from '../search/merge.js';
import { printJson, reportError } from './common.js';

interface Args {
  outputs: string[];
}

export const mergeCommand: CommandModule<object, Args> = {
  command: 'merge <outputs...>',
  describe: 'Merge the shard outputs of a study (search --shard i/n, failures --shard i/n) into the JSON one run prints',
  builder: (y) => y.positional('outputs', { type: 'string', array: true, demandOption: true, describe: 'shard output files (JSON)' }) as never,
  handler: (args) => {
    try {
      const inputs = args.outputs.map((file) => ({ file, doc: readDataFile(file) }));
      printJson(mergeShards(inputs));
    } catch (e) {
      reportError(e);
    }
  },
};
