// A CPU profiler for a process the benchmarks start (`--cpu-prof` is not allowed in NODE_OPTIONS):
//   BENCH_NODE_OPTIONS="--require $PWD/bench/lib/cpu-profile.cjs" npm run bench:updates -- --only=webhook
// (an absolute path: the bot may run in another directory) writes <pid>.cpuprofile into
// BENCH_CPU_PROFILE_DIR (default: .cache/profiles in the project) when the process ends;
// open it in Chrome's DevTools (Performance) or read it with any .cpuprofile tool.
const inspector = require('node:inspector');
const fs = require('node:fs');
const path = require('node:path');

const dir = process.env.BENCH_CPU_PROFILE_DIR ? path.resolve(process.env.BENCH_CPU_PROFILE_DIR) : path.join(__dirname, '..', '..', '.cache', 'profiles');
const session = new inspector.Session();
session.connect();
session.post('Profiler.enable', () => session.post('Profiler.setSamplingInterval', { interval: 200 }, () => session.post('Profiler.start')));

let written = false;
function write() {
  if (written) return;
  written = true;
  // The inspector answers synchronously within the same thread, so this finishes before the process exits.
  session.post('Profiler.stop', (err, result) => {
    if (err || !result) return;
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `${process.pid}.cpuprofile`), JSON.stringify(result.profile));
  });
}
for (const signal of ['SIGTERM', 'SIGINT']) process.prependListener(signal, write);
process.on('exit', write);
