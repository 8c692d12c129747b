/**
 * Every symbol the package exports, and every public member of its classes and interfaces, carries
 * a doc comment (what a user's editor shows on hover). Read with the TypeScript compiler from
 * src/public.ts, the one list all entries export.
 */
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { expect, it } from 'vitest';

const entry = fileURLToPath(new URL('../../src/public.ts', import.meta.url));

function undocumented(): string[] {
  const program = ts.createProgram([entry], { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler, strict: true });
  const checker = program.getTypeChecker();
  const file = program.getSourceFile(entry)!;
  const missing: string[] = [];
  const hasDoc = (s: ts.Symbol) => s.getDocumentationComment(checker).length > 0
    || s.getDeclarations()?.some((d) => ts.getJSDocCommentsAndTags(d).length > 0);
  const isPublic = (d: ts.Declaration) => {
    const flags = ts.getCombinedModifierFlags(d);
    return !(flags & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected))
      && !(ts.getJSDocTags(d).some((t) => t.tagName.text === 'internal'))
      && !(ts.getNameOfDeclaration(d) && ts.isPrivateIdentifier(ts.getNameOfDeclaration(d)!));
  };
  for (const exported of checker.getExportsOfModule(checker.getSymbolAtLocation(file)!)) {
    const sym = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    if (!hasDoc(sym)) missing.push(exported.name);
    if (!(sym.flags & (ts.SymbolFlags.Class | ts.SymbolFlags.Interface))) continue;
    const members = [...(sym.members?.values() ?? []), ...(sym.exports?.values() ?? [])];
    for (const m of members) {
      const d = m.getDeclarations()?.[0];
      if (!d || m.name === '__constructor' || m.name === 'prototype' || (m.flags & ts.SymbolFlags.TypeParameter) || !isPublic(d)) continue;
      if (!hasDoc(m)) missing.push(`${exported.name}.${m.name}`);
    }
  }
  return missing.sort();
}

it('documents every exported symbol and public member', () => {
  expect(undocumented()).toEqual([]);
});
