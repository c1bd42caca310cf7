import { benchFit } from './fit';
import { benchLocalize } from './localize';
import { benchMotifs } from './motifs';
import { benchSample } from './sample';
import { benchStore } from './store';

// `npm run bench -- <name>`: runs one benchmark and prints its figures as one JSON line, last.
const BENCHES: Record<string, () => Promise<Record<string, number | string | null>>> = {
  store: benchStore,
  sample: benchSample,
  localize: benchLocalize,
  fit: benchFit,
  motifs: benchMotifs,
};

async function main(): Promise<void> {
  const name = process.argv[2];
  const bench = name ? BENCHES[name] : undefined;
  if (!bench) {
    process.stderr.write(`usage: npm run bench -- <${Object.keys(BENCHES).join('|')}>\n`);
    process.exit(2);
  }
  const figures = await bench();
  process.stdout.write(JSON.stringify({ bench: name, ...figures }) + '\n');
}

void main();
