#!/usr/bin/env node
// V8's heap settings apply to what is allocated after them, parsing the program included, so the
// program comes in by a dynamic import.
import './heap.js';

await import('./program.js');
