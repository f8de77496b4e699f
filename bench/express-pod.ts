// express-pod.ts runs one geecache pod with every route through Express, for the bench's `api-hit-express` case.
import { main } from '../src/main.js';

void main({ hotPath: 'express' });
