import * as fs from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';

const ROOT = path.resolve(__dirname, '../..');

/**
 * Transpile src/<folders> to CommonJS JavaScript under outDir (no type check: ts-jest does that), so a
 * child process can run the real code without depending on `npm run build` having run first.
 * Returns the directory that mirrors the repository root.
 */
export function transpileSources(outDir: string, folders: readonly string[] = ['events', 'sanitize', 'ship']): string {
  for (const folder of folders) {
    const from = path.join(ROOT, 'src', folder);
    for (const name of fs.readdirSync(from)) {
      if (!name.endsWith('.ts')) continue;
      const source = fs.readFileSync(path.join(from, name), 'utf8');
      const { outputText } = ts.transpileModule(source, {
        compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
        fileName: name,
      });
      const to = path.join(outDir, 'src', folder);
      fs.mkdirSync(to, { recursive: true });
      fs.writeFileSync(path.join(to, name.replace(/\.ts$/, '.js')), outputText);
    }
  }
  return outDir;
}

/** Environment for a child that requires the transpiled code: it finds the project's node_modules. */
export function childEnv(): NodeJS.ProcessEnv {
  return { ...process.env, NODE_PATH: path.join(ROOT, 'node_modules') };
}
