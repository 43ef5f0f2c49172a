// Preloaded into a daemon under test (NODE_OPTIONS=--import=...): on SIGUSR2 the process's wall
// clock goes back an hour, as when NTP corrects a clock that ran ahead, and says so on stderr.
import process from 'node:process';

const wallNow = Date.now;
let offsetMs = 0;
Date.now = () => wallNow() + offsetMs;
process.on('SIGUSR2', () => {
  offsetMs -= 3_600_000;
  process.stderr.write('clock stepped back\n');
});
