#!/usr/bin/env node
// The heap setting must be in place before the program is parsed, which static imports would do
// before any module runs; so the program comes in by a dynamic import.
import './heap.js';

await import('./program.js');
