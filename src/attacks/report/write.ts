import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { RunReport } from '../types';
import { renderHtmlReport } from './html';

export interface WrittenReport {
  dir: string;
  html: string;
  json: string;
}

function writeAtomically(file: string, text: string): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, text);
  renameSync(temporary, file);
}

/** `<dir>/index.html` and `<dir>/report.json`. */
export function writeReport(report: RunReport, dir: string): WrittenReport {
  const absolute = path.resolve(dir);
  mkdirSync(absolute, { recursive: true });
  const html = path.join(absolute, 'index.html');
  const json = path.join(absolute, 'report.json');
  writeAtomically(json, `${JSON.stringify(report, null, 2)}\n`);
  writeAtomically(html, renderHtmlReport(report));
  return { dir: absolute, html, json };
}
