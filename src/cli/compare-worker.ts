/**
 * Worker-thread entry of `clusterplan compare`: evaluates the plans it is sent, one at a time, off
 * the screen's thread; a search request sends its progress (at most every 100 ms), then its plans.
 */
import { parentPort } from 'node:worker_threads';
import { runRequest, type CompareRequest, type CompareResponse } from './compare-eval.js';
import { runSearch, searchProgressText, type SearchRequest } from './compare-search.js';
import { UserError } from '../errors.js';

const port = parentPort;
if (port) {
  const send = (r: CompareResponse) => port.postMessage(r);
  port.on('message', (req: CompareRequest | SearchRequest) => {
    try {
      if (req.type === 'search') {
        let last = 0;
        const r = runSearch(req, (p) => {
          const now = performance.now();
          if (now - last < 100) return;
          last = now;
          send({ id: req.id, type: 'search-progress', label: searchProgressText(p) });
        });
        send({ id: req.id, type: 'search', ...r });
      } else runRequest(req, send);
    } catch (e) {
      // A UserError here is the input's (the file as given does not load): the screen stops on it.
      // A search that fails leaves its row saying why; the plans' own evaluations report the file.
      const user = e instanceof UserError;
      send({ id: req.id, type: 'error', message: user ? e.format() : e instanceof Error ? (e.stack ?? e.message) : String(e), user, fatal: user && req.type !== 'search' });
    }
  });
}
