// express-pod.ts runs one geecache pod for the bench's `api-hit-express` case. The product no longer has an
// Express-only hot path, so this is main.ts's pod until that case is dropped from the bench.
import { main } from '../src/main.js';

void main();
