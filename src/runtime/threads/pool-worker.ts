/** Entry of dist/browser/pool-worker.js: the pool thread as a module file, for Web Workers. */
import { workerMain } from './worker-main.js';

workerMain();
