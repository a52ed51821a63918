/**
 * Preloaded into a benchmarked process (NODE_OPTIONS="--expose-gc --import <this file>") so that the
 * benchmark can ask for its live heap without any code in the product for it: on SIGUSR2 it runs a full
 * garbage collection and prints one JSON line `{"heapProbe":{...}}` (MiB) to stdout. It announces itself
 * with `{"heapProbe":"ready"}`; without that line the benchmark never sends the signal (SIGUSR2 would end
 * a process that has no handler for it).
 */
const MB = 1024 * 1024;

if (typeof globalThis.gc === 'function') {
  process.on('SIGUSR2', () => {
    globalThis.gc();
    const m = process.memoryUsage();
    const round = (bytes) => Math.round((bytes / MB) * 10) / 10;
    const heapProbe = { heapUsedMb: round(m.heapUsed), heapTotalMb: round(m.heapTotal), externalMb: round(m.external), arrayBuffersMb: round(m.arrayBuffers), rssMb: round(m.rss) };
    process.stdout.write(`${JSON.stringify({ heapProbe })}\n`);
  });
  process.stdout.write(`${JSON.stringify({ heapProbe: 'ready' })}\n`);
}
