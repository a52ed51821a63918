/**
 * npm run bench:i18n — CPU per lookup of the bot's translator (src/i18n: createTranslator().fixed) against
 * i18next's own fixed `t` on the same instance settings (the baseline, in the same run): a label without
 * values, the greeting with two values, and a plural. Rounds alternate between the two; the median round
 * counts. Writes its section of BENCHMARKS.md (`--dry-run`: print only).
 *   --lookups=20000   lookups per round and case
 *   --rounds=5
 */
import { parseArgs } from 'node:util';
import type { Locale } from '../src/config';
import { createI18next, createTranslator, type TFunction } from '../src/i18n';
import { positiveInts } from './lib/cli';
import { table, writeSection } from './lib/report-file';
import { percentile } from './lib/stats';

interface Case {
  name: string;
  key: string;
  values: (i: number) => Record<string, unknown> | undefined;
}

const CASES: Case[] = [
  { name: 'a button label, no values', key: 'start.needHelp', values: () => undefined },
  { name: 'the greeting, two values (escaped)', key: 'start.greeting', values: (i) => ({ name: `Олена ${i} <3`, city: 'Duisburg' }) },
  { name: 'a plural', key: 'common.count.people', values: (i) => ({ count: i % 30 }) },
];

/** The case's `i`-th lookup through `t`: the key alone when the case has no values. */
function lookup(t: TFunction, c: Case, i: number): string {
  const values = c.values(i);
  return String(values === undefined ? t(c.key) : t(c.key, values));
}

/** Microseconds of CPU per lookup of `t` over `n` lookups. */
function cpuPerLookup(t: TFunction, c: Case, n: number): number {
  const start = process.cpuUsage();
  let sink = 0;
  for (let i = 0; i < n; i++) sink += lookup(t, c, i).length;
  const used = process.cpuUsage(start);
  if (sink === 0) throw new Error(`empty translation for ${c.key}`);
  return (used.user + used.system) / n;
}

function main(): void {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: { lookups: { type: 'string', default: '20000' }, rounds: { type: 'string', default: '5' }, 'dry-run': { type: 'boolean', default: false } },
    strict: true,
  });
  const lookups = positiveInts(values.lookups, 'lookups')[0]!;
  const rounds = positiveInts(values.rounds, 'rounds')[0]!;
  const locale: Locale = 'uk';
  const ours = createTranslator('de').fixed(locale);
  const theirs = createI18next('de').getFixedT(locale);
  const rows: string[][] = [];
  for (const c of CASES) {
    if (lookup(ours, c, 1) !== lookup(theirs, c, 1)) throw new Error(`the translator and i18next disagree on ${c.key}`);
    const own: number[] = [];
    const base: number[] = [];
    // A warm-up round each, then alternating rounds.
    cpuPerLookup(ours, c, lookups);
    cpuPerLookup(theirs, c, lookups);
    for (let r = 0; r < rounds; r++) {
      own.push(cpuPerLookup(ours, c, lookups));
      base.push(cpuPerLookup(theirs, c, lookups));
    }
    const o = percentile(own, 50);
    const b = percentile(base, 50);
    rows.push([c.name, `\`${c.key}\``, o.toFixed(2), b.toFixed(2), (o / b).toFixed(2)]);
    console.log(`${c.name}: ${o.toFixed(2)} µs against ${b.toFixed(2)} µs`);
  }
  const command = `npm run bench:i18n${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  const section = [
    '## Translations: bench:i18n',
    '',
    `\`${command}\` — CPU per lookup (µs, median of ${rounds} alternating rounds of ${lookups.toLocaleString('en')} lookups) of the`,
    "bot's translator (`createTranslator().fixed('uk')`, src/i18n) against i18next's own fixed `t` of an instance with",
    'the same settings (`createI18next().getFixedT(\'uk\')`), in the same run. A label without values is looked up once',
    "per language and then read from a map; a key with values goes to the instance's `t` with the language among",
    "the options, instead of through i18next's fixed `t`, which copies all of the instance's options at every call.",
    'test/i18n/locales.test.ts checks that both give the same text for every key of every language.',
    `${new Date().toISOString().slice(0, 10)}, Node ${process.version}.`,
    '',
    ...table(['Lookup', 'Key', 'Translator µs', 'i18next fixed t µs (baseline)', 'Ratio'], rows),
    '',
  ].join('\n');
  if (values['dry-run']) console.log(`\n${section}`);
  else writeSection('BENCHMARKS.md', '## Translations: bench:i18n', section);
}

main();
