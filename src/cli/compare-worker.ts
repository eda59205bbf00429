/** Worker-thread entry of `clusterplan compare`: evaluates the plans it is sent, one at a time, off the screen's thread. */
import { parentPort } from 'node:worker_threads';
import { runRequest, type CompareRequest, type CompareResponse } from './compare-eval.js';
import { UserError } from '../errors.js';

const port = parentPort;
if (port) {
  const send = (r: CompareResponse) => port.postMessage(r);
  port.on('message', (req: CompareRequest) => {
    try {
      runRequest(req, send);
    } catch (e) {
      // A UserError here is the input's (the file as given does not load): the screen stops on it.
      const user = e instanceof UserError;
      send({ id: req.id, type: 'error', message: user ? e.format() : e instanceof Error ? (e.stack ?? e.message) : String(e), user, fatal: user });
    }
  });
}
