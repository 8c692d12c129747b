// Replaces a generated block of README.md, between `<!-- NAME:start -->` and `<!-- NAME:end -->`,
// so that numbers in the README come from a run, never from a hand edit.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const README = fileURLToPath(new URL('../README.md', import.meta.url));

export function replaceSection(name, body) {
  const text = readFileSync(README, 'utf8');
  const start = `<!-- ${name}:start -->`, end = `<!-- ${name}:end -->`;
  const i = text.indexOf(start), j = text.indexOf(end);
  if (i < 0 || j < i) throw new Error(`README.md has no ${name} section markers`);
  writeFileSync(README, `${text.slice(0, i + start.length)}\n${body.trim()}\n${text.slice(j)}`);
}
